// A file's status, the fast way on Deno (Deno's own calls; an open file's through /proc/self/fd
// when every permission is granted) and node:fs's elsewhere, keeps every safety property: see
// _file_status_checks.ts.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileStatusSource } from "../../src/runtime/file_system.ts";
import { ROOT, RUNTIME, runtimeExecutable } from "../_runtime.ts";
import { checkFileStatus, FIFO } from "./_file_status_checks.ts";

/** A new directory holding a named pipe ({@linkcode FIFO}), for `checkFileStatus`. */
function fixture(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-status-"));
  assert.equal(spawnSync("mkfifo", [path.join(dir, FIFO)]).status, 0, "mkfifo");
  return dir;
}

describe("a file's status keeps the safety properties", () => {
  test("in this process", () => {
    const dir = fixture();
    try {
      checkFileStatus(dir);
      const linuxDenoAll = RUNTIME === "deno" && process.platform === "linux";
      // Deno's tests run with -A: an open file's status comes from /proc/self/fd there.
      assert.equal(fileStatusSource(), linuxDenoAll ? "/proc/self/fd" : "node:fs");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  test(
    "on Deno without every permission: an open file's status from node:fs",
    { skip: RUNTIME !== "deno" },
    () => {
      const dir = fixture();
      try {
        const script = path.join(ROOT, "tests/runtime/_file_status_child.ts");
        const r = spawnSync(runtimeExecutable("deno"), [
          "run",
          "--quiet",
          "--allow-read", // unscoped (symlinkSync needs it), yet not every permission
          "--allow-write",
          script,
          dir,
        ], { encoding: "utf8", timeout: 60_000 });
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout.trim(), "node:fs");
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
