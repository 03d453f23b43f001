/**
 * {@linkcode LineStream}: bytes or text in, one string per line out.
 *
 * @module
 */

import { InvalidRecordError } from "../errors.ts";
import { concatBytes } from "./_concat_bytes.ts";

/** Options for {@linkcode LineStream}. */
export interface LineStreamOptions {
  /**
   * Throw an {@linkcode InvalidRecordError} on invalid UTF-8 instead of decoding it as U+FFFD.
   * @default false
   */
  fatal?: boolean;
}

const LF = 10;

/**
 * Splits a stream of UTF-8 bytes (or of strings) into lines. Lines end at LF or CRLF; a CR not
 * followed by LF stays in the line. A last line without a newline is kept; a trailing newline does not
 * add an empty line; an empty input yields no lines. Each line's bytes are decoded once its end has
 * arrived, so a character split across chunks comes out whole, and the time taken is linear in the
 * input; a UTF-8 byte order mark at the start is dropped. To keep bytes as they are (not UTF-8, or
 * not to be decoded at all), use {@linkcode ByteLineStream}.
 *
 * @example Reading the lines of a file
 * ```ts
 * import assert from "node:assert/strict";
 * import { join } from "node:path";
 * import { LineStream } from "./line_stream.ts";
 * const dir = Deno.makeTempDirSync();
 * Deno.writeTextFileSync(join(dir, "access.log"), "GET /\nGET /about\n");
 * const file = await Deno.open(join(dir, "access.log"));
 * const lines = [];
 * for await (const line of file.readable.pipeThrough(new LineStream())) lines.push(line);
 * assert.deepEqual(lines, ["GET /", "GET /about"]);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 *
 * @example Chunks are split anywhere
 * ```ts
 * import assert from "node:assert/strict";
 * import { LineStream } from "./line_stream.ts";
 * const bytes = new TextEncoder().encode("one\r\ntwo\nthré");
 * // The second cut falls inside "é" (2 bytes in UTF-8).
 * const input = ReadableStream.from([bytes.subarray(0, 5), bytes.subarray(5, 13), bytes.subarray(13)]);
 * const lines = await Array.fromAsync(input.pipeThrough(new LineStream()));
 * assert.deepEqual(lines, ["one", "two", "thré"]);
 * ```
 */
export class LineStream extends TransformStream<Uint8Array | string, string> {
  /**
   * Creates the stream.
   *
   * @param options `fatal`: throw on invalid UTF-8
   * @throws {InvalidRecordError} (from the stream) when `fatal` is set and the input is not valid
   *   UTF-8; the message names the line
   */
  constructor(options: LineStreamOptions = {}) {
    const decoder = new TextDecoder("utf-8", { fatal: options.fatal ?? false, ignoreBOM: true });
    /** The pieces of the line being read, from earlier chunks. */
    let pieces: (Uint8Array | string)[] = [];
    /** The number of the line being read, from 1. */
    let lineNumber = 1;

    const decode = (bytes: Uint8Array): string => {
      try {
        return decoder.decode(bytes);
      } catch (err) {
        throw new InvalidRecordError(
          `Cannot decode line ${lineNumber} as UTF-8: it holds an invalid byte sequence`,
          { cause: err },
        );
      }
    };

    /** The text of the pieces and `last`: each run of bytes joined, then decoded as a whole. */
    const text = (last: Uint8Array | string): string => {
      if (last.length > 0 || pieces.length === 0) pieces.push(last);
      let out = "";
      let run: Uint8Array[] = [];
      const decodeRun = () => {
        if (run.length === 0) return;
        let bytes = run.length === 1 ? run[0] : concatBytes(run);
        if (lineNumber === 1 && out === "" && hasBom(bytes)) bytes = bytes.subarray(3);
        out += decode(bytes);
        run = [];
      };
      for (const piece of pieces) {
        if (typeof piece === "string") {
          decodeRun();
          out += piece;
        } else {
          run.push(piece);
        }
      }
      decodeRun();
      pieces = [];
      return out;
    };

    super({
      transform(chunk, controller) {
        const isText = typeof chunk === "string";
        let start = 0;
        for (
          let lf = isText ? chunk.indexOf("\n") : chunk.indexOf(LF);
          lf !== -1;
          lf = isText ? chunk.indexOf("\n", start) : chunk.indexOf(LF, start)
        ) {
          const line = text(isText ? chunk.slice(start, lf) : chunk.subarray(start, lf));
          controller.enqueue(line.endsWith("\r") ? line.slice(0, -1) : line);
          lineNumber++;
          start = lf + 1;
        }
        if (start < chunk.length) pieces.push(isText ? chunk.slice(start) : chunk.subarray(start));
      },
      flush(controller) {
        if (pieces.length > 0) {
          const line = text("");
          if (line.length > 0) controller.enqueue(line); // not for a byte order mark alone
        }
      },
    });
  }
}

function hasBom(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
}
