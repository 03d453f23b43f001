// JSON nested very deep (issue 10, failure 9): a key field whose value is an array or object nested
// up to 100,000 levels either becomes the key (its JSON text) or fails with InvalidRecordError,
// on every runtime: Bun's JSON.stringify overflows its stack (RangeError: Maximum call stack size
// exceeded) where Deno's does not.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { InvalidRecordError, JsonLineRecordStream, ValueEncoderStream } from "../../mod.ts";

/** Runs chunks through a transform stream; resolves with its output or rejects with its error. */
async function run<I, O>(stream: TransformStream<I, O>, chunks: I[]): Promise<O[]> {
  const out: O[] = [];
  const source = new ReadableStream<I>({
    start(controller) {
      for (const c of chunks) controller.enqueue(c);
      controller.close();
    },
  });
  for await (const o of source.pipeThrough(stream)) out.push(o);
  return out;
}

const depths = fc.oneof(fc.integer({ min: 1, max: 50 }), fc.constantFrom(1_000, 10_000, 100_000));

describe("deeply nested JSON", () => {
  test(
    "JsonLineRecordStream: a key nested up to 100,000 deep is its JSON text or InvalidRecordError, never another error",
    {
      timeout: 60_000,
    },
    async () => {
      await fc.assert(
        fc.asyncProperty(depths, fc.constantFrom("[", '{"a":'), async (depth, open) => {
          const close = open === "[" ? "]" : "}";
          const field = open === "["
            ? "[".repeat(depth) + "]".repeat(depth)
            : open.repeat(depth) + "1" + close.repeat(depth);
          const line = `{"k":${field},"v":2}`;
          try {
            const [record] = await run(new JsonLineRecordStream({ key: "k" }), [line]);
            assert.equal(record.key, field.replaceAll(" ", ""));
            assert.equal(record.value, line);
          } catch (err) {
            assert.ok(err instanceof InvalidRecordError, `${(err as Error).name}: ${(err as Error).message}`);
            assert.match(err.message, /line 1/);
          }
        }),
        { numRuns: 12 },
      );
    },
  );

  test(
    "ValueEncoderStream: a key field nested 100,000 deep is its JSON text or InvalidRecordError naming the record",
    {
      timeout: 60_000,
    },
    async () => {
      let nested: unknown = [];
      for (let i = 0; i < 100_000; i++) nested = [nested];
      try {
        // The values encode (to nothing); only the key field is deep.
        const codec = { encode: () => new Uint8Array(0) };
        const records = await run(new ValueEncoderStream<unknown>(codec, { key: "k" }), [{ v: 1 }, {
          k: nested,
        }]);
        assert.equal(records.length, 2);
        assert.equal(typeof records[1].key, "string");
      } catch (err) {
        assert.ok(err instanceof InvalidRecordError, `${(err as Error).name}: ${(err as Error).message}`);
        assert.match(err.message, /record 2/);
      }
    },
  );
});
