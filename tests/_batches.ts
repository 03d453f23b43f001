// Record batches for tests: an idempotent producer's batch, as a Kafka producer with
// `enable.idempotence` sends it (producer ID, epoch and base sequence in the header, CRC-32C
// recomputed over them).
import { crc32c, encodeRecordBatch } from "../src/record/mod.ts";

/**
 * A batch of `count` records of `size` bytes from producer `pid` at `epoch`, starting at sequence `seq`.
 *
 * @param pid the producer ID
 * @param epoch the producer epoch
 * @param seq the base sequence
 * @param count how many records
 * @param size each value's size, bytes
 * @returns the batch's bytes
 */
export function idempotentBatch(pid: number, epoch: number, seq: number, count = 2, size = 100): Uint8Array {
  const b = encodeRecordBatch(
    Array.from({ length: count }, (_, i) => ({ value: new Uint8Array(size).fill(seq + i) })),
  );
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  view.setBigInt64(43, BigInt(pid)); // producerId
  view.setInt16(51, epoch); // producerEpoch
  view.setInt32(53, seq); // baseSequence
  view.setUint32(17, crc32c(b, 21)); // the CRC covers attributes to the end
  return b;
}
