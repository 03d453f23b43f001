// Model-based property test (fast-check `commands` + `asyncModelRun`): random sequences of
// append (records from empty to over maxMessageBytes, keys, headers, timestamps, compression),
// writes through topic.writable(), flush, read from a random offset, seek by time, roll, close and
// reopen, and crash (every partition log abandoned, then the directory opened again), checked
// against a plain in-memory model after every step. Small segments, so rolls happen all the time.
//
// REEL_MODEL_RUNS sets the number of runs (default 60); REEL_MODEL_COMMANDS the most commands in one
// run (default 40).

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type CompressionType,
  type ConsumedRecord,
  type LogDirectory,
  OffsetOutOfRangeError,
  open,
  type ProducerRecord,
  type RecordHeader,
  type RecordMetadata,
  RecordTooLargeError,
  type Topic,
  type TopicConfig,
} from "../../mod.ts";
import { encodeRecordBatch, toRecordInput } from "../../src/record/mod.ts";
import { partitionForKey } from "../../src/producer/mod.ts";
import { verifyLogDirectory } from "../../src/cli/commands/verify.ts";
import { envInt, fcParams, fraction, readLog, recordHash, RUNTIME, stress, withTempDir } from "./_helpers.ts";
import { CODECS } from "../_runtime.ts";

const RUNS = envInt("REEL_MODEL_RUNS", 60);
const MAX_COMMANDS = envInt("REEL_MODEL_COMMANDS", 40);
const PARTITIONS = 2;
const MAX_MESSAGE_BYTES = 4096;
const T0 = 1_700_000_000_000;
const TOPIC = "model";

interface ModelRecord {
  timestamp: number;
  hash: string;
}

interface Model {
  partitions: ModelRecord[][];
}

interface Real {
  dir: string;
  config: Partial<TopicConfig>;
  log: LogDirectory;
  topic: Topic;
}

type Cmd = fc.AsyncCommand<Model, Real>;

// ---------------------------------------------------------------------------------------------
// Arbitraries

/** Deterministic bytes of a given size, so large values cost nothing to shrink. */
function fill(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed | 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const sizeArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 40 }) },
  { weight: 3, arbitrary: fc.integer({ min: 41, max: 1500 }) },
  // Near the limit: fits, or is refused by the producer's size estimate.
  { weight: 1, arbitrary: fc.integer({ min: MAX_MESSAGE_BYTES - 160, max: MAX_MESSAGE_BYTES - 60 }) },
  // At and over the limit.
  { weight: 1, arbitrary: fc.integer({ min: MAX_MESSAGE_BYTES - 60, max: MAX_MESSAGE_BYTES + 200 }) },
);

const valueArb: fc.Arbitrary<Uint8Array | string | null> = fc.oneof(
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 6, arbitrary: fc.tuple(sizeArb, fc.integer()).map(([n, seed]) => fill(n, seed)) },
  {
    weight: 2,
    arbitrary: fc.tuple(sizeArb, fc.constantFrom("x", "é", "漢", "😀")).map(([n, c]) =>
      c.repeat(Math.ceil(n / 4))
    ),
  },
);

const keyArb: fc.Arbitrary<Uint8Array | string | null | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.string({ maxLength: 12, unit: "binary" }),
  fc.uint8Array({ maxLength: 12 }),
);

const headerArb: fc.Arbitrary<RecordHeader> = fc.record({
  key: fc.string({ maxLength: 8, unit: "binary" }),
  value: fc.option(fc.uint8Array({ maxLength: 16 }), { nil: null }),
});

const timestampArb = fc.oneof(
  fc.integer({ min: T0, max: T0 + 10_000 }),
  fc.integer({ min: 0, max: 2 ** 42 }),
);

const recordArb: fc.Arbitrary<ProducerRecord> = fc.record({
  value: valueArb,
  key: keyArb,
  headers: fc.oneof(fc.constant(undefined), fc.array(headerArb, { maxLength: 3 })),
  timestamp: fc.option(timestampArb, { nil: undefined }),
  partition: fc.option(fc.integer({ min: 0, max: PARTITIONS - 1 }), { nil: undefined }),
}, { requiredKeys: ["value"] });

/**
 * Compressed appends keep values small: a compressed batch of incompressible bytes is larger than
 * the producer's estimate, and an append whose batch is then refused may already have appended its
 * other batches (the known bug that bad_input_test.ts's "topic.append() is all or nothing" shows).
 */
function compressible(r: ProducerRecord): ProducerRecord {
  return r.value !== null && r.value.length > 1500 ? { ...r, value: r.value.slice(0, 1500) } : r;
}

// Uncompressed three times in seven; then every codec this runtime has (CODECS[0] is none).
const compressionArb = fc.constantFrom<CompressionType>(0, 0, 0, ...CODECS.slice(1));

// ---------------------------------------------------------------------------------------------
// Helpers

/** What a consumer gets back for a record: its bytes as stored (strings as UTF-8). */
function contentHash(r: ProducerRecord, timestamp: number): string {
  const input = toRecordInput(r);
  return recordHash({
    key: input.key ?? null,
    value: input.value,
    headers: (input.headers ?? []).map((h) => ({
      // A header key is stored as UTF-8: a lone surrogate comes back as U+FFFD.
      key: new TextDecoder().decode(new TextEncoder().encode(h.key)),
      value: h.value,
    })),
    timestamp,
  });
}

/** The size of the batch holding this record alone. */
function singleBatchSize(r: ProducerRecord): number {
  return encodeRecordBatch([toRecordInput(r)], { now: T0 }).length;
}

function describeRecords(records: readonly ProducerRecord[]): string {
  return `[${
    records.map((r) => {
      const v = r.value === null
        ? "null"
        : `${typeof r.value === "string" ? "text" : "bytes"}(${r.value.length})`;
      return `{v:${v}${r.partition !== undefined ? ` p:${r.partition}` : ""}${r.key != null ? " keyed" : ""}${
        r.timestamp !== undefined ? ` t:${r.timestamp}` : ""
      }${r.headers ? ` h:${(r.headers as RecordHeader[]).length}` : ""}}`;
    }).join(",")
  }]`;
}

async function collect(stream: ReadableStream<ConsumedRecord>): Promise<ConsumedRecord[]> {
  const out: ConsumedRecord[] = [];
  for await (const r of stream) out.push(r);
  return out;
}

/** Checks the whole real log against the model. */
function checkAll(model: Model, real: Real, after: string): void {
  for (let p = 0; p < PARTITIONS; p++) {
    const log = real.topic.partition(p);
    const expected = model.partitions[p];
    assert.equal(log.logEndOffset, expected.length, `${after}: partition ${p} log end offset`);
    assert.equal(log.highWatermark, expected.length, `${after}: partition ${p} high watermark`);
    assert.equal(log.logStartOffset, 0, `${after}: partition ${p} log start offset`);
    const records = readLog(log);
    assert.deepEqual(
      records.map((r) => `${r.offset}:${recordHash(r)}`),
      expected.map((r, i) => `${i}:${r.hash}`),
      `${after}: partition ${p} records`,
    );
  }
}

async function reopen(real: Real): Promise<void> {
  real.log = await open(real.dir);
  real.topic = real.log.topic(TOPIC);
}

// ---------------------------------------------------------------------------------------------
// Commands

class AppendCommand implements Cmd {
  constructor(readonly records: ProducerRecord[], readonly compression: CompressionType) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const tooLarge = this.records.some((r) => singleBatchSize(r) > MAX_MESSAGE_BYTES);
    let metas: RecordMetadata[];
    try {
      metas = await real.topic.append(this.records, { compression: this.compression });
    } catch (err) {
      assert.ok(err instanceof RecordTooLargeError, `append failed with ${err}`);
      assert.ok(
        this.records.some((r) => singleBatchSize(r) > MAX_MESSAGE_BYTES - 64),
        `RecordTooLargeError although every record fits: ${err.message}`,
      );
      checkAll(model, real, `${this} (refused: nothing may be appended)`);
      return;
    }
    assert.ok(!tooLarge, "a record over maxMessageBytes was accepted");
    assert.equal(metas.length, this.records.length);
    const next = model.partitions.map((p) => p.length);
    for (let i = 0; i < this.records.length; i++) {
      const r = this.records[i], meta = metas[i];
      if (r.partition !== undefined) assert.equal(meta.partition, r.partition, "explicit partition");
      else if (r.key !== undefined && r.key !== null) {
        const key = typeof r.key === "string" ? new TextEncoder().encode(r.key) : r.key;
        assert.equal(meta.partition, partitionForKey(key, PARTITIONS), "murmur2 partition of the key");
      }
      assert.equal(meta.offset, next[meta.partition]++, "offsets dense, in the order given");
      if (r.timestamp !== undefined) assert.equal(meta.timestamp, r.timestamp);
      model.partitions[meta.partition].push({
        timestamp: meta.timestamp,
        hash: contentHash(r, meta.timestamp),
      });
    }
  }
  toString = () => `append(${describeRecords(this.records)}, compression ${this.compression})`;
}

class WritableCommand implements Cmd {
  constructor(readonly records: ProducerRecord[], readonly batchSize: number) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    // Records with an explicit partition and a timestamp: the model knows where each lands.
    await ReadableStream.from(this.records).pipeTo(
      real.topic.writable({ batchSize: this.batchSize, lingerMs: 0 }),
    );
    for (const r of this.records) {
      model.partitions[r.partition!].push({
        timestamp: r.timestamp as number,
        hash: contentHash(r, r.timestamp as number),
      });
    }
  }
  toString = () => `writable(${describeRecords(this.records)}, batchSize ${this.batchSize})`;
}

class FlushCommand implements Cmd {
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    await real.topic.flush();
    for (const d of real.topic.describe()) {
      assert.equal(d.highWatermark, model.partitions[d.partition].length);
    }
  }
  toString = () => "flush()";
}

class ReadCommand implements Cmd {
  constructor(
    readonly partition: number,
    readonly at: number,
    readonly span: number | undefined,
    readonly maxBytes: number,
    readonly batches: boolean,
  ) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const expected = model.partitions[this.partition];
    const offset = Math.floor(this.at * (expected.length + 3)) - 1; // -1 … length + 1
    const to = this.span === undefined ? undefined : Math.max(0, offset) + this.span;
    const options = { partitions: this.partition, from: offset, to, maxBytes: this.maxBytes };
    if (offset < 0) {
      assert.throws(() => real.topic.readable(options), RangeError);
      return;
    }
    if (offset > expected.length) {
      assert.throws(() => real.topic.readable(options), OffsetOutOfRangeError);
      return;
    }
    let records: ConsumedRecord[];
    if (this.batches) {
      records = [];
      for await (const chunk of real.topic.readableBatches(options)) records.push(...chunk);
    } else records = await collect(real.topic.readable(options));
    const end = Math.min(to ?? Infinity, expected.length);
    assert.deepEqual(
      records.map((r) => `${r.partition}:${r.offset}:${recordHash(r)}`),
      expected.slice(offset, end).map((r, i) => `${this.partition}:${offset + i}:${r.hash}`),
      `${this}: offset ${offset}, to ${to}`,
    );
  }
  toString = () =>
    `read(partition ${this.partition}, at ${
      this.at.toFixed(3)
    }, span ${this.span}, maxBytes ${this.maxBytes}${this.batches ? ", batches" : ""})`;
}

class SeekCommand implements Cmd {
  constructor(
    readonly partition: number,
    readonly pick: number,
    readonly delta: number,
    readonly other: number,
  ) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const records = model.partitions[this.partition];
    const timestamp = records.length === 0
      ? this.other
      : records[Math.floor(this.pick * records.length)].timestamp + this.delta;
    const i = records.findIndex((r) => r.timestamp >= timestamp);
    const found = real.topic.offsetsForTimes(timestamp)[this.partition];
    assert.deepEqual(
      found,
      i < 0 ? null : { partition: this.partition, offset: i, timestamp: records[i].timestamp },
      `${this}: offsetsForTimes(${timestamp})`,
    );
    const read = await collect(real.topic.readable({ partitions: this.partition, from: { timestamp } }));
    assert.deepEqual(
      read.map((r) => r.offset),
      i < 0 ? [] : records.slice(i).map((_, j) => i + j),
      `${this}: readable from timestamp ${timestamp}`,
    );
  }
  toString = () =>
    `seek(partition ${this.partition}, pick ${
      this.pick.toFixed(3)
    }, delta ${this.delta}, other ${this.other})`;
}

class RollCommand implements Cmd {
  constructor(readonly partition: number) {}
  check = () => true;
  run(model: Model, real: Real): Promise<void> {
    const log = real.topic.partition(this.partition);
    const before = log.segments;
    const base = log.roll();
    const active = before.at(-1)!;
    if (active.size === 0) {
      assert.equal(base, active.baseOffset, "an empty active segment is not rolled");
      assert.equal(log.segments.length, before.length);
    } else {
      assert.equal(
        base,
        model.partitions[this.partition].length,
        "roll() starts a segment at the log end offset",
      );
      assert.equal(log.segments.length, before.length + 1);
    }
    return Promise.resolve();
  }
  toString = () => `roll(partition ${this.partition})`;
}

class CloseReopenCommand implements Cmd {
  check = () => true;
  async run(_model: Model, real: Real): Promise<void> {
    await real.log.close();
    for (const report of verifyLogDirectory(real.dir)) {
      assert.deepEqual(report.problems, [], `reel verify after close: ${report.topic}-${report.partition}`);
    }
    await reopen(real);
    for (const log of real.topic.logs) {
      assert.deepEqual(
        log.loadReport,
        { clean: true, segmentsRecovered: 0, truncatedBytes: 0 },
        "a clean open scans nothing",
      );
    }
  }
  toString = () => "close(); open()";
}

class CrashCommand implements Cmd {
  check = () => true;
  async run(_model: Model, real: Real): Promise<void> {
    for (const log of real.topic.logs) log.abandon();
    await reopen(real);
    for (const log of real.topic.logs) {
      assert.equal(log.loadReport.truncatedBytes, 0, "whole batches written before a crash are never cut");
    }
  }
  toString = () => "crash (abandon every partition log); open()";
}

/** After a step, the whole log must match the model. */
class Checked implements Cmd {
  constructor(readonly inner: Cmd) {}
  check = (m: Readonly<Model>) => this.inner.check(m);
  async run(model: Model, real: Real): Promise<void> {
    await this.inner.run(model, real);
    checkAll(model, real, `after ${this.inner}`);
  }
  toString = () => this.inner.toString();
}

const partitionArb = fc.integer({ min: 0, max: PARTITIONS - 1 });

const commandArbs: fc.Arbitrary<Cmd>[] = [
  fc.tuple(fc.array(recordArb, { minLength: 1, maxLength: 8 }), compressionArb)
    .map(([records, compression]) =>
      new AppendCommand(compression === 0 ? records : records.map(compressible), compression)
    ),
  fc.tuple(
    fc.array(
      fc.record({
        value: fc.tuple(fc.integer({ min: 0, max: 300 }), fc.integer()).map(([n, s]) => fill(n, s)),
        key: keyArb,
        partition: partitionArb,
        timestamp: timestampArb,
      }),
      { minLength: 1, maxLength: 20 },
    ),
    fc.integer({ min: 1, max: 2000 }),
  ).map(([records, batchSize]) => new WritableCommand(records, batchSize)),
  fc.constant(new FlushCommand()),
  fc.tuple(
    partitionArb,
    fraction,
    fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined }),
    fc.integer({ min: 1, max: 6000 }),
    fc.boolean(),
  ).map(([p, at, span, maxBytes, batches]) => new ReadCommand(p, at, span, maxBytes, batches)),
  fc.tuple(
    partitionArb,
    fraction,
    fc.integer({ min: -1, max: 1 }),
    timestampArb,
  ).map(([p, pick, delta, other]) => new SeekCommand(p, pick, delta, other)),
  partitionArb.map((p) => new RollCommand(p)),
  fc.constant(new CloseReopenCommand()),
  fc.constant(new CrashCommand()),
].map((arb) => arb.map((c) => new Checked(c) as Cmd));

const configArb: fc.Arbitrary<Partial<TopicConfig>> = fc.record({
  fsync: fc.constantFrom("always", "interval", "never") as fc.Arbitrary<TopicConfig["fsync"]>,
  fsyncIntervalMs: fc.integer({ min: 5, max: 50 }),
  segmentBytes: fc.integer({ min: 1024, max: 6000 }),
  segmentMs: fc.oneof(fc.constant(7 * 24 * 3600 * 1000), fc.integer({ min: 1, max: 100_000 })),
  indexIntervalBytes: fc.integer({ min: 0, max: 600 }),
  maxMessageBytes: fc.constant(MAX_MESSAGE_BYTES),
});

describe(`model-based test of a topic (${RUNTIME})`, () => {
  test(
    "any sequence of appends, reads, seeks, rolls, flushes, reopens and crashes matches an in-memory model",
    { timeout: stress(600_000) },
    async () => {
      await fc.assert(
        fc.asyncProperty(
          configArb,
          fc.commands(commandArbs, { maxCommands: MAX_COMMANDS, size: "max" }),
          async (config, cmds) => {
            await withTempDir("model", async (dir) => {
              let real: Real | undefined;
              const setup = async () => {
                const log = await open(dir);
                const topic = await log.createTopic(TOPIC, { partitions: PARTITIONS, config });
                real = { dir, config, log, topic };
                return { model: { partitions: Array.from({ length: PARTITIONS }, () => []) } as Model, real };
              };
              try {
                await fc.asyncModelRun(setup, cmds);
                await real!.log.close();
                for (const report of verifyLogDirectory(dir)) {
                  assert.deepEqual(
                    report.problems,
                    [],
                    `reel verify at the end: ${report.topic}-${report.partition}`,
                  );
                }
              } finally {
                await real?.log.close().catch(() => {});
              }
            });
          },
        ),
        fcParams(RUNS),
      );
    },
  );
});
