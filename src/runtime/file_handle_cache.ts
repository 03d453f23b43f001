/**
 * A bound on the segment files this process keeps open. Each segment opens its `.log` file
 * through a {@linkcode CachedFile}; the cache keeps the most recently used ones open and closes
 * the least recently used beyond the limit, which reopen on their next use. A directory of
 * thousands of partitions thus works under the usual `ulimit -n` of 1024, where keeping every
 * segment open (as Kafka's broker does, with its limit raised to 100,000 or more) fails with
 * `EMFILE`.
 *
 * The limit is per process (as `ulimit -n` is), shared by every open log directory:
 * {@linkcode setMaxOpenFiles} changes it.
 *
 * @module
 */
import { boundFromLimit, openFileLimit } from "./open_file_limit.ts";
import { fdIdentity, fs, openFile, type OpenMode } from "./file_system.ts";

/**
 * The default of {@linkcode setMaxOpenFiles}: segment files kept open at once, per process. A
 * quarter of the process's open-file limit (`ulimit -n`, read from `/proc/self/limits` on Linux),
 * and at least 256 (where the limit is unknown, or 1024 or less).
 */
export const DEFAULT_MAX_OPEN_FILES: number = boundFromLimit(256, 4, openFileLimit());

let maxOpenFiles = DEFAULT_MAX_OPEN_FILES;
/** The open files, least recently used first (a `Map` keeps insertion order). */
const open = new Map<CachedFile, true>();
/** The last file in `open`'s order (the most recently used), or `undefined` when unknown. */
let mostRecent: CachedFile | undefined;

/** Puts `file` last in `open`'s order (the most recently used). */
function touch(file: CachedFile): void {
  if (mostRecent === file) return; // already last: a durable round uses one file several times
  open.delete(file);
  open.set(file, true);
  mostRecent = file;
}

/**
 * Sets how many segment files this process keeps open at once (every open log directory
 * together). Files past the limit are closed, least recently used first, and reopen on their next
 * read or write; a file with an fsync running is never closed.
 *
 * @param limit the most files kept open, at least 1
 * @throws {RangeError} when `limit` is not a whole number of at least 1
 * @example Keep at most 64 segment files open
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_MAX_OPEN_FILES, openFileCount, setMaxOpenFiles } from "./file_handle_cache.ts";
 * setMaxOpenFiles(64);
 * assert.ok(openFileCount() <= 64);
 * setMaxOpenFiles(DEFAULT_MAX_OPEN_FILES);
 * ```
 */
export function setMaxOpenFiles(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`maxOpenFiles must be a whole number of at least 1, got ${limit}`);
  }
  maxOpenFiles = limit;
  evict();
}

/** How many files the cache holds open now. */
export function openFileCount(): number {
  return open.size;
}

/** Closes the least recently used files past the limit, never `keep` (the one being handed out). */
function evict(keep?: CachedFile): void {
  if (open.size <= maxOpenFiles) return;
  for (const file of open.keys()) {
    if (open.size <= maxOpenFiles) return;
    if (file.busy || file === keep) continue;
    file.release();
  }
}

/**
 * One file opened on demand: {@linkcode CachedFile.fd} opens it (with `openFile`'s checks: no
 * symbolic link, a regular file) when it is not open, and marks it the most recently used. A
 * reopen must find the same file (device and inode) that was closed: a file replaced under its
 * name in the meantime (another process's log cleaner swapped a compacted segment in) is never
 * read in its place; the reopen throws an error with code `ESTALE` instead.
 */
export class CachedFile {
  #fd = -1;
  #busy = 0;
  /** The device and inode of the file when the cache closed it, to check the reopen against. */
  #identity: string | undefined;

  /**
   * @param path the file's path
   * @param mode how it is reopened (`"r"` or `"r+"`: never one that creates or truncates)
   * @param fd a descriptor already open on it, which the cache takes over
   */
  constructor(readonly path: string, readonly mode: Extract<OpenMode, "r" | "r+">, fd = -1) {
    if (fd >= 0) {
      this.#fd = fd;
      touch(this);
      evict(this);
    }
  }

  /** Whether an operation that needs the descriptor to stay open is running. */
  get busy(): boolean {
    return this.#busy > 0;
  }

  /** Whether the descriptor is open now. */
  get isOpen(): boolean {
    return this.#fd >= 0;
  }

  /**
   * The file's descriptor, opened again if the cache closed it.
   *
   * @throws {Error} what `openFile` throws (ENOENT when the file is gone), or an error with code
   *   `ESTALE` when another file has taken its name since the cache closed it
   */
  fd(): number {
    if (this.#fd >= 0) {
      touch(this); // most recently used: to the end of the order
      return this.#fd;
    }
    const fd = openFile(this.path, this.mode);
    if (this.#identity !== undefined && fdIdentity(fd) !== this.#identity) {
      fs.closeSync(fd);
      throw Object.assign(
        new Error(`Cannot reopen ${this.path}: another file has replaced it since it was opened`),
        { code: "ESTALE" },
      );
    }
    this.#fd = fd;
    touch(this);
    evict(this);
    return this.#fd;
  }

  /**
   * Runs `operation` with the descriptor, which stays open until the promise settles.
   *
   * @param operation what to run
   * @returns its result
   */
  async pinned<T>(operation: (fd: number) => Promise<T>): Promise<T> {
    const fd = this.fd();
    this.#busy++;
    try {
      return await operation(fd);
    } finally {
      this.#busy--;
    }
  }

  /** Closes the descriptor if it is open (it opens again on the next {@linkcode CachedFile.fd}). */
  release(): void {
    open.delete(this);
    if (mostRecent === this) mostRecent = undefined;
    if (this.#fd < 0) return;
    const fd = this.#fd;
    // Never close a descriptor twice: by then its number may belong to another file.
    this.#fd = -1;
    try {
      this.#identity = fdIdentity(fd);
    } catch { /* not open any more: the reopen cannot be checked */ }
    try {
      fs.closeSync(fd);
    } catch { /* already closed */ }
  }
}
