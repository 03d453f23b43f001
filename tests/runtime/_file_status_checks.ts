// The safety properties of a file's status, whichever way this process takes it (Deno: Deno's own
// calls, an open file's through /proc/self/fd with every permission, else node:fs): run by
// file_status_test.ts in its own process and, on Deno, in a child with fewer permissions.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { StorageError } from "../../src/errors.ts";
import {
  assertRegularFiles,
  entryStatus,
  fdIdentity,
  fileIdentity,
  fileSize,
  fileStatus,
  listDirectory,
  openFile,
  openFileAndSize,
} from "../../src/runtime/file_system.ts";

/** The entries `checkFileStatus` expects in its directory (its caller makes the named pipe). */
export const FIFO = "00000000000000000002.log";

/**
 * Checks, in `dir` (which holds a named pipe named {@linkcode FIFO}): a symbolic link in a
 * segment's place is refused and not followed, a directory or a named pipe is refused, an open
 * file's status and identity are the opened file's whatever its name became, a missing or closed
 * one is an error, a listing's types never follow a link.
 */
export function checkFileStatus(dir: string): void {
  const outside = path.join(dir, "outside");
  fs.writeFileSync(outside, "keep");
  const log = path.join(dir, "00000000000000000000.log");
  fs.writeFileSync(log, "abc");
  const link = path.join(dir, "00000000000000000001.log");
  fs.symlinkSync(outside, link);
  const sub = path.join(dir, "00000000000000000003.log");
  fs.mkdirSync(sub);
  const fifo = path.join(dir, FIFO);

  // A symbolic link in a segment's place: refused, its target neither read nor written.
  for (const mode of ["r", "r+", "w+"] as const) {
    assert.throws(
      () => openFile(link, mode),
      (err) => err instanceof StorageError && /symbolic link/.test(err.message),
    );
  }
  assert.equal(fs.readFileSync(outside, "utf8"), "keep");
  // Nor a link to a directory or a named pipe, nor one to nothing (whose target is not created).
  const links = ["sub", "fifo", "nothing"].map((name) => path.join(dir, `link-to-${name}`));
  fs.symlinkSync(path.join(dir, "00000000000000000003.log"), links[0]);
  fs.symlinkSync(path.join(dir, FIFO), links[1]);
  fs.symlinkSync(path.join(dir, "nothing"), links[2]);
  for (const l of links) {
    for (const mode of ["r", "w+"] as const) {
      assert.throws(
        () => openFile(l, mode),
        (err) => err instanceof StorageError && /symbolic link/.test(err.message),
      );
    }
    // "wx" refuses any entry (EEXIST), a link included (or reel's error, where Deno follows links).
    assert.throws(
      () => openFile(l, "wx"),
      (err) => err instanceof StorageError || (err as { code?: string }).code === "EEXIST",
    );
    fs.unlinkSync(l);
  }
  assert.equal(fs.existsSync(path.join(dir, "nothing")), false);
  assert.equal(entryStatus(link).kind, "symlink");
  assert.throws(() => assertRegularFiles(dir, [path.basename(link)]), /symbolic link/);
  assert.equal(fs.lstatSync(link).isSymbolicLink(), true);

  // A regular file: "w+" empties it, "wx" refuses it.
  const index = path.join(dir, "00000000000000000000.index");
  fs.writeFileSync(index, "xyz");
  const emptied = openFileAndSize(index, "w+");
  fs.closeSync(emptied.fd);
  assert.deepEqual([emptied.size, fs.readFileSync(index, "utf8")], [0, ""]);
  assert.throws(() => openFile(index, "wx"), { code: "EEXIST" });
  fs.unlinkSync(index);

  // A directory and a named pipe: refused with the typed error, left as they are.
  assert.throws(
    () => openFile(sub, "r"),
    (err) => err instanceof StorageError && /a directory/.test(err.message),
  );
  assert.throws(
    () => openFile(fifo, "r"),
    (err) => err instanceof StorageError && /a named pipe/.test(err.message),
  );
  assert.throws(
    () => openFile(fifo, "r+"),
    (err) => err instanceof StorageError && /a named pipe/.test(err.message),
  );
  assert.throws(() => assertRegularFiles(dir, [path.basename(sub)]), StorageError);
  assert.throws(() => assertRegularFiles(dir, [FIFO]), /a named pipe/);
  assert.deepEqual([entryStatus(sub).kind, entryStatus(fifo).kind], ["directory", "fifo"]);
  assert.equal(fs.lstatSync(fifo).isFIFO(), true);
  assert.equal(fs.lstatSync(sub).isDirectory(), true);

  // A directory listing's types: only the regular files, never through a link.
  const { names, regularFiles } = listDirectory(dir);
  assert.deepEqual([...names].sort(), [
    "00000000000000000000.log",
    "00000000000000000001.log",
    FIFO,
    "00000000000000000003.log",
    "outside",
  ]);
  assert.deepEqual([...regularFiles].sort(), ["00000000000000000000.log", "outside"]);
  assertRegularFiles(dir, [path.basename(log), "missing.index"], regularFiles);

  // An open file's status and identity are the opened file's, after a rename over its name.
  const { fd, size } = openFileAndSize(log, "r");
  assert.equal(size, 3);
  const opened = fileStatus(fd);
  const identity = fdIdentity(fd);
  const stamp = fileIdentity(log);
  fs.writeFileSync(`${log}.swap`, "longer");
  fs.renameSync(`${log}.swap`, log);
  const again = openFile(log, "r");
  try {
    assert.deepEqual(fileStatus(fd), opened);
    assert.equal(fdIdentity(fd), identity);
    assert.notEqual(fdIdentity(again), identity);
    assert.notEqual(fileIdentity(log), stamp);
    assert.deepEqual([fileStatus(again).kind, fileStatus(again).size, fileSize(log)], ["file", 6, 6]);
    fs.unlinkSync(log); // and after its name is gone
    assert.deepEqual([fileStatus(fd).size, fdIdentity(fd)], [3, identity]);
    assert.equal(fileIdentity(log), undefined);
    assert.equal(fileSize(log), -1);
  } finally {
    fs.closeSync(fd);
    fs.closeSync(again);
  }
  // A descriptor that is not open is an error, not some file's status (not the one just closed:
  // a test running beside this one in the process may have been given its number).
  assert.throws(() => fileStatus(1_000_000), { code: "EBADF" });
  assert.throws(() => fdIdentity(1_000_000), { code: "EBADF" });
  // A link is followed by fileSize (a name's size), never by fileIdentity (the entry's own).
  assert.equal(fileSize(link), 4);
  assert.notEqual(fileIdentity(link), fileIdentity(outside));
}
