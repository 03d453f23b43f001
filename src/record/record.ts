/**
 * The record shapes shared by the record format, the log and the streams.
 *
 * Source: Apache Kafka `docs/implementation.html` §5.3.2 "Record" and §5.3.2.1 "Record Header".
 *
 * @module
 */

/**
 * One record header: a UTF-8 key and an optional byte value. Kafka allows the same key more than
 * once in a record, so headers are kept as an ordered list.
 *
 * @example Headers keep their order and may repeat a key
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeRecordBatch } from "./record_batch_decoder.ts";
 * import { encodeRecordBatch } from "./record_batch_encoder.ts";
 * import type { RecordHeader } from "./record.ts";
 * const headers: RecordHeader[] = [
 *   { key: "trace-id", value: new TextEncoder().encode("abc") },
 *   { key: "trace-id", value: null },
 * ];
 * const { records } = decodeRecordBatch(encodeRecordBatch([{ value: null, headers }]));
 * assert.deepEqual(records[0].headers, headers);
 * ```
 */
export interface RecordHeader {
  /** The header key (UTF-8 on the wire). */
  key: string;
  /** The header value, or `null`. */
  value: Uint8Array | null;
}

/**
 * A record as it is encoded into a record batch. Its offset comes from the batch it lands in.
 *
 * @example A record without a timestamp gets the time of encoding
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeRecordBatch } from "./record_batch_decoder.ts";
 * import { encodeRecordBatch } from "./record_batch_encoder.ts";
 * import type { RecordInput } from "./record.ts";
 * const inputs: RecordInput[] = [
 *   { key: null, value: new TextEncoder().encode("hi"), timestamp: 1_700_000_000_000 },
 *   { value: null },
 * ];
 * const { records } = decodeRecordBatch(encodeRecordBatch(inputs, { now: 1_700_000_000_500 }));
 * assert.deepEqual(records.map((r) => r.timestamp), [1_700_000_000_000, 1_700_000_000_500]);
 * assert.equal(records[1].key, null);
 * ```
 */
export interface RecordInput {
  /** The key bytes, or `null`/absent for none. */
  key?: Uint8Array | null;
  /** The value bytes, or `null` for a tombstone. */
  value: Uint8Array | null;
  /** Headers, in order; absent means none. */
  headers?: RecordHeader[];
  /** CreateTime in ms since the epoch; absent means the time of encoding. */
  timestamp?: number;
}

/**
 * A record decoded from a record batch. `key` and `value` may be views into the buffer the batch
 * was read into: copy them (`slice()`) to keep them beyond the next read.
 *
 * @example Copy a record's value to keep it
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeRecordBatch } from "./record_batch_decoder.ts";
 * import { encodeRecordBatch } from "./record_batch_encoder.ts";
 * import type { Record } from "./record.ts";
 * const bytes = encodeRecordBatch([{ value: new Uint8Array([1, 2, 3]), timestamp: 5 }], { baseOffset: 9 });
 * const record: Record = decodeRecordBatch(bytes).records[0];
 * const kept = record.value!.slice();
 * bytes.fill(0); // the buffer is reused for the next read
 * assert.equal(record.offset, 9);
 * assert.equal(record.timestamp, 5);
 * assert.deepEqual([...kept], [1, 2, 3]);
 * ```
 */
export interface Record {
  /** The record's offset: the batch's baseOffset plus the record's offsetDelta. */
  offset: number;
  /** ms since the epoch: the batch's baseTimestamp plus the record's timestampDelta (or the batch's maxTimestamp under LogAppendTime). */
  timestamp: number;
  /** The key bytes, or `null`. */
  key: Uint8Array | null;
  /** The value bytes, or `null` (a tombstone). */
  value: Uint8Array | null;
  /** Headers, in order. */
  headers: RecordHeader[];
}
