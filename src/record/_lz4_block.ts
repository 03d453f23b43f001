/**
 * LZ4 blocks (the compressed data inside an LZ4 frame), written from the format's specification
 * (lz4/doc/lz4_Block_format.md):
 *
 * ```
 * block    => sequence...
 * sequence => token: u8 (high 4 bits literal length, low 4 bits match length − 4; 15 = more bytes)
 *             [literal length: u8 255... u8 <255]  literals
 *             offset: u16 LE (1..65535, back from here)  [match length: u8 255... u8 <255]
 *             (the last sequence ends after its literals)
 * rules    => the last 5 bytes are literals; the last match starts at least 12 bytes before the end
 * ```
 *
 * reel's own, so that no codec allocates its working buffers when the module is imported (a
 * package's 5 MiB buffer held from import made Bun collect later, and a reader's RSS peak higher).
 *
 * @module
 */

/** Bytes at the end of a block that are always literals (LASTLITERALS). */
const LAST_LITERALS = 5;
/** A match starts at least this many bytes before the end of the block (MFLIMIT). */
const MATCH_FIND_LIMIT = 12;
const MIN_MATCH = 4;
const MAX_OFFSET = 65535;

/**
 * The most bytes {@linkcode compressLz4Block} may write for `n` input bytes.
 *
 * @param n the input size
 * @returns the bound (LZ4_compressBound)
 * @example The bound of 64 KiB
 * ```ts
 * import assert from "node:assert/strict";
 * import { lz4BlockBound } from "./_lz4_block.ts";
 * assert.equal(lz4BlockBound(65536), 65536 + 257 + 16);
 * ```
 */
export function lz4BlockBound(n: number): number {
  return n + Math.floor(n / 255) + 16;
}

/** An error for a malformed block (made out of line: the decode loop stays small). */
function malformed(detail: string): RangeError {
  return new RangeError(detail);
}

function read32(bytes: Uint8Array, i: number): number {
  return bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
}

/** Writes a length's continuation bytes (the part at or over 15) at `d`; returns the new position. */
function writeLength(dst: Uint8Array, d: number, rest: number): number {
  for (; rest >= 255; rest -= 255) dst[d++] = 255;
  dst[d++] = rest;
  return d;
}

/** Writes the literals `src[from, to)` as a sequence's token and literals; returns the new position. */
function writeLiterals(src: Uint8Array, from: number, to: number, dst: Uint8Array, d: number, low: number) {
  const n = to - from;
  dst[d++] = (n >= 15 ? 0xf0 : n << 4) | low;
  if (n >= 15) d = writeLength(dst, d, n - 15);
  if (n > 256) {
    dst.set(src.subarray(from, to), d);
    return d + n;
  }
  for (let i = from; i < to; i++) dst[d++] = src[i];
  return d;
}

/**
 * Compresses `src[start, end)` into one LZ4 block at the start of `dst` (greedy matching through a
 * 64 Ki-entry hash table of 4-byte sequences). The block is independent: no match reaches before
 * `start`.
 *
 * @param src the input
 * @param start the first input byte
 * @param end the position past the last input byte
 * @param dst where the block is written; at least {@linkcode lz4BlockBound} of the input size long
 * @param table the hash table, zero-filled by the caller before each block
 * @returns the block's size in bytes
 * @example Repeated text shrinks
 * ```ts
 * import assert from "node:assert/strict";
 * import { compressLz4Block, decompressLz4Block, lz4BlockBound } from "./_lz4_block.ts";
 * const text = new TextEncoder().encode("abcabcabcabcabcabcabcabcabcabc!");
 * const block = new Uint8Array(lz4BlockBound(text.length));
 * const size = compressLz4Block(text, 0, text.length, block, new Uint32Array(1 << 16));
 * assert.ok(size < text.length);
 * const out = new Uint8Array(text.length);
 * assert.equal(decompressLz4Block(block, 0, size, out, 0), text.length);
 * assert.deepEqual(out, text);
 * ```
 */
export function compressLz4Block(
  src: Uint8Array,
  start: number,
  end: number,
  dst: Uint8Array,
  table: Uint32Array,
): number {
  let anchor = start, p = start, d = 0;
  const lastMatchStart = end - MATCH_FIND_LIMIT;
  const matchEnd = end - LAST_LITERALS;
  if (end - start > MATCH_FIND_LIMIT) {
    while (p <= lastMatchStart) {
      const sequence = read32(src, p);
      const h = Math.imul(sequence, -1640531535) >>> 16;
      const ref = table[h] - 1; // positions are stored + 1: 0 is an empty slot
      table[h] = p + 1;
      if (ref < start || p - ref > MAX_OFFSET || read32(src, ref) !== sequence) {
        p += 1 + ((p - anchor) >>> 6); // step further through data that does not match
        continue;
      }
      let length = MIN_MATCH;
      while (p + length < matchEnd && src[p + length] === src[ref + length]) length++;
      const low = length - MIN_MATCH;
      d = writeLiterals(src, anchor, p, dst, d, low >= 15 ? 15 : low);
      const offset = p - ref;
      dst[d++] = offset;
      dst[d++] = offset >>> 8;
      if (low >= 15) d = writeLength(dst, d, low - 15);
      p += length;
      anchor = p;
    }
  }
  return writeLiterals(src, anchor, end, dst, d, 0);
}

/** Where the length bytes {@linkcode lengthBytes} read last ended. */
let afterLength = 0;

/**
 * Reads a length's continuation bytes (each 255 adds 255 and goes on; the first byte below 255
 * ends it) from `s`; sets {@linkcode afterLength} to the position past them.
 */
function lengthBytes(src: Uint8Array, s: number, end: number, what: string): number {
  let sum = 0, b = 0;
  do {
    if (s >= end) throw malformed(`${what} runs past the end of the block`);
    b = src[s++];
    sum += b;
  } while (b === 255);
  afterLength = s;
  return sum;
}

/**
 * Decompresses one LZ4 block, `src[start, start + length)`, into `dst` from `at`. Matches may
 * reach back into what `dst` holds before `at` (the previous blocks of a frame with linked blocks).
 *
 * @param src the compressed data
 * @param start the block's first byte
 * @param length the block's size
 * @param dst where the output goes
 * @param at the first output position
 * @returns the position past the last byte written
 * @throws {RangeError} when the block is malformed or its output does not fit in `dst`
 * @example A block of literals only
 * ```ts
 * import assert from "node:assert/strict";
 * import { decompressLz4Block } from "./_lz4_block.ts";
 * const out = new Uint8Array(3);
 * assert.equal(decompressLz4Block(new Uint8Array([0x30, 0x61, 0x62, 0x63]), 0, 4, out, 0), 3);
 * assert.deepEqual([...out], [0x61, 0x62, 0x63]);
 * assert.throws(() => decompressLz4Block(new Uint8Array([0x30, 0x61]), 0, 2, out, 0), RangeError);
 * ```
 */
export function decompressLz4Block(
  src: Uint8Array,
  start: number,
  length: number,
  dst: Uint8Array,
  at: number,
): number {
  const end = start + length;
  let s = start, d = at, n = 0, m = 0;
  for (;;) {
    if (s >= end) throw malformed(`block ends inside a sequence at byte ${s - start}`);
    const token = src[s++];
    let literals = token >>> 4;
    if (literals === 15) {
      literals += lengthBytes(src, s, end, "a literal length");
      s = afterLength;
    }
    if (s + literals > end) throw malformed("literals run past the end of the block");
    if (d + literals > dst.length) throw malformed("the output runs past its maximum size");
    if (literals > 256) {
      dst.set(src.subarray(s, s + literals), d);
      s += literals;
      d += literals;
    } else {
      for (n = s + literals; s < n;) dst[d++] = src[s++];
    }
    if (s === end) return d; // the last sequence: literals only
    if (s + 2 > end) throw malformed("a match offset runs past the end of the block");
    const offset = src[s] | (src[s + 1] << 8);
    s += 2;
    if (offset === 0 || offset > d) {
      throw malformed(`invalid match offset ${offset} at output byte ${d}`);
    }
    let match = (token & 15) + MIN_MATCH;
    if ((token & 15) === 15) {
      match += lengthBytes(src, s, end, "a match length");
      s = afterLength;
    }
    if (d + match > dst.length) throw malformed("the output runs past its maximum size");
    // Byte by byte: a match may overlap what it writes (offset < length repeats a pattern).
    for (m = d - offset, n = m + match; m < n;) dst[d++] = dst[m++] | 0;
  }
}
