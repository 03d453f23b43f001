#!/usr/bin/env node
// The `reel` command as installed through package.json `bin`: a small Node launcher that runs
// src/cli/main.ts on Deno (`deno run -A`), or on Bun when REEL_RUNTIME=bun, with stdio inherited and
// the exit status passed through. The runtime binary is looked up in node_modules/.bin from the package
// directory upwards (npm installs deno and bun there), then on PATH.

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const main = join(pkgDir, "src", "cli", "main.ts");
const runtime = process.env.REEL_RUNTIME === "bun" ? "bun" : "deno";

function findBinary(name) {
  const file = process.platform === "win32" ? `${name}.cmd` : name;
  for (let dir = pkgDir;; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", ".bin", file);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return name; // not installed locally: rely on PATH
  }
}

const args = runtime === "bun"
  ? [main, ...process.argv.slice(2)]
  : ["run", "-A", main, ...process.argv.slice(2)];
const child = spawn(findBinary(runtime), args, { stdio: "inherit" });

// Ctrl-C reaches the child directly (same process group): the launcher only waits for it to exit.
// SIGTERM and SIGHUP sent to the launcher alone are passed on.
process.on("SIGINT", () => {});
for (const signal of ["SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));

child.on("error", (err) => {
  process.stderr.write(`reel: cannot start ${runtime}: ${err.message}\n`);
  process.exit(1);
});
child.on("exit", (code, signal) => {
  if (signal) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  } else {
    process.exit(code ?? 1);
  }
});
