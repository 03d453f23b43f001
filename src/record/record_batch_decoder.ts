/**
 * Decoding a RecordBatch, magic 2, into its header and records (the layout and the header
 * fields are in `record_batch.ts`). Source: Apache Kafka `docs/implementation.html` §5.3.1–5.3.2
 * and `clients/src/main/java/org/apache/kafka/common/record/DefaultRecordBatch.java`,
 * `DefaultRecord.java`.
 *
 * @example Decode what the encoder wrote
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeRecordBatch } from "./record_batch_decoder.ts";
 * import { encodeRecordBatch } from "./record_batch_encoder.ts";
 * const { records } = decodeRecordBatch(encodeRecordBatch([{ value: new Uint8Array([1]) }], { baseOffset: 5 }));
 * assert.deepEqual(records.map((r) => [r.offset, r.value![0]]), [[5, 1]]);
 * ```
 *
 * @module
 */
import { CorruptRecordError, InvalidRecordError } from "../errors.ts";
import { CompressionType, decompress } from "./compression.ts";
import type { Record, RecordHeader } from "./record.ts";
import {
  LOG_OVERHEAD,
  readRecordBatchHeader,
  RECORD_BATCH_OVERHEAD,
  type RecordBatchHeader,
  validateRecordBatch,
} from "./record_batch.ts";
import { readVarint, readVarlong } from "./varint.ts";

const utf8Decoder = new TextDecoder();

/** The headers of every record that has none: one frozen empty array, not one per record. */
const NO_HEADERS: RecordHeader[] = Object.freeze([]) as unknown as RecordHeader[];

/** The smallest encoded record: length, attributes, timestampDelta, offsetDelta, key, value, headers. */
const MIN_RECORD_SIZE = 7;

/**
 * Options of {@linkcode decodeRecordBatch}.
 *
 * @example Stamp the topic and partition on every record
 * ```ts
 * import assert from "node:assert/strict";
 * import { type DecodeOptions, decodeRecordBatch } from "./record_batch_decoder.ts";
 * import { encodeRecordBatch } from "./record_batch_encoder.ts";
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
 *
 * @example Gather two batches' records in one array
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Record } from "./record.ts";
 * import { decodeRecordBatch } from "./record_batch_decoder.ts";
 * import { encodeRecordBatch } from "./record_batch_encoder.ts";
 * const all: Record[] = [];
 * decodeRecordBatch(encodeRecordBatch([{ value: null }, { value: null }]), 0, { into: all });
 * const { records } = decodeRecordBatch(encodeRecordBatch([{ value: null }], { baseOffset: 2 }), 0, { into: all });
 * assert.equal(records, all);
 * assert.deepEqual(all.map((r) => r.offset), [0, 1, 2]);
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
  /**
   * Append the records to this array (and return it as `records`) instead of a new one: a reader
   * of many batches gathers them without copying each batch's records again. When decoding throws,
   * the array may hold some of this batch's records: the caller cuts it back to its length before.
   */
  into?: Record[];
}

/**
 * A decoded RecordBatch: its header and its records, in order.
 *
 * @example A batch's header and records
 * ```ts
 * import assert from "node:assert/strict";
 * import { type DecodedRecordBatch, decodeRecordBatch } from "./record_batch_decoder.ts";
 * import { encodeRecordBatch } from "./record_batch_encoder.ts";
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
 *   to stamp on every record; `into`: the array the records are appended to
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
 * import { decodeRecordBatch } from "./record_batch_decoder.ts";
 * import { encodeRecordBatch } from "./record_batch_encoder.ts";
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
  // Keys and values are views of `buf` made directly (not `subarray`, which looks up a species
  // constructor on every call): plain Uint8Arrays whatever `buf`'s own class.
  const arrayBuffer = buf.buffer;
  const byteOffset = buf.byteOffset;
  const into = options.into;
  const records: Record[] = into ?? new Array(count);
  const first = into === undefined ? 0 : into.length;
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
      key = new Uint8Array(arrayBuffer, byteOffset + p, keyLength);
      cursor.position = p + keyLength;
    } else if (keyLength !== -1) {
      throw new CorruptRecordError(`Record ${i} at byte ${recordStart} has key length ${keyLength}`);
    }

    let value: Uint8Array | null = null;
    const valueLength = readVarint(buf, cursor, recordEnd);
    if (valueLength >= 0) {
      const p = cursor.position;
      if (p + valueLength > recordEnd) throw pastRecord("Value", i, p);
      value = new Uint8Array(arrayBuffer, byteOffset + p, valueLength);
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
    let headers = NO_HEADERS;
    if (headerCount > 0) headers = [];
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
        headerValue = new Uint8Array(arrayBuffer, byteOffset + p, headerValueLength);
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
    records[first + i] = from === undefined
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
