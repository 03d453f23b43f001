/**
 * Micro-benchmarks of the format's hot functions, with mitata (which runs on Deno and Bun):
 * CRC-32C, `encodeRecordBatch` / `decodeRecordBatch` of 1000 records of 100 bytes, murmur2.
 *
 * Usage: `deno run -A bench/micro.ts [--out file.json]`, `bun bench/micro.ts …`. mitata's own
 * table goes to stderr; the figures (ns per call, and the throughput they imply) go to `--out` or
 * stdout as JSON.
 *
 * @module
 */
import { writeFileSync } from "node:fs";
import { bench, do_not_optimize, run } from "mitata";
import { crc32c, CRC32C_IMPLEMENTATION, decodeRecordBatch, encodeRecordBatch } from "../src/record/mod.ts";
import { murmur2 } from "../src/producer/mod.ts";
import type { RecordInput } from "../src/record/mod.ts";
import { parseArgs, runtime, runtimeVersion, scriptArgs, valueOf } from "./_common.ts";

const args = parseArgs(scriptArgs());
const NOW = 1_700_000_000_000;
const records: RecordInput[] = Array.from({ length: 1000 }, (_, i) => ({ value: valueOf(i, 100) }));
const batch = encodeRecordBatch(records, { now: NOW });
const keyed: RecordInput[] = records.map((r, i) => ({ ...r, key: valueOf(i + 5000, 16) }));
const keyedBatch = encodeRecordBatch(keyed, { now: NOW });
// Inputs rotate through 1024 windows, so that no engine can fold a constant call away.
const keys16 = Array.from({ length: 1024 }, (_, i) => valueOf(i, 16));
const values100 = Array.from({ length: 1024 }, (_, i) => valueOf(i, 100));
let k = 0;

/** Per benchmark: what one call moves, to turn ns per call into a throughput. */
const work: Record<string, { bytes: number; records: number }> = {};

function add(name: string, bytes: number, recordCount: number, fn: () => unknown): void {
  work[name] = { bytes, records: recordCount };
  bench(name, fn);
}

add(
  `crc32c, ${batch.length} B (one batch of 1000 × 100 B)`,
  batch.length,
  1000,
  () => do_not_optimize(crc32c(batch)),
);
const durableBatch = encodeRecordBatch(records.slice(0, 10), { now: NOW });
add(
  `crc32c, ${durableBatch.length} B (one batch of 10 × 100 B)`,
  durableBatch.length,
  10,
  () => do_not_optimize(crc32c(durableBatch)),
);
const mib = new Uint8Array(1 << 20).map((_, i) => (i * 131) & 0xff);
add(`crc32c, 1 MiB (${CRC32C_IMPLEMENTATION})`, mib.length, 1024, () => do_not_optimize(crc32c(mib)));
add("crc32c, 100 B", 100, 1, () => do_not_optimize(crc32c(values100[k++ & 1023])));
add(
  "encodeRecordBatch, 1000 × 100 B values",
  100_000,
  1000,
  () => do_not_optimize(encodeRecordBatch(records, { now: NOW })),
);
add(
  "encodeRecordBatch, 1000 × (16 B key, 100 B value)",
  116_000,
  1000,
  () => do_not_optimize(encodeRecordBatch(keyed, { now: NOW })),
);
add("decodeRecordBatch, 1000 × 100 B values", 100_000, 1000, () => do_not_optimize(decodeRecordBatch(batch)));
add(
  "decodeRecordBatch, 1000 × 100 B values, verify: false",
  100_000,
  1000,
  () => do_not_optimize(decodeRecordBatch(batch, 0, { verify: false })),
);
add(
  "decodeRecordBatch, 1000 × (16 B key, 100 B value)",
  116_000,
  1000,
  () => do_not_optimize(decodeRecordBatch(keyedBatch)),
);
add("murmur2, 16 B key", 16, 1, () => do_not_optimize(murmur2(keys16[k++ & 1023])));
add("murmur2, 100 B", 100, 1, () => do_not_optimize(murmur2(values100[k++ & 1023])));

const { benchmarks } = await run({ colors: false, print: (s: string) => console.error(s) });

const results = benchmarks.map((trial) => {
  const stats = trial.runs[0]?.stats;
  const w = work[trial.alias];
  if (!stats) return { name: trial.alias, error: String(trial.runs[0]?.error) };
  return {
    name: trial.alias,
    avgNs: stats.avg,
    p50Ns: stats.p50,
    p99Ns: stats.p99,
    samples: stats.samples.length,
    mbPerSec: w.bytes / stats.avg * 1e3,
    recordsPerSec: w.records / stats.avg * 1e9,
  };
});
const json = JSON.stringify({ runtime, version: runtimeVersion(), micro: results }, null, 1);
if (args.has("out")) writeFileSync(args.get("out")!, json);
else console.log(json);
