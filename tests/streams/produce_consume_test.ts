import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import {
  type ConsumedRecord,
  type LogDirectory,
  open,
  type ProducerRecord,
  RecordTooLargeError,
  type Topic,
  type TopicConfig,
  UnknownTopicOrPartitionError,
} from "../../mod.ts";
import { decodeRecordBatch } from "../../src/record/mod.ts";
import { partitionForKey } from "../../src/producer/mod.ts";
import { setFaultInjector } from "../../src/runtime/file_system.ts";
import { toArray } from "../_runtime.ts";
import { hex, plain } from "../_plain_record.ts";

/** 30 runs each: seconds on an idle machine, far more on a loaded one (bun test's default is 5 s). */
const PROPERTY_TIMEOUT = { timeout: 120_000 };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "reel-produce-consume-"));
}

async function withTopic<T>(
  partitions: number,
  config: Partial<TopicConfig>,
  fn: (topic: Topic, log: LogDirectory, dir: string) => Promise<T>,
): Promise<T> {
  const dir = tempDir();
  const log = await open(dir);
  try {
    const topic = await log.createTopic("events", { partitions, config });
    return await fn(topic, log, dir);
  } finally {
    await log.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function toBytesOrNull(v: Uint8Array | string | null | undefined): Uint8Array | null {
  if (v === undefined || v === null) return null;
  return typeof v === "string" ? encoder.encode(v) : v;
}

/** Resolves once the event loop has run other tasks (timers included). */
const turn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** Reads a whole topic, without follow. */
function readAll(topic: Topic): Promise<ConsumedRecord[]> {
  return toArray(topic.readable({ maxBytes: 512 }));
}

// ---------------------------------------------------------------------------------------------
// Arbitraries: records with an `id` header (their index) and random keys, values, headers and
// timestamps, some with an explicit partition.

interface Case {
  partitions: number;
  records: ProducerRecord[];
  /** Where each record asked to go (explicit partition), or undefined. */
  explicit: (number | undefined)[];
  mode: "append" | "writable";
  chunks: number[];
  batchSize: number;
}

const keyArb = fc.oneof(
  fc.constant(null),
  fc.constant(undefined),
  fc.constantFrom("", "a", "b", "user-1", "user-2", "clé"),
  fc.string({ maxLength: 8 }),
  fc.uint8Array({ maxLength: 6 }),
);
const valueArb = fc.oneof(fc.constant(null), fc.string({ maxLength: 40 }), fc.uint8Array({ maxLength: 80 }));
const headersArb = fc.array(
  fc.record({
    key: fc.string({ maxLength: 6 }),
    value: fc.oneof(fc.constant(null), fc.uint8Array({ maxLength: 8 })),
  }),
  { maxLength: 3 },
);
const timestampArb = fc.option(fc.integer({ min: 0, max: 2 ** 42 }), { nil: undefined });

const caseArb: fc.Arbitrary<Case> = fc.record({
  partitions: fc.integer({ min: 1, max: 4 }),
  raw: fc.array(
    fc.record({
      key: keyArb,
      value: valueArb,
      headers: headersArb,
      timestamp: timestampArb,
      partition: fc.option(fc.nat(3), { nil: undefined, freq: 4 }),
    }),
    { maxLength: 80 },
  ),
  mode: fc.constantFrom("append" as const, "writable" as const),
  chunks: fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 5 }),
  batchSize: fc.integer({ min: 1, max: 2048 }),
}).map(({ partitions, raw, mode, chunks, batchSize }) => {
  const explicit = raw.map((r) => (r.partition === undefined ? undefined : r.partition % partitions));
  const records = raw.map((r, i): ProducerRecord => ({
    key: r.key,
    value: r.value,
    headers: [{ key: "id", value: encoder.encode(String(i)) }, ...r.headers],
    timestamp: r.timestamp,
    partition: explicit[i],
  }));
  return { partitions, records, explicit, mode, chunks, batchSize };
});

const CONFIG: Partial<TopicConfig> = { segmentBytes: 1024, indexIntervalBytes: 64, fsync: "never" };

/** Writes the case's records the way it says; returns the time bounds of the writes. */
async function produce(topic: Topic, c: Case): Promise<{ before: number; after: number }> {
  const before = Date.now();
  if (c.mode === "append") {
    let at = 0, i = 0;
    while (at < c.records.length) {
      const n = c.chunks[i++ % c.chunks.length];
      await topic.append(c.records.slice(at, at + n));
      at += n;
    }
  } else {
    await ReadableStream.from(c.records).pipeTo(topic.writable({ batchSize: c.batchSize, lingerMs: 0 }));
  }
  return { before, after: Date.now() };
}

/** Checks what a topic returns against what was produced: order, density, partitions, contents. */
function checkConsumed(c: Case, consumed: ConsumedRecord[], bounds: { before: number; after: number }): void {
  assert.equal(consumed.length, c.records.length, "every record is read back once");
  const seen = new Set<number>();
  const perPartition = new Map<number, ConsumedRecord[]>();
  for (const r of consumed) {
    assert.ok(r.partition >= 0 && r.partition < c.partitions);
    if (!perPartition.has(r.partition)) perPartition.set(r.partition, []);
    perPartition.get(r.partition)!.push(r);
  }
  for (const [p, records] of perPartition) {
    // Offsets dense from 0, in order, per partition.
    assert.deepEqual(records.map((r) => r.offset), records.map((_, i) => i), `partition ${p} offsets`);
    let lastId = -1;
    for (const r of records) {
      assert.equal(r.headers[0].key, "id");
      const id = Number(decoder.decode(r.headers[0].value!));
      assert.ok(!seen.has(id), `record ${id} read twice`);
      seen.add(id);
      // Per-partition order is the input order (so each key's records keep their order too).
      assert.ok(id > lastId, `partition ${p}: record ${id} after ${lastId}`);
      lastId = id;
      const input = c.records[id];
      const key = toBytesOrNull(input.key);
      assert.equal(hex(r.key), hex(key), `key of ${id}`);
      assert.equal(hex(r.value), hex(toBytesOrNull(input.value)), `value of ${id}`);
      const headers = input.headers as { key: string; value: Uint8Array | null }[];
      assert.deepEqual(
        r.headers.map((h) => [h.key, hex(h.value)]),
        headers.map((h) => [h.key, hex(h.value)]),
      );
      if (typeof input.timestamp === "number") assert.equal(r.timestamp, input.timestamp);
      else assert.ok(r.timestamp >= bounds.before && r.timestamp <= bounds.after, `timestamp of ${id}`);
      if (c.explicit[id] !== undefined) assert.equal(p, c.explicit[id], `explicit partition of ${id}`);
      else if (key !== null) assert.equal(p, partitionForKey(key, c.partitions), `key partition of ${id}`);
    }
  }
  // Each key's records, across the whole topic, keep their input order.
  const byKey = new Map<string, number[]>();
  for (const [, records] of perPartition) {
    for (const r of records) {
      const k = hex(r.key);
      if (k === null) continue;
      const id = Number(decoder.decode(r.headers[0].value!));
      if (!byKey.has(k)) byKey.set(k, []);
      byKey.get(k)!.push(id);
    }
  }
  for (const [k, ids] of byKey) {
    const explicitFree = ids.filter((id) => c.explicit[id] === undefined);
    assert.deepEqual(explicitFree, [...explicitFree].sort((a, b) => a - b), `key ${k} order`);
  }
}

/** Decodes every .log file of a partition directory back to back; returns its records. */
function scanPartitionFiles(partitionDir: string) {
  const files = fs.readdirSync(partitionDir).filter((f) => f.endsWith(".log")).sort();
  assert.ok(files.length >= 1);
  const records = [];
  let expected = 0;
  for (const file of files) {
    assert.match(file, /^\d{20}\.log$/);
    const bytes = new Uint8Array(fs.readFileSync(path.join(partitionDir, file)));
    let position = 0;
    let first = true;
    while (position < bytes.length) {
      // decodeRecordBatch checks the CRC-32C of every batch.
      const { header, records: batch } = decodeRecordBatch(bytes, position);
      assert.equal(header.magic, 2);
      if (first) {
        assert.equal(header.baseOffset, Number(file.slice(0, 20)), `${file} starts at its base offset`);
      }
      first = false;
      assert.equal(header.baseOffset, expected, `${file} at ${position}: offsets dense`);
      assert.equal(header.recordsCount, batch.length);
      for (const r of batch) {
        assert.equal(r.offset, expected++);
        records.push(r);
      }
      position += header.batchLength + 12;
    }
    assert.equal(position, bytes.length, `${file} ends with a whole batch`);
  }
  return records;
}

describe("produce and consume", () => {
  test("writable(): everything piped in is read back by readable(), each key in order", async () => {
    await withTopic(4, { segmentBytes: 2048, indexIntervalBytes: 256, fsync: "never" }, async (topic) => {
      const records = Array.from(
        { length: 1000 },
        (_, i) => ({ key: `user-${i % 17}`, value: `event ${i}` }),
      );
      await ReadableStream.from(records).pipeTo(topic.writable({ batchSize: 500, lingerMs: 1 }));
      const consumed = await readAll(topic);
      assert.equal(consumed.length, 1000);
      assert.deepEqual(consumed.map((r) => text(r.value)).sort(), records.map((r) => r.value).sort());
      for (let k = 0; k < 17; k++) {
        const mine = consumed.filter((r) => text(r.key) === `user-${k}`);
        const indices = mine.map((r) => Number(text(r.value)!.split(" ")[1]));
        assert.deepEqual(indices, [...indices].sort((a, b) => a - b), `user-${k} in order`);
        assert.ok(mine.every((r) => r.partition === partitionForKey(encoder.encode(`user-${k}`), 4)));
      }
      assert.ok(topic.describe().some((d) => d.segments > 1), "segments rolled");
    });
  });

  for (const fsync of ["always", "interval", "never"] as const) {
    test(`writable() close() resolves once every record is acknowledged (fsync "${fsync}")`, async () => {
      await withTopic(10, { fsync, fsyncIntervalMs: 60_000, segmentBytes: 4096 }, async (topic) => {
        const writer = topic.writable({ batchSize: 64, lingerMs: 0, maxInFlight: 1 }).getWriter();
        for (let i = 0; i < 600; i++) await writer.write({ key: `k${i}`, value: `v${i}` });
        await writer.close();
        const described = topic.describe();
        assert.equal(described.reduce((n, d) => n + d.logEndOffset, 0), 600);
        for (const d of described) {
          assert.equal(d.highWatermark, d.logEndOffset, `partition ${d.partition} acknowledged`);
        }
        assert.equal((await readAll(topic)).length, 600);
      });
    });
  }

  test("writable() close() waits for every batch sent, even when many partitions' batches are in flight", async () => {
    await withTopic(4, CONFIG, async (topic) => {
      // Hold back partition 0's acknowledgements until the gate opens.
      let openGate!: () => void;
      const gate = new Promise<void>((resolve) => (openGate = resolve));
      const log0 = topic.partition(0);
      const append = log0.appendDeferred.bind(log0);
      log0.appendDeferred = (batch, verify) => {
        const result = append(batch, verify);
        return gate.then(() => result);
      };
      const writer = topic.writable({ batchSize: 1 << 20, lingerMs: 0, maxInFlight: 1 }).getWriter();
      for (let p = 0; p < 4; p++) await writer.write({ value: `p${p}`, partition: p });
      await turn(); // the linger timer sends all four partitions' batches at once
      let closed = false;
      const closing = writer.close().then(() => (closed = true));
      for (let i = 0; i < 5; i++) await turn();
      assert.equal(closed, false, "close() resolved before partition 0's batch was acknowledged");
      openGate();
      await closing;
      assert.equal(closed, true);
      assert.deepEqual(topic.describe().map((d) => d.logEndOffset), [1, 1, 1, 1]);
    });
  });

  test("writable() over many partitions lends each log only batches that follow one another, so none is copied", async () => {
    await withTopic(8, { fsync: "never" }, async (topic) => {
      // Per log, the batches lent since its last write: a log writes them from the producer's
      // buffer only while each starts where the one before it ends (pending_writes.ts).
      const held: { buffer: ArrayBufferLike; end: number }[] = [];
      for (let p = 0; p < 8; p++) {
        const log = topic.partition(p);
        const appendDeferred = log.appendDeferred.bind(log);
        const writeDeferred = log.writeDeferred.bind(log);
        log.appendDeferred = (batch, verify, lent) => {
          assert.equal(lent, true);
          const last = held[p];
          if (last !== undefined && last.buffer === batch.buffer) {
            assert.equal(
              batch.byteOffset,
              last.end,
              `partition ${p}: a lent batch not next to the one before`,
            );
          }
          held[p] = { buffer: batch.buffer, end: batch.byteOffset + batch.length };
          return appendDeferred(batch, verify, lent);
        };
        log.writeDeferred = () => {
          delete held[p];
          writeDeferred();
        };
      }
      // Keyless 1 KiB records: the sticky partitioner sends each 16 KiB batch to another partition.
      const value = new Uint8Array(1024).fill(7);
      let n = 0;
      await new ReadableStream<ProducerRecord>({
        pull(controller) {
          for (let i = 0; i < 100; i++) controller.enqueue({ value, key: null });
          if ((n += 100) >= 3000) controller.close();
        },
      }).pipeTo(topic.writable({ batchSize: 16384, maxInFlight: 16 }));
      const described = topic.describe();
      assert.equal(described.reduce((sum, d) => sum + d.logEndOffset, 0), 3000);
      assert.ok(
        described.filter((d) => d.logEndOffset > 0).length >= 4,
        "the batches went to several partitions",
      );
      const consumed = await readAll(topic);
      assert.equal(consumed.length, 3000);
      assert.ok(consumed.every((r) => r.value?.length === 1024 && r.value.every((b) => b === 7)));
    });
  });

  test("an invalid record mid-stream errors the stream; every record acknowledged before it stays readable", async () => {
    await withTopic(3, CONFIG, async (topic) => {
      // batchSize 1: each record is its own batch, appended (and, under "never", acknowledged) as it is written.
      const writer = topic.writable({ batchSize: 1, lingerMs: 0 }).getWriter();
      for (let i = 0; i < 20; i++) await writer.write({ key: `k${i % 5}`, value: `good ${i}` });
      await assert.rejects(writer.write({ value: "bad", partition: 99 }), UnknownTopicOrPartitionError);
      await assert.rejects(writer.write({ value: "after" }));
      await assert.rejects(writer.closed, UnknownTopicOrPartitionError);
      const consumed = await readAll(topic);
      assert.deepEqual(
        consumed.map((r) => text(r.value)).sort(),
        Array.from({ length: 20 }, (_, i) => `good ${i}`).sort(),
      );
    });
  });

  for (const bad of ["unknown partition", "too large"] as const) {
    test(`pipeTo() rejects on a record with ${bad === "too large" ? "a value over maxMessageBytes" : "partition 99"}; what reached the log is a per-partition prefix of what came before`, async () => {
      await withTopic(3, { ...CONFIG, maxMessageBytes: 4096 }, async (topic) => {
        const records: ProducerRecord[] = Array.from(
          { length: 300 },
          (_, i) => ({ key: `k${i % 7}`, value: `r${i}` }),
        );
        records.splice(
          200,
          0,
          bad === "too large" ? { value: "x".repeat(10_000) } : { value: "bad", partition: 99 },
          ...Array.from({ length: 5 }, (_, i) => ({ key: `k${i}`, value: `after-${i}` })),
        );
        await assert.rejects(
          ReadableStream.from(records).pipeTo(topic.writable({ batchSize: 256, lingerMs: 0 })),
          bad === "too large" ? RecordTooLargeError : UnknownTopicOrPartitionError,
        );
        const consumed = await readAll(topic);
        for (let p = 0; p < 3; p++) {
          const got = consumed.filter((r) => r.partition === p).map((r) => text(r.value));
          const sent = records.slice(0, 200).filter((r) =>
            partitionForKey(encoder.encode(r.key as string), 3) === p
          )
            .map((r) => r.value);
          assert.deepEqual(
            got,
            sent.slice(0, got.length),
            `partition ${p} holds a prefix of the records before the bad one`,
          );
        }
        // The log stays usable.
        const [m] = await topic.append([{ key: "k0", value: "later" }]);
        assert.equal(m.offset, topic.describe()[m.partition].logEndOffset - 1);
      });
    });
  }

  test('writable() under fsync "never" writes its batches in groups: fewer writes than batches, every record read back', async () => {
    await withTopic(1, { ...CONFIG, segmentBytes: 1 << 24 }, async (topic) => {
      const logFile = topic.partition(0).segments[0].path;
      let writes = 0;
      setFaultInjector((op) => {
        if (op.op === "write" && fs.fstatSync(op.fd).ino === fs.statSync(logFile).ino) writes++;
        return undefined;
      });
      try {
        const records = Array.from({ length: 2000 }, (_, i) => ({ key: `k${i % 7}`, value: `value ${i}` }));
        await ReadableStream.from(records).pipeTo(topic.writable({ batchSize: 256, lingerMs: 1000 }));
        const batches = topic.partition(0).read(0, 1 << 24)!;
        let count = 0;
        for (let p = 0; p < batches.bytes.length; count++) {
          p += new DataView(batches.bytes.buffer, batches.bytes.byteOffset + p).getInt32(8) + 12;
        }
        assert.ok(count > 100, `${count} batches`);
        assert.ok(writes * 4 <= count, `${writes} writes for ${count} batches`);
        assert.deepEqual((await readAll(topic)).map((r) => text(r.value)), records.map((r) => r.value));
      } finally {
        setFaultInjector(undefined);
      }
    });
  });

  test("writableBatches(): each chunk is one append; chunks keep their order and every record is read back", async () => {
    await withTopic(3, CONFIG, async (topic) => {
      const chunks = Array.from(
        { length: 40 },
        (_, c) =>
          Array.from({ length: 1 + (c % 9) }, (_, i) => ({ key: `k${(c + i) % 7}`, value: `c${c} r${i}` })),
      );
      const calls: number[] = [];
      const append = topic.append.bind(topic);
      topic.append = (records, options) => {
        calls.push(records.length);
        return append(records, options);
      };
      await ReadableStream.from(chunks).pipeTo(topic.writableBatches());
      assert.deepEqual(calls, chunks.map((c) => c.length), "one append per chunk, in order");
      const consumed = await readAll(topic);
      assert.equal(consumed.length, chunks.flat().length);
      // Each key's records come back in the order they were written.
      const written = new Map<string, string[]>();
      for (const r of chunks.flat()) written.set(r.key, [...(written.get(r.key) ?? []), r.value]);
      const read = new Map<string, string[]>();
      for (const r of consumed) read.set(text(r.key)!, [...(read.get(text(r.key)!) ?? []), text(r.value)!]);
      assert.deepEqual(read, written);
    });
  });

  test("writableBatches(): a chunk with a bad record fails whole and errors the stream; earlier chunks stay", async () => {
    await withTopic(2, CONFIG, async (topic) => {
      const chunks: ProducerRecord[][] = [
        [{ value: "a", partition: 0 }, { value: "b", partition: 1 }],
        [{ value: "c", partition: 0 }, { value: "bad", partition: 7 }],
        [{ value: "never", partition: 0 }],
      ];
      await assert.rejects(
        ReadableStream.from(chunks).pipeTo(topic.writableBatches()),
        UnknownTopicOrPartitionError,
      );
      assert.deepEqual((await readAll(topic)).map((r) => text(r.value)).sort(), ["a", "b"]);
      const writer = topic.writableBatches().getWriter();
      await assert.rejects(writer.write("no" as never), TypeError);
    });
  });

  test("writableBatches(): at most maxInFlight chunks wait for acknowledgement, and close() waits for all", async () => {
    await withTopic(1, { ...CONFIG, fsync: "always" }, async (topic) => {
      let openGate!: () => void;
      const gate = new Promise<void>((resolve) => (openGate = resolve));
      let started = 0;
      const append = topic.append.bind(topic);
      topic.append = (records, options) => {
        started++;
        const result = append(records, options);
        return gate.then(() => result);
      };
      const writer = topic.writableBatches({ maxInFlight: 2 }).getWriter();
      const writes = Array.from({ length: 6 }, (_, i) => writer.write([{ value: `v${i}` }]));
      for (let i = 0; i < 5; i++) await turn();
      assert.equal(started, 3, "appends started while 2 waited: the third write waits for the first");
      let closed = false;
      const closing = writer.close().then(() => (closed = true));
      await turn();
      assert.equal(closed, false);
      openGate();
      await Promise.all(writes);
      await closing;
      assert.equal(started, 6);
      assert.equal(topic.partition(0).highWatermark, 6);
    });
  });

  test(
    "property: per-partition order, dense offsets from 0 and each key's order hold for any appends",
    PROPERTY_TIMEOUT,
    async () => {
      await fc.assert(
        fc.asyncProperty(caseArb, async (c) => {
          await withTopic(c.partitions, CONFIG, async (topic) => {
            const bounds = await produce(topic, c);
            checkConsumed(c, await readAll(topic), bounds);
            const batched = (await toArray(topic.readableBatches())).flat();
            assert.deepEqual(batched.map(plain).sort(cmp), (await readAll(topic)).map(plain).sort(cmp));
          });
        }),
        { numRuns: 30 },
      );
    },
  );

  test(
    "property: reopening after close() or after a crash returns exactly what was written",
    PROPERTY_TIMEOUT,
    async () => {
      await fc.assert(
        fc.asyncProperty(caseArb, fc.constantFrom("close" as const, "abandon" as const), async (c, how) => {
          const dir = tempDir();
          try {
            const log = await open(dir);
            const topic = await log.createTopic("events", { partitions: c.partitions, config: CONFIG });
            const bounds = await produce(topic, c);
            const before = (await readAll(topic)).map(plain);
            if (how === "close") await log.close();
            else for (const l of topic.logs) l.abandon();
            const reopened = await open(dir);
            try {
              const again = reopened.topic("events");
              assert.equal(again.partitions, c.partitions);
              const after = await readAll(again);
              assert.deepEqual(after.map(plain), before);
              checkConsumed(c, after, bounds);
              const clean = again.logs.every((l) => l.loadReport.clean);
              // A log that never got a record is one empty segment: nothing to scan, clean either way.
              if (before.length > 0) assert.equal(clean, how === "close");
              else assert.equal(clean, true);
              assert.ok(again.logs.every((l) => l.loadReport.truncatedBytes === 0));
              // Appends continue at the right offsets.
              const [m] = await again.append([{ value: "next", partition: 0 }]);
              assert.equal(m.offset, after.filter((r) => r.partition === 0).length);
            } finally {
              await reopened.close();
            }
          } finally {
            fs.rmSync(dir, { recursive: true, force: true });
          }
        }),
        { numRuns: 30 },
      );
    },
  );

  test(
    "property: every .log file written decodes back to back, all CRCs valid, offsets dense from 0",
    PROPERTY_TIMEOUT,
    async () => {
      await fc.assert(
        fc.asyncProperty(caseArb, async (c) => {
          await withTopic(c.partitions, CONFIG, async (topic, log, dir) => {
            await produce(topic, c);
            const consumed = await readAll(topic);
            await log.close();
            for (let p = 0; p < c.partitions; p++) {
              const fromFiles = scanPartitionFiles(path.join(dir, `events-${p}`));
              const fromStream = consumed.filter((r) => r.partition === p);
              assert.deepEqual(
                fromFiles.map((
                  r,
                ) => [
                  r.offset,
                  r.timestamp,
                  hex(r.key),
                  hex(r.value),
                  r.headers.map((h) => [h.key, hex(h.value)]),
                ]),
                fromStream.map((
                  r,
                ) => [
                  r.offset,
                  r.timestamp,
                  hex(r.key),
                  hex(r.value),
                  r.headers.map((h) => [h.key, hex(h.value)]),
                ]),
              );
            }
          });
        }),
        { numRuns: 30 },
      );
    },
  );
});

function text(v: Uint8Array | null): string | null {
  return v === null ? null : decoder.decode(v);
}

function cmp(a: ReturnType<typeof plain>, b: ReturnType<typeof plain>): number {
  return a.partition - b.partition || a.offset - b.offset;
}
