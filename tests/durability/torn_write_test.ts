// Torn writes and power loss, on random logs (fast-check): a topic of two partitions is filled with
// random batches (sizes, keys, headers, compression, rolls, flushes), left by a clean close or a
// crash, then damaged on disk:
//   (a) the active segment cut at any byte position;
//   (b) a random range of the active segment overwritten with garbage or zeros (not only the tail:
//       valid-looking batches after the damage must go too);
//   (c) an .index or .timeindex file of any segment deleted, cut, overwritten or subtly altered;
//   (d) a power loss: every .log file put back to the length its last fdatasync covered (as the
//       fault-injection seam observes the syncs), possibly with some of the unsynced bytes kept
//       or zeroed, under fsync "always", "interval" and "never".
// After reopening, every batch before the damage is there, no record that was not written shows
// up, the indexes are rebuilt (reel verify finds nothing after a clean close, reads at every offset
// land on the right record, seeks by time agree with a scan), and the next append gets the next
// offset. tests/log/recovery_test.ts covers single PartitionLog cases at fixed positions; these go
// through the whole directory and the streams API.
//
// REEL_TORN_RUNS sets the runs per property (default 25).

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import {
  type CompressionType,
  type ConsumedRecord,
  CorruptRecordError,
  type LogDirectory,
  open,
  type RecordHeader,
  type Topic,
  type TopicConfig,
} from "../../mod.ts";
import { verifyLogDirectory } from "../../src/cli/commands/verify.ts";
import { CODECS } from "../_runtime.ts";
import {
  envInt,
  fcParams,
  fraction,
  PowerLoss,
  prng,
  readLog,
  recordHash,
  RUNTIME,
  scanValidBatches,
  segmentFiles,
  stress,
  withTempDir,
} from "./_helpers.ts";

const RUNS = envInt("REEL_TORN_RUNS", 25);
const PARTITIONS = 2;
const TOPIC = "torn";
const T0 = 1_700_000_000_000;

// ---------------------------------------------------------------------------------------------
// Building random logs

type Op =
  | {
    kind: "append";
    partition: number;
    count: number;
    size: number;
    seed: number;
    compression: CompressionType;
  }
  | { kind: "flush" }
  | { kind: "roll"; partition: number };

interface LogSpec {
  config: Partial<TopicConfig>;
  ops: Op[];
}

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.record({
      kind: fc.constant("append" as const),
      partition: fc.integer({ min: 0, max: PARTITIONS - 1 }),
      count: fc.integer({ min: 1, max: 5 }),
      size: fc.oneof(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 61, max: 700 })),
      seed: fc.integer(),
      compression: fc.constantFrom<CompressionType>(0, 0, 0, ...CODECS.slice(1)),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "flush" as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("roll" as const),
      partition: fc.integer({ min: 0, max: PARTITIONS - 1 }),
    }),
  },
);

function specArb(fsync?: TopicConfig["fsync"]): fc.Arbitrary<LogSpec> {
  return fc.record({
    config: fc.record({
      fsync: fsync
        ? fc.constant(fsync)
        : fc.constantFrom("always", "interval", "never") as fc.Arbitrary<TopicConfig["fsync"]>,
      fsyncIntervalMs: fc.constant(60_000), // the interval's own fsync never fires during a test
      segmentBytes: fc.integer({ min: 1024, max: 8192 }),
      indexIntervalBytes: fc.integer({ min: 0, max: 700 }),
    }),
    // End with appends, so that the active segment usually holds batches to damage.
    ops: fc.tuple(
      fc.array(opArb, { minLength: 1, maxLength: 40 }),
      fc.array(opArb.filter((o) => o.kind === "append"), { minLength: 1, maxLength: 3 }),
    )
      .map(([a, b]) => [...a, ...b]),
  });
}

/** What was written, per partition: each record's hash and timestamp, in offset order. */
interface Written {
  records: { hash: string; timestamp: number }[][];
  /** Per partition, how many records the fsync policy guarantees against power loss. */
  durable: number[];
}

function makeRecords(op: Extract<Op, { kind: "append" }>) {
  const random = prng(op.seed);
  return Array.from({ length: op.count }, (_, i) => {
    const value = new Uint8Array(Math.floor(random() * (op.size + 1)));
    for (let j = 0; j < value.length; j++) value[j] = (random() * 256) | 0;
    const headers: RecordHeader[] = random() < 0.3
      ? [{ key: `h${i}`, value: random() < 0.5 ? null : value.slice(0, 3) }]
      : [];
    return {
      partition: op.partition,
      key: random() < 0.3 ? null : `key-${i}`,
      value: random() < 0.05 ? null : value,
      headers,
      timestamp: T0 + Math.floor(random() * 100_000),
    };
  });
}

function hashOf(r: ReturnType<typeof makeRecords>[number]): string {
  return recordHash({
    key: r.key === null ? null : new TextEncoder().encode(r.key),
    value: r.value,
    headers: r.headers,
    timestamp: r.timestamp,
  });
}

/** Fills a fresh topic as `spec` says, each append awaited. */
async function build(
  dir: string,
  spec: LogSpec,
): Promise<{ log: LogDirectory; topic: Topic; written: Written }> {
  const log = await open(dir);
  const topic = await log.createTopic(TOPIC, { partitions: PARTITIONS, config: spec.config });
  const written: Written = { records: [[], []], durable: [0, 0] };
  const always = spec.config.fsync === "always";
  for (const op of spec.ops) {
    if (op.kind === "append") {
      const records = makeRecords(op);
      const metas = await topic.append(records, { compression: op.compression });
      records.forEach((r, i) => {
        assert.equal(metas[i].offset, written.records[op.partition].length);
        written.records[op.partition].push({ hash: hashOf(r), timestamp: r.timestamp });
      });
      if (always) written.durable[op.partition] = written.records[op.partition].length;
    } else if (op.kind === "flush") {
      await topic.flush();
      written.durable = written.records.map((r) => r.length);
    } else topic.partition(op.partition).roll();
  }
  return { log, topic, written };
}

/**
 * Starts `n` more appends without waiting for them: in flight when the power goes. Large enough
 * that together they may roll several segments.
 */
function startBurst(topic: Topic, spec: LogSpec, written: Written, n: number): Promise<unknown>[] {
  const inFlight: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const op = spec.ops[spec.ops.length - 1 - (i % spec.ops.length)];
    if (op.kind !== "append") continue;
    const records = makeRecords({
      ...op,
      count: 1 + (i % 3),
      size: 40 + 150 * (i % 4),
      seed: op.seed + 1 + i,
    });
    inFlight.push(topic.append(records, { compression: op.compression }).catch(() => {}));
    for (const r of records) written.records[op.partition].push({ hash: hashOf(r), timestamp: r.timestamp });
  }
  return inFlight;
}

async function end(log: LogDirectory, topic: Topic, ending: "close" | "crash"): Promise<void> {
  if (ending === "close") await log.close();
  else for (const l of topic.logs) l.abandon();
}

function partitionDir(dir: string, p: number): string {
  return path.join(dir, `${TOPIC}-${p}`);
}

// ---------------------------------------------------------------------------------------------
// Checking after reopen

interface Reread {
  records: ConsumedRecord[];
  error?: unknown;
}

async function readPartition(topic: Topic, p: number): Promise<Reread> {
  const records: ConsumedRecord[] = [];
  try {
    for await (const r of topic.readable({ partitions: p, from: "earliest", maxBytes: 1000 })) {
      records.push({ ...r, key: r.key?.slice() ?? null, value: r.value?.slice() ?? null });
      if (records.length > 100_000) throw new Error("read more records than were ever written");
    }
    return { records };
  } catch (error) {
    return { records, error };
  }
}

/** The records read are written records, at their offsets, in order. */
function assertPrefix(read: ConsumedRecord[], written: Written["records"][number], where: string): void {
  read.forEach((r, i) => {
    assert.equal(r.offset, i, `${where}: offsets dense from 0`);
    assert.ok(i < written.length, `${where}: offset ${i} was never written`);
    assert.equal(recordHash(r), written[i].hash, `${where}: offset ${i} is not the record written there`);
  });
}

/**
 * Reopens, checks that partition `p` holds exactly the first `expected[p]` records written (all
 * of them for the other partitions), that reads at every offset and seeks by time agree, that the
 * next append gets the next offset, and that after a clean close reel verify finds nothing.
 */
async function checkRecovered(
  dir: string,
  written: Written,
  expected: number[],
  where: string,
): Promise<void> {
  const log = await open(dir);
  try {
    const topic = log.topic(TOPIC);
    for (let p = 0; p < PARTITIONS; p++) {
      const { records, error } = await readPartition(topic, p);
      assert.equal(error, undefined, `${where}: partition ${p} read failed: ${error}`);
      assertPrefix(records, written.records[p], `${where}: partition ${p}`);
      assert.equal(
        records.length,
        expected[p],
        `${where}: partition ${p} recovered ${records.length} records, expected ${expected[p]}`,
      );
      const pl = topic.partition(p);
      assert.equal(pl.logEndOffset, expected[p], `${where}: partition ${p} log end offset`);
      // Every offset reads through the (rebuilt) index to its own record.
      for (let o = 0; o < expected[p]; o++) {
        const data = pl.read(o, 1);
        assert.ok(data, `${where}: partition ${p} read(${o}) found nothing`);
        const first = pl.decode(data, o)[0];
        assert.equal(first?.offset, o, `${where}: partition ${p} read(${o})`);
        assert.equal(recordHash(first), written.records[p][o].hash);
      }
      // Seeks by time agree with a scan of what was recovered.
      const kept = written.records[p].slice(0, expected[p]);
      for (
        const t of [
          T0 - 1,
          T0 + 25_000,
          T0 + 50_000,
          T0 + 99_999,
          T0 + 200_000,
          ...kept.slice(0, 3).map((r) => r.timestamp),
        ]
      ) {
        const i = kept.findIndex((r) => r.timestamp >= t);
        assert.deepEqual(
          topic.offsetsForTimes(t)[p],
          i < 0 ? null : { partition: p, offset: i, timestamp: kept[i].timestamp },
          `${where}: partition ${p} offsetsForTimes(${t})`,
        );
      }
    }
    // The next append lands at the next offset, and reads back.
    const metas = await topic.append([{ partition: 0, value: "next" }, { partition: 1, value: "next" }]);
    assert.deepEqual(metas.map((m) => m.offset), expected, `${where}: the next append's offsets`);
    await log.close();
    for (const report of verifyLogDirectory(dir)) {
      assert.deepEqual(report.problems, [], `${where}: reel verify on ${report.topic}-${report.partition}`);
    }
  } finally {
    await log.close();
  }
}

/** The first batch of a scan that holds byte `position`, or undefined past the last batch. */
function batchAt(batches: ReturnType<typeof scanValidBatches>, position: number) {
  return batches.find((b) => position < b.position + b.size);
}

/**
 * Ways to damage an index file, each a test of its own, with the files each applies to. Left out,
 * because no open can tell them from a good index without scanning the segment: a `.timeindex`
 * cut at an entry boundary or with a changed timestamp (Kafka's indexes have no checksum either).
 */
const INDEX_DAMAGE: {
  [name: string]: {
    files: (".index" | ".timeindex")[];
    damage: (bytes: Uint8Array, entry: number, random: () => number) => Uint8Array | null;
  };
} = {
  "deleted": { files: [".index", ".timeindex"], damage: () => null },
  "cut anywhere (.index), cut inside an entry (.timeindex)": {
    files: [".index", ".timeindex"],
    damage: (bytes, entry, random) => {
      let cut = Math.floor(random() * bytes.length);
      if (entry === 12 && cut % 12 === 0) cut = Math.min(bytes.length, cut + 1 + Math.floor(random() * 11));
      return bytes.slice(0, cut);
    },
  },
  "emptied": { files: [".index", ".timeindex"], damage: () => new Uint8Array(0) },
  "a position moved into the middle of a batch (.index)": {
    files: [".index"],
    damage: (bytes, entry, random) => {
      if (bytes.length < entry) return bytes;
      const damaged = bytes.slice();
      const view = new DataView(damaged.buffer);
      const e = Math.floor(random() * Math.floor(bytes.length / entry)) * entry;
      view.setInt32(e + 4, view.getInt32(e + 4) + 1 + Math.floor(random() * 60));
      return damaged;
    },
  },
  "replaced by garbage": {
    files: [".index", ".timeindex"],
    damage: (_bytes, _entry, random) =>
      Uint8Array.from({ length: 1 + Math.floor(random() * 64) }, () => (random() * 256) | 0),
  },
  "with garbage appended": {
    files: [".index", ".timeindex"],
    damage: (bytes, _entry, random) =>
      new Uint8Array([
        ...bytes,
        ...Uint8Array.from({ length: 1 + Math.floor(random() * 24) }, () => (random() * 256) | 0),
      ]),
  },
  "with an entry repeated": {
    files: [".index", ".timeindex"],
    damage: (bytes, entry, random) => {
      const damaged = bytes.slice();
      const e = Math.floor(random() * Math.floor(bytes.length / entry)) * entry;
      if (e >= entry) damaged.set(bytes.slice(e, e + entry), e - entry);
      return damaged;
    },
  },
  "with entries swapped": {
    files: [".index", ".timeindex"],
    damage: (bytes, entry, random) => {
      const damaged = bytes.slice();
      const e = Math.floor(random() * Math.floor(bytes.length / entry)) * entry;
      if (e >= entry) {
        damaged.set(bytes.slice(e, e + entry), e - entry);
        damaged.set(bytes.slice(e - entry, e), e);
      }
      return damaged;
    },
  },
  "with a position past the end of the log (.index)": {
    files: [".index"],
    damage: (bytes, _entry, random) => {
      const damaged = bytes.slice();
      if (bytes.length >= 8) {
        new DataView(damaged.buffer).setInt32(bytes.length - 4, 0x7fff0000 + Math.floor(random() * 1000));
      }
      return damaged;
    },
  },
};

// ---------------------------------------------------------------------------------------------

describe(`torn writes and power loss (${RUNTIME})`, () => {
  test("(a) cutting the active segment at any byte keeps exactly the batches before the cut", {
    timeout: stress(300_000),
  }, async () => {
    await fc.assert(
      fc.asyncProperty(
        specArb(),
        fc.constantFrom("close", "crash"),
        fc.integer({ min: 0, max: PARTITIONS - 1 }),
        fc.oneof(fc.constant(1), fraction),
        async (spec, ending, p, at) => {
          await withTempDir("torn-a", async (dir) => {
            const { log, topic, written } = await build(dir, spec);
            const active = topic.partition(p).segments.at(-1)!;
            await end(log, topic, ending);
            const bytes = new Uint8Array(fs.readFileSync(active.path));
            const batches = scanValidBatches(bytes, active.baseOffset);
            assert.equal(
              batches.at(-1) ? batches.at(-1)!.position + batches.at(-1)!.size : 0,
              bytes.length,
              "the log was whole",
            );
            const cut = Math.floor(at * bytes.length);
            fs.truncateSync(active.path, cut);
            const first = batchAt(batches, cut);
            const expected = written.records.map((r) => r.length);
            if (first) expected[p] = first.baseOffset;
            await checkRecovered(
              dir,
              written,
              expected,
              `${ending}, partition ${p} cut at ${cut} of ${bytes.length}`,
            );
          });
        },
      ),
      fcParams(RUNS),
    );
  });

  test(
    "(b) overwriting any range of the active segment loses the damaged batch and everything after it, never more",
    { timeout: stress(300_000) },
    async () => {
      await fc.assert(
        fc.asyncProperty(
          specArb(),
          fc.integer({ min: 0, max: PARTITIONS - 1 }),
          fraction,
          fc.integer({ min: 1, max: 300 }),
          fc.constantFrom("garbage", "zeros"),
          fc.integer({ min: 1 }),
          async (spec, p, at, length, fill, seed) => {
            await withTempDir("torn-b", async (dir) => {
              const { log, topic, written } = await build(dir, spec);
              const active = topic.partition(p).segments.at(-1)!;
              await end(log, topic, "crash");
              const original = new Uint8Array(fs.readFileSync(active.path));
              if (original.length === 0) return;
              const batches = scanValidBatches(original, active.baseOffset);
              const damaged = original.slice();
              const start = Math.floor(at * original.length);
              const random = prng(seed);
              for (let i = start; i < Math.min(original.length, start + length); i++) {
                damaged[i] = fill === "zeros" ? 0 : damaged[i] ^ (1 + Math.floor(random() * 255));
              }
              fs.writeFileSync(active.path, damaged);
              // The first batch with a changed byte outside partitionLeaderEpoch (bytes 12-15, not
              // covered by the CRC and not used) is lost, with everything after it.
              const hit = batches.find((b) => {
                for (let i = b.position; i < b.position + b.size; i++) {
                  if (i - b.position >= 12 && i - b.position < 16) continue;
                  if (damaged[i] !== original[i]) return true;
                }
                return false;
              });
              const expected = written.records.map((r) => r.length);
              if (hit) expected[p] = hit.baseOffset;
              await checkRecovered(
                dir,
                written,
                expected,
                `partition ${p}, ${fill} over [${start}, ${start + length}) of ${original.length}`,
              );
            });
          },
        ),
        fcParams(RUNS),
      );
    },
  );

  test(
    "(b') after a clean close, an overwritten active segment reads up to the damage, then fails with CORRUPT_MESSAGE: never garbage",
    { timeout: stress(300_000) },
    async () => {
      await fc.assert(
        fc.asyncProperty(
          specArb(),
          fraction,
          fc.integer({ min: 1, max: 64 }),
          fc.integer({ min: 1 }),
          async (spec, at, length, seed) => {
            await withTempDir("torn-b2", async (dir) => {
              const { log, topic, written } = await build(dir, spec);
              const active = topic.partition(0).segments.at(-1)!;
              await end(log, topic, "close");
              const original = new Uint8Array(fs.readFileSync(active.path));
              if (original.length === 0) return;
              const damaged = original.slice();
              const start = Math.floor(at * original.length);
              const random = prng(seed);
              for (let i = start; i < Math.min(original.length, start + length); i++) {
                damaged[i] ^= 1 + Math.floor(random() * 255);
              }
              fs.writeFileSync(active.path, damaged);
              const reopened = await open(dir);
              try {
                const { records, error } = await readPartition(reopened.topic(TOPIC), 0);
                assertPrefix(records, written.records[0], "partition 0");
                if (error !== undefined) {
                  assert.ok(
                    error instanceof CorruptRecordError,
                    `a read fails only with CorruptRecordError, not ${error}`,
                  );
                  assert.equal(error.topic, TOPIC);
                  assert.equal(error.partition, 0);
                  assert.equal(error.segment, active.path);
                } else assert.equal(records.length, written.records[0].length);
              } finally {
                await reopened.close();
              }
            });
          },
        ),
        fcParams(RUNS),
      );
    },
  );

  for (const [name, { files, damage }] of Object.entries(INDEX_DAMAGE)) {
    test(`(c) an index file of any segment ${name} is rebuilt; every offset and time still reads right`, {
      timeout: stress(300_000),
    }, async () => {
      await fc.assert(
        fc.asyncProperty(
          specArb(),
          fc.constantFrom("close", "crash"),
          fc.integer({ min: 0, max: PARTITIONS - 1 }),
          fraction,
          fc.constantFrom(...files),
          fc.integer({ min: 1 }),
          async (spec, ending, p, pick, which, seed) => {
            await withTempDir("torn-c", async (dir) => {
              const { log, topic, written } = await build(dir, spec);
              await end(log, topic, ending);
              const logs = segmentFiles(partitionDir(dir, p));
              const victim = logs[Math.floor(pick * logs.length)].replace(/\.log$/, which);
              const bytes = fs.existsSync(victim)
                ? new Uint8Array(fs.readFileSync(victim))
                : new Uint8Array(0);
              const damaged = damage(bytes, which === ".index" ? 8 : 12, prng(seed));
              if (damaged === null) fs.rmSync(victim, { force: true });
              else fs.writeFileSync(victim, damaged);
              await checkRecovered(
                dir,
                written,
                written.records.map((r) => r.length),
                `${ending}, ${path.basename(victim)} of partition ${p} ${name}`,
              );
            });
          },
        ),
        fcParams(Math.ceil(RUNS / 3)),
      );
    });
  }

  for (const fsync of ["always", "interval", "never"] as const) {
    test(
      `(d) fsync "${fsync}": after a power loss, what the policy promised is there, and nothing else but a prefix of what was written`,
      { timeout: stress(300_000) },
      async () => {
        await fc.assert(
          fc.asyncProperty(
            specArb(fsync),
            fc.integer({ min: 0, max: 6 }),
            fc.constantFrom("exact", "some-unsynced-bytes", "unsynced-zeroed", "index-lost"),
            fc.integer({ min: 1 }),
            async (spec, burst, loss, seed) => {
              await withTempDir(`torn-d-${fsync}`, async (dir) => {
                // Each file's length covered by its last fdatasync, as the file layer sees the syncs.
                const power = new PowerLoss().install();
                let written: Written;
                try {
                  const built = await build(dir, spec);
                  // The power goes right after the last acknowledgement, before any other sync can
                  // complete: a rolled segment's may still be under way.
                  power.powerOff();
                  written = built.written;
                  const inFlight = startBurst(built.topic, spec, written, burst);
                  for (const l of built.topic.logs) l.abandon();
                  // Nothing is written after abandon(); the appends in flight settle (fail or were
                  // acknowledged before it) before the files are damaged.
                  await Promise.all(inFlight);
                } finally {
                  power.uninstall();
                }
                const random = prng(seed);
                for (let p = 0; p < PARTITIONS; p++) {
                  for (const file of segmentFiles(partitionDir(dir, p))) {
                    const st = fs.statSync(file);
                    const keep = power.durableSize(file);
                    if (keep >= st.size) continue;
                    const bytes = new Uint8Array(fs.readFileSync(file));
                    if (loss === "exact" || loss === "index-lost") fs.truncateSync(file, keep);
                    else if (loss === "some-unsynced-bytes") {
                      fs.truncateSync(file, keep + Math.floor(random() * (st.size - keep)));
                    } else {
                      // The file keeps its length, but pages that were never synced read as zeros.
                      for (let page = Math.floor(keep / 512) * 512; page < st.size; page += 512) {
                        if (random() < 0.5) {
                          bytes.fill(0, Math.max(page, keep), Math.min(page + 512, st.size));
                        }
                      }
                      fs.writeFileSync(file, bytes);
                    }
                    if (loss === "index-lost") {
                      for (const ext of [".index", ".timeindex"]) {
                        const index = file.replace(/\.log$/, ext);
                        if (fs.existsSync(index)) {
                          fs.truncateSync(index, Math.floor(random() * (fs.statSync(index).size + 1)));
                        }
                      }
                    }
                  }
                }
                const reopened = await open(dir);
                try {
                  const topic = reopened.topic(TOPIC);
                  for (let p = 0; p < PARTITIONS; p++) {
                    const where = `fsync ${fsync}, ${loss}, partition ${p}`;
                    const { records, error } = await readPartition(topic, p);
                    assert.equal(error, undefined, `${where}: ${error}`);
                    assertPrefix(records, written.records[p], where);
                    assert.ok(
                      records.length >= written.durable[p],
                      `${where}: ${records.length} records recovered, but ${written.durable[p]} were ${
                        fsync === "always" ? "acknowledged" : "flushed"
                      }`,
                    );
                    assert.equal(topic.partition(p).logEndOffset, records.length, `${where}: log end offset`);
                    assert.deepEqual(
                      readLog(topic.partition(p)).map((r) => r.offset),
                      records.map((r) => r.offset),
                    );
                  }
                  const metas = await topic.append([{ partition: 0, value: "next" }, {
                    partition: 1,
                    value: "next",
                  }]);
                  assert.deepEqual(
                    metas.map((m) => m.offset),
                    topic.logs.map((l) => l.logEndOffset - 1),
                  );
                } finally {
                  await reopened.close();
                }
                for (const report of verifyLogDirectory(dir)) {
                  assert.deepEqual(report.problems, [], `reel verify on ${report.topic}-${report.partition}`);
                }
              });
            },
          ),
          fcParams(RUNS),
        );
      },
    );
  }
});
