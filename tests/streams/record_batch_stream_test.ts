import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { RecordBatchDecoderStream, RecordBatchEncoderStream } from "../../src/streams/record_batch_stream.ts";
import { decodeRecordBatch } from "../../src/record/record_batch_decoder.ts";
import type { RecordInput } from "../../src/record/record.ts";
import { CorruptRecordError, RecordTooLargeError } from "../../src/errors.ts";
import { toArray } from "../_runtime.ts";
import { concat, cut } from "./_chunks.ts";

const encoder = new TextEncoder();

function encode(batches: RecordInput[][], compression?: 0 | 1): Promise<Uint8Array[]> {
  return toArray(
    ReadableStream.from(batches).pipeThrough(new RecordBatchEncoderStream({ compression })),
  );
}

function decode(chunks: Uint8Array[], maxBatchBytes?: number) {
  return toArray(
    ReadableStream.from(chunks).pipeThrough(new RecordBatchDecoderStream({ maxBatchBytes })),
  );
}

/** What decoding a batch of `inputs` (baseOffset 0) gives back. */
function expected(inputs: RecordInput[]) {
  return inputs.map((r, i) => ({
    offset: i,
    timestamp: r.timestamp,
    key: r.key ?? null,
    value: r.value,
    headers: (r.headers ?? []).map((h) => ({ key: h.key, value: h.value })),
  }));
}

const recordInput: fc.Arbitrary<RecordInput> = fc.record({
  key: fc.option(fc.uint8Array({ maxLength: 8 })),
  value: fc.option(fc.uint8Array({ maxLength: 40 })),
  headers: fc.array(
    fc.record({ key: fc.string({ maxLength: 5 }), value: fc.option(fc.uint8Array({ maxLength: 5 })) }),
    { maxLength: 2 },
  ),
  timestamp: fc.integer({ min: 0, max: 2 ** 42 }),
});

function sample(n: number, timestamp = 1_700_000_000_000): RecordInput[] {
  return Array.from(
    { length: n },
    (_, i) => ({ key: null, value: encoder.encode(`record ${i}`), timestamp }),
  );
}

describe("RecordBatchEncoderStream", () => {
  test("encodes each list into one batch that decodeRecordBatch reads back", async () => {
    const inputs = sample(3);
    const [bytes] = await encode([inputs]);
    const { header, records } = decodeRecordBatch(bytes);
    assert.equal(header.batchLength + 12, bytes.length);
    assert.equal(header.recordsCount, 3);
    assert.deepEqual(records, expected(inputs));
  });

  test("compresses with the given codec", async () => {
    const inputs = sample(50);
    const [plain] = await encode([inputs]);
    const [gzipped] = await encode([inputs], 1);
    assert.equal(decodeRecordBatch(gzipped).header.compression, 1);
    assert.ok(gzipped.length < plain.length);
    assert.deepEqual(decodeRecordBatch(gzipped).records, expected(inputs));
  });

  test("yields nothing for an empty list", async () => {
    assert.deepEqual(await encode([[], sample(1), []]).then((b) => b.length), 1);
  });
});

describe("RecordBatchDecoderStream", () => {
  test("gives back the encoded records, one list per batch, for any split into chunks", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(recordInput, { minLength: 1, maxLength: 4 }), { maxLength: 4 }),
        fc.constantFrom<0 | 1>(0, 1),
        fc.array(fc.nat(), { maxLength: 12 }),
        async (batches, compression, positions) => {
          const bytes = concat(await encode(batches, compression));
          assert.deepEqual(await decode(cut(bytes, positions)), batches.map(expected));
        },
      ),
      { numRuns: 60 },
    );
  });

  test("gives back batches fed one byte at a time", async () => {
    const batches = [sample(2), sample(5, 42)];
    const bytes = concat(await encode(batches));
    assert.deepEqual(await decode(Array.from(bytes, (b) => new Uint8Array([b]))), batches.map(expected));
  });

  test("yields nothing for an empty input", async () => {
    assert.deepEqual(await decode([]), []);
    assert.deepEqual(await decode([new Uint8Array(0)]), []);
  });

  test("throws CorruptRecordError with the batch position when a byte of a batch is flipped", async () => {
    const [a, b] = await encode([sample(2), sample(3)]);
    const bytes = concat([a, b]);
    bytes[a.length + b.length - 3] ^= 0x10;
    await assert.rejects(decode(cut(bytes, [a.length + 20])), (err: unknown) => {
      assert.ok(err instanceof CorruptRecordError, String(err));
      assert.equal(err.position, a.length);
      assert.match(err.message, new RegExp(`CRC-32C mismatch in batch at byte ${a.length}\\b`));
      return true;
    });
  });

  test("throws CorruptRecordError when the stream ends inside a batch", async () => {
    const [a, b] = await encode([sample(1), sample(2)]);
    const bytes = concat([a, b]);
    for (const keep of [a.length + 1, a.length + 11, a.length + 12, bytes.length - 1]) {
      await assert.rejects(decode(cut(bytes.slice(0, keep), [5, a.length + 3])), (err: unknown) => {
        assert.ok(err instanceof CorruptRecordError, String(err));
        assert.equal(err.position, a.length);
        assert.match(err.message, /the stream ends inside a batch/);
        return true;
      });
    }
  });

  test("throws CorruptRecordError when batchLength is below the header size", async () => {
    const [a] = await encode([sample(1)]);
    const bad = a.slice();
    bad.set([0, 0, 0, 48], 8);
    await assert.rejects(decode([a, bad]), (err: unknown) => {
      assert.ok(err instanceof CorruptRecordError);
      assert.equal(err.position, a.length);
      assert.match(err.message, /batchLength 48 is below the minimum 49/);
      return true;
    });
  });

  test("throws RecordTooLargeError when a batch is larger than maxBatchBytes", async () => {
    const [a] = await encode([sample(1)]);
    assert.equal((await decode([a], a.length)).length, 1);
    await assert.rejects(decode([a], a.length - 1), (err: unknown) => {
      assert.ok(err instanceof RecordTooLargeError);
      assert.equal(err.size, a.length);
      return true;
    });
  });

  test("throws RangeError when maxBatchBytes is not a positive integer", () => {
    assert.throws(() => new RecordBatchDecoderStream({ maxBatchBytes: 0 }), RangeError);
    assert.throws(() => new RecordBatchDecoderStream({ maxBatchBytes: 1.5 }), RangeError);
  });
});
