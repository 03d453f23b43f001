/**
 * The fault-injection seam: every write, data sync and fsync, rename and unlink reel makes in the
 * log directory goes through the functions here, which ask the installed {@linkcode FaultInjector} first, so the
 * durability tests can fail any of them part-way (a full disk, a failing device) or watch which
 * bytes each data sync made durable. With no injector installed the cost is one comparison a call.
 *
 * @module
 */
import * as fs from "node:fs";
import { StorageError } from "../errors.ts";
import { pwriteNative } from "./native_pwrite.ts";

/** One write or data sync that reel is about to do, as a {@linkcode FaultInjector} sees it. */
export interface FileOperation {
  /**
   * `"write"`: {@linkcode writeFully} is about to write; `"sync"`: {@linkcode datasync},
   * {@linkcode datasyncSync} or {@linkcode syncFile} is about to sync; `"synced"`: that sync has
   * completed (for observers: the answer is ignored); `"truncate"`: {@linkcode truncateFile} is
   * about to cut a file; `"rename"`, `"unlink"`: a rename or removal.
   */
  op: "write" | "sync" | "synced" | "truncate" | "rename" | "unlink";
  /** The file descriptor (compare `fs.fstatSync(fd).ino` with a file's to pick one file). */
  fd: number;
  /** The byte position of a write; -1 otherwise. */
  position: number;
  /** Bytes to write; for `"truncate"` the new size; 0 otherwise. */
  length: number;
  /**
   * For `"rename"` and `"unlink"` ({@linkcode renameFile}, {@linkcode removeFile},
   * {@linkcode removeDirectory}): the path (the source of a rename); for the `"synced"` of a
   * directory's fsync ({@linkcode directorySynced}): the directory.
   */
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
 * import * as fs from "node:fs";
 * import { setFaultInjector, writeFully } from "./fault_injector.ts";
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

/** Throws the error of the fault the injector returns for `operation`, if any. */
function throwInjected(operation: FileOperation): void {
  const fault = faultInjector?.(operation);
  if (fault !== undefined) throw fault.error;
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
 * import * as fs from "node:fs";
 * import { writeFully } from "./fault_injector.ts";
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
  // One pwrite through the runtime's FFI when it has one (cheaper per call); the rest of a short
  // write, and a write that failed (made again, so that node:fs reports the error), through node:fs.
  done = Math.max(0, pwriteNative(fd, bytes, position));
  while (done < bytes.length) {
    const n = fs.writeSync(fd, bytes, done, bytes.length - done, position + done);
    if (n <= 0) throw new StorageError(`Cannot write to file descriptor ${fd}: the write made no progress`);
    done += n;
  }
}

/** Zeros written by {@linkcode zeroFill}, 1 MiB at a time. */
let zeros: Uint8Array | undefined;

/**
 * Writes zeros to `fd` over the byte positions `[from, to)`, through {@linkcode writeFully} (so
 * that an injected write fault hits it too): what preallocating a segment writes ahead of its data.
 * When a write fails (a full disk), the file is cut back to `from` and the answer is `false`: the
 * caller goes on without preallocating, so a full disk fails no append that would fit.
 *
 * @param fd an open file descriptor
 * @param from the first byte position
 * @param to the byte position just past the last zero
 * @returns whether the zeros were written
 * @example Zeros after three bytes
 * ```ts
 * import assert from "node:assert/strict";
 * import * as fs from "node:fs";
 * import { writeFully, zeroFill } from "./fault_injector.ts";
 * const path = `${Deno.makeTempDirSync()}/file`;
 * const fd = fs.openSync(path, "w+");
 * writeFully(fd, new Uint8Array([1, 2, 3]), 0);
 * assert.equal(zeroFill(fd, 3, 3 + 2 * 1048576 + 5), true);
 * fs.closeSync(fd);
 * assert.equal(fs.statSync(path).size, 3 + 2 * 1048576 + 5);
 * assert.deepEqual([...fs.readFileSync(path).subarray(0, 5)], [1, 2, 3, 0, 0]);
 * ```
 */
export function zeroFill(fd: number, from: number, to: number): boolean {
  zeros ??= new Uint8Array(1 << 20);
  try {
    for (let position = from; position < to; position += zeros.length) {
      writeFully(fd, to - position < zeros.length ? zeros.subarray(0, to - position) : zeros, position);
    }
    return true;
  } catch {
    try {
      truncateFile(fd, from);
    } catch { /* the zeros past the data stay: the segment's next cut or recovery removes them */ }
    return false;
  }
}

/**
 * Forces a file's data to disk (`fdatasync(2)`), without blocking the event loop.
 *
 * @param fd an open file descriptor
 * @returns a promise that resolves once the data is on stable storage
 * @example Sync a file, and see the sync through the fault seam
 * ```ts
 * import assert from "node:assert/strict";
 * import * as fs from "node:fs";
 * import { datasync, setFaultInjector } from "./fault_injector.ts";
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
 * import * as fs from "node:fs";
 * import { datasyncSync, setFaultInjector } from "./fault_injector.ts";
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
  if (faultInjector !== undefined) throwInjected({ op: "sync", fd, position: -1, length: 0 });
  fs.fdatasyncSync(fd);
  faultInjector?.({ op: "synced", fd, position: -1, length: 0 });
}

/**
 * Forces a file's data and metadata to disk (`fsync(2)`) on the calling thread, through the same
 * fault seam as {@linkcode datasync} (a `"sync"` before, a `"synced"` after): for the small files
 * written whole and renamed into place (checkpoints, group state, committed offsets), whose size
 * must be durable too.
 *
 * @param fd an open file descriptor
 * @throws {Error} the I/O error, or an injected fault's
 * @example A failing device: the sync throws the injected error
 * ```ts
 * import assert from "node:assert/strict";
 * import * as fs from "node:fs";
 * import { setFaultInjector, syncFile } from "./fault_injector.ts";
 * const fd = fs.openSync(`${Deno.makeTempDirSync()}/file`, "w");
 * const seen: string[] = [];
 * try {
 *   setFaultInjector((op) => void seen.push(op.op));
 *   syncFile(fd);
 *   setFaultInjector(() => ({ error: Object.assign(new Error("EIO: i/o error"), { code: "EIO" }) }));
 *   assert.throws(() => syncFile(fd), { code: "EIO" });
 * } finally {
 *   setFaultInjector(undefined);
 *   fs.closeSync(fd);
 * }
 * assert.deepEqual(seen, ["sync", "synced"]);
 * ```
 */
export function syncFile(fd: number): void {
  if (faultInjector !== undefined) throwInjected({ op: "sync", fd, position: -1, length: 0 });
  fs.fsyncSync(fd);
  faultInjector?.({ op: "synced", fd, position: -1, length: 0 });
}

/**
 * Tells an installed fault injector, as an observer, that a directory's fsync completed: a
 * `"synced"` whose `path` is the directory (the answer is ignored, as for every `"synced"`; no
 * `"sync"` comes first, so a directory's fsync is never failed). `syncDirectory` calls it, so a
 * test can see which entries each directory fsync made durable.
 *
 * @param fd the directory's descriptor
 * @param path the directory
 * @example An observer sees the directory
 * ```ts
 * import assert from "node:assert/strict";
 * import { syncDirectory } from "./write_file_atomic.ts";
 * import { setFaultInjector } from "./fault_injector.ts";
 * const dir = Deno.makeTempDirSync();
 * const seen: string[] = [];
 * setFaultInjector((op) => void seen.push(`${op.op} ${op.path}`));
 * try {
 *   syncDirectory(dir);
 * } finally {
 *   setFaultInjector(undefined);
 * }
 * assert.deepEqual(seen, [`synced ${dir}`]);
 * ```
 */
export function directorySynced(fd: number, path: string): void {
  faultInjector?.({ op: "synced", fd, position: -1, length: 0, path });
}

/**
 * Cuts (or extends with zeros) an open file to `length` bytes (`ftruncate(2)`), after asking the
 * fault injector with a `"truncate"` of the descriptor (`length` is the new size): the seam through
 * which tests fail the cut of a torn tail or of a failed write.
 *
 * @param fd an open file descriptor, opened for writing
 * @param length the new size in bytes
 * @throws {Error} the underlying error, or an injected fault's
 * @example Cut a file to 2 bytes
 * ```ts
 * import assert from "node:assert/strict";
 * import * as fs from "node:fs";
 * import { truncateFile } from "./fault_injector.ts";
 * const path = `${Deno.makeTempDirSync()}/file`;
 * fs.writeFileSync(path, "abcd");
 * const fd = fs.openSync(path, "r+");
 * truncateFile(fd, 2);
 * fs.closeSync(fd);
 * assert.equal(fs.readFileSync(path, "utf8"), "ab");
 * ```
 */
export function truncateFile(fd: number, length: number): void {
  if (faultInjector !== undefined) throwInjected({ op: "truncate", fd, position: -1, length });
  fs.ftruncateSync(fd, length);
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
 * import * as fs from "node:fs";
 * import { renameFile } from "./fault_injector.ts";
 * const dir = Deno.makeTempDirSync();
 * fs.writeFileSync(`${dir}/a`, "x");
 * renameFile(`${dir}/a`, `${dir}/b`);
 * assert.deepEqual(fs.readdirSync(dir), ["b"]);
 * ```
 */
export function renameFile(from: string, to: string): void {
  if (faultInjector !== undefined) {
    throwInjected({ op: "rename", fd: -1, position: -1, length: 0, path: from });
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
 * import * as fs from "node:fs";
 * import { removeFile } from "./fault_injector.ts";
 * const dir = Deno.makeTempDirSync();
 * fs.writeFileSync(`${dir}/a`, "x");
 * removeFile(`${dir}/a`);
 * removeFile(`${dir}/a`);
 * assert.deepEqual(fs.readdirSync(dir), []);
 * ```
 */
export function removeFile(path: string): void {
  if (faultInjector !== undefined) throwInjected({ op: "unlink", fd: -1, position: -1, length: 0, path });
  fs.rmSync(path, { force: true });
}

/**
 * Removes a directory and everything in it, if it exists (a deleted topic's partition directories,
 * a deleted group), after asking the fault injector with an `"unlink"` of its path (see
 * {@linkcode renameFile}). Symbolic links inside are removed, never followed.
 *
 * @param path the directory's path
 * @throws {Error} the underlying error, or an injected fault's
 * @example Remove a directory with a file in it, and one that is not there
 * ```ts
 * import assert from "node:assert/strict";
 * import * as fs from "node:fs";
 * import { removeDirectory } from "./fault_injector.ts";
 * const dir = Deno.makeTempDirSync();
 * fs.mkdirSync(`${dir}/topic-0`);
 * fs.writeFileSync(`${dir}/topic-0/00000000000000000000.log`, "x");
 * removeDirectory(`${dir}/topic-0`);
 * removeDirectory(`${dir}/topic-0`);
 * assert.deepEqual(fs.readdirSync(dir), []);
 * ```
 */
export function removeDirectory(path: string): void {
  if (faultInjector !== undefined) throwInjected({ op: "unlink", fd: -1, position: -1, length: 0, path });
  fs.rmSync(path, { recursive: true, force: true });
}
