/**
 * File handling shared by the two sparse indexes (`.index` and `.timeindex`): both are arrays of
 * fixed-size big-endian entries with no header, appended to at flush time and cut on truncation
 * (Kafka's `AbstractIndex`). The entry layouts live in `offset_index.ts` and `time_index.ts`.
 *
 * @module
 */
import { StorageError } from "../errors.ts";
import { fs, openFile, readFully, writeFully } from "../runtime/file_system.ts";

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
 * @example
 * ```ts
 * import { readIndexFile } from "./index_file.ts";
 * console.log(readIndexFile("/no/such/file.index", 8)); // null
 * ```
 */
export function readIndexFile(path: string, entrySize: number): DataView | null {
  let fd: number;
  try {
    fd = openFile(path, "r");
  } catch {
    return null;
  }
  let bytes: Uint8Array;
  try {
    const size = fs.fstatSync(fd).size;
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
 * @example
 * ```ts
 * import { writeIndexEntries } from "./index_file.ts";
 * writeIndexEntries("/tmp/reel-example.index", 0, new Uint8Array(8), false);
 * ```
 */
export function writeIndexEntries(path: string, position: number, bytes: Uint8Array, sync: boolean): void {
  const fd = openFile(path, fs.existsSync(path) ? "r+" : "w+");
  try {
    fs.ftruncateSync(fd, position);
    if (bytes.length > 0) writeFully(fd, bytes, position);
    if (sync) fs.fsyncSync(fd);
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
