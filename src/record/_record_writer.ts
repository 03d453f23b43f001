/**
 * One record of a RecordBatch v2 (Kafka's `DefaultRecord`): its body size and its bytes, for the
 * encoders of `record_batch_encoder.ts`. Internal to `src/record/`.
 *
 * @module
 */
import type { RecordInput } from "./record.ts";
import { sizeOfVarint, sizeOfVarlong, writeVarint, writeVarlong } from "./varint.ts";

const utf8Encoder = new TextEncoder();

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

/**
 * The body size of a record without headers: its attributes to its header count (a 0), what its
 * length varint says.
 *
 * @param key the key (`null`: none)
 * @param value the value (`null`: none)
 * @param timestampDelta its timestamp less the batch's base timestamp
 * @param offsetDelta its place in the batch
 * @returns bytes
 * @example A 2-byte value, no key, first in its batch
 * ```ts
 * import assert from "node:assert/strict";
 * import { plainBodySize } from "./_record_writer.ts";
 * assert.equal(plainBodySize(null, new Uint8Array(2), 0, 0), 8); // 1+1+1+1+(1+2)+1
 * ```
 */
export function plainBodySize(
  key: Uint8Array | null | undefined,
  value: Uint8Array | null | undefined,
  timestampDelta: number,
  offsetDelta: number,
): number {
  return 2 + sizeOfVarlong(timestampDelta) + sizeOfVarint(offsetDelta) +
    (key == null ? 1 : sizeOfVarint(key.length) + key.length) +
    (value == null ? 1 : sizeOfVarint(value.length) + value.length);
}

/**
 * The body size of a record (see {@linkcode plainBodySize}), its headers included.
 *
 * @param record the record
 * @param timestampDelta its timestamp less the batch's base timestamp
 * @param offsetDelta its offset less the batch's base offset
 * @returns bytes
 * @throws {TypeError} when a header key is not a string
 * @example One header adds its count, key and value
 * ```ts
 * import assert from "node:assert/strict";
 * import { bodySize } from "./_record_writer.ts";
 * const headers = [{ key: "h", value: new Uint8Array(1) }];
 * assert.equal(bodySize({ key: null, value: null, headers }, 0, 0), 10); // 6 + (1 + 1 + 1 + 1)
 * ```
 */
export function bodySize(record: RecordInput, timestampDelta: number, offsetDelta: number): number {
  let size = plainBodySize(record.key, record.value, timestampDelta, offsetDelta);
  const headers = record.headers;
  if (headers === undefined || headers.length === 0) return size;
  size += sizeOfVarint(headers.length) - 1; // the header count replaces the plain body's 0
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

/**
 * Writes a record's length and its fields up to its headers (attributes, timestampDelta,
 * offsetDelta, key, value). Room must have been made.
 *
 * @param bytes the destination
 * @param position where the record starts
 * @param size its body size ({@linkcode plainBodySize} or {@linkcode bodySize})
 * @param key the key (`null`: none)
 * @param value the value (`null`: none)
 * @param timestampDelta its timestamp less the batch's base timestamp
 * @param offsetDelta its offset less the batch's base offset
 * @returns the position of its header count
 * @example A record of value "hi", then its header count
 * ```ts
 * import assert from "node:assert/strict";
 * import { plainBodySize, writeRecordStart } from "./_record_writer.ts";
 * const value = new Uint8Array([0x68, 0x69]);
 * const bytes = new Uint8Array(9);
 * const end = writeRecordStart(bytes, 0, plainBodySize(null, value, 0, 0), null, value, 0, 0);
 * bytes[end] = 0;
 * assert.deepEqual([...bytes], [16, 0, 0, 0, 1, 4, 0x68, 0x69, 0]);
 * ```
 */
export function writeRecordStart(
  bytes: Uint8Array,
  position: number,
  size: number,
  key: Uint8Array | null | undefined,
  value: Uint8Array | null | undefined,
  timestampDelta: number,
  offsetDelta: number,
): number {
  position = writeVarint(bytes, position, size);
  bytes[position++] = 0; // attributes
  position = timestampDelta === 0
    ? (bytes[position] = 0, position + 1)
    : writeVarlong(bytes, position, timestampDelta);
  position = writeVarint(bytes, position, offsetDelta);
  if (key == null) {
    bytes[position++] = 1; // zigzag(−1)
  } else {
    position = writeVarint(bytes, position, key.length);
    bytes.set(key, position);
    position += key.length;
  }
  if (value == null) {
    bytes[position++] = 1;
  } else {
    position = writeVarint(bytes, position, value.length);
    bytes.set(value, position);
    position += value.length;
  }
  return position;
}

/**
 * Writes the varint of `zigzag`, a zigzag-encoded int32 below 0x4000 (one or two bytes), at
 * `position`; returns the position after it.
 */
function writeShortVarint(bytes: Uint8Array, position: number, zigzag: number): number {
  if (zigzag < 0x80) {
    bytes[position] = zigzag;
    return position + 1;
  }
  bytes[position] = zigzag | 0x80;
  bytes[position + 1] = zigzag >>> 7;
  return position + 2;
}

/**
 * Writes records without headers, at timestampDelta 0 and offsetDeltas from 0: for each `i` in
 * `[from, to)`, the bytes {@linkcode writeRecordStart} then a header count of 0 make of
 * `keys[i]` and `values[i]`. The loop of the usual batch, each record sized as it is written, its
 * one- and two-byte varints written in line. Room must have been made.
 *
 * @param bytes the destination
 * @param position where the first record starts
 * @param keys the keys (`null`: none); `undefined` when no record has one
 * @param values the values (`null`: none)
 * @param from the first record
 * @param to the record after the last
 * @returns the position after the last record
 * @example The record of value "hi" that writeRecordStart begins
 * ```ts
 * import assert from "node:assert/strict";
 * import { writePlainRecords } from "./_record_writer.ts";
 * const bytes = new Uint8Array(9);
 * assert.equal(writePlainRecords(bytes, 0, [null], [new Uint8Array([0x68, 0x69])], 0, 1), 9);
 * assert.deepEqual([...bytes], [16, 0, 0, 0, 1, 4, 0x68, 0x69, 0]);
 * ```
 */
export function writePlainRecords(
  bytes: Uint8Array,
  position: number,
  keys: readonly (Uint8Array | null)[] | undefined,
  values: readonly (Uint8Array | null)[],
  from: number,
  to: number,
): number {
  for (let i = from; i < to; i++) {
    const key = keys === undefined ? null : keys[i], value = values[i], delta = i - from;
    // zigzag of a length (−1: none, whose zigzag is 1) or of an offsetDelta (≥ 0)
    const keyZigzag = key == null ? 1 : key.length * 2, valueZigzag = value == null ? 1 : value.length * 2;
    // attributes, timestampDelta 0 and the header count: 3 bytes; each varint taken as one or two
    // bytes, which it is when the record is under 8 KiB (then so are its key and value)
    const size = 3 + (delta < 0x40 ? 1 : 2) +
      (key == null ? 1 : (keyZigzag < 0x80 ? 1 : 2) + key.length) +
      (value == null ? 1 : (valueZigzag < 0x80 ? 1 : 2) + value.length);
    if (size >= 0x2000 || delta >= 0x2000) {
      // a varint of three bytes or more: the general writer
      position = writeRecordStart(bytes, position, plainBodySize(key, value, 0, delta), key, value, 0, delta);
      bytes[position++] = 0; // no headers
      continue;
    }
    position = writeShortVarint(bytes, position, size * 2);
    bytes[position] = 0; // attributes
    bytes[position + 1] = 0; // timestampDelta
    position = writeShortVarint(bytes, position + 2, delta * 2);
    position = writeShortVarint(bytes, position, keyZigzag);
    if (key != null) {
      bytes.set(key, position);
      position += key.length;
    }
    position = writeShortVarint(bytes, position, valueZigzag);
    if (value != null) {
      bytes.set(value, position);
      position += value.length;
    }
    bytes[position++] = 0; // no headers
  }
  return position;
}

/**
 * Writes a whole record, headers included. Room must have been made.
 *
 * @param bytes the destination
 * @param position where the record starts
 * @param record the record
 * @param size its body size ({@linkcode bodySize})
 * @param timestampDelta its timestamp less the batch's base timestamp
 * @param offsetDelta its offset less the batch's base offset
 * @returns the position after it
 * @example A record with one header
 * ```ts
 * import assert from "node:assert/strict";
 * import { bodySize, writeRecord } from "./_record_writer.ts";
 * const record = { key: null, value: null, headers: [{ key: "h", value: null }] };
 * const size = bodySize(record, 0, 0);
 * const bytes = new Uint8Array(size + 1);
 * assert.equal(writeRecord(bytes, 0, record, size, 0, 0), size + 1);
 * assert.deepEqual([...bytes], [18, 0, 0, 0, 1, 1, 2, 2, 0x68, 1]);
 * ```
 */
export function writeRecord(
  bytes: Uint8Array,
  position: number,
  record: RecordInput,
  size: number,
  timestampDelta: number,
  offsetDelta: number,
): number {
  position = writeRecordStart(bytes, position, size, record.key, record.value, timestampDelta, offsetDelta);
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
