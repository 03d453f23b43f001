// Every reader over a compacted topic, whose offsets have gaps: topic.readable, the Consumer, a
// Fetch from `reel serve`, offsetForTimestamp, `reel verify` and `reel dump`.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createInterface } from "node:readline";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  type ConsumedRecord,
  Consumer,
  InvalidConfigError,
  InvalidRecordError,
  type LogDirectory,
  open,
  type Topic,
} from "../../mod.ts";
import { decodeRecordBatch, encodeRecordBatch } from "../../src/record/mod.ts";
import { FetchSource } from "../../src/consumer/fetch_source.ts";
import { RecordStream } from "../../src/consumer/record_stream.ts";
import { verifyPartition } from "../../src/cli/commands/verify.ts";
import { RawClient, withBroker } from "../server/_helpers.ts";
import { ROOT, scriptCommand } from "../_runtime.ts";

const T0 = 1_700_000_000_000;
const text = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));

async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-compaction-"));
  try {
    return await fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** 100 records over 5 keys in small segments, compacted: offsets 95 to 99 are left, then 100 to 101 in the active segment. */
async function compactedTopic(log: LogDirectory): Promise<Topic> {
  const topic = await log.createTopic("users", { config: { cleanupPolicy: "compact", segmentBytes: 1024 } });
  for (let i = 0; i < 100; i++) {
    await topic.append([{
      partition: 0,
      key: `k${i % 5}`,
      value: `v${i}`.padEnd(60, "."),
      timestamp: T0 + i,
    }]);
  }
  topic.partition(0).roll();
  await topic.append([{ partition: 0, key: "k0", value: "a", timestamp: T0 + 100 }]);
  await topic.append([{ partition: 0, key: "k1", value: "b", timestamp: T0 + 101 }]);
  const [stats] = await topic.compact();
  assert.equal(stats.firstUncleanableOffset, 100);
  return topic;
}

const EXPECTED = [95, 96, 97, 98, 99, 100, 101];

/** The sealed segments' `.log` files. */
function sealed(partitionDir: string): string[] {
  const logs = fs.readdirSync(partitionDir).filter((n) => n.endsWith(".log")).sort();
  return logs.slice(0, -1).map((n) => path.join(partitionDir, n));
}

/** The last sealed segment's `.log` file: the one holding offsets 95 to 99. */
function lastSealed(partitionDir: string): string {
  const logs = fs.readdirSync(partitionDir).filter((n) => n.endsWith(".log")).sort();
  return path.join(partitionDir, logs[logs.length - 2]);
}

describe("readers of a compacted topic", () => {
  test("topic.readable and the Consumer step over the gaps, from the start and from inside a gap", async () => {
    await withTempDir(async (dir) => {
      const log = await open(dir);
      const topic = await compactedTopic(log);
      const offsets = async (from: "earliest" | number) => {
        const out: number[] = [];
        for await (
          const r of topic.readable({ from: from === "earliest" ? "earliest" : { 0: from } as never })
        ) {
          out.push(r.offset);
        }
        return out;
      };
      assert.deepEqual(await offsets("earliest"), EXPECTED);
      // Each read decoded a batch at a time (what readable() does 128 KiB at a time): the same.
      for (const from of [0, 50, 96]) {
        const stream = new RecordStream(new FetchSource("users", topic, { from }, true, 1));
        const got: number[] = [];
        for await (const r of stream) got.push(r.offset);
        assert.deepEqual(got, EXPECTED.filter((o) => o >= from));
      }
      const consumer = new Consumer(log, { autoOffsetReset: "earliest" });
      const tp = { topic: "users", partition: 0 };
      consumer.assign([tp]);
      const seen: ConsumedRecord[] = [];
      for (let i = 0; i < 10 && seen.length < EXPECTED.length; i++) {
        seen.push(...await consumer.poll({ timeoutMs: 100 }));
      }
      assert.deepEqual(seen.map((r) => r.offset), EXPECTED);
      assert.equal(consumer.position(tp), 102);
      consumer.seek(tp, 50); // an offset compaction removed
      assert.deepEqual((await consumer.poll({ maxRecords: 2 })).map((r) => r.offset), [95, 96]);
      await consumer.close();
      // The offset for a timestamp whose record is gone is the next one kept.
      assert.deepEqual(topic.partition(0).offsetForTimestamp(T0 + 10), { offset: 95, timestamp: T0 + 95 });
      await log.close();
      // After a reopen, the same.
      const again = await open(dir);
      const values = [];
      for await (const r of again.topic("users").readable({ from: "earliest" })) {
        values.push(text(r.value)?.slice(0, 3));
      }
      assert.deepEqual(values, ["v95", "v96", "v97", "v98", "v99", "a", "b"]);
      await again.close();
    });
  });

  test("reel verify finds no problem in a compacted partition, and still reports offsets that go back", async () => {
    await withTempDir(async (dir) => {
      const log = await open(dir);
      await compactedTopic(log);
      await log.close();
      const partitionDir = path.join(dir, "users-0");
      const report = verifyPartition(partitionDir, "users", 0);
      assert.deepEqual(report.problems, []);
      assert.equal(report.nextOffset, 102);
      // A batch whose base offset goes back is still damage.
      const file = lastSealed(partitionDir);
      const bytes = fs.readFileSync(file);
      const second = 12 + bytes.readInt32BE(8);
      bytes.writeBigInt64BE(0n, second); // the second batch now claims offset 0
      fs.writeFileSync(file, bytes);
      assert.ok(
        verifyPartition(partitionDir, "users", 0).problems.some((p) => /offsets must increase/.test(p)),
      );
    });
  });

  test("reel dump prints the kept records at their offsets", async () => {
    await withTempDir(async (dir) => {
      const log = await open(dir);
      await compactedTopic(log);
      await log.close();
      const partitionDir = path.join(dir, "users-0");
      const [cmd, args] = scriptCommand(path.join(ROOT, "src/cli/main.ts"), [
        "dump",
        "--deep-iteration",
        ...sealed(partitionDir),
      ]);
      const run = spawnSync(cmd, args, { encoding: "utf8" });
      assert.equal(run.status, 0, run.stderr);
      const offsets = [...run.stdout.matchAll(/\| offset: (\d+)/g)].map((m) => Number(m[1]));
      assert.deepEqual(offsets, [95, 96, 97, 98, 99]);
    });
  });

  test("a Fetch from reel serve returns the compacted batches, whose records keep their offsets", async () => {
    await withBroker(async (broker, log) => {
      await compactedTopic(log);
      const client = await RawClient.connect(broker.port);
      // As a client does: fetch from the offset after the last batch returned.
      const offsets: number[] = [];
      let fetchOffset = 3;
      for (let i = 0; i < 50 && fetchOffset < 102; i++) {
        const res = await client.request(1, 11, {
          maxWaitMs: 0,
          minBytes: 0,
          maxBytes: 1 << 20,
          isolationLevel: 0,
          sessionId: 0,
          sessionEpoch: -1,
          topics: [{
            topic: "users",
            partitions: [{ partition: 0, fetchOffset, partitionMaxBytes: 1 << 20 }],
          }],
          forgottenTopicsData: [],
          rackId: "",
        });
        const p =
          ((res.responses as Record<string, unknown>[])[0].partitions as Record<string, unknown>[])[0];
        assert.equal(p.errorCode, 0);
        const records = p.records as Uint8Array;
        assert.ok(records.length > 0);
        for (let at = 0; at < records.length;) {
          const batch = decodeRecordBatch(records, at);
          offsets.push(...batch.records.map((r) => r.offset).filter((o) => o >= fetchOffset));
          fetchOffset = Math.max(fetchOffset, batch.header.baseOffset + batch.header.lastOffsetDelta + 1);
          at += batch.header.batchLength + 12;
        }
      }
      assert.deepEqual(offsets, EXPECTED);
      // A Produce of a record without a key is refused as Kafka refuses it: INVALID_RECORD.
      const produced = await client.request(0, 9, { // v8+ carries errorMessage
        transactionalId: null,
        acks: -1,
        timeoutMs: 5000,
        topicData: [{
          name: "users",
          partitionData: [{
            index: 0,
            records: encodeRecordBatch([{ key: null, value: new Uint8Array([1]) }]),
          }],
        }],
      });
      const answer = ((produced.responses as Record<string, unknown>[])[0].partitionResponses as {
        errorCode: number;
        errorMessage: string | null;
      }[])[0];
      assert.equal(answer.errorCode, 87);
      assert.match(answer.errorMessage ?? "", /compacted topic cannot accept message without key/);
      assert.equal(log.topic("users").partition(0).logEndOffset, 102);
      client.close();
    });
  });
});

describe("appends to a compacted topic", () => {
  test("a record without a key fails the whole append (InvalidRecordError, 87): no partition gets any of it", async () => {
    await withTempDir(async (dir) => {
      const log = await open(dir);
      const topic = await log.createTopic("kv", { partitions: 2, config: { cleanupPolicy: "compact" } });
      await assert.rejects(
        topic.append([{ partition: 0, key: "a", value: "1" }, { partition: 1, value: "no key" }]),
        (err: unknown) =>
          err instanceof InvalidRecordError && err.errorCode === 87 &&
          /^Cannot append to "kv-1": compacted topic cannot accept message without key \(record 1 of the call\)$/
            .test(err.message),
      );
      await assert.rejects(topic.append([{ partition: 0, key: null, value: "2" }]), InvalidRecordError);
      assert.deepEqual(topic.describe().map((p) => p.logEndOffset), [0, 0]);
      // Tombstones have a key and a null value: accepted.
      await topic.append([{ partition: 0, key: "a", value: "1" }, { partition: 1, key: "b", value: null }]);
      assert.deepEqual(topic.describe().map((p) => p.logEndOffset), [1, 1]);
      await log.close();
    });
  });

  test("the retention check never queues a cleaning round behind one still running", async () => {
    await withTempDir(async (dir) => {
      const log = await open(dir, { retentionCheckIntervalMs: 2 });
      try {
        const topic = await log.createTopic("kv", { config: { cleanupPolicy: "compact" } });
        await topic.append([{ key: "a", value: "1" }]);
        const partition = topic.partition(0);
        // Count the retention checks (each calls deleteOldSegments) and the rounds they start; the
        // first round is held until the test releases it.
        let checks = 0, rounds = 0;
        let release!: () => void;
        const held = new Promise<void>((resolve) => release = resolve);
        const deleteOldSegments = partition.deleteOldSegments.bind(partition);
        const compact = partition.compact.bind(partition);
        partition.deleteOldSegments = () => {
          checks++;
          return deleteOldSegments();
        };
        partition.compact = (options) => {
          rounds++;
          return held.then(() => compact(options));
        };
        const until = async (done: () => boolean) => {
          while (!done()) await new Promise((resolve) => setTimeout(resolve, 2));
        };
        await until(() => rounds === 1);
        const from = checks;
        await until(() => checks >= from + 10);
        assert.equal(rounds, 1, "no round started while the first ran");
        release();
        await until(() => rounds === 2); // the next check after it ended starts one
      } finally {
        await log.close();
      }
    });
  });
});

describe("the cleaner configs", () => {
  test("alterTopicConfig turns compaction on and checks its configs; the cleaner then follows them", async () => {
    await withTempDir(async (dir) => {
      const log = await open(dir);
      const topic = await log.createTopic("kv", { config: { segmentBytes: 1024 } });
      for (let i = 0; i < 30; i++) {
        await topic.append([{
          partition: 0,
          key: `k${i % 3}`,
          value: `v${i}`.padEnd(60, "."),
          timestamp: T0 + i,
        }]);
      }
      topic.partition(0).roll();
      // Under cleanup.policy=delete the cleaner does not run by itself.
      assert.equal((await topic.partition(0).compact({ force: false })).cleaned, false);
      await assert.rejects(
        log.alterTopicConfig("kv", { cleanupPolicy: "compact", minCleanableDirtyRatio: 1.5 }),
        (err: Error) =>
          err instanceof InvalidConfigError && err.errorCode === 40 &&
          /minCleanableDirtyRatio/.test(err.message),
      );
      await assert.rejects(
        log.alterTopicConfig("kv", { minCompactionLagMs: 10, maxCompactionLagMs: 5 }),
        InvalidConfigError,
      );
      await assert.rejects(
        log.alterTopicConfig("kv", { cleanupPolicy: "shred" as never }),
        InvalidConfigError,
      );
      assert.equal(topic.config.cleanupPolicy, "delete", "nothing changed by a refused change");
      const config = await log.alterTopicConfig("kv", {
        cleanupPolicy: "compact",
        minCleanableDirtyRatio: 0.01,
        deleteRetentionMs: 0,
      });
      assert.deepEqual([config.cleanupPolicy, config.minCleanableDirtyRatio], ["compact", 0.01]);
      // A lag longer than the records' age holds the cleaner back; without it, it runs.
      await log.alterTopicConfig("kv", { minCompactionLagMs: 3_600_000 });
      assert.equal((await topic.partition(0).compact({ force: false, now: T0 + 1000 })).cleaned, false);
      await log.alterTopicConfig("kv", { minCompactionLagMs: null });
      const stats = await topic.partition(0).compact({ force: false, now: T0 + 1000 });
      assert.equal(stats.cleaned, true);
      assert.equal(stats.recordsKept, 3);
      await log.close();
      const again = await open(dir);
      assert.equal(again.topic("kv").config.cleanupPolicy, "compact");
      await again.close();
    });
  });
});

describe("a reader in another process", () => {
  test("keeps reading correct records across the writer's compaction, and then sees the compacted log", async () => {
    await withTempDir(async (dir) => {
      const log = await open(dir, { retentionCheckIntervalMs: 0 });
      const topic = await log.createTopic("kv", { config: { cleanupPolicy: "compact", segmentBytes: 1024 } });
      const written = new Map<number, [string, string]>();
      const append = async (i: number) => {
        const key = `k${i % 5}`;
        const value = `v${i}`.padEnd(60, ".");
        const [meta] = await topic.append([{ partition: 0, key, value, timestamp: T0 + i }]);
        written.set(meta.offset, [key, value]);
      };
      for (let i = 0; i < 60; i++) await append(i);
      topic.partition(0).roll();
      assert.ok(topic.partition(0).segments.length > 5);

      const [cmd, args] = scriptCommand(path.join(ROOT, "tests/topic/_compaction_reader_child.ts"), [dir]);
      const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (d) => (stderr += d));
      const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
      const ask = async (line: string): Promise<[number, string, string][]> => {
        child.stdin.write(line + "\n");
        const next = await lines.next();
        assert.ok(!next.done, `the reader ended: ${stderr}`);
        const answer = JSON.parse(next.value);
        assert.ok(Array.isArray(answer), `the reader failed: ${JSON.stringify(answer)} ${stderr}`);
        return answer;
      };
      /** Every record read is the one written at its offset, and offsets increase. */
      const checkRecords = (records: [number, string, string][]) => {
        let previous = -1;
        for (const [offset, key, value] of records) {
          assert.ok(offset > previous, `offsets increase: ${offset} after ${previous}`);
          previous = offset;
          assert.deepEqual([key, value], written.get(offset), `the record at offset ${offset}`);
        }
      };
      try {
        // The reader walks the first half of the log (its one open file moving from segment to segment).
        const first = await ask("read 0 30");
        assert.deepEqual(first.map((r) => r[0]), [...Array(30).keys()]);
        checkRecords(first);
        // The writer compacts: each group of old segments is swapped for a cleaned one.
        const [stats] = await topic.compact();
        assert.ok(stats.segmentsCleaned > 1 && stats.recordsKept < stats.recordsRead);
        for (let i = 60; i < 63; i++) await append(i);
        const mine = (from: number) => {
          const out: [number, string, string][] = [];
          const p = topic.partition(0);
          for (
            let offset = from, data;
            (data = p.read(offset, 1 << 20)) !== null;
            offset = data.next.offset
          ) {
            for (const r of p.decode(data, offset)) out.push([r.offset, text(r.key)!, text(r.value)!]);
          }
          return out;
        };
        // The reader goes on from where it was with the same PartitionLog: the records after
        // offset 30 that compaction kept, each the one written there, then the new ones.
        const rest = await ask("read 30 1000");
        checkRecords(rest);
        assert.deepEqual(rest, mine(30));
        // From the start it sees the compacted log, as the writer does.
        const all = await ask("read 0 1000");
        checkRecords(all);
        assert.deepEqual(all, mine(0));
        assert.ok(all.length < 63);
      } finally {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.stdin.end("end\n");
        await exited;
        await log.close();
      }
    });
  });
});
