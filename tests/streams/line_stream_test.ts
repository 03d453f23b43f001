import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { LineStream } from "../../src/streams/line_stream.ts";
import { InvalidRecordError } from "../../src/errors.ts";
import { toArray } from "../_runtime.ts";
import { cut } from "./_chunks.ts";

const encoder = new TextEncoder();

function lines(chunks: (Uint8Array | string)[], options?: { fatal?: boolean }): Promise<string[]> {
  return toArray(ReadableStream.from(chunks).pipeThrough(new LineStream(options)));
}

/** What the lines of `text` are, by the rules LineStream follows. */
function expectedLines(text: string): string[] {
  const parts = text.split("\n");
  const last = parts.pop()!;
  const out = parts.map((p) => (p.endsWith("\r") ? p.slice(0, -1) : p));
  if (last !== "") out.push(last);
  return out;
}

/** Text made mostly of the characters that matter here: LF, CR, and multi-byte characters. */
const text = fc.array(fc.constantFrom("a", "b", "\n", "\r", "\r\n", "é", "€", "😀", " "), { maxLength: 60 })
  .map((parts) => parts.join(""));

describe("LineStream", () => {
  test("splits on LF and CRLF and keeps a lone CR in the line", async () => {
    assert.deepEqual(await lines(["one\ntwo\r\nthree\rstill three\n"]), ["one", "two", "three\rstill three"]);
  });

  test("keeps a last line without a newline", async () => {
    assert.deepEqual(await lines([encoder.encode("a\nb")]), ["a", "b"]);
  });

  test("yields nothing for an empty input", async () => {
    assert.deepEqual(await lines([]), []);
    assert.deepEqual(await lines([new Uint8Array(0), ""]), []);
  });

  test("does not yield an extra empty line after a trailing newline", async () => {
    assert.deepEqual(await lines(["a\n"]), ["a"]);
    assert.deepEqual(await lines(["a\r\n"]), ["a"]);
    assert.deepEqual(await lines(["\n"]), [""]);
    assert.deepEqual(await lines(["\n\n"]), ["", ""]);
  });

  test("joins a CRLF split across chunks", async () => {
    assert.deepEqual(await lines(["a\r", "\nb"]), ["a", "b"]);
    assert.deepEqual(await lines([encoder.encode("a\r"), encoder.encode("\nb\r")]), ["a", "b\r"]);
  });

  test("yields a multi-byte character split across chunks whole", async () => {
    const bytes = encoder.encode("x😀y\n€");
    for (let i = 0; i <= bytes.length; i++) {
      for (let j = i; j <= bytes.length; j++) {
        const chunks = [bytes.slice(0, i), bytes.slice(i, j), bytes.slice(j)];
        assert.deepEqual(await lines(chunks), ["x😀y", "€"]);
      }
    }
  });

  test("drops a UTF-8 byte order mark at the start", async () => {
    assert.deepEqual(await lines([new Uint8Array([0xef, 0xbb]), new Uint8Array([0xbf, 0x61])]), ["a"]);
  });

  test("yields the same lines for any split of the bytes into chunks", async () => {
    await fc.assert(
      fc.asyncProperty(text, fc.array(fc.nat(), { maxLength: 8 }), async (t, positions) => {
        assert.deepEqual(await lines(cut(encoder.encode(t), positions)), expectedLines(t));
      }),
    );
  });

  test("yields the same lines for any split of the text into string chunks", async () => {
    await fc.assert(
      fc.asyncProperty(text, fc.array(fc.nat(), { maxLength: 8 }), async (t, positions) => {
        assert.deepEqual(await lines(cut(t, positions)), expectedLines(t));
      }),
    );
  });

  test("accepts bytes and strings mixed in one stream", async () => {
    assert.deepEqual(await lines([encoder.encode("a\nb"), "c\n", encoder.encode("d")]), ["a", "bc", "d"]);
  });

  test("decodes invalid UTF-8 as U+FFFD unless fatal", async () => {
    assert.deepEqual(await lines([new Uint8Array([0x61, 0xff, 0x0a, 0x62])]), ["a\uFFFD", "b"]);
  });

  test("throws InvalidRecordError naming the line when fatal and a byte is invalid", async () => {
    const bytes = new Uint8Array([...encoder.encode("one\ntwo\nth"), 0xff, ...encoder.encode("ree\n")]);
    await assert.rejects(lines([bytes], { fatal: true }), (err: unknown) => {
      assert.ok(err instanceof InvalidRecordError);
      assert.match(err.message, /^Cannot decode line 3 as UTF-8/);
      return true;
    });
  });

  test("throws InvalidRecordError naming the last line when fatal and the input ends inside a character", async () => {
    const bytes = encoder.encode("one\ntwo€");
    await assert.rejects(lines([bytes.subarray(0, bytes.length - 1)], { fatal: true }), (err: unknown) => {
      assert.ok(err instanceof InvalidRecordError);
      assert.match(err.message, /line 2\b/);
      return true;
    });
  });

  test("names the right line for an invalid sequence anywhere, under any split into chunks", async () => {
    const invalidSequences = [[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [
      0x80,
    ]];
    const line = fc.array(fc.constantFrom("a", "é", "€", "😀", "\r"), { maxLength: 6 }).map((p) =>
      p.join("")
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(line, { minLength: 1, maxLength: 6 }),
        fc.nat(),
        fc.nat(),
        fc.constantFrom(...invalidSequences),
        fc.array(fc.nat(), { maxLength: 6 }),
        async (textLines, lineSeed, charSeed, invalid, positions) => {
          const bad = lineSeed % textLines.length;
          const chars = [...textLines[bad]];
          const at = charSeed % (chars.length + 1);
          const before = encoder.encode(
            textLines.slice(0, bad).map((l) => l + "\n").join("") + chars.slice(0, at).join(""),
          );
          const after = encoder.encode(
            chars.slice(at).join("") + textLines.slice(bad + 1).map((l) => "\n" + l).join(""),
          );
          const bytes = new Uint8Array([...before, ...invalid, ...after]);
          await assert.rejects(lines(cut(bytes, positions), { fatal: true }), (err: unknown) => {
            assert.ok(err instanceof InvalidRecordError, String(err));
            assert.match(err.message, new RegExp(`^Cannot decode line ${bad + 1} as UTF-8`));
            return true;
          });
        },
      ),
    );
  });

  test("splits a 10k-line log into its lines", async () => {
    const logLines = Array.from(
      { length: 10_000 },
      (_, i) => `10.0.0.${i % 256} - - [01/May/2024:12:00:00 +0000] "GET /item/${i} HTTP/1.1" 200 ${i * 7}`,
    );
    const bytes = encoder.encode(logLines.join("\r\n") + "\r\n");
    const chunks = [];
    for (let i = 0; i < bytes.length; i += 65_536) chunks.push(bytes.subarray(i, i + 65_536));
    assert.deepEqual(await lines(chunks), logLines);
  });
});
