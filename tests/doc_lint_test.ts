// `deno doc --lint` on every entry point the package exports (deno.json `exports`): each exported
// symbol has a doc comment, and no public type refers to one the entry point does not export
// (issue 9's and issue 13's "docs that lint"). `deno doc` must also print no warnings: a type it
// cannot resolve is documented as `any` on JSR.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const deno = join(root, "node_modules", ".bin", process.platform === "win32" ? "deno.cmd" : "deno");
const exports: Record<string, string> = JSON.parse(readFileSync(join(root, "deno.json"), "utf8")).exports;

test("deno doc --lint is clean and silent on every exported entry point", () => {
  const entryPoints = Object.values(exports);
  assert.ok(entryPoints.length >= 2, "deno.json exports the package's entry points");
  const run = spawnSync(deno, ["doc", "--lint", ...entryPoints], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
  });
  const output = `${run.stdout}\n${run.stderr}`;
  assert.equal(run.status, 0, output);
  assert.doesNotMatch(output, /warning/i, output);
  assert.doesNotMatch(output, /error/i, output);
});
