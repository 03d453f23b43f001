/**
 * A file's status (`fstat(2)`, `lstat(2)`, `stat(2)`): the few facts reel takes from it (what the
 * entry is, its size, device, inode and modification time), alike on every runtime; and a
 * directory's entries with their types.
 *
 * Node and Bun answer through `node:fs`. On Deno, `node:fs`'s stat calls cost about 8.5 µs each
 * (its polyfill builds Node's `Stats`, dates and all), against about 1.2 µs for `Deno.lstatSync`:
 * a reader's open of a partition spent about half its time there. So on Deno a path's status
 * comes from `Deno.lstatSync` / `Deno.statSync` (same system calls, same permissions, same error
 * codes). Deno 2 has no `fstat` of a descriptor, but on Linux `stat` of `/proc/self/fd/<fd>`
 * is one: the kernel resolves that entry to the open file itself, never through its former
 * path, so a renamed, replaced or deleted name changes nothing. Deno allows that path only to a
 * process with every permission (`-A`), so it is used only then, and only after the first
 * descriptor's two answers (`node:fs` and `/proc`) agreed on its device and inode; otherwise
 * (other systems, fewer permissions, an older Deno) `node:fs` answers. A directory is listed with
 * `Deno.readDirSync` on Deno: the same entry types at half the cost.
 *
 * @module
 */
import * as fs from "node:fs";
import { runtimeVersion, versionAtLeast } from "./runtime_version.ts";

/** What a directory entry or an open file is. */
export type FileKind = "file" | "directory" | "symlink" | "fifo" | "socket" | "device" | "other";

/** The facts of a file's status that reel uses. */
export interface FileStatus {
  /** What it is (`"file"`: a regular file; `"symlink"` only from {@linkcode entryStatus}). */
  kind: FileKind;
  /** Its size, bytes. */
  size: number;
  /** The device it lives on. */
  dev: number;
  /** Its inode number (0 where the system has none). */
  ino: number;
  /** Its last modification time, ms since the epoch (whole milliseconds on Deno). */
  mtimeMs: number;
}

/** What Deno's `statSync` / `lstatSync` answer (its `Deno.FileInfo`), the fields used here. */
interface DenoFileInfo {
  isFile: boolean;
  isDirectory: boolean;
  isSymlink: boolean;
  isFifo: boolean | null;
  isSocket: boolean | null;
  isCharDevice: boolean | null;
  isBlockDevice: boolean | null;
  size: number;
  dev: number;
  ino: number | null;
  mtime: Date | null;
}

/** The Deno calls used here (named here, not through Deno's types: the npm build has none). */
interface DenoCalls {
  version: { deno: string };
  build: { os: string };
  permissions: { querySync(descriptor: { name: string }): { state: string } };
  statSync(path: string): DenoFileInfo;
  lstatSync(path: string): DenoFileInfo;
  readDirSync(path: string): Iterable<{ name: string; isFile: boolean }>;
}

/** Deno's own file calls, on Deno only. */
const deno = runtimeVersion().name === "deno"
  ? (globalThis as unknown as { Deno: DenoCalls }).Deno
  : undefined;

/**
 * Whether `/proc/self/fd/<fd>` answers for a descriptor: `false` where it cannot (not Deno, not
 * Linux, a Deno whose `node:fs` descriptors may not be the system's), `undefined` until the first
 * {@linkcode fileStatus} decides (all permissions, and the same file both ways).
 */
let procFd: boolean | undefined = deno !== undefined && deno.build.os === "linux" &&
    versionAtLeast(deno.version.deno, "2.9.0")
  ? undefined
  : false;

/** Every permission granted, so that a look at `/proc/self/fd` neither fails nor prompts. */
function allPermissionsGranted(): boolean {
  const names = ["read", "write", "net", "env", "run", "ffi", "sys", "import"] as const;
  try {
    return names.every((name) => deno!.permissions.querySync({ name }).state === "granted");
  } catch {
    return false;
  }
}

function fromNode(st: fs.Stats): FileStatus {
  const kind: FileKind = st.isFile()
    ? "file"
    : st.isDirectory()
    ? "directory"
    : st.isSymbolicLink()
    ? "symlink"
    : st.isFIFO()
    ? "fifo"
    : st.isSocket()
    ? "socket"
    : st.isCharacterDevice() || st.isBlockDevice()
    ? "device"
    : "other";
  return { kind, size: st.size, dev: st.dev, ino: st.ino, mtimeMs: st.mtimeMs };
}

function fromDeno(info: DenoFileInfo): FileStatus {
  const kind: FileKind = info.isFile
    ? "file"
    : info.isDirectory
    ? "directory"
    : info.isSymlink
    ? "symlink"
    : info.isFifo
    ? "fifo"
    : info.isSocket
    ? "socket"
    : info.isCharDevice || info.isBlockDevice
    ? "device"
    : "other";
  return { kind, size: info.size, dev: info.dev, ino: info.ino ?? 0, mtimeMs: info.mtime?.getTime() ?? 0 };
}

/**
 * The status of an open file (`fstat(2)`): the file the descriptor is open on, whatever its name
 * has become since.
 *
 * @param fd an open file descriptor
 * @returns its status
 * @throws {Error} the file system's error (`EBADF` when `fd` is not open)
 * @example The opened file, after another took its name
 * ```ts
 * import assert from "node:assert/strict";
 * import * as fs from "node:fs";
 * import { fileStatus } from "./file_status.ts";
 * const path = `${Deno.makeTempDirSync()}/00000000000000000000.log`;
 * fs.writeFileSync(path, "abc");
 * const fd = fs.openSync(path, "r");
 * const before = fileStatus(fd);
 * fs.writeFileSync(`${path}.swap`, "longer");
 * fs.renameSync(`${path}.swap`, path);
 * for (let i = 0; i < 2; i++) { // the first call and the next ones answer alike
 *   const status = fileStatus(fd);
 *   assert.deepEqual([status.kind, status.size, status.ino], ["file", 3, before.ino]);
 * }
 * assert.notEqual(fs.statSync(path).ino, before.ino);
 * fs.closeSync(fd);
 * ```
 */
export function fileStatus(fd: number): FileStatus {
  if (procFd) {
    try {
      return fromDeno(deno!.statSync(`/proc/self/fd/${fd}`));
    } catch {
      // Not open (or unreadable): node:fs gives the descriptor's own error.
    }
  } else if (procFd === undefined) {
    const st = fs.fstatSync(fd); // its error, if any, leaves the question for the next call
    let same = false;
    if (allPermissionsGranted()) {
      try {
        const viaProc = deno!.statSync(`/proc/self/fd/${fd}`);
        same = viaProc.dev === st.dev && viaProc.ino === st.ino;
      } catch { /* not allowed or no /proc: node:fs it is */ }
    }
    procFd = same;
    return fromNode(st);
  }
  return fromNode(fs.fstatSync(fd));
}

/**
 * Where {@linkcode fileStatus} takes an open file's status from: `"/proc/self/fd"` (Deno on Linux
 * with every permission, once the first call found both answers alike), `"node:fs"`, or
 * `undefined` before that first call.
 *
 * @returns the source, if decided
 * @example Decided by the first call
 * ```ts
 * import assert from "node:assert/strict";
 * import * as fs from "node:fs";
 * import { fileStatus, fileStatusSource } from "./file_status.ts";
 * const fd = fs.openSync(Deno.makeTempFileSync(), "r");
 * fileStatus(fd);
 * const all = Deno.permissions.querySync({ name: "run" }).state === "granted";
 * assert.equal(fileStatusSource(), Deno.build.os === "linux" && all ? "/proc/self/fd" : "node:fs");
 * fs.closeSync(fd);
 * ```
 */
export function fileStatusSource(): "/proc/self/fd" | "node:fs" | undefined {
  return procFd === undefined ? undefined : procFd ? "/proc/self/fd" : "node:fs";
}

/**
 * The status of a directory entry, never following a symbolic link (`lstat(2)`: a link's own
 * status, kind `"symlink"`).
 *
 * @param path the entry
 * @returns its status
 * @throws {Error} the file system's error (`ENOENT` when nothing has that name)
 * @example A symbolic link is not followed
 * ```ts
 * import assert from "node:assert/strict";
 * import * as fs from "node:fs";
 * import { entryStatus } from "./file_status.ts";
 * const dir = Deno.makeTempDirSync();
 * fs.writeFileSync(`${dir}/target`, "abc");
 * fs.symlinkSync(`${dir}/target`, `${dir}/00000000000000000000.log`);
 * assert.equal(entryStatus(`${dir}/00000000000000000000.log`).kind, "symlink");
 * assert.deepEqual([entryStatus(`${dir}/target`).kind, entryStatus(`${dir}/target`).size], ["file", 3]);
 * assert.equal(entryStatus(dir).kind, "directory");
 * assert.throws(() => entryStatus(`${dir}/missing`), { code: "ENOENT" });
 * ```
 */
export function entryStatus(path: string): FileStatus {
  return deno !== undefined ? fromDeno(deno.lstatSync(path)) : fromNode(fs.lstatSync(path));
}

/**
 * The status of the file a path names, following symbolic links (`stat(2)`).
 *
 * @param path the path
 * @returns its status
 * @throws {Error} the file system's error (`ENOENT` when nothing has that name, or a link's
 *   target is missing)
 * @example A symbolic link is followed
 * ```ts
 * import assert from "node:assert/strict";
 * import * as fs from "node:fs";
 * import { pathStatus } from "./file_status.ts";
 * const dir = Deno.makeTempDirSync();
 * fs.writeFileSync(`${dir}/target`, "abcd");
 * fs.symlinkSync(`${dir}/target`, `${dir}/link`);
 * assert.deepEqual([pathStatus(`${dir}/link`).kind, pathStatus(`${dir}/link`).size], ["file", 4]);
 * assert.throws(() => pathStatus(`${dir}/missing`), { code: "ENOENT" });
 * ```
 */
export function pathStatus(path: string): FileStatus {
  return deno !== undefined ? fromDeno(deno.statSync(path)) : fromNode(fs.statSync(path));
}

/** A directory's entries, as {@linkcode listDirectory} found them. */
export interface DirectoryListing {
  /** The names of the entries. */
  names: string[];
  /**
   * The names the listing itself showed to be regular files (the entry type `readdir(3)` gives,
   * never following a symbolic link). An entry of an unknown type is not in it: check it with
   * `lstat` ({@linkcode assertRegularFiles}).
   */
  regularFiles: Set<string>;
}

/**
 * Lists a directory with its entries' types, so that a loader knows which files exist, and
 * which are regular files, without a `stat` of each or a read that fails on a missing one.
 *
 * @param dir the directory
 * @returns its entries' names, and those that are regular files
 * @throws {Error} the file system's error (`ENOENT` for a missing directory)
 * @example A regular file, a symbolic link and a directory
 * ```ts
 * import assert from "node:assert/strict";
 * import { assertRegularFiles, fs, listDirectory } from "./file_system.ts";
 * import { StorageError } from "../errors.ts";
 * const dir = Deno.makeTempDirSync();
 * fs.writeFileSync(`${dir}/00000000000000000000.log`, "");
 * fs.symlinkSync(`${dir}/00000000000000000000.log`, `${dir}/00000000000000000000.index`);
 * fs.mkdirSync(`${dir}/00000000000000000000.timeindex`);
 * const { names, regularFiles } = listDirectory(dir);
 * assert.deepEqual([...names].sort(), [
 *   "00000000000000000000.index",
 *   "00000000000000000000.log",
 *   "00000000000000000000.timeindex",
 * ]);
 * assert.deepEqual([...regularFiles], ["00000000000000000000.log"]);
 * assert.throws(() => assertRegularFiles(dir, ["00000000000000000000.index"], regularFiles), StorageError);
 * ```
 */
export function listDirectory(dir: string): DirectoryListing {
  const names: string[] = [];
  const regularFiles = new Set<string>();
  if (deno !== undefined) {
    // node:fs's listing on Deno sorts the entries and builds a Dirent of each.
    for (const entry of deno.readDirSync(dir)) {
      names.push(entry.name);
      if (entry.isFile) regularFiles.add(entry.name);
    }
    return { names, regularFiles };
  }
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const name = String(entry.name);
    names.push(name);
    if (entry.isFile()) regularFiles.add(name);
  }
  return { names, regularFiles };
}
