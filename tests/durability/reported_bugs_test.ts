// Bugs the durability and fuzz tests found in src/, each as a small deterministic test that failed
// until the bug was fixed. Each names the code at fault. Every one is fixed, and its trigger is back
// in the property tests (torn_write_test.ts: index positions moved into a batch, emptied
// .timeindex files, damage to baseOffset / batchLength / lastOffsetDelta, power loss while a rolled
// segment's fdatasync is under way, bursts that roll several segments).

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  type ConsumedRecord,
  CorruptRecordError,
  open,
  RecordTooLargeError,
  ReelError,
  type Topic,
} from "../../mod.ts";
import { encodeRecordBatch } from "../../src/record/mod.ts";
import {
  PowerLoss,
  ROOT,
  RUNTIME,
  runtimeCommand,
  segmentFiles,
  snapshot,
  spawnLines,
  withTempDir,
} from "./_helpers.ts";
import { verifyLogDirectory } from "../../src/cli/commands/verify.ts";

const T0 = 1_700_000_000_000;

/** Random bytes from a fixed seed: incompressible. */
function noise(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

async function readAll(topic: Topic, partition = 0): Promise<{ records: ConsumedRecord[]; error?: unknown }> {
  const records: ConsumedRecord[] = [];
  try {
    for await (const r of topic.readable({ partitions: partition, from: "earliest" })) records.push(r);
    return { records };
  } catch (error) {
    return { records, error };
  }
}

/**
 * Writes six records 10 ms apart (an index entry per batch), closes cleanly, then moves index
 * entry `entry`'s position `by` bytes.
 */
async function sixRecordsWithIndexEntryMoved(
  dir: string,
  entry: number,
  by: number,
): Promise<{ index: string; good: Uint8Array }> {
  const log = await open(dir);
  const topic = await log.createTopic("t", { config: { indexIntervalBytes: 0, segmentBytes: 1 << 20 } });
  for (let i = 0; i < 6; i++) await topic.append([{ value: `r${i}`, timestamp: T0 + 10 * i }]);
  const index = topic.partition(0).segments[0].path.replace(/\.log$/, ".index");
  await log.close();
  const good = new Uint8Array(fs.readFileSync(index));
  assert.ok(good.length >= 8 * (entry + 1));
  const bytes = good.slice();
  const view = new DataView(bytes.buffer);
  view.setInt32(8 * entry + 4, view.getInt32(8 * entry + 4) + by);
  fs.writeFileSync(index, bytes);
  return { index, good };
}

describe(`reported bugs (${RUNTIME}), fixed: regression tests`, () => {
  // ---------------------------------------------------------------------------------------------
  // src/topic/_topic_appender.ts, src/producer/record_accumulator.ts: append() is documented as all or nothing.

  test("topic.append() is all or nothing: a compressed batch refused as too large leaves no other partition's records behind", async () => {
    await withTempDir("bug-atomic", async (dir) => {
      const log = await open(dir);
      try {
        const topic = await log.createTopic("t", { partitions: 2, config: { maxMessageBytes: 4096 } });
        // 4010 random bytes fit the producer's estimate, but snappy makes the batch larger than 4096.
        const value = noise(4010);
        assert.ok(
          encodeRecordBatch([{ value }], { compression: 2 }).length > 4096,
          "the compressed batch is too large",
        );
        await assert.rejects(
          topic.append([{ partition: 1, value: "small" }, { partition: 0, value }], { compression: 2 }),
          RecordTooLargeError,
        );
        assert.deepEqual(topic.describe().map((d) => d.logEndOffset), [0, 0], "nothing may be appended");
      } finally {
        await log.close();
      }
    });
  });

  // ---------------------------------------------------------------------------------------------
  // src/log/partition_log.ts read(), src/log/log_segment.ts translateOffset(): a read steps over
  // batches by their baseOffset, batchLength and lastOffsetDelta without checking them (the first
  // two lie outside the CRC), so damage there in a segment an open trusts is skipped silently.

  for (
    const [field, at, change] of [
      ["baseOffset", 7, 1],
      ["batchLength", 11, 40],
      ["lastOffsetDelta", 23, 0x80],
    ] as const
  ) {
    test(`after a clean close, a batch whose ${field} was damaged fails reads with CORRUPT_MESSAGE; no record is skipped or renumbered`, async () => {
      await withTempDir("bug-header", async (dir) => {
        let log = await open(dir);
        const topic = await log.createTopic("t", { config: { segmentBytes: 1 << 20 } });
        for (let i = 0; i < 3; i++) await topic.append([{ value: `r${i}`, timestamp: T0 + i }]);
        const file = topic.partition(0).segments[0].path;
        await log.close();
        const bytes = new Uint8Array(fs.readFileSync(file));
        bytes[at] ^= change; // in the first batch
        fs.writeFileSync(file, bytes);
        log = await open(dir);
        try {
          const { records, error } = await readAll(log.topic("t"));
          records.forEach((r, i) => assert.equal(r.offset, i, "records keep their offsets"));
          assert.ok(
            error instanceof CorruptRecordError,
            `expected CorruptRecordError, read ${records.length} records and ${error}`,
          );
          assert.equal(error.segment, file);
          assert.equal(error.position, 0);
        } finally {
          await log.close();
        }
      });
    });
  }

  // ---------------------------------------------------------------------------------------------
  // src/log/partition_log.ts decode(), src/consumer/fetch_source.ts: decode() throws for the whole
  // read when one batch in it is corrupt, so the good records before that batch in the same read
  // never reach the consumer (Kafka's consumer returns them, then raises the error).

  test("the records before a corrupt batch are delivered before the CORRUPT_MESSAGE error, whatever maxBytes", async () => {
    await withTempDir("bug-before", async (dir) => {
      let log = await open(dir);
      const topic = await log.createTopic("t");
      for (let i = 0; i < 3; i++) await topic.append([{ value: `r${i}`, timestamp: T0 + i }]);
      const file = topic.partition(0).segments[0].path;
      await log.close();
      const bytes = new Uint8Array(fs.readFileSync(file));
      bytes[bytes.length - 1] ^= 1; // inside the last batch's records: its CRC fails
      fs.writeFileSync(file, bytes);
      log = await open(dir);
      try {
        const { records, error } = await readAll(log.topic("t"));
        assert.ok(error instanceof CorruptRecordError);
        assert.deepEqual(records.map((r) => r.offset), [0, 1], "the two good records are delivered first");
      } finally {
        await log.close();
      }
    });
  });

  // ---------------------------------------------------------------------------------------------
  // src/log/log_segment.ts loadIndexes(): on a clean open the indexes are trusted after a check
  // that cannot see an entry moved into the middle of a batch, nor an emptied time index.

  test("after a clean close, an .index entry moved into the middle of a batch is caught: every offset still reads", async () => {
    await withTempDir("bug-index", async (dir) => {
      // The second entry's position, 2 bytes into its batch.
      await sixRecordsWithIndexEntryMoved(dir, 1, 2);
      const log = await open(dir);
      try {
        const t = log.topic("t");
        for (let o = 0; o < 6; o++) {
          const got: number[] = [];
          for await (const r of t.readable({ from: o, to: o + 1 })) got.push(r.offset);
          assert.deepEqual(got, [o], `reading offset ${o}`);
        }
      } finally {
        await log.close();
      }
    });
  });

  test("after a clean close, an .index entry moved into a batch: seeks by time still find every record, and the reader that noticed repairs the file", async () => {
    await withTempDir("bug-index-time", async (dir) => {
      // The first entry's position, 3 bytes into its batch.
      const { index, good } = await sixRecordsWithIndexEntryMoved(dir, 0, 3);
      const log = await open(dir);
      try {
        const t = log.topic("t");
        for (let i = 0; i < 6; i++) {
          assert.deepEqual(t.offsetsForTimes(T0 + 10 * i - 5)[0], {
            partition: 0,
            offset: i,
            timestamp: T0 + 10 * i,
          });
        }
        assert.equal(t.partition(0).isWriter, false, "only a reader so far");
      } finally {
        await log.close();
      }
      assert.deepEqual(new Uint8Array(fs.readFileSync(index)), good, "the index file is as it was written");
      assert.deepEqual(verifyLogDirectory(dir).flatMap((r) => r.problems), []);
    });
  });

  test("after a clean close, an emptied .timeindex of a segment with records is rebuilt: offsetsForTimes still finds them", async () => {
    await withTempDir("bug-timeindex", async (dir) => {
      let log = await open(dir);
      const topic = await log.createTopic("t");
      for (let i = 0; i < 3; i++) await topic.append([{ value: `r${i}`, timestamp: T0 + i }]);
      const timeindex = topic.partition(0).segments[0].path.replace(/\.log$/, ".timeindex");
      await log.close();
      fs.writeFileSync(timeindex, new Uint8Array(0));
      log = await open(dir);
      try {
        assert.deepEqual(log.topic("t").offsetsForTimes(T0 + 1), [{
          partition: 0,
          offset: 1,
          timestamp: T0 + 1,
        }]);
      } finally {
        await log.close();
      }
    });
  });

  // ---------------------------------------------------------------------------------------------
  // src/log/partition_log.ts abandon(): documented to leave the files "as a crash would", but an
  // fsync under way keeps going, and flushes index entries to disk after the abandon.

  test("abandon() leaves the files as a crash would: nothing is written after it", async () => {
    await withTempDir("bug-abandon", async (dir) => {
      const log = await open(dir);
      const topic = await log.createTopic("t", { config: { fsync: "always", indexIntervalBytes: 0 } });
      for (let i = 0; i < 3; i++) await topic.append([{ value: `r${i}` }]);
      const a = topic.append([{ value: "a" }]).catch(() => {});
      const b = topic.append([{ value: "b" }]).catch(() => {});
      topic.partition(0).abandon();
      const atCrash = snapshot(dir);
      await Promise.all([a, b]);
      const later = snapshot(dir);
      for (const [name, bytes] of later) {
        assert.deepEqual(bytes, atCrash.get(name), `${name} changed after abandon()`);
      }
      await log.close();
    });
  });

  // ---------------------------------------------------------------------------------------------
  // src/log/log_segment.ts flush(), src/log/partition_log.ts roll(): `dirty` is cleared before the
  // fdatasync runs and is not set again when it fails, so the data of a failed sync is never synced
  // again, and a flush() started meanwhile does not wait for it. A power loss then takes records
  // that flush() reported durable, and leaves a hole before records that survive.

  test('fsync "interval": records before a flush() that resolved survive a power loss, even when a rolled segment\'s fdatasync failed', async () => {
    await withTempDir("bug-flush", async (dir) => {
      let target: { dev: number; ino: number } | undefined;
      const power = new PowerLoss((op) => {
        if (op.op !== "sync" || !target) return undefined;
        const st = fs.fstatSync(op.fd);
        if (st.ino !== target.ino || st.dev !== target.dev) return undefined;
        target = undefined;
        return { error: Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" }) };
      }).install();
      let flushed = 0;
      try {
        const log = await open(dir);
        const topic = await log.createTopic("t", {
          config: { fsync: "interval", fsyncIntervalMs: 60_000, segmentBytes: 1024 },
        });
        for (let i = 0; i < 4; i++) await topic.append([{ value: noise(150, i) }]);
        const st = fs.statSync(topic.partition(0).segments[0].path);
        target = { dev: st.dev, ino: st.ino }; // the first segment's next sync fails
        await topic.append([{ value: noise(600, 9) }]); // rolls: the first segment's sync fails
        await topic.flush();
        flushed = topic.partition(0).logEndOffset;
        power.powerOff();
        topic.partition(0).abandon();
      } finally {
        power.uninstall();
      }
      for (const file of segmentFiles(path.join(dir, "t-0"))) fs.truncateSync(file, power.durableSize(file));
      const log = await open(dir);
      try {
        const { records } = await readAll(log.topic("t"));
        assert.deepEqual(
          records.map((r) => r.offset),
          Array.from({ length: flushed }, (_, i) => i),
          "every record flushed is there",
        );
      } finally {
        await log.close();
      }
    });
  });

  // ---------------------------------------------------------------------------------------------
  // src/log/partition_log.ts loadForWriting(): recovery deletes the segments after one that was
  // cut, or that overlaps the next, but not after one that ends short of the next segment's base
  // offset. After a power loss that emptied rolled segments, the log end offset is then past the
  // last record, and the next append leaves a hole in the offsets.

  test("after a power loss that emptied rolled segments, the log end offset is the end of the records: offsets stay dense", async () => {
    await withTempDir("bug-hole", async (dir) => {
      const power = new PowerLoss().install();
      try {
        const log = await open(dir);
        const topic = await log.createTopic("t", { config: { fsync: "never" } });
        const pl = topic.partition(0);
        await topic.append([{ value: "a" }, { value: "b" }]);
        pl.roll();
        await topic.append([{ value: "c" }]);
        pl.roll();
        power.powerOff(); // before the rolled segments' syncs complete
        pl.abandon();
      } finally {
        power.uninstall();
      }
      for (const file of segmentFiles(path.join(dir, "t-0"))) fs.truncateSync(file, power.durableSize(file));
      const log = await open(dir);
      try {
        const topic = log.topic("t");
        const { records } = await readAll(topic);
        assert.equal(topic.partition(0).logEndOffset, records.length, "log end offset");
        const [meta] = await topic.append([{ value: "next" }]);
        assert.equal(meta.offset, records.length, "the next append's offset");
      } finally {
        await log.close();
      }
    });
  });

  // ---------------------------------------------------------------------------------------------
  // src/topic/log_directory.ts open(): a topic's stored config (.topics/<topic>.json) is trusted
  // without bounds, and a bad value in it is a TypeError or RangeError (for a wrong argument).

  test("a corrupt topic config file makes open() fail with a typed error (a ReelError), not TypeError", async () => {
    for (const config of [{ unknownKey: 1 }, { fsync: "sometimes" }, { segmentBytes: -5 }]) {
      await withTempDir("bug-config", async (dir) => {
        fs.mkdirSync(path.join(dir, ".topics"), { recursive: true });
        fs.writeFileSync(
          path.join(dir, ".topics", "t.json"),
          JSON.stringify({ version: 0, name: "t", partitions: 1, config }),
        );
        try {
          const log = await open(dir);
          await log.close();
        } catch (err) {
          assert.ok(err instanceof ReelError, `${JSON.stringify(config)}: ${err}`);
        }
      });
    }
  });

  test("a topic config file claiming 10^9 partitions does not make open() create directories for minutes", {
    timeout: 60_000,
  }, async () => {
    await withTempDir("bug-partitions", async (dir) => {
      fs.mkdirSync(path.join(dir, ".topics"), { recursive: true });
      fs.writeFileSync(
        path.join(dir, ".topics", "t.json"),
        JSON.stringify({ version: 0, name: "t", partitions: 1e9, config: {} }),
      );
      const [cmd, args] = runtimeCommand(path.join(ROOT, "tests", "durability", "crash_child.ts"), [
        "open",
        dir,
      ]);
      const child = spawnLines(cmd, args);
      // A bounded amount of work: allow 8 s, far more than checking a number needs.
      const timer = setTimeout(() => child.child.kill("SIGKILL"), 8_000);
      const line = await child.nextLine();
      clearTimeout(timer);
      const { signal } = await child.exited;
      assert.notEqual(signal, "SIGKILL", "open() was still creating partition directories after 8 s");
      assert.ok(line === "threw StorageError" || line === "opened", String(line));
    });
  });

  // ---------------------------------------------------------------------------------------------
  // src/log/partition_log.ts checkOffset(): NaN passes both comparisons.

  test("PartitionLog.read(NaN) throws RangeError instead of returning null", async () => {
    await withTempDir("bug-nan", async (dir) => {
      const log = await open(dir);
      try {
        const topic = await log.createTopic("t");
        await topic.append([{ value: "a" }]);
        assert.throws(() => topic.partition(0).read(NaN, 100), RangeError);
      } finally {
        await log.close();
      }
    });
  });
});
