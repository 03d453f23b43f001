/**
 * Watching a directory for changes made by other processes: `node:fs` `watch` (inotify, kqueue,
 * ReadDirectoryChangesW underneath; Node has it, Deno and Bun implement it), backed by a cheap timer for
 * file systems where events go missing (network mounts) or watching fails.
 *
 * @module
 */
import { fs } from "./file_system.ts";

/** Options of {@linkcode watchDirectory}. */
export interface WatchOptions {
  /** Also call `onChange` this often, ms, while the watch works (catches missed events). @default 1000 */
  fallbackMs?: number;
  /** Call `onChange` this often, ms, when the directory cannot be watched. @default 250 */
  pollMs?: number;
  /** Keep the process alive while watching, as an open socket would. @default true */
  keepAlive?: boolean;
}

/**
 * Calls `onChange` soon after anything in `dir` changes (a file created, renamed, removed or
 * written), and on a timer besides. Calls are never made synchronously from this function.
 * Unless `keepAlive` is false, the watch keeps the process alive, as an open socket would, until
 * the returned function is called.
 *
 * @param dir the directory to watch
 * @param onChange called with the changed entry's name when known
 * @param options the fallback timers
 * @returns a function that stops watching
 *
 * @example Hear about a file written by someone else
 * ```ts
 * import assert from "node:assert/strict";
 * import { rmSync, writeFileSync } from "node:fs";
 * import { join } from "node:path";
 * import { watchDirectory } from "./watch.ts";
 * const dir = Deno.makeTempDirSync();
 * const names: (string | undefined)[] = [];
 * const changed = Promise.withResolvers<void>();
 * const stop = watchDirectory(dir, (name) => {
 *   names.push(name);
 *   changed.resolve();
 * }, { fallbackMs: 50 });
 * assert.equal(names.length, 0); // never called synchronously
 * writeFileSync(join(dir, "a.txt"), "x");
 * await changed.promise;
 * stop();
 * const calls = names.length;
 * await new Promise((resolve) => setTimeout(resolve, 120));
 * assert.equal(names.length, calls); // no call after stop()
 * assert.ok(names.every((name) => name === undefined || name === "a.txt")); // undefined: the timer
 * rmSync(dir, { recursive: true });
 * ```
 */
export function watchDirectory(
  dir: string,
  onChange: (name?: string) => void,
  options: WatchOptions = {},
): () => void {
  let stopped = false;
  let watcher: { close(): void } | undefined;
  const call = (name?: string) => {
    if (!stopped) onChange(name);
  };
  try {
    const w = fs.watch(dir, { persistent: true }, (_event, name) => call(name ?? undefined));
    w.on("error", () => {
      // The directory went away, or the platform gave up: keep the timer only.
      try {
        w.close();
      } catch { /* already closed by the error: nothing left to release */ }
      if (watcher === w) {
        watcher = undefined;
        restartTimer(options.pollMs ?? 250, true);
      }
    });
    watcher = w;
    if (options.keepAlive === false) (w as unknown as { unref?: () => void }).unref?.();
  } catch {
    watcher = undefined; // this file system cannot be watched: the poll timer below does it all
  }
  let timer: ReturnType<typeof setInterval> | undefined;
  const restartTimer = (ms: number, keepAlive: boolean) => {
    if (timer !== undefined) clearInterval(timer);
    if (stopped) return;
    timer = setInterval(() => call(), ms);
    // With a working watch the watch keeps the process alive; the timer only backs it up.
    if (!keepAlive || options.keepAlive === false) (timer as unknown as { unref?: () => void }).unref?.();
  };
  if (watcher) restartTimer(options.fallbackMs ?? 1000, false);
  else restartTimer(options.pollMs ?? 250, true);
  return () => {
    if (stopped) return;
    stopped = true;
    if (timer !== undefined) clearInterval(timer);
    try {
      watcher?.close();
    } catch { /* already closed after an error: nothing left to release */ }
    watcher = undefined;
  };
}
