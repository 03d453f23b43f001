/**
 * Joining the pieces of a line or a record batch that arrived in several chunks.
 *
 * @module
 */

/**
 * Copies `pieces` one after another into one new array.
 *
 * @param pieces the byte arrays, in order
 * @param length their total length, bytes, when the caller has counted it
 * @returns the joined bytes
 * @example Three pieces, one array
 * ```ts
 * import assert from "node:assert/strict";
 * import { concatBytes } from "./_concat_bytes.ts";
 * const pieces = [new Uint8Array([1, 2]), new Uint8Array(0), new Uint8Array([3])];
 * assert.deepEqual([...concatBytes(pieces)], [1, 2, 3]);
 * assert.deepEqual([...concatBytes(pieces, 3)], [1, 2, 3]);
 * ```
 */
export function concatBytes(pieces: readonly Uint8Array[], length?: number): Uint8Array {
  if (length === undefined) {
    length = 0;
    for (const piece of pieces) length += piece.length;
  }
  const out = new Uint8Array(length);
  let at = 0;
  for (const piece of pieces) {
    out.set(piece, at);
    at += piece.length;
  }
  return out;
}
