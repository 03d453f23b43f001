// reel → Kafka, files: Kafka's own DumpLogSegments reads the segments and indexes reel writes on
// this runtime — every codec, keys, null and empty keys and values, headers, several segments after
// rolls, after retention, after crash recovery — with every CRC valid, every record equal to what
// was appended, and `--verify-index-only` / `--index-sanity-check` clean on each `.index` and
// `.timeindex`. All scenarios are written first and DumpLogSegments runs three times over all their
// files (one JVM start each), so the file costs a few seconds.

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type CompressionType, open, type ProducerRecord, type RecordMetadata } from "../../../mod.ts";
import { compressionName, decodeRecordBatch } from "../../../src/record/mod.ts";
import { PartitionLog } from "../../../src/log/partition_log.ts";
import { idempotentBatch } from "../../_batches.ts";
import { resolveLogConfig } from "../../../src/log/log_config.ts";
import { prng, recordHash, ROOT, RUNTIME, runtimeCommand, spawnLines } from "../../durability/_helpers.ts";
import { type Dump, type DumpedRecord, dumpLogSegments } from "./dump_log_segments.ts";
import { kafkaUnavailable, runKafkaTool, toHex, TOOLS } from "./harness.ts";
import { CODECS } from "../../_runtime.ts";

const SKIP = kafkaUnavailable();
const TIMEOUT = { timeout: 240_000 };
const T0 = 1_700_000_000_000;

/** A record as DumpLogSegments shows it, built from what was appended. */
interface Expected {
  offset: number;
  timestamp: number;
  key: string | null;
  value: string | null;
  headerKeys: string[];
}

interface Scenario {
  name: string;
  topic: string;
  partitions: number;
  /** Per partition: what each offset must hold (offsets below the log start offset are left out). */
  expected: Map<number, Expected>[];
  /** Per partition: the codec every data batch must carry, if one. */
  codec?: CompressionType;
  /** Per partition: the log start offset after the scenario. */
  logStartOffsets: number[];
}

let dir = "";
let state: Promise<{ scenarios: Scenario[]; deep: Dump; verify: Dump; sanity: Dump }> | undefined;

function expectedOf(r: ProducerRecord, meta: RecordMetadata): Expected {
  const headers = r.headers === undefined || r.headers === null
    ? []
    : Array.isArray(r.headers)
    ? r.headers.map((h) => h.key)
    : Object.keys(r.headers);
  return {
    offset: meta.offset,
    timestamp: meta.timestamp,
    key: toHex(r.key ?? null),
    value: toHex(r.value),
    headerKeys: headers,
  };
}

/** Records of every kind: keys (text, binary, empty, none), values (binary, empty, null), headers. */
function makeRecords(random: () => number, count: number, t: number): ProducerRecord[] {
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => (random() * 256) | 0);
  const out: ProducerRecord[] = [];
  for (let i = 0; i < count; i++) {
    const kind = i % 7;
    out.push({
      key: kind === 0
        ? null
        : kind === 1
        ? new Uint8Array(0)
        : kind === 2
        ? bytes(1 + (random() * 40 | 0))
        : `key-${i}`,
      value: kind === 3 ? null : kind === 4 ? new Uint8Array(0) : bytes(random() * 300 | 0),
      headers: kind === 5
        ? [{ key: "trace", value: bytes(8) }, { key: "empty", value: null }, {
          key: "trace",
          value: new Uint8Array(0),
        }]
        : kind === 6
        ? { source: "reel", n: String(i) }
        : undefined,
      // Increasing from batch to batch; inside a batch some go back (the batch keeps the max).
      timestamp: t + i - (i % 3 === 2 ? 1 : 0),
      partition: 0,
    });
  }
  return out;
}

async function appendAll(
  topic: { append(r: ProducerRecord[], o?: { compression?: CompressionType }): Promise<RecordMetadata[]> },
  records: ProducerRecord[],
  random: () => number,
  compression: CompressionType,
  expected: Map<number, Expected>[],
): Promise<void> {
  for (let i = 0; i < records.length;) {
    const n = 1 + Math.floor(random() * 12);
    const chunk = records.slice(i, i + n);
    const metas = await topic.append(chunk, { compression });
    chunk.forEach((r, j) => expected[metas[j].partition].set(metas[j].offset, expectedOf(r, metas[j])));
    i += n;
  }
}

/** One topic per codec: several segments (small segmentBytes), dense index entries. */
async function writeCodecs(scenarios: Scenario[]): Promise<void> {
  const log = await open(path.join(dir, "codecs"));
  try {
    for (const codec of CODECS) {
      const name = `codec-${compressionName(codec)}`;
      const topic = await log.createTopic(name, {
        config: { segmentBytes: 8 * 1024, indexIntervalBytes: 256 },
      });
      const expected = [new Map<number, Expected>()];
      const random = prng(100 + codec);
      await appendAll(topic, makeRecords(random, 300, T0), random, codec, expected);
      assert.ok(topic.partition(0).segments.length >= 3, `${name} rolled into several segments`);
      scenarios.push({
        name,
        topic: name,
        partitions: 1,
        expected: [expected[0]],
        codec,
        logStartOffsets: [0],
      });
    }
  } finally {
    await log.close();
  }
}

/** Retention by size deletes the oldest segments; what is left starts at a later log start offset. */
async function writeRetention(scenarios: Scenario[]): Promise<void> {
  const log = await open(path.join(dir, "retention"));
  try {
    const topic = await log.createTopic("retained", {
      config: { segmentBytes: 4 * 1024, indexIntervalBytes: 512, retentionBytes: 12 * 1024 },
    });
    const expected = [new Map<number, Expected>()];
    const random = prng(7);
    // zstd, or on Node 20 (no zstd in node:zlib) the last codec it has.
    await appendAll(topic, makeRecords(random, 400, T0), random, CODECS.at(-1)!, expected);
    const deleted = topic.deleteOldSegments(T0);
    assert.ok(deleted > 0, "retention deleted segments");
    const start = topic.partition(0).logStartOffset;
    assert.ok(start > 0);
    for (const offset of [...expected[0].keys()]) if (offset < start) expected[0].delete(offset);
    scenarios.push({
      name: "after retention",
      topic: "retained",
      partitions: 1,
      expected,
      logStartOffsets: [start],
    });
  } finally {
    await log.close();
  }
}

/**
 * A writer on this runtime killed with SIGKILL while appending (tests/durability/crash_child.ts),
 * then reel's recovery at open, then more appends and a clean close.
 */
async function writeAfterCrash(scenarios: Scenario[]): Promise<void> {
  const crashDir = path.join(dir, "crash");
  const [cmd, args] = runtimeCommand(path.join(ROOT, "tests", "durability", "crash_child.ts"), [
    "crash",
    crashDir,
    "11",
  ]);
  const child = spawnLines(cmd, args);
  const acked = new Map<string, string>();
  for (;;) {
    const line = await child.nextLine();
    if (line === null) break;
    const m = /^ack (\d+) (\d+) ([0-9a-f]{16})$/.exec(line);
    if (!m) continue;
    acked.set(`${m[1]}/${m[2]}`, m[3]);
    if (acked.size === 300) child.child.kill("SIGKILL");
  }
  const { signal } = await child.exited;
  assert.equal(signal, "SIGKILL");
  const log = await open(crashDir);
  try {
    const topic = log.topic("crash");
    const expected = Array.from({ length: topic.partitions }, () => new Map<number, Expected>());
    for await (const r of topic.readable({ from: "earliest" })) {
      const hash = acked.get(`${r.partition}/${r.offset}`);
      if (hash !== undefined) assert.equal(recordHash(r), hash, `acknowledged ${r.partition}/${r.offset}`);
      acked.delete(`${r.partition}/${r.offset}`);
      expected[r.partition].set(r.offset, {
        offset: r.offset,
        timestamp: r.timestamp,
        key: toHex(r.key),
        value: toHex(r.value),
        headerKeys: r.headers.map((h) => h.key),
      });
    }
    assert.deepEqual([...acked.keys()], [], "every acknowledged record recovered");
    const random = prng(3);
    for (let p = 0; p < topic.partitions; p++) {
      const more = makeRecords(random, 20, Date.now()).map((r) => ({ ...r, partition: p }));
      await appendAll(topic, more, random, 2, expected);
    }
    scenarios.push({
      name: "after crash recovery",
      topic: "crash",
      partitions: topic.partitions,
      expected,
      logStartOffsets: topic.logs.map(() => 0),
    });
  } finally {
    await log.close();
  }
}

function scenarioDir(s: Scenario): string {
  const sub = s.name === "after retention"
    ? "retention"
    : s.name === "after crash recovery"
    ? "crash"
    : "codecs";
  return path.join(dir, sub);
}

function filesOf(s: Scenario, partition: number, ext: string): string[] {
  const pdir = path.join(scenarioDir(s), `${s.topic}-${partition}`);
  return fs.readdirSync(pdir).filter((f) => f.endsWith(ext) && /^\d{20}\./.test(f)).sort().map((f) =>
    path.join(pdir, f)
  );
}

function setup() {
  return state ??= (async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-kafka-segments-"));
    const scenarios: Scenario[] = [];
    await writeCodecs(scenarios);
    await writeRetention(scenarios);
    await writeAfterCrash(scenarios);
    const logs: string[] = [];
    const indexes: string[] = [];
    for (const s of scenarios) {
      for (let p = 0; p < s.partitions; p++) {
        logs.push(...filesOf(s, p, ".log"));
        indexes.push(...filesOf(s, p, ".index"), ...filesOf(s, p, ".timeindex"));
      }
    }
    const [deep, verify, sanity] = await Promise.all([
      dumpLogSegments(logs),
      dumpLogSegments(indexes, { deep: false, verifyIndexOnly: true }),
      dumpLogSegments(indexes, { deep: false, indexSanityCheck: true }),
    ]);
    return { scenarios, deep, verify, sanity };
  })();
}

after(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const SCENARIOS = [
  ...CODECS.map((c) => `codec-${compressionName(c)}`),
  "after retention",
  "after crash recovery",
];

describe(`Kafka's DumpLogSegments reads the segments reel writes (${RUNTIME})`, { skip: SKIP }, () => {
  for (const name of SCENARIOS) {
    test(
      `${name}: every batch's CRC is valid and every record is what was appended, at its offset`,
      TIMEOUT,
      async () => {
        const { scenarios, deep } = await setup();
        const s = scenarios.find((x) => x.name === name)!;
        assert.deepEqual(deep.problems, [], `DumpLogSegments reported problems:\n${deep.stderr}`);
        for (let p = 0; p < s.partitions; p++) {
          const seen = new Map<number, DumpedRecord>();
          const files = filesOf(s, p, ".log");
          assert.ok(files.length > 0);
          for (const file of files) {
            const batches = deep.logs.get(file);
            assert.ok(batches, `DumpLogSegments dumped ${file}`);
            // Kafka's batch fields agree with reel's own reading of the same bytes.
            const bytes = fs.readFileSync(file);
            let position = 0;
            for (const b of batches) {
              assert.equal(b.isvalid, true, `${file}: batch at ${b.position} is valid`);
              assert.equal(b.magic, 2);
              assert.equal(b.position, position, `${file}: batch positions are contiguous`);
              const { header } = decodeRecordBatch(bytes, position);
              assert.deepEqual(
                [
                  b.baseOffset,
                  b.lastOffset,
                  b.count,
                  b.crc,
                  b.size,
                  b.maxTimestamp,
                  b.producerId,
                  b.baseSequence,
                ],
                [
                  header.baseOffset,
                  header.baseOffset + header.lastOffsetDelta,
                  header.recordsCount,
                  header.crc,
                  header.batchLength + 12,
                  header.maxTimestamp,
                  header.producerId,
                  header.baseSequence,
                ],
                `${file}: batch at ${position}`,
              );
              assert.equal(b.timestampType, "CreateTime");
              if (s.codec !== undefined) assert.equal(b.compresscodec, compressionName(s.codec));
              assert.equal(b.records.length, b.count);
              for (const r of b.records) {
                assert.ok(!seen.has(r.offset), `offset ${r.offset} appears once`);
                seen.set(r.offset, r);
              }
              position += b.size;
            }
            assert.equal(position, bytes.length, `${file}: DumpLogSegments read every byte`);
          }
          const expected = s.expected[p];
          assert.deepEqual(
            [...seen.keys()],
            [...expected.keys()].sort((a, b) => a - b),
            `partition ${p} offsets`,
          );
          assert.equal(Math.min(...seen.keys()), s.logStartOffsets[p]);
          for (const [offset, want] of expected) {
            const got = seen.get(offset)!;
            assert.deepEqual(
              {
                offset: got.offset,
                timestamp: got.timestamp,
                key: got.key,
                value: got.value,
                headerKeys: got.headerKeys,
              },
              want,
              `partition ${p} offset ${offset}`,
            );
            assert.equal(got.keySize, want.key === null ? -1 : want.key.length / 2);
            assert.equal(got.valueSize, want.value === null ? -1 : want.value.length / 2);
          }
        }
      },
    );

    test(
      `${name}: --verify-index-only and --index-sanity-check pass on every .index and .timeindex`,
      TIMEOUT,
      async () => {
        const { scenarios, verify, sanity } = await setup();
        const s = scenarios.find((x) => x.name === name)!;
        assert.deepEqual(verify.problems, [], `--verify-index-only reported problems:\n${verify.stderr}`);
        assert.deepEqual(sanity.problems, [], `--index-sanity-check reported problems:\n${sanity.stderr}`);
        let entries = 0;
        for (let p = 0; p < s.partitions; p++) {
          for (const file of [...filesOf(s, p, ".index"), ...filesOf(s, p, ".timeindex")]) {
            assert.ok(verify.indexEntries.has(file), `${file} verified`);
            const empty = verify.stdout.includes(`${file} is empty.`);
            assert.ok(sanity.sane.has(file) || empty, `${file} passed Kafka's sanity check`);
          }
          entries += filesOf(s, p, ".index").filter((f) => fs.statSync(f).size > 0).length;
        }
        assert.ok(entries > 0, "some offset index has entries");
      },
    );
  }
});

describe(`Kafka's DumpLogSegments reads reel's producer state snapshots (${RUNTIME})`, { skip: SKIP }, () => {
  test("a .snapshot written at close lists each idempotent producer as Kafka wrote it", TIMEOUT, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-snapshot-dump-"));
    try {
      const pdir = path.join(dir, "t-0");
      const log = PartitionLog.open(pdir, "t", 0, resolveLogConfig());
      await log.append(idempotentBatch(1001, 0, 0));
      await log.append(idempotentBatch(2002, 4, 0));
      await log.append(idempotentBatch(1001, 0, 2));
      await log.close();
      const snapshot = path.join(pdir, "00000000000000000006.snapshot");
      assert.ok(fs.existsSync(snapshot));
      const { stdout } = await runKafkaTool(TOOLS.dumpLogSegments, ["--files", snapshot]);
      const lines = stdout.split("\n").filter((l) => l.startsWith("producerId:"));
      const field = (line: string, name: string) => new RegExp(`${name}: (-?\\d+)`).exec(line)?.[1];
      const byProducer = new Map(lines.map((l) => [field(l, "producerId"), l]));
      assert.equal(byProducer.size, 2, stdout);
      assert.equal(field(byProducer.get("1001")!, "producerEpoch"), "0");
      assert.equal(field(byProducer.get("1001")!, "lastSequence"), "3");
      assert.equal(field(byProducer.get("1001")!, "lastOffset"), "5");
      assert.equal(field(byProducer.get("2002")!, "producerEpoch"), "4");
      assert.equal(field(byProducer.get("2002")!, "lastOffset"), "3");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
