/**
 * The one place that touches the file system. Node has `node:fs` and Deno and Bun implement it, so reel's
 * file I/O goes through it; everything the log needs beyond that (directory fsync, positional
 * reads and writes that loop until done, atomic replace) lives here.
 *
 * @module
 */
import * as fs from "node:fs";
import { StorageError } from "../errors.ts";

export { fs };

/**
 * How {@linkcode openFile} opens a file, as `fs.openSync`'s flags: `"r"` read, `"r+"` read and
 * write, `"w+"` read and write, created or emptied, `"w"` write, created or emptied, `"wx"` write,
 * created and never an existing one.
 */
export type OpenMode = "r" | "r+" | "w+" | "w" | "wx";

const C = fs.constants;
const OPEN_FLAGS: Record<OpenMode, number> = {
  "r": C.O_RDONLY,
  "r+": C.O_RDWR,
  "w+": C.O_RDWR | C.O_CREAT | C.O_TRUNC,
  "w": C.O_WRONLY | C.O_CREAT | C.O_TRUNC,
  "wx": C.O_WRONLY | C.O_CREAT | C.O_EXCL,
};

/** What kind of entry a stat describes, for an error message. */
function kindOf(stat: fs.Stats): string {
  if (stat.isDirectory()) return "a directory";
  if (stat.isSymbolicLink()) return "a symbolic link";
  if (stat.isFIFO()) return "a named pipe";
  if (stat.isSocket()) return "a socket";
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return "a device";
  return "not a regular file";
}

/**
 * Opens a file under the log directory: the one way reel opens a segment, index, checkpoint or
 * state file. It never follows a symbolic link (`O_NOFOLLOW`: a `.log` that links to a file
 * elsewhere is refused, not truncated through) and opens only a regular file (checked with
 * `fstat` on the open descriptor, so nothing can swap the entry in between; `O_NONBLOCK` keeps a
 * named pipe from blocking the open). The entry is left as it is.
 *
 * @param path the file
 * @param mode how to open it
 * @returns the file descriptor
 * @throws {StorageError} naming the path when it is a symbolic link, a directory, a named pipe, a
 *   socket or a device
 * @throws {Error} the file system's error otherwise (`ENOENT` for a missing file, `EEXIST` with
 *   `"wx"`, ...), for the caller to handle
 * @example A symbolic link is refused, and its target is untouched
 * ```ts
 * import assert from "node:assert/strict";
 * import { fs, openFile } from "./file_system.ts";
 * import { StorageError } from "../errors.ts";
 * const dir = Deno.makeTempDirSync();
 * fs.writeFileSync(`${dir}/target`, "keep");
 * fs.symlinkSync(`${dir}/target`, `${dir}/00000000000000000000.log`);
 * assert.throws(() => openFile(`${dir}/00000000000000000000.log`, "w+"), StorageError);
 * assert.equal(fs.readFileSync(`${dir}/target`, "utf8"), "keep");
 * const fd = openFile(`${dir}/target`, "r");
 * fs.closeSync(fd);
 * ```
 */
export function openFile(path: string, mode: OpenMode): number {
  let fd: number;
  try {
    fd = fs.openSync(path, OPEN_FLAGS[mode] | C.O_NOFOLLOW | C.O_NONBLOCK, 0o644);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "ELOOP") {
      throw new StorageError(`Cannot open ${path}: it is a symbolic link, which reel never follows`, {
        cause: err,
      });
    }
    if (code === "EISDIR") {
      throw new StorageError(`Cannot open ${path}: it is a directory, not a file`, { cause: err });
    }
    throw err;
  }
  let stat: fs.Stats;
  try {
    stat = fs.fstatSync(fd);
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
  if (!stat.isFile()) {
    fs.closeSync(fd);
    throw new StorageError(`Cannot open ${path}: it is ${kindOf(stat)}, not a regular file`);
  }
  return fd;
}

/**
 * Checks that entries of a directory are regular files (with `lstat`: a symbolic link is not
 * one, whatever it points to). Loaders call it on the files they own before they change anything,
 * so that a symbolic link, a directory or a named pipe in a file's place is reported and left as
 * it is, never truncated, deleted or written through.
 *
 * @param dir the directory
 * @param names the entries to check; missing ones are skipped
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
export function assertRegularFiles(dir: string, names: readonly string[]): void {
  for (const name of names) {
    const path = `${dir}/${name}`;
    let stat: fs.Stats;
    try {
      stat = fs.lstatSync(path);
    } catch (err) {
      if ((err as { code?: string }).code === "ENOENT") continue;
      throw new StorageError(`Cannot check ${path}: ${(err as Error).message}`, { cause: err });
    }
    if (!stat.isFile()) {
      throw new StorageError(
        `Cannot use ${path}: it is ${kindOf(stat)}, not a regular file; reel leaves it as it is`,
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

/** One write or data sync that reel is about to do, as a {@linkcode FaultInjector} sees it. */
export interface FileOperation {
  /**
   * `"write"`: {@linkcode writeFully} is about to write; `"sync"`: {@linkcode datasync} is about to
   * sync; `"synced"`: a {@linkcode datasync} has completed (for observers: the answer is ignored).
   */
  op: "write" | "sync" | "synced" | "rename" | "unlink";
  /** The file descriptor (compare `fs.fstatSync(fd).ino` with a file's to pick one file). */
  fd: number;
  /** The byte position of a write; -1 otherwise. */
  position: number;
  /** Bytes to write; 0 otherwise. */
  length: number;
  /** For `"rename"` and `"unlink"` ({@linkcode renameFile}, {@linkcode removeFile}): the path (the source of a rename). */
  path?: string;
}

/** How an injected fault makes a {@linkcode FileOperation} fail. */
export interface InjectedFault {
  /** For a write: how many of its bytes reach the file before the error, as when a disk fills up mid-write. @default 0 */
  writtenBytes?: number;
  /** The error the operation throws (or, for a sync, rejects with), such as an `ENOSPC` or `EIO` error. */
  error: Error;
}

/** Decides, for each write and data sync, whether it fails: a fault, or `undefined` to let it run. */
export type FaultInjector = (operation: FileOperation) => InjectedFault | undefined;

let faultInjector: FaultInjector | undefined;

/**
 * Installs (or, with `undefined`, removes) a fault injector: a test seam that makes chosen writes
 * fail part-way through and chosen data syncs fail, as a full disk or a failing device would, and
 * that lets a test see which bytes each completed data sync made durable (to simulate a power
 * loss). Only tests use it; with none installed (the default) the cost is one comparison per call.
 *
 * @param injector called before every {@linkcode writeFully} and {@linkcode datasync}, and after
 *   every data sync that completes
 * @example Fail the next write after 10 bytes with ENOSPC
 * ```ts
 * import assert from "node:assert/strict";
 * import { fs, setFaultInjector, writeFully } from "./file_system.ts";
 * let armed = true;
 * setFaultInjector(() => {
 *   if (!armed) return undefined;
 *   armed = false;
 *   return { writtenBytes: 10, error: Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" }) };
 * });
 * const fd = fs.openSync(`${Deno.makeTempDirSync()}/segment`, "w+");
 * try {
 *   assert.throws(() => writeFully(fd, new Uint8Array(100), 0), { code: "ENOSPC" });
 *   assert.equal(fs.fstatSync(fd).size, 10); // what reached the file before the disk "filled"
 * } finally {
 *   setFaultInjector(undefined);
 *   fs.closeSync(fd);
 * }
 * ```
 */
export function setFaultInjector(injector: FaultInjector | undefined): void {
  faultInjector = injector;
}

/**
 * Writes all of `bytes` to `fd` at byte `position`, looping over short writes.
 *
 * @param fd an open file descriptor
 * @param bytes the bytes to write
 * @param position the byte position in the file
 * @throws {Error} the underlying I/O error (ENOSPC, EFBIG, EIO …), or the error of an injected fault (see {@linkcode setFaultInjector})
 * @example Write bytes at a position
 * ```ts
 * import assert from "node:assert/strict";
 * import { fs, writeFully } from "./file_system.ts";
 * const path = `${Deno.makeTempDirSync()}/file`;
 * const fd = fs.openSync(path, "w+");
 * writeFully(fd, new Uint8Array([1, 2, 3]), 2);
 * fs.closeSync(fd);
 * assert.deepEqual([...fs.readFileSync(path)], [0, 0, 1, 2, 3]);
 * ```
 */
export function writeFully(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  if (faultInjector !== undefined) {
    const fault = faultInjector({ op: "write", fd, position, length: bytes.length });
    if (fault !== undefined) {
      const partial = Math.max(0, Math.min(fault.writtenBytes ?? 0, bytes.length));
      while (done < partial) done += fs.writeSync(fd, bytes, done, partial - done, position + done);
      throw fault.error;
    }
  }
  while (done < bytes.length) {
    const n = fs.writeSync(fd, bytes, done, bytes.length - done, position + done);
    if (n <= 0) throw new StorageError(`Cannot write to file descriptor ${fd}: the write made no progress`);
    done += n;
  }
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
 * fs.closeSync(fd);
 * ```
 */
export function readFully(fd: number, position: number, length: number): Uint8Array {
  const buf = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, buf, done, length - done, position + done);
    if (n <= 0) break;
    done += n;
  }
  return done === length ? buf : buf.subarray(0, done);
}

/**
 * Forces a file's data to disk (`fdatasync(2)`), without blocking the event loop.
 *
 * @param fd an open file descriptor
 * @returns a promise that resolves once the data is on stable storage
 * @example Sync a file, and see the sync through the fault seam
 * ```ts
 * import assert from "node:assert/strict";
 * import { datasync, fs, setFaultInjector } from "./file_system.ts";
 * const fd = fs.openSync(`${Deno.makeTempDirSync()}/file`, "w");
 * const seen: string[] = [];
 * setFaultInjector((op) => void seen.push(op.op));
 * try {
 *   await datasync(fd);
 * } finally {
 *   setFaultInjector(undefined);
 *   fs.closeSync(fd);
 * }
 * assert.deepEqual(seen, ["sync", "synced"]);
 * ```
 */
export function datasync(fd: number): Promise<void> {
  if (faultInjector !== undefined) {
    const fault = faultInjector({ op: "sync", fd, position: -1, length: 0 });
    if (fault !== undefined) return Promise.reject(fault.error);
  }
  return new Promise((resolve, reject) =>
    fs.fdatasync(fd, (err) => {
      if (err) return reject(err);
      faultInjector?.({ op: "synced", fd, position: -1, length: 0 });
      resolve();
    })
  );
}

/**
 * Forces a file's data to disk (`fdatasync(2)`) on the calling thread, through the same fault
 * seam as {@linkcode datasync}: for a single waiter, where the thread pool's hop would cost as
 * much as the sync.
 *
 * @param fd an open file descriptor
 * @throws {Error} the I/O error, or an injected fault's
 * @example Sync a file, and see the sync through the fault seam
 * ```ts
 * import assert from "node:assert/strict";
 * import { datasyncSync, fs, setFaultInjector } from "./file_system.ts";
 * const fd = fs.openSync(`${Deno.makeTempDirSync()}/file`, "w");
 * const seen: string[] = [];
 * setFaultInjector((op) => void seen.push(op.op));
 * try {
 *   datasyncSync(fd);
 * } finally {
 *   setFaultInjector(undefined);
 *   fs.closeSync(fd);
 * }
 * assert.deepEqual(seen, ["sync", "synced"]);
 * ```
 */
export function datasyncSync(fd: number): void {
  if (faultInjector !== undefined) {
    const fault = faultInjector({ op: "sync", fd, position: -1, length: 0 });
    if (fault !== undefined) throw fault.error;
  }
  fs.fdatasyncSync(fd);
  faultInjector?.({ op: "synced", fd, position: -1, length: 0 });
}

/**
 * Renames a file, as `rename(2)` does (atomically replacing `to`), after asking the fault
 * injector: the seam through which tests fail each step of the log cleaner's segment swap.
 *
 * @param from the file's path
 * @param to its new path
 * @throws {Error} the underlying error (ENOENT …), or an injected fault's
 * @example Rename a file
 * ```ts
 * import assert from "node:assert/strict";
 * import { fs, renameFile } from "./file_system.ts";
 * const dir = Deno.makeTempDirSync();
 * fs.writeFileSync(`${dir}/a`, "x");
 * renameFile(`${dir}/a`, `${dir}/b`);
 * assert.deepEqual(fs.readdirSync(dir), ["b"]);
 * ```
 */
export function renameFile(from: string, to: string): void {
  if (faultInjector !== undefined) {
    const fault = faultInjector({ op: "rename", fd: -1, position: -1, length: 0, path: from });
    if (fault !== undefined) throw fault.error;
  }
  fs.renameSync(from, to);
}

/**
 * Removes a file if it exists, after asking the fault injector (see {@linkcode renameFile}).
 *
 * @param path the file's path
 * @throws {Error} the underlying error, or an injected fault's
 * @example Remove a file, and one that is not there
 * ```ts
 * import assert from "node:assert/strict";
 * import { fs, removeFile } from "./file_system.ts";
 * const dir = Deno.makeTempDirSync();
 * fs.writeFileSync(`${dir}/a`, "x");
 * removeFile(`${dir}/a`);
 * removeFile(`${dir}/a`);
 * assert.deepEqual(fs.readdirSync(dir), []);
 * ```
 */
export function removeFile(path: string): void {
  if (faultInjector !== undefined) {
    const fault = faultInjector({ op: "unlink", fd: -1, position: -1, length: 0, path });
    if (fault !== undefined) throw fault.error;
  }
  fs.rmSync(path, { force: true });
}

/**
 * Makes a directory's entries (created, renamed or removed files) durable with `fsync(2)` on the
 * directory. Errors from platforms that cannot open directories are ignored.
 *
 * @param dir the directory path
 * @example Sync a directory (a platform that cannot is not an error)
 * ```ts
 * import assert from "node:assert/strict";
 * import { syncDirectory } from "./file_system.ts";
 * assert.doesNotThrow(() => syncDirectory(Deno.makeTempDirSync()));
 * assert.doesNotThrow(() => syncDirectory("/no/such/directory"));
 * ```
 */
export function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, "r");
    fs.fsyncSync(fd);
  } catch {
    // Some platforms cannot fsync a directory; nothing more can be done there.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Replaces `path` with `contents` atomically: writes a uniquely named temporary file beside it,
 * fsyncs it, renames it over `path` and fsyncs the directory, so a crash leaves either the old or
 * the new file, never a half-written one, and processes writing the same file at once never
 * share a temporary file (the last rename wins).
 *
 * With `{ sync: false }` nothing is fsynced: after a crash of the machine (not of the process)
 * the file may hold the old contents, the new, or nothing; only for files whose loss is safe.
 *
 * @param path the file to replace
 * @param contents its new contents (text is written as UTF-8)
 * @param options `sync: false` to skip the fsyncs
 * @throws {StorageError} when the file cannot be written or replaced (say, `path` is a directory:
 *   EISDIR), naming the file; the temporary file is removed
 * @example Replace a file; a directory in its place is refused and left
 * ```ts
 * import assert from "node:assert/strict";
 * import { StorageError } from "../errors.ts";
 * import { fs, writeFileAtomic } from "./file_system.ts";
 * const dir = Deno.makeTempDirSync();
 * writeFileAtomic(`${dir}/state.json`, "{}");
 * assert.equal(fs.readFileSync(`${dir}/state.json`, "utf8"), "{}");
 * fs.mkdirSync(`${dir}/taken.json`);
 * assert.throws(() => writeFileAtomic(`${dir}/taken.json`, "{}"), StorageError);
 * assert.deepEqual(fs.readdirSync(dir).sort(), ["state.json", "taken.json"]);
 * ```
 */
export function writeFileAtomic(
  path: string,
  contents: string | Uint8Array,
  options: { sync?: boolean } = {},
): void {
  const sync = options.sync ?? true;
  // A short name of its own (a 249-character topic's config leaves no room for a suffix).
  const tmp = `${dirname(path)}/.${crypto.randomUUID()}.tmp`;
  try {
    const fd = fs.openSync(tmp, "wx");
    try {
      const bytes = typeof contents === "string" ? new TextEncoder().encode(contents) : contents;
      writeFully(fd, bytes, 0);
      if (sync) fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, path);
  } catch (err) {
    try {
      fs.rmSync(tmp, { force: true });
    } catch { /* the directory itself is unusable */ }
    throw new StorageError(`Cannot write ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (sync) syncDirectory(dirname(path));
}

/**
 * The directory part of a `/`-separated path.
 *
 * @param path a file path
 * @returns everything before the last `/`, or `.`
 * @example The directory part of a path
 * ```ts
 * import assert from "node:assert/strict";
 * import { dirname } from "./file_system.ts";
 * assert.equal(dirname("/a/b/c.log"), "/a/b");
 * ```
 */
export function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "." : i === 0 ? "/" : path.slice(0, i);
}

/**
 * The size of a file in bytes, or -1 if it does not exist.
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
  try {
    return fs.statSync(path).size;
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
 * @returns the identity, or `undefined` when nothing has that name
 * @throws {Error} an error other than ENOENT
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
  try {
    const st = fs.lstatSync(path);
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
  const st = fs.fstatSync(fd);
  return `${st.dev}:${st.ino}`;
}

/**
 * Creates `path` with `contents` only if nothing has that name yet, atomically across processes:
 * the contents are written to a uniquely named temporary file beside it and fsynced, then
 * hard-linked to `path` (which fails if the name exists), and the directory is fsynced. Of many
 * processes creating the same file at once, exactly one succeeds, and nobody ever sees it
 * half-written.
 *
 * @param path the file to create
 * @param contents its contents (text is written as UTF-8)
 * @returns `true` when this call created the file, `false` when the name existed
 * @throws {Error} the underlying I/O error (ENOENT for a missing directory, ENOSPC …)
 * @example Only the first of two creations wins
 * ```ts
 * import assert from "node:assert/strict";
 * import { createFileExclusive, fs } from "./file_system.ts";
 * const path = Deno.makeTempDirSync() + "/config.json";
 * assert.equal(createFileExclusive(path, "first"), true);
 * assert.equal(createFileExclusive(path, "second"), false);
 * assert.equal(fs.readFileSync(path, "utf8"), "first");
 * ```
 */
export function createFileExclusive(path: string, contents: string | Uint8Array): boolean {
  const tmp = `${dirname(path)}/.${crypto.randomUUID()}.tmp`;
  const fd = fs.openSync(tmp, "wx");
  try {
    try {
      writeFully(fd, typeof contents === "string" ? new TextEncoder().encode(contents) : contents, 0);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    try {
      fs.linkSync(tmp, path);
    } catch (err) {
      if ((err as { code?: string }).code === "EEXIST") return false;
      throw err;
    }
  } finally {
    try {
      fs.rmSync(tmp, { force: true });
    } catch { /* the directory itself is unusable: reported above */ }
  }
  syncDirectory(dirname(path));
  return true;
}
