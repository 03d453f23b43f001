// The runtime the tests run on (Deno, Bun or Node), and the command line that runs a TypeScript
// script on it or on another one: `deno run -A --quiet`, `bun`, or `node --import tsx` (Node runs
// the source through the tsx loader, as `node --import tsx --test` runs the tests).

import { spawn } from "node:child_process";
import * as path from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as zlib from "node:zlib";
import type { CompressionType } from "../src/record/compression.ts";

/** A runtime the suite runs on. */
export type Runtime = "deno" | "bun" | "node";

/** The runtime these tests run on. */
export const RUNTIME: Runtime = (globalThis as { Deno?: unknown }).Deno !== undefined
  ? "deno"
  : process.versions.bun !== undefined
  ? "bun"
  : "node";

/**
 * Whether this runtime's `node:zlib` has zstd (Deno, Bun, Node 22.15 and later). Node 20's has not:
 * there reel throws `UnsupportedCompressionTypeError` for zstd, and the tests check that instead.
 */
export const HAS_ZSTD: boolean =
  typeof (zlib as { zstdCompressSync?: unknown }).zstdCompressSync === "function";

/** Kafka's codec numbers this runtime can write and read: 0–4, or 0–3 without zstd. */
export const CODECS: readonly CompressionType[] = HAS_ZSTD ? [0, 1, 2, 3, 4] : [0, 1, 2, 3];

/** The repository root. */
export const ROOT: string = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/**
 * The executable of a runtime: this process's own for the runtime under test; Deno and Bun from
 * node_modules/.bin (devDependencies); Node from the PATH (npm test itself runs on it).
 */
export function runtimeExecutable(runtime: Runtime): string {
  if (runtime === RUNTIME) return process.execPath;
  if (runtime === "node") return "node";
  return path.join(ROOT, "node_modules", ".bin", process.platform === "win32" ? `${runtime}.cmd` : runtime);
}

/**
 * The command line that runs a TypeScript script with all permissions on a runtime (this one by
 * default).
 *
 * @param script the script's path
 * @param args the script's own arguments
 * @returns the executable and its arguments, for `spawn` or `spawnSync`
 */
export function scriptCommand(
  script: string,
  args: string[],
  runtime: Runtime = RUNTIME,
): [string, string[]] {
  const bin = runtimeExecutable(runtime);
  switch (runtime) {
    case "deno":
      return [bin, ["run", "-A", "--quiet", script, ...args]];
    case "bun":
      return [bin, [script, ...args]];
    case "node":
      // The loader by absolute URL, so a child started in another directory finds it too.
      return [bin, ["--import", tsxLoader(), script, ...args]];
  }
}

function tsxLoader(): string {
  return pathToFileURL(path.join(ROOT, "node_modules", "tsx", "dist", "loader.mjs")).href;
}

/**
 * Every item of an async iterable (a `ReadableStream`), in order: `Array.fromAsync`, which Node 20
 * does not have (it came in Node 22).
 */
export async function toArray<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/**
 * Runs a command without blocking the event loop (a broker may run in this process), with `input`
 * on its stdin, and collects what it prints.
 *
 * @param command the executable
 * @param args its arguments
 * @param input what it reads on stdin (then end of file)
 * @returns its exit status and its output, as text
 */
export function runCommand(
  command: string,
  args: string[],
  input = "",
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "", stderr = "";
    child.stdout.on("data", (d) => stdout += d);
    child.stderr.on("data", (d) => stderr += d);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(input);
  });
}
