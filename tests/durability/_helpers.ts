// Helpers shared by the durability tests (and by tests/fuzz/): temporary directories, reading a
// partition back record by record, content hashes, segment scans, file snapshots, and starting a
// child process on the runtime the tests run on.

import { Buffer } from "node:buffer";
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import fc from "fast-check";
import type { RecordHeader } from "../../mod.ts";
import { decodeRecordBatch, type Record } from "../../src/record/mod.ts";
import type { PartitionLog } from "../../src/log/mod.ts";
import { type FileOperation, type InjectedFault, setFaultInjector } from "../../src/runtime/file_system.ts";
import { ROOT, RUNTIME, scriptCommand } from "../_runtime.ts";

export { ROOT, RUNTIME };

/** Runs `fn` with a fresh temporary directory, removed afterwards whatever happens. */
export async function withTempDir<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `reel-${prefix}-`));
  try {
    return await fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** An integer from an environment variable, or `fallback`. */
export function envInt(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === "") return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${name}=${text}: expected a whole number`);
  return n;
}

/**
 * REEL_STRESS: a whole-number multiplier (default 1) of the runs, rounds and seeds of the property and
 * crash tests (and of their timeouts), for a stress campaign; this is its only reader. At 1 every test
 * runs exactly its own counts.
 */
export const STRESS: number = envInt("REEL_STRESS", 1);
if (STRESS < 1) throw new RangeError(`REEL_STRESS=${STRESS}: expected 1 or more`);

/** `n` (a test's runs, rounds or timeout) times {@linkcode STRESS}. */
export function stress(n: number): number {
  return n * STRESS;
}

/** A crash test's rounds: {@linkcode envInt} of `name` (or `fallback`) times {@linkcode STRESS}. */
export function envRounds(name: string, fallback: number): number {
  return stress(envInt(name, fallback));
}

/** The parts of a record whose bytes must survive: key, value, headers, timestamp. */
export interface RecordContent {
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: readonly RecordHeader[];
  timestamp: number;
}

function hashField(h: ReturnType<typeof createHash>, bytes: Uint8Array | null): void {
  const len = Buffer.alloc(4);
  len.writeInt32BE(bytes === null ? -1 : bytes.length);
  h.update(len);
  if (bytes !== null) h.update(bytes);
}

/** A SHA-256 (first 16 hex digits) over a record's key, value, headers and timestamp. */
export function recordHash(r: RecordContent): string {
  const h = createHash("sha256");
  hashField(h, r.key);
  hashField(h, r.value);
  hashField(h, new TextEncoder().encode(String(r.headers.length)));
  for (const header of r.headers) {
    hashField(h, new TextEncoder().encode(header.key));
    hashField(h, header.value);
  }
  hashField(h, new TextEncoder().encode(String(r.timestamp)));
  return h.digest("hex").slice(0, 16);
}

/**
 * Every record of a partition log from its log start offset to its high watermark, through
 * `read()` and `decode()` (CRC checked), with a guard against reads that do not advance.
 */
export function readLog(log: PartitionLog, from = log.logStartOffset): Record[] {
  const out: Record[] = [];
  let offset = from;
  let cursor;
  let steps = 0;
  while (offset < log.highWatermark) {
    if (++steps > 1_000_000) throw new Error(`readLog: no progress at offset ${offset}`);
    const data = log.read(offset, 1 << 16, cursor);
    if (!data) break;
    const records = log.decode(data, offset);
    for (const r of records) out.push({ ...r, key: r.key?.slice() ?? null, value: r.value?.slice() ?? null });
    if (data.next.offset <= offset) throw new Error(`readLog: read at ${offset} did not advance`);
    cursor = data.next;
    offset = data.next.offset;
  }
  return out;
}

/** A batch found by a plain scan of a `.log` file. */
export interface ScannedBatch {
  position: number;
  size: number;
  baseOffset: number;
  lastOffset: number;
  records: Record[];
}

/** Scans `.log` bytes from the start, keeping each batch that decodes (CRC checked) until the first that does not. */
export function scanValidBatches(bytes: Uint8Array, expectedBase?: number): ScannedBatch[] {
  const out: ScannedBatch[] = [];
  let position = 0;
  let next = expectedBase;
  while (position + 61 <= bytes.length) {
    let decoded;
    try {
      decoded = decodeRecordBatch(bytes, position);
    } catch {
      break;
    }
    const { header, records } = decoded;
    if (next !== undefined && header.baseOffset !== next) break;
    if (header.lastOffsetDelta < 0) break;
    const size = header.batchLength + 12;
    const lastOffset = header.baseOffset + header.lastOffsetDelta;
    out.push({ position, size, baseOffset: header.baseOffset, lastOffset, records });
    next = lastOffset + 1;
    position += size;
  }
  return out;
}

/** The `.log` files of a partition directory, oldest first. */
export function segmentFiles(partitionDir: string): string[] {
  return fs.readdirSync(partitionDir).filter((f) => /^\d{20}\.log$/.test(f)).sort().map((f) =>
    path.join(partitionDir, f)
  );
}

/** The bytes of every file under `dir` (recursively), by relative path. */
export function snapshot(dir: string): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const name = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(name);
      else files.set(name, new Uint8Array(fs.readFileSync(path.join(dir, name))));
    }
  };
  walk("");
  return files;
}

/** Makes `dir` hold exactly the files of a {@linkcode snapshot}. */
export function restore(dir: string, files: Map<string, Uint8Array>): void {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of files) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), bytes);
  }
}

/** The command line that runs a script on this runtime. */
export function runtimeCommand(script: string, args: string[]): [string, string[]] {
  return scriptCommand(script, args);
}

/** Quotes a word for `bash -c`. */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** A child process whose stdout is read line by line. */
export interface LineChild {
  child: ChildProcess;
  /** Resolves with the next stdout line, or `null` at the end of stdout. */
  nextLine(): Promise<string | null>;
  /** Resolves with the exit code and signal once the process is gone and its output read. */
  exited: Promise<{ code: number | null; signal: string | null; stderr: string }>;
}

/** Starts `cmd args` with stdin, stdout and stderr piped; stdout is split into lines. */
export function spawnLines(cmd: string, args: string[], env: { [k: string]: string } = {}): LineChild {
  const child = spawn(cmd, args, {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: "1", ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const waiters: ((line: string | null) => void)[] = [];
  let partial = "";
  let ended = false;
  const push = (line: string | null) => {
    const w = waiters.shift();
    if (w) w(line);
    else if (line !== null) lines.push(line);
  };
  child.stdout!.setEncoding("utf8");
  child.stdout!.on("data", (chunk: string) => {
    partial += chunk;
    let i;
    while ((i = partial.indexOf("\n")) >= 0) {
      push(partial.slice(0, i));
      partial = partial.slice(i + 1);
    }
  });
  let stderr = "";
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (chunk: string) => stderr += chunk);
  child.stdin!.on("error", () => {});
  const stdoutDone = new Promise<void>((resolve) => child.stdout!.on("end", resolve));
  const stderrDone = new Promise<void>((resolve) => child.stderr!.on("end", resolve));
  stdoutDone.then(() => {
    ended = true;
    // A last line without a newline is dropped: it may be a line cut by a kill.
    while (waiters.length) waiters.shift()!(null);
  });
  const exited = new Promise<{ code: number | null; signal: string | null; stderr: string }>(
    (resolve, reject) => {
      child.on("error", reject);
      child.on("exit", (code, signal) => {
        Promise.all([stdoutDone, stderrDone]).then(() => resolve({ code, signal, stderr }));
      });
    },
  );
  return {
    child,
    nextLine() {
      if (lines.length) return Promise.resolve(lines.shift()!);
      if (ended) return Promise.resolve(null);
      return new Promise((resolve) => waiters.push(resolve));
    },
    exited,
  };
}

/** A small seeded PRNG (mulberry32), so a failing round can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * fast-check parameters: `numRuns` (times {@linkcode STRESS}), and a replay of a failure when
 * REEL_FC_SEED (and REEL_FC_PATH) are set to the seed and path fast-check printed.
 */
export function fcParams(
  numRuns: number,
): { numRuns: number; seed?: number; path?: string; endOnFailure?: boolean } {
  const seed = process.env.REEL_FC_SEED;
  if (seed === undefined || seed === "") return { numRuns: stress(numRuns) };
  return {
    numRuns: stress(numRuns),
    seed: Number(seed),
    path: process.env.REEL_FC_PATH || undefined,
    endOnFailure: true,
  };
}

/**
 * Simulates a power loss through the file layer's fault-injection seam: it watches every data
 * sync, and `apply()` puts each `.log` file back to the length its last *completed* fdatasync
 * covered (the length when that sync was called). Syncs that complete after `powerOff()` do not
 * count. A `fail` hook may make chosen operations fail meanwhile.
 */
export class PowerLoss {
  readonly #pending = new Map<number, { key: string; size: number }[]>();
  readonly #durable = new Map<string, number>();
  #on = true;

  constructor(readonly fail?: (op: FileOperation) => InjectedFault | undefined) {}

  /** Starts watching (installs the fault injector). */
  install(): this {
    setFaultInjector((op) => {
      const fault = this.fail?.(op);
      if (fault !== undefined || !this.#on) return fault; // a failed sync makes nothing durable
      if (op.op === "sync") {
        const st = fs.fstatSync(op.fd);
        const queue = this.#pending.get(op.fd) ?? [];
        queue.push({ key: `${st.dev}:${st.ino}`, size: st.size });
        this.#pending.set(op.fd, queue);
      } else if (op.op === "synced") {
        const done = this.#pending.get(op.fd)?.shift();
        if (done) this.#durable.set(done.key, Math.max(this.#durable.get(done.key) ?? 0, done.size));
      }
      return undefined;
    });
    return this;
  }

  /** Resolves once every data sync called so far has completed (or failed). */
  async quiesce(): Promise<void> {
    for (let i = 0; [...this.#pending.values()].some((q) => q.length > 0); i++) {
      if (i > 10_000) throw new Error("PowerLoss: data syncs never completed");
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  /** The power goes: no sync completing from now on makes anything durable. */
  powerOff(): void {
    this.#on = false;
  }

  /** Stops watching (removes the fault injector). */
  uninstall(): void {
    setFaultInjector(undefined);
  }

  /** The length of `file` that its completed syncs made durable. */
  durableSize(file: string): number {
    const st = fs.statSync(file);
    return this.#durable.get(`${st.dev}:${st.ino}`) ?? 0;
  }
}

/**
 * A number in [0, 1) to pick a position with: fast-check's own doubles favour 0 and tiny values
 * (good edge cases, so half of these are that), the other half is spread evenly.
 */
export const fraction: fc.Arbitrary<number> = fc.oneof(
  fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
  fc.integer({ min: 0, max: 0x7fffffff }).map((seed) => prng(seed)()),
);
