/**
 * {@linkcode LineStream}: bytes or text in, one string per line out.
 *
 * @module
 */

import { InvalidRecordError } from "../errors.ts";

/** Options for {@linkcode LineStream}. */
export interface LineStreamOptions {
  /**
   * Throw an {@linkcode InvalidRecordError} on invalid UTF-8 instead of decoding it as U+FFFD.
   * @default false
   */
  fatal?: boolean;
}

const LF = 10;
const CR_CODE = 13;

/**
 * Splits a stream of UTF-8 bytes (or of strings) into lines. Lines end at LF or CRLF; a CR not
 * followed by LF stays in the line. A last line without a newline is kept; a trailing newline does not
 * add an empty line; an empty input yields no lines. Bytes are decoded in streaming mode, so a
 * character split across chunks comes out whole, and a UTF-8 byte order mark at the start is dropped.
 *
 * @example Reading the lines of a file
 * ```ts ignore
 * import { LineStream } from "./line_stream.ts";
 * const file = await Deno.open("access.log");
 * for await (const line of file.readable.pipeThrough(new LineStream())) console.log(line);
 * ```
 *
 * @example Chunks are split anywhere
 * ```ts
 * import { LineStream } from "./line_stream.ts";
 * const bytes = new TextEncoder().encode("one\r\ntwo\nthré");
 * const input = ReadableStream.from([bytes.subarray(0, 5), bytes.subarray(5, 14), bytes.subarray(14)]);
 * const lines = await Array.fromAsync(input.pipeThrough(new LineStream()));
 * console.log(lines); // [ "one", "two", "thré" ]
 * ```
 */
export class LineStream extends TransformStream<Uint8Array | string, string> {
  /**
   * @param options `fatal`: throw on invalid UTF-8
   * @throws {InvalidRecordError} (from the stream) when `fatal` is set and the input is not valid
   *   UTF-8; the message names the line
   */
  constructor(options: LineStreamOptions = {}) {
    const fatal = options.fatal ?? false;
    const decoder = new TextDecoder("utf-8", { fatal });
    /** The text after the last LF seen. */
    let partial = "";
    /** LFs seen so far: the line being read is `lineCount + 1`. */
    let lineCount = 0;
    /** Bytes have gone into the decoder since it was last flushed. */
    let decoding = false;
    /** Under `fatal`: the bytes of an incomplete character pending in the decoder, to find an error. */
    let tail = new Uint8Array(0);

    const emit = (text: string, controller: TransformStreamDefaultController<string>) => {
      let start = 0;
      let end = text.indexOf("\n");
      if (end === -1) {
        partial = text;
        return;
      }
      do {
        const stop = end > start && text.charCodeAt(end - 1) === CR_CODE ? end - 1 : end;
        controller.enqueue(text.slice(start, stop));
        lineCount++;
        start = end + 1;
        end = text.indexOf("\n", start);
      } while (end !== -1);
      partial = start === text.length ? "" : text.slice(start);
    };

    const invalid = (line: number, cause: unknown) =>
      new InvalidRecordError(`Cannot decode line ${line} as UTF-8: it holds an invalid byte sequence`, {
        cause,
      });

    super({
      transform(chunk, controller) {
        let text: string;
        if (typeof chunk === "string") {
          if (decoding) {
            decoding = false;
            tail = new Uint8Array(0);
            try {
              text = partial + decoder.decode() + chunk;
            } catch (err) {
              throw invalid(lineCount + 1, err);
            }
          } else {
            text = partial.length === 0 ? chunk : partial + chunk;
          }
        } else {
          let decoded: string;
          try {
            decoded = decoder.decode(chunk, { stream: true });
          } catch (err) {
            throw invalid(lineCount + 1 + countLinesBeforeInvalid(concat(tail, chunk)), err);
          }
          decoding = true;
          if (fatal) {
            const bytes = chunk.length >= 3 ? chunk : concat(tail, chunk);
            tail = bytes.slice(incompleteTailStart(bytes));
          }
          text = partial.length === 0 ? decoded : partial + decoded;
        }
        emit(text, controller);
      },
      flush(controller) {
        if (decoding) {
          try {
            partial += decoder.decode();
          } catch (err) {
            throw invalid(lineCount + 1, err);
          }
        }
        if (partial.length > 0) controller.enqueue(partial);
        partial = "";
      },
    });
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** The index where an incomplete UTF-8 sequence at the end of `bytes` starts, or `bytes.length`. */
function incompleteTailStart(bytes: Uint8Array): number {
  const n = bytes.length;
  for (let j = n - 1; j >= 0 && j >= n - 3; j--) {
    const b = bytes[j];
    if ((b & 0xc0) === 0x80) continue;
    if (b < 0xc0) return n;
    const length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
    return n - j < length ? j : n;
  }
  return n;
}

/**
 * Counts the LF bytes before the first invalid UTF-8 sequence in `bytes` (the error path only), where
 * `bytes` starts at a character boundary. Follows the WHATWG decoder's rules: no overlong forms, no
 * surrogates, nothing above U+10FFFF.
 */
function countLinesBeforeInvalid(bytes: Uint8Array): number {
  let i = 0;
  let lines = 0;
  const n = bytes.length;
  while (i < n) {
    const b = bytes[i];
    if (b < 0x80) {
      if (b === LF) lines++;
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0;
      else if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90;
      else if (b === 0xf4) hi = 0x8f;
    } else return lines;
    for (let k = 1; k <= need; k++) {
      if (i + k >= n) return lines;
      const c = bytes[i + k];
      if (c < lo || c > hi) return lines;
      lo = 0x80;
      hi = 0xbf;
    }
    i += need + 1;
  }
  return lines;
}
