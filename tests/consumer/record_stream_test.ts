// topic.readable() returns a RecordStream: a ReadableStream whose `for await` takes records a read
// at a time from the source. These tests hold it to the standard ReadableStream behaviour: the same
// records in the same order by every way of reading, locking, cancel on an early end (and
// preventCancel), records already queued by a reader come first, errors and aborts, follow.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import * as fs from "node:fs";
import { CorruptRecordError, open } from "../../mod.ts";
import type { ConsumedRecord } from "../../mod.ts";
import { FetchSource } from "../../src/consumer/fetch_source.ts";
import { PartitionFetcher } from "../../src/consumer/_partition_fetcher.ts";
import { RecordStream } from "../../src/consumer/record_stream.ts";
import { STREAM_READ_BYTES } from "../../src/runtime/file_system.ts";
import { RUNTIME } from "../_runtime.ts";
import { fcParams, withTempDir } from "../durability/_helpers.ts";

const text = (r: ConsumedRecord) => new TextDecoder().decode(r.value!);

async function topicWith(dir: string, counts: number[], partitions = 1) {
  const log = await open(dir, { retentionCheckIntervalMs: 0 });
  const topic = await log.createTopic("t", { partitions });
  let n = 0;
  for (const count of counts) {
    await topic.append(
      Array.from({ length: count }, () => ({ value: `v${n}`, partition: n++ % partitions })),
    );
  }
  return { log, topic, total: n };
}

describe("topic.readable() (RecordStream)", () => {
  test("for await, getReader() and pipeTo deliver the same records in the same order", async () => {
    await withTempDir("record-stream-same", async (dir) => {
      const { log, topic } = await topicWith(dir, [3, 1, 500, 7], 3);
      const viaIterator: string[] = [];
      for await (const r of topic.readable()) viaIterator.push(`${r.partition}:${r.offset}:${text(r)}`);
      const viaReader: string[] = [];
      const reader = topic.readable().getReader();
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        viaReader.push(`${r.value.partition}:${r.value.offset}:${text(r.value)}`);
      }
      const viaPipe: string[] = [];
      await topic.readable().pipeTo(
        new WritableStream({ write: (r) => void viaPipe.push(`${r.partition}:${r.offset}:${text(r)}`) }),
      );
      assert.equal(viaIterator.length, 511);
      assert.deepEqual(viaReader, viaIterator);
      assert.deepEqual(viaPipe, viaIterator);
      await log.close();
    });
  });

  test("mixing a reader and for await: records the reader left queued come first, none twice or lost", async () => {
    await withTempDir("record-stream-mixed", async (dir) => {
      // One batch per read (maxBytes 1), so the iterator takes whole batches from the source.
      const { log, topic, total } = await topicWith(dir, [4, 10, 1, 7, 3, 5]);
      await fc.assert(
        fc.asyncProperty(fc.array(fc.nat(12), { minLength: 1, maxLength: 4 }), async (takes) => {
          const stream = topic.readable({ maxBytes: 1 });
          const seen: number[] = [];
          for (const take of takes) {
            const reader = stream.getReader();
            for (let i = 0; i < take; i++) {
              const r = await reader.read();
              if (r.done) break;
              seen.push(r.value.offset);
            }
            reader.releaseLock();
            let k = 0;
            for await (const r of stream.values({ preventCancel: true })) {
              seen.push(r.offset);
              if (++k === take) break;
            }
          }
          for await (const r of stream) seen.push(r.offset);
          assert.deepEqual(seen, Array.from({ length: total }, (_, i) => i));
        }),
        fcParams(40),
      );
      await log.close();
    });
  });

  test("the iterator locks the stream; break cancels it, preventCancel leaves it readable", async () => {
    await withTempDir("record-stream-lock", async (dir) => {
      const { log, topic } = await topicWith(dir, [5]);
      const stream = topic.readable();
      const it = stream.values();
      assert.equal(stream.locked, true);
      assert.throws(() => stream.getReader(), TypeError);
      assert.throws(() => stream.values(), TypeError);
      assert.equal((await it.next()).value?.offset, 0);
      assert.deepEqual(await it.return!(), { done: true, value: undefined });
      assert.equal(stream.locked, false);
      assert.deepEqual(await stream.getReader().read(), { done: true, value: undefined }, "cancelled");

      const kept = topic.readable();
      for await (const r of kept.values({ preventCancel: true })) if (r.offset === 1) break;
      const rest: number[] = [];
      for await (const r of kept) rest.push(r.offset);
      assert.deepEqual(rest, [2, 3, 4]);
      await log.close();
    });
  });

  test("an aborted signal ends the iteration with its reason; a follow stream delivers new appends", async () => {
    await withTempDir("record-stream-follow", async (dir) => {
      const { log, topic } = await topicWith(dir, [2]);
      const controller = new AbortController();
      const seen: number[] = [];
      const reading = (async () => {
        for await (const r of topic.readable({ follow: true, signal: controller.signal })) {
          seen.push(r.offset);
          if (seen.length === 2) await topic.append([{ value: "late" }]);
          if (seen.length === 3) controller.abort(new Error("enough"));
        }
      })();
      await assert.rejects(reading, /enough/);
      assert.deepEqual(seen, [0, 1, 2]);
      await log.close();
    });
  });

  test("a read error rejects the loop and errors the stream", async () => {
    await withTempDir("record-stream-error", async (dir) => {
      const { log, topic } = await topicWith(dir, [2]);
      const stream = topic.readable();
      await log.close(); // the log is closed before the first read
      await assert.rejects(async () => {
        for await (const _ of stream) { /* nothing arrives */ }
      }, /closed/);
      await assert.rejects(stream.getReader().read(), /closed/);
    });
  });

  test("tee, pipeThrough and instanceof work as on any ReadableStream", async () => {
    await withTempDir("record-stream-tee", async (dir) => {
      const { log, topic } = await topicWith(dir, [3, 40]);
      const stream = topic.readable();
      assert.ok(stream instanceof ReadableStream);
      const [a, b] = stream.tee();
      assert.equal(stream.locked, true);
      const fromA: number[] = [];
      const fromB: number[] = [];
      await Promise.all([
        (async () => {
          for await (const r of a) fromA.push(r.offset);
        })(),
        (async () => {
          for await (const r of b) fromB.push(r.offset);
        })(),
      ]);
      assert.deepEqual(fromA, Array.from({ length: 43 }, (_, i) => i));
      assert.deepEqual(fromB, fromA);
      const texts: string[] = [];
      const mapped = topic.readable({ from: 40 }).pipeThrough(
        new TransformStream<ConsumedRecord, string>({ transform: (r, c) => c.enqueue(text(r)) }),
      );
      for await (const t of mapped) texts.push(t);
      assert.deepEqual(texts, ["v40", "v41", "v42"]);
      await log.close();
    });
  });

  test("from and to anywhere inside batches: exactly the offsets in [from, to), by for await and by a reader", async () => {
    await withTempDir("record-stream-range", async (dir) => {
      const { log, topic, total } = await topicWith(dir, [5, 1, 30, 2, 300, 9]);
      await fc.assert(
        fc.asyncProperty(
          fc.nat(total),
          fc.nat(total + 2),
          fc.constantFrom(1, 64, 1 << 20),
          async (from, to, maxBytes) => {
            const want = Array.from({ length: Math.max(0, Math.min(to, total) - from) }, (_, i) => from + i);
            const viaIterator: number[] = [];
            for await (const r of topic.readable({ from, to, maxBytes })) viaIterator.push(r.offset);
            assert.deepEqual(viaIterator, want);
            const viaReader: number[] = [];
            const reader = topic.readable({ from, to, maxBytes }).getReader();
            for (let r = await reader.read(); !r.done; r = await reader.read()) {
              viaReader.push(r.value.offset);
            }
            assert.deepEqual(viaReader, want);
          },
        ),
        fcParams(60),
      );
      await log.close();
    });
  });

  test("a corrupt batch: the records before it arrive, then the loop rejects with CorruptRecordError", async () => {
    await withTempDir("record-stream-corrupt", async (dir) => {
      const { log } = await topicWith(dir, [3, 4, 5]);
      await log.close();
      // Flip a byte inside the second batch's records: its CRC-32C no longer matches.
      const path = `${dir}/t-0/00000000000000000000.log`;
      const bytes = fs.readFileSync(path);
      const second = 12 + new DataView(bytes.buffer, bytes.byteOffset).getInt32(8);
      bytes[second + 70] ^= 0xff;
      fs.writeFileSync(path, bytes);
      const reopened = await open(dir, { retentionCheckIntervalMs: 0 });
      const t = reopened.topic("t");
      const seen: number[] = [];
      await assert.rejects(async () => {
        for await (const r of t.readable()) seen.push(r.offset);
      }, CorruptRecordError);
      assert.deepEqual(seen, [0, 1, 2]);
      const reader = t.readable().getReader();
      const viaReader: number[] = [];
      await assert.rejects(async () => {
        for (let r = await reader.read(); !r.done; r = await reader.read()) viaReader.push(r.value.offset);
      }, CorruptRecordError);
      assert.deepEqual(viaReader, [0, 1, 2]);
      await reopened.close();
      // A read decoded a part at a time, the bad batch in any part: never a record past it, also in a
      // partition with offset gaps (a compacted one), where offsets need only increase.
      for (const gaps of [false, true]) {
        if (gaps) fs.writeFileSync(`${dir}/t-0/cleaner-offset-checkpoint`, "0\n0\n");
        const again = await open(dir, { retentionCheckIntervalMs: 0 });
        for (let decodeBytes = 1; decodeBytes < 400; decodeBytes += 7) {
          const source = new FetchSource("t", again.topic("t"), {}, true, decodeBytes);
          const parts: number[] = [];
          await assert.rejects(async () => {
            for await (const r of new RecordStream(source)) parts.push(r.offset);
          }, CorruptRecordError);
          assert.deepEqual(parts, [0, 1, 2], `decodeBytes ${decodeBytes}, gaps ${gaps}`);
        }
        // A fetch that threw leaves nothing behind it: the next one throws again.
        const fetcher = new PartitionFetcher(again.topic("t").partition(0), {
          maxBytes: 1 << 20,
          decodeBytes: 1,
        });
        assert.deepEqual(fetcher.fetch()?.map((r) => r.offset), [0, 1, 2]);
        assert.throws(() => fetcher.fetch(), CorruptRecordError);
        assert.throws(() => fetcher.fetch(), CorruptRecordError);
        await again.close();
      }
    });
  });

  test("a read decoded a part at a time: the records and their order of readableBatches(), partitions interleaving by read", async () => {
    await withTempDir("record-stream-parts", async (dir) => {
      const log = await open(dir, { retentionCheckIntervalMs: 0 });
      const topic = await log.createTopic("t", { partitions: 3 });
      const counts = [1, 9, 2, 40, 3, 1, 17, 5, 60, 2, 8, 1];
      for (const [i, count] of counts.entries()) {
        const value = "x".repeat(10 + 90 * (i % 3));
        await topic.append(Array.from({ length: count }, () => ({ value, partition: i % 3 })));
      }
      const key = (r: ConsumedRecord) => `${r.partition}:${r.offset}`;
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(1, 300, 2000, 1 << 20),
          fc.constantFrom(1, 500, 3000, 64 * 1024),
          fc.nat(60),
          fc.option(fc.nat(120), { nil: undefined }),
          async (maxBytes, decodeBytes, from, to) => {
            const options = { maxBytes, from: Math.min(from, 25), to }; // 25: the end of the shortest partition
            const want: string[] = [];
            for await (const records of topic.readableBatches(options)) want.push(...records.map(key));
            const got: string[] = [];
            const stream = new RecordStream(new FetchSource("t", topic, options, true, decodeBytes));
            for await (const r of stream) got.push(key(r));
            assert.deepEqual(got, want);
            const viaReadable: string[] = [];
            for await (const r of topic.readable(options)) viaReadable.push(key(r));
            assert.deepEqual(viaReadable, want);
          },
        ),
        fcParams(50),
      );
      // Following: records appended while a read is still being handed out come after it, in order.
      const controller = new AbortController();
      const seen: number[] = [];
      const stream = new RecordStream(
        new FetchSource("t", topic, { partitions: 0, follow: true, signal: controller.signal }, true, 1),
      );
      const end = topic.partition(0).logEndOffset;
      await assert.rejects(async () => {
        for await (const r of stream) {
          seen.push(r.offset);
          if (r.offset === 1) await topic.append([{ value: "late", partition: 0 }]);
          if (r.offset === end) controller.abort(new Error("enough"));
        }
      }, /enough/);
      assert.deepEqual(seen, Array.from({ length: end + 1 }, (_, i) => i));
      await log.close();
    });
  });

  test("reads 64 KiB first, then twice the last up to STREAM_READ_BYTES: 128 KiB on Bun, 1 MiB elsewhere", async () => {
    assert.equal(STREAM_READ_BYTES, RUNTIME === "bun" ? 128 * 1024 : 1 << 20);
    await withTempDir("record-stream-read-bytes", async (dir) => {
      const log = await open(dir, { retentionCheckIntervalMs: 0 });
      const topic = await log.createTopic("t");
      const value = new Uint8Array(1000).fill(7);
      for (let i = 0; i < 6; i++) await topic.append(Array.from({ length: 1000 }, () => ({ value })));
      const partition = topic.partition(0);
      const read = partition.read.bind(partition);
      const asked: number[] = [];
      partition.read = (offset, maxBytes, cursor) => {
        asked.push(maxBytes);
        return read(offset, maxBytes, cursor);
      };
      let n = 0;
      for await (const r of topic.readable()) {
        assert.equal(r.offset, n++);
        assert.deepEqual(r.value, value);
      }
      assert.equal(n, 6000);
      const want = [64 * 1024];
      while (want.length < asked.length) want.push(Math.min(want.at(-1)! * 2, STREAM_READ_BYTES));
      assert.deepEqual(asked, want);
      assert.equal(asked.at(-1), STREAM_READ_BYTES);
      // An explicit maxBytes still rules.
      asked.length = 0;
      for await (const _ of topic.readableBatches({ maxBytes: 100_000 })) { /* drain */ }
      assert.equal(Math.max(...asked), 100_000);
      await log.close();
    });
  });
});
