/**
 * Checks of a record batch that depend on the topic's config, made before anything of the batch
 * is written (Kafka's `LogValidator`). One so far: a compacted topic accepts only records with a
 * key (`LogValidator.validateKey`), since the log cleaner keeps records by key and would drop a
 * keyless one at its first cleaning.
 *
 * @module
 */
import { InvalidRecordError } from "../errors.ts";
import { readRecordBatchHeader } from "../record/record_batch.ts";
import { decodeRecordBatch } from "../record/record_batch_decoder.ts";
import type { ProducerRecord } from "../record/producer_record.ts";

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
 * import { encodeRecordBatch } from "../record/record_batch_encoder.ts";
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

/**
 * The same check on the records of a `topic.append()` call, before they are encoded: a record
 * whose `key` is `null` or `undefined` fails the whole call (error `INVALID_RECORD`, 87), before
 * any partition writes. Each log still checks the batch it is given ({@linkcode validateRecordKeys}).
 *
 * @param records the records of the call
 * @param partitions the partition each record goes to, in the same order
 * @param topic the topic name, for the message
 * @throws {InvalidRecordError} when a record has no key
 * @example The second record has no key
 * ```ts
 * import assert from "node:assert/strict";
 * import { InvalidRecordError } from "../errors.ts";
 * import { validateProducerRecordKeys } from "./log_validator.ts";
 * assert.throws(
 *   () => validateProducerRecordKeys([{ key: "a", value: "1" }, { value: "2" }], [0, 1], "users"),
 *   (err: unknown) => err instanceof InvalidRecordError && /"users-1"/.test(err.message),
 * );
 * ```
 */
export function validateProducerRecordKeys(
  records: readonly ProducerRecord[],
  partitions: ArrayLike<number>,
  topic: string,
): void {
  for (let i = 0; i < records.length; i++) {
    if (records[i].key == null) {
      throw new InvalidRecordError(
        `Cannot append to "${topic}-${
          partitions[i]
        }": compacted topic cannot accept message without key (record ${i} of the call)`,
      );
    }
  }
}
