import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { normalizeHeaders, toBytes, toRecordInput } from "../../src/record/producer_record.ts";

const encoder = new TextEncoder();

describe("toBytes", () => {
  test("encodes a string as UTF-8", () => {
    assert.deepEqual(toBytes("hé😀"), encoder.encode("hé😀"));
    assert.deepEqual(toBytes(""), new Uint8Array(0));
  });

  test("returns bytes unchanged", () => {
    const bytes = new Uint8Array([1, 2]);
    assert.equal(toBytes(bytes), bytes);
  });

  test("returns null for null and undefined", () => {
    assert.equal(toBytes(null), null);
    assert.equal(toBytes(undefined), null);
  });

  test("throws TypeError for any other type", () => {
    assert.throws(() => toBytes(42 as unknown as string), TypeError);
    assert.throws(() => toBytes([1] as unknown as Uint8Array), TypeError);
  });

  test("round-trips any string through TextDecoder", () => {
    fc.assert(fc.property(fc.string({ unit: "binary" }), (s) => {
      assert.equal(new TextDecoder().decode(toBytes(s)!), s);
    }));
  });
});

describe("normalizeHeaders", () => {
  test("returns an empty list for no headers", () => {
    assert.deepEqual(normalizeHeaders(undefined), []);
    assert.deepEqual(normalizeHeaders({}), []);
  });

  test("turns an object into a list in key order, with values as bytes", () => {
    assert.deepEqual(normalizeHeaders({ b: "x", a: null, c: new Uint8Array([1]) }), [
      { key: "b", value: encoder.encode("x") },
      { key: "a", value: null },
      { key: "c", value: new Uint8Array([1]) },
    ]);
  });

  test("returns a list of byte values as it is", () => {
    const list = [{ key: "k", value: new Uint8Array([1]) }, { key: "k", value: null }];
    assert.equal(normalizeHeaders(list), list);
  });

  test("encodes string values in a list, keeping repeated keys in order", () => {
    const list = [{ key: "k", value: "1" }, { key: "k", value: "2" }] as unknown as {
      key: string;
      value: null;
    }[];
    assert.deepEqual(normalizeHeaders(list), [
      { key: "k", value: encoder.encode("1") },
      { key: "k", value: encoder.encode("2") },
    ]);
  });

  test("throws TypeError for a header without a string key", () => {
    assert.throws(() => normalizeHeaders([{ key: 1, value: null }] as unknown as []), TypeError);
  });
});

describe("toRecordInput", () => {
  test("converts key, value and headers to bytes and a Date timestamp to ms", () => {
    const input = toRecordInput({
      key: "k",
      value: "v",
      headers: { h: "x" },
      timestamp: new Date(1_700_000_000_123),
      partition: 3,
    });
    assert.deepEqual(input, {
      key: encoder.encode("k"),
      value: encoder.encode("v"),
      headers: [{ key: "h", value: encoder.encode("x") }],
      timestamp: 1_700_000_000_123,
    });
  });

  test("leaves the timestamp undefined and the key null when absent", () => {
    const input = toRecordInput({ value: null });
    assert.equal(input.key, null);
    assert.equal(input.value, null);
    assert.equal(input.timestamp, undefined);
    assert.deepEqual(input.headers, []);
  });

  test("keeps a number timestamp", () => {
    assert.equal(toRecordInput({ value: "v", timestamp: 0 }).timestamp, 0);
  });

  test("throws RangeError for an invalid Date or a non-finite timestamp", () => {
    assert.throws(() => toRecordInput({ value: "v", timestamp: new Date("nope") }), RangeError);
    assert.throws(() => toRecordInput({ value: "v", timestamp: Number.NaN }), RangeError);
  });
});
