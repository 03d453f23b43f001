import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as zlib from "node:zlib";
import fc from "fast-check";
import { CorruptRecordError, UnsupportedCompressionTypeError } from "../../src/errors.ts";
import { compress, compressionName, CompressionType, decompress } from "../../src/record/compression.ts";
import { CODECS, HAS_ZSTD } from "../_runtime.ts";

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const fromHex = (hex: string) => new Uint8Array(hex.match(/../g)!.map((h) => parseInt(h, 16)));
const readU32LE = (b: Uint8Array, p: number) =>
  (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;

/** Data that compresses: runs copied from earlier positions, mixed with fresh bytes. */
function compressible(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let s = seed >>> 0 || 1;
  const next = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 8;
  for (let i = 0; i < length; i++) {
    out[i] = i > 16 && next() % 10 < 7 ? out[i - 1 - (next() % 16)] : next() % 32;
  }
  return out;
}

// lz4 1.9.4 CLI: `lz4 -B4 -BD -BX --content-size` of "0123456789abcdef" x 10000 (160000 bytes):
// 64 KiB linked blocks with block checksums, content size and content checksum.
const LZ4_CLI_LINKED =
  "04224d185c400071020000000000a91b010000ff01303132333435363738396162636465661000ffffffffffffffffffffff" +
  "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff" +
  "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff" +
  "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff" +
  "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff" +
  "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffd850626364" +
  "656653de5e9c1b010000ff01303132333435363738396162636465661000ffffffffffffffffffffffffffffffffffffffff" +
  "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff" +
  "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff" +
  "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff" +
  "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff" +
  "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffd850626364656653de5e9c8c0000" +
  "00ff01303132333435363738396162636465661000ffffffffffffffffffffffffffffffffffffffffffffffffffffffffff" +
  "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff" +
  "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff49506263646566223ccbce00000000f3" +
  "08d1fa";
// lz4 1.9.4 CLI, default options, of "The quick brown fox jumps": one stored (uncompressed) block.
const LZ4_CLI_STORED =
  "04224d186440a71900008054686520717569636b2062726f776e20666f78206a756d707300000000d64c96b8";

describe("compression", () => {
  test("compressionName() names Kafka's five codecs", () => {
    assert.deepEqual([0, 1, 2, 3, 4].map(compressionName), ["none", "gzip", "snappy", "lz4", "zstd"]);
  });

  test("compressionName(), compress() and decompress() throw UnsupportedCompressionTypeError for 5, 6 and 7", () => {
    for (const type of [5, 6, 7]) {
      assert.throws(() => compressionName(type), UnsupportedCompressionTypeError);
      assert.throws(
        () => compress(type as CompressionType, new Uint8Array(1)),
        UnsupportedCompressionTypeError,
      );
      assert.throws(
        () => decompress(type as CompressionType, new Uint8Array(1)),
        UnsupportedCompressionTypeError,
      );
    }
  });

  test("decompress() returns what compress() was given, for every codec and any bytes", () => {
    for (const type of CODECS) {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
          const back = decompress(type, compress(type, bytes));
          assert.equal(back.constructor, Uint8Array);
          assert.deepEqual(back, bytes);
        }),
        { numRuns: 60 },
      );
    }
  });

  test("decompress() returns what compress() was given for large inputs spanning many codec blocks", () => {
    for (const length of [0, 1, 13, 32 * 1024, 65520, 65536, 200_000, 1_000_003]) {
      const bytes = compressible(length, length);
      for (const type of CODECS) {
        const packed = compress(type, bytes);
        if (length >= 65536 && type !== CompressionType.None) {
          assert.ok(packed.length < bytes.length, `${compressionName(type)} shrinks ${length} bytes`);
        }
        assert.deepEqual(decompress(type, packed), bytes, `${compressionName(type)} ${length}`);
      }
    }
  });

  test("compress(None) and decompress(None) return the same array", () => {
    const bytes = utf8("as is");
    assert.equal(compress(CompressionType.None, bytes), bytes);
    assert.equal(decompress(CompressionType.None, bytes), bytes);
  });

  test("compress(Gzip) writes gzip that node:zlib reads, and decompress(Gzip) reads node:zlib's gzip", () => {
    const bytes = compressible(10_000, 7);
    const packed = compress(CompressionType.Gzip, bytes);
    assert.deepEqual([packed[0], packed[1]], [0x1f, 0x8b]);
    assert.deepEqual(new Uint8Array(zlib.gunzipSync(packed)), bytes);
    assert.deepEqual(decompress(CompressionType.Gzip, zlib.gzipSync(bytes, { level: 9 })), bytes);
  });

  test("compress(Snappy) writes xerial framing: magic, version 1, compatible 1, 32 KiB blocks", () => {
    const bytes = compressible(100_000, 3);
    const packed = compress(CompressionType.Snappy, bytes);
    assert.deepEqual(Array.from(packed.subarray(0, 16)), [
      0x82,
      83,
      78,
      65,
      80,
      80,
      89,
      0,
      0,
      0,
      0,
      1,
      0,
      0,
      0,
      1,
    ]);
    const view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
    let blocks = 0;
    for (let position = 16; position < packed.length; blocks++) position += 4 + view.getInt32(position);
    assert.equal(blocks, Math.ceil(100_000 / 32768));
  });

  test("decompress(Snappy) reads raw snappy and multi-block xerial snappy from other encoders", () => {
    // Vectors from libkafka-asio's snappy tests (raw block; xerial stream of two blocks).
    const raw = new Uint8Array([0x24, 0x14, 0x52, 0x45, 0x50, 0x45, 0x41, 0x54, 0x76, 0x06, 0x00]);
    assert.equal(text(decompress(CompressionType.Snappy, raw)), "REPEAT".repeat(6));
    const xerial = new Uint8Array([
      0x82,
      0x53,
      0x4e,
      0x41,
      0x50,
      0x50,
      0x59,
      0x00,
      0x00,
      0x00,
      0x00,
      0x01,
      0x00,
      0x00,
      0x00,
      0x01,
      0x00,
      0x00,
      0x00,
      0x07,
      0x05,
      0x10,
      0x48,
      0x65,
      0x6c,
      0x6c,
      0x6f,
      0x00,
      0x00,
      0x00,
      0x08,
      0x06,
      0x14,
      0x20,
      0x57,
      0x6f,
      0x72,
      0x6c,
      0x64,
    ]);
    assert.equal(text(decompress(CompressionType.Snappy, xerial)), "Hello World");
  });

  test("compress(Lz4) writes an LZ4 frame with independent 64 KiB blocks and no checksums, as Kafka's Java client", () => {
    const bytes = compressible(300_000, 11);
    const packed = compress(CompressionType.Lz4, bytes);
    assert.equal(readU32LE(packed, 0), 0x184d2204);
    assert.equal(packed[4], 0x60, "FLG: version 01, block independence");
    assert.equal(packed[5], 0x40, "BD: 64 KiB blocks");
    let position = 7;
    let blocks = 0;
    for (;;) {
      const word = readU32LE(packed, position);
      position += 4;
      if (word === 0) break;
      assert.ok((word & 0x7fffffff) <= 65536);
      position += word & 0x7fffffff;
      blocks++;
    }
    assert.equal(position, packed.length, "ends right after the end mark: no content checksum");
    assert.ok(blocks >= 5);
  });

  test("compress(Lz4) puts at most 65520 input bytes in a block, so decoders with a 64 KiB buffer accept the last match", () => {
    // lz4js may start a block's last match 10 bytes before its end; lz4 and lz4-java require 12 when
    // the block fills their 64 KiB buffer exactly. 131072 bytes must therefore take 3 blocks, not 2.
    const packed = compress(CompressionType.Lz4, compressible(131072, 2));
    let position = 7;
    let blocks = 0;
    for (let word = readU32LE(packed, position); word !== 0; word = readU32LE(packed, position)) {
      position += 4 + (word & 0x7fffffff);
      blocks++;
    }
    assert.equal(blocks, 3);
  });

  test("decompress(Lz4) reads frames of the reference lz4 encoder: linked blocks, checksums, content size, stored blocks", () => {
    assert.equal(
      text(decompress(CompressionType.Lz4, fromHex(LZ4_CLI_LINKED))),
      "0123456789abcdef".repeat(10000),
    );
    assert.equal(text(decompress(CompressionType.Lz4, fromHex(LZ4_CLI_STORED))), "The quick brown fox jumps");
  });

  test("compress(Zstd) writes a zstd frame that node:zlib reads", () => {
    const bytes = compressible(5000, 5);
    if (!HAS_ZSTD) {
      // Node 20: node:zlib has no zstd (it came in Node 22.15), so both directions refuse by name.
      const refused = (err: unknown) =>
        err instanceof UnsupportedCompressionTypeError && /zstd/.test(err.message);
      assert.throws(() => compress(CompressionType.Zstd, bytes), refused);
      assert.throws(
        () => decompress(CompressionType.Zstd, new Uint8Array([0x28, 0xb5, 0x2f, 0xfd])),
        refused,
      );
      return;
    }
    const packed = compress(CompressionType.Zstd, bytes);
    assert.equal(readU32LE(packed, 0), 0xfd2fb528);
    assert.deepEqual(new Uint8Array(zlib.zstdDecompressSync(packed)), bytes);
  });

  test("decompress() throws CorruptRecordError for data that is not valid for the codec", () => {
    const garbage = utf8("this is not compressed data at all");
    for (const type of CODECS.filter((type) => type !== CompressionType.None)) {
      assert.throws(() => decompress(type, garbage), CorruptRecordError, compressionName(type));
    }
    const lz4 = compress(CompressionType.Lz4, compressible(1000, 1));
    assert.throws(() => decompress(CompressionType.Lz4, lz4.subarray(0, lz4.length - 3)), CorruptRecordError);
    const badHeaderChecksum = lz4.slice();
    badHeaderChecksum[6] ^= 0xff;
    assert.throws(() => decompress(CompressionType.Lz4, badHeaderChecksum), CorruptRecordError);
    const snappy = compress(CompressionType.Snappy, compressible(1000, 1));
    assert.throws(
      () => decompress(CompressionType.Snappy, snappy.subarray(0, snappy.length - 3)),
      CorruptRecordError,
    );
    const gzip = compress(CompressionType.Gzip, compressible(1000, 1));
    assert.throws(
      () => decompress(CompressionType.Gzip, gzip.subarray(0, gzip.length - 3)),
      CorruptRecordError,
    );
  });
});
