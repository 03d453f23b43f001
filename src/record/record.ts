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
 * @example
 * ```ts
 * import type { RecordHeader } from "./record.ts";
 * const h: RecordHeader = { key: "trace-id", value: new TextEncoder().encode("abc") };
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
 * @example
 * ```ts
 * import type { RecordInput } from "./record.ts";
 * const r: RecordInput = { key: null, value: new TextEncoder().encode("hi"), timestamp: Date.now() };
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
 * @example
 * ```ts
 * import type { Record } from "./record.ts";
 * function show(r: Record) { console.log(r.offset, r.timestamp, r.value?.length); }
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
