/**
 * Encoding records into a RecordBatch, magic 2 (the layout and the header fields are in
 * `record_batch.ts`): what a producer does, and what the log cleaner does when it keeps part of a
 * batch. Source: Apache Kafka `docs/implementation.html` §5.3.1–5.3.2 and
 * `clients/src/main/java/org/apache/kafka/common/record/DefaultRecordBatch.java`,
 * `DefaultRecord.java`, `MemoryRecordsBuilder.java`.
 *
 * @example Encode two records and check the header the encoder wrote
 * ```ts
 * import assert from "node:assert/strict";
 * import { readRecordBatchHeader } from "./record_batch.ts";
 * import { encodeRecordBatch } from "./record_batch_encoder.ts";
 * const bytes = encodeRecordBatch([{ value: null, timestamp: 10 }, { value: null, timestamp: 5 }], { baseOffset: 3 });
 * const header = readRecordBatchHeader(bytes);
 * assert.deepEqual([header.baseOffset, header.lastOffsetDelta, header.maxTimestamp], [3, 1, 10]);
 * ```
 *
 * @module
 */
import { writeInt32BE, writeInt64BE } from "./big_endian.ts";
import { compress, CompressionType } from "./compression.ts";
import { crc32c } from "./crc32c.ts";
import type { Record, RecordInput } from "./record.ts";
import {
  ATTRIBUTES_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_LENGTH_OFFSET,
  COMPRESSION_MASK,
  CRC_OFFSET,
  DELETE_HORIZON_MASK,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORD_BATCH_OVERHEAD,
  type RecordBatchHeader,
  RECORDS_COUNT_OFFSET,
} from "./record_batch.ts";
import { sizeOfVarint } from "./varint.ts";
import {
  bodySize,
  plainBodySize,
  writePlainRecords,
  writeRecord,
  writeRecordStart,
} from "./_record_writer.ts";

/**
 * Options of {@linkcode encodeRecordBatch}.
 *
 * @example Encode at a base offset, compressed, into a reused buffer
 * ```ts
 * import assert from "node:assert/strict";
 * import { CompressionType } from "./compression.ts";
 * import { readRecordBatchHeader } from "./record_batch.ts";
 * import { type EncodeOptions, encodeRecordBatch } from "./record_batch_encoder.ts";
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

/** Body sizes of the records being encoded, reused across calls. */
let sizeScratch = new Int32Array(256);

/**
 * Writes `records` one after another from `position`, each with its body size from `sizes`. A
 * record without headers (the usual one) takes the short path, its framing and one copy of its
 * key and value; the others go through {@linkcode writeRecord}.
 */
function writeRecords(
  out: Uint8Array,
  position: number,
  records: readonly RecordInput[],
  sizes: Int32Array,
  baseTimestamp: number,
  now: number,
): number {
  const count = records.length;
  for (let i = 0; i < count; i++) {
    const record = records[i];
    const timestampDelta = (record.timestamp ?? now) - baseTimestamp;
    const headers = record.headers;
    if (headers !== undefined && headers.length > 0) {
      position = writeRecord(out, position, record, sizes[i], timestampDelta, i);
      continue;
    }
    position = writeRecordStart(out, position, sizes[i], record.key, record.value, timestampDelta, i);
    out[position++] = 0; // no headers
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
 * import { encodeRecordBatch } from "./record_batch_encoder.ts";
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
    writeRecords(out, RECORD_BATCH_OVERHEAD, records, sizes, baseTimestamp, now!);
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

  writeProducerBatchHeader(
    out,
    baseOffset,
    partitionLeaderEpoch,
    compression,
    count,
    baseTimestamp,
    maxTimestamp,
  );
  return out;
}

/**
 * Writes the header of a non-idempotent producer's batch in front of its records (`out` is the
 * whole batch), then its CRC-32C: producerId, producerEpoch, baseSequence −1, CreateTime.
 */
function writeProducerBatchHeader(
  out: Uint8Array,
  baseOffset: number,
  partitionLeaderEpoch: number,
  compression: CompressionType,
  count: number,
  baseTimestamp: number,
  maxTimestamp: number,
): void {
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
}

/**
 * Bytes a record without headers takes in a batch beyond its key and value, at most: its length,
 * attributes, timestampDelta, offsetDelta, the key and value lengths and the header count.
 */
export const PLAIN_RECORD_MAX_FRAMING = 32;

/**
 * Encodes records without headers, given as columns, into one uncompressed RecordBatch written
 * into `out` at `position`: the same bytes {@linkcode encodeRecordBatch} makes of
 * `{ key: keys?.[i] ?? null, value: values[i], timestamp: timestamps?.[i] }` for `i` in `[from, to)`, at base
 * offset 0 and leader epoch 0. No object per record is made, and the record sizes are not summed
 * first: the caller makes room for the largest the batch can be, {@linkcode RECORD_BATCH_OVERHEAD}
 * plus, per record, its key and value bytes and {@linkcode PLAIN_RECORD_MAX_FRAMING}.
 *
 * @param out where the batch goes
 * @param position where in `out` it starts
 * @param keys the records' keys (`null`: none); `undefined` when no record has one
 * @param values the records' values (`null`: none)
 * @param timestamps the records' timestamps, ms since the epoch (`undefined`: `now`); none given: all `now`
 * @param from the first record
 * @param to the record after the last
 * @param now ms since the epoch: the timestamp of records that have none
 * @returns the batch: a view of `out` from `position`, CRC-32C filled in
 * @throws {RangeError} when there are no records, a timestamp is not a safe integer, or `out` has no room
 *
 * @example The bytes encodeRecordBatch makes, written into a reused buffer
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   encodePlainRecordBatch,
 *   encodeRecordBatch,
 *   PLAIN_RECORD_MAX_FRAMING,
 * } from "./record_batch_encoder.ts";
 * import { RECORD_BATCH_OVERHEAD } from "./record_batch.ts";
 * const values = [new Uint8Array([1, 2]), null, new Uint8Array([3])];
 * const keys = [null, new Uint8Array([9]), null];
 * const arena = new Uint8Array(RECORD_BATCH_OVERHEAD + 3 * PLAIN_RECORD_MAX_FRAMING + 4);
 * const batch = encodePlainRecordBatch(arena, 0, keys, values, [5, undefined, 7], 0, 3, 6);
 * assert.equal(batch.buffer, arena.buffer);
 * const records = values.map((value, i) => ({ key: keys[i], value, timestamp: [5, 6, 7][i] }));
 * assert.deepEqual(batch, encodeRecordBatch(records));
 * ```
 */
export function encodePlainRecordBatch(
  out: Uint8Array,
  position: number,
  keys: readonly (Uint8Array | null)[] | undefined,
  values: readonly (Uint8Array | null)[],
  timestamps: readonly (number | undefined)[] | undefined,
  from: number,
  to: number,
  now: number,
): Uint8Array {
  if (to <= from) throw new RangeError("Cannot encode a record batch: there are no records");
  if (!Number.isSafeInteger(now)) {
    throw new RangeError(`Cannot encode a record batch: now ${now} is not a safe integer`);
  }
  const start = position;
  position += RECORD_BATCH_OVERHEAD;
  let baseTimestamp = now, maxTimestamp = now;
  if (timestamps === undefined) {
    position = writePlainRecords(out, position, keys, values, from, to);
  } else {
    baseTimestamp = maxTimestamp = timestamps[from] ?? now;
    for (let i = from; i < to; i++) {
      const timestamp = timestamps[i] ?? now;
      if (!Number.isSafeInteger(timestamp)) {
        throw new RangeError(
          `Cannot encode record ${i - from}: its timestamp ${timestamp} is not a safe integer`,
        );
      }
      if (timestamp > maxTimestamp) maxTimestamp = timestamp;
      const key = keys === undefined ? null : keys[i], value = values[i], delta = timestamp - baseTimestamp;
      position = writeRecordStart(
        out,
        position,
        plainBodySize(key, value, delta, i - from),
        key,
        value,
        delta,
        i - from,
      );
      out[position++] = 0; // no headers
    }
  }
  if (position > out.length) {
    throw new RangeError(
      `Cannot encode a record batch: ${out.length - start} bytes of room, ${position - start} needed`,
    );
  }
  const batch = out.subarray(start, position);
  writeProducerBatchHeader(batch, 0, 0, CompressionType.None, to - from, baseTimestamp, maxTimestamp);
  return batch;
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
 * import { decodeRecordBatch } from "./record_batch_decoder.ts";
 * import { encodeRecordBatch, encodeRetainedRecordBatch } from "./record_batch_encoder.ts";
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
