// Deno run with fewer than all permissions (`--allow-read --allow-write`, or both limited to a
// directory) resolves every symbolic link of a path before it opens it, O_NOFOLLOW or not (Deno
// 2.9). reel run that way must keep the promise hostile_files_test.ts checks with every permission:
// a symbolic link in the place of any file reel keeps is refused or left alone, its target outside
// the log directory never written, no segment cut, nothing deleted. Each case runs a Deno child
// (`_hostile_child.ts`) on a log with one planted link, whatever runtime runs this file.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { describe, test } from "node:test";
import { type Outcome, POSITIONS, withPlantedEntry } from "./_hostile.ts";
import { ROOT } from "./_helpers.ts";

const CHILD = path.join(ROOT, "tests/durability/_hostile_child.ts");
const DENO = path.join(ROOT, "node_modules/.bin/deno");

/** The permission sets, each short of all: unlimited read and write, and both limited to the sandbox. */
const PERMISSIONS: { name: string; flags: (sandbox: string) => string[] }[] = [
  { name: "--allow-read --allow-write", flags: () => ["--allow-read", "--allow-write"] },
  {
    name: "read and write limited to a directory",
    flags: (s) => [`--allow-read=${s}`, `--allow-write=${s}`],
  },
];

function runChild(flags: string[], dir: string): Outcome {
  const r = spawnSync(DENO, ["run", "--quiet", ...flags, CHILD, dir], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
    timeout: 60_000,
  });
  assert.equal(r.status, 0, `the Deno child failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").at(-1)!);
}

describe("a symbolic link in reel's files, under Deno with fewer than all permissions", () => {
  for (const position of POSITIONS) {
    for (const permissions of PERMISSIONS) {
      test(`a symbolic link as ${position.name}, ${permissions.name}: refused or left alone, its target untouched`, async () => {
        await withPlantedEntry(
          position,
          "symlink",
          (dir, sandbox) => runChild(permissions.flags(sandbox), dir),
        );
      });
    }
  }
});
