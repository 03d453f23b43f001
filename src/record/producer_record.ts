/**
 * What a producer writes ({@linkcode ProducerRecord}) and the conversions the produce path applies
 * to every record before it is encoded into a record batch.
 *
 * @module
 */

import type { RecordHeader, RecordInput } from "./record.ts";

/**
 * What a producer hands to `topic.writable()` / `append()`. Strings are encoded as UTF-8.
 *
 * @typeParam V the value type, `Uint8Array | string | null` unless a codec narrows it
 *
 * @example A keyed record with headers
 * ```ts
 * import assert from "node:assert/strict";
 * import { type ProducerRecord, toRecordInput } from "./producer_record.ts";
 * const r: ProducerRecord = {
 *   value: '{"user":"ada"}',
 *   key: "ada",
 *   headers: { "content-type": "application/json" },
 *   timestamp: new Date("2024-05-01T12:00:00Z"),
 * };
 * const input = toRecordInput(r);
 * assert.equal(new TextDecoder().decode(input.key!), "ada");
 * assert.equal(input.headers?.[0].key, "content-type");
 * assert.equal(input.timestamp, Date.UTC(2024, 4, 1, 12));
 * ```
 */
export interface ProducerRecord<V = Uint8Array | string | null> {
  /** The value: bytes, a string (encoded as UTF-8), or `null` for a tombstone. */
  value: V;
  /** The key: bytes, a string (UTF-8), or `null`/absent for none. */
  key?: Uint8Array | string | null;
  /** Headers, as an ordered list or as an object of key → value. */
  headers?: RecordHeader[] | { [key: string]: Uint8Array | string | null };
  /** CreateTime, in ms since the epoch or as a `Date`. @default the append time */
  timestamp?: number | Date;
  /** An explicit partition. @default the key's murmur2 hash, else the sticky partition */
  partition?: number;
}

const encoder = new TextEncoder();

/**
 * Converts a key or value to bytes: strings become UTF-8, bytes pass through unchanged.
 *
 * @param v the key or value
 * @returns the bytes, or `null` for `null`/`undefined`
 * @throws {TypeError} when `v` is neither bytes, a string, `null` nor `undefined`
 *
 * @example Strings become UTF-8
 * ```ts
 * import assert from "node:assert/strict";
 * import { toBytes } from "./producer_record.ts";
 * assert.deepEqual(toBytes("hé"), new Uint8Array([104, 195, 169]));
 * assert.equal(toBytes(null), null);
 * assert.throws(() => toBytes(42 as unknown as string), TypeError);
 * ```
 */
export function toBytes(v: Uint8Array | string | null | undefined): Uint8Array | null {
  if (typeof v === "string") return encoder.encode(v);
  if (v instanceof Uint8Array) return v;
  if (v === null || v === undefined) return null;
  throw new TypeError(`Cannot convert a ${typeof v} to bytes: expected a Uint8Array, a string or null`);
}

/**
 * Converts the headers of a {@linkcode ProducerRecord} to the ordered list the record format stores.
 * A list whose values are all bytes or `null` is returned as it is.
 *
 * @param h the headers: a list, an object of key → value, or `undefined`
 * @returns the headers as a list (empty for none), values as bytes or `null`
 * @throws {TypeError} when a header key is not a string or a value is not bytes, a string or `null`
 *
 * @example An object of headers becomes a list
 * ```ts
 * import assert from "node:assert/strict";
 * import { normalizeHeaders } from "./producer_record.ts";
 * const list = normalizeHeaders({ "trace-id": "abc", empty: null });
 * assert.deepEqual(list.map((h) => h.key), ["trace-id", "empty"]);
 * assert.deepEqual(list[0].value, new TextEncoder().encode("abc"));
 * assert.equal(list[1].value, null);
 * ```
 */
export function normalizeHeaders(h: ProducerRecord["headers"] | undefined | null): RecordHeader[] {
  if (h === undefined || h === null) return [];
  if (Array.isArray(h)) {
    for (let i = 0; i < h.length; i++) {
      const header = h[i];
      if (typeof header?.key !== "string") {
        throw new TypeError(`Cannot use header ${i}: its key must be a string`);
      }
      if (!(header.value === null || header.value instanceof Uint8Array)) return h.map(copyHeader);
    }
    return h;
  }
  if (typeof h !== "object") {
    throw new TypeError(`Cannot use headers of type ${typeof h}: expected a list or an object`);
  }
  const out: RecordHeader[] = [];
  for (const key in h) {
    if (Object.hasOwn(h, key)) out.push({ key, value: toBytes(h[key]) });
  }
  return out;
}

/** The headers of a record that has none: one frozen empty list shared by every such record. */
const NO_HEADERS: RecordHeader[] = Object.freeze([]) as unknown as RecordHeader[];

function copyHeader(header: RecordHeader): RecordHeader {
  return { key: header.key, value: toBytes(header.value as Uint8Array | string | null) };
}

/**
 * Converts a {@linkcode ProducerRecord} to the {@linkcode RecordInput} a record batch is encoded from:
 * key and value to bytes, headers to a list, a `Date` timestamp to ms. `partition` is not part of
 * the result: the caller has routed the record already.
 *
 * @param r the producer record
 * @returns the record input; `timestamp` is `undefined` when `r` has none (the append time is used)
 * @throws {TypeError} when a key, value or header has the wrong type
 * @throws {RangeError} when the timestamp is not a whole number of ms or is an invalid `Date`
 *
 * @example Strings to bytes, a Date to ms, and a timestamp that is not whole ms
 * ```ts
 * import assert from "node:assert/strict";
 * import { toRecordInput } from "./producer_record.ts";
 * const input = toRecordInput({ key: "k", value: "v", timestamp: new Date(1_700_000_000_000) });
 * assert.equal(input.timestamp, 1_700_000_000_000);
 * assert.deepEqual(input.value, new TextEncoder().encode("v"));
 * assert.throws(() => toRecordInput({ value: "v", timestamp: 1.5 }), RangeError);
 * ```
 */
export function toRecordInput(r: ProducerRecord): RecordInput {
  let timestamp = r.timestamp;
  if (timestamp !== undefined) {
    if (typeof timestamp !== "number") {
      if (!(timestamp instanceof Date)) {
        throw new TypeError(`Cannot use a timestamp of type ${typeof timestamp}: expected ms or a Date`);
      }
      timestamp = timestamp.getTime();
    }
    if (!Number.isSafeInteger(timestamp)) {
      throw new RangeError(`Cannot use timestamp ${timestamp}: it must be a whole number of ms`);
    }
  }
  return {
    key: toBytes(r.key),
    value: toBytes(r.value),
    headers: r.headers == null ? NO_HEADERS : normalizeHeaders(r.headers),
    timestamp: timestamp as number | undefined,
  };
}
