// The segment file cache: a file it closed reopens by name only if it is the same file.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CachedFile, DEFAULT_MAX_OPEN_FILES, setMaxOpenFiles } from "../../src/runtime/file_handle_cache.ts";
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
});
