/**
 * The compression codecs of a RecordBatch: the batch's records, concatenated, become one blob.
 *
 * ```
 * attributes bits 0-2 => 0 none | 1 gzip | 2 snappy | 3 lz4 | 4 zstd    (5-7 unused)
 * gzip   => RFC 1952 member(s)
 * snappy => xerial framing (written by Kafka's Java client; we write it):
 *             magic: 0x82 "SNAPPY" 0x00, version: int32 (1), compatible: int32 (1),
 *             [blockLength: int32 BE, block: raw snappy]...
 *           or one raw snappy stream (written by librdkafka, kafkajs); both are read
 * lz4    => LZ4 frame: magic 0x184D2204 LE, FLG, BD, [contentSize u64 LE], [dictId u32], HC,
 *             [blockSize u32 LE (high bit = stored), data, [blockChecksum u32]]..., 0u32,
 *             [contentChecksum u32]
 * zstd   => one or more zstd frames (RFC 8878)
 * ```
 *
 * Sources: Apache Kafka `clients/src/main/java/org/apache/kafka/common/record/CompressionType.java`,
 * `compress/SnappyFactory.java` (xerial `SnappyOutputStream`, 32 KiB blocks),
 * `compress/Lz4BlockOutputStream.java` (independent 64 KiB blocks, no checksums),
 * and the LZ4 frame format specification (lz4/doc/lz4_Frame_format.md).
 *
 * Codecs: gzip and zstd from `node:zlib`; snappy blocks from the `snappyjs` package; LZ4 blocks
 * are reel's own (`_lz4_block.ts`, from the block format specification), framed here with
 * independent blocks as Kafka's Java LZ4 reader requires, and xxHash32 (the frame's descriptor
 * checksum) from the `lz4js` package.
 *
 * @example Round trip through every codec
 * ```ts
 * import assert from "node:assert/strict";
 * import { compress, CompressionType, decompress } from "./compression.ts";
 * const data = new TextEncoder().encode("hello ".repeat(100));
 * for (const type of Object.values(CompressionType)) {
 *   const packed = compress(type, data);
 *   if (type !== CompressionType.None) assert.ok(packed.length < data.length / 4);
 *   assert.deepEqual(decompress(type, packed), data);
 * }
 * ```
 *
 * @module
 */

import { createRequire } from "node:module";
import xxh32js from "lz4js/xxh32.js";
import * as snappyjs from "snappyjs";
import { CorruptRecordError, UnsupportedCompressionTypeError } from "../errors.ts";
import { compressLz4Block, decompressLz4Block, lz4BlockBound } from "./_lz4_block.ts";

type Zlib = typeof import("node:zlib");
let zlibModule: Zlib | undefined;
/**
 * `node:zlib`, loaded on first use: most logs never see gzip or zstd, and loading it costs about
 * 10 MiB of RSS on Bun.
 */
function zlib(): Zlib {
  return zlibModule ??= createRequire(import.meta.url)("node:zlib") as Zlib;
}

/**
 * The compression codecs of Kafka, by the number stored in bits 0–2 of a batch's attributes.
 *
 * @example Kafka's numbers for the codecs
 * ```ts
 * import assert from "node:assert/strict";
 * import { CompressionType } from "./compression.ts";
 * assert.deepEqual(CompressionType, { None: 0, Gzip: 1, Snappy: 2, Lz4: 3, Zstd: 4 });
 * ```
 */
export const CompressionType = { None: 0, Gzip: 1, Snappy: 2, Lz4: 3, Zstd: 4 } as const;

/** One of the {@linkcode CompressionType} numbers: 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd. */
export type CompressionType = typeof CompressionType[keyof typeof CompressionType];

/** A codec by the name Kafka gives it (`compression.type`). */
export type CompressionName = "none" | "gzip" | "snappy" | "lz4" | "zstd";

const NAMES: readonly CompressionName[] = ["none", "gzip", "snappy", "lz4", "zstd"];

/**
 * A codec as callers write it: its name (`"gzip"`, as in Kafka's `compression.type` and the CLI's
 * `--compression`) or its {@linkcode CompressionType} number.
 */
export type Compression = CompressionName | CompressionType;

/**
 * The codec number of a compression option given by name or number.
 *
 * @param compression `"none"`, `"gzip"`, `"snappy"`, `"lz4"`, `"zstd"`, or 0–4; `undefined` is none
 * @returns the {@linkcode CompressionType} number
 * @throws {UnsupportedCompressionTypeError} for any other name or number
 *
 * @example Names and numbers
 * ```ts
 * import assert from "node:assert/strict";
 * import { CompressionType, toCompressionType } from "./compression.ts";
 * assert.equal(toCompressionType("zstd"), CompressionType.Zstd);
 * assert.equal(toCompressionType(1), CompressionType.Gzip);
 * assert.equal(toCompressionType(undefined), CompressionType.None);
 * assert.throws(() => toCompressionType("brotli" as never), /expected "none", "gzip"/);
 * ```
 */
export function toCompressionType(compression: Compression | undefined): CompressionType {
  if (compression === undefined) return CompressionType.None;
  if (typeof compression === "number" && Number.isInteger(compression) && NAMES[compression] !== undefined) {
    return compression;
  }
  const index = typeof compression === "string" ? NAMES.indexOf(compression) : -1;
  if (index !== -1) return index as CompressionType;
  throw new UnsupportedCompressionTypeError(
    JSON.stringify(compression) ?? String(compression),
    `expected ${NAMES.map((n) => JSON.stringify(n)).join(", ")} or a number from 0 to 4`,
  );
}

/**
 * The name Kafka uses for a codec (`compression.type`): `"none"`, `"gzip"`, `"snappy"`, `"lz4"`
 * or `"zstd"`.
 *
 * @param type the codec number from a batch's attributes (0–7)
 * @returns the codec's name
 * @throws {UnsupportedCompressionTypeError} when `type` is not one of Kafka's codecs (5, 6, 7, …)
 *
 * @example Names, and a number that is no codec
 * ```ts
 * import assert from "node:assert/strict";
 * import { UnsupportedCompressionTypeError } from "../errors.ts";
 * import { compressionName } from "./compression.ts";
 * assert.deepEqual([0, 1, 2, 3, 4].map(compressionName), ["none", "gzip", "snappy", "lz4", "zstd"]);
 * assert.throws(() => compressionName(7), UnsupportedCompressionTypeError);
 * ```
 */
export function compressionName(type: number): string {
  const name = NAMES[type];
  if (name === undefined) throw new UnsupportedCompressionTypeError(`${type}`, "it is not a Kafka codec");
  return name;
}

/** The typed part of `snappyjs` we use (the package ships no types). */
interface Snappyjs {
  compress(data: Uint8Array): Uint8Array;
  uncompress(data: Uint8Array, maxLength?: number): Uint8Array;
}

const xxh32 = (xxh32js as { hash(seed: number, src: Uint8Array, index: number, len: number): number }).hash;
const snappy = snappyjs as unknown as Snappyjs;

/** A view of a Buffer (or any Uint8Array subclass) as a plain Uint8Array, without copying. */
function plain(bytes: Uint8Array): Uint8Array {
  return bytes.constructor === Uint8Array
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Compresses `bytes` with a Kafka codec. `None` returns `bytes` itself.
 *
 * @param type the codec
 * @param bytes the uncompressed data
 * @returns the compressed data (a new array, except for `None`)
 * @throws {UnsupportedCompressionTypeError} when `type` is not a Kafka codec, or the runtime lacks
 *   the codec (zstd needs a `node:zlib` with `zstdCompressSync`)
 *
 * @example Snappy in xerial framing
 * ```ts
 * import assert from "node:assert/strict";
 * import { compress, CompressionType } from "./compression.ts";
 * const data = new Uint8Array(1000);
 * const head = (type: CompressionType) => [...compress(type, data).subarray(0, 4)];
 * assert.deepEqual(head(CompressionType.Snappy), [0x82, 0x53, 0x4e, 0x41]); // "\x82SNAPPY\0" (xerial)
 * assert.deepEqual(head(CompressionType.Gzip).slice(0, 2), [0x1f, 0x8b]);
 * assert.deepEqual(head(CompressionType.Lz4), [0x04, 0x22, 0x4d, 0x18]); // LZ4 frame magic
 * assert.deepEqual(head(CompressionType.Zstd), [0x28, 0xb5, 0x2f, 0xfd]); // zstd frame magic
 * assert.ok(compress(CompressionType.Snappy, data).length < 1000);
 * assert.equal(compress(CompressionType.None, data), data);
 * ```
 */
export function compress(type: CompressionType, bytes: Uint8Array): Uint8Array {
  switch (type) {
    case CompressionType.None:
      return bytes;
    case CompressionType.Gzip:
      return plain(zlib().gzipSync(bytes));
    case CompressionType.Snappy:
      return snappyXerialCompress(bytes);
    case CompressionType.Lz4:
      return lz4FrameCompress(bytes);
    case CompressionType.Zstd:
      return plain(zstd("zstdCompressSync")(bytes));
    default:
      throw new UnsupportedCompressionTypeError(`${type}`, "it is not a Kafka codec");
  }
}

/**
 * Decompresses `bytes` written with a Kafka codec. `None` returns `bytes` itself.
 *
 * @param type the codec
 * @param bytes the compressed data
 * @returns the uncompressed data, a plain `Uint8Array`
 * @throws {UnsupportedCompressionTypeError} when `type` is not a Kafka codec, or the runtime lacks
 *   the codec
 * @throws {CorruptRecordError} when `bytes` are not valid data for the codec
 *
 * @example Decompress what the gzip, lz4 and zstd command-line tools wrote
 * ```ts
 * import assert from "node:assert/strict";
 * import { CompressionType, decompress } from "./compression.ts";
 * const hello = new TextEncoder().encode("hello");
 * // printf hello | gzip -n -9
 * const gzip = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 7, 0, 0x86, 0xa6, 0x10, 0x36, 5, 0, 0, 0];
 * assert.deepEqual(decompress(CompressionType.Gzip, new Uint8Array(gzip)), hello);
 * // printf hello | lz4
 * const lz4 = [4, 0x22, 0x4d, 0x18, 0x64, 0x40, 0xa7, 5, 0, 0, 0x80, ...hello, 0, 0, 0, 0, 0xf9, 0x77, 0, 0xfb];
 * assert.deepEqual(decompress(CompressionType.Lz4, new Uint8Array(lz4)), hello);
 * // printf hello | zstd --no-check
 * const zstd = [0x28, 0xb5, 0x2f, 0xfd, 0, 0x58, 0x29, 0, 0, ...hello];
 * assert.deepEqual(decompress(CompressionType.Zstd, new Uint8Array(zstd)), hello);
 * ```
 */
export function decompress(type: CompressionType, bytes: Uint8Array): Uint8Array {
  if (type === CompressionType.None) return bytes;
  let unzip: (bytes: Uint8Array) => Uint8Array;
  switch (type) {
    case CompressionType.Gzip:
      unzip = zlib().gunzipSync;
      break;
    case CompressionType.Snappy:
      unzip = snappyDecompress;
      break;
    case CompressionType.Lz4:
      unzip = lz4FrameDecompress;
      break;
    case CompressionType.Zstd:
      unzip = zstd("zstdDecompressSync");
      break;
    default:
      throw new UnsupportedCompressionTypeError(`${type}`, "it is not a Kafka codec");
  }
  try {
    return plain(unzip(bytes));
  } catch (err) {
    if (err instanceof CorruptRecordError) throw err;
    const detail = err instanceof Error ? err.message : String(err);
    throw new CorruptRecordError(`Cannot decompress ${NAMES[type]} records: ${detail}`, {}, { cause: err });
  }
}

function zstd(name: "zstdCompressSync" | "zstdDecompressSync"): (bytes: Uint8Array) => Uint8Array {
  const fn = (zlib() as unknown as Record<string, unknown>)[name];
  if (typeof fn !== "function") {
    throw new UnsupportedCompressionTypeError("zstd", `this runtime's node:zlib has no ${name}`);
  }
  return fn as (bytes: Uint8Array) => Uint8Array;
}

// ---------------------------------------------------------------------------------------------
// Snappy, xerial framing (org.xerial.snappy.SnappyOutputStream / SnappyCodec).

const XERIAL_HEADER = new Uint8Array([
  0x82,
  0x53,
  0x4e,
  0x41,
  0x50,
  0x50,
  0x59,
  0x00,
  0,
  0,
  0,
  1,
  0,
  0,
  0,
  1,
]);
const XERIAL_BLOCK = 32 * 1024;

function snappyXerialCompress(bytes: Uint8Array): Uint8Array {
  const blocks: Uint8Array[] = [];
  let total = XERIAL_HEADER.length;
  for (let start = 0; start < bytes.length; start += XERIAL_BLOCK) {
    const block = snappy.compress(bytes.subarray(start, Math.min(start + XERIAL_BLOCK, bytes.length)));
    blocks.push(block);
    total += 4 + block.length;
  }
  const out = new Uint8Array(total);
  out.set(XERIAL_HEADER, 0);
  let position = XERIAL_HEADER.length;
  for (const block of blocks) {
    const n = block.length;
    out[position] = n >>> 24;
    out[position + 1] = n >>> 16;
    out[position + 2] = n >>> 8;
    out[position + 3] = n;
    out.set(block, position + 4);
    position += 4 + n;
  }
  return out;
}

function isXerial(bytes: Uint8Array): boolean {
  if (bytes.length < 16) return false;
  for (let i = 0; i < 8; i++) if (bytes[i] !== XERIAL_HEADER[i]) return false;
  return true;
}

function snappyDecompress(bytes: Uint8Array): Uint8Array {
  if (!isXerial(bytes)) return snappy.uncompress(bytes);
  const blocks: Uint8Array[] = [];
  let total = 0;
  let position = 16;
  while (position < bytes.length) {
    if (position + 4 > bytes.length) {
      throw new CorruptRecordError(
        `Cannot decompress snappy records: xerial block length at byte ${position} is cut off`,
      );
    }
    const n = ((bytes[position] << 24) | (bytes[position + 1] << 16) | (bytes[position + 2] << 8) |
      bytes[position + 3]) >>>
      0;
    position += 4;
    if (position + n > bytes.length) {
      throw new CorruptRecordError(
        `Cannot decompress snappy records: xerial block of ${n} bytes at byte ${position} runs past the end`,
      );
    }
    const block = snappy.uncompress(bytes.subarray(position, position + n));
    blocks.push(block);
    total += block.length;
    position += n;
  }
  if (blocks.length === 1) return blocks[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const block of blocks) {
    out.set(block, at);
    at += block.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// LZ4 frame format.

const LZ4_MAGIC = 0x184d2204;
const LZ4_FLG_VERSION = 0x40;
const LZ4_FLG_BLOCK_INDEPENDENCE = 0x20;
const LZ4_FLG_BLOCK_CHECKSUM = 0x10;
const LZ4_FLG_CONTENT_SIZE = 0x08;
const LZ4_FLG_DICT_ID = 0x01;
const LZ4_STORED = 0x80000000;
const LZ4_MAX_BLOCK_SIZES = [0, 0, 0, 0, 0x10000, 0x40000, 0x100000, 0x400000];
/** BD byte for 64 KiB blocks, Kafka's choice. */
const LZ4_BD_64K = 4 << 4;
/**
 * Input bytes per block. Slightly under 64 KiB on purpose: reference decoders (lz4, lz4-java)
 * decoding into a 64 KiB buffer require the last match to start 12 bytes before the end when the
 * block fills that buffer exactly; 16 bytes short leaves room whatever the encoder's last match.
 */
const LZ4_BLOCK_INPUT = 0x10000 - 16;

let lz4HashTable: Uint32Array | undefined;
let lz4Scratch: Uint8Array | undefined;

function writeU32LE(out: Uint8Array, position: number, value: number): void {
  out[position] = value;
  out[position + 1] = value >>> 8;
  out[position + 2] = value >>> 16;
  out[position + 3] = value >>> 24;
}

function readU32LE(bytes: Uint8Array, position: number): number {
  return (bytes[position] | (bytes[position + 1] << 8) | (bytes[position + 2] << 16) |
    (bytes[position + 3] << 24)) >>> 0;
}

function lz4FrameCompress(bytes: Uint8Array): Uint8Array {
  const table = lz4HashTable ??= new Uint32Array(1 << 16);
  const scratch = lz4Scratch ??= new Uint8Array(lz4BlockBound(LZ4_BLOCK_INPUT));
  const blockCount = Math.ceil(bytes.length / LZ4_BLOCK_INPUT);
  const out = new Uint8Array(7 + blockCount * (4 + LZ4_BLOCK_INPUT) + 4);
  writeU32LE(out, 0, LZ4_MAGIC);
  out[4] = LZ4_FLG_VERSION | LZ4_FLG_BLOCK_INDEPENDENCE;
  out[5] = LZ4_BD_64K;
  out[6] = (xxh32(0, out, 4, 2) >>> 8) & 0xff;
  let position = 7;
  for (let start = 0; start < bytes.length; start += LZ4_BLOCK_INPUT) {
    const block = bytes.subarray(start, Math.min(start + LZ4_BLOCK_INPUT, bytes.length));
    table.fill(0); // independent blocks: no match may reach into an earlier block
    const size = compressLz4Block(block, 0, block.length, scratch, table);
    if (size === 0 || size >= block.length) {
      writeU32LE(out, position, (LZ4_STORED | block.length) >>> 0);
      out.set(block, position + 4);
      position += 4 + block.length;
    } else {
      writeU32LE(out, position, size);
      out.set(scratch.subarray(0, size), position + 4);
      position += 4 + size;
    }
  }
  writeU32LE(out, position, 0); // EndMark
  return out.subarray(0, position + 4);
}

function lz4Corrupt(detail: string): CorruptRecordError {
  return new CorruptRecordError(`Cannot decompress lz4 records: ${detail}`);
}

function lz4FrameDecompress(bytes: Uint8Array): Uint8Array {
  const length = bytes.length;
  if (length < 7 || readU32LE(bytes, 0) !== LZ4_MAGIC) {
    throw lz4Corrupt("not an LZ4 frame (bad magic number)");
  }
  const flg = bytes[4];
  if ((flg & 0xc0) !== LZ4_FLG_VERSION) throw lz4Corrupt(`unsupported frame version ${flg >>> 6}`);
  if ((flg & LZ4_FLG_DICT_ID) !== 0) throw lz4Corrupt("frames with a dictionary are not supported");
  const maxBlockSize = LZ4_MAX_BLOCK_SIZES[(bytes[5] >>> 4) & 7];
  if (maxBlockSize === 0) {
    throw lz4Corrupt(`invalid block maximum size in BD byte 0x${bytes[5].toString(16)}`);
  }
  const hasBlockChecksum = (flg & LZ4_FLG_BLOCK_CHECKSUM) !== 0;
  let position = 6 + ((flg & LZ4_FLG_CONTENT_SIZE) !== 0 ? 8 : 0);
  if (position >= length) throw lz4Corrupt("frame descriptor is cut off");
  const hc = (xxh32(0, bytes, 4, position - 4) >>> 8) & 0xff;
  if (bytes[position] !== hc) throw lz4Corrupt("frame descriptor checksum mismatch");
  position++;
  const blocksStart = position;
  // First pass: check the block structure and bound the output size.
  let bound = 0;
  for (;;) {
    if (position + 4 > length) throw lz4Corrupt("frame is cut off before its end mark");
    const word = readU32LE(bytes, position);
    position += 4;
    if (word === 0) break;
    const size = (word & 0x7fffffff) >>> 0;
    if (size > maxBlockSize) throw lz4Corrupt(`block of ${size} bytes exceeds the maximum ${maxBlockSize}`);
    position += size + (hasBlockChecksum ? 4 : 0);
    if (position > length) throw lz4Corrupt("a block runs past the end of the data");
    bound += (word & LZ4_STORED) !== 0 ? size : maxBlockSize;
  }
  const out = new Uint8Array(bound);
  let written = 0;
  position = blocksStart;
  for (;;) {
    const word = readU32LE(bytes, position);
    position += 4;
    if (word === 0) break;
    const size = (word & 0x7fffffff) >>> 0;
    if ((word & LZ4_STORED) !== 0) {
      out.set(bytes.subarray(position, position + size), written);
      written += size;
    } else {
      const end = decompressLz4Block(bytes, position, size, out, written);
      if (end - written > maxBlockSize || end > bound) {
        throw lz4Corrupt("a block decompresses past its maximum size");
      }
      written = end;
    }
    position += size + (hasBlockChecksum ? 4 : 0);
  }
  return written === bound ? out : out.subarray(0, written);
}
