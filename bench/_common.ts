/**
 * What every benchmark script shares: the runtime's name, temporary directories, the records
 * (the same bytes for reel, the limit and the peers), timing and percentiles, RSS sampling.
 *
 * @module
 */
import * as fs from "node:fs";
import * as os from "node:os";
import { join } from "node:path";

/** The runtime running this script. */
export const runtime: "deno" | "bun" | "node" = "Deno" in globalThis
  ? "deno"
  : "Bun" in globalThis
  ? "bun"
  : "node";

/** The runtime's version string, e.g. `deno 2.9.6`. */
export function runtimeVersion(): string {
  const g = globalThis as unknown as {
    Deno?: { version: { deno: string; v8: string } };
    Bun?: { version: string };
  };
  if (g.Deno) return `deno ${g.Deno.version.deno} (V8 ${g.Deno.version.v8})`;
  if (g.Bun) return `bun ${g.Bun.version} (JavaScriptCore)`;
  return `node ${process.version}`;
}

/** Parses `--name value` and `--flag` arguments. */
export function parseArgs(argv: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) continue;
    const next = argv[i + 1];
    if (next !== undefined && !next.startsWith("--")) {
      out.set(a.slice(2), next);
      i++;
    } else out.set(a.slice(2), "true");
  }
  return out;
}

/** The script's arguments on either runtime. */
export function scriptArgs(): string[] {
  const g = globalThis as unknown as { Deno?: { args: string[] } };
  return g.Deno ? g.Deno.args : process.argv.slice(2);
}

/** Makes a fresh directory under `os.tmpdir()`; {@linkcode removeTempDirs} removes it. */
const made: string[] = [];
export function tempDir(label: string): string {
  const dir = fs.mkdtempSync(join(os.tmpdir(), `reel-bench-${label}-`));
  made.push(dir);
  return dir;
}

/** Removes one directory made by {@linkcode tempDir}. */
export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
  const i = made.indexOf(dir);
  if (i >= 0) made.splice(i, 1);
}

/** Removes every directory made by {@linkcode tempDir} and not removed yet. */
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * 1 MiB of pseudo-random bytes (xorshift, fixed seed): values are windows into it. Made on first
 * use, so that a process that only reads (bench/_memory_reader.ts) does not hold it.
 */
let pool: Uint8Array | undefined;

function makePool(): Uint8Array {
  const pool = new Uint8Array(1 << 20);
  let x = 0x9e3779b9;
  for (let i = 0; i < pool.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    pool[i] = x & 0xff;
  }
  return pool;
}

/**
 * The value of record `i`: `size` bytes, a window into the random pool (a view, not a copy), so
 * that every store gets the same, incompressible bytes.
 */
export function valueOf(i: number, size: number): Uint8Array {
  const bytes = pool ??= makePool();
  const start = (i * 7919) % (bytes.length - size);
  return bytes.subarray(start, start + size);
}

/** `count` records of `size`-byte values, as batches of `batch` values. */
export function valueBatches(count: number, size: number, batch: number): Uint8Array[][] {
  const out: Uint8Array[][] = [];
  for (let i = 0; i < count; i += batch) {
    const n = Math.min(batch, count - i);
    const values = new Array<Uint8Array>(n);
    for (let j = 0; j < n; j++) values[j] = valueOf(i + j, size);
    out.push(values);
  }
  return out;
}

/** Milliseconds, monotonic. */
export const now = (): number => performance.now();

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A throughput: records and payload (value) bytes per second. */
export interface Rate {
  /** Records per second. */
  recordsPerSec: number;
  /** Value bytes per second, in MB (10^6 bytes). */
  mbPerSec: number;
  /** Wall time, ms. */
  ms: number;
  /** Records moved. */
  records: number;
}

/** The rate of moving `records` records of `size`-byte values in `ms`. */
export function rate(records: number, size: number, ms: number): Rate {
  const s = ms / 1000;
  return { recordsPerSec: records / s, mbPerSec: (records * size) / s / 1e6, ms, records };
}

/** Times `fn` once, returning its wall time in ms. */
export async function time(fn: () => unknown): Promise<number> {
  const t = now();
  await fn();
  return now() - t;
}

/** Percentiles of a sample, in the sample's unit. */
export interface Percentiles {
  /** Sample count. */
  n: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

/** p50, p99, p99.9, max and mean of `values` (sorted in place). */
export function percentiles(values: Float64Array | number[]): Percentiles {
  const v = values instanceof Float64Array ? values : Float64Array.from(values);
  v.sort();
  const at = (q: number) => v.length === 0 ? NaN : v[Math.min(v.length - 1, Math.floor(q * v.length))];
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i];
  return {
    n: v.length,
    p50: at(0.5),
    p99: at(0.99),
    p999: at(0.999),
    max: v[v.length - 1],
    mean: sum / v.length,
  };
}

/** Peak RSS seen by {@linkcode sampleRss}, bytes. */
let peakRss = 0;

/** Records the current RSS in the peak; returns it (bytes). */
export function sampleRss(): number {
  const rss = process.memoryUsage.rss();
  if (rss > peakRss) peakRss = rss;
  return rss;
}

/** Resets the peak RSS to the current RSS and returns it. */
export function resetPeakRss(): number {
  peakRss = 0;
  return sampleRss();
}

/** The peak RSS since the last reset, bytes. */
export function getPeakRss(): number {
  return peakRss;
}

/** Asks the engine for a full GC, where the runtime exposes one. */
export function collectGarbage(): void {
  const g = globalThis as unknown as { Bun?: { gc(sync: boolean): void }; gc?: () => void };
  if (g.Bun) g.Bun.gc(true);
  else g.gc?.();
}

/** Progress to stderr (stdout stays clean). */
export function log(...parts: unknown[]): void {
  console.error(`[${runtime}]`, ...parts);
}

/**
 * Replaces the text between `<!-- NAME:start -->` and `<!-- NAME:end -->` in a file (RESULTS.md,
 * README.md) with `content`. When the markers are missing, the section is appended under `heading`,
 * or, without one, that is an error.
 */
export function replaceSection(file: string, name: string, content: string, heading?: string): void {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const text = fs.readFileSync(file, "utf8");
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  const section = `${start}\n${content}\n${end}`;
  if (a >= 0 && b > a) {
    fs.writeFileSync(file, text.slice(0, a) + section + text.slice(b + end.length));
  } else if (heading !== undefined) {
    fs.writeFileSync(file, `${text.trimEnd()}\n\n## ${heading}\n\n${section}\n`);
  } else {
    throw new Error(`${file} has no ${start} ... ${end} section`);
  }
}
