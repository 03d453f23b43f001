/**
 * Kafka's RecordBatch, magic 2: the unit of the log, of Produce and of Fetch.
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
 * import { decodeRecordBatch, encodeRecordBatch, setBaseOffset } from "./record_batch.ts";
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

import { CorruptRecordError, InvalidRecordError } from "../errors.ts";
import { compress, CompressionType, decompress } from "./compression.ts";
import { crc32c } from "./crc32c.ts";
import type { Record, RecordHeader, RecordInput } from "./record.ts";
import { readVarint, readVarlong, sizeOfVarint, sizeOfVarlong, writeVarint, writeVarlong } from "./varint.ts";

/** Bytes before `batchLength` counts: baseOffset (8) + batchLength (4). */
export const LOG_OVERHEAD = 12;
/** Bytes of a RecordBatch header, up to and including `recordsCount`: where the records start. */
export const RECORD_BATCH_OVERHEAD = 61;
/** The magic byte (format version) of a RecordBatch. */
export const MAGIC = 2;

const BATCH_LENGTH_OFFSET = 8;
const PARTITION_LEADER_EPOCH_OFFSET = 12;
const MAGIC_OFFSET = 16;
const CRC_OFFSET = 17;
const ATTRIBUTES_OFFSET = 21;
const LAST_OFFSET_DELTA_OFFSET = 23;
const BASE_TIMESTAMP_OFFSET = 27;
const MAX_TIMESTAMP_OFFSET = 35;
const PRODUCER_ID_OFFSET = 43;
const PRODUCER_EPOCH_OFFSET = 51;
const BASE_SEQUENCE_OFFSET = 53;
const RECORDS_COUNT_OFFSET = 57;
/** The smallest batchLength: the header after batchLength, with no records. */
const MIN_BATCH_LENGTH = RECORD_BATCH_OVERHEAD - LOG_OVERHEAD;

const COMPRESSION_MASK = 0x07;
const TIMESTAMP_TYPE_MASK = 0x08;
const TRANSACTIONAL_MASK = 0x10;
const CONTROL_MASK = 0x20;
/** Attribute bit 6 (KIP-534, Kafka's `DELETE_HORIZON_FLAG_MASK`): baseTimestamp is the batch's delete horizon. */
export const DELETE_HORIZON_MASK = 0x40;

/** The smallest encoded record: length, attributes, timestampDelta, offsetDelta, key, value, headers. */
const MIN_RECORD_SIZE = 7;
const TWO_POW_32 = 0x100000000;

/**
 * The fixed fields of a RecordBatch header, decoded, plus the attribute bits spelled out.
 *
 * @example The header of a producer's batch
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeRecordBatch, readRecordBatchHeader } from "./record_batch.ts";
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

/**
 * Options of {@linkcode encodeRecordBatch}.
 *
 * @example Encode at a base offset, compressed, into a reused buffer
 * ```ts
 * import assert from "node:assert/strict";
 * import { CompressionType } from "./compression.ts";
 * import { type EncodeOptions, encodeRecordBatch, readRecordBatchHeader } from "./record_batch.ts";
 * const arena = new Uint8Array(4096);
 * const options: EncodeOptions = {
 *   baseOffset: 100,
 *   compression: CompressionType.Zstd,
 *   allocate: (size) => arena.subarray(0, size),
 * };
 * const bytes = encodeRecordBatch([{ value: new Uint8Array(1000) }], options);
 * assert.equal(bytes.buffer, arena.buffer);
 * const header = readRecordBatchHeader(bytes);
 * assert.equal(header.baseOffset, 100);
 * assert.equal(header.compression, CompressionType.Zstd);
 * assert.ok(bytes.length < 1000); // 1000 zero bytes compress well
 * ```
 */
export interface EncodeOptions {
  /**
   * The offset of the first record.
   * @default {0}
   */
  baseOffset?: number;
  /**
   * The codec for the records.
   * @default {CompressionType.None}
   */
  compression?: CompressionType;
  /**
   * The leader epoch to stamp.
   * @default {0}
   */
  partitionLeaderEpoch?: number;
  /**
   * ms since the epoch: the timestamp of records that have none.
   * @default {Date.now()}
   */
  now?: number;
  /**
   * Where the batch's bytes go: called once with the batch's size in bytes, it returns a buffer of
   * exactly that length (a view into a reused buffer, say, so that a hot path allocates nothing).
   * The returned bytes are overwritten entirely.
   * @default {(size) => new Uint8Array(size)}
   */
  allocate?: (size: number) => Uint8Array;
}

/**
 * Options of {@linkcode decodeRecordBatch}.
 *
 * @example Stamp the topic and partition on every record
 * ```ts
 * import assert from "node:assert/strict";
 * import { type DecodeOptions, decodeRecordBatch, encodeRecordBatch } from "./record_batch.ts";
 * const options: DecodeOptions = { from: { topic: "events", partition: 3 } };
 * const { records } = decodeRecordBatch(encodeRecordBatch([{ value: null }]), 0, options);
 * assert.deepEqual({ ...records[0] }, {
 *   topic: "events",
 *   partition: 3,
 *   offset: 0,
 *   timestamp: records[0].timestamp,
 *   key: null,
 *   value: null,
 *   headers: [],
 * });
 * ```
 */
export interface DecodeOptions {
  /**
   * Check the CRC-32C before decoding. Turn off only for bytes validated already.
   * @default {true}
   */
  verify?: boolean;
  /**
   * Where the batch was read from: when given, every record also carries `topic` and
   * `partition` (the shape of a consumer's record, made in one allocation, not copied later).
   */
  from?: { topic: string; partition: number };
}

/**
 * A decoded RecordBatch: its header and its records, in order.
 *
 * @example A batch's header and records
 * ```ts
 * import assert from "node:assert/strict";
 * import { type DecodedRecordBatch, decodeRecordBatch, encodeRecordBatch } from "./record_batch.ts";
 * const batch: DecodedRecordBatch = decodeRecordBatch(encodeRecordBatch([{ value: null }, { value: null }]));
 * assert.equal(batch.records.length, batch.header.recordsCount);
 * assert.equal(batch.header.lastOffsetDelta, 1);
 * ```
 */
export interface DecodedRecordBatch {
  /** The batch header. */
  header: RecordBatchHeader;
  /** The records; a control batch's records are returned too (see `header.isControl`). */
  records: Record[];
}

function readInt16BE(bytes: Uint8Array, position: number): number {
  return ((bytes[position] << 24) | (bytes[position + 1] << 16)) >> 16;
}

function readInt32BE(bytes: Uint8Array, position: number): number {
  return (bytes[position] << 24) | (bytes[position + 1] << 16) | (bytes[position + 2] << 8) |
    bytes[position + 3];
}

/** An int64 as hi · 2^32 + lo: exact for |value| ≤ 2^53, no BigInt. */
function readInt64BE(bytes: Uint8Array, position: number): number {
  return readInt32BE(bytes, position) * TWO_POW_32 + (readInt32BE(bytes, position + 4) >>> 0);
}

function writeInt32BE(bytes: Uint8Array, position: number, value: number): void {
  bytes[position] = value >>> 24;
  bytes[position + 1] = value >>> 16;
  bytes[position + 2] = value >>> 8;
  bytes[position + 3] = value;
}

function writeInt64BE(bytes: Uint8Array, position: number, value: number): void {
  const hi = Math.floor(value / TWO_POW_32);
  writeInt32BE(bytes, position, hi);
  writeInt32BE(bytes, position + 4, value - hi * TWO_POW_32);
}

/** Body sizes of the records being encoded, reused across calls. */
let sizeScratch = new Int32Array(256);

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
 * import { batchSize, encodeRecordBatch } from "./record_batch.ts";
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
 * import { encodeRecordBatch, readRecordBatchHeader } from "./record_batch.ts";
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
 * import { encodeRecordBatch, validateRecordBatch } from "./record_batch.ts";
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
 * import { encodeRecordBatch, readRecordBatchHeader, setBaseOffset, validateRecordBatch } from "./record_batch.ts";
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
 * import { encodeRecordBatch, setPartitionLeaderEpoch, validateRecordBatch } from "./record_batch.ts";
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

// ---------------------------------------------------------------------------------------------
// Encoding

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** The UTF-8 length of `s` as TextEncoder encodes it (lone surrogates become U+FFFD, 3 bytes). */
function utf8Length(s: string): number {
  const n = s.length;
  let size = n;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      size += 1;
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      size += 2; // 4 bytes for 2 UTF-16 units
      i++;
    } else {
      size += 2;
    }
  }
  return size;
}

/** Writes `s` as UTF-8 at `position`; returns the position after it. Room must have been made. */
function writeUtf8(s: string, bytes: Uint8Array, position: number): number {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) {
      return position + utf8Encoder.encodeInto(s.slice(i), bytes.subarray(position)).written;
    }
    bytes[position++] = c;
  }
  return position;
}

function bodySize(record: RecordInput, timestampDelta: number, offsetDelta: number): number {
  let size = 1 + sizeOfVarlong(timestampDelta) + sizeOfVarint(offsetDelta);
  const key = record.key;
  size += key == null ? 1 : sizeOfVarint(key.length) + key.length;
  const value = record.value;
  size += value == null ? 1 : sizeOfVarint(value.length) + value.length;
  const headers = record.headers;
  if (headers === undefined || headers.length === 0) return size + 1;
  size += sizeOfVarint(headers.length);
  for (let i = 0; i < headers.length; i++) {
    const header = headers[i];
    if (typeof header.key !== "string") {
      throw new TypeError(
        `Cannot encode a record header: its key must be a string, got ${typeof header.key}`,
      );
    }
    const keyLength = utf8Length(header.key);
    size += sizeOfVarint(keyLength) + keyLength;
    const headerValue = header.value;
    size += headerValue == null ? 1 : sizeOfVarint(headerValue.length) + headerValue.length;
  }
  return size;
}

function writeRecord(
  bytes: Uint8Array,
  position: number,
  record: RecordInput,
  size: number,
  timestampDelta: number,
  offsetDelta: number,
): number {
  position = writeVarint(bytes, position, size);
  bytes[position++] = 0; // attributes
  position = writeVarlong(bytes, position, timestampDelta);
  position = writeVarint(bytes, position, offsetDelta);
  const key = record.key;
  if (key == null) {
    bytes[position++] = 1; // zigzag(−1)
  } else {
    position = writeVarint(bytes, position, key.length);
    bytes.set(key, position);
    position += key.length;
  }
  const value = record.value;
  if (value == null) {
    bytes[position++] = 1;
  } else {
    position = writeVarint(bytes, position, value.length);
    bytes.set(value, position);
    position += value.length;
  }
  const headers = record.headers;
  if (headers === undefined || headers.length === 0) {
    bytes[position++] = 0;
    return position;
  }
  position = writeVarint(bytes, position, headers.length);
  for (let i = 0; i < headers.length; i++) {
    const header = headers[i];
    position = writeVarint(bytes, position, utf8Length(header.key));
    position = writeUtf8(header.key, bytes, position);
    const headerValue = header.value;
    if (headerValue == null) {
      bytes[position++] = 1;
    } else {
      position = writeVarint(bytes, position, headerValue.length);
      bytes.set(headerValue, position);
      position += headerValue.length;
    }
  }
  return position;
}

function allocate(size: number, allocator: ((size: number) => Uint8Array) | undefined): Uint8Array {
  if (allocator === undefined) return new Uint8Array(size);
  const out = allocator(size);
  if (out.length !== size) {
    throw new RangeError(`Cannot encode a record batch: allocate(${size}) returned ${out.length} bytes`);
  }
  return out;
}

/**
 * Encodes records into one RecordBatch (magic 2) the way a non-idempotent Kafka producer does:
 * producerId −1, producerEpoch −1, baseSequence −1, CreateTime, not transactional; offsetDelta i
 * for the i-th record; baseTimestamp = the first record's timestamp, maxTimestamp = the largest,
 * timestampDelta = timestamp − baseTimestamp.
 *
 * @param records the records, at least one; `timestamp` in ms since the epoch (default `options.now`)
 * @param options baseOffset, compression, partitionLeaderEpoch, now, allocate
 * @returns the whole batch: batchLength + 12 bytes, CRC-32C filled in
 * @throws {RangeError} when `records` is empty, or a timestamp / baseOffset is not a safe integer
 * @throws {TypeError} when a header key is not a string
 * @throws {UnsupportedCompressionTypeError} when `options.compression` is not available
 *
 * @example The 70-byte batch of one record with a null key and value "hi"
 * ```ts
 * import assert from "node:assert/strict";
 * import { crc32c } from "./crc32c.ts";
 * import { encodeRecordBatch } from "./record_batch.ts";
 * const bytes = encodeRecordBatch([{ key: null, value: new TextEncoder().encode("hi"), timestamp: 1_700_000_000_000 }]);
 * const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
 * assert.equal(bytes.length, 70); // 61-byte header + a 9-byte record
 * assert.equal(view.getInt32(8), 70 - 12); // batchLength
 * assert.equal(bytes[16], 2); // magic
 * assert.equal(view.getUint32(17), crc32c(bytes, 21)); // the CRC covers attributes to the end
 * assert.equal(view.getBigInt64(27), 1_700_000_000_000n); // baseTimestamp
 * // The record: length 8, attributes 0, timestampDelta 0, offsetDelta 0, key -1, value "hi", no headers.
 * assert.deepEqual([...bytes.subarray(61)], [16, 0, 0, 0, 1, 4, 0x68, 0x69, 0]);
 * ```
 */
export function encodeRecordBatch(records: RecordInput[], options: EncodeOptions = {}): Uint8Array {
  const count = records.length;
  if (count === 0) throw new RangeError("Cannot encode a record batch: there are no records");
  const baseOffset = options.baseOffset ?? 0;
  if (!Number.isSafeInteger(baseOffset)) {
    throw new RangeError(
      `Cannot encode a record batch with baseOffset ${baseOffset}: it must be a safe integer`,
    );
  }
  const compression = options.compression ?? CompressionType.None;
  const partitionLeaderEpoch = options.partitionLeaderEpoch ?? 0;
  if ((partitionLeaderEpoch | 0) !== partitionLeaderEpoch) {
    throw new RangeError(
      `Cannot encode a record batch with partitionLeaderEpoch ${partitionLeaderEpoch}: it must be an int32`,
    );
  }
  let now = options.now;

  const baseTimestamp = records[0].timestamp ?? (now ??= Date.now());
  let maxTimestamp = baseTimestamp;
  if (sizeScratch.length < count) sizeScratch = new Int32Array(Math.max(count, sizeScratch.length * 2));
  const sizes = sizeScratch; // encoding is synchronous: one scratch array serves every call
  let recordsSize = 0;
  for (let i = 0; i < count; i++) {
    const record = records[i];
    const timestamp = record.timestamp ?? (now ??= Date.now());
    if (!Number.isSafeInteger(timestamp)) {
      throw new RangeError(`Cannot encode record ${i}: its timestamp ${timestamp} is not a safe integer`);
    }
    if (timestamp > maxTimestamp) maxTimestamp = timestamp;
    const size = bodySize(record, timestamp - baseTimestamp, i);
    sizes[i] = size;
    recordsSize += sizeOfVarint(size) + size;
  }

  let out: Uint8Array;
  if (compression === CompressionType.None) {
    out = allocate(RECORD_BATCH_OVERHEAD + recordsSize, options.allocate);
    let position = RECORD_BATCH_OVERHEAD;
    for (let i = 0; i < count; i++) {
      const record = records[i];
      const timestamp = record.timestamp ?? now!;
      position = writeRecord(out, position, record, sizes[i], timestamp - baseTimestamp, i);
    }
  } else {
    const blob = new Uint8Array(recordsSize);
    let position = 0;
    for (let i = 0; i < count; i++) {
      const record = records[i];
      const timestamp = record.timestamp ?? now!;
      position = writeRecord(blob, position, record, sizes[i], timestamp - baseTimestamp, i);
    }
    const packed = compress(compression, blob);
    out = allocate(RECORD_BATCH_OVERHEAD + packed.length, options.allocate);
    out.set(packed, RECORD_BATCH_OVERHEAD);
  }

  writeInt64BE(out, 0, baseOffset);
  writeInt32BE(out, BATCH_LENGTH_OFFSET, out.length - LOG_OVERHEAD);
  writeInt32BE(out, PARTITION_LEADER_EPOCH_OFFSET, partitionLeaderEpoch);
  out[MAGIC_OFFSET] = MAGIC;
  out[ATTRIBUTES_OFFSET] = 0;
  out[ATTRIBUTES_OFFSET + 1] = compression & COMPRESSION_MASK;
  writeInt32BE(out, LAST_OFFSET_DELTA_OFFSET, count - 1);
  writeInt64BE(out, BASE_TIMESTAMP_OFFSET, baseTimestamp);
  writeInt64BE(out, MAX_TIMESTAMP_OFFSET, maxTimestamp);
  out.fill(0xff, PRODUCER_ID_OFFSET, RECORDS_COUNT_OFFSET); // producerId, producerEpoch, baseSequence: −1
  writeInt32BE(out, RECORDS_COUNT_OFFSET, count);
  writeInt32BE(out, CRC_OFFSET, crc32c(out, ATTRIBUTES_OFFSET, out.length));
  return out;
}

/**
 * Encodes what the log cleaner keeps of a batch (Kafka's `MemoryRecords.filterTo` for magic 2): a
 * new batch with the original's baseOffset, lastOffsetDelta (so the batch still ends where it
 * ended), partition leader epoch, codec, timestamp type, transactional and control bits,
 * producerId, producerEpoch and baseSequence, holding only `records`, each at its own offset (its
 * offsetDelta is `record.offset − baseOffset`: compaction leaves gaps) and timestamp. With no records
 * it is an empty batch (recordsCount 0, uncompressed, timestamps -1), as Kafka keeps of a producer's last
 * batch. With records and `deleteHorizonMs`, bit 6 is set and baseTimestamp is the horizon (else clear).
 *
 * @param original the header of the batch the records come from
 * @param records the records kept, in offset order, each within the original batch's offsets
 * @param deleteHorizonMs the batch's delete horizon (KIP-534), ms since the epoch, if it has one
 * @returns the whole batch, CRC-32C filled in
 * @throws {RangeError} when a record's offset lies outside the original batch
 * @example Keep the second of three records
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeRecordBatch, encodeRecordBatch, encodeRetainedRecordBatch } from "./record_batch.ts";
 * const bytes = encodeRecordBatch([{ value: null }, { value: new Uint8Array([7]) }, { value: null }], { baseOffset: 10 });
 * const { header, records } = decodeRecordBatch(bytes);
 * const kept = decodeRecordBatch(encodeRetainedRecordBatch(header, [records[1]]));
 * assert.equal(kept.header.baseOffset, 10);
 * assert.equal(kept.header.lastOffsetDelta, 2); // the batch still ends at offset 12
 * assert.deepEqual(kept.records.map((r) => r.offset), [11]);
 * ```
 */
export function encodeRetainedRecordBatch(
  original: RecordBatchHeader,
  records: readonly Record[],
  deleteHorizonMs?: number,
): Uint8Array {
  const count = records.length;
  const baseOffset = original.baseOffset;
  const horizon = count > 0 && deleteHorizonMs !== undefined ? DELETE_HORIZON_MASK : 0;
  const logAppendTime = original.timestampType === 1 && !horizon; // a horizon's deltas are from it
  // An empty batch: timestamps -1 (no time index entry may name it: Kafka checks its records' max).
  let baseTimestamp = count === 0 ? -1 : original.maxTimestamp;
  let maxTimestamp = baseTimestamp;
  if (count > 0 && !logAppendTime) {
    baseTimestamp = records[0].timestamp;
    maxTimestamp = baseTimestamp;
    for (const r of records) if (r.timestamp > maxTimestamp) maxTimestamp = r.timestamp;
  }
  if (horizon) baseTimestamp = deleteHorizonMs!;
  const sizes: number[] = [];
  let recordsSize = 0;
  for (const record of records) {
    const delta = record.offset - baseOffset;
    if (delta < 0 || delta > original.lastOffsetDelta) {
      throw new RangeError(`Cannot keep record ${record.offset}: it lies outside the batch at ${baseOffset}`);
    }
    const size = bodySize(record, logAppendTime ? 0 : record.timestamp - baseTimestamp, delta);
    sizes.push(size);
    recordsSize += sizeOfVarint(size) + size;
  }
  const compression = count === 0 ? CompressionType.None : original.compression;
  const blob = new Uint8Array(recordsSize);
  let position = 0;
  for (let i = 0; i < count; i++) {
    const r = records[i];
    const timestampDelta = logAppendTime ? 0 : r.timestamp - baseTimestamp;
    position = writeRecord(blob, position, r, sizes[i], timestampDelta, r.offset - baseOffset);
  }
  const packed = compression === CompressionType.None ? blob : compress(compression, blob);
  const out = new Uint8Array(RECORD_BATCH_OVERHEAD + packed.length);
  out.set(packed, RECORD_BATCH_OVERHEAD);
  writeInt64BE(out, 0, baseOffset);
  writeInt32BE(out, BATCH_LENGTH_OFFSET, out.length - LOG_OVERHEAD);
  writeInt32BE(out, PARTITION_LEADER_EPOCH_OFFSET, original.partitionLeaderEpoch);
  out[MAGIC_OFFSET] = MAGIC;
  const attributes = (original.attributes & ~(COMPRESSION_MASK | DELETE_HORIZON_MASK)) | compression |
    horizon;
  out[ATTRIBUTES_OFFSET] = (attributes >> 8) & 0xff;
  out[ATTRIBUTES_OFFSET + 1] = attributes & 0xff;
  writeInt32BE(out, LAST_OFFSET_DELTA_OFFSET, original.lastOffsetDelta);
  writeInt64BE(out, BASE_TIMESTAMP_OFFSET, baseTimestamp);
  writeInt64BE(out, MAX_TIMESTAMP_OFFSET, maxTimestamp);
  writeInt64BE(out, PRODUCER_ID_OFFSET, original.producerId);
  out[PRODUCER_EPOCH_OFFSET] = (original.producerEpoch >> 8) & 0xff;
  out[PRODUCER_EPOCH_OFFSET + 1] = original.producerEpoch & 0xff;
  writeInt32BE(out, BASE_SEQUENCE_OFFSET, original.baseSequence);
  writeInt32BE(out, RECORDS_COUNT_OFFSET, count);
  writeInt32BE(out, CRC_OFFSET, crc32c(out, ATTRIBUTES_OFFSET, out.length));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Decoding

/** Decodes UTF-8 bytes[start, end): short ASCII strings without TextDecoder's call overhead. */
function decodeUtf8(bytes: Uint8Array, start: number, end: number): string {
  if (end - start <= 24) {
    let s = "";
    for (let i = start; i < end; i++) {
      const c = bytes[i];
      if (c >= 0x80) return utf8Decoder.decode(bytes.subarray(start, end));
      s += String.fromCharCode(c);
    }
    return s;
  }
  return utf8Decoder.decode(bytes.subarray(start, end));
}

function pastRecord(what: string, index: number, position: number): CorruptRecordError {
  return new CorruptRecordError(
    `${what} of record ${index} at byte ${position} runs past the end of the record`,
  );
}

/**
 * Decodes the batch at `position`: its header and every record. Compressed records are decompressed
 * first; `key`, `value` and header values are zero-copy views into `bytes` (or into the
 * decompressed buffer). Offsets come from each record's offsetDelta (gaps left by compaction are
 * kept); under LogAppendTime every record's timestamp is the batch's maxTimestamp. Control batches
 * are decoded like others and flagged by `header.isControl`.
 *
 * @param bytes the data holding the batch
 * @param position the byte position where the batch starts; defaults to 0
 * @param options `verify` (default true): check the CRC-32C first; `from`: the topic and partition
 *   to stamp on every record
 * @returns the header and the records
 * @throws {CorruptRecordError} when the header or CRC is bad, the batch is cut off, a length runs
 *   past its record or the batch, or bytes are left over after the last record
 * @throws {InvalidRecordError} when a record has a negative header count or header key size
 * @throws {UnsupportedCompressionTypeError} when the codec is unknown or not available
 *
 * @example Decode a gzip batch, and the second of two back-to-back batches
 * ```ts
 * import assert from "node:assert/strict";
 * import { CompressionType } from "./compression.ts";
 * import { decodeRecordBatch, encodeRecordBatch } from "./record_batch.ts";
 * const bytes = encodeRecordBatch([{ value: new TextEncoder().encode("hello"), timestamp: 1000 }], {
 *   compression: CompressionType.Gzip,
 * });
 * const { records } = decodeRecordBatch(bytes);
 * assert.equal(new TextDecoder().decode(records[0].value!), "hello");
 * assert.equal(records[0].timestamp, 1000);
 * const second = encodeRecordBatch([{ value: null }, { value: null }], { baseOffset: 1 });
 * const both = new Uint8Array([...bytes, ...second]);
 * assert.deepEqual(decodeRecordBatch(both, bytes.length).records.map((r) => r.offset), [1, 2]);
 * ```
 */
export function decodeRecordBatch(
  bytes: Uint8Array,
  position: number = 0,
  options: DecodeOptions = {},
): DecodedRecordBatch {
  const header = options.verify === false
    ? readRecordBatchHeader(bytes, position)
    : validateRecordBatch(bytes, position);
  const batchEnd = position + LOG_OVERHEAD + header.batchLength;
  if (batchEnd > bytes.length) {
    throw new CorruptRecordError(
      `Batch at byte ${position} is cut off: it needs ${LOG_OVERHEAD + header.batchLength} bytes, ${
        bytes.length - position
      } are available`,
    );
  }
  let buf = bytes;
  let start = position + RECORD_BATCH_OVERHEAD;
  let end = batchEnd;
  if (header.compression !== CompressionType.None) {
    buf = decompress(header.compression, bytes.subarray(start, end));
    start = 0;
    end = buf.length;
  }
  const count = header.recordsCount;
  if (count < 0 || count > (end - start) / MIN_RECORD_SIZE) {
    throw new CorruptRecordError(
      `Batch at byte ${position} claims ${count} records, which cannot fit in ${end - start} bytes`,
    );
  }

  const from = options.from;
  const baseOffset = header.baseOffset;
  const baseTimestamp = header.baseTimestamp;
  const logAppendTime = header.timestampType === 1;
  const maxTimestamp = header.maxTimestamp;
  const records: Record[] = new Array(count);
  const cursor = { position: start };
  for (let i = 0; i < count; i++) {
    const length = readVarint(buf, cursor, end);
    const recordStart = cursor.position;
    const recordEnd = recordStart + length;
    if (length < 0 || recordEnd > end) {
      throw new CorruptRecordError(
        `Record ${i} at byte ${recordStart} has length ${length}, which runs past the end of the batch`,
      );
    }
    cursor.position++; // attributes (unused)
    const timestampDelta = readVarlong(buf, cursor, recordEnd);
    const offsetDelta = readVarint(buf, cursor, recordEnd);

    let key: Uint8Array | null = null;
    const keyLength = readVarint(buf, cursor, recordEnd);
    if (keyLength >= 0) {
      const p = cursor.position;
      if (p + keyLength > recordEnd) throw pastRecord("Key", i, p);
      key = buf.subarray(p, p + keyLength);
      cursor.position = p + keyLength;
    } else if (keyLength !== -1) {
      throw new CorruptRecordError(`Record ${i} at byte ${recordStart} has key length ${keyLength}`);
    }

    let value: Uint8Array | null = null;
    const valueLength = readVarint(buf, cursor, recordEnd);
    if (valueLength >= 0) {
      const p = cursor.position;
      if (p + valueLength > recordEnd) throw pastRecord("Value", i, p);
      value = buf.subarray(p, p + valueLength);
      cursor.position = p + valueLength;
    } else if (valueLength !== -1) {
      throw new CorruptRecordError(`Record ${i} at byte ${recordStart} has value length ${valueLength}`);
    }

    const headerCount = readVarint(buf, cursor, recordEnd);
    if (headerCount < 0) {
      throw new InvalidRecordError(
        `Cannot decode record ${i} at byte ${recordStart}: invalid negative header count ${headerCount}`,
      );
    }
    const headers: RecordHeader[] = [];
    for (let h = 0; h < headerCount; h++) {
      const headerKeyLength = readVarint(buf, cursor, recordEnd);
      if (headerKeyLength < 0) {
        throw new InvalidRecordError(
          `Cannot decode record ${i} at byte ${recordStart}: invalid negative header key size ${headerKeyLength}`,
        );
      }
      let p = cursor.position;
      if (p + headerKeyLength > recordEnd) throw pastRecord("Header key", i, p);
      const headerKey = decodeUtf8(buf, p, p + headerKeyLength);
      cursor.position = p + headerKeyLength;
      const headerValueLength = readVarint(buf, cursor, recordEnd);
      let headerValue: Uint8Array | null = null;
      if (headerValueLength >= 0) {
        p = cursor.position;
        if (p + headerValueLength > recordEnd) throw pastRecord("Header value", i, p);
        headerValue = buf.subarray(p, p + headerValueLength);
        cursor.position = p + headerValueLength;
      } else if (headerValueLength !== -1) {
        throw new CorruptRecordError(
          `Record ${i} at byte ${recordStart} has header value length ${headerValueLength}`,
        );
      }
      headers.push({ key: headerKey, value: headerValue });
    }

    if (cursor.position !== recordEnd) {
      throw new CorruptRecordError(
        `Record ${i} at byte ${recordStart} declares ${length} bytes but its fields take ${
          cursor.position - recordStart
        }`,
      );
    }
    const timestamp = logAppendTime ? maxTimestamp : baseTimestamp + timestampDelta;
    records[i] = from === undefined
      ? { offset: baseOffset + offsetDelta, timestamp, key, value, headers }
      : ({
        topic: from.topic,
        partition: from.partition,
        offset: baseOffset + offsetDelta,
        timestamp,
        key,
        value,
        headers,
      } as Record);
  }
  if (cursor.position !== end) {
    throw new CorruptRecordError(
      `Batch at byte ${position} has ${end - cursor.position} bytes left after its ${count} records`,
    );
  }
  return { header, records };
}
