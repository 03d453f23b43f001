// Helpers for the consumer tests: temporary directories, children on this test's runtime, and
// waiting for a condition with a generous guard (the guard only turns a hang into a failure:
// no test passes or fails by how fast something happens).

import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { scriptCommand } from "../_runtime.ts";

export { RUNTIME } from "../_runtime.ts";

const CLI_MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../src/cli/main.ts");

/** Runs `reel <args>` (src/cli/main.ts) on this runtime and collects its output. */
export function reel(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const [bin, argv] = scriptCommand(CLI_MAIN, args);
  return new Promise((resolve, reject) => {
    const child = spawn(bin, argv, {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1" },
    });
    let stdout = "", stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), "_child.ts");

/** Children still running: killed when the test that started them ends, whatever happens. */
const children = new Set<ChildProcess>();
/** What the running test asked to close at its end, whatever happens. */
const cleanups: (() => unknown)[] = [];

/** Runs `fn` (say, `consumer.close()`) when the test's `withTempDir` ends, even after a failure. */
export function cleanup(fn: () => unknown): void {
  cleanups.push(fn);
}

/**
 * Runs `fn` with a fresh temporary directory; afterwards, whatever happens, kills the children it
 * started that still run, and removes the directory.
 */
export async function withTempDir<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `reel-consumer-${prefix}-`));
  try {
    return await fn(dir);
  } finally {
    for (const fn of cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch { /* the test's own failure is what matters */ }
    }
    const running = [...children];
    for (const child of running) child.kill("SIGKILL");
    await Promise.all(running.map((child) => new Promise((resolve) => child.once("close", resolve))));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A child process running `_child.ts` with its stdout split into lines. */
export interface Child {
  process: ChildProcess;
  lines: string[];
  /** Resolves with the first line (counting those already seen) that `match` accepts. */
  waitFor(match: (line: string) => boolean, what: string, guardMs?: number): Promise<string>;
  /** Resolves with the exit code (or signal) once the child has exited and its output is read. */
  exited: Promise<number | string>;
  stderr(): string;
}

/** Starts `_child.ts <args>` on this runtime (`deno run -A`, `bun` or `node --import tsx`). */
export function spawnChild(args: string[]): Child {
  const [bin, argv] = scriptCommand(CHILD, args);
  const child = spawn(bin, argv, { stdio: ["pipe", "pipe", "pipe"] });
  children.add(child);
  child.on("close", () => children.delete(child));
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let partial = "";
  let err = "";
  child.stdout!.setEncoding("utf8");
  child.stdout!.on("data", (chunk: string) => {
    const parts = (partial + chunk).split("\n");
    partial = parts.pop()!;
    lines.push(...parts);
    for (const w of [...waiters]) w();
  });
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (chunk: string) => (err += chunk));
  const exited = new Promise<number | string>((resolve) => {
    child.on("close", (code, signal) => {
      for (const w of [...waiters]) w();
      resolve(code ?? signal ?? -1);
    });
  });
  let exitedNow = false;
  exited.then(() => (exitedNow = true));
  return {
    process: child,
    lines,
    exited,
    stderr: () => err,
    waitFor(match, what, guardMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const line = lines.find(match);
          if (line !== undefined) {
            cleanup();
            resolve(line);
          } else if (exitedNow) {
            cleanup();
            reject(new Error(`The child exited before ${what}; stderr: ${err}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`Gave up waiting for ${what} after ${guardMs} ms; stderr: ${err}`));
        }, guardMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/**
 * Waits until `condition()` holds, re-checking every `everyMs`; throws after `guardMs` (a guard
 * against hangs, not a timing assertion).
 */
export async function eventually(
  condition: () => boolean | Promise<boolean>,
  what: string,
  guardMs = 30_000,
  everyMs = 10,
): Promise<void> {
  const deadline = Date.now() + guardMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Gave up waiting for ${what} after ${guardMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** UTF-8 text of a record value. */
export const text = (
  bytes: Uint8Array | null,
): string => (bytes === null ? "<null>" : new TextDecoder().decode(bytes));
