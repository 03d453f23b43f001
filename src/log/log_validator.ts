/**
 * Checks of a record batch that depend on the topic's config, made before anything of the batch
 * is written (Kafka's `LogValidator`). One so far: a compacted topic accepts only records with a
 * key (`LogValidator.validateKey`), since the log cleaner keeps records by key and would drop a
 * keyless one at its first cleaning.
 *
 * @module
 */
import { InvalidRecordError } from "../errors.ts";
import { decodeRecordBatch, readRecordBatchHeader } from "../record/record_batch.ts";

/**
 * Refuses a batch holding a record without a key, as Kafka refuses it for a topic whose
 * `cleanup.policy` compacts (error `INVALID_RECORD`, 87, "Compacted topic cannot accept message
 * without key"; Kafka `LogValidator.validateKey`). Control batches (transaction markers) are not
 * checked: their records always have a key. A compressed batch is decompressed to see its keys.
 *
 * @param batch the bytes holding the batch, already checked (CRC-32C and length)
 * @param position the byte position where the batch starts
 * @param topicPartition the partition's name for the message, `"<topic>-<partition>"`
 * @throws {InvalidRecordError} when a record has no key (nothing of the batch is to be written)
 * @example A keyless record among keyed ones fails the batch
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeRecordBatch } from "../record/record_batch.ts";
 * import { InvalidRecordError } from "../errors.ts";
 * import { validateRecordKeys } from "./log_validator.ts";
 * const key = new TextEncoder().encode("k");
 * validateRecordKeys(encodeRecordBatch([{ key, value: null }]), 0, "users-0");
 * assert.throws(
 *   () => validateRecordKeys(encodeRecordBatch([{ key, value: null }, { key: null, value: null }]), 0, "users-0"),
 *   (err: unknown) => err instanceof InvalidRecordError && err.errorCode === 87,
 * );
 * ```
 */
export function validateRecordKeys(batch: Uint8Array, position: number, topicPartition: string): void {
  if (readRecordBatchHeader(batch, position).isControl) return;
  const { records } = decodeRecordBatch(batch, position, { verify: false });
  for (let i = 0; i < records.length; i++) {
    if (records[i].key === null) {
      throw new InvalidRecordError(
        `Cannot append to "${topicPartition}": compacted topic cannot accept message without key (record ${i} of the batch)`,
      );
    }
  }
}
