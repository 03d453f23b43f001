// Issue 15, item 3: topic administration. A topic's config changes with validation and takes
// effect without a restart (here at once, in other processes within a second); partitions are
// added, never removed; records before an offset are deleted by moving the log start offset, as
// Kafka's IncrementalAlterConfigs, CreatePartitions and DeleteRecords do.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  InvalidConfigError,
  InvalidPartitionsError,
  OffsetOutOfRangeError,
  open,
  UnknownTopicOrPartitionError,
} from "../../mod.ts";
import { withTempDir } from "../durability/_helpers.ts";

const text = (b: Uint8Array | null) => new TextDecoder().decode(b!);

async function until(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe("topic administration", () => {
  test("alterTopicConfig(): checked whole, stored, in effect at once here and soon in another open", async () => {
    await withTempDir("alter-config", async (dir) => {
      const log = await open(dir, { retentionCheckIntervalMs: 0 });
      const topic = await log.createTopic("t", { config: { segmentBytes: 1 << 20 } });
      const other = await open(dir, { retentionCheckIntervalMs: 0 });
      const seen = other.topic("t");
      assert.equal(seen.config.segmentBytes, 1 << 20);

      const stored = fs.readFileSync(path.join(dir, ".topics", "t.json"), "utf8");
      await assert.rejects(
        log.alterTopicConfig("t", { segmentBytes: 2048, colour: "red" } as never),
        InvalidConfigError,
      );
      await assert.rejects(log.alterTopicConfig("t", { segmentBytes: 10 }), (err: unknown) => {
        assert.ok(err instanceof InvalidConfigError);
        assert.equal(err.errorCode, 40);
        return true;
      });
      assert.equal(fs.readFileSync(path.join(dir, ".topics", "t.json"), "utf8"), stored, "nothing changed");
      await assert.rejects(
        log.alterTopicConfig("nope", { segmentBytes: 2048 }),
        UnknownTopicOrPartitionError,
      );

      const config = await log.alterTopicConfig("t", { segmentBytes: 1024, fsync: "always" });
      assert.equal(config.segmentBytes, 1024);
      assert.equal(topic.config.segmentBytes, 1024);
      // The writer uses it at once: 600-byte records fill a 1 KiB segment each.
      for (let i = 0; i < 3; i++) await topic.append([{ value: "x".repeat(600) }]);
      assert.equal(topic.describe()[0].segments, 3);
      assert.equal(topic.partition(0).config.fsync, "always");
      // Another open of the directory (another process, as far as files go) picks it up.
      await until(() => seen.config.segmentBytes === 1024, "the other open to see the new config");
      assert.equal(seen.partition(0).config.segmentBytes, 1024);
      // null resets a key to the directory's default.
      const reset = await log.alterTopicConfig("t", { segmentBytes: null });
      assert.equal(reset.segmentBytes, 1 << 30);
      assert.equal(reset.fsync, "always", "other keys are kept");
      await other.close();
      await log.close();
      const again = await open(dir, { retentionCheckIntervalMs: 0 });
      assert.equal(again.topic("t").config.fsync, "always", "stored");
      await again.close();
    });
  });

  test("createPartitions(): more partitions, never fewer; other opens see and read them", async () => {
    await withTempDir("add-partitions", async (dir) => {
      const log = await open(dir, { retentionCheckIntervalMs: 0 });
      const topic = await log.createTopic("t");
      await topic.append([{ value: "p0" }]);
      const other = await open(dir, { retentionCheckIntervalMs: 0 });
      const seen = other.topic("t");
      await assert.rejects(log.createPartitions("t", 1), InvalidPartitionsError);
      await assert.rejects(log.createPartitions("t", 0), (err: unknown) => {
        assert.ok(err instanceof InvalidPartitionsError);
        assert.equal(err.errorCode, 37);
        return true;
      });
      await assert.rejects(log.createPartitions("t", 100_001), InvalidPartitionsError);
      assert.equal(await log.createPartitions("t", 3), 3);
      assert.equal(topic.partitions, 3);
      for (const p of [1, 2]) {
        assert.ok(fs.existsSync(path.join(dir, `t-${p}`, "00000000000000000000.log")), `t-${p} made`);
      }
      await topic.append([{ partition: 2, value: "p2" }]);
      await until(() => seen.partitions === 3, "the other open to see 3 partitions");
      const values = [];
      for await (const r of seen.readable({ partitions: 2 })) values.push(text(r.value));
      assert.deepEqual(values, ["p2"]);
      await other.close();
      await log.close();
      const again = await open(dir, { retentionCheckIntervalMs: 0 });
      assert.equal(again.topic("t").partitions, 3);
      assert.deepEqual(again.topic("t").describe().map((p) => p.logEndOffset), [1, 0, 1]);
      await again.close();
    });
  });

  test("deleteRecords(): the log start offset moves, segments below it go, and it survives a reopen", async () => {
    await withTempDir("delete-records", async (dir) => {
      const log = await open(dir, { retentionCheckIntervalMs: 0 });
      const topic = await log.createTopic("t", { partitions: 2, config: { segmentBytes: 1024 } });
      for (let i = 0; i < 10; i++) await topic.append([{ partition: 0, value: `${i}`.padEnd(300, ".") }]);
      await topic.append([{ partition: 1, value: "only" }]);
      const segmentsBefore = topic.describe()[0].segments;
      assert.ok(segmentsBefore >= 4);
      await assert.rejects(log.deleteRecords("t", [{ partition: 0, offset: 11 }]), OffsetOutOfRangeError);
      await assert.rejects(
        log.deleteRecords("t", [{ partition: 5, offset: 1 }]),
        UnknownTopicOrPartitionError,
      );
      const low = await log.deleteRecords("t", [{ partition: 0, offset: 7 }, { partition: 1, offset: -1 }]);
      assert.deepEqual(low, [{ partition: 0, lowWatermark: 7 }, { partition: 1, lowWatermark: 1 }]);
      const [p0, p1] = topic.describe();
      assert.equal(p0.logStartOffset, 7);
      assert.ok(p0.segments < segmentsBefore, "segments wholly below the new start are deleted");
      assert.equal(p1.logStartOffset, 1);
      const kept = [];
      for await (const r of topic.readable({ partitions: 0 })) kept.push(r.offset);
      assert.deepEqual(kept, [7, 8, 9]);
      assert.throws(() => topic.readable({ partitions: 0, from: 3 }), OffsetOutOfRangeError);
      // Deleting before an offset already gone changes nothing.
      assert.deepEqual(await log.deleteRecords("t", [{ partition: 0, offset: 2 }]), [{
        partition: 0,
        lowWatermark: 7,
      }]);
      await log.close();
      const again = await open(dir, { retentionCheckIntervalMs: 0 });
      assert.deepEqual(again.topic("t").describe().map((p) => p.logStartOffset), [7, 1]);
      await again.close();
    });
  });
});
