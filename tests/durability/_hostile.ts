// Shared by hostile_files_test.ts and restricted_deno_test.ts: a log to plant hostile entries in,
// the places of the files reel keeps, and what a hostile entry must leave behind.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Consumer, open, ReelError } from "../../mod.ts";

/** Records in the log {@linkcode makeLog} makes. */
export const RECORDS = 30;

/** A partition of 3+ segments, a group's committed offset, closed cleanly. Returns the partition's directory. */
export async function makeLog(dir: string): Promise<string> {
  const log = await open(dir);
  const topic = await log.createTopic("t", { config: { segmentBytes: 1024 } });
  for (let i = 0; i < RECORDS; i += 10) {
    await topic.append(Array.from({ length: 10 }, (_, j) => ({ value: `${"v".repeat(60)}${i + j}` })));
  }
  const consumer = new Consumer(log, { groupId: "g" });
  await consumer.commit([{ topic: "t", partition: 0, offset: 5 }]);
  await consumer.close();
  await log.close();
  return path.join(dir, "t-0");
}

export type Kind = "symlink" | "directory" | "fifo";

/** Puts an entry of `kind` at `entry` (replacing what was there); a symlink points at `target`. */
export function plant(entry: string, kind: Kind, target: string): void {
  fs.rmSync(entry, { force: true, recursive: true });
  if (kind === "symlink") fs.symlinkSync(target, entry);
  else if (kind === "directory") fs.mkdirSync(entry);
  else assert.equal(spawnSync("mkfifo", [entry]).status, 0, "mkfifo");
}

/** What the entry is now: "symlink", "directory", "fifo" or "file". */
export function kindOf(entry: string): string {
  const s = fs.lstatSync(entry);
  return s.isSymbolicLink() ? "symlink" : s.isDirectory() ? "directory" : s.isFIFO() ? "fifo" : "file";
}

/** Every .log file's bytes, by name. */
export function segments(partitionDir: string): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const name of fs.readdirSync(partitionDir).filter((n) => n.endsWith(".log")).sort()) {
    const p = path.join(partitionDir, name);
    if (fs.lstatSync(p).isFile()) out.set(name, new Uint8Array(fs.readFileSync(p)));
  }
  return out;
}

/** Opens, appends one record, reads everything, closes; any error must be one of reel's. */
export async function exercise(dir: string): Promise<{ error?: ReelError; values?: string[] }> {
  let log;
  try {
    log = await open(dir);
    const topic = log.topic("t");
    await topic.append([{ value: "after" }]);
    const values: string[] = [];
    for await (const r of topic.readable()) values.push(new TextDecoder().decode(r.value!));
    const consumer = new Consumer(log, { groupId: "g" });
    consumer.committed({ topic: "t", partition: 0 });
    await consumer.close();
    await log.close();
    return { values };
  } catch (err) {
    await log?.close().catch(() => {});
    if (!(err instanceof ReelError)) throw err;
    return { error: err };
  }
}

/** Every file reel keeps, by where it lies. */
export const POSITIONS: { name: string; entry: (dir: string, partitionDir: string) => string }[] = [
  { name: "the first (sealed) segment's .log", entry: (_, p) => path.join(p, "00000000000000000000.log") },
  {
    name: "the active segment's .log",
    entry: (_, p) => path.join(p, fs.readdirSync(p).filter((n) => n.endsWith(".log")).sort().at(-1)!),
  },
  { name: "a sealed segment's .index", entry: (_, p) => path.join(p, "00000000000000000000.index") },
  { name: "a sealed segment's .timeindex", entry: (_, p) => path.join(p, "00000000000000000000.timeindex") },
  {
    name: "the active segment's .index",
    entry: (_, p) => path.join(p, fs.readdirSync(p).filter((n) => n.endsWith(".index")).sort().at(-1)!),
  },
  {
    name: "recovery-point-offset-checkpoint",
    entry: (_, p) => path.join(p, "recovery-point-offset-checkpoint"),
  },
  { name: "log-start-offset-checkpoint", entry: (_, p) => path.join(p, "log-start-offset-checkpoint") },
  { name: ".kafka_cleanshutdown", entry: (_, p) => path.join(p, ".kafka_cleanshutdown") },
  { name: ".high-watermark", entry: (_, p) => path.join(p, ".high-watermark") },
  { name: "the writer lock .lock", entry: (_, p) => path.join(p, ".lock") },
  { name: "partition.metadata", entry: (_, p) => path.join(p, "partition.metadata") },
  { name: "the topic's config .topics/t.json", entry: (d) => path.join(d, ".topics", "t.json") },
  { name: "a committed offset", entry: (d) => path.join(d, ".groups", "g", "offsets", "t", "0.json") },
];

/** What {@linkcode exercise} gave: the error's message, or how many records were read. */
export interface Outcome {
  errorMessage?: string;
  values?: number;
}

/**
 * Asserts what a hostile entry must leave: the entry as it was, its symbolic link's target
 * unwritten, every segment whole, and an error that names the entry or every record read.
 */
export function assertUnharmed(
  entry: string,
  kind: Kind,
  target: string,
  targetBytes: Uint8Array,
  partitionDir: string,
  before: Map<string, Uint8Array>,
  outcome: Outcome,
): void {
  assert.equal(kindOf(entry), kind, "the entry is left as it was");
  assert.deepEqual(
    new Uint8Array(fs.readFileSync(target)),
    new Uint8Array(targetBytes),
    "nothing is written through a symbolic link",
  );
  const after = segments(partitionDir);
  for (const [name, bytes] of before) {
    assert.ok(after.has(name), `${name} is still there`);
    assert.deepEqual(after.get(name)!.subarray(0, bytes.length), bytes, `${name} is not cut`);
  }
  if (outcome.errorMessage !== undefined) {
    assert.match(
      outcome.errorMessage,
      new RegExp(path.basename(entry).replace(/\./g, "\\.")),
      "the error names the entry",
    );
  } else {
    // Only an entry reel can do without may be ignored: every record is still there.
    assert.equal(outcome.values, RECORDS + 1);
  }
}

/**
 * Makes a log in a fresh sandbox, puts an entry of `kind` at `position` (a symbolic link points at
 * a copy of what was there, outside the log directory), runs `use` on the log directory, and
 * asserts {@linkcode assertUnharmed} of what it gave.
 */
export async function withPlantedEntry(
  position: (typeof POSITIONS)[number],
  kind: Kind,
  use: (dir: string, sandbox: string) => Outcome | Promise<Outcome>,
): Promise<void> {
  const sandbox = fs.mkdtempSync(path.join(os.tmpdir(), "reel-hostile-"));
  try {
    const dir = path.join(sandbox, "log");
    const partitionDir = await makeLog(dir);
    const entry = position.entry(dir, partitionDir);
    // The target outside the log directory: a copy of what was there (or a small file).
    const target = path.join(sandbox, "outside");
    if (fs.existsSync(entry)) fs.copyFileSync(entry, target);
    else fs.writeFileSync(target, "outside the log directory\n");
    const targetBytes = new Uint8Array(fs.readFileSync(target));
    plant(entry, kind, target);
    const before = segments(partitionDir);
    const outcome = await use(dir, sandbox);
    assertUnharmed(entry, kind, target, targetBytes, partitionDir, before, outcome);
  } finally {
    fs.rmSync(sandbox, { recursive: true, force: true });
  }
}
