/**
 * The one atomic-write helper (for one file, or several with one round of syncs), and its
 * create-if-absent twin: small files (checkpoints, topic configs, producer snapshots, group state,
 * committed offsets) are written to a uniquely named temporary file beside their name, fsynced,
 * renamed (or linked) into place, and the directory is fsynced, so a crash leaves the old file or
 * the new one, never a half-written one.
 *
 * @module
 */
import * as fs from "node:fs";
import { StorageError } from "../errors.ts";
import { directorySynced, removeFile, renameFile, syncFile, writeFully } from "./fault_injector.ts";

/**
 * Makes a directory's entries (created, renamed or removed files) durable with `fsync(2)` on the
 * directory. Errors from platforms that cannot open directories are ignored.
 *
 * @param dir the directory path
 * @example Sync a directory (a platform that cannot is not an error)
 * ```ts
 * import assert from "node:assert/strict";
 * import { syncDirectory } from "./write_file_atomic.ts";
 * assert.doesNotThrow(() => syncDirectory(Deno.makeTempDirSync()));
 * assert.doesNotThrow(() => syncDirectory("/no/such/directory"));
 * ```
 */
export function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, "r");
    fs.fsyncSync(fd);
    directorySynced(fd, dir);
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
 * import * as fs from "node:fs";
 * import { writeFileAtomic } from "./write_file_atomic.ts";
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
  writeFilesAtomic([{ path, contents }], options);
}

/**
 * Replaces several files, each atomically, with one round of syncs: every file's contents go to a
 * uniquely named temporary file beside it and are fsynced, and only then is each renamed over its
 * name, and each directory fsynced once. A crash leaves each file old or new, never half-written
 * (not all of them old or all new: each rename is atomic, the set is not). Committed offsets, one
 * file per partition, are written this way.
 *
 * @param files each file's path and new contents (text is written as UTF-8)
 * @param options `sync: false` to skip the fsyncs (see {@linkcode writeFileAtomic})
 * @throws {StorageError} naming the file that could not be written or replaced; no temporary file
 *   is left, and no file is replaced when a write or fsync failed
 * @example Two offsets in two directories, one round of syncs
 * ```ts
 * import assert from "node:assert/strict";
 * import * as fs from "node:fs";
 * import { StorageError } from "../errors.ts";
 * import { writeFilesAtomic } from "./write_file_atomic.ts";
 * const dir = Deno.makeTempDirSync();
 * fs.mkdirSync(`${dir}/a`);
 * fs.mkdirSync(`${dir}/b`);
 * writeFilesAtomic([{ path: `${dir}/a/0.json`, contents: "1" }, { path: `${dir}/b/0.json`, contents: "2" }]);
 * assert.equal(fs.readFileSync(`${dir}/a/0.json`, "utf8"), "1");
 * assert.equal(fs.readFileSync(`${dir}/b/0.json`, "utf8"), "2");
 * // A file whose directory is missing fails the call before anything is replaced.
 * assert.throws(
 *   () => writeFilesAtomic([{ path: `${dir}/a/0.json`, contents: "3" }, { path: `${dir}/c/0.json`, contents: "4" }]),
 *   (err: unknown) => err instanceof StorageError && err.message.startsWith(`Cannot write ${dir}/c/0.json: `),
 * );
 * assert.equal(fs.readFileSync(`${dir}/a/0.json`, "utf8"), "1");
 * assert.deepEqual(fs.readdirSync(`${dir}/a`), ["0.json"]);
 * ```
 */
export function writeFilesAtomic(
  files: readonly { readonly path: string; readonly contents: string | Uint8Array }[],
  options: { sync?: boolean } = {},
): void {
  const sync = options.sync ?? true;
  const written: [tmp: string, path: string][] = [];
  let current = "";
  try {
    for (const { path, contents } of files) {
      current = path;
      // A short name of its own (a 249-character topic's config leaves no room for a suffix).
      const tmp = `${dirname(path)}/.${crypto.randomUUID()}.tmp`;
      const fd = fs.openSync(tmp, "wx");
      written.push([tmp, path]);
      try {
        const bytes = typeof contents === "string" ? new TextEncoder().encode(contents) : contents;
        writeFully(fd, bytes, 0);
        if (sync) syncFile(fd);
      } finally {
        fs.closeSync(fd);
      }
    }
    for (const [tmp, path] of written) {
      current = path;
      renameFile(tmp, path);
    }
  } catch (err) {
    for (const [tmp] of written) {
      try {
        removeFile(tmp); // gone already when it was renamed
      } catch { /* the directory itself is unusable: the first error is the one reported */ }
    }
    throw new StorageError(`Cannot write ${current}: ${(err as Error).message}`, { cause: err });
  }
  if (!sync) return;
  if (written.length === 1) syncDirectory(dirname(written[0][1]));
  else for (const dir of new Set(written.map(([, path]) => dirname(path)))) syncDirectory(dir);
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
 * import * as fs from "node:fs";
 * import { createFileExclusive } from "./write_file_atomic.ts";
 * const path = Deno.makeTempDirSync() + "/config.json";
 * assert.equal(createFileExclusive(path, "first"), true);
 * assert.equal(createFileExclusive(path, "second"), false);
 * assert.equal(fs.readFileSync(path, "utf8"), "first");
 * ```
 */
export function createFileExclusive(path: string, contents: string | Uint8Array): boolean {
  // Not "*.tmp": a writer taking a partition's lock removes those from its directory, and
  // partition.metadata is created while another process may be taking it.
  const tmp = `${dirname(path)}/.${crypto.randomUUID()}.new`;
  const fd = fs.openSync(tmp, "wx");
  try {
    try {
      writeFully(fd, typeof contents === "string" ? new TextEncoder().encode(contents) : contents, 0);
      syncFile(fd);
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
      removeFile(tmp);
    } catch { /* the directory itself is unusable: reported above */ }
  }
  syncDirectory(dirname(path));
  return true;
}

/** The directory part of a `/`-separated path: everything before the last `/`, or `.`. */
function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "." : i === 0 ? "/" : path.slice(0, i);
}
