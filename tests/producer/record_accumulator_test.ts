import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { RecordAccumulator } from "../../src/producer/record_accumulator.ts";
import { type ProducerRecord, toRecordInput } from "../../src/record/producer_record.ts";
import { encodeRecordBatch } from "../../src/record/record_batch_encoder.ts";
import type { RecordHeader } from "../../src/record/record.ts";
import type { PartitionLog } from "../../src/log/partition_log.ts";

const bytes = fc.uint8Array({ maxLength: 40 });
const field = fc.oneof(bytes, fc.string({ maxLength: 10 }), fc.constant(null), fc.constant(undefined));
const record: fc.Arbitrary<ProducerRecord> = fc.record({
  value: fc.oneof(bytes, fc.string({ maxLength: 10 }), fc.constant(null)),
  key: field,
  timestamp: fc.oneof(
    fc.constant(undefined),
    fc.integer({ min: 0, max: 2 ** 40 }),
    fc.integer({ min: 0, max: 2 ** 40 }).map((t) => new Date(t)),
  ),
  headers: fc.oneof(
    fc.constant(undefined),
    fc.constant(null).map((): RecordHeader[] => []),
    fc.array(fc.record({ key: fc.string({ maxLength: 5 }), value: fc.oneof(bytes, fc.constant(null)) }), {
      maxLength: 2,
    }),
    fc.dictionary(fc.string({ maxLength: 5 }), fc.oneof(fc.string({ maxLength: 5 }), fc.constant(null)), {
      maxKeys: 2,
    }),
  ),
}, { requiredKeys: ["value"] });

const topic = (partitions: number) => ({
  name: "t",
  partitions,
  config: { maxMessageBytes: 1 << 20 },
  partition: (): PartitionLog => {
    throw new Error("not appended");
  },
});

describe("RecordAccumulator", () => {
  test("each batch is the bytes encodeRecordBatch makes of its records, headers or none, across partitions and sizes", () => {
    fc.assert(
      fc.property(
        fc.array(record, { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 400 }),
        (records, partitions, batchSize) => {
          const accumulator = new RecordAccumulator(topic(partitions), { batchSize }, null);
          const placed: ProducerRecord[][] = Array.from({ length: partitions }, () => []);
          for (const r of records) placed[accumulator.add(r)].push(r);
          accumulator.drainAll();
          const next = new Array<number>(partitions).fill(0);
          let count = 0;
          for (const batch of accumulator.takeEncoded()) {
            const mine = placed[batch.partition].slice(
              next[batch.partition],
              next[batch.partition] += batch.count,
            );
            // The time a record without one got is the batch's: the same bytes as when it is given.
            const inputs = mine.map((r, i) => ({ ...toRecordInput(r), timestamp: batch.timestamps[i] }));
            assert.deepEqual(batch.batch, encodeRecordBatch(inputs));
            count += batch.count;
          }
          assert.equal(count, records.length);
          accumulator.clear();
        },
      ),
      { numRuns: 300 },
    );
  });
});
