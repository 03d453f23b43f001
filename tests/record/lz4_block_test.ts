// reel's LZ4 block codec (src/record/_lz4_block.ts): round trips, the block format's end rules, an
// independent implementation (lz4js, the package reel used before) reading reel's blocks and reel
// reading its blocks, the reference `lz4` tool reading reel's frames, and malformed blocks.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import lz4js from "lz4js";
import { compressLz4Block, decompressLz4Block, lz4BlockBound } from "../../src/record/_lz4_block.ts";
import { compress, CompressionType, decompress } from "../../src/record/compression.ts";

interface Lz4js {
  compressBlock(
    src: Uint8Array,
    dst: Uint8Array,
    sIndex: number,
    sLength: number,
    table: Uint32Array,
  ): number;
  decompressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, dIndex: number): number;
}
const other = lz4js as Lz4js;

/** Data that compresses: runs copied from earlier positions (some long), mixed with fresh bytes. */
const compressible = fc.tuple(
  fc.integer({ min: 0, max: 70_000 }),
  fc.integer(),
  fc.integer({ min: 1, max: 99 }),
)
  .map(([length, seed, repeat]) => {
    const out = new Uint8Array(length);
    let s = seed >>> 0 || 1;
    const next = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 8;
    for (let i = 0; i < length; i++) {
      out[i] = i > 300 && next() % 100 < repeat ? out[i - 1 - (next() % 300)] : next() % 64;
    }
    return out;
  });
const data = fc.oneof(fc.uint8Array({ maxLength: 300 }), compressible);

function reelBlock(bytes: Uint8Array): Uint8Array {
  const dst = new Uint8Array(lz4BlockBound(bytes.length));
  return dst.subarray(0, compressLz4Block(bytes, 0, bytes.length, dst, new Uint32Array(1 << 16)));
}

/** Walks a block's sequences and checks LZ4's end rules: last 5 bytes literals, last match 12 from the end. */
function checkEndRules(block: Uint8Array, outputLength: number): void {
  let s = 0, d = 0, lastMatchStart = -1;
  const more = (n: number) => {
    if (n !== 15) return n;
    for (let b = 255; b === 255; n += b) b = block[s++];
    return n;
  };
  for (;;) {
    const token = block[s++];
    const literals = more(token >>> 4);
    s += literals;
    d += literals;
    if (s === block.length) break;
    s += 2;
    lastMatchStart = d;
    d += more(token & 15) + 4;
    assert.ok(d <= outputLength - 5, `a match ends at ${d}, within the last 5 bytes of ${outputLength}`);
  }
  assert.equal(d, outputLength);
  if (lastMatchStart >= 0) {
    assert.ok(lastMatchStart <= outputLength - 12, "the last match starts 12 bytes from the end");
  }
}

describe("LZ4 blocks", () => {
  test("a block decompresses to its input, and keeps the format's end rules", () => {
    fc.assert(
      fc.property(data, (bytes) => {
        const block = reelBlock(bytes);
        assert.ok(block.length <= lz4BlockBound(bytes.length));
        const out = new Uint8Array(bytes.length);
        assert.equal(decompressLz4Block(block, 0, block.length, out, 0), bytes.length);
        assert.deepEqual(out, bytes);
        checkEndRules(block, bytes.length);
      }),
      { numRuns: 300 },
    );
  });

  test("every size from 0 to 40 bytes, of one repeated byte and of distinct bytes", () => {
    for (let n = 0; n <= 40; n++) {
      for (const bytes of [new Uint8Array(n).fill(7), Uint8Array.from({ length: n }, (_, i) => i)]) {
        const block = reelBlock(bytes);
        const out = new Uint8Array(n);
        assert.equal(decompressLz4Block(block, 0, block.length, out, 0), n);
        assert.deepEqual(out, bytes);
        checkEndRules(block, n);
      }
    }
  });

  test("lz4js reads reel's blocks, and reel reads lz4js's blocks", () => {
    fc.assert(
      fc.property(data, (bytes) => {
        const block = reelBlock(bytes);
        const out = new Uint8Array(bytes.length);
        assert.equal(other.decompressBlock(block, out, 0, block.length, 0), bytes.length);
        assert.deepEqual(out, bytes);
        const theirs = new Uint8Array(lz4BlockBound(bytes.length));
        const size = other.compressBlock(bytes, theirs, 0, bytes.length, new Uint32Array(1 << 16));
        if (size > 0) {
          const back = new Uint8Array(bytes.length);
          assert.equal(decompressLz4Block(theirs, 0, size, back, 0), bytes.length);
          assert.deepEqual(back, bytes);
        }
      }),
      { numRuns: 200 },
    );
  });

  test("a match may reach into the output before the block (linked blocks)", () => {
    const out = new Uint8Array(12);
    out.set([1, 2, 3, 4], 0);
    // token: 0 literals, match 4 + 4 = 8 bytes at offset 4, then a last sequence of no literals
    const end = decompressLz4Block(new Uint8Array([0x04, 4, 0, 0x00]), 0, 4, out, 4);
    assert.equal(end, 12);
    assert.deepEqual([...out], [1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4]);
  });

  test("malformed blocks throw RangeError, and never write past the output", () => {
    const out = new Uint8Array(16);
    const bad = [
      [], // empty: ends inside a sequence
      [0xf0], // a literal length cut off
      [0x50, 1, 2], // literals cut off
      [0x10, 1, 5], // an offset cut off
      [0x10, 1, 0, 0, 0x00], // offset 0
      [0x10, 1, 9, 0, 0x00], // offset before the start of the output
      [0x1f, 1, 1, 0], // a match length cut off
      [0x1f, 1, 1, 0, 255, 0, 0x00], // a match past the output's end
      [0xf0, 10, ...new Array(25).fill(0)], // literals past the output's end
    ];
    for (const block of bad) {
      assert.throws(() => decompressLz4Block(new Uint8Array(block), 0, block.length, out, 0), RangeError);
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (block) => {
        const small = new Uint8Array(32);
        try {
          assert.ok(decompressLz4Block(block, 0, block.length, small, 0) <= 32);
        } catch (err) {
          assert.ok(err instanceof RangeError);
        }
      }),
    );
  });

  test(
    "the reference lz4 tool reads reel's frames",
    { skip: spawnSync("lz4", ["--version"]).status !== 0 },
    () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-lz4-"));
      try {
        fc.assert(
          fc.property(compressible, (bytes) => {
            const file = path.join(dir, "frame.lz4");
            fs.writeFileSync(file, compress(CompressionType.Lz4, bytes));
            const run = spawnSync("lz4", ["-d", "-c", file], { maxBuffer: 1 << 24 });
            assert.equal(run.status, 0, String(run.stderr));
            assert.deepEqual(new Uint8Array(run.stdout), bytes);
            assert.deepEqual(decompress(CompressionType.Lz4, compress(CompressionType.Lz4, bytes)), bytes);
          }),
          { numRuns: 25 },
        );
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
