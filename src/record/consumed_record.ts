/**
 * What a consumer reads ({@linkcode ConsumedRecord}): a record of a record batch with the topic,
 * partition and offset it was read from.
 *
 * @module
 */

import type { RecordHeader } from "./record.ts";

/**
 * What a consumer gets from `topic.readable()`. `key` and `value` may be views into a read buffer.
 *
 * @typeParam V the value type, `Uint8Array | null` unless a codec decoded it
 *
 * @example Describing a consumed record
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ConsumedRecord } from "./consumed_record.ts";
 * function show(r: ConsumedRecord): string {
 *   return `${r.topic}-${r.partition}@${r.offset}: ${r.value === null ? "tombstone" : `${r.value.length} bytes`}`;
 * }
 * const r: ConsumedRecord = {
 *   topic: "events", partition: 1, offset: 41, timestamp: 0, key: null, value: null, headers: [],
 * };
 * assert.equal(show(r), "events-1@41: tombstone");
 * ```
 */
export interface ConsumedRecord<V = Uint8Array | null> {
  /** The topic the record was read from. */
  topic: string;
  /** The partition the record was read from. */
  partition: number;
  /** The record's offset in its partition. */
  offset: number;
  /** The record's timestamp, in ms since the epoch. */
  timestamp: number;
  /** The key bytes, or `null`. */
  key: Uint8Array | null;
  /** The value: bytes (or `null`, a tombstone) unless a codec decoded it. */
  value: V;
  /** Headers, in order. */
  headers: RecordHeader[];
}
