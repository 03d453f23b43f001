/**
 * This process's limit on open files (`RLIMIT_NOFILE`, what `ulimit -n` sets), from which the
 * per-process bounds on open segment files (`file_handle_cache.ts`) and on writer roles
 * (`log/writer_roles.ts`) take their defaults: a process allowed 1024 files keeps the small bounds,
 * one allowed a million (a container's or a systemd service's usual limit) writes as many
 * partitions as Kafka's broker would.
 *
 * Node, Deno and Bun have no call for it; Linux shows it in `/proc/self/limits`. Elsewhere it is
 * unknown, and the bounds keep their floors.
 *
 * @module
 */
import fs from "node:fs";

/**
 * The soft limit on open files from the text of `/proc/<pid>/limits`.
 *
 * @param text the file's text
 * @returns the limit (`Infinity` for "unlimited"), or `undefined` when the line is missing or bad
 * @example The line Linux writes
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseOpenFileLimit } from "./open_file_limit.ts";
 * const text = "Limit                     Soft Limit           Hard Limit           Units     \n" +
 *   "Max open files            1024                 524288               files     \n";
 * assert.equal(parseOpenFileLimit(text), 1024);
 * assert.equal(parseOpenFileLimit("Max open files  unlimited  unlimited  files\n"), Infinity);
 * assert.equal(parseOpenFileLimit("Max processes  63476  63476  processes\n"), undefined);
 * ```
 */
export function parseOpenFileLimit(text: string): number | undefined {
  const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(text);
  if (m === null) return undefined;
  return m[1] === "unlimited" ? Infinity : Number(m[1]);
}

/** The limit {@linkcode openFileLimit} read; `null` until it has. */
let cached: number | undefined | null = null;

/**
 * This process's soft limit on open files, read once.
 *
 * @returns the limit, or `undefined` where the system does not show it (not Linux)
 * @example Known on Linux
 * ```ts
 * import assert from "node:assert/strict";
 * import { openFileLimit } from "./open_file_limit.ts";
 * const limit = openFileLimit();
 * if (Deno.build.os === "linux") assert.ok(limit !== undefined && limit >= 1);
 * ```
 */
export function openFileLimit(): number | undefined {
  if (cached === null) {
    try {
      cached = parseOpenFileLimit(fs.readFileSync("/proc/self/limits", "utf8"));
    } catch {
      cached = undefined; // no /proc (macOS, Windows): the bounds keep their floors
    }
  }
  return cached;
}

/**
 * A default bound for `files` per process: the larger of `floor` and the open-file limit divided
 * by `divisor` (so that the bounds together leave most of the limit to the application).
 *
 * @param floor the bound where the limit is unknown or small
 * @param divisor the share of the limit the bound may take
 * @param limit the open-file limit ({@linkcode openFileLimit}), or `undefined` when unknown
 * @returns a whole number of at least `floor`
 * @example Under `ulimit -n 1024` the floor; under a million, an eighth of it
 * ```ts
 * import assert from "node:assert/strict";
 * import { boundFromLimit } from "./open_file_limit.ts";
 * assert.equal(boundFromLimit(128, 8, 1024), 128);
 * assert.equal(boundFromLimit(128, 8, 1_048_576), 131_072);
 * assert.equal(boundFromLimit(128, 8, undefined), 128); // not Linux
 * assert.equal(boundFromLimit(128, 8, Infinity), 131_072);
 * ```
 */
export function boundFromLimit(floor: number, divisor: number, limit: number | undefined): number {
  if (limit === undefined) return floor;
  // "unlimited" is taken as a million files, a container's usual limit.
  return Math.max(floor, Math.floor(Math.min(limit, UNLIMITED_FILES) / divisor));
}

/** What an "unlimited" open-file limit counts as. */
const UNLIMITED_FILES = 1 << 20;
