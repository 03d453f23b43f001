/**
 * File handling shared by the two sparse indexes (`.index` and `.timeindex`): both are arrays of
 * fixed-size big-endian entries with no header, appended to at flush time and cut on truncation
 * (Kafka's `AbstractIndex`). The entry layouts live in `offset_index.ts` and `time_index.ts`.
 *
 * @module
 */
import { StorageError } from "../errors.ts";
import {
  fs,
  openFile,
  openFileAndSize,
  readFully,
  syncFile,
  truncateFile,
  writeFully,
} from "../runtime/file_system.ts";

/**
 * The largest index file read, bytes (256 MiB: 32 Mi offset index entries, far more than a 1 GiB
 * segment with one entry per 4 KiB has). A larger file is treated as corrupt and rebuilt.
 */
export const MAX_INDEX_FILE_BYTES = 256 * 1024 * 1024;

/**
 * Reads a whole index file.
 *
 * @param path the index file path
 * @param entrySize the size of one entry in bytes
 * @returns a view of the file's bytes, or `null` when the file is missing, not a regular file,
 *   larger than {@linkcode MAX_INDEX_FILE_BYTES} or not a whole number of entries (then it is
 *   rebuilt)
 * @example A missing file, and one that is not a whole number of entries
 * ```ts
 * import assert from "node:assert/strict";
 * import * as fs from "node:fs";
 * import { readIndexFile } from "./index_file.ts";
 * assert.equal(readIndexFile("/no/such/file.index", 8), null);
 * const path = `${Deno.makeTempDirSync()}/00000000000000000000.index`;
 * fs.writeFileSync(path, new Uint8Array(12));
 * assert.equal(readIndexFile(path, 8), null); // torn: rebuilt from the segment
 * fs.writeFileSync(path, new Uint8Array(16));
 * assert.equal(readIndexFile(path, 8)?.byteLength, 16);
 * ```
 */
export function readIndexFile(path: string, entrySize: number): DataView | null {
  let fd: number, size: number;
  try {
    ({ fd, size } = openFileAndSize(path, "r"));
  } catch {
    return null;
  }
  let bytes: Uint8Array;
  try {
    // Larger than any index reel writes (a sparse file, say): corrupt, so rebuilt from the
    // segment as Kafka rebuilds an index that fails its sanity check.
    if (size > MAX_INDEX_FILE_BYTES) return null;
    bytes = readFully(fd, 0, size);
  } finally {
    fs.closeSync(fd);
  }
  if (bytes.length % entrySize !== 0) return null;
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Writes encoded entries at entry number `firstEntry`, cutting whatever the file held from there
 * on; creates the file if needed.
 *
 * @param path the index file path
 * @param position the byte position of the first entry written (entry number × entry size)
 * @param bytes the encoded entries (may be empty: then the file is only created or cut)
 * @param sync also fsync the file
 * @example Write entries at a position, cutting what followed
 * ```ts
 * import assert from "node:assert/strict";
 * import * as fs from "node:fs";
 * import { writeIndexEntries } from "./index_file.ts";
 * const path = `${Deno.makeTempDirSync()}/00000000000000000000.index`;
 * writeIndexEntries(path, 0, new Uint8Array(24), false);
 * writeIndexEntries(path, 8, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), false);
 * assert.equal(fs.statSync(path).size, 16);
 * assert.deepEqual([...fs.readFileSync(path).subarray(8)], [1, 2, 3, 4, 5, 6, 7, 8]);
 * ```
 */
export function writeIndexEntries(path: string, position: number, bytes: Uint8Array, sync: boolean): void {
  const fd = openFile(path, fs.existsSync(path) ? "r+" : "w+");
  try {
    truncateFile(fd, position);
    if (bytes.length > 0) writeFully(fd, bytes, position);
    if (sync) syncFile(fd);
  } catch (err) {
    if (err instanceof StorageError) throw err;
    throw new StorageError(`Cannot write the index ${path}: ${(err as Error).message}`, { cause: err });
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Cuts an index file to `length` bytes; a missing file is left missing.
 *
 * @param path the index file path
 * @param length the new length in bytes
 * @example Cut an index; a missing one stays missing
 * ```ts
 * import assert from "node:assert/strict";
 * import * as fs from "node:fs";
 * import { truncateIndexFile } from "./index_file.ts";
 * const path = `${Deno.makeTempDirSync()}/00000000000000000000.index`;
 * truncateIndexFile(path, 0);
 * assert.equal(fs.existsSync(path), false);
 * fs.writeFileSync(path, new Uint8Array(24));
 * truncateIndexFile(path, 8);
 * assert.equal(fs.statSync(path).size, 8);
 * ```
 */
export function truncateIndexFile(path: string, length: number): void {
  let fd: number;
  try {
    fd = openFile(path, "r+"); // never through a symbolic link
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") return;
    throw err;
  }
  try {
    truncateFile(fd, length);
  } finally {
    fs.closeSync(fd);
  }
}
