import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import { Consumer, OffsetOutOfRangeError, open, type Topic } from "../../mod.ts";
import { readCheckpoint } from "../../src/log/checkpoint.ts";
import { eventually, text, withTempDir } from "./_helpers.ts";
import { toArray } from "../_runtime.ts";

const HOUR = 3_600_000;
const CONFIG = { segmentBytes: 1024, indexIntervalBytes: 128, retentionMs: HOUR, fsync: "never" as const };

/** Appends `n` records one batch each to partition 0, with the given timestamps. */
async function appendEach(
  topic: Topic,
  n: number,
  timestamp: (i: number) => number,
  from = 0,
): Promise<void> {
  for (let i = 0; i < n; i++) {
    await topic.append([{ partition: 0, value: `v${from + i}`, timestamp: timestamp(from + i) }]);
  }
}

const logFiles = (dir: string) => fs.readdirSync(dir).filter((n) => n.endsWith(".log")).sort();

describe("retention", () => {
  test("deleteOldSegments() deletes whole segments older than retentionMs, never the active one, checkpointing the new log start offset", async () => {
    await withTempDir("time", async (dir) => {
      const log = await open(dir);
      const topic = await log.createTopic("t", { config: CONFIG });
      const now = Date.now();
      await appendEach(topic, 60, () => now - 2 * HOUR);
      await appendEach(topic, 30, () => now, 60);
      const pl = topic.partition(0);
      const before = pl.segments;
      assert.ok(before.length > 4);
      // The oldest recent record sits in the first segment that must stay.
      const keepFrom = before.findLast((s) => s.baseOffset <= 60)!.baseOffset;
      const deleted = topic.deleteOldSegments(now);
      assert.equal(deleted, before.findIndex((s) => s.baseOffset === keepFrom));
      assert.equal(pl.logStartOffset, keepFrom);
      assert.equal(readCheckpoint(path.join(dir, "t-0", "log-start-offset-checkpoint"), "t", 0), keepFrom);
      assert.deepEqual(
        logFiles(path.join(dir, "t-0")),
        before.slice(deleted).map((s) => path.basename(s.path)),
      );
      assert.deepEqual(fs.readdirSync(path.join(dir, "t-0")).filter((n) => n.endsWith(".deleted")), []);
      assert.equal((await toArray(topic.readable()))[0].offset, keepFrom);
      assert.throws(() => topic.readable({ from: 0 }), OffsetOutOfRangeError);
      // Everything old, in one active segment: nothing goes.
      const only = await log.createTopic("only", { config: CONFIG });
      await only.append([{ value: "old", timestamp: now - 2 * HOUR }]);
      assert.equal(only.deleteOldSegments(now), 0);
      await log.close();

      const again = await open(dir);
      assert.equal(again.topic("t").partition(0).logStartOffset, keepFrom);
      await again.close();
    });
  });

  test("property: retentionBytes keeps the newest segments holding at least that many bytes", {
    timeout: 60_000,
  }, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 80 }),
        fc.integer({ min: 0, max: 6000 }),
        async (records, retentionBytes) => {
          await withTempDir("bytes", async (dir) => {
            const log = await open(dir);
            const topic = await log.createTopic("t", {
              config: { ...CONFIG, retentionMs: -1, retentionBytes },
            });
            await appendEach(topic, records, () => Date.now());
            const pl = topic.partition(0);
            const sizes = pl.segments.map((s) => s.size);
            const deleted = pl.deleteOldSegments();
            const kept = sizes.slice(deleted);
            const total = kept.reduce((a, b) => a + b, 0);
            if (deleted > 0) {
              assert.ok(total >= retentionBytes, `kept ${total} bytes, at least ${retentionBytes}`);
            }
            if (kept.length > 1) {
              assert.ok(total - kept[0] < retentionBytes, "no further segment could go");
            }
            assert.equal(pl.size, total);
            assert.equal(pl.logStartOffset, pl.segments[0].baseOffset);
            await log.close();
          });
        },
      ),
      { numRuns: 25 },
    );
  });

  test("a crash between the checkpoint and the file removal leaves a consistent log that the next check finishes", async () => {
    await withTempDir("crash", async (dir) => {
      const log = await open(dir);
      const topic = await log.createTopic("t", { config: CONFIG });
      const now = Date.now();
      await appendEach(topic, 60, () => now - 2 * HOUR);
      await appendEach(topic, 10, () => now, 60);
      const pl = topic.partition(0);
      const segments = pl.segments;
      pl.abandon();
      const pdir = path.join(dir, "t-0");
      // As if the process died after the checkpoint, with one segment renamed and one not.
      fs.writeFileSync(
        path.join(pdir, "log-start-offset-checkpoint"),
        `0\n1\nt 0 ${segments[2].baseOffset}\n`,
      );
      fs.renameSync(segments[0].path, `${segments[0].path}.deleted`);
      fs.rmSync(segments[0].path.replace(/\.log$/, ".index"), { force: true });
      fs.rmSync(segments[0].path.replace(/\.log$/, ".timeindex"), { force: true });
      const again = await open(dir);
      const t = again.topic("t");
      assert.ok(!fs.readdirSync(pdir).some((n) => n.endsWith(".deleted")), "leftovers are removed at open");
      assert.equal(t.partition(0).logStartOffset, segments[2].baseOffset);
      assert.equal((await toArray(t.readable()))[0].offset, segments[2].baseOffset);
      assert.ok(
        t.deleteOldSegments(now) >= 1,
        "the segment below the log start offset goes at the next check",
      );
      assert.equal(t.partition(0).segments[0].baseOffset >= segments[2].baseOffset, true);
      await again.close();
    });
  });

  test(
    "retention runs on its interval over the partitions this process writes",
    { timeout: 60_000 },
    async () => {
      await withTempDir("timer", async (dir) => {
        const log = await open(dir, { retentionCheckIntervalMs: 20 });
        const topic = await log.createTopic("t", { config: CONFIG });
        await appendEach(topic, 40, () => Date.now() - 2 * HOUR);
        await appendEach(topic, 1, () => Date.now(), 40);
        await eventually(() => topic.partition(0).segments.length === 1, "the retention check to run");
        assert.equal(topic.partition(0).logStartOffset, topic.partition(0).segments[0].baseOffset);
        await log.close();
      });
    },
  );

  test(
    "while a reader is active, retention moves the log start offset past it: readable() errors, a consumer does what autoOffsetReset says",
    { timeout: 60_000 },
    async () => {
      await withTempDir("readers", async (dir) => {
        const log = await open(dir);
        const topic = await log.createTopic("t", { config: CONFIG });
        const now = Date.now();
        await appendEach(topic, 60, () => now - 2 * HOUR);
        await appendEach(topic, 20, () => now, 60);
        // Another open of the directory: a reading process whose view must follow the writer's retention.
        const other = await open(dir);

        const stream = topic.readable({ maxBytes: 1 }).getReader();
        const remote = other.topic("t").readable({ maxBytes: 1 }).getReader();
        const consumers = (["earliest", "latest", "none"] as const).map((reset) => {
          const c = new Consumer(reset === "none" ? other : log, {
            groupId: `g-${reset}`,
            autoOffsetReset: reset,
            maxBytes: 1,
          });
          c.assign([{ topic: "t", partition: 0 }]);
          c.seek({ topic: "t", partition: 0 }, 0);
          return c;
        });
        for (let i = 0; i < 5; i++) {
          assert.equal((await stream.read()).value!.offset, i);
          assert.equal((await remote.read()).value!.offset, i);
        }
        for (const c of consumers) {
          assert.deepEqual((await c.poll({ maxRecords: 5 })).map((r) => r.offset), [0, 1, 2, 3, 4]);
        }

        const deleted = topic.deleteOldSegments(now);
        assert.ok(deleted > 0);
        const start = topic.partition(0).logStartOffset;
        assert.ok(start > 5);

        await assert.rejects(() => stream.read(), OffsetOutOfRangeError);
        await assert.rejects(() => remote.read(), OffsetOutOfRangeError);
        const [earliest, latest, none] = consumers;
        assert.equal(
          (await earliest.poll({ maxRecords: 1 }))[0].offset,
          start,
          "earliest: moved to the new log start offset",
        );
        assert.deepEqual(await latest.poll(), [], "latest: moved to the end");
        assert.equal(latest.position({ topic: "t", partition: 0 }), 80);
        await topic.append([{ partition: 0, value: "new", timestamp: now }]);
        assert.deepEqual(
          (await latest.poll({ timeoutMs: 30_000 })).map((r) => text(r.value)),
          ["new"],
        );
        await assert.rejects(() => none.poll(), (err: unknown) => {
          assert.ok(err instanceof OffsetOutOfRangeError);
          assert.equal(err.offset, 5);
          assert.equal(err.logStartOffset, start);
          return true;
        });
        for (const c of consumers) await c.close();
        await other.close();
        await log.close();
      });
    },
  );
});
