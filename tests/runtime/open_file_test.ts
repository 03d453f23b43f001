// openFile / openFileAndSize (src/runtime/open_file.ts), the one way reel opens a file: every mode
// on a regular file, a missing one, a symbolic link to a file, a dangling one and a directory, in
// this process and in a Deno child with fewer than all permissions (where Deno 2.9 resolves
// symbolic links before it opens a path, O_NOFOLLOW or not). A link is refused and its target left
// as it was; a directory is refused; only a regular file is opened, emptied or created.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, test } from "node:test";
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
