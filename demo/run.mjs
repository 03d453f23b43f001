#!/usr/bin/env node
// `npm run demo`: runs demo/demo.ts on Deno, ingesting the sample data into a fresh temporary log
// directory and reading it back, then on Bun with --verify-only, reading what Deno wrote. Exits
// non-zero if either run fails. The directory is removed at the end unless --keep is given.
//
// Usage: node demo/run.mjs [--keep]

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", process.platform === "win32" ? `${name}.cmd` : name);
const demo = join(root, "demo", "demo.ts");
const keep = process.argv.includes("--keep");
const dir = join(mkdtempSync(join(tmpdir(), "reel-demo-")), "log");

const steps = [
  ["deno", [bin("deno"), "run", "-A", "--quiet", demo, "--dir", dir]],
  ["bun", [bin("bun"), demo, "--dir", dir, "--verify-only"]],
];

let status = 0;
try {
  for (const [name, [cmd, ...args]] of steps) {
    const run = spawnSync(cmd, args, { cwd: root, stdio: "inherit" });
    if (run.error) {
      console.error(`demo: cannot run ${name}: ${run.error.message} (run npm ci)`);
      status = 1;
      break;
    }
    if (run.status !== 0) {
      console.error(`demo: the ${name} run failed (exit status ${run.status ?? run.signal})`);
      status = 1;
      break;
    }
    console.log("");
  }
} finally {
  if (keep) console.log(`demo: the log directory is kept: ${dir}`);
  else rmSync(dirname(dir), { recursive: true, force: true });
}
if (status === 0) console.log("demo: ok on deno and bun");
process.exitCode = status;
