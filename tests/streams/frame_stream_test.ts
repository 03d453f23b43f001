import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  LengthPrefixedFrameDecoderStream,
  LengthPrefixedFrameEncoderStream,
} from "../../src/streams/frame_stream.ts";
import { CorruptRecordError, RecordTooLargeError } from "../../src/errors.ts";
import { toArray } from "../_runtime.ts";
import { concat, cut } from "./_chunks.ts";

function collect<T>(stream: ReadableStream<T>): Promise<T[]> {
  return toArray(stream);
}

function encode(frames: Uint8Array[]): Promise<Uint8Array[]> {
  return collect(ReadableStream.from(frames).pipeThrough(new LengthPrefixedFrameEncoderStream()));
}

function decode(chunks: Uint8Array[], maxFrameBytes?: number): Promise<Uint8Array[]> {
  return collect(
    ReadableStream.from(chunks).pipeThrough(new LengthPrefixedFrameDecoderStream({ maxFrameBytes })),
  );
}

describe("LengthPrefixedFrameEncoderStream", () => {
  test("writes a big-endian int32 length before each frame", async () => {
    const frame = new Uint8Array(258).fill(7);
    const [out, empty] = await encode([frame, new Uint8Array(0)]);
    assert.deepEqual(out.subarray(0, 4), new Uint8Array([0, 0, 1, 2]));
    assert.deepEqual(out.subarray(4), frame);
    assert.deepEqual(empty, new Uint8Array([0, 0, 0, 0]));
  });
});

describe("LengthPrefixedFrameDecoderStream", () => {
  test("gives back the encoded frames for any split of the bytes into chunks", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 16 }),
        async (frames, positions) => {
          const bytes = concat(await encode(frames));
          assert.deepEqual(await decode(cut(bytes, positions)), frames);
        },
      ),
    );
  });

  test("gives back a frame fed one byte at a time", async () => {
    const frame = Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff);
    const bytes = concat(await encode([frame, frame]));
    const chunks = Array.from(bytes, (b) => new Uint8Array([b]));
    assert.deepEqual(await decode(chunks), [frame, frame]);
  });

  test("yields frames that do not share the input chunk's buffer", async () => {
    const bytes = concat(await encode([new Uint8Array([1]), new Uint8Array([2])]));
    const [a, b] = await decode([bytes]);
    assert.notEqual(a.buffer, bytes.buffer);
    assert.notEqual(a.buffer, b.buffer);
  });

  test("yields nothing for an empty input", async () => {
    assert.deepEqual(await decode([]), []);
    assert.deepEqual(await decode([new Uint8Array(0)]), []);
  });

  test("throws CorruptRecordError when the stream ends inside a frame", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 20 }), { minLength: 1, maxLength: 5 }),
        fc.nat(),
        fc.array(fc.nat(), { maxLength: 6 }),
        async (frames, dropSeed, positions) => {
          const bytes = concat(await encode(frames));
          const last = frames[frames.length - 1].length + 4;
          const keep = bytes.length - 1 - (dropSeed % (last - 1)); // end inside the last frame
          await assert.rejects(
            decode(cut(bytes.slice(0, keep), positions)),
            (err: unknown) => {
              assert.ok(err instanceof CorruptRecordError, String(err));
              assert.equal(err.position, bytes.length - last);
              assert.equal(err.code, "CORRUPT_MESSAGE");
              return true;
            },
          );
        },
      ),
    );
  });

  test("throws CorruptRecordError on a negative length", async () => {
    const bytes = new Uint8Array([0, 0, 0, 1, 9, 0xff, 0xff, 0xff, 0xfe, 1, 2]);
    await assert.rejects(decode(cut(bytes, [6])), (err: unknown) => {
      assert.ok(err instanceof CorruptRecordError);
      assert.match(err.message, /frame length -2 is negative/);
      assert.equal(err.position, 5);
      return true;
    });
  });

  test("throws RecordTooLargeError when a frame is longer than maxFrameBytes", async () => {
    const bytes = concat(await encode([new Uint8Array(10), new Uint8Array(11)]));
    assert.equal((await decode([bytes], 11)).length, 2);
    await assert.rejects(decode([bytes], 10), (err: unknown) => {
      assert.ok(err instanceof RecordTooLargeError);
      assert.equal(err.size, 11);
      assert.equal(err.maxSize, 10);
      return true;
    });
  });

  test("throws RangeError when maxFrameBytes is not an int32", () => {
    assert.throws(() => new LengthPrefixedFrameDecoderStream({ maxFrameBytes: -1 }), RangeError);
    assert.throws(() => new LengthPrefixedFrameDecoderStream({ maxFrameBytes: 1.5 }), RangeError);
    assert.throws(() => new LengthPrefixedFrameDecoderStream({ maxFrameBytes: 2 ** 31 }), RangeError);
  });
});
