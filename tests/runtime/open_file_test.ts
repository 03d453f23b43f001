// openFile / openFileAndSize (src/runtime/open_file.ts), the one way reel opens a file: every mode
// on a regular file, a missing one, a symbolic link to a file, a dangling one and a directory, in
// this process and in a Deno child with fewer than all permissions (where Deno 2.9 resolves
// symbolic links before it opens a path, O_NOFOLLOW or not). A link is refused and its target left
// as it was; a directory is refused; only a regular file is opened, emptied or created.

import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, test } from "node:test";
import { openFile } from "../../src/runtime/file_system.ts";
import { expectedOutcomes, openFileOutcomes, prepareCases } from "./_open_file_cases.ts";

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
const DENO = path.join(ROOT, "node_modules/.bin/deno");
const CHILD = path.join(ROOT, "tests/runtime/_open_file_child.ts");

function withDir(fn: (dir: string) => void): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-open-file-"));
  try {
    fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe("openFile", () => {
  test("in this process: every mode on every kind of entry", () => {
    withDir((dir) => {
      prepareCases(dir);
      assert.deepEqual(openFileOutcomes(dir), expectedOutcomes());
    });
  });

  for (
    const [name, flags] of [
      ["--allow-read --allow-write", () => ["--allow-read", "--allow-write"]],
      [
        "read and write limited to a directory",
        (dir: string) => [`--allow-read=${dir}`, `--allow-write=${dir}`],
      ],
    ] as const
  ) {
    test(`in Deno with ${name}: the same, links refused and never followed`, () => {
      withDir((dir) => {
        prepareCases(dir);
        const r = spawnSync(DENO, ["run", "--quiet", ...flags(dir), CHILD, dir], {
          cwd: ROOT,
          encoding: "utf8",
          env: { ...process.env, NO_COLOR: "1" },
          timeout: 60_000,
        });
        assert.equal(r.status, 0, `the Deno child failed: ${r.stderr}`);
        assert.deepEqual(JSON.parse(r.stdout), expectedOutcomes());
      });
    });
  }
});

describe("openFile while another process replaces the file", () => {
  test("a file replaced by renames while it is opened again and again is always opened, never refused", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-open-file-"));
    try {
      const name = path.join(dir, "state.json");
      fs.writeFileSync(name, "0");
      // A Node child replaces the file by a rename about every 50 µs for 1.5 s (as a lock taken
      // over, or a state file rewritten atomically, is replaced).
      const child = spawn("node", [
        "-e",
        `const fs = require("node:fs");
         const end = Date.now() + 1500; let n = 0;
         while (Date.now() < end) {
           fs.writeFileSync(${JSON.stringify(name + ".tmp")}, String(n));
           fs.renameSync(${JSON.stringify(name + ".tmp")}, ${JSON.stringify(name)});
           n++;
           const t = performance.now() + 0.05; while (performance.now() < t);
         }
         console.log(n);`,
      ], { stdio: ["ignore", "pipe", "inherit"] });
      let out = "";
      child.stdout.on("data", (d) => out += d);
      const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
      const errors: string[] = [];
      let opens = 0;
      const end = Date.now() + 1000;
      while (Date.now() < end) {
        try {
          fs.closeSync(openFile(name, "r"));
        } catch (err) {
          errors.push(String(err));
        }
        opens++;
      }
      await exited;
      assert.deepEqual(errors.slice(0, 3), [], `${errors.length} of ${opens} opens failed`);
      assert.ok(opens > 1000, `only ${opens} opens`);
      assert.ok(Number(out) > 1000, `the child replaced the file ${out.trim()} times`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
