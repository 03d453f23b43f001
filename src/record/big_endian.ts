/**
 * The fixed-width big-endian integers of Kafka's formats (int16, int32, int64), read and written
 * in place in a `Uint8Array`, with no `DataView` and no `BigInt`: an int64 is a plain number
 * `hi · 2^32 + lo`, exact up to 2^53 (offsets and timestamps). Source: Apache Kafka
 * `docs/implementation.html` §5.3 (all integers are big-endian).
 *
 * @example Write an offset beyond 32 bits and read it back
 * ```ts
 * import assert from "node:assert/strict";
 * import { readInt64BE, writeInt64BE } from "./big_endian.ts";
 * const bytes = new Uint8Array(8);
 * writeInt64BE(bytes, 0, 2 ** 40 + 7);
 * assert.equal(readInt64BE(bytes, 0), 2 ** 40 + 7);
 * ```
 *
 * @module
 */

const TWO_POW_32 = 0x100000000;

/**
 * Reads a big-endian int16.
 *
 * @param bytes the data
 * @param position the byte position of the field
 * @returns the signed value
 * @example A negative int16
 * ```ts
 * import assert from "node:assert/strict";
 * import { readInt16BE } from "./big_endian.ts";
 * assert.equal(readInt16BE(new Uint8Array([0xff, 0xfe]), 0), -2);
 * ```
 */
export function readInt16BE(bytes: Uint8Array, position: number): number {
  return ((bytes[position] << 24) | (bytes[position + 1] << 16)) >> 16;
}

/**
 * Reads a big-endian int32.
 *
 * @param bytes the data
 * @param position the byte position of the field
 * @returns the signed value (`>>> 0` makes it unsigned)
 * @example An int32 at a position
 * ```ts
 * import assert from "node:assert/strict";
 * import { readInt32BE } from "./big_endian.ts";
 * assert.equal(readInt32BE(new Uint8Array([9, 0, 0, 1, 2]), 1), 258);
 * assert.equal(readInt32BE(new Uint8Array([0xff, 0xff, 0xff, 0xff]), 0), -1);
 * ```
 */
export function readInt32BE(bytes: Uint8Array, position: number): number {
  return (bytes[position] << 24) | (bytes[position + 1] << 16) | (bytes[position + 2] << 8) |
    bytes[position + 3];
}

/**
 * Reads a big-endian int64 as `hi · 2^32 + lo`: exact for |value| ≤ 2^53.
 *
 * @param bytes the data
 * @param position the byte position of the field
 * @returns the value as a number
 * @example −1, as Kafka writes "no producer id"
 * ```ts
 * import assert from "node:assert/strict";
 * import { readInt64BE } from "./big_endian.ts";
 * assert.equal(readInt64BE(new Uint8Array(8).fill(0xff), 0), -1);
 * ```
 */
export function readInt64BE(bytes: Uint8Array, position: number): number {
  return readInt32BE(bytes, position) * TWO_POW_32 + (readInt32BE(bytes, position + 4) >>> 0);
}

/**
 * Writes a big-endian int32 (the low 32 bits of `value`).
 *
 * @param bytes the data
 * @param position the byte position of the field
 * @param value an int32 or uint32
 * @example Write a length
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeInt32BE } from "./big_endian.ts";
 * const bytes = new Uint8Array(4);
 * writeInt32BE(bytes, 0, 258);
 * assert.deepEqual([...bytes], [0, 0, 1, 2]);
 * ```
 */
export function writeInt32BE(bytes: Uint8Array, position: number, value: number): void {
  bytes[position] = value >>> 24;
  bytes[position + 1] = value >>> 16;
  bytes[position + 2] = value >>> 8;
  bytes[position + 3] = value;
}

/**
 * Writes a big-endian int64 from a safe integer.
 *
 * @param bytes the data
 * @param position the byte position of the field
 * @param value a safe integer (|value| ≤ 2^53)
 * @example −1 is eight 0xff bytes
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeInt64BE } from "./big_endian.ts";
 * const bytes = new Uint8Array(8);
 * writeInt64BE(bytes, 0, -1);
 * assert.deepEqual([...bytes], [255, 255, 255, 255, 255, 255, 255, 255]);
 * ```
 */
export function writeInt64BE(bytes: Uint8Array, position: number, value: number): void {
  const hi = Math.floor(value / TWO_POW_32);
  writeInt32BE(bytes, position, hi);
  writeInt32BE(bytes, position + 4, value - hi * TWO_POW_32);
}
