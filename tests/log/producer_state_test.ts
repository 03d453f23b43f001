// Issue 12, item 4: idempotent producers' state kept in the log as Kafka keeps it. Every append
// goes through the partition's producer state (a retry is answered with the original offsets, a
// sequence gap or an old epoch refused with ProducerSequenceError), `<offset>.snapshot` files in
// Kafka's ProducerSnapshot format are written at rolls and at a clean close, and a reopened log,
// or another handle that takes the writer role next, still recognises a retry.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { open, ProducerSequenceError } from "../../mod.ts";
import { crc32c, encodeRecordBatch } from "../../src/record/mod.ts";
import { idempotentBatch } from "../_batches.ts";
import { PartitionLog } from "../../src/log/partition_log.ts";
import { resolveLogConfig } from "../../src/log/log_config.ts";
import { ProducerState, snapshotOffsets } from "../../src/log/producer_state.ts";
import { withTempDir } from "../durability/_helpers.ts";

describe("idempotent producers' state in the log", () => {
  test("a retry gets the original offsets and appends nothing; a gap and an old epoch are refused", async () => {
    await withTempDir("producer-state", async (dir) => {
      const log = PartitionLog.open(path.join(dir, "t-0"), "t", 0, resolveLogConfig({ fsync: "always" }));
      const first = await log.append(idempotentBatch(7, 0, 0));
      const second = await log.append(idempotentBatch(7, 0, 2));
      assert.deepEqual([first.baseOffset, second.baseOffset], [0, 2]);
      const retry = await log.append(idempotentBatch(7, 0, 0));
      assert.equal(retry.duplicate, true);
      assert.equal(retry.baseOffset, 0);
      assert.equal(log.logEndOffset, 4, "nothing appended");
      await assert.rejects(log.append(idempotentBatch(7, 0, 9)), (err: unknown) => {
        assert.ok(err instanceof ProducerSequenceError);
        assert.equal(err.errorCode, 45);
        return true;
      });
      await log.append(idempotentBatch(7, 1, 0)); // a new epoch starts at 0
      await assert.rejects(log.append(idempotentBatch(7, 0, 4)), (err: unknown) => {
        assert.ok(err instanceof ProducerSequenceError);
        assert.equal(err.errorCode, 47);
        return true;
      });
      // Batches without a producer ID (reel's own) are not checked.
      await log.append(encodeRecordBatch([{ value: new Uint8Array([1]) }]));
      assert.equal(log.logEndOffset, 7);
      await log.close();
    });
  });

  test("snapshots in Kafka's format at each roll and at close; a reopened log still knows a retry", async () => {
    await withTempDir("producer-snapshot", async (dir) => {
      const pdir = path.join(dir, "t-0");
      const config = resolveLogConfig({ segmentBytes: 1024 });
      let log = PartitionLog.open(pdir, "t", 0, config);
      for (let seq = 0; seq < 20; seq += 2) await log.append(idempotentBatch(42, 3, seq));
      const rolls = log.segments.slice(1).map((s) => s.baseOffset);
      assert.ok(rolls.length >= 2, "it rolled");
      await log.close();
      const offsets = snapshotOffsets(pdir);
      assert.ok(offsets.includes(20), `a snapshot at the log end offset: ${offsets}`);
      assert.ok(offsets.length <= 3, "older snapshots are removed");
      // Kafka's ProducerSnapshot v1: version, CRC-32C of the rest, then the entries.
      const bytes = fs.readFileSync(path.join(pdir, "00000000000000000020.snapshot"));
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      assert.equal(view.getInt16(0), 1);
      assert.equal(view.getUint32(2), crc32c(bytes, 6));
      assert.equal(view.getInt32(6), 1, "one producer");
      assert.equal(view.getBigInt64(10), 42n);
      assert.equal(view.getInt16(18), 3, "its epoch");
      assert.equal(view.getInt32(20), 19, "its last sequence");
      assert.equal(view.getBigInt64(24), 19n, "its last offset");
      const state = ProducerState.fromSnapshot(bytes)!;
      assert.equal(state.producers.get(42)?.batches[0].baseOffset, 18);

      log = PartitionLog.open(pdir, "t", 0, config);
      const retry = await log.append(idempotentBatch(42, 3, 18));
      assert.deepEqual([retry.duplicate, retry.baseOffset], [true, 18]);
      await assert.rejects(log.append(idempotentBatch(42, 3, 30)), ProducerSequenceError);
      assert.equal((await log.append(idempotentBatch(42, 3, 20))).baseOffset, 20);
      await log.close();
      // A corrupt snapshot is skipped: the state comes from the log instead.
      for (const o of snapshotOffsets(pdir)) {
        fs.writeFileSync(path.join(pdir, `${String(o).padStart(20, "0")}.snapshot`), "garbage");
      }
      log = PartitionLog.open(pdir, "t", 0, config);
      assert.equal((await log.append(idempotentBatch(42, 3, 20))).duplicate, true);
      await log.close();
    });
  });

  test("a retry sent to another handle, after the writer role moved to it, is still recognised", async () => {
    await withTempDir("producer-handover", async (dir) => {
      const a = await open(dir, { retentionCheckIntervalMs: 0, writerIdleMs: 30 });
      await a.createTopic("t");
      const first = await a.topic("t").partition(0).append(idempotentBatch(5, 0, 0));
      const pa = a.topic("t").partition(0);
      const deadline = Date.now() + 5000;
      while (pa.isWriter && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.equal(pa.isWriter, false, "the first handle gave the role back");
      const b = await open(dir, { retentionCheckIntervalMs: 0 });
      const retry = await b.topic("t").partition(0).append(idempotentBatch(5, 0, 0));
      assert.deepEqual([retry.duplicate, retry.baseOffset], [true, first.baseOffset]);
      assert.equal(b.topic("t").partition(0).logEndOffset, 2);
      await b.close();
      await a.close();
    });
  });
});
