/**
 * The one place that touches the file system. Node has `node:fs` and Deno and Bun implement it, so reel's
 * file I/O goes through it; everything the log needs beyond that (directory fsync, positional
 * reads and writes that loop until done, atomic replace) lives here or in the three files this
 * module re-exports: `fault_injector.ts` (the fault-injection seam and the writes, syncs, renames
 * and unlinks it guards), `write_file_atomic.ts` (atomic replace and create-if-absent) and
 * `file_status.ts` (a file's status and a directory's entries, through Deno's own calls on Deno).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import * as fs from "node:fs";
import { StorageError } from "../errors.ts";
import { entryStatus, type FileStatus, fileStatus, pathStatus } from "./file_status.ts";
import { kindName, openFile } from "./open_file.ts";
import { runtimeVersion } from "./runtime_version.ts";

export { fs };
export {
  type DirectoryListing,
  entryStatus,
  type FileKind,
  type FileStatus,
  fileStatus,
  fileStatusSource,
  listDirectory,
  pathStatus,
} from "./file_status.ts";
export {
  datasync,
  datasyncSync,
  type FaultInjector,
  type FileOperation,
  type InjectedFault,
  removeDirectory,
  removeFile,
  renameFile,
  setFaultInjector,
  syncFile,
  truncateFile,
  writeFully,
  zeroFill,
} from "./fault_injector.ts";
export { kindName, openFile, openFileAndSize, type OpenMode } from "./open_file.ts";
export {
  createFileExclusive,
  syncDirectory,
  writeFileAtomic,
  writeFilesAtomic,
} from "./write_file_atomic.ts";

/**
 * Checks that entries of a directory are regular files (with `lstat`: a symbolic link is not
 * one, whatever it points to). Loaders call it on the files they own before they change anything,
 * so that a symbolic link, a directory or a named pipe in a file's place is reported and left as
 * it is, never truncated, deleted or written through.
 *
 * @param dir the directory
 * @param names the entries to check; missing ones are skipped
 * @param regularFiles names a directory listing already showed to be regular files
 *   ({@linkcode listDirectory}): those need no `lstat`
 * @throws {StorageError} naming the first entry that is not a regular file, and what it is
 * @example A directory where a segment's index belongs
 * ```ts
 * import assert from "node:assert/strict";
 * import { assertRegularFiles, fs } from "./file_system.ts";
 * import { StorageError } from "../errors.ts";
 * const dir = Deno.makeTempDirSync();
 * fs.writeFileSync(`${dir}/00000000000000000000.log`, "");
 * fs.mkdirSync(`${dir}/00000000000000000000.index`);
 * assertRegularFiles(dir, ["00000000000000000000.log", "missing.timeindex"]);
 * assert.throws(() => assertRegularFiles(dir, ["00000000000000000000.index"]), StorageError);
 * ```
 */
export function assertRegularFiles(
  dir: string,
  names: readonly string[],
  regularFiles?: ReadonlySet<string>,
): void {
  for (const name of names) {
    if (regularFiles?.has(name)) continue; // the listing's own entry type said so (no lstat)
    const path = `${dir}/${name}`;
    let stat: FileStatus;
    try {
      stat = entryStatus(path);
    } catch (err) {
      if ((err as { code?: string }).code === "ENOENT") continue;
      throw new StorageError(`Cannot check ${path}: ${(err as Error).message}`, { cause: err });
    }
    if (stat.kind !== "file") {
      throw new StorageError(
        `Cannot use ${path}: it is ${kindName(stat.kind)}, not a regular file; reel leaves it as it is`,
      );
    }
  }
}

/**
 * Reads a whole file under the log directory through {@linkcode openFile}: never through a
 * symbolic link, only a regular file.
 *
 * @param path the file
 * @returns its bytes
 * @throws {StorageError} as {@linkcode openFile} does
 * @throws {Error} the file system's error otherwise (`ENOENT` for a missing file)
 * @example Read a file back
 * ```ts
 * import assert from "node:assert/strict";
 * import { fs, readRegularFile } from "./file_system.ts";
 * const dir = Deno.makeTempDirSync();
 * fs.writeFileSync(`${dir}/state.json`, "{}");
 * assert.equal(new TextDecoder().decode(readRegularFile(`${dir}/state.json`)), "{}");
 * ```
 */
export function readRegularFile(path: string): Uint8Array {
  const fd = openFile(path, "r");
  try {
    return new Uint8Array(fs.readFileSync(fd));
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The most bytes a stream of records (`topic.readable()`, `topic.readableBatches()`) reads from a
 * partition at a time unless told otherwise: 1 MiB, but 128 KiB on Bun. On Bun the smaller reads
 * are the faster (100-byte records through `readable()` 1.06-1.23x, through `readableBatches()`
 * 1.14-1.33x, bytes decoded while still in the CPU cache), and they keep a reader's memory down:
 * JavaScriptCore moves the read buffer in use to its old generation at each young collection and
 * frees it only at a full one. On Deno 1 MiB reads are the faster (128 KiB: 0.93x; each read is a
 * segment lookup and a positioned read through `node:fs`).
 *
 * @example Deno reads 1 MiB at a time
 * ```ts
 * import assert from "node:assert/strict";
 * import { STREAM_READ_BYTES } from "./file_system.ts";
 * assert.equal(STREAM_READ_BYTES, 1 << 20);
 * ```
 */
export const STREAM_READ_BYTES: number = runtimeVersion().name === "bun" ? 128 * 1024 : 1 << 20;

/**
 * From this size on, a read buffer is not zero-filled before the read fills it (below it, zeroed
 * memory is the cheaper: Bun allocates 61 B in 25 ns zeroed, 460 ns unfilled; 1 MiB in 79 µs
 * zeroed, 10 µs unfilled; the crossover lies between 4 and 16 KiB on Bun and Node).
 */
const UNFILLED_MIN_BYTES = 16 * 1024;

/**
 * `length` bytes of memory of their own, not zero-filled, as a plain Uint8Array (Deno's `Buffer`
 * zero-fills them anyway).
 */
function unfilledBytes(length: number): Uint8Array {
  const unfilled = Buffer.allocUnsafeSlow(length);
  return new Uint8Array(unfilled.buffer, unfilled.byteOffset, length);
}

/**
 * Reads up to `length` bytes at byte `position` into a new buffer, looping over short reads;
 * returns fewer bytes only at the end of the file.
 *
 * @param fd an open file descriptor
 * @param position the byte position in the file
 * @param length how many bytes to read
 * @returns the bytes read (its length is what was there)
 * @example A read past the end returns what there is
 * ```ts
 * import assert from "node:assert/strict";
 * import { fs, readFully } from "./file_system.ts";
 * const path = `${Deno.makeTempDirSync()}/file`;
 * fs.writeFileSync(path, "abc");
 * const fd = fs.openSync(path, "r");
 * assert.equal(new TextDecoder().decode(readFully(fd, 1, 10)), "bc");
 * // A large buffer is not zero-filled first: what the file did not fill is zeroed after the read.
 * const bytes = readFully(fd, 1, 65536);
 * assert.equal(new TextDecoder().decode(bytes), "bc");
 * assert.deepEqual(new Uint8Array(bytes.buffer, bytes.byteOffset + 2, 65534), new Uint8Array(65534));
 * fs.closeSync(fd);
 * ```
 */
export function readFully(fd: number, position: number, length: number): Uint8Array {
  const buf = length < UNFILLED_MIN_BYTES ? new Uint8Array(length) : unfilledBytes(length);
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, buf, done, length - done, position + done);
    if (n <= 0) break;
    done += n;
  }
  if (done === length) return buf;
  // No byte the file did not give is reachable, through `.buffer` either.
  buf.fill(0, done);
  return buf.subarray(0, done);
}

/**
 * The size of a file in bytes, or -1 if it does not exist (or cannot be seen: `existsSync` says no).
 *
 * @param path a file path
 * @example A file's size, or -1 when it is missing
 * ```ts
 * import assert from "node:assert/strict";
 * import { fileSize, fs } from "./file_system.ts";
 * const path = `${Deno.makeTempDirSync()}/file`;
 * fs.writeFileSync(path, "abcd");
 * assert.equal(fileSize(path), 4);
 * assert.equal(fileSize("/no/such/file"), -1);
 * ```
 */
export function fileSize(path: string): number {
  // Missing is a usual answer, and a stat that fails costs about 20 µs on Deno: look first.
  if (!fs.existsSync(path)) return -1;
  try {
    return pathStatus(path).size;
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") return -1;
    throw err;
  }
}

/**
 * What tells one version of a file from another under the same name: its device, inode,
 * modification time and size, as one string (`lstat(2)`: a symbolic link is not followed). A file
 * replaced by a rename (`writeFileAtomic`, the log cleaner's swap) has another inode.
 *
 * @param path a file path
 * @returns the identity, or `undefined` when nothing has that name (a symbolic link to nothing
 *   counts as nothing)
 * @throws {Error} the error of an `lstat` of a name that exists
 * @example A rewritten file has another identity
 * ```ts
 * import assert from "node:assert/strict";
 * import { fileIdentity, writeFileAtomic } from "./file_system.ts";
 * const path = `${Deno.makeTempDirSync()}/checkpoint`;
 * assert.equal(fileIdentity(path), undefined);
 * writeFileAtomic(path, "1");
 * const first = fileIdentity(path);
 * writeFileAtomic(path, "1");
 * assert.notEqual(fileIdentity(path), first);
 * ```
 */
export function fileIdentity(path: string): string | undefined {
  if (!fs.existsSync(path)) return undefined; // as in fileSize: a failing lstat is slow on Deno
  try {
    const st = entryStatus(path);
    return `${st.dev}:${st.ino}:${st.mtimeMs}:${st.size}`;
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") return undefined;
    throw err;
  }
}

/**
 * The device and inode of an open file, as one string: whether two descriptors are open on the
 * same file (not merely the same name).
 *
 * @param fd an open file descriptor
 * @returns `"<dev>:<ino>"`
 * @throws {Error} when `fd` is not open
 * @example Two opens of one file, and of the file that replaced it
 * ```ts
 * import assert from "node:assert/strict";
 * import { fdIdentity, fs } from "./file_system.ts";
 * const path = `${Deno.makeTempDirSync()}/a.log`;
 * fs.writeFileSync(path, "old");
 * const a = fs.openSync(path, "r");
 * fs.writeFileSync(`${path}.new`, "new");
 * fs.renameSync(`${path}.new`, path);
 * const b = fs.openSync(path, "r");
 * assert.notEqual(fdIdentity(a), fdIdentity(b));
 * fs.closeSync(a);
 * fs.closeSync(b);
 * ```
 */
export function fdIdentity(fd: number): string {
  const st = fileStatus(fd);
  return `${st.dev}:${st.ino}`;
}
