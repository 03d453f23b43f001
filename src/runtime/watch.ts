/**
 * Watching a directory for changes made by other processes: `node:fs` `watch` (inotify, kqueue,
 * ReadDirectoryChangesW underneath; Deno and Bun both implement it), backed by a cheap timer for
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
 * @example
 * ```ts
 * import { watchDirectory } from "./watch.ts";
 * const stop = watchDirectory(Deno.makeTempDirSync(), (name) => console.log("changed", name));
 * stop();
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
      } catch { /* closed */ }
      if (watcher === w) {
        watcher = undefined;
        restartTimer(options.pollMs ?? 250, true);
      }
    });
    watcher = w;
    if (options.keepAlive === false) (w as unknown as { unref?: () => void }).unref?.();
  } catch {
    watcher = undefined;
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
    } catch { /* closed */ }
    watcher = undefined;
  };
}
