// Record batches as Kafka's producers write them (idempotent, transactional, control batches with
// end-transaction markers), for tests of what reel does with logs a Kafka broker wrote. reel's own
// encoder writes none of these fields, so they are patched in and the CRC-32C recomputed.
//
// RecordBatch v2 (Kafka docs, "Record Batch"): attributes int16 at 21 (bit 4 transactional, bit 5
// control, bit 6 delete horizon), producerId int64 at 43, producerEpoch int16 at 51, baseSequence
// int32 at 53; the CRC-32C at 17 covers byte 21 to the end.

import { crc32c, encodeRecordBatch } from "../../src/record/mod.ts";

const encoder = new TextEncoder();

/**
 * A batch as a Kafka producer writes it: `values` as records; with a producer id, an idempotent or
 * transactional batch; with `marker`, a control batch holding one end-transaction marker (key:
 * version int16, type int16 0 ABORT / 1 COMMIT; value: version int16, coordinatorEpoch int32).
 */
export function batch(
  values: string[],
  producer?: { id: number; epoch: number; sequence: number; transactional: boolean; attributes?: number },
  marker?: "ABORT" | "COMMIT",
): Uint8Array {
  const records = marker
    ? [{
      key: Uint8Array.of(0, 0, 0, marker === "ABORT" ? 0 : 1),
      value: Uint8Array.of(0, 0, 0, 0, 0, 7),
      timestamp: 1,
    }]
    : values.map((v) => ({ value: encoder.encode(v), timestamp: 1 }));
  const bytes = encodeRecordBatch(records);
  if (producer) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    view.setInt16(
      21,
      view.getInt16(21) | (producer.transactional ? 0x10 : 0) | (marker ? 0x20 : 0) |
        (producer.attributes ?? 0),
    );
    view.setBigInt64(43, BigInt(producer.id));
    view.setInt16(51, producer.epoch);
    view.setInt32(53, marker ? -1 : producer.sequence);
    view.setUint32(17, crc32c(bytes, 21));
  }
  return bytes;
}
