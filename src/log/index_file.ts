/**
 * File handling shared by the two sparse indexes (`.index` and `.timeindex`): both are arrays of
 * fixed-size big-endian entries with no header, appended to at flush time and cut on truncation
 * (Kafka's `AbstractIndex`). The entry layouts live in `offset_index.ts` and `time_index.ts`.
 *
 * @module
 */
import { fs, readFully, writeFully } from "../runtime/file_system.ts";

/**
 * Reads a whole index file.
 *
 * @param path the index file path
 * @param entrySize the size of one entry in bytes
 * @returns a view of the file's bytes, or `null` when the file is missing or not a whole number of entries
 * @example
 * ```ts
 * import { readIndexFile } from "./index_file.ts";
 * console.log(readIndexFile("/no/such/file.index", 8)); // null
 * ```
 */
export function readIndexFile(path: string, entrySize: number): DataView | null {
  let fd: number;
  try {
    fd = fs.openSync(path, "r");
  } catch {
    return null;
  }
  let bytes: Uint8Array;
  try {
    bytes = readFully(fd, 0, fs.fstatSync(fd).size);
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
 * @example
 * ```ts
 * import { writeIndexEntries } from "./index_file.ts";
 * writeIndexEntries("/tmp/reel-example.index", 0, new Uint8Array(8), false);
 * ```
 */
export function writeIndexEntries(path: string, position: number, bytes: Uint8Array, sync: boolean): void {
  const fd = fs.openSync(path, fs.existsSync(path) ? "r+" : "w+");
  try {
    fs.ftruncateSync(fd, position);
    if (bytes.length > 0) writeFully(fd, bytes, position);
    if (sync) fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Cuts an index file to `length` bytes; a missing file is left missing.
 *
 * @param path the index file path
 * @param length the new length in bytes
 * @example
 * ```ts
 * import { truncateIndexFile } from "./index_file.ts";
 * truncateIndexFile("/no/such/file.index", 0);
 * ```
 */
export function truncateIndexFile(path: string, length: number): void {
  try {
    fs.truncateSync(path, length);
  } catch (err) {
    if ((err as { code?: string }).code !== "ENOENT") throw err;
  }
}
