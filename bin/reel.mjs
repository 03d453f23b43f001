#!/usr/bin/env node
// The `reel` command as installed through package.json `bin`.
//
// - Installed from the npm package (dist/ is there, src/ is not): the CLI built by `npm run build`
//   (dist/src/cli/main.js) runs in this Node process. REEL_RUNTIME=deno or =bun runs that same
//   JavaScript on Deno (`deno run -A`) or Bun instead.
// - In a checkout of the repository (src/cli/main.ts is there): src/cli/main.ts runs on Deno, or on
//   Bun when REEL_RUNTIME=bun, or the built dist/ on Node when REEL_RUNTIME=node (after
//   `npm run build`).
//
// A runtime binary is looked up in node_modules/.bin from the package directory upwards (npm installs
// deno and bun there), then on PATH. Stdio is inherited and the exit status passed through.

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const source = join(pkgDir, "src", "cli", "main.ts");
const built = join(pkgDir, "dist", "src", "cli", "main.js");
const checkout = existsSync(source);
const runtime = process.env.REEL_RUNTIME ?? (checkout ? "deno" : "node");
const args = process.argv.slice(2);

if (runtime === "node") {
  if (!existsSync(built)) {
    process.stderr.write(`reel: ${built} is missing: run \`npm run build\` first\n`);
    process.exit(1);
  }
  const { main } = await import(pathToFileURL(built).href);
  process.exit(await main(args));
} else {
  run(runtime, checkout ? source : built);
}

function findBinary(name) {
  const file = process.platform === "win32" ? `${name}.cmd` : name;
  for (let dir = pkgDir;; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", ".bin", file);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return name; // not installed locally: rely on PATH
  }
}

function run(runtime, main) {
  const child = spawn(
    findBinary(runtime),
    runtime === "bun" ? [main, ...args] : ["run", "-A", main, ...args],
    {
      stdio: "inherit",
    },
  );

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
}
