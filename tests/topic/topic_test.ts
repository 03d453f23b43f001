import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import {
  type ConsumedRecord,
  type LogDirectory,
  OffsetOutOfRangeError,
  open,
  type ProducerRecord,
  type Topic,
  type TopicConfig,
  UnknownTopicOrPartitionError,
} from "../../mod.ts";
import { murmur2, partitionForKey } from "../../src/producer/mod.ts";
import { toArray } from "../_runtime.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const T0 = 1_700_000_000_000;

interface Murmur2Vector {
  key: string;
  murmur2: number;
  partition_of_3: number;
  partition_of_10: number;
}

const MURMUR2: Murmur2Vector[] = JSON.parse(
  fs.readFileSync(
    path.join(path.dirname(fileURLToPath(import.meta.url)), "../fixtures/kafka/murmur2.json"),
    "utf8",
  ),
).vectors;

async function withTopic<T>(
  partitions: number,
  fn: (topic: Topic, log: LogDirectory, dir: string) => Promise<T>,
  config: Partial<TopicConfig> = {},
): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-topic-"));
  const log = await open(dir);
  try {
    const topic = await log.createTopic("events", {
      partitions,
      config: { segmentBytes: 2048, indexIntervalBytes: 128, fsync: "never", ...config },
    });
    return await fn(topic, log, dir);
  } finally {
    await log.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const text = (v: Uint8Array | null) => (v === null ? null : decoder.decode(v));

/** Counts the append listeners currently subscribed on the topic's partition logs. */
function trackListeners(topic: Topic): { readonly active: number } {
  const counter = { active: 0 };
  for (const log of topic.logs) {
    const subscribe = log.onAppend.bind(log);
    log.onAppend = (listener) => {
      counter.active++;
      const unsubscribe = subscribe(listener);
      let done = false;
      return () => {
        if (!done) counter.active--;
        done = true;
        return unsubscribe();
      };
    };
  }
  return counter;
}

/** Resolves once the event loop has run other tasks: lets a reader reach its wait. */
const turn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

describe("Topic partitioning", () => {
  test("murmur2() and partitionForKey() agree with Kafka's vectors", () => {
    assert.ok(MURMUR2.length > 10);
    for (const v of MURMUR2) {
      const key = encoder.encode(v.key);
      assert.equal(murmur2(key), v.murmur2, `murmur2(${v.key})`);
      assert.equal(partitionForKey(key, 3), v.partition_of_3, `partition of ${v.key} among 3`);
      assert.equal(partitionForKey(key, 10), v.partition_of_10, `partition of ${v.key} among 10`);
    }
  });

  for (const partitions of [3, 10]) {
    test(`keyed records land where Kafka's partitioner puts them (${partitions} partitions)`, async () => {
      await withTopic(partitions, async (topic) => {
        const meta = await topic.append(MURMUR2.map((v) => ({ key: v.key, value: `value of ${v.key}` })));
        meta.forEach((m, i) => {
          const v = MURMUR2[i];
          assert.equal(m.partition, partitions === 3 ? v.partition_of_3 : v.partition_of_10, v.key);
        });
        const records = await toArray(topic.readable());
        assert.equal(records.length, MURMUR2.length);
        for (const r of records) {
          const v = MURMUR2.find((x) => x.key === text(r.key))!;
          assert.equal(r.partition, partitions === 3 ? v.partition_of_3 : v.partition_of_10);
          assert.equal(text(r.value), `value of ${v.key}`);
        }
      });
    });
  }

  test("an explicit partition is honoured, over the key's partition too", async () => {
    await withTopic(4, async (topic) => {
      const key = MURMUR2[0].key;
      const keyed = partitionForKey(encoder.encode(key), 4);
      const other = (keyed + 1) % 4;
      const meta = await topic.append([
        { value: "p2", partition: 2 },
        { key, value: "k", partition: other },
        { value: "p0", partition: 0 },
        { key, value: "k2" },
      ]);
      assert.deepEqual(meta.map((m) => m.partition), [2, other, 0, keyed]);
      const p = await toArray(topic.readable({ partitions: other }));
      assert.ok(p.some((r) => text(r.value) === "k"));
    });
  });

  test("keyless records of one append stick to one partition; with small batches they spread over several", async () => {
    await withTopic(4, async (topic) => {
      const meta = await topic.append(Array.from({ length: 20 }, (_, i) => ({ value: `v${i}` })));
      assert.equal(new Set(meta.map((m) => m.partition)).size, 1, "sticky within a batch");
      // Through writable() with a tiny batch size the sticky partition must change (Kafka's
      // sticky partitioner switches to another partition once a batch is full).
      await ReadableStream.from(Array.from({ length: 200 }, (_, i) => ({ value: `w${i}`.padEnd(40, ".") })))
        .pipeTo(topic.writable({ batchSize: 200, lingerMs: 0 }));
      const used = topic.describe().filter((d) => d.logEndOffset > 0).length;
      assert.ok(used >= 2, `keyless records used ${used} partition(s)`);
      assert.equal(topic.describe().reduce((n, d) => n + d.logEndOffset, 0), 220);
    });
  });
});

describe("Topic.append", () => {
  test("returns { partition, offset, timestamp } for each record, in input order", async () => {
    await withTopic(3, async (topic) => {
      const records = Array.from({ length: 60 }, (_, i) => ({
        key: `user-${i % 9}`,
        value: `event ${i}`,
        timestamp: i % 4 === 0 ? undefined : T0 + i,
      }));
      const before = Date.now();
      const meta = await topic.append(records);
      const after = Date.now();
      assert.equal(meta.length, records.length);
      const next = [0, 0, 0];
      meta.forEach((m, i) => {
        assert.equal(m.partition, partitionForKey(encoder.encode(records[i].key), 3));
        assert.equal(m.offset, next[m.partition]++, "offsets dense per partition in input order");
        if (records[i].timestamp !== undefined) assert.equal(m.timestamp, records[i].timestamp);
        else assert.ok(m.timestamp >= before && m.timestamp <= after);
      });
      const all = await toArray(topic.readable());
      for (const [i, m] of meta.entries()) {
        const r = all.find((x) => x.partition === m.partition && x.offset === m.offset)!;
        assert.equal(text(r.value), `event ${i}`);
        assert.equal(r.timestamp, m.timestamp);
        assert.equal(r.topic, "events");
      }
      // A second append continues the offsets.
      const more = await topic.append([{ key: "user-0", value: "again" }]);
      assert.equal(more[0].offset, next[more[0].partition]);
    });
  });

  test("a bad record fails the whole call and appends nothing", async () => {
    await withTopic(2, async (topic) => {
      await topic.append([{ value: "a", partition: 0 }]);
      await assert.rejects(
        topic.append([{ value: "b" }, { value: "c", partition: 7 }]),
        UnknownTopicOrPartitionError,
      );
      assert.deepEqual(topic.describe().map((d) => d.logEndOffset), [1, 0]);
      await assert.rejects(topic.append([{ value: "x".repeat(2_000_000) }]), (err: unknown) => {
        return (err as { code?: string }).code === "MESSAGE_TOO_LARGE";
      });
      assert.deepEqual(topic.describe().map((d) => d.logEndOffset), [1, 0]);
    });
  });

  test("nothing of a failed call reaches the next call", async () => {
    await withTopic(2, async (topic) => {
      await assert.rejects(
        topic.append([{ value: "left-0", partition: 0 }, { value: "left-1", partition: 1 }, {
          value: 42 as never,
        }]),
        TypeError,
      );
      const meta = await topic.append([{ value: "next", partition: 1 }]);
      assert.deepEqual(meta.map((m) => [m.partition, m.offset]), [[1, 0]]);
      const records = await toArray(topic.readable());
      assert.deepEqual(records.map((r) => [r.partition, r.offset, text(r.value)]), [[1, 0, "next"]]);
    });
  });

  for (const fsync of ["always", "never"] as const) {
    test(`calls in flight together keep their own bytes (fsync "${fsync}")`, async () => {
      await withTopic(3, async (topic) => {
        // Appends that have not yet been acknowledged while later calls encode theirs.
        const calls = Array.from({ length: 20 }, (_, i) =>
          topic.append(
            Array.from({ length: 1 + (i % 7) }, (_, j) => ({
              key: `k${(i * 7 + j) % 5}`,
              value: `call ${i} record ${j} ${"v".repeat(i * 13)}`,
              timestamp: T0 + i,
            })),
          ));
        const metas = await Promise.all(calls);
        const records = await toArray(topic.readable());
        const byPlace = new Map(records.map((r) => [`${r.partition}/${r.offset}`, text(r.value)]));
        metas.forEach((meta, i) =>
          meta.forEach((m, j) => {
            assert.equal(
              byPlace.get(`${m.partition}/${m.offset}`),
              `call ${i} record ${j} ${"v".repeat(i * 13)}`,
            );
          })
        );
        assert.equal(records.length, metas.reduce((n, m) => n + m.length, 0));
      }, { fsync, segmentBytes: 1 << 20 });
    });
  }

  test("keys, values, headers and timestamps round-trip, including nulls and empty bytes", async () => {
    await withTopic(1, async (topic) => {
      await topic.append([
        { key: null, value: null, timestamp: T0 },
        { key: "", value: "", timestamp: T0 - 5 },
        {
          key: new Uint8Array([0, 255]),
          value: new Uint8Array([1, 2, 3]),
          headers: [{ key: "h", value: null }],
        },
        { value: "hdrs", headers: { a: "1", b: new Uint8Array([9]), c: null }, timestamp: new Date(T0 + 7) },
      ]);
      const [a, b, c, d] = await toArray(topic.readable());
      assert.equal(a.key, null);
      assert.equal(a.value, null);
      assert.equal(a.timestamp, T0);
      assert.deepEqual([...b.key!], []);
      assert.deepEqual([...b.value!], []);
      assert.equal(b.timestamp, T0 - 5);
      assert.deepEqual([...c.key!], [0, 255]);
      assert.deepEqual([...c.value!], [1, 2, 3]);
      assert.deepEqual(c.headers.map((h) => [h.key, h.value]), [["h", null]]);
      assert.deepEqual(d.headers.map((h) => [h.key, h.value && [...h.value]]), [["a", [49]], ["b", [9]], [
        "c",
        null,
      ]]);
      assert.equal(d.timestamp, T0 + 7);
    });
  });
});

describe("Topic.append of bytes (the short path)", () => {
  /** Records the short path takes: bytes or null, explicit timestamps, partition 0 or none. */
  const byteRecords = (n: number, size: number) =>
    Array.from({ length: n }, (_, i) => ({
      key: i % 3 === 0 ? encoder.encode(`k${i}`) : null,
      value: i % 5 === 4 ? null : new Uint8Array(size).fill(i & 255),
      timestamp: T0 + (i % 7) * 1000,
      ...(i % 2 === 0 ? { partition: 0 } : {}),
    }));
  /** The same records through the accumulator's path: an empty header list encodes as none. */
  const viaAccumulator = <R extends object>(records: R[]) => records.map((r) => ({ ...r, headers: [] }));

  /** The bytes of one partition's segment files, in name order. */
  const segmentBytes = (dir: string, topicDir: string) => {
    const files = fs.readdirSync(path.join(dir, topicDir)).filter((f) => f.endsWith(".log")).sort();
    return Buffer.concat(files.map((f) => fs.readFileSync(path.join(dir, topicDir, f))));
  };

  for (const maxMessageBytes of [1048588, 700]) {
    test(`writes the same batches as the general path, split the same way (maxMessageBytes ${maxMessageBytes})`, async () => {
      const records = byteRecords(200, 40);
      const config = { maxMessageBytes, segmentBytes: 1 << 20 };
      const short = await withTopic(1, async (topic, _log, dir) => {
        const meta = await topic.append(records);
        return { meta, bytes: segmentBytes(dir, "events-0") };
      }, config);
      const general = await withTopic(1, async (topic, _log, dir) => {
        const meta = await topic.append(viaAccumulator(records));
        return { meta, bytes: segmentBytes(dir, "events-0") };
      }, config);
      assert.deepEqual(short.meta, general.meta);
      assert.deepEqual(short.meta.map((m) => m.offset), records.map((_, i) => i));
      assert.ok(short.bytes.length > 200 * 40, "the records were written");
      assert.ok(short.bytes.equals(general.bytes), "byte-identical segments");
    });
  }

  test("splits a call whose records just exceed one batch as the general path does, and only then", async () => {
    // The accumulator's estimate is 21 bytes of framing a record plus its value, and a batch holds
    // maxMessageBytes less its 61-byte header: sums at the limit, one byte under and one over.
    for (const n of [2, 5, 13]) {
      for (const slack of [-1, 0, 1]) {
        const records = Array.from(
          { length: n },
          (_, i) => ({ value: new Uint8Array(30).fill(i), timestamp: T0 }),
        );
        const config = { maxMessageBytes: 61 + n * (21 + 30) + slack, segmentBytes: 1 << 20 };
        const run = (input: object[]) =>
          withTopic(1, async (topic, _log, dir) => {
            await topic.append(input as typeof records);
            return segmentBytes(dir, "events-0");
          }, config);
        const short = await run(records);
        const general = await run(viaAccumulator(records));
        assert.ok(short.equals(general), `${n} records, slack ${slack}: byte-identical segments`);
        // The batches, by their lengths (baseOffset: 8 bytes, then batchLength: 4): two when over.
        let batches = 0;
        for (let at = 0; at < short.length; at += 12 + short.readInt32BE(at + 8)) batches++;
        assert.equal(batches, slack < 0 ? 2 : 1, `${n} records, slack ${slack}`);
      }
    }
  });

  for (const keyed of [true, false]) {
    test(`on a topic of several partitions, places and splits records as the accumulator does (${keyed ? "some keys" : "no keys"})`, async () => {
      // Keyless records without a partition take the sticky partition, which switches after
      // maxMessageBytes (700 here) and picks the next partition with Math.random: both paths are run
      // with the same random sequence, and must write the same batches to every partition.
      const records = Array.from({ length: 300 }, (_, i) => ({
        key: keyed && i % 4 === 0 ? encoder.encode(`user-${i % 11}`) : null,
        value: new Uint8Array(20 + (i % 9)).fill(i & 255),
        timestamp: T0 + i,
        ...(i % 10 === 3 ? { partition: i % 5 } : {}),
      }));
      const config = { maxMessageBytes: 700, segmentBytes: 1 << 20 };
      const run = (input: ProducerRecord[]) =>
        withTopic(5, async (topic, _log, dir) => {
          let seed = 7;
          const random = Math.random;
          Math.random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
          try {
            const meta = [
              ...await topic.append(input.slice(0, 120)),
              ...await topic.append(input.slice(120)),
            ];
            const bytes = Array.from({ length: 5 }, (_, p) => segmentBytes(dir, `events-${p}`));
            return { meta, bytes };
          } finally {
            Math.random = random;
          }
        }, config);
      const short = await run(records);
      const general = await run(viaAccumulator(records));
      assert.deepEqual(short.meta, general.meta);
      const used = new Set(short.meta.map((m) => m.partition));
      if (keyed) assert.equal(used.size, 5, "records on every partition");
      else assert.ok(used.size > 1, "records on several partitions");
      for (let p = 0; p < 5; p++) {
        assert.ok(short.bytes[p].equals(general.bytes[p]), `byte-identical segments of partition ${p}`);
        // Offsets are dense per partition, in the order the records were given.
        const offsets = short.meta.filter((m) => m.partition === p).map((m) => m.offset);
        assert.deepEqual(offsets, offsets.map((_, i) => i));
      }
      for (const [i, r] of records.entries()) {
        if (r.partition !== undefined) assert.equal(short.meta[i].partition, r.partition);
      }
    });
  }

  test("reads each record's fields once: what is written is what was checked", async () => {
    await withTopic(1, async (topic) => {
      let reads = 0;
      const fickle = {
        get value() {
          reads++;
          return reads === 1 ? new Uint8Array([1, 2, 3]) : new Uint8Array(5000);
        },
      };
      const [meta] = await topic.append([{ value: new Uint8Array([9]) }, fickle].slice(1));
      assert.equal(meta.offset, 0);
      const [r] = await toArray(topic.readable());
      assert.deepEqual([...r.value!], [1, 2, 3]);
      assert.equal(reads, 1);
    });
  });

  test("a bad record fails the whole call and appends nothing", async () => {
    await withTopic(1, async (topic) => {
      const ok = () => ({ value: new Uint8Array(10) });
      await assert.rejects(
        topic.append([ok(), { value: new Uint8Array(1), partition: 1 }]),
        UnknownTopicOrPartitionError,
      );
      await assert.rejects(topic.append([ok(), { value: 42 as never }]), TypeError);
      await assert.rejects(topic.append([ok(), { value: new Uint8Array(2_000_000) }]), (err: unknown) => {
        return (err as { code?: string }).code === "MESSAGE_TOO_LARGE";
      });
      await assert.rejects(topic.append([ok(), { value: new Uint8Array(1), timestamp: 1.5 }]), RangeError);
      assert.deepEqual(topic.describe().map((d) => d.logEndOffset), [0]);
      const meta = await topic.append([ok(), ok()]);
      assert.deepEqual(meta.map((m) => m.offset), [0, 1]);
    });
  });

  test("an append made from a log's listener, between an encode and its append, leaves the call's batches as they were", async () => {
    // The call's two batches (partitions 0 and 1) are encoded before either is appended; partition
    // 0's listener hears of its append at once and appends a larger batch of this topic and of
    // another one: neither may be encoded over partition 1's batch, not yet appended.
    await withTopic(2, async (topic, log) => {
      const other = await log.createTopic("other", { config: { fsync: "never" } });
      const big = (byte: number) => ({ value: new Uint8Array(3000).fill(byte), partition: 1 });
      let inner: Promise<unknown>[] = [];
      topic.partition(0).onAppend(() => {
        if (inner.length === 0) inner = [topic.append([big(7)]), other.append([{ value: big(8).value }])];
      });
      const meta = await topic.append([
        { value: encoder.encode("a"), partition: 0 },
        { value: encoder.encode("b"), partition: 1 },
      ]);
      await Promise.all(inner);
      assert.equal(inner.length, 2, "the listener appended");
      assert.deepEqual(meta.map((m) => [m.partition, m.offset]), [[0, 0], [1, 1]]);
      const one = await toArray(topic.readable({ partitions: [1] }));
      assert.deepEqual(one.map((r) => [r.offset, r.value!.length, r.value![0]]), [[0, 3000, 7], [1, 1, 98]]);
      const [o] = await toArray(other.readable());
      assert.deepEqual([o.value!.length, o.value![0]], [3000, 8]);
    });
  });
});

describe("Topic.readable", () => {
  /** 3 partitions × 20 records each, offsets 0–19, timestamps T0 + 10 × offset. */
  async function seed(topic: Topic) {
    const records = [];
    for (let p = 0; p < 3; p++) {
      for (let i = 0; i < 20; i++) {
        records.push({ value: `p${p}-${i}`, partition: p, timestamp: T0 + 10 * i });
      }
    }
    await topic.append(records);
  }

  const byPartition = (records: ConsumedRecord[], p: number) =>
    records.filter((r) => r.partition === p).map((r) => r.offset);

  test("reads every partition from the earliest offset, each in offset order", async () => {
    await withTopic(3, async (topic) => {
      await seed(topic);
      const records = await toArray(topic.readable({ maxBytes: 200 }));
      assert.equal(records.length, 60);
      for (let p = 0; p < 3; p++) {
        assert.deepEqual(
          byPartition(records, p),
          Array.from({ length: 20 }, (_, i) => i),
        );
      }
      for (const r of records) assert.equal(text(r.value), `p${r.partition}-${r.offset}`);
    });
  });

  test("reads one or some partitions", async () => {
    await withTopic(3, async (topic) => {
      await seed(topic);
      const one = await toArray(topic.readable({ partitions: 1 }));
      assert.ok(one.every((r) => r.partition === 1));
      assert.equal(one.length, 20);
      const some = await toArray(topic.readable({ partitions: [0, 2] }));
      assert.deepEqual([...new Set(some.map((r) => r.partition))].sort(), [0, 2]);
      assert.equal(some.length, 40);
    });
  });

  test("from an offset, up to an end offset (exclusive)", async () => {
    await withTopic(3, async (topic) => {
      await seed(topic);
      const from = await toArray(topic.readable({ partitions: 2, from: 15 }));
      assert.deepEqual(from.map((r) => r.offset), [15, 16, 17, 18, 19]);
      const range = await toArray(topic.readable({ from: 3, to: 7 }));
      for (let p = 0; p < 3; p++) assert.deepEqual(byPartition(range, p), [3, 4, 5, 6]);
      const toOnly = await toArray(topic.readable({ partitions: 0, to: 2 }));
      assert.deepEqual(toOnly.map((r) => r.offset), [0, 1]);
      assert.deepEqual(await toArray(topic.readable({ partitions: 0, from: 20 })), []);
      assert.deepEqual(await toArray(topic.readable({ partitions: 0, from: 5, to: 5 })), []);
    });
  });

  test("throws OffsetOutOfRangeError for a start past the log end and RangeError for a negative one", async () => {
    await withTopic(1, async (topic) => {
      await topic.append([{ value: "a" }, { value: "b" }]);
      assert.throws(() => topic.readable({ from: 3 }), (err: unknown) => {
        assert.ok(err instanceof OffsetOutOfRangeError);
        assert.equal(err.offset, 3);
        assert.equal(err.logEndOffset, 2);
        return true;
      });
      assert.throws(() => topic.readable({ from: -1 }), RangeError);
      assert.throws(() => topic.readable({ to: -1 }), RangeError);
    });
  });

  test('from "latest" without follow is empty; with follow it delivers only later records', async () => {
    await withTopic(2, async (topic) => {
      await topic.append([{ value: "old-0", partition: 0 }, { value: "old-1", partition: 1 }]);
      assert.deepEqual(await toArray(topic.readable({ from: "latest" })), []);
      const reader = topic.readable({ from: "latest", follow: true }).getReader();
      const first = reader.read();
      await turn();
      await topic.append([{ value: "new-1", partition: 1 }]);
      const r = await first;
      assert.equal(r.done, false);
      assert.equal(text(r.value!.value), "new-1");
      assert.equal(r.value!.offset, 1);
      await reader.cancel();
    });
  });

  test("from { timestamp } starts each partition at its first record at or after it", async () => {
    await withTopic(3, async (topic) => {
      await seed(topic);
      // Records with timestamps going back: the start is the first offset whose record reaches the time.
      await topic.append([{ value: "late", partition: 0, timestamp: T0 + 1000 }, {
        value: "early",
        partition: 0,
        timestamp: T0,
      }]);
      const offsets = topic.offsetsForTimes(T0 + 55);
      assert.deepEqual(offsets, [
        { partition: 0, offset: 6, timestamp: T0 + 60 },
        { partition: 1, offset: 6, timestamp: T0 + 60 },
        { partition: 2, offset: 6, timestamp: T0 + 60 },
      ]);
      const records = await toArray(topic.readable({ from: { timestamp: T0 + 55 } }));
      assert.deepEqual(byPartition(records, 0), Array.from({ length: 16 }, (_, i) => 6 + i));
      assert.deepEqual(byPartition(records, 1), Array.from({ length: 14 }, (_, i) => 6 + i));
      const asDate = await toArray(
        topic.readable({ partitions: 0, from: { timestamp: new Date(T0 + 500) } }),
      );
      assert.deepEqual(asDate.map((r) => text(r.value)), ["late", "early"]);
      assert.deepEqual(topic.offsetsForTimes(T0 + 999), [
        { partition: 0, offset: 20, timestamp: T0 + 1000 },
        null,
        null,
      ]);
      assert.deepEqual(
        await toArray(topic.readable({ partitions: 1, from: { timestamp: T0 + 5000 } })),
        [],
      );
    });
  });

  test("without follow the stream ends at the high watermark seen when it was created", async () => {
    await withTopic(1, async (topic) => {
      await topic.append([{ value: "a" }, { value: "b" }]);
      const stream = topic.readable();
      await topic.append([{ value: "c" }]);
      assert.deepEqual((await toArray(stream)).map((r) => text(r.value)), ["a", "b"]);
    });
  });

  test("follow: true delivers records appended after the reader started waiting, then cancel() stops it", async () => {
    await withTopic(2, async (topic) => {
      await topic.append([{ value: "before", partition: 0 }]);
      const listeners = trackListeners(topic);
      const reader = topic.readable({ follow: true }).getReader();
      const first = await reader.read();
      assert.equal(text(first.value!.value), "before");
      const pending = reader.read();
      await turn();
      await topic.append([{ value: "after-1", partition: 1 }]);
      const second = await pending;
      assert.equal(text(second.value!.value), "after-1");
      assert.equal(second.value!.partition, 1);
      // Several appends while nobody reads are all delivered, in order.
      await topic.append([{ value: "x0", partition: 0 }]);
      await topic.append([{ value: "x1", partition: 0 }]);
      const a = await reader.read();
      const b = await reader.read();
      assert.deepEqual([text(a.value!.value), text(b.value!.value)], ["x0", "x1"]);
      const waiting = reader.read();
      await turn();
      assert.equal(listeners.active, 2, "one listener per partition while following");
      await reader.cancel();
      assert.deepEqual(await waiting, { done: true, value: undefined });
      assert.equal(listeners.active, 0, "cancel() releases every listener");
      // Appends after the cancel are fine and reach no one.
      await topic.append([{ value: "later", partition: 0 }]);
      assert.equal((await reader.read()).done, true);
    });
  });

  test("follow: true keeps delivering across segment rolls, in order per partition", async () => {
    await withTopic(2, async (topic) => {
      const reader = topic.readable({ follow: true }).getReader();
      const got: ConsumedRecord[] = [];
      for (let i = 0; i < 120; i++) {
        const pending = reader.read();
        if (i % 3 === 0) await turn();
        await topic.append([{ value: `v${i}`.padEnd(60, "."), partition: i % 2 }]);
        const r = await pending;
        assert.equal(r.done, false);
        got.push(r.value!);
      }
      assert.ok(topic.describe().every((d) => d.segments > 2), "segments rolled while following");
      for (let p = 0; p < 2; p++) {
        const mine = got.filter((r) => r.partition === p);
        assert.deepEqual(mine.map((r) => r.offset), Array.from({ length: 60 }, (_, i) => i));
      }
      assert.deepEqual(
        got.map((r) => text(r.value)!.replace(/\.+$/, "")),
        Array.from({ length: 120 }, (_, i) => `v${i}`),
      );
      await reader.cancel();
    }, { segmentBytes: 1024 });
  });

  test("follow: true stops at the end offset `to`", async () => {
    await withTopic(1, async (topic) => {
      const stream = topic.readable({ follow: true, to: 3 });
      const collected = toArray(stream);
      await turn();
      for (let i = 0; i < 5; i++) await topic.append([{ value: `v${i}` }]);
      assert.deepEqual((await collected).map((r) => text(r.value)), ["v0", "v1", "v2"]);
    });
  });

  test("aborting the signal errors a following stream with the signal's reason", async () => {
    await withTopic(1, async (topic) => {
      const listeners = trackListeners(topic);
      const controller = new AbortController();
      const reader = topic.readable({ follow: true, signal: controller.signal }).getReader();
      const pending = reader.read();
      await turn();
      assert.equal(listeners.active, 1);
      const reason = new Error("stop now");
      controller.abort(reason);
      await assert.rejects(pending, (err: unknown) => err === reason);
      assert.equal(listeners.active, 0, "aborting releases every listener");
      await topic.append([{ value: "ignored" }]);

      const aborted = new AbortController();
      aborted.abort(new Error("already"));
      const stream = topic.readable({ follow: true, signal: aborted.signal });
      await assert.rejects(toArray(stream), /already/);
      assert.equal(listeners.active, 0);
    });
  });

  test("a following stream ends when the log directory closes", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-topic-"));
    try {
      const log = await open(dir);
      const topic = await log.createTopic("t", { partitions: 2 });
      const reader = topic.readable({ follow: true }).getReader();
      const pending = reader.read();
      await turn();
      await log.close();
      assert.deepEqual(await pending, { done: true, value: undefined });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("readableBatches() yields arrays of records, the same records as readable()", async () => {
    await withTopic(3, async (topic) => {
      await seed(topic);
      const batches = await toArray(topic.readableBatches({ maxBytes: 300 }));
      assert.ok(batches.length > 1);
      for (const batch of batches) {
        assert.ok(Array.isArray(batch) && batch.length > 0);
        assert.equal(new Set(batch.map((r) => r.partition)).size, 1, "one chunk comes from one partition");
      }
      const flat = batches.flat();
      const single = await toArray(topic.readable());
      const key = (r: ConsumedRecord) => `${r.partition}:${r.offset}:${text(r.value)}:${r.timestamp}`;
      assert.deepEqual(flat.map(key).sort(), single.map(key).sort());
    });
  });

  test("describe() reports offsets, segments and bytes per partition", async () => {
    await withTopic(2, async (topic) => {
      await topic.append(
        Array.from({ length: 100 }, (_, i) => ({ value: `value-${i}`.padEnd(50, "."), partition: 0 })),
      );
      const [p0, p1] = topic.describe();
      assert.equal(p0.partition, 0);
      assert.equal(p0.logStartOffset, 0);
      assert.equal(p0.logEndOffset, 100);
      assert.equal(p0.highWatermark, 100);
      assert.ok(p0.segments >= 1);
      assert.equal(p0.bytes, topic.partition(0).segments.reduce((n, s) => n + fs.statSync(s.path).size, 0));
      assert.deepEqual(p1, {
        partition: 1,
        logStartOffset: 0,
        logEndOffset: 0,
        highWatermark: 0,
        segments: 1,
        bytes: 0,
      });
    });
  });
});
