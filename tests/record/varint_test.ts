import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { CorruptRecordError } from "../../src/errors.ts";
import {
  readVarint,
  readVarlong,
  sizeOfVarint,
  sizeOfVarlong,
  writeVarint,
  writeVarlong,
} from "../../src/record/varint.ts";

/** Reference protobuf zigzag encoding with BigInt (tests only). */
function referenceVarlong(value: bigint): number[] {
  let zz = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
  const out: number[] = [];
  while (zz >= 0x80n) {
    out.push(Number(zz & 0x7fn) | 0x80);
    zz >>= 7n;
  }
  out.push(Number(zz));
  return out;
}

function encodeVarint(value: number): number[] {
  const bytes = new Uint8Array(5);
  return Array.from(bytes.subarray(0, writeVarint(bytes, 0, value)));
}

function encodeVarlong(value: number): number[] {
  const bytes = new Uint8Array(10);
  return Array.from(bytes.subarray(0, writeVarlong(bytes, 0, value)));
}

describe("varint", () => {
  // Vectors from Apache Kafka ByteUtilsTest.testVarintSerde.
  const vectors: [number, number[]][] = [
    [0, [0x00]],
    [-1, [0x01]],
    [1, [0x02]],
    [5, [0x0a]],
    [63, [0x7e]],
    [-64, [0x7f]],
    [64, [0x80, 0x01]],
    [-65, [0x81, 0x01]],
    [8191, [0xfe, 0x7f]],
    [-8192, [0xff, 0x7f]],
    [8192, [0x80, 0x80, 0x01]],
    [-8193, [0x81, 0x80, 0x01]],
    [1048575, [0xfe, 0xff, 0x7f]],
    [-1048576, [0xff, 0xff, 0x7f]],
    [1048576, [0x80, 0x80, 0x80, 0x01]],
    [134217727, [0xfe, 0xff, 0xff, 0x7f]],
    [-134217728, [0xff, 0xff, 0xff, 0x7f]],
    [134217728, [0x80, 0x80, 0x80, 0x80, 0x01]],
    [2147483647, [0xfe, 0xff, 0xff, 0xff, 0x0f]],
    [-2147483648, [0xff, 0xff, 0xff, 0xff, 0x0f]],
  ];

  test("writeVarint() writes Kafka's bytes and sizeOfVarint() counts them", () => {
    for (const [value, bytes] of vectors) {
      assert.deepEqual(encodeVarint(value), bytes, `value ${value}`);
      assert.equal(sizeOfVarint(value), bytes.length, `size of ${value}`);
    }
  });

  test("readVarint() reads Kafka's bytes and moves the cursor past them", () => {
    for (const [value, bytes] of vectors) {
      const data = new Uint8Array([0xaa, ...bytes, 0xbb]);
      const cursor = { position: 1 };
      assert.equal(readVarint(data, cursor), value);
      assert.equal(cursor.position, 1 + bytes.length);
    }
  });

  test("readVarint() returns what writeVarint() wrote for every int32", () => {
    fc.assert(
      fc.property(fc.integer({ min: -2147483648, max: 2147483647 }), (value) => {
        const bytes = new Uint8Array(5);
        const end = writeVarint(bytes, 0, value);
        assert.equal(end, sizeOfVarint(value));
        assert.deepEqual(encodeVarint(value), referenceVarlong(BigInt(value)));
        const cursor = { position: 0 };
        assert.equal(readVarint(bytes, cursor), value);
        assert.equal(cursor.position, end);
      }),
    );
  });

  test("readVarint() throws CorruptRecordError when the varint is longer than 5 bytes", () => {
    const data = new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]);
    assert.throws(() => readVarint(data, { position: 0 }), CorruptRecordError);
  });

  test("readVarint() throws CorruptRecordError when the varint runs past the end", () => {
    assert.throws(() => readVarint(new Uint8Array([0x80, 0x80]), { position: 0 }), CorruptRecordError);
    assert.throws(() => readVarint(new Uint8Array([]), { position: 0 }), CorruptRecordError);
    // the `end` limit counts, not only the array's length
    assert.throws(() => readVarint(new Uint8Array([0x80, 0x01]), { position: 0 }, 1), CorruptRecordError);
    assert.throws(() => readVarint(new Uint8Array([0x02]), { position: 0 }, 0), CorruptRecordError);
  });
});

describe("varlong", () => {
  test("writeVarlong() writes the protobuf zigzag bytes for timestamps and extremes", () => {
    const values = [
      0,
      -1,
      1,
      2 ** 30 - 1,
      2 ** 30,
      -(2 ** 30),
      -(2 ** 30) - 1,
      2 ** 31,
      -(2 ** 31),
      1_700_000_000_000,
      -1_700_000_000_000,
      2 ** 52,
      Number.MAX_SAFE_INTEGER,
      Number.MIN_SAFE_INTEGER,
    ];
    for (const value of values) {
      const expected = referenceVarlong(BigInt(value));
      assert.deepEqual(encodeVarlong(value), expected, `value ${value}`);
      assert.equal(sizeOfVarlong(value), expected.length, `size of ${value}`);
    }
  });

  test("readVarlong() returns what writeVarlong() wrote for every safe integer", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.maxSafeInteger(), fc.integer(), fc.integer({ min: -(2 ** 40), max: 2 ** 40 })),
        (value) => {
          const bytes = new Uint8Array(12);
          const end = writeVarlong(bytes, 1, value);
          assert.equal(end - 1, sizeOfVarlong(value));
          assert.deepEqual(Array.from(bytes.subarray(1, end)), referenceVarlong(BigInt(value)));
          const cursor = { position: 1 };
          assert.equal(readVarlong(bytes, cursor), value);
          assert.equal(cursor.position, end);
        },
      ),
    );
  });

  test("readVarlong() reads varlongs written by other encoders (non-minimal 5+ byte forms included)", () => {
    const cursor = { position: 0 };
    // 1 written in 6 bytes with continuation bits: still 1
    assert.equal(readVarlong(new Uint8Array([0x82, 0x80, 0x80, 0x80, 0x80, 0x00]), cursor), 1);
    assert.equal(cursor.position, 6);
  });

  test("readVarlong() throws CorruptRecordError for Long.MAX_VALUE and Long.MIN_VALUE: outside the safe range", () => {
    // Kafka ByteUtilsTest: Long.MAX_VALUE and Long.MIN_VALUE
    const max = new Uint8Array([0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    const min = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    assert.throws(() => readVarlong(max, { position: 0 }), CorruptRecordError);
    assert.throws(() => readVarlong(min, { position: 0 }), CorruptRecordError);
  });

  test("readVarlong() throws CorruptRecordError when the varlong is longer than 10 bytes or cut off", () => {
    const long = new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]);
    assert.throws(() => readVarlong(long, { position: 0 }), CorruptRecordError);
    assert.throws(
      () => readVarlong(new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80]), { position: 0 }),
      CorruptRecordError,
    );
    assert.throws(() => readVarlong(new Uint8Array([0x80]), { position: 0 }), CorruptRecordError);
    assert.throws(() => readVarlong(new Uint8Array([0x80, 0x01]), { position: 0 }, 1), CorruptRecordError);
  });
});
