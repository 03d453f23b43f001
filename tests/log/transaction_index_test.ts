// isolationLevel: a log holding transactional batches and their control markers (as Kafka's
// transactional producers leave them) read under read_committed and read_uncommitted, through
// topic.readable() and Consumer, checked against a model of KIP-98's rules. The Kafka interop test
// (tests/interop/kafka/reel_reads_kafka_test.ts) checks the same against a real broker's log.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { Consumer, type LogDirectory, open } from "../../mod.ts";
import { FetchSource } from "../../src/consumer/fetch_source.ts";
import { RecordStream } from "../../src/consumer/record_stream.ts";
import { TransactionIndex } from "../../src/log/transaction_index.ts";
import { batch } from "./_producer_batch.ts";

const decoder = new TextDecoder();

async function withLog<T>(fn: (log: LogDirectory) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-txn-"));
  const log = await open(dir, { retentionCheckIntervalMs: 0 });
  try {
    return await fn(log);
  } finally {
    await log.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A step of the model: a plain record, a transactional record of producer `p`, or the end of `p`'s transaction. */
type Step =
  | { kind: "plain"; value: string }
  | { kind: "send"; producer: number; value: string }
  | { kind: "end"; producer: number; commit: boolean };

/** Appends the steps; returns what read_committed and read_uncommitted must deliver (values by offset). */
async function write(
  log: LogDirectory,
  steps: Step[],
): Promise<{ committed: string[]; uncommitted: string[] }> {
  const topic = log.hasTopic("t") ? log.topic("t") : await log.createTopic("t");
  const p = topic.partition(0);
  const sequences = new Map<number, number>();
  const open = new Map<number, string[]>();
  const uncommitted: string[] = [];
  const committed: { offset: number; value: string }[] = [];
  const pending = new Map<number, { offset: number; value: string }[]>();
  for (const s of steps) {
    if (s.kind === "plain") {
      const { baseOffset } = await p.append(batch([s.value]));
      uncommitted.push(s.value);
      committed.push({ offset: baseOffset, value: s.value });
    } else if (s.kind === "send") {
      const sequence = sequences.get(s.producer) ?? 0;
      sequences.set(s.producer, sequence + 1);
      const { baseOffset } = await p.append(
        batch([s.value], { id: s.producer, epoch: 0, sequence, transactional: true }),
      );
      uncommitted.push(s.value);
      if (!open.has(s.producer)) open.set(s.producer, []);
      open.get(s.producer)!.push(s.value);
      if (!pending.has(s.producer)) pending.set(s.producer, []);
      pending.get(s.producer)!.push({ offset: baseOffset, value: s.value });
    } else if (open.has(s.producer)) {
      await p.append(
        batch(
          [],
          { id: s.producer, epoch: 0, sequence: -1, transactional: true },
          s.commit ? "COMMIT" : "ABORT",
        ),
      );
      if (s.commit) committed.push(...pending.get(s.producer)!);
      open.delete(s.producer);
      pending.delete(s.producer);
    }
  }
  // read_committed stops at the first offset of the earliest open transaction.
  const lso = Math.min(p.highWatermark, ...[...pending.values()].map((r) => r[0].offset));
  return {
    committed: committed.filter((r) => r.offset < lso).sort((a, b) => a.offset - b.offset).map((r) =>
      r.value
    ),
    uncommitted,
  };
}

async function readValues(
  log: LogDirectory,
  isolationLevel: "read_committed" | "read_uncommitted",
): Promise<string[]> {
  const out: string[] = [];
  for await (const r of log.topic("t").readable({ isolationLevel })) out.push(decoder.decode(r.value!));
  // Each read decoded a batch at a time (what readable() does 128 KiB at a time): the same.
  const oneByOne: string[] = [];
  const stream = new RecordStream(new FetchSource("t", log.topic("t"), { isolationLevel }, true, 1));
  for await (const r of stream) oneByOne.push(decoder.decode(r.value!));
  assert.deepEqual(oneByOne, out);
  return out;
}

describe("isolationLevel over transactional batches and control markers", () => {
  test("read_committed skips aborted transactions and control batches; read_uncommitted skips only control batches", async () => {
    await withLog(async (log) => {
      const expected = await write(log, [
        { kind: "send", producer: 7, value: "a1" },
        { kind: "plain", value: "p1" },
        { kind: "send", producer: 8, value: "b1" },
        { kind: "send", producer: 7, value: "a2" },
        { kind: "end", producer: 8, commit: true },
        { kind: "end", producer: 7, commit: false },
        { kind: "send", producer: 7, value: "a3" },
        { kind: "end", producer: 7, commit: true },
        { kind: "plain", value: "p2" },
      ]);
      assert.deepEqual(expected.committed, ["p1", "b1", "a3", "p2"]);
      assert.deepEqual(await readValues(log, "read_committed"), expected.committed);
      assert.deepEqual(await readValues(log, "read_uncommitted"), ["a1", "p1", "b1", "a2", "a3", "p2"]);
      assert.deepEqual(await readValues(log, "read_uncommitted"), expected.uncommitted);
    });
  });

  test("read_committed holds everything from an open transaction on until its marker; a follow reader then gets the rest", async () => {
    await withLog(async (log) => {
      await write(log, [
        { kind: "plain", value: "p1" },
        { kind: "send", producer: 3, value: "t1" },
        { kind: "plain", value: "p2" },
      ]);
      const p = log.topic("t").partition(0);
      assert.equal(
        TransactionIndex.of(p).update(),
        1,
        "the last stable offset is the open transaction's first offset",
      );
      assert.deepEqual(await readValues(log, "read_committed"), ["p1"]);

      const controller = new AbortController();
      const reader = log.topic("t").readable({
        isolationLevel: "read_committed",
        follow: true,
        signal: controller.signal,
      })
        .getReader();
      assert.equal(decoder.decode((await reader.read()).value!.value!), "p1");
      const next = reader.read();
      await p.append(batch([], { id: 3, epoch: 0, sequence: -1, transactional: true }, "COMMIT"));
      assert.equal(decoder.decode((await next).value!.value!), "t1");
      assert.equal(decoder.decode((await reader.read()).value!.value!), "p2");
      controller.abort();
      await reader.read().catch(() => {});
      assert.equal(TransactionIndex.of(p).update(), p.highWatermark);
    });
  });

  test('readable({ from: "latest" }) under read_committed starts at the last stable offset, so an open transaction\'s records come once it commits', async () => {
    await withLog(async (log) => {
      await write(log, [
        { kind: "plain", value: "p1" },
        { kind: "send", producer: 4, value: "t1" },
        { kind: "plain", value: "p2" },
      ]);
      const p = log.topic("t").partition(0);
      assert.equal(p.highWatermark, 3);
      const controller = new AbortController();
      const reader = log.topic("t").readable({
        from: "latest",
        isolationLevel: "read_committed",
        follow: true,
        signal: controller.signal,
      }).getReader();
      const first = reader.read();
      await p.append(batch([], { id: 4, epoch: 0, sequence: -1, transactional: true }, "COMMIT"));
      // From the last stable offset (1): the transaction's record and the record after it.
      assert.equal(decoder.decode((await first).value!.value!), "t1");
      assert.equal(decoder.decode((await reader.read()).value!.value!), "p2");
      controller.abort();
      await reader.read().catch(() => {/* aborted: the stream errors with the signal's reason */});
      // read_uncommitted's "latest" is the high watermark: nothing yet.
      const uncommitted: unknown[] = [];
      for await (const r of log.topic("t").readable({ from: "latest", isolationLevel: "read_uncommitted" })) {
        uncommitted.push(r);
      }
      assert.deepEqual(uncommitted, []);
    });
  });

  test("Consumer: read_committed polls up to the last stable offset, and its end offsets are the last stable offset", async () => {
    await withLog(async (log) => {
      await write(log, [
        { kind: "send", producer: 1, value: "x1" },
        { kind: "end", producer: 1, commit: false },
        { kind: "plain", value: "p1" },
        { kind: "send", producer: 2, value: "y1" },
        { kind: "plain", value: "p2" },
      ]);
      const tp = { topic: "t", partition: 0 };
      const committed = new Consumer(log, { isolationLevel: "read_committed", autoOffsetReset: "earliest" });
      const uncommitted = new Consumer(log, { autoOffsetReset: "earliest" });
      try {
        committed.assign([tp]);
        uncommitted.assign([tp]);
        assert.deepEqual(committed.endOffsets([tp]), [3]);
        assert.deepEqual(uncommitted.endOffsets([tp]), [5]);
        assert.deepEqual((await committed.poll()).map((r) => decoder.decode(r.value!)), ["p1"]);
        assert.deepEqual(await committed.poll(), []);
        assert.equal(committed.position(tp), 3);
        assert.deepEqual((await uncommitted.poll()).map((r) => decoder.decode(r.value!)), [
          "x1",
          "p1",
          "y1",
          "p2",
        ]);
        await log.topic("t").partition(0).append(
          batch([], { id: 2, epoch: 0, sequence: -1, transactional: true }, "ABORT"),
        );
        assert.deepEqual((await committed.poll()).map((r) => decoder.decode(r.value!)), ["p2"]);
        assert.equal(committed.position(tp), 6);
      } finally {
        await committed.close();
        await uncommitted.close();
      }
    });
  });

  test("an unknown isolationLevel is a TypeError", async () => {
    await withLog(async (log) => {
      await log.createTopic("t");
      assert.throws(() => log.topic("t").readable({ isolationLevel: "committed" as never }), TypeError);
      assert.throws(() => new Consumer(log, { isolationLevel: "read-committed" as never }), TypeError);
    });
  });

  test("property: any interleaving of plain records and transactions reads as KIP-98 says under both levels", async () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant("plain" as const), value: fc.string({ maxLength: 4 }) }),
      fc.record({
        kind: fc.constant("send" as const),
        producer: fc.integer({ min: 0, max: 3 }),
        value: fc.string({ maxLength: 4 }),
      }),
      fc.record({
        kind: fc.constant("end" as const),
        producer: fc.integer({ min: 0, max: 3 }),
        commit: fc.boolean(),
      }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 40 }), async (steps) => {
        await withLog(async (log) => {
          const expected = await write(log, steps);
          assert.deepEqual(await readValues(log, "read_committed"), expected.committed);
          assert.deepEqual(await readValues(log, "read_uncommitted"), expected.uncommitted);
        });
      }),
      { numRuns: 40 },
    );
  });
});
