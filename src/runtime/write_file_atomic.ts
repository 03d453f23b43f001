/**
 * The one atomic-write helper, and its create-if-absent twin: small files (checkpoints, topic
 * configs, producer snapshots, group state, committed offsets) are written to a uniquely named
 * temporary file beside their name, fsynced, renamed (or linked) into place, and the directory is
 * fsynced, so a crash leaves the old file or the new one, never a half-written one.
 *
 * @module
 */
import * as fs from "node:fs";
import { StorageError } from "../errors.ts";
import { writeFully } from "./fault_injector.ts";

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

/** The directory part of a `/`-separated path: everything before the last `/`, or `.`. */
function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "." : i === 0 ? "/" : path.slice(0, i);
}
