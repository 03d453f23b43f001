import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { InvalidRecordError, type LogConfig } from "../../mod.ts";
import {
  crc32c,
  decodeRecordBatch,
  encodeRecordBatch,
  readRecordBatchHeader,
  type Record,
} from "../../src/record/mod.ts";
import { DELETE_HORIZON_MASK } from "../../src/record/record_batch.ts";
import { encodeRetainedRecordBatch } from "../../src/record/record_batch_encoder.ts";
import { PartitionLog } from "../../src/log/mod.ts";
import { resolveLogConfig } from "../../src/log/log_config.ts";
import { readCheckpoint } from "../../src/log/checkpoint.ts";
import { verifyPartition } from "../../src/cli/commands/verify.ts";
import { type FileOperation, setFaultInjector } from "../../src/runtime/file_system.ts";
import { batch as producerBatch } from "./_producer_batch.ts";

const T0 = 1_700_000_000_000;
const DAY = 86_400_000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-cleaner-"));
  try {
    return await fn(dir);
  } finally {
    setFaultInjector(undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function openLog(dir: string, config: Partial<LogConfig> = {}): PartitionLog {
  return PartitionLog.open(
    path.join(dir, "users-0"),
    "users",
    0,
    resolveLogConfig({
      segmentBytes: 1024,
      indexIntervalBytes: 128,
      fsync: "never",
      cleanupPolicy: "compact",
      ...config,
    }),
  );
}

/** One record per batch: key `k`, value `v` (null: a tombstone). */
function kv(k: string | null, v: string | null, timestamp = T0): Uint8Array {
  return encodeRecordBatch([{
    key: k === null ? null : encoder.encode(k),
    value: v === null ? null : encoder.encode(v),
    timestamp,
  }]);
}

/** Every record from the log start to the high watermark, reading through the cursors. */
function readAll(log: PartitionLog, from = log.logStartOffset): Record[] {
  const out: Record[] = [];
  let offset = from;
  let cursor;
  for (;;) {
    const data = log.read(offset, 300, cursor);
    if (!data) break;
    out.push(...log.decode(data, offset));
    assert.ok(data.next.offset > offset, "reads make progress");
    offset = data.next.offset;
    cursor = data.next;
  }
  return out;
}

const show = (records: Record[]) =>
  records.map((r) => [r.offset, r.key && decoder.decode(r.key), r.value && decoder.decode(r.value)]);

/** The last value of each key, as a reader of the whole log sees it. */
function table(records: Record[]): Map<string, string | null> {
  const out = new Map<string, string | null>();
  for (const r of records) if (r.key) out.set(decoder.decode(r.key), r.value && decoder.decode(r.value));
  return out;
}

describe("log cleaner", () => {
  test("compact() keeps each key's last record at its own offset and leaves the active segment alone", async () => {
    await withTempDir(async (dir) => {
      const log = openLog(dir);
      for (let i = 0; i < 60; i++) {
        await log.append(kv(`k${i % 4}`, `v${i}`));
        if (i % 10 === 9) log.roll();
      }
      await log.append(kv("k0", "active")); // offset 60, in the active segment
      const before = table(readAll(log));
      const stats = await log.compact();
      assert.equal(stats.cleaned, true);
      assert.equal(stats.firstUncleanableOffset, 60);
      assert.equal(stats.recordsRead, 60);
      const after = readAll(log);
      assert.deepEqual(show(after), [
        [56, "k0", "v56"],
        [57, "k1", "v57"],
        [58, "k2", "v58"],
        [59, "k3", "v59"],
        [60, "k0", "active"],
      ]);
      assert.deepEqual(table(after), before);
      assert.equal(log.logEndOffset, 61);
      assert.equal(readCheckpoint(path.join(dir, "users-0", "cleaner-offset-checkpoint"), "users", 0), 60);
      // Reads from inside a gap start at the next record.
      assert.deepEqual(show(readAll(log, 3)).map((r) => r[0]), [56, 57, 58, 59, 60]);
      assert.deepEqual(readAll(log, 57).map((r) => r.offset), [57, 58, 59, 60]);
      assert.deepEqual(log.decode(log.read(50, 1 << 20)!, 50).map((r) => r.offset), [56, 57, 58, 59]);
      await log.close();
      const again = openLog(dir);
      assert.deepEqual(show(readAll(again)), show(after));
      await again.append(kv("k9", "new"));
      assert.equal(again.logEndOffset, 62);
      await again.close();
    });
  });

  test("a second round cleans only the new dirty part and merges small segments", async () => {
    await withTempDir(async (dir) => {
      const log = openLog(dir);
      for (let i = 0; i < 40; i++) {
        await log.append(kv(`k${i % 3}`, `a${i}`));
        if (i % 8 === 7) log.roll();
      }
      log.roll();
      await log.compact();
      for (let i = 0; i < 20; i++) {
        await log.append(kv(`k${i % 5}`, `b${i}`));
        if (i % 8 === 7) log.roll();
      }
      log.roll();
      const before = table(readAll(log));
      const segmentsBefore = log.segments.length;
      const stats = await log.compact();
      assert.equal(stats.firstDirtyOffset, 40);
      assert.equal(stats.firstUncleanableOffset, 60);
      const after = readAll(log);
      assert.deepEqual(table(after), before);
      assert.deepEqual(after.map((r) => r.offset), [55, 56, 57, 58, 59]);
      assert.ok(log.segments.length < segmentsBefore - 2, `${log.segments.length} segments`); // small ones merged
      await log.close();
    });
  });

  test("a tombstone survives its first cleaning, which gives its batch a delete horizon (now + deleteRetentionMs), and goes at the first round at or past it", async () => {
    await withTempDir(async (dir) => {
      const log = openLog(dir, { deleteRetentionMs: DAY });
      await log.append(kv("a", "1"));
      await log.append(kv("b", "1"));
      await log.append(kv("a", null));
      log.roll();
      // The tombstone's own timestamp is two days old: Kafka keeps it all the same (no horizon yet).
      const first = T0 + 2 * DAY;
      await log.compact({ now: first });
      assert.deepEqual(show(readAll(log)), [[1, "b", "1"], [2, "a", null]]);
      const horizonOf = (offset: number) => {
        const data = log.read(offset, 1 << 20)!;
        const header = readRecordBatchHeader(data.bytes, 0);
        assert.equal(header.baseOffset, offset);
        return header.attributes & DELETE_HORIZON_MASK ? header.baseTimestamp : undefined;
      };
      assert.equal(
        horizonOf(2),
        first + DAY,
        "the batch's delete horizon: cleaning time + deleteRetentionMs",
      );
      assert.equal(horizonOf(1), undefined, "a batch without a tombstone gets none");
      assert.equal(readAll(log)[1].timestamp, T0, "the tombstone keeps its own timestamp");
      await log.append(kv("c", "1"));
      log.roll();
      await log.compact({ now: first + DAY - 1 }); // one ms before the horizon
      assert.deepEqual(show(readAll(log)).map((r) => r[0]), [1, 2, 3]);
      assert.equal(horizonOf(2), first + DAY, "a later round keeps the horizon");
      await log.append(kv("d", "1"));
      log.roll();
      await log.compact({ now: first + DAY }); // at the horizon
      assert.deepEqual(show(readAll(log)), [[1, "b", "1"], [3, "c", "1"], [4, "d", "1"]]);
      await log.close();
    });
  });

  test("a batch keeps its delete horizon when a later round drops records from it, and a batch Kafka gave one is honoured", async () => {
    await withTempDir(async (dir) => {
      const log = openLog(dir, { deleteRetentionMs: 1000 });
      const batchOf = (records: [string, string | null][], timestamp: number) =>
        encodeRecordBatch(records.map(([k, v], i) => ({
          key: encoder.encode(k),
          value: v === null ? null : encoder.encode(v),
          timestamp: timestamp + i,
        })));
      await log.append(batchOf([["a", null], ["b", "1"], ["c", "1"]], T0));
      // As Kafka's cleaner writes it (DefaultRecordBatch with the delete horizon flag): the horizon
      // in baseTimestamp, each record's timestampDelta relative to it.
      const first = decodeRecordBatch(batchOf([["d", null], ["e", "1"]], T0 + 10));
      await log.append(encodeRetainedRecordBatch(first.header, first.records, T0 + 5000));
      log.roll();
      await log.compact({ now: T0 + 100 });
      const batches = () => {
        const out: [number, number, number | undefined][] = [];
        let offset = 0;
        for (;;) {
          const data = log.read(offset, 1 << 20);
          if (!data) break;
          for (let at = 0; at < data.bytes.length;) {
            const h = readRecordBatchHeader(data.bytes, at);
            out.push([
              h.baseOffset,
              h.recordsCount,
              h.attributes & DELETE_HORIZON_MASK ? h.baseTimestamp : undefined,
            ]);
            at += h.batchLength + 12;
          }
          offset = data.next.offset;
        }
        return out;
      };
      assert.deepEqual(batches(), [[0, 3, T0 + 1100], [3, 2, T0 + 5000]]);
      assert.deepEqual(readAll(log).map((r) => r.timestamp), [T0, T0 + 1, T0 + 2, T0 + 10, T0 + 11]);
      // b is overwritten; a's tombstone is past its horizon, d's not yet.
      await log.append(kv("b", "2", T0 + 20));
      log.roll();
      await log.compact({ now: T0 + 1100 });
      assert.deepEqual(show(readAll(log)), [[2, "c", "1"], [3, "d", null], [4, "e", "1"], [5, "b", "2"]]);
      assert.deepEqual(batches().slice(0, 2), [[0, 1, T0 + 1100], [3, 2, T0 + 5000]]);
      assert.deepEqual(readAll(log).map((r) => r.timestamp), [T0 + 2, T0 + 10, T0 + 11, T0 + 20]);
      await log.append(kv("f", "1", T0 + 30));
      log.roll();
      await log.compact({ now: T0 + 5000 });
      assert.deepEqual(show(readAll(log)), [[2, "c", "1"], [4, "e", "1"], [5, "b", "2"], [6, "f", "1"]]);
      assert.deepEqual(verifyPartition(path.join(dir, "users-0"), "users", 0).problems, []);
      await log.close();
    });
  });

  test("a partition named in the log directory's cleaner-offset-checkpoint, as Kafka keeps it, reads with its gaps", async () => {
    await withTempDir(async (dir) => {
      const log = openLog(dir);
      for (let i = 0; i < 30; i++) await log.append(kv(`k${i % 3}`, `v${i}`));
      log.roll();
      await log.compact();
      await log.close();
      // Kafka's layout: one checkpoint per log directory, listing the compacted partitions.
      fs.renameSync(
        path.join(dir, "users-0", "cleaner-offset-checkpoint"),
        path.join(dir, "cleaner-offset-checkpoint"),
      );
      const again = openLog(dir);
      assert.deepEqual(readAll(again).map((r) => r.offset), [27, 28, 29]);
      await again.close();
      assert.deepEqual(verifyPartition(path.join(dir, "users-0"), "users", 0).problems, []);
    });
  });

  test("a record without a key is refused with InvalidRecordError (87), and nothing of its batch is written", async () => {
    await withTempDir(async (dir) => {
      const log = openLog(dir);
      await log.append(kv("a", "1"));
      const mixed = encodeRecordBatch([
        { key: encoder.encode("b"), value: encoder.encode("2") },
        { key: null, value: encoder.encode("3") },
      ]);
      for (const batch of [kv(null, "x"), mixed]) {
        await assert.rejects(log.append(batch), (err: unknown) => {
          assert.ok(err instanceof InvalidRecordError);
          assert.equal(err.errorCode, 87);
          assert.match(
            err.message,
            /^Cannot append to "users-0": compacted topic cannot accept message without key/,
          );
          return true;
        });
      }
      assert.throws(() => log.appendBatch(kv(null, "y")), InvalidRecordError);
      assert.equal(log.logEndOffset, 1);
      await log.append(kv("c", "4"));
      assert.deepEqual(show(readAll(log)), [[0, "a", "1"], [1, "c", "4"]]);
      await log.close();
    });
  });

  test("records without a key written before the topic compacted are dropped, as Kafka's cleaner drops them", async () => {
    await withTempDir(async (dir) => {
      const before = openLog(dir, { cleanupPolicy: "delete" });
      await before.append(kv(null, "x"));
      await before.append(kv("a", "1"));
      await before.close();
      const log = openLog(dir);
      log.roll();
      await log.compact();
      assert.deepEqual(show(readAll(log)), [[1, "a", "1"]]);
      await log.close();
    });
  });

  test("a batch keeps its base offset, last offset and producer fields; an emptied producer's last batch stays empty", async () => {
    await withTempDir(async (dir) => {
      const log = openLog(dir, { segmentBytes: 64 * 1024 });
      const keyed = (values: string[], id: number, sequence: number) => {
        const b = producerBatch(values, { id, epoch: 0, sequence, transactional: false });
        // Give each record a key (the helper writes keyless records): rebuild with the same fields.
        const { records } = decodeRecordBatch(b);
        const out = encodeRecordBatch(
          records.map((r) => ({ key: r.value, value: r.value, timestamp: r.timestamp })),
        );
        out.set(b.subarray(43, 57), 43); // producerId, epoch, baseSequence
        new DataView(out.buffer, out.byteOffset).setUint32(17, crc32c(out, 21, out.length));
        return out;
      };
      await log.append(keyed(["x", "y", "z"], 7, 0)); // offsets 0-2
      await log.append(keyed(["x", "y"], 8, 0)); // offsets 3-4: producer 8's only batch
      await log.append(keyed(["x", "y"], 7, 3)); // offsets 5-6: producer 7's last batch
      log.roll();
      await log.compact();
      const headers = [];
      let offset = 0;
      for (;;) {
        const data = log.read(offset, 1 << 20);
        if (!data) break;
        for (
          let at = 0;
          at < data.bytes.length;
          at += readRecordBatchHeader(data.bytes, at).batchLength + 12
        ) {
          headers.push(readRecordBatchHeader(data.bytes, at));
        }
        offset = data.next.offset;
      }
      assert.deepEqual(
        headers.map((h) => [h.baseOffset, h.lastOffsetDelta, h.recordsCount, h.producerId, h.baseSequence]),
        [
          [0, 2, 1, 7, 0], // "z" kept at offset 2
          [3, 1, 0, 8, 0], // producer 8's last batch, emptied but kept
          [5, 1, 2, 7, 3],
        ],
      );
      await log.close();
    });
  });

  test("without force, a round waits for minCleanableDirtyRatio and minCompactionLagMs", async () => {
    await withTempDir(async (dir) => {
      const log = openLog(dir, { minCleanableDirtyRatio: 0.9, minCompactionLagMs: DAY });
      for (let i = 0; i < 20; i++) {
        await log.append(kv(`k${i % 2}`, `v${i}`, T0 + i));
        if (i % 5 === 4) log.roll();
      }
      // Every segment is younger than a day: nothing is cleanable.
      assert.equal((await log.compact({ force: false, now: T0 + 1000 })).cleaned, false);
      assert.equal((await log.compact({ now: T0 + 1000 })).cleaned, false);
      const stats = await log.compact({ force: false, now: T0 + 2 * DAY });
      assert.equal(stats.cleaned, true); // all dirty: ratio 1
      for (let i = 0; i < 5; i++) await log.append(kv("k0", `w${i}`, T0 + 2 * DAY));
      log.roll();
      // 5 dirty batches against a clean segment of 2: under 0.9.
      assert.equal((await log.compact({ force: false, now: T0 + 4 * DAY })).cleaned, false);
      await log.close();
    });
  });

  test("under cleanup.policy=compact, retention deletes nothing by age or size", async () => {
    await withTempDir(async (dir) => {
      const log = openLog(dir, { retentionMs: 1, retentionBytes: 1 });
      for (let i = 0; i < 10; i++) await log.append(kv(`k${i}`, "v"));
      log.roll();
      assert.equal(log.deleteOldSegments(T0 + DAY), 0);
      await log.close();
      const both = openLog(dir, { retentionMs: 1, cleanupPolicy: "compact,delete" });
      assert.equal(both.deleteOldSegments(T0 + DAY), 1);
      await both.close();
    });
  });

  test("appends go on while a round runs, and land after the cleaned segments", async () => {
    await withTempDir(async (dir) => {
      const log = openLog(dir, { segmentBytes: 4096 });
      for (let i = 0; i < 300; i++) await log.append(kv(`k${i % 10}`, `v${i}`));
      log.roll();
      const round = log.compact({ stepBytes: 512 });
      const appended = [];
      for (let i = 0; i < 20; i++) appended.push(log.append(kv(`k${i % 10}`, `late${i}`)));
      await Promise.all(appended);
      const stats = await round;
      assert.equal(stats.firstUncleanableOffset, 300);
      const records = readAll(log);
      assert.deepEqual(records.map((r) => r.offset), [
        ...Array.from({ length: 10 }, (_, i) => 290 + i),
        ...Array.from({ length: 20 }, (_, i) => 300 + i),
      ]);
      await log.close();
    });
  });
});

describe("log cleaner swap, failing at each file operation", () => {
  test("a failure at any write, sync, rename or unlink reopens to the old segments or the new, never a mix", {
    timeout: 120_000,
  }, async () => {
    const build = async (dir: string) => {
      const log = openLog(dir, { segmentBytes: 1024 });
      for (let i = 0; i < 40; i++) {
        await log.append(kv(`k${i % 5}`, i % 9 === 8 ? null : `v${i}`.padEnd(100, ".")));
        if (i % 6 === 5) log.roll();
      }
      log.roll();
      return log;
    };
    // The operations of a whole round, counted without faults.
    let total = 0;
    let oldRecords: string = "", newRecords: string = "";
    await withTempDir(async (dir) => {
      const log = await build(dir);
      oldRecords = JSON.stringify(show(readAll(log)));
      setFaultInjector((op: FileOperation) => {
        if (op.op !== "synced") total++;
        return undefined;
      });
      await log.compact();
      setFaultInjector(undefined);
      newRecords = JSON.stringify(show(readAll(log)));
      await log.close();
    });
    assert.ok(total >= 10, `a round does ${total} file operations`);
    assert.notEqual(oldRecords, newRecords);
    const seen = new Set<string>();
    for (let failAt = 0; failAt < total; failAt++) {
      await withTempDir(async (dir) => {
        const log = await build(dir);
        let n = 0;
        setFaultInjector((op: FileOperation) => {
          if (op.op === "synced") return undefined;
          if (n++ !== failAt) return undefined;
          return {
            error: Object.assign(new Error(`EIO: injected at ${op.op} ${op.path ?? ""}`), { code: "EIO" }),
          };
        });
        await log.compact().catch(() => {});
        setFaultInjector(undefined);
        log.abandon(); // the process dies here
        const reopened = openLog(dir, { segmentBytes: 1024 });
        const records = JSON.stringify(show(readAll(reopened)));
        // The groups are swapped in one after the other, each whole: the log reads as the new
        // records below some offset and the old ones from there on.
        assert.ok(prefixOfNew(records, newRecords, oldRecords), `failing operation ${failAt}: ${records}`);
        assert.ok(sameTable(records, oldRecords));
        seen.add(records === oldRecords ? "old" : records === newRecords ? "new" : "partial");
        assert.equal(reopened.logEndOffset, 40);
        // The next round finishes the job.
        await reopened.compact();
        assert.equal(JSON.stringify(show(readAll(reopened))), newRecords);
        await reopened.close();
        assert.deepEqual(
          fs.readdirSync(path.join(dir, "users-0")).filter((n) => /\.(cleaned|swap|deleted)$/.test(n)),
          [],
        );
      });
    }
    assert.ok(seen.has("old") && seen.has("new"), [...seen].join());
  });
});

/** Whether two record lists (as JSON of `show`) give every key the same last value. */
function sameTable(a: string, b: string): boolean {
  const t = (s: string) => {
    const m = new Map<string, unknown>();
    for (const [, k, v] of JSON.parse(s) as [number, string, string | null][]) m.set(k, v);
    return JSON.stringify([...m].sort());
  };
  return t(a) === t(b);
}

/** Whether `records` are `newer` below some offset and `older` from it on (as JSON of `show`). */
function prefixOfNew(records: string, newer: string, older: string): boolean {
  const n = JSON.parse(newer) as [number][], o = JSON.parse(older) as [number][];
  const cuts = [0, ...o.map((r) => r[0]), Infinity];
  return cuts.some((cut) =>
    JSON.stringify([...n.filter((r) => r[0] < cut), ...o.filter((r) => r[0] >= cut)]) === records
  );
}
