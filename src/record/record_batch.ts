/**
 * Kafka's RecordBatch, magic 2: the unit of the log, of Produce and of Fetch. This file holds its
 * layout (the byte position of every header field, the attribute bits) and the header's read,
 * check and in-place stamps; `record_batch_encoder.ts` encodes batches and
 * `record_batch_decoder.ts` decodes them.
 *
 * ```
 * RecordBatch =>
 *   baseOffset: int64
 *   batchLength: int32                 bytes after this field; the batch is batchLength + 12 bytes
 *   partitionLeaderEpoch: int32
 *   magic: int8 (= 2)
 *   crc: uint32                        CRC-32C of attributes .. end of batch
 *   attributes: int16                  bits 0-2 compression, 3 timestampType (1 = LogAppendTime),
 *                                      4 isTransactional, 5 isControl, 6 hasDeleteHorizonMs
 *   lastOffsetDelta: int32
 *   baseTimestamp: int64
 *   maxTimestamp: int64
 *   producerId: int64
 *   producerEpoch: int16
 *   baseSequence: int32
 *   recordsCount: int32
 *   records: [Record]                  one compressed blob when compression ≠ 0
 *
 * Record =>
 *   length: varint                     bytes after this field
 *   attributes: int8                   unused (0)
 *   timestampDelta: varlong
 *   offsetDelta: varint
 *   keyLength: varint                  −1 = null
 *   key: byte[]
 *   valueLength: varint                −1 = null
 *   value: byte[]
 *   headersCount: varint
 *   headers: [Header]
 *
 * Header =>
 *   headerKeyLength: varint
 *   headerKey: String (UTF-8)
 *   headerValueLength: varint          −1 = null
 *   value: byte[]
 * ```
 *
 * All integers are big-endian. Source: Apache Kafka `docs/implementation.html` §5.3.1 "Record Batch",
 * §5.3.2 "Record", and `clients/src/main/java/org/apache/kafka/common/record/DefaultRecordBatch.java`
 * and `DefaultRecord.java`.
 *
 * int64 fields are read as `hi · 2^32 + lo` into plain numbers: offsets and timestamps are exact up to
 * 2^53.
 *
 * @example Encode a batch, stamp its offset as a broker does, and decode it
 * ```ts
 * import assert from "node:assert/strict";
 * import { setBaseOffset } from "./record_batch.ts";
 * import { decodeRecordBatch } from "./record_batch_decoder.ts";
 * import { encodeRecordBatch } from "./record_batch_encoder.ts";
 * const enc = new TextEncoder();
 * const bytes = encodeRecordBatch([
 *   { key: enc.encode("k"), value: enc.encode("v1"), timestamp: 1_700_000_000_000 },
 *   { key: null, value: enc.encode("v2"), headers: [{ key: "h", value: null }] },
 * ]);
 * setBaseOffset(bytes, 0, 42);
 * const { header, records } = decodeRecordBatch(bytes); // baseOffset is outside the CRC
 * assert.equal(header.baseOffset, 42);
 * assert.deepEqual(records.map((r) => r.offset), [42, 43]);
 * assert.deepEqual(records.map((r) => new TextDecoder().decode(r.value!)), ["v1", "v2"]);
 * assert.deepEqual(records[1].headers, [{ key: "h", value: null }]);
 * ```
 *
 * @module
 */

import { CorruptRecordError } from "../errors.ts";
import { readInt16BE, readInt32BE, readInt64BE, writeInt32BE, writeInt64BE } from "./big_endian.ts";
import type { CompressionType } from "./compression.ts";
import { crc32c } from "./crc32c.ts";

/** Bytes before `batchLength` counts: baseOffset (8) + batchLength (4). */
export const LOG_OVERHEAD = 12;
/** Bytes of a RecordBatch header, up to and including `recordsCount`: where the records start. */
export const RECORD_BATCH_OVERHEAD = 61;
/** The magic byte (format version) of a RecordBatch. */
export const MAGIC = 2;

// The byte position of each header field inside a batch (see the grammar above; Kafka's
// `DefaultRecordBatch` names them BASE_OFFSET_OFFSET ... RECORDS_COUNT_OFFSET).

/** Byte position of `baseOffset` (int64) in a batch. */
export const BASE_OFFSET_OFFSET = 0;
/**
 * Byte position of `batchLength` (int32) in a batch: the bytes after this field.
 *
 * @example Read a batch's size from its header bytes
 * ```ts
 * import assert from "node:assert/strict";
 * import { readInt32BE } from "./big_endian.ts";
 * import { BATCH_LENGTH_OFFSET, LOG_OVERHEAD } from "./record_batch.ts";
 * import { encodeRecordBatch } from "./record_batch_encoder.ts";
 * const bytes = encodeRecordBatch([{ value: new Uint8Array(5) }]);
 * assert.equal(readInt32BE(bytes, BATCH_LENGTH_OFFSET) + LOG_OVERHEAD, bytes.length);
 * ```
 */
export const BATCH_LENGTH_OFFSET = 8;
/** Byte position of `partitionLeaderEpoch` (int32) in a batch. */
export const PARTITION_LEADER_EPOCH_OFFSET = 12;
/** Byte position of `magic` (int8) in a batch. */
export const MAGIC_OFFSET = 16;
/** Byte position of `crc` (uint32) in a batch. */
export const CRC_OFFSET = 17;
/** Byte position of `attributes` (int16) in a batch: where the CRC-32C's coverage starts. */
export const ATTRIBUTES_OFFSET = 21;
/** Byte position of `lastOffsetDelta` (int32) in a batch. */
export const LAST_OFFSET_DELTA_OFFSET = 23;
/** Byte position of `baseTimestamp` (int64) in a batch. */
export const BASE_TIMESTAMP_OFFSET = 27;
/**
 * Byte position of `maxTimestamp` (int64) in a batch.
 *
 * @example Read a batch's largest timestamp without decoding it
 * ```ts
 * import assert from "node:assert/strict";
 * import { readInt64BE } from "./big_endian.ts";
 * import { MAX_TIMESTAMP_OFFSET } from "./record_batch.ts";
 * import { encodeRecordBatch } from "./record_batch_encoder.ts";
 * const bytes = encodeRecordBatch([{ value: null, timestamp: 7 }, { value: null, timestamp: 9 }]);
 * assert.equal(readInt64BE(bytes, MAX_TIMESTAMP_OFFSET), 9);
 * ```
 */
export const MAX_TIMESTAMP_OFFSET = 35;
/** Byte position of `producerId` (int64) in a batch. */
export const PRODUCER_ID_OFFSET = 43;
/** Byte position of `producerEpoch` (int16) in a batch. */
export const PRODUCER_EPOCH_OFFSET = 51;
/** Byte position of `baseSequence` (int32) in a batch. */
export const BASE_SEQUENCE_OFFSET = 53;
/** Byte position of `recordsCount` (int32) in a batch. */
export const RECORDS_COUNT_OFFSET = 57;
/** The smallest batchLength: the header after batchLength, with no records. */
export const MIN_BATCH_LENGTH = RECORD_BATCH_OVERHEAD - LOG_OVERHEAD;

/** Attribute bits 0–2: the compression codec. */
export const COMPRESSION_MASK = 0x07;
/** Attribute bit 3: the timestamp type (set: LogAppendTime). */
export const TIMESTAMP_TYPE_MASK = 0x08;
/** Attribute bit 4: the batch belongs to a transaction. */
export const TRANSACTIONAL_MASK = 0x10;
/** Attribute bit 5: a control batch. */
export const CONTROL_MASK = 0x20;
/** Attribute bit 6 (KIP-534): the batch's base timestamp is its delete horizon. */
export const DELETE_HORIZON_MASK = 0x40;

/**
 * The fixed fields of a RecordBatch header, decoded, plus the attribute bits spelled out.
 *
 * @example The header of a producer's batch
 * ```ts
 * import assert from "node:assert/strict";
 * import { readRecordBatchHeader } from "./record_batch.ts";
 * import { encodeRecordBatch } from "./record_batch_encoder.ts";
 * const h = readRecordBatchHeader(encodeRecordBatch([{ value: new Uint8Array(1), timestamp: 5 }]));
 * assert.equal(h.recordsCount, 1);
 * assert.equal(h.baseTimestamp, 5);
 * assert.equal(h.maxTimestamp, 5);
 * assert.equal(h.timestampType, 0); // CreateTime
 * assert.equal(h.producerId, -1); // not an idempotent producer
 * assert.equal(h.isControl, false);
 * ```
 */
export interface RecordBatchHeader {
  /** The offset of the batch's first record. */
  baseOffset: number;
  /** Bytes after the batchLength field; the whole batch is batchLength + 12 bytes. */
  batchLength: number;
  /** The leader epoch stamped by the broker; −1 for none. */
  partitionLeaderEpoch: number;
  /** The format version: always 2 here. */
  magic: number;
  /** The stored CRC-32C, unsigned. */
  crc: number;
  /** The raw attributes int16. */
  attributes: number;
  /** The last record's offset minus baseOffset. */
  lastOffsetDelta: number;
  /** ms since the epoch: the first record's timestamp (−1 for an empty batch), or the delete horizon (bit 6). */
  baseTimestamp: number;
  /** ms since the epoch: the largest record timestamp, or the append time under LogAppendTime. */
  maxTimestamp: number;
  /** The idempotent producer's id; −1 for none. */
  producerId: number;
  /** The idempotent producer's epoch; −1 for none. */
  producerEpoch: number;
  /** The first record's sequence number; −1 for none. */
  baseSequence: number;
  /** The number of records in the batch. */
  recordsCount: number;
  /** Attribute bits 0–2: the codec of the records. */
  compression: CompressionType;
  /** Attribute bit 3: 0 CreateTime, 1 LogAppendTime. */
  timestampType: 0 | 1;
  /** Attribute bit 4: the batch belongs to a transaction. */
  isTransactional: boolean;
  /** Attribute bit 5: a control batch (transaction marker), never handed to applications. */
  isControl: boolean;
}

function hex32(n: number): string {
  return "0x" + n.toString(16).padStart(8, "0");
}

/**
 * The size in bytes of the batch at `position`: its batchLength + 12. Reads only the batchLength
 * field, so a scanner can step from batch to batch (and spot a partial batch at the end of a file).
 *
 * @param bytes the data holding the batch
 * @param position the byte position where the batch starts
 * @returns batchLength + {@linkcode LOG_OVERHEAD}, in bytes
 * @throws {CorruptRecordError} when fewer than 12 bytes are available at `position`
 *
 * @example Step through back-to-back batches
 * ```ts
 * import assert from "node:assert/strict";
 * import { batchSize } from "./record_batch.ts";
 * import { encodeRecordBatch } from "./record_batch_encoder.ts";
 * const a = encodeRecordBatch([{ value: new Uint8Array(3) }]);
 * const b = encodeRecordBatch([{ value: new Uint8Array(30) }]);
 * const log = new Uint8Array([...a, ...b]);
 * let position = 0;
 * const sizes = [];
 * while (position < log.length) {
 *   sizes.push(batchSize(log, position));
 *   position += sizes[sizes.length - 1];
 * }
 * assert.deepEqual(sizes, [a.length, b.length]);
 * ```
 */
export function batchSize(bytes: Uint8Array, position: number): number {
  if (!(position >= 0) || bytes.length - position < LOG_OVERHEAD) {
    throw new CorruptRecordError(
      `Batch at byte ${position} is cut off: ${LOG_OVERHEAD} bytes are needed to read its size, ${
        Math.max(0, bytes.length - position)
      } are available`,
    );
  }
  const batchLength = readInt32BE(bytes, position + BATCH_LENGTH_OFFSET);
  return batchLength + LOG_OVERHEAD;
}

/**
 * Reads the header of the batch at `position`, without checking its CRC or that the whole batch is
 * present.
 *
 * @param bytes the data holding the batch
 * @param position the byte position where the batch starts; defaults to 0
 * @returns the decoded header
 * @throws {CorruptRecordError} when fewer than 61 bytes are available, the magic byte is not 2, or
 *   batchLength is below 49
 *
 * @example Read a header, and refuse a batch of another magic
 * ```ts
 * import assert from "node:assert/strict";
 * import { CorruptRecordError } from "../errors.ts";
 * import { readRecordBatchHeader } from "./record_batch.ts";
 * import { encodeRecordBatch } from "./record_batch_encoder.ts";
 * const bytes = encodeRecordBatch([{ value: null }, { value: null }], { baseOffset: 7 });
 * const h = readRecordBatchHeader(bytes);
 * assert.equal(h.baseOffset, 7);
 * assert.equal(h.lastOffsetDelta, 1);
 * assert.equal(h.magic, 2);
 * assert.equal(h.batchLength + 12, bytes.length);
 * bytes[16] = 1; // the magic byte
 * assert.throws(() => readRecordBatchHeader(bytes), CorruptRecordError);
 * ```
 */
export function readRecordBatchHeader(bytes: Uint8Array, position: number = 0): RecordBatchHeader {
  if (!(position >= 0) || bytes.length - position < RECORD_BATCH_OVERHEAD) {
    throw new CorruptRecordError(
      `Batch header at byte ${position} is cut off: it needs ${RECORD_BATCH_OVERHEAD} bytes, ${
        Math.max(0, bytes.length - position)
      } are available`,
    );
  }
  const magic = (bytes[position + MAGIC_OFFSET] << 24) >> 24;
  if (magic !== MAGIC) {
    throw new CorruptRecordError(
      `Batch at byte ${position} has magic ${magic}: only magic ${MAGIC} is supported`,
    );
  }
  const batchLength = readInt32BE(bytes, position + BATCH_LENGTH_OFFSET);
  if (batchLength < MIN_BATCH_LENGTH) {
    throw new CorruptRecordError(
      `Batch at byte ${position} has batchLength ${batchLength}: the minimum is ${MIN_BATCH_LENGTH}`,
    );
  }
  const attributes = readInt16BE(bytes, position + ATTRIBUTES_OFFSET);
  return {
    baseOffset: readInt64BE(bytes, position),
    batchLength,
    partitionLeaderEpoch: readInt32BE(bytes, position + PARTITION_LEADER_EPOCH_OFFSET),
    magic,
    crc: readInt32BE(bytes, position + CRC_OFFSET) >>> 0,
    attributes,
    lastOffsetDelta: readInt32BE(bytes, position + LAST_OFFSET_DELTA_OFFSET),
    baseTimestamp: readInt64BE(bytes, position + BASE_TIMESTAMP_OFFSET),
    maxTimestamp: readInt64BE(bytes, position + MAX_TIMESTAMP_OFFSET),
    producerId: readInt64BE(bytes, position + PRODUCER_ID_OFFSET),
    producerEpoch: readInt16BE(bytes, position + PRODUCER_EPOCH_OFFSET),
    baseSequence: readInt32BE(bytes, position + BASE_SEQUENCE_OFFSET),
    recordsCount: readInt32BE(bytes, position + RECORDS_COUNT_OFFSET),
    compression: (attributes & COMPRESSION_MASK) as CompressionType,
    timestampType: (attributes & TIMESTAMP_TYPE_MASK) !== 0 ? 1 : 0,
    isTransactional: (attributes & TRANSACTIONAL_MASK) !== 0,
    isControl: (attributes & CONTROL_MASK) !== 0,
  };
}

/**
 * Checks the batch at `position` as Kafka's `DefaultRecordBatch.ensureValid()` does: the header is
 * readable, the whole batch is present, and its CRC-32C over [position + 21, position + 12 +
 * batchLength) matches the stored one.
 *
 * @param bytes the data holding the batch
 * @param position the byte position where the batch starts; defaults to 0
 * @returns the decoded header
 * @throws {CorruptRecordError} when the header is bad (see {@linkcode readRecordBatchHeader}), the
 *   batch runs past the end of `bytes`, or the CRC-32C does not match
 *
 * @example A flipped bit is caught
 * ```ts
 * import assert from "node:assert/strict";
 * import { CorruptRecordError } from "../errors.ts";
 * import { validateRecordBatch } from "./record_batch.ts";
 * import { encodeRecordBatch } from "./record_batch_encoder.ts";
 * const bytes = encodeRecordBatch([{ value: new Uint8Array([1, 2, 3]) }]);
 * assert.equal(validateRecordBatch(bytes).recordsCount, 1);
 * bytes[bytes.length - 2] ^= 1;
 * assert.throws(() => validateRecordBatch(bytes), CorruptRecordError);
 * assert.throws(() => validateRecordBatch(bytes.subarray(0, bytes.length - 1)), /cut off/);
 * ```
 */
export function validateRecordBatch(bytes: Uint8Array, position: number = 0): RecordBatchHeader {
  const header = readRecordBatchHeader(bytes, position);
  const end = position + LOG_OVERHEAD + header.batchLength;
  if (end > bytes.length) {
    throw new CorruptRecordError(
      `Batch at byte ${position} is cut off: it needs ${LOG_OVERHEAD + header.batchLength} bytes, ${
        bytes.length - position
      } are available`,
    );
  }
  const computed = crc32c(bytes, position + ATTRIBUTES_OFFSET, end);
  if (computed !== header.crc) {
    throw new CorruptRecordError(
      `CRC-32C mismatch in batch at byte ${position}: stored ${hex32(header.crc)}, computed ${
        hex32(computed)
      }`,
    );
  }
  return header;
}

/**
 * Overwrites the baseOffset of the batch at `position`, as a broker does on append. baseOffset is
 * outside the CRC, so the batch stays valid.
 *
 * @param bytes the data holding the batch
 * @param position the byte position where the batch starts
 * @param baseOffset the new offset of the batch's first record (a safe integer)
 * @throws {RangeError} when the 8 bytes are not inside `bytes` or `baseOffset` is not a safe integer
 *
 * @example Stamp an offset beyond 32 bits
 * ```ts
 * import assert from "node:assert/strict";
 * import { readRecordBatchHeader, setBaseOffset, validateRecordBatch } from "./record_batch.ts";
 * import { encodeRecordBatch } from "./record_batch_encoder.ts";
 * const bytes = encodeRecordBatch([{ value: null }]);
 * setBaseOffset(bytes, 0, 2 ** 40 + 1234);
 * assert.equal(readRecordBatchHeader(bytes).baseOffset, 2 ** 40 + 1234);
 * assert.equal(validateRecordBatch(bytes).baseOffset, 2 ** 40 + 1234); // the CRC still holds
 * assert.throws(() => setBaseOffset(bytes, 0, 0.5), RangeError);
 * ```
 */
export function setBaseOffset(bytes: Uint8Array, position: number, baseOffset: number): void {
  if (!Number.isSafeInteger(baseOffset)) {
    throw new RangeError(`Cannot set baseOffset to ${baseOffset}: it must be a safe integer`);
  }
  if (!(position >= 0 && position + 8 <= bytes.length)) {
    throw new RangeError(`Cannot set baseOffset at byte ${position}: the data has ${bytes.length} bytes`);
  }
  writeInt64BE(bytes, position, baseOffset);
}

/**
 * Overwrites the partitionLeaderEpoch of the batch at `position`, as a broker does on append. The
 * field is outside the CRC, so the batch stays valid.
 *
 * @param bytes the data holding the batch
 * @param position the byte position where the batch starts
 * @param epoch the leader epoch (an int32; −1 for none)
 * @throws {RangeError} when the field is not inside `bytes` or `epoch` is not an int32
 *
 * @example Stamp a leader epoch
 * ```ts
 * import assert from "node:assert/strict";
 * import { setPartitionLeaderEpoch, validateRecordBatch } from "./record_batch.ts";
 * import { encodeRecordBatch } from "./record_batch_encoder.ts";
 * const bytes = encodeRecordBatch([{ value: null }]);
 * setPartitionLeaderEpoch(bytes, 0, 3);
 * assert.equal(validateRecordBatch(bytes).partitionLeaderEpoch, 3); // the CRC still holds
 * setPartitionLeaderEpoch(bytes, 0, -1);
 * assert.equal(validateRecordBatch(bytes).partitionLeaderEpoch, -1);
 * ```
 */
export function setPartitionLeaderEpoch(bytes: Uint8Array, position: number, epoch: number): void {
  if ((epoch | 0) !== epoch) {
    throw new RangeError(`Cannot set partitionLeaderEpoch to ${epoch}: it must be an int32`);
  }
  const at = position + PARTITION_LEADER_EPOCH_OFFSET;
  if (!(position >= 0 && at + 4 <= bytes.length)) {
    throw new RangeError(
      `Cannot set partitionLeaderEpoch at byte ${position}: the data has ${bytes.length} bytes`,
    );
  }
  writeInt32BE(bytes, at, epoch);
}
