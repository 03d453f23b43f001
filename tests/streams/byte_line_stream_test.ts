import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { ByteLineStream } from "../../src/streams/byte_line_stream.ts";
import { RecordTooLargeError } from "../../src/errors.ts";
import { toArray } from "../_runtime.ts";
import { cut } from "./_chunks.ts";

function lines(chunks: Uint8Array[], maxLineBytes?: number): Promise<Uint8Array[]> {
  return toArray(ReadableStream.from(chunks).pipeThrough(new ByteLineStream({ maxLineBytes })));
}

/** The lines of `bytes` by the rules ByteLineStream follows, computed the slow, obvious way. */
function expectedLines(bytes: Uint8Array): number[][] {
  const out: number[][] = [];
  let line: number[] = [];
  for (const b of bytes) {
    if (b === 10) {
      if (line.at(-1) === 13) line.pop();
      out.push(line);
      line = [];
    } else {
      line.push(b);
    }
  }
  if (line.length > 0) out.push(line);
  return out;
}

/** Bytes made mostly of what matters here: LF, CR, and bytes that are not UTF-8. */
const bytes = fc.array(fc.constantFrom(0x0a, 0x0d, 0x61, 0x00, 0xe9, 0xff, 0xc3, 0xa9, 0xef, 0xbb, 0xbf), {
  maxLength: 80,
}).map((b) => new Uint8Array(b));

describe("ByteLineStream", () => {
  test("splits on LF and CRLF, keeps a lone CR, and keeps every other byte as it is", async () => {
    const input = new Uint8Array([0xef, 0xbb, 0xbf, 0x61, 0x0a, 0xff, 0x0d, 0x0a, 0x0d, 0x62, 0x0d]);
    assert.deepEqual(await lines([input]), [
      new Uint8Array([0xef, 0xbb, 0xbf, 0x61]), // a byte order mark is not dropped: it is data
      new Uint8Array([0xff]),
      new Uint8Array([0x0d, 0x62, 0x0d]), // the last line has no LF: its CR stays
    ]);
  });

  test("yields nothing for an empty input, and one empty line per lone newline", async () => {
    assert.deepEqual(await lines([]), []);
    assert.deepEqual(await lines([new Uint8Array(0)]), []);
    assert.deepEqual(await lines([new Uint8Array([0x0a, 0x0d, 0x0a])]), [
      new Uint8Array(0),
      new Uint8Array(0),
    ]);
  });

  test("yields the same lines for any split of the bytes into chunks", async () => {
    await fc.assert(
      fc.asyncProperty(bytes, fc.array(fc.nat(), { maxLength: 8 }), async (b, positions) => {
        const got = (await lines(cut(b, positions))).map((l) => [...l]);
        assert.deepEqual(got, expectedLines(b));
      }),
    );
  });

  test("a line of exactly maxLineBytes passes, under any split, with LF or CRLF", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: 20 }),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 6 }),
        async (n, crlf, positions) => {
          const input = new Uint8Array([
            ...new Array(n).fill(0x61),
            ...(crlf ? [0x0d] : []),
            0x0a,
            ...new Array(n).fill(0x62),
          ]);
          const got = await lines(cut(input, positions), n);
          assert.deepEqual(got.map((l) => l.length), n === 0 ? [0] : [n, n]);
        },
      ),
    );
  });

  test("throws RecordTooLargeError naming the line for a line over maxLineBytes, under any split", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: 5 }),
        fc.nat({ max: 20 }),
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        async (before, max, over, positions) => {
          const input = new Uint8Array([
            ...new Array(before).fill(0x0a),
            ...new Array(max + over).fill(0x61),
            0x0d,
            0x0a,
          ]);
          await assert.rejects(lines(cut(input, positions), max), (err: unknown) => {
            assert.ok(err instanceof RecordTooLargeError, String(err));
            assert.equal(err.maxSize, max);
            assert.match(err.message, new RegExp(`^Cannot read line ${before + 1}: `));
            return true;
          });
        },
      ),
    );
  });

  test("fails a line over maxLineBytes without reading the rest of it", async () => {
    let pulled = 0;
    const chunk = new Uint8Array(1024).fill(0x61);
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(chunk);
      },
    }, { highWaterMark: 0 });
    await assert.rejects(
      toArray(endless.pipeThrough(new ByteLineStream({ maxLineBytes: 10 * 1024 }))),
      RecordTooLargeError,
    );
    // 11 chunks take the line past the limit; a few more may be in flight in the pipe.
    assert.ok(pulled >= 11 && pulled < 20, `pulled ${pulled} chunks`);
  });

  test("rejects a maxLineBytes that is not a non-negative integer", () => {
    for (const bad of [-1, 1.5, Number.NaN]) {
      assert.throws(() => new ByteLineStream({ maxLineBytes: bad }), RangeError);
    }
  });
});
