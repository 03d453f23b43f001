/**
 * Zigzag variable-length integers, as Kafka's record format uses them for every length, delta and
 * count inside a record.
 *
 * ```
 * varint  => zigzag(int32) as little-endian groups of 7 bits, high bit = "more follows", 1..5 bytes
 * varlong => zigzag(int64) the same way, 1..10 bytes
 * zigzag(n) = (n << 1) ^ (n >> 31)    (>> 63 for int64)
 * ```
 *
 * Source: Apache Kafka `docs/implementation.html` §5.3.2 "Record" (which points to protobuf's
 * encoding) and `clients/src/main/java/org/apache/kafka/common/utils/ByteUtils.java`
 * (`readVarint`, `readVarlong`, `sizeOfVarint`, `sizeOfVarlong`).
 *
 * Varlongs are JavaScript numbers, so they are exact up to `Number.MAX_SAFE_INTEGER` (2^53 − 1) in
 * magnitude; reading a varlong outside that range throws {@linkcode CorruptRecordError}.
 *
 * @example Write and read back a varint and a varlong
 * ```ts
 * import assert from "node:assert/strict";
 * import { readVarint, readVarlong, writeVarint, writeVarlong } from "./varint.ts";
 * const bytes = new Uint8Array(16);
 * let position = writeVarint(bytes, 0, -1);
 * assert.equal(position, 1); // zigzag: -1 is 0x01, one byte
 * assert.equal(bytes[0], 0x01);
 * position = writeVarlong(bytes, position, 1_700_000_000_000);
 * const cursor = { position: 0 };
 * assert.equal(readVarint(bytes, cursor), -1);
 * assert.equal(readVarlong(bytes, cursor), 1_700_000_000_000);
 * assert.equal(cursor.position, position);
 * ```
 *
 * @module
 */

import { CorruptRecordError } from "../errors.ts";

/**
 * A read position inside a byte array that the `read*` functions move forward. Allocate one per
 * batch and reuse it: the readers return the value and leave the next position here.
 *
 * @example A cursor moves past what it read
 * ```ts
 * import assert from "node:assert/strict";
 * import { type Cursor, readVarint } from "./varint.ts";
 * const cursor: Cursor = { position: 0 };
 * assert.equal(readVarint(new Uint8Array([0x02, 0x03]), cursor), 1);
 * assert.equal(cursor.position, 1);
 * assert.equal(readVarint(new Uint8Array([0x02, 0x03]), cursor), -2);
 * assert.equal(cursor.position, 2);
 * ```
 */
export interface Cursor {
  /** The byte position of the next byte to read. */
  position: number;
}

const TWO_POW_28 = 0x10000000;

/**
 * The number of bytes {@linkcode writeVarint} uses for `value`.
 *
 * @param value an int32 (other numbers are truncated to 32 bits, as `value | 0` does)
 * @returns the encoded size in bytes, 1 to 5
 *
 * @example Sizes of a few values
 * ```ts
 * import assert from "node:assert/strict";
 * import { sizeOfVarint } from "./varint.ts";
 * assert.equal(sizeOfVarint(0), 1);
 * assert.equal(sizeOfVarint(-1), 1);
 * assert.equal(sizeOfVarint(64), 2); // zigzag(64) = 128 needs a second byte
 * assert.equal(sizeOfVarint(-2147483648), 5);
 * ```
 */
export function sizeOfVarint(value: number): number {
  const zz = ((value << 1) ^ (value >> 31)) >>> 0;
  if (zz < 0x80) return 1;
  if (zz < 0x4000) return 2;
  if (zz < 0x200000) return 3;
  if (zz < TWO_POW_28) return 4;
  return 5;
}

/**
 * The number of bytes {@linkcode writeVarlong} uses for `value`.
 *
 * @param value a safe integer (|value| ≤ 2^53 − 1)
 * @returns the encoded size in bytes, 1 to 8 for safe integers
 *
 * @example Size of a millisecond timestamp
 * ```ts
 * import assert from "node:assert/strict";
 * import { sizeOfVarlong } from "./varint.ts";
 * assert.equal(sizeOfVarlong(0), 1);
 * assert.equal(sizeOfVarlong(1_700_000_000_000), 6);
 * assert.equal(sizeOfVarlong(-Number.MAX_SAFE_INTEGER), 8);
 * ```
 */
export function sizeOfVarlong(value: number): number {
  // zigzag(value) = 2h + sign with h = value (value ≥ 0) or −value − 1 (value < 0),
  // so zigzag(value) < 2^(7k) exactly when h < 2^(7k − 1).
  const h = value < 0 ? -value - 1 : value;
  if (h < 0x40) return 1;
  if (h < 0x2000) return 2;
  if (h < 0x100000) return 3;
  if (h < 0x8000000) return 4;
  if (h < 0x400000000) return 5;
  if (h < 0x20000000000) return 6;
  if (h < 0x1000000000000) return 7;
  if (h < 0x80000000000000) return 8;
  if (h < 0x4000000000000000) return 9;
  return 10;
}

/**
 * Writes `value` as a zigzag varint at `position`. The caller makes room first
 * ({@linkcode sizeOfVarint} bytes); bytes past the end of `bytes` are silently dropped, as typed
 * arrays do.
 *
 * @param bytes the destination
 * @param position the byte position to write at
 * @param value an int32 (other numbers are truncated to 32 bits)
 * @returns the byte position just after the varint
 *
 * @example The two bytes of 300
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeVarint } from "./varint.ts";
 * const bytes = new Uint8Array(5);
 * assert.equal(writeVarint(bytes, 0, 300), 2);
 * assert.deepEqual([...bytes.subarray(0, 2)], [0xd8, 0x04]); // zigzag(300) = 600
 * ```
 */
export function writeVarint(bytes: Uint8Array, position: number, value: number): number {
  let zz = ((value << 1) ^ (value >> 31)) >>> 0;
  // One or two bytes, the usual lengths and counts, without the loop.
  if (zz < 0x80) {
    bytes[position] = zz;
    return position + 1;
  }
  if (zz < 0x4000) {
    bytes[position] = zz | 0x80;
    bytes[position + 1] = zz >>> 7;
    return position + 2;
  }
  while (zz >= 0x80) {
    bytes[position++] = (zz & 0x7f) | 0x80;
    zz >>>= 7;
  }
  bytes[position++] = zz;
  return position;
}

/**
 * Writes `value` as a zigzag varlong at `position`. The caller makes room first
 * ({@linkcode sizeOfVarlong} bytes).
 *
 * @param bytes the destination
 * @param position the byte position to write at
 * @param value a safe integer (|value| ≤ 2^53 − 1)
 * @returns the byte position just after the varlong
 *
 * @example A varlong beyond 32 bits
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeVarlong } from "./varint.ts";
 * const bytes = new Uint8Array(10);
 * assert.equal(writeVarlong(bytes, 0, -1), 1);
 * assert.equal(bytes[0], 0x01);
 * assert.equal(writeVarlong(bytes, 0, 2 ** 32), 5); // zigzag(2^32) = 2^33: five 7-bit groups
 * assert.deepEqual([...bytes.subarray(0, 5)], [0x80, 0x80, 0x80, 0x80, 0x20]);
 * ```
 */
export function writeVarlong(bytes: Uint8Array, position: number, value: number): number {
  if (value >= -0x40000000 && value < 0x40000000) {
    // Fits an int32 after zigzag: the common case (deltas).
    let zz = ((value << 1) ^ (value >> 31)) >>> 0;
    while (zz >= 0x80) {
      bytes[position++] = (zz & 0x7f) | 0x80;
      zz >>>= 7;
    }
    bytes[position++] = zz;
    return position;
  }
  // zigzag(value) = 2h + sign; build it from h without ever forming 2h + 1 as a double.
  const sign = value < 0 ? 1 : 0;
  const h = sign === 1 ? -value - 1 : value;
  let rest = Math.floor(h / 64);
  bytes[position++] = (((h % 64) << 1) | sign) | 0x80; // rest > 0 here: |value| ≥ 2^30
  while (rest >= 0x80) {
    bytes[position++] = (rest % 128) | 0x80;
    rest = Math.floor(rest / 128);
  }
  bytes[position++] = rest;
  return position;
}

function truncated(position: number, kind: string): CorruptRecordError {
  return new CorruptRecordError(`${kind} at byte ${position} runs past the end of the data`);
}

/**
 * Reads a zigzag varint at `cursor.position` and moves the cursor past it.
 *
 * @param bytes the source
 * @param cursor the read position; advanced by the varint's size
 * @param end the byte position reading must stop before; defaults to `bytes.length`
 * @returns the int32 value
 * @throws {CorruptRecordError} when the varint is longer than 5 bytes or runs past `end`
 *
 * @example Read 300, then refuse a varint that runs past the data
 * ```ts
 * import assert from "node:assert/strict";
 * import { CorruptRecordError } from "../errors.ts";
 * import { readVarint } from "./varint.ts";
 * const cursor = { position: 0 };
 * assert.equal(readVarint(new Uint8Array([0xd8, 0x04]), cursor), 300);
 * assert.equal(cursor.position, 2);
 * assert.throws(() => readVarint(new Uint8Array([0xd8]), { position: 0 }), CorruptRecordError);
 * ```
 */
export function readVarint(
  bytes: Uint8Array,
  cursor: { position: number },
  end: number = bytes.length,
): number {
  // One and two bytes (up to ±8191: every length and delta of a small record) in a function small
  // enough for the JIT to inline into a decoder's loop; longer ones, and the errors, in another.
  const position = cursor.position;
  if (position + 1 < end) {
    const b = bytes[position];
    if (b < 0x80) {
      cursor.position = position + 1;
      return (b >>> 1) ^ -(b & 1);
    }
    const b1 = bytes[position + 1];
    if (b1 < 0x80) {
      cursor.position = position + 2;
      const zz = (b & 0x7f) | (b1 << 7);
      return (zz >>> 1) ^ -(zz & 1);
    }
  }
  return readLongVarint(bytes, cursor, end);
}

/** {@linkcode readVarint} of a varint that the fast path did not take. */
function readLongVarint(bytes: Uint8Array, cursor: { position: number }, end: number): number {
  let position = cursor.position;
  const start = position;
  let zz = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (position >= end) throw truncated(start, "Varint");
    const b = bytes[position++];
    zz |= (b & 0x7f) << shift;
    if (b < 0x80) {
      cursor.position = position;
      return (zz >>> 1) ^ -(zz & 1);
    }
  }
  throw new CorruptRecordError(`Varint at byte ${start} is longer than 5 bytes`);
}

/**
 * Reads a zigzag varlong at `cursor.position` and moves the cursor past it.
 *
 * @param bytes the source
 * @param cursor the read position; advanced by the varlong's size
 * @param end the byte position reading must stop before; defaults to `bytes.length`
 * @returns the value, a safe integer
 * @throws {CorruptRecordError} when the varlong is longer than 10 bytes, runs past `end`, or holds
 *   a value beyond ±(2^53 − 1)
 *
 * @example Read -2 and a value beyond 32 bits
 * ```ts
 * import assert from "node:assert/strict";
 * import { readVarlong } from "./varint.ts";
 * const cursor = { position: 0 };
 * assert.equal(readVarlong(new Uint8Array([0x03]), cursor), -2);
 * assert.equal(readVarlong(new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x20]), { position: 0 }), 2 ** 32);
 * ```
 */
export function readVarlong(
  bytes: Uint8Array,
  cursor: { position: number },
  end: number = bytes.length,
): number {
  // One byte (a record's timestampDelta, mostly) inline; longer ones in another function.
  const position = cursor.position;
  if (position < end) {
    const b = bytes[position];
    if (b < 0x80) {
      cursor.position = position + 1;
      return (b >>> 1) ^ -(b & 1);
    }
  }
  return readLongVarlong(bytes, cursor, end);
}

/** {@linkcode readVarlong} of a varlong longer than one byte. */
function readLongVarlong(bytes: Uint8Array, cursor: { position: number }, end: number): number {
  let position = cursor.position;
  const start = position;
  // Up to 4 bytes (28 bits) with int32 arithmetic.
  let zz = 0;
  for (let shift = 0; shift < 28; shift += 7) {
    if (position >= end) throw truncated(start, "Varlong");
    const b = bytes[position++];
    zz |= (b & 0x7f) << shift;
    if (b < 0x80) {
      cursor.position = position;
      return (zz >>> 1) ^ -(zz & 1);
    }
  }
  // Longer: zz = 2h + sign; h = (low 27 bits) + high · 2^27, with high from the later groups.
  const sign = zz & 1;
  const low = zz >>> 1;
  let high = 0;
  let scale = 1;
  for (let i = 4; i < 10; i++) {
    if (position >= end) throw truncated(start, "Varlong");
    const b = bytes[position++];
    high += (b & 0x7f) * scale;
    if (b < 0x80) {
      const h = low + high * 0x8000000;
      if (h > Number.MAX_SAFE_INTEGER - sign) {
        throw new CorruptRecordError(`Varlong at byte ${start} is outside the safe integer range`);
      }
      cursor.position = position;
      return sign === 1 ? -h - 1 : h;
    }
    scale *= 128;
  }
  throw new CorruptRecordError(`Varlong at byte ${start} is longer than 10 bytes`);
}
