/**
 * {@linkcode ByteLineStream}: bytes in, one `Uint8Array` per line out, the bytes unchanged.
 *
 * @module
 */

import { RecordTooLargeError } from "../errors.ts";
import { concatBytes } from "./_concat_bytes.ts";

/** Options for {@linkcode ByteLineStream}. */
export interface ByteLineStreamOptions {
  /**
   * The longest line allowed, in bytes (without its LF or CRLF). A longer line fails the stream with
   * a {@linkcode RecordTooLargeError} as soon as more than this many bytes of it have arrived, so a
   * huge line is never held in memory whole.
   * @default no limit
   */
  maxLineBytes?: number;
}

const LF = 10;
const CR = 13;

/**
 * Splits a stream of bytes into lines, keeping every byte of each line as it is: no decoding, so
 * bytes that are not UTF-8 pass through unchanged. Lines end at LF or CRLF (the terminator is not
 * part of the line); a CR not followed by LF stays in the line. A last line without a newline is
 * kept; a trailing newline does not add an empty line; an empty input yields no lines. The time
 * taken is linear in the input: each byte is scanned once and a line split across chunks is copied
 * once, when its end arrives. A line inside one input chunk is a view into that chunk.
 *
 * @example Lines of bytes that are not UTF-8
 * ```ts
 * import assert from "node:assert/strict";
 * import { ByteLineStream } from "./byte_line_stream.ts";
 * const input = ReadableStream.from([new Uint8Array([0x63, 0x61, 0x66, 0xe9, 0x0d]), new Uint8Array([0x0a, 0x78])]);
 * const lines = await Array.fromAsync(input.pipeThrough(new ByteLineStream()));
 * assert.deepEqual(lines, [new Uint8Array([0x63, 0x61, 0x66, 0xe9]), new Uint8Array([0x78])]);
 * ```
 *
 * @example A line over the limit fails the stream, naming the line
 * ```ts
 * import assert from "node:assert/strict";
 * import { ByteLineStream } from "./byte_line_stream.ts";
 * import { RecordTooLargeError } from "../errors.ts";
 * const input = ReadableStream.from([new TextEncoder().encode("ok\n0123456789\n")]);
 * await assert.rejects(
 *   Array.fromAsync(input.pipeThrough(new ByteLineStream({ maxLineBytes: 8 }))),
 *   (err) => err instanceof RecordTooLargeError && /line 2\b/.test(err.message),
 * );
 * ```
 */
export class ByteLineStream extends TransformStream<Uint8Array, Uint8Array> {
  /**
   * Makes a stream that splits bytes into lines.
   *
   * @param options `maxLineBytes`: the longest line allowed, bytes
   * @throws {RangeError} when `maxLineBytes` is not a non-negative integer
   * @throws {RecordTooLargeError} (from the stream) when a line is longer than `maxLineBytes`; the
   *   message names the line (counted from 1) and the limit
   */
  constructor(options: ByteLineStreamOptions = {}) {
    const max = options.maxLineBytes ?? Infinity;
    if (max !== Infinity && !(Number.isSafeInteger(max) && max >= 0)) {
      throw new RangeError(`Invalid maxLineBytes ${max}: expected a non-negative integer`);
    }
    /** The pieces of the line being read, from earlier chunks. */
    let pieces: Uint8Array[] = [];
    let pending = 0;
    /** The number of the line being read, from 1. */
    let lineNumber = 1;

    const tooLong = (size: number) =>
      new RecordTooLargeError(
        size,
        max,
        `Cannot read line ${lineNumber}: it is longer than the limit of ${max} bytes`,
      );

    const line = (last: Uint8Array, endsWithNewline: boolean): Uint8Array => {
      let bytes = last;
      if (pieces.length > 0) {
        if (last.length > 0) pieces.push(last);
        bytes = concatBytes(pieces, pending + last.length);
        pieces = [];
        pending = 0;
      }
      if (endsWithNewline && bytes.length > 0 && bytes[bytes.length - 1] === CR) {
        bytes = bytes.subarray(0, bytes.length - 1);
      }
      if (bytes.length > max) throw tooLong(bytes.length);
      lineNumber++;
      return bytes;
    };

    super({
      transform(chunk, controller) {
        let start = 0;
        for (let lf = chunk.indexOf(LF); lf !== -1; lf = chunk.indexOf(LF, start)) {
          if (pending + (lf - start) > max + 1) throw tooLong(pending + (lf - start));
          controller.enqueue(line(chunk.subarray(start, lf), true));
          start = lf + 1;
        }
        if (start < chunk.length) {
          pending += chunk.length - start;
          // A CR may still be the first half of a CRLF: only past max + 1 is the line surely too long.
          if (pending > max + 1) throw tooLong(pending);
          pieces.push(chunk.subarray(start));
        }
      },
      flush(controller) {
        if (pending > 0) controller.enqueue(line(new Uint8Array(0), false));
      },
    });
  }
}
