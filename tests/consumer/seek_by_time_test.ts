import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { Consumer, JsonLineRecordStream, LineStream, open, type Topic } from "../../mod.ts";
import { withTempDir } from "./_helpers.ts";
import { toArray } from "../_runtime.ts";

const SAMPLE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../../data/wikiticker/wikiticker-2015-09-12-sampled.json.gz",
);
const PARTITIONS = 3;

/** Kafka's rule, by a plain scan: the first offset whose timestamp is at or after `target`. */
function scan(timestamps: number[], target: number): number | null {
  const i = timestamps.findIndex((t) => t >= target);
  return i < 0 ? null : i;
}

async function ingest(topic: Topic): Promise<void> {
  const bytes = fs.readFileSync(SAMPLE);
  await new Blob([bytes]).stream()
    .pipeThrough(new DecompressionStream("gzip"))
    .pipeThrough(new LineStream())
    .pipeThrough(new JsonLineRecordStream({ key: "channel", timestamp: "time" }))
    .pipeTo(topic.writable());
}

describe("seek by time on the wikiticker sample", () => {
  test(
    "offsetsForTimes(), readable({ from: { timestamp } }) and the consumer agree with a plain scan, in the writer and in a reader",
    { timeout: 120_000 },
    async () => {
      await withTempDir("wikiticker", async (dir) => {
        const log = await open(dir);
        // Segments of 256 KiB and index entries every 4 KiB: many segments, many index entries.
        const topic = await log.createTopic("edits", {
          partitions: PARTITIONS,
          config: { segmentBytes: 256 * 1024, indexIntervalBytes: 4096, fsync: "never" },
        });
        await ingest(topic);

        // The plain scan: every record's timestamp, per partition, in offset order.
        const timestamps: number[][] = Array.from({ length: PARTITIONS }, () => []);
        for await (const batch of topic.readableBatches()) {
          for (const r of batch) {
            assert.equal(r.offset, timestamps[r.partition].length);
            timestamps[r.partition].push(r.timestamp);
          }
        }
        const all = timestamps.flat();
        assert.equal(all.length, 39244);
        assert.ok(topic.describe().every((d) => d.segments > 3), "several segments per partition");
        // The sample's first records are out of time order: the time index must cope.
        assert.ok(timestamps.some((ts) => ts.some((t, i) => i > 0 && t < ts[i - 1])));

        const sorted = [...all].sort((a, b) => a - b);
        const targets = new Set<number>([
          sorted[0] - 1,
          sorted[0],
          sorted.at(-1)!,
          sorted.at(-1)! + 1,
          Date.parse("2015-09-12T00:00:00Z"),
          Date.parse("2015-09-12T12:00:00Z"),
          Date.parse("2015-09-12T23:59:59.999Z"),
          ...timestamps.flatMap((ts) => ts.slice(0, 25)), // the out-of-order start
          ...[0.1, 0.25, 0.5, 0.75, 0.9, 0.99].map((q) => sorted[Math.floor(q * sorted.length)]),
        ]);
        fc.sample(fc.integer({ min: sorted[0] - 1000, max: sorted.at(-1)! + 1000 }), {
          numRuns: 40,
          seed: 42,
        })
          .forEach((t) => targets.add(t));

        const reader = await open(dir); // another open: a reading process's view of the same files
        const views = [{ name: "writer", t: topic }, { name: "reader", t: reader.topic("edits") }];
        const consumer = new Consumer(reader);
        const tps = Array.from({ length: PARTITIONS }, (_, p) => ({ topic: "edits", partition: p }));
        for (const target of targets) {
          const expected = timestamps.map((ts) => scan(ts, target));
          for (const { name, t } of views) {
            const found = t.offsetsForTimes(target);
            for (let p = 0; p < PARTITIONS; p++) {
              const e = expected[p];
              assert.deepEqual(
                found[p],
                e === null ? null : { partition: p, offset: e, timestamp: timestamps[p][e] },
                `${name}: partition ${p}, target ${new Date(target).toISOString()}`,
              );
            }
          }
          assert.deepEqual(
            consumer.offsetsForTimes(tps, target).map((f) => f?.offset ?? null),
            expected,
            `consumer, target ${target}`,
          );
        }
        // readable({ from: { timestamp } }) starts each partition there.
        for (const target of [...targets].slice(0, 20)) {
          for (let p = 0; p < PARTITIONS; p++) {
            const reading = topic.readable({
              partitions: p,
              from: { timestamp: target },
              to: (scan(timestamps[p], target) ?? 1e9) + 1,
            });
            const first = (await toArray(reading))[0];
            assert.equal(
              first?.offset ?? null,
              scan(timestamps[p], target),
              `readable, partition ${p}, target ${target}`,
            );
          }
        }
        await consumer.close();
        await reader.close();
        await log.close();
      });
    },
  );
});
