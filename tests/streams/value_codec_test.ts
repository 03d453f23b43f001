import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { bytesCodec, jsonCodec, textCodec } from "../../src/streams/value_codec.ts";
import { ValueEncoderStream } from "../../src/streams/value_encoder_stream.ts";
import { ValueDecoderStream } from "../../src/streams/value_decoder_stream.ts";
import { JsonParseStream } from "../../src/streams/json_parse_stream.ts";
import { JsonLineRecordStream } from "../../src/streams/json_line_record_stream.ts";
import { getField, parseTimestamp } from "../../src/streams/record_fields.ts";
import { LineStream } from "../../src/streams/line_stream.ts";
import type { ConsumedRecord } from "../../src/record/consumed_record.ts";
import { InvalidRecordError } from "../../src/errors.ts";
import { toArray } from "../_runtime.ts";

const encoder = new TextEncoder();

function run<I, O>(inputs: I[], stream: TransformStream<I, O>): Promise<O[]> {
  return toArray(ReadableStream.from(inputs).pipeThrough(stream));
}

function rejectsWith(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  return assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof InvalidRecordError, String(err));
    assert.equal(err.code, "INVALID_RECORD");
    assert.match(err.message, pattern);
    return true;
  });
}

function consumed(value: Uint8Array | null, offset = 0): ConsumedRecord {
  return { topic: "t", partition: 1, offset, timestamp: 5, key: null, value, headers: [] };
}

describe("jsonCodec", () => {
  test("decode(encode(v)) equals v after a JSON round trip, for any JSON value", () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => {
      assert.deepEqual(jsonCodec.decode(jsonCodec.encode(v)), JSON.parse(JSON.stringify(v)));
    }));
  });

  test("encodes as UTF-8 JSON text", () => {
    assert.equal(new TextDecoder().decode(jsonCodec.encode({ a: "é" })), '{"a":"é"}');
  });

  test("encode throws InvalidRecordError for a value with no JSON form", () => {
    assert.throws(() => jsonCodec.encode(undefined), InvalidRecordError);
    assert.throws(() => jsonCodec.encode(() => 1), InvalidRecordError);
    assert.throws(() => jsonCodec.encode(1n), InvalidRecordError);
    const cycle: { self?: unknown } = {};
    cycle.self = cycle;
    assert.throws(() => jsonCodec.encode(cycle), InvalidRecordError);
  });

  test("decode throws InvalidRecordError for bytes that are not JSON or not UTF-8", () => {
    assert.throws(() => jsonCodec.decode(encoder.encode("{nope")), /Cannot parse a value as JSON/);
    assert.throws(() => jsonCodec.decode(encoder.encode("{nope")), InvalidRecordError);
    assert.throws(() => jsonCodec.decode(new Uint8Array([0x22, 0xff, 0x22])), /not valid UTF-8/);
  });
});

describe("textCodec", () => {
  test("decode(encode(s)) equals s for any string of code points", () => {
    fc.assert(fc.property(fc.string({ unit: "binary" }), (s) => {
      assert.equal(textCodec.decode(textCodec.encode(s)), s);
    }));
  });

  test("keeps a leading byte order mark", () => {
    assert.equal(textCodec.decode(new Uint8Array([0xef, 0xbb, 0xbf, 0x61])), "\uFEFFa");
  });

  test("decode throws InvalidRecordError for invalid UTF-8", () => {
    assert.throws(() => textCodec.decode(new Uint8Array([0x61, 0xc0, 0x80])), InvalidRecordError);
  });

  test("encode throws TypeError for a non-string", () => {
    assert.throws(() => textCodec.encode(1 as unknown as string), TypeError);
  });
});

describe("bytesCodec", () => {
  test("returns its argument both ways", () => {
    fc.assert(fc.property(fc.uint8Array(), (bytes) => {
      assert.equal(bytesCodec.decode(bytesCodec.encode(bytes)), bytes);
    }));
  });
});

describe("getField", () => {
  test("reads nested fields and array items by a dotted path", () => {
    const obj = { user: { id: 7, tags: ["a", "b"] }, "x": 0 };
    assert.equal(getField(obj, "user.id"), 7);
    assert.equal(getField(obj, "user.tags.1"), "b");
    assert.equal(getField(obj, "x"), 0);
  });

  test("returns undefined when a step is missing or not an object", () => {
    assert.equal(getField({ user: null }, "user.id"), undefined);
    assert.equal(getField({ user: "ada" }, "user.length"), undefined);
    assert.equal(getField(null, "a"), undefined);
    assert.equal(getField({}, "a.b"), undefined);
  });

  test("does not read inherited properties", () => {
    assert.equal(getField({}, "constructor"), undefined);
    assert.equal(getField({ a: {} }, "a.toString"), undefined);
  });

  test("throws TypeError for an empty path or an empty name", () => {
    assert.throws(() => getField({}, ""), TypeError);
    assert.throws(() => getField({}, "a..b"), TypeError);
  });
});

describe("parseTimestamp", () => {
  test("reads ms since the epoch from a number or a numeric string", () => {
    assert.equal(parseTimestamp(1_714_564_800_000), 1_714_564_800_000);
    assert.equal(parseTimestamp("1714564800000"), 1_714_564_800_000);
    assert.equal(parseTimestamp("1714564800000.9"), 1_714_564_800_000);
    assert.equal(parseTimestamp(0), 0);
  });

  test("reads ISO-8601 dates and date-times with offsets", () => {
    const noon = Date.UTC(2024, 4, 1, 12);
    assert.equal(parseTimestamp("2024-05-01T12:00:00Z"), noon);
    assert.equal(parseTimestamp("2024-05-01T12:00:00.250Z"), noon + 250);
    assert.equal(parseTimestamp("2024-05-01T12:00:00.123456Z"), noon + 123);
    assert.equal(parseTimestamp("2024-05-01T14:00:00+02:00"), noon);
    assert.equal(parseTimestamp("2024-05-01 07:30-0430"), noon);
    assert.equal(parseTimestamp("2024-05-01T12:00Z"), noon);
    assert.equal(parseTimestamp("2024-05-01"), Date.UTC(2024, 4, 1));
    assert.equal(parseTimestamp("0001-01-01T00:00:00Z"), Date.parse("0001-01-01T00:00:00Z"));
  });

  test("reads a date-time without an offset as local time", () => {
    assert.equal(parseTimestamp("2024-05-01T12:00:00"), new Date(2024, 4, 1, 12).getTime());
  });

  test("reads back any toISOString() output", () => {
    fc.assert(fc.property(fc.integer({ min: -62_000_000_000_000, max: 253_402_300_799_999 }), (ms) => {
      assert.equal(parseTimestamp(new Date(ms).toISOString()), ms);
    }));
  });

  test("returns undefined for null and undefined", () => {
    assert.equal(parseTimestamp(null), undefined);
    assert.equal(parseTimestamp(undefined), undefined);
  });

  test("throws InvalidRecordError for anything else", () => {
    for (
      const bad of ["yesterday", "2024-02-30", "2024-13-01", "2024-05-01T25:00Z", "", {}, true, Infinity]
    ) {
      assert.throws(() => parseTimestamp(bad), InvalidRecordError, JSON.stringify(bad));
    }
  });
});

describe("ValueEncoderStream", () => {
  test("encodes values and takes key and timestamp from dotted fields", async () => {
    const records = await run(
      [
        { user: { id: "ada" }, at: "2024-05-01T12:00:00Z" },
        { user: { id: 42 }, at: 1_000 },
        { user: {}, at: "1714564800000" },
        { at: null },
      ],
      new ValueEncoderStream(jsonCodec, { key: "user.id", timestamp: "at" }),
    );
    assert.deepEqual(records.map((r) => [r.key, r.timestamp]), [
      ["ada", Date.UTC(2024, 4, 1, 12)],
      ["42", 1_000],
      [undefined, 1_714_564_800_000],
      [undefined, undefined],
    ]);
    assert.deepEqual(jsonCodec.decode(records[1].value), { user: { id: 42 }, at: 1_000 });
    assert.ok(!("key" in records[2]) && !("timestamp" in records[3]));
  });

  test("takes key, timestamp, headers and partition from functions", async () => {
    type Click = { user: string; at: Date };
    const [record] = await run<Click, unknown>(
      [{ user: "ada", at: new Date(1_000) }],
      new ValueEncoderStream<Click>({ encode: (c) => encoder.encode(c.user) }, {
        key: (c) => c.user.toUpperCase(),
        timestamp: (c) => c.at,
        headers: (c) => ({ source: c.user }),
        partition: () => 2,
      }),
    );
    assert.deepEqual(record, {
      value: encoder.encode("ada"),
      key: "ADA",
      timestamp: 1_000,
      headers: { source: "ada" },
      partition: 2,
    });
  });

  test("throws InvalidRecordError naming the record when a timestamp cannot be parsed", async () => {
    await rejectsWith(
      run([{ at: 1 }, { at: "soon" }], new ValueEncoderStream(jsonCodec, { timestamp: "at" })),
      /^Cannot read the timestamp of record 2: "soon"/,
    );
  });

  test("throws InvalidRecordError naming the record when the codec cannot encode it", async () => {
    await rejectsWith(run([1, undefined], new ValueEncoderStream(jsonCodec)), /^Cannot encode record 2: /);
  });

  test("throws TypeError for an empty field path", () => {
    assert.throws(() => new ValueEncoderStream(jsonCodec, { key: "" }), TypeError);
  });
});

describe("ValueDecoderStream", () => {
  test("decodes values with the codec, keeps null, and passes the other fields on", async () => {
    const records = await run(
      [consumed(jsonCodec.encode({ a: 1 })), consumed(null, 1)],
      new ValueDecoderStream(jsonCodec),
    );
    assert.deepEqual(records, [
      { topic: "t", partition: 1, offset: 0, timestamp: 5, key: null, value: { a: 1 }, headers: [] },
      { topic: "t", partition: 1, offset: 1, timestamp: 5, key: null, value: null, headers: [] },
    ]);
  });

  test("throws InvalidRecordError naming the offset when a value cannot be decoded", async () => {
    await rejectsWith(
      run(
        [consumed(encoder.encode("ok"), 6), consumed(new Uint8Array([0xff]), 7)],
        new ValueDecoderStream(textCodec),
      ),
      /^Cannot decode the value at offset 7 of "t-1": /,
    );
  });
});

describe("JsonParseStream", () => {
  test("parses each line and skips blank lines", async () => {
    assert.deepEqual(await run(['{"a":1}', "", "  ", "[2]", "3"], new JsonParseStream()), [{ a: 1 }, [2], 3]);
  });

  test("throws InvalidRecordError naming the line, blank lines counted", async () => {
    await rejectsWith(run(['{"a":1}', "", "{oops"], new JsonParseStream()), /^Cannot parse line 3 as JSON: /);
  });
});

describe("JsonLineRecordStream", () => {
  test("keeps each line's original text as the value and reads key and timestamp", async () => {
    const lines = [
      '{ "channel": "#deno",  "time": "2024-05-01T12:00:00Z", "n": 1 }',
      '{"channel":"#bun","time":1714564800001}',
      '{"time":"1714564800002"}',
    ];
    const records = await run(lines, new JsonLineRecordStream({ key: "channel", timestamp: "time" }));
    assert.deepEqual(records, [
      { value: lines[0], key: "#deno", timestamp: 1_714_564_800_000 },
      { value: lines[1], key: "#bun", timestamp: 1_714_564_800_001 },
      { value: lines[2], timestamp: 1_714_564_800_002 },
    ]);
  });

  test("reads nested fields and turns number keys into text", async () => {
    const records = await run(['{"user":{"id":7}}'], new JsonLineRecordStream({ key: "user.id" }));
    assert.deepEqual(records, [{ value: '{"user":{"id":7}}', key: "7" }]);
  });

  test("validates lines as JSON even without key or timestamp fields", async () => {
    await rejectsWith(run(["1", "", "nope"], new JsonLineRecordStream()), /^Cannot parse line 3 as JSON: /);
  });

  test("throws InvalidRecordError naming the line when a timestamp cannot be parsed", async () => {
    await rejectsWith(
      run(['{"t":1}', '{"t":"last tuesday"}'], new JsonLineRecordStream({ timestamp: "t" })),
      /^Cannot read the timestamp of line 2: "last tuesday"/,
    );
  });

  test("ingests gzipped JSON lines through DecompressionStream and LineStream", async () => {
    const events = Array.from({ length: 500 }, (_, i) => ({
      channel: `#c${i % 3}`,
      time: new Date(Date.UTC(2024, 4, 1) + i * 1000).toISOString(),
      text: `message ${i} — ünïcödé 😀`,
    }));
    const jsonLines = events.map((e) => JSON.stringify(e)).join("\r\n") + "\n";
    const gzipped = new Uint8Array(
      await new Response(
        ReadableStream.from([encoder.encode(jsonLines)]).pipeThrough(new CompressionStream("gzip")),
      ).arrayBuffer(),
    );
    const chunks = [];
    for (let i = 0; i < gzipped.length; i += 97) chunks.push(gzipped.slice(i, i + 97));

    const records = await toArray(
      ReadableStream.from(chunks)
        .pipeThrough(new DecompressionStream("gzip"))
        .pipeThrough(new LineStream())
        .pipeThrough(new JsonLineRecordStream({ key: "channel", timestamp: "time" })),
    );
    assert.deepEqual(
      records,
      events.map((e) => ({ value: JSON.stringify(e), key: e.channel, timestamp: Date.parse(e.time) })),
    );
  });
});
