/**
 * A progress line on stderr, redrawn in place (`\r`) at most five times a second, shown only when
 * stderr is a terminal.
 *
 * @module
 */
import process from "node:process";
import { stderrIsTerminal } from "./stdio.ts";

/**
 * Redraws one status line on stderr while work goes on.
 *
 * @example A status line, only on a terminal
 * ```ts
 * import assert from "node:assert/strict";
 * import { NoProgress, ProgressLine } from "./progress.ts";
 * import { stderrIsTerminal } from "./stdio.ts";
 * let records = 0;
 * const progress = ProgressLine.start(() => `${records} records`);
 * assert.ok(progress instanceof (stderrIsTerminal() ? ProgressLine : NoProgress));
 * for (let i = 0; i < 1000; i++) records++;
 * progress.stop(); // stops the timer: nothing keeps the process alive
 * ```
 */
export class ProgressLine {
  #timer: ReturnType<typeof setInterval> | undefined;
  #shown = false;

  private constructor(readonly render: () => string, intervalMs: number) {
    this.#timer = setInterval(() => this.#draw(), intervalMs);
  }

  /**
   * Starts redrawing, if stderr is a terminal.
   *
   * @param render returns the current status text
   * @param intervalMs ms between redraws; at least 200
   * @returns the progress line (a no-op when stderr is not a terminal)
   */
  static start(render: () => string, intervalMs = 200): ProgressLine | NoProgress {
    if (!stderrIsTerminal()) return new NoProgress();
    return new ProgressLine(render, Math.max(200, intervalMs));
  }

  #draw(): void {
    const columns = (process.stderr as { columns?: number }).columns;
    const width = columns !== undefined && columns >= 20 ? columns - 1 : 79;
    const text = this.render().slice(0, width);
    process.stderr.write(`\r${text}\x1b[K`);
    this.#shown = true;
  }

  /** Stops redrawing and erases the line. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#shown) process.stderr.write("\r\x1b[K");
    this.#shown = false;
  }
}

/** The progress line when stderr is not a terminal: does nothing. */
export class NoProgress {
  /** Does nothing. */
  stop(): void {}
}

/**
 * Formats a byte count for people: `812 B`, `2.4 MB`.
 *
 * @param bytes the count
 * @returns the text, in powers of 1000
 *
 * @example Bytes to kB, MB and GB
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatBytes } from "./progress.ts";
 * assert.equal(formatBytes(812), "812 B");
 * assert.equal(formatBytes(2_370_789), "2.4 MB");
 * assert.equal(formatBytes(1_000), "1.0 kB");
 * assert.equal(formatBytes(5e12), "5.0 TB");
 * ```
 */
export function formatBytes(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let n = bytes;
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return i === 0 ? `${n} B` : `${n.toFixed(1)} ${units[i]}`;
}
