// topic.readable() returns a RecordStream: a ReadableStream whose `for await` takes records a read
// at a time from the source. These tests hold it to the standard ReadableStream behaviour: the same
// records in the same order by every way of reading, locking, cancel on an early end (and
// preventCancel), records already queued by a reader come first, errors and aborts, follow.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { open } from "../../mod.ts";
import type { ConsumedRecord } from "../../mod.ts";
import { withTempDir } from "../durability/_helpers.ts";

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
        { numRuns: 40 },
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
});
