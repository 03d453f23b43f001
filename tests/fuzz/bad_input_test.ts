// Bad input, fuzzed with fast-check: arbitrary bytes as segment, index and checkpoint files;
// arbitrary topic names; negative, fractional and huge offsets; records over maxMessageBytes;
// invalid UTF-8 under LineStream({ fatal: true }) and the text codec; lines that are not JSON.
// Each gets a typed error (a ReelError subclass, or TypeError / RangeError for a wrong argument)
// or a documented repair; nothing hangs; nothing outside the log directory is touched; and every
// record acknowledged before the bad input stays readable.
//
// REEL_FUZZ_RUNS sets the runs per property (default 60).

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import {
  type CompressionType,
  type ConsumedRecord,
  CorruptRecordError,
  InvalidRecordError,
  InvalidTopicError,
  jsonCodec,
  JsonLineRecordStream,
  JsonParseStream,
  LineStream,
  type LogDirectory,
  OffsetOutOfRangeError,
  open,
  type ProducerRecord,
  RecordTooLargeError,
  ReelError,
  textCodec,
  type Topic,
  UnknownTopicOrPartitionError,
  ValueDecoderStream,
} from "../../mod.ts";
import { encodeRecordBatch, type RecordInput, setBaseOffset, toRecordInput } from "../../src/record/mod.ts";
import { verifyLogDirectory } from "../../src/cli/commands/verify.ts";
import { CODECS } from "../_runtime.ts";
import {
  envInt,
  fcParams,
  fraction,
  recordHash,
  RUNTIME,
  scanValidBatches,
  stress,
  withTempDir,
} from "../durability/_helpers.ts";
import { concat } from "../streams/_chunks.ts";

const RUNS = envInt("REEL_FUZZ_RUNS", 60);
const T0 = 1_700_000_000_000;
const encoder = new TextEncoder();

/** Every record of a partition through topic.readable(), and the error that ended it, if any. */
async function readAll(topic: Topic, partition = 0): Promise<{ records: ConsumedRecord[]; error?: unknown }> {
  const records: ConsumedRecord[] = [];
  try {
    for await (const r of topic.readable({ partitions: partition, from: "earliest", maxBytes: 512 })) {
      records.push({ ...r, key: r.key?.slice() ?? null, value: r.value?.slice() ?? null });
      if (records.length > 100_000) throw new Error("read more records than the files can hold");
    }
    return { records };
  } catch (error) {
    return { records, error };
  }
}

/** A topic with `acked` records appended and acknowledged: what must survive the bad input. */
async function withAcked<T>(
  fn: (log: LogDirectory, topic: Topic, acked: string[], dir: string) => Promise<T>,
  config = {},
): Promise<T> {
  return await withTempDir("fuzz", async (dir) => {
    const log = await open(dir);
    try {
      const topic = await log.createTopic("fuzz", {
        config: { segmentBytes: 2048, maxMessageBytes: 4096, ...config },
      });
      const records = Array.from({ length: 5 }, (_, i) => ({ value: `acked-${i}`, timestamp: T0 + i }));
      await topic.append(records);
      const acked = records.map((r) =>
        recordHash({ key: null, value: encoder.encode(r.value), headers: [], timestamp: r.timestamp })
      );
      return await fn(log, topic, acked, dir);
    } finally {
      await log.close();
    }
  });
}

/** The acknowledged records are still the first records of the partition. */
async function assertAckedKept(topic: Topic, acked: string[], where: string): Promise<ConsumedRecord[]> {
  const { records, error } = await readAll(topic);
  assert.equal(error, undefined, `${where}: reading failed: ${error}`);
  assert.deepEqual(
    records.slice(0, acked.length).map((r) => recordHash(r)),
    acked,
    `${where}: acknowledged records`,
  );
  records.forEach((r, i) => assert.equal(r.offset, i, `${where}: offsets dense`));
  return records;
}

function isTyped(err: unknown): boolean {
  return err instanceof ReelError;
}

// ---------------------------------------------------------------------------------------------
// Segment and index files of arbitrary bytes

type Chunk =
  | { kind: "batch"; count: number; size: number; compression: CompressionType; offset: "next" | number }
  | { kind: "torn"; count: number; size: number; keep: number }
  | { kind: "flipped"; count: number; size: number; at: number }
  | { kind: "garbage"; bytes: Uint8Array }
  | { kind: "zeros"; length: number };

const chunkArb: fc.Arbitrary<Chunk> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("batch" as const),
      count: fc.integer({ min: 1, max: 4 }),
      size: fc.integer({ min: 0, max: 200 }),
      compression: fc.constantFrom<CompressionType>(0, 0, ...CODECS.slice(1)),
      offset: fc.oneof({ weight: 5, arbitrary: fc.constant("next" as const) }, {
        weight: 1,
        arbitrary: fc.integer({ min: -5, max: 2 ** 40 }),
      }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("torn" as const),
      count: fc.integer({ min: 1, max: 3 }),
      size: fc.integer({ min: 0, max: 200 }),
      keep: fraction,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("flipped" as const),
      count: fc.integer({ min: 1, max: 3 }),
      size: fc.integer({ min: 0, max: 200 }),
      at: fraction,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("garbage" as const),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 120 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("zeros" as const), length: fc.integer({ min: 1, max: 120 }) }),
  },
);

function batchBytes(
  count: number,
  size: number,
  compression: CompressionType,
  baseOffset: number,
  salt: number,
): Uint8Array {
  const records: RecordInput[] = Array.from({ length: count }, (_, i) => ({
    key: i % 2 ? null : encoder.encode(`k${salt}-${i}`),
    value: Uint8Array.from({ length: size }, (_, j) => (j * 31 + salt * 7 + i) & 0xff),
    timestamp: T0 + salt * 10 + i,
  }));
  return encodeRecordBatch(records, { baseOffset: Math.max(0, baseOffset), compression });
}

/** Segment bytes from chunks, offsets "next" continuing from `base`. */
function segmentBytes(chunks: Chunk[], base: number): Uint8Array {
  const parts: Uint8Array[] = [];
  let next = base;
  chunks.forEach((c, salt) => {
    if (c.kind === "batch") {
      const bytes = batchBytes(c.count, c.size, c.compression, c.offset === "next" ? next : c.offset, salt);
      if (c.offset === "next") next += c.count;
      else setBaseOffset(bytes, 0, c.offset); // may be negative: baseOffset lies outside the CRC
      parts.push(bytes);
    } else if (c.kind === "torn") {
      const bytes = batchBytes(c.count, c.size, 0, next, salt);
      parts.push(bytes.subarray(0, Math.floor(c.keep * bytes.length)));
    } else if (c.kind === "flipped") {
      const bytes = batchBytes(c.count, c.size, 0, next, salt);
      bytes[Math.floor(c.at * bytes.length)] ^= 0x40;
      parts.push(bytes);
    } else if (c.kind === "garbage") parts.push(c.bytes);
    else parts.push(new Uint8Array(c.length));
  });
  return concat(parts);
}

const segmentBaseArb = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 10_000 }));

describe(`bad input (${RUNTIME})`, () => {
  test("a segment of arbitrary bytes opens; recovery keeps exactly its valid, dense leading batches", {
    timeout: stress(300_000),
  }, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(chunkArb, { maxLength: 12 }),
        segmentBaseArb,
        fc.option(fc.uint8Array({ maxLength: 64 }), { nil: undefined }),
        fc.option(fc.uint8Array({ maxLength: 64 }), { nil: undefined }),
        async (chunks, base, index, timeindex) => {
          await withTempDir("fuzz-seg", async (dir) => {
            const pdir = path.join(dir, "fuzz-0");
            fs.mkdirSync(pdir);
            const name = String(base).padStart(20, "0");
            const bytes = segmentBytes(chunks, base);
            fs.writeFileSync(path.join(pdir, `${name}.log`), bytes);
            if (index) fs.writeFileSync(path.join(pdir, `${name}.index`), index);
            if (timeindex) fs.writeFileSync(path.join(pdir, `${name}.timeindex`), timeindex);
            const valid = scanValidBatches(bytes, base);
            const expected = valid.flatMap((b) => b.records.map((r) => `${r.offset}:${recordHash(r)}`));
            let log: LogDirectory;
            try {
              log = await open(dir);
            } catch (err) {
              assert.fail(`open threw ${err}`);
            }
            try {
              const topic = log.topic("fuzz");
              const pl = topic.partition(0);
              const end = valid.length ? valid.at(-1)!.lastOffset + 1 : base;
              assert.equal(
                pl.loadReport.truncatedBytes,
                bytes.length - (valid.length ? valid.at(-1)!.position + valid.at(-1)!.size : 0),
              );
              assert.equal(pl.logEndOffset, end);
              const { records, error } = await readAll(topic);
              assert.equal(error, undefined, `reading failed: ${error}`);
              assert.deepEqual(records.map((r) => `${r.offset}:${recordHash(r)}`), expected);
              const [meta] = await topic.append([{ value: "after" }]);
              assert.equal(meta.offset, end, "the next append's offset");
            } finally {
              await log.close();
            }
            for (const report of verifyLogDirectory(dir)) assert.deepEqual(report.problems, []);
          });
        },
      ),
      fcParams(RUNS),
    );
  });

  test(
    "several segments, index files and checkpoints of arbitrary bytes: open and reads throw only typed errors and yield only records from valid batches",
    { timeout: stress(300_000) },
    async () => {
      const fileArb = fc.record({
        base: segmentBaseArb,
        chunks: fc.array(chunkArb, { maxLength: 6 }),
        index: fc.option(fc.uint8Array({ maxLength: 48 }), { nil: undefined }),
        timeindex: fc.option(fc.uint8Array({ maxLength: 48 }), { nil: undefined }),
      });
      const textArb = fc.oneof(
        fc.uint8Array({ maxLength: 40 }),
        fc.tuple(fc.integer({ min: -3, max: 20_000 })).map(([n]) => encoder.encode(`0\n1\nfuzz 0 ${n}\n`)),
        fc.json().map((j) => encoder.encode(j)),
      );
      await fc.assert(
        fc.asyncProperty(
          fc.array(fileArb, { minLength: 1, maxLength: 4 }),
          fc.option(textArb, { nil: undefined }),
          fc.option(textArb, { nil: undefined }),
          fc.option(textArb, { nil: undefined }),
          async (files, recoveryPoint, logStart, marker) => {
            await withTempDir("fuzz-files", async (dir) => {
              const pdir = path.join(dir, "fuzz-0");
              fs.mkdirSync(pdir);
              /** Every record of every valid batch anywhere in the files, by offset. */
              const possible = new Map<number, Set<string>>();
              for (const f of files) {
                const name = String(f.base).padStart(20, "0");
                const bytes = segmentBytes(f.chunks, f.base);
                fs.writeFileSync(path.join(pdir, `${name}.log`), bytes);
                if (f.index) fs.writeFileSync(path.join(pdir, `${name}.index`), f.index);
                if (f.timeindex) fs.writeFileSync(path.join(pdir, `${name}.timeindex`), f.timeindex);
                for (let p = 0; p < bytes.length; p++) {
                  for (const b of scanValidBatches(bytes.subarray(p)).slice(0, 1)) {
                    for (const r of b.records) {
                      const set = possible.get(r.offset) ?? new Set();
                      set.add(recordHash(r));
                      possible.set(r.offset, set);
                    }
                  }
                }
              }
              if (recoveryPoint) {
                fs.writeFileSync(path.join(pdir, "recovery-point-offset-checkpoint"), recoveryPoint);
              }
              if (logStart) {
                fs.writeFileSync(path.join(pdir, "log-start-offset-checkpoint"), logStart);
              }
              if (marker) fs.writeFileSync(path.join(pdir, ".kafka_cleanshutdown"), marker);
              let log: LogDirectory | undefined;
              try {
                log = await open(dir);
                const topic = log.topic("fuzz");
                const { records, error } = await readAll(topic);
                if (error !== undefined) {
                  assert.ok(error instanceof CorruptRecordError, `reading failed with ${error}`);
                }
                let last = -1;
                for (const r of records) {
                  assert.ok(r.offset > last, "offsets increase");
                  last = r.offset;
                  assert.ok(
                    possible.get(r.offset)?.has(recordHash(r)),
                    `offset ${r.offset} is not a record of a valid batch`,
                  );
                }
                await topic.append([{ value: "after" }]);
              } catch (err) {
                assert.ok(isTyped(err), `threw an untyped error: ${(err as Error)?.stack ?? err}`);
              } finally {
                await log?.close().catch(() => {});
              }
            });
          },
        ),
        fcParams(RUNS),
      );
    },
  );

  // -------------------------------------------------------------------------------------------
  // Topic names

  test("a topic name outside Kafka's rule gets InvalidTopicError and creates nothing anywhere", {
    timeout: stress(300_000),
  }, async () => {
    const legal = /^[a-zA-Z0-9._-]{1,249}$/;
    const nameArb = fc.oneof(
      fc.constantFrom(
        "../x",
        "a/b",
        "",
        ".",
        "..",
        "x".repeat(249),
        "x".repeat(250),
        "ünïcødé",
        "名前",
        "a b",
        "a\0b",
        "a\\b",
        "/abs",
        "~",
        "..a",
        "a..",
        ".hidden",
        "CON",
        "x-0",
        "-",
        "_",
        "😀",
        "a\nb",
        "%2e%2e",
        "../../etc/passwd",
      ),
      fc.string({ maxLength: 260, unit: "binary" }),
      fc.stringMatching(/^[a-zA-Z0-9._\-/\\]{1,260}$/),
    );
    await fc.assert(
      fc.asyncProperty(nameArb, async (name) => {
        await withTempDir("fuzz-topic", async (root) => {
          const dir = path.join(root, "log");
          const log = await open(dir);
          try {
            const before = fs.readdirSync(dir).sort();
            const ok = legal.test(name) && name !== "." && name !== "..";
            try {
              const topic = await log.createTopic(name, { partitions: 2 });
              assert.ok(ok, `createTopic(${JSON.stringify(name)}) succeeded`);
              await topic.append([{ value: "v", partition: 1 }]);
              assert.ok(fs.statSync(path.join(dir, `${name}-1`)).isDirectory());
              await log.deleteTopic(name);
            } catch (err) {
              assert.ok(!ok, `createTopic(${JSON.stringify(name)}) failed: ${err}`);
              assert.ok(err instanceof InvalidTopicError, `expected InvalidTopicError, got ${err}`);
              assert.equal(err.code, "INVALID_TOPIC_EXCEPTION");
              assert.throws(
                () => log.topic(name),
                (e: unknown) => e instanceof UnknownTopicOrPartitionError || e instanceof InvalidTopicError,
              );
            }
            assert.deepEqual(fs.readdirSync(root), ["log"], "nothing created beside the log directory");
            assert.deepEqual(fs.readdirSync(dir).sort(), before, "nothing left in the log directory");
          } finally {
            await log.close();
          }
        });
      }),
      fcParams(RUNS * 3),
    );
  });

  test("a topic name that is not a string gets a typed error", async () => {
    await withTempDir("fuzz-topic2", async (dir) => {
      const log = await open(dir);
      try {
        for (const name of [undefined, null, 42, {}, ["a"], Symbol.iterator]) {
          await assert.rejects(
            log.createTopic(name as unknown as string),
            (e: unknown) => e instanceof InvalidTopicError || e instanceof TypeError,
            String(name?.toString?.()),
          );
        }
        assert.deepEqual(fs.readdirSync(dir).sort(), [".topics"]);
      } finally {
        await log.close();
      }
    });
  });

  // -------------------------------------------------------------------------------------------
  // Offsets and partitions

  test(
    "negative, fractional, non-numeric and huge offsets get RangeError, TypeError or OffsetOutOfRangeError; acknowledged records stay",
    { timeout: stress(60_000) },
    async () => {
      await withAcked(async (_log, topic, acked) => {
        const end = topic.partition(0).logEndOffset;
        const cases: [unknown, "range" | "type" | "out" | "ok"][] = [
          [-1, "range"],
          [-(2 ** 53), "range"],
          [1.5, "range"],
          [NaN, "range"],
          [Infinity, "range"],
          [-Infinity, "range"],
          [2 ** 53, "range"],
          [Number.MAX_SAFE_INTEGER, "out"],
          [1e15, "out"],
          [end + 1, "out"],
          [end, "ok"],
          [0, "ok"],
          ["5", "type"],
          [null, "ok"],
          [{}, "type"],
          [[], "type"],
          [true, "type"],
        ];
        for (const [from, expect] of cases) {
          const call = () => topic.readable({ from: from as number });
          const what = `readable({ from: ${typeof from === "number" ? from : JSON.stringify(from)} })`;
          if (expect === "ok") {
            const stream = call();
            await stream.cancel();
          } else {
            assert.throws(
              call,
              (e: unknown) =>
                expect === "range"
                  ? e instanceof RangeError
                  : expect === "out"
                  ? e instanceof OffsetOutOfRangeError && e.code === "OFFSET_OUT_OF_RANGE"
                  : e instanceof TypeError || e instanceof RangeError,
              what,
            );
          }
        }
        for (const to of [-1, 1.5, NaN, -Infinity]) {
          assert.throws(
            () => topic.readable({ to }),
            RangeError,
            `readable({ to: ${to} })`,
          );
        }
        const pl = topic.partition(0);
        for (const offset of [-1, -(2 ** 40), end + 1, 1e15]) {
          assert.throws(() => pl.read(offset, 100), OffsetOutOfRangeError, `read(${offset})`);
        }
        for (const p of [-1, 1, 1.5, NaN, 2 ** 31]) {
          assert.throws(() => topic.partition(p), UnknownTopicOrPartitionError, `partition(${p})`);
          await assert.rejects(
            topic.append([{ value: "x", partition: p }]),
            UnknownTopicOrPartitionError,
            `append to partition ${p}`,
          );
        }
        await assertAckedKept(topic, acked, "after bad offsets");
        assert.equal(topic.partition(0).logEndOffset, end, "nothing appended");
      });
    },
  );

  test(
    "offsetsForTimes and readable({ from: { timestamp } }) with any timestamp return an answer or a typed error",
    { timeout: stress(60_000) },
    async () => {
      await withAcked(async (_log, topic, acked) => {
        await fc.assert(
          fc.asyncProperty(
            fc.oneof(fc.double(), fc.integer({ min: T0 - 5, max: T0 + 10 }), fc.constant(-1)),
            async (t) => {
              let expected = -1;
              for (let i = 0; i < acked.length; i++) {
                if (T0 + i >= t) {
                  expected = i;
                  break;
                }
              }
              if (!Number.isFinite(t)) {
                assert.throws(() => topic.readable({ from: { timestamp: t } }), TypeError);
                return;
              }
              const found = topic.offsetsForTimes(t)[0];
              assert.deepEqual(
                found,
                expected < 0 ? null : { partition: 0, offset: expected, timestamp: T0 + expected },
              );
              const stream = topic.readable({ from: { timestamp: t } });
              const got: number[] = [];
              for await (const r of stream) got.push(r.offset);
              assert.deepEqual(
                got,
                expected < 0 ? [] : Array.from({ length: acked.length - expected }, (_, i) => expected + i),
              );
            },
          ),
          fcParams(RUNS),
        );
      });
    },
  );

  // -------------------------------------------------------------------------------------------
  // Records over the limit

  test(
    "a record over maxMessageBytes gets RecordTooLargeError (MESSAGE_TOO_LARGE), from append() and writable(), and nothing is appended",
    { timeout: stress(300_000) },
    async () => {
      const MAX = 4096;
      await withAcked(async (_log, topic, acked) => {
        await fc.assert(
          fc.asyncProperty(
            fc.integer({ min: MAX - 200, max: MAX + 3000 }),
            fc.integer({ min: 0, max: 300 }),
            fc.integer({ min: 0, max: 3 }),
            fc.boolean(),
            async (valueSize, keySize, headerCount, viaStream) => {
              const record: ProducerRecord = {
                key: new Uint8Array(keySize),
                value: new Uint8Array(valueSize),
                headers: Array.from(
                  { length: headerCount },
                  (_, i) => ({ key: `h${i}`, value: new Uint8Array(100) }),
                ),
                partition: 0,
                timestamp: T0,
              };
              const size = encodeRecordBatch([toRecordInput(record)]).length;
              const before = topic.partition(0).logEndOffset;
              let error: unknown;
              try {
                if (viaStream) {
                  await ReadableStream.from([{ value: "small", partition: 0, timestamp: T0 }, record]).pipeTo(
                    topic.writable({ lingerMs: 0 }),
                  );
                } else await topic.append([record]);
              } catch (err) {
                error = err;
              }
              if (size > MAX) {
                assert.ok(
                  error instanceof RecordTooLargeError,
                  `a batch of ${size} bytes was not refused: ${error}`,
                );
                assert.equal(error.code, "MESSAGE_TOO_LARGE");
                assert.equal(error.maxSize, MAX);
              } else if (size <= MAX - 64) {
                assert.equal(error, undefined, `a batch of ${size} bytes was refused: ${error}`);
              } else assert.ok(error === undefined || error instanceof RecordTooLargeError);
              const records = await assertAckedKept(topic, acked, "after an oversized record");
              // The stream's first record may have gone through; the large one only if it fit.
              const added = records.length - before;
              const max = (viaStream ? 1 : 0) + (error === undefined ? 1 : 0);
              assert.ok(
                added >= (error === undefined ? max : 0) && added <= max,
                `${added} records appended`,
              );
              if (error !== undefined && added === 1) {
                assert.equal(new TextDecoder().decode(records.at(-1)!.value!), "small");
              }
            },
          ),
          fcParams(RUNS),
        );
      }, { maxMessageBytes: 4096 });
    },
  );

  test("a fractional timestamp fails topic.append() with RangeError before any partition is written", async () => {
    await withTempDir("fuzz-atomic", async (dir) => {
      const log = await open(dir);
      try {
        const topic = await log.createTopic("t", { partitions: 2 });
        await assert.rejects(
          topic.append([{ partition: 0, value: "a" }, { partition: 1, value: "b", timestamp: 1.5 }]),
          RangeError,
        );
        assert.deepEqual(topic.describe().map((d) => d.logEndOffset), [0, 0], "nothing may be appended");
      } finally {
        await log.close();
      }
    });
  });

  // -------------------------------------------------------------------------------------------
  // Text that is not UTF-8, lines that are not JSON

  const piecesArb = fc.array(
    fc.oneof(
      { weight: 4, arbitrary: fc.string({ maxLength: 8, unit: "grapheme" }).map((s) => encoder.encode(s)) },
      {
        weight: 2,
        arbitrary: fc.constantFrom(encoder.encode("\n"), encoder.encode("\r\n"), encoder.encode("\r")),
      },
      { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 3 }) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          new Uint8Array([0xc3]),
          new Uint8Array([0xed, 0xa0, 0x80]),
          new Uint8Array([0xff]),
          new Uint8Array([0xf0, 0x9f, 0x98]),
        ),
      },
    ),
    { maxLength: 30 },
  );

  function splitLines(text: string): string[] {
    const parts = text.split("\n");
    const last = parts.pop()!;
    const out = parts.map((p) => (p.endsWith("\r") ? p.slice(0, -1) : p));
    if (last !== "") out.push(last);
    return out;
  }

  test(
    "LineStream({ fatal: true }) into a topic: invalid UTF-8 fails with InvalidRecordError; what went in is a prefix of the lines; acknowledged records stay",
    { timeout: stress(300_000) },
    async () => {
      await withAcked(async (_log, topic, acked) => {
        await fc.assert(
          fc.asyncProperty(piecesArb, fc.array(fc.nat(), { maxLength: 5 }), async (pieces, cuts) => {
            const bytes = concat(pieces);
            let text: string | undefined;
            try {
              text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
            } catch { /* invalid */ }
            const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
            const chunks = [0, ...points].map((p, i, all) => bytes.slice(p, all[i + 1] ?? bytes.length));
            const before = topic.partition(0).logEndOffset;
            let error: unknown;
            try {
              await ReadableStream.from(chunks)
                .pipeThrough(new LineStream({ fatal: true }))
                .pipeThrough(
                  new TransformStream<string, ProducerRecord>({
                    transform: (line, c) => c.enqueue({ value: line, partition: 0 }),
                  }),
                )
                .pipeTo(topic.writable({ lingerMs: 0 }));
            } catch (err) {
              error = err;
            }
            const records = await assertAckedKept(topic, acked, "after LineStream input");
            const got = records.slice(before).map((r) => new TextDecoder().decode(r.value!));
            if (text === undefined) {
              assert.ok(error instanceof InvalidRecordError, `invalid UTF-8 gave ${error}`);
              assert.equal(error.code, "INVALID_RECORD");
              const valid = splitLines(new TextDecoder().decode(bytes));
              assert.deepEqual(got, valid.slice(0, got.length), "only lines before the invalid one went in");
            } else {
              assert.equal(error, undefined, `valid UTF-8 failed: ${error}`);
              assert.deepEqual(got, splitLines(text));
            }
          }),
          fcParams(RUNS),
        );
      });
    },
  );

  test(
    "the text and JSON codecs refuse values that are not UTF-8 (or not JSON) with InvalidRecordError naming the offset",
    { timeout: stress(300_000) },
    async () => {
      await withAcked(async (_log, topic, acked) => {
        await fc.assert(
          fc.asyncProperty(piecesArb, fc.constantFrom("text", "json"), async (pieces, codecName) => {
            const bytes = concat(pieces);
            const [meta] = await topic.append([{ value: bytes, partition: 0 }]);
            let expectError = false;
            try {
              const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
              if (codecName === "json") JSON.parse(text);
            } catch {
              expectError = true;
            }
            const codec = codecName === "text" ? textCodec : jsonCodec;
            const decoded: unknown[] = [];
            let error: unknown;
            try {
              for await (
                const r of topic.readable({ from: meta.offset }).pipeThrough(
                  new ValueDecoderStream<unknown>(codec),
                )
              ) {
                decoded.push(r.value);
              }
            } catch (err) {
              error = err;
            }
            if (expectError) {
              assert.ok(error instanceof InvalidRecordError, `${codecName} codec: ${error}`);
              assert.ok(error.message.includes(`offset ${meta.offset}`), error.message);
            } else {
              assert.equal(error, undefined);
              assert.equal(decoded.length, 1);
            }
            await assertAckedKept(topic, acked, "after decoding");
          }),
          fcParams(RUNS),
        );
      });
    },
  );

  test(
    "lines that are not JSON fail JsonParseStream and JsonLineRecordStream with InvalidRecordError naming the line; what went in is a prefix",
    { timeout: stress(300_000) },
    async () => {
      const lineArb = fc.oneof(
        fc.json(),
        fc.string({ maxLength: 12 }),
        fc.constantFrom("", " ", "{", "}", "[1,]", "nul", "'x'", '{"a":1', "NaN", "01", '"\\x"'),
      );
      await withAcked(async (_log, topic, acked) => {
        await fc.assert(
          fc.asyncProperty(fc.array(lineArb, { maxLength: 12 }), async (lines) => {
            let firstBad = -1;
            lines.forEach((l, i) => {
              if (firstBad >= 0 || l.trim() === "") return;
              try {
                JSON.parse(l);
              } catch {
                firstBad = i;
              }
            });
            // JsonParseStream alone.
            let error: unknown;
            try {
              for await (
                const _ of ReadableStream.from(lines).pipeThrough(new JsonParseStream())
              ) { /* drain */ }
            } catch (err) {
              error = err;
            }
            if (firstBad < 0) assert.equal(error, undefined);
            else {
              assert.ok(error instanceof InvalidRecordError, `JsonParseStream: ${error}`);
              assert.ok(error.message.includes(`line ${firstBad + 1}`), error.message);
            }
            // Into a topic.
            const before = topic.partition(0).logEndOffset;
            error = undefined;
            try {
              await ReadableStream.from(lines)
                .pipeThrough(new JsonLineRecordStream())
                .pipeThrough(
                  new TransformStream<ProducerRecord<string>, ProducerRecord>({
                    transform: (r, c) => c.enqueue({ ...r, partition: 0 }),
                  }),
                )
                .pipeTo(topic.writable({ lingerMs: 0 }));
            } catch (err) {
              error = err;
            }
            const good = lines.slice(0, firstBad < 0 ? lines.length : firstBad).filter((l) =>
              l.trim() !== ""
            );
            const records = await assertAckedKept(topic, acked, "after JSON lines");
            const got = records.slice(before).map((r) => new TextDecoder().decode(r.value!));
            if (firstBad < 0) {
              assert.equal(error, undefined, `valid JSON lines failed: ${error}`);
              assert.deepEqual(got, good);
            } else {
              assert.ok(error instanceof InvalidRecordError, `JsonLineRecordStream: ${error}`);
              assert.deepEqual(got, good.slice(0, got.length), "only lines before the bad one went in");
            }
          }),
          fcParams(RUNS),
        );
      });
    },
  );
});
