/**
 * How reel opens a file under the log directory ({@linkcode openFile}): never through a symbolic
 * link, and only a regular file. Re-exported by `file_system.ts`.
 *
 * @module
 */
import * as fs from "node:fs";
import { StorageError } from "../errors.ts";
import { entryStatus, type FileKind, type FileStatus, fileStatus } from "./file_status.ts";
import { runtimeVersion } from "./runtime_version.ts";

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

const KIND_NAMES: Record<FileKind, string> = {
  file: "a regular file",
  directory: "a directory",
  symlink: "a symbolic link",
  fifo: "a named pipe",
  socket: "a socket",
  device: "a device",
  other: "not a regular file",
};

/**
 * What kind of entry a status describes, for an error message: `"a directory"`, `"a symbolic link"`, ...
 *
 * @param kind what {@linkcode fileStatus} or {@linkcode entryStatus} said it is
 * @returns the words for it
 * @example A directory
 * ```ts
 * import assert from "node:assert/strict";
 * import { entryStatus, kindName } from "./file_system.ts";
 * assert.equal(kindName(entryStatus(Deno.makeTempDirSync()).kind), "a directory");
 * ```
 */
export function kindName(kind: FileKind): string {
  return KIND_NAMES[kind];
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
  return openFileAndSize(path, mode).fd;
}

/**
 * {@linkcode openFile}, with the size its `fstat` saw: for a caller that needs the size next (an
 * index read whole, a segment's `.log`), without a second `fstat` (on Deno, most of the cost of
 * a small file's open).
 *
 * @param path the file
 * @param mode how to open it
 * @returns the file descriptor and the file's size when it was opened, bytes
 * @throws {StorageError} as {@linkcode openFile}
 * @throws {Error} as {@linkcode openFile}
 * @example A file's descriptor and size
 * ```ts
 * import assert from "node:assert/strict";
 * import { fs, openFileAndSize } from "./file_system.ts";
 * const path = `${Deno.makeTempDirSync()}/00000000000000000000.index`;
 * fs.writeFileSync(path, new Uint8Array(16));
 * const { fd, size } = openFileAndSize(path, "r");
 * assert.equal(size, 16);
 * fs.closeSync(fd);
 * ```
 */
export function openFileAndSize(path: string, mode: OpenMode): { fd: number; size: number } {
  if (DENO_FOLLOWS_LINKS_ON_OPEN) return openOnDeno(path, OPEN_FLAGS[mode]);
  const fd = openNoFollow(path, OPEN_FLAGS[mode]);
  return { fd, size: regularFileSize(fd, path) };
}

/** `open(2)` with `O_NOFOLLOW | O_NONBLOCK` added, its refusals as {@linkcode StorageError}s. */
function openNoFollow(path: string, flags: number): number {
  try {
    return fs.openSync(path, flags | C.O_NOFOLLOW | C.O_NONBLOCK, 0o644);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "ELOOP") throw linkRefused(path, err);
    if (code === "EISDIR") {
      throw new StorageError(`Cannot open ${path}: it is a directory, not a file`, { cause: err });
    }
    throw err;
  }
}

function linkRefused(path: string, cause?: unknown): StorageError {
  return new StorageError(`Cannot open ${path}: it is a symbolic link, which reel never follows`, { cause });
}

/**
 * The size of the file open as `fd`, bytes. Closes it and throws when it is not a regular file;
 * closes it and returns `undefined` when it is not the entry `expected` describes (its device and
 * inode).
 */
function regularFileSize(fd: number, path: string): number;
function regularFileSize(
  fd: number,
  path: string,
  expected: { dev: number; ino: number },
): number | undefined;
function regularFileSize(
  fd: number,
  path: string,
  expected?: { dev: number; ino: number },
): number | undefined {
  let stat: FileStatus;
  try {
    stat = fileStatus(fd);
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
  if (stat.kind !== "file") {
    fs.closeSync(fd);
    throw new StorageError(`Cannot open ${path}: it is ${kindName(stat.kind)}, not a regular file`);
  }
  if (expected !== undefined && (stat.dev !== expected.dev || stat.ino !== expected.ino)) {
    fs.closeSync(fd);
    return undefined;
  }
  return stat.size;
}

/**
 * Deno 2.9, whenever a permission is not granted (`--allow-read --allow-write` rather than `-A`),
 * resolves every symbolic link of a path before it opens it, `O_NOFOLLOW` or not, to check the
 * resolved path against its permissions (its `lstat`, `unlink` and `rename` do not follow). reel
 * opens files on Deno as if that were always so: permissions may change while it runs.
 */
const DENO_FOLLOWS_LINKS_ON_OPEN = runtimeVersion().name === "deno";

/** Looks (lstat, open, fstat) at most this many times on Deno while the entry keeps changing. */
const OPEN_ATTEMPTS = 8;

/** `lstat` of a path (`entryStatus`: `Deno.lstatSync` on Deno); `undefined` when there is no entry. */
function lstatOrNothing(path: string): FileStatus | undefined {
  try {
    return entryStatus(path);
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") return undefined;
    throw err;
  }
}

/**
 * {@linkcode openFileAndSize} on Deno, whose `open` may follow a symbolic link. The entry is
 * looked at with `lstat` first: a symbolic link, or anything but a regular file, is refused. An
 * existing file is opened without `O_CREAT` and `O_TRUNC`, and must be the entry `lstat` saw
 * (same device and inode) before it is emptied or used; when another entry took the name
 * meanwhile (a lock file taken over, a file replaced by a rename), it looks again. A missing file
 * is created with `O_EXCL`, and the entry must then be the file created. What a race can still do: a dangling symbolic link
 * put in the place of a file being created, between the `lstat` and the `open`, gets an empty file
 * made at its target, which reel refuses at once, and never writes nor removes.
 */
function openOnDeno(path: string, flags: number): { fd: number; size: number } {
  for (let attempt = 1;; attempt++) {
    const before = lstatOrNothing(path);
    // As open(2) answers O_CREAT | O_EXCL on any entry, a symbolic link included.
    if (before !== undefined && (flags & C.O_EXCL) !== 0) {
      throw Object.assign(new Error(`EEXIST: file already exists, open '${path}'`), { code: "EEXIST" });
    }
    if (before?.kind === "symlink") throw linkRefused(path);
    if (before !== undefined && before.kind !== "file") {
      throw new StorageError(`Cannot open ${path}: it is ${kindName(before.kind)}, not a regular file`);
    }
    // A file made here is made with O_EXCL: an entry that appears meanwhile is not opened.
    const create = before === undefined && (flags & C.O_CREAT) !== 0;
    let fd: number;
    try {
      fd = openNoFollow(
        path,
        (flags & ~(C.O_TRUNC | C.O_CREAT | C.O_EXCL)) | (create ? C.O_CREAT | C.O_EXCL : 0),
      );
    } catch (err) {
      // Made or removed by someone else between the lstat and the open: look again, once.
      const code = (err as { code?: string }).code;
      const raced = create
        ? code === "EEXIST" && (flags & C.O_EXCL) === 0
        : code === "ENOENT" && (flags & C.O_CREAT) !== 0;
      if (attempt < OPEN_ATTEMPTS && raced) continue;
      throw err;
    }
    let expected = before;
    if (expected === undefined) {
      expected = lstatOrNothing(path);
      if (expected === undefined || expected.kind !== "file") {
        fs.closeSync(fd);
        throw new StorageError(
          `Cannot open ${path}: it was replaced while being created; reel leaves it as it is`,
        );
      }
    }
    let size = regularFileSize(fd, path, expected);
    if (size === undefined) {
      // Another entry took the name between the lstat and the open (a lock file taken over, a
      // file replaced by a rename, or a link): look again.
      if (attempt < OPEN_ATTEMPTS) continue;
      throw new StorageError(`Cannot open ${path}: it kept being replaced while being opened`);
    }
    if ((flags & C.O_TRUNC) !== 0 && size > 0) {
      try {
        fs.ftruncateSync(fd, 0);
      } catch (err) {
        fs.closeSync(fd);
        throw err;
      }
      size = 0;
    }
    return { fd, size };
  }
}
