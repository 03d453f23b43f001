// The segment file cache: a file it closed reopens by name only if it is the same file.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  CachedFile,
  DEFAULT_MAX_OPEN_FILES,
  openFileCount,
  setMaxOpenFiles,
} from "../../src/runtime/file_handle_cache.ts";
import { readFully } from "../../src/runtime/file_system.ts";

describe("CachedFile", () => {
  test("reopens a closed file by name, and throws ESTALE when another file has taken the name", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-cache-"));
    try {
      const name = path.join(dir, "00000000000000000000.log");
      fs.writeFileSync(name, "old bytes");
      const file = new CachedFile(name, "r");
      assert.equal(new TextDecoder().decode(readFully(file.fd(), 0, 3)), "old");
      file.release();
      assert.equal(new TextDecoder().decode(readFully(file.fd(), 4, 5)), "bytes", "the same file reopens");
      file.release();
      // A swap: the name now holds another file (as the log cleaner's .swap -> .log rename leaves it).
      fs.writeFileSync(`${name}.swap`, "new bytes");
      fs.renameSync(`${name}.swap`, name);
      assert.throws(() => file.fd(), (err: Error & { code?: string }) => {
        assert.equal(err.code, "ESTALE");
        assert.match(err.message, /another file has replaced it/);
        return true;
      });
      assert.equal(file.isOpen, false);
      // A file removed: ENOENT, as before.
      fs.rmSync(name);
      assert.throws(() => file.fd(), (err: Error & { code?: string }) => err.code === "ENOENT");
      // Evicted by the limit, then reopened: the same file, so it reads.
      fs.writeFileSync(name, "abc");
      const a = new CachedFile(name, "r");
      const other = path.join(dir, "other");
      fs.writeFileSync(other, "x");
      const b = new CachedFile(other, "r");
      a.fd();
      setMaxOpenFiles(1);
      b.fd();
      assert.equal(a.isOpen, false);
      assert.equal(new TextDecoder().decode(readFully(a.fd(), 0, 3)), "abc");
      a.release();
      b.release();
    } finally {
      setMaxOpenFiles(DEFAULT_MAX_OPEN_FILES);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("closes the least recently used file when over the limit, however often one file is used in a row", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-cache-"));
    try {
      const files = ["a", "b", "c"].map((name) => {
        fs.writeFileSync(path.join(dir, name), name);
        return new CachedFile(path.join(dir, name), "r");
      });
      const [a, b, c] = files;
      setMaxOpenFiles(2);
      a.fd();
      b.fd();
      a.fd(); // a is now the most recently used
      a.fd();
      c.fd(); // over the limit: b goes
      assert.deepEqual(files.map((f) => f.isOpen), [true, false, true]);
      b.fd(); // now a is the least recently used
      assert.deepEqual(files.map((f) => f.isOpen), [false, true, true]);
      c.release(); // the most recently used before b was reopened
      a.fd();
      c.fd(); // b, then a, then c: b goes
      assert.deepEqual(files.map((f) => f.isOpen), [true, false, true]);
      // The most recently used file closed and reopened at once is counted and ordered again.
      c.release();
      c.fd();
      assert.equal(openFileCount(), 2);
      b.fd(); // a goes, c stays
      assert.deepEqual(files.map((f) => f.isOpen), [false, true, true]);
      for (const f of files) f.release();
      assert.equal(openFileCount(), 0);
    } finally {
      setMaxOpenFiles(DEFAULT_MAX_OPEN_FILES);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
