/**
 * {@linkcode JsonParseStream}: lines of JSON lines → JSON values.
 *
 * @module
 */

import { isBlank, parseLine } from "./_parse_line.ts";

/**
 * Parses each string (one line of JSON lines) with `JSON.parse`. Blank lines are skipped, but still
 * counted for the line numbers in errors.
 *
 * @example
 * ```ts
 * import { JsonParseStream } from "./json_parse_stream.ts";
 * const values = ReadableStream.from(['{"a":1}', "", "[2]"]).pipeThrough(new JsonParseStream());
 * console.log(await Array.fromAsync(values)); // [ { a: 1 }, [ 2 ] ]
 * ```
 */
export class JsonParseStream extends TransformStream<string, unknown> {
  /**
   * @throws {InvalidRecordError} (from the stream) when a line is not JSON:
   *   `Cannot parse line N as JSON: …`, counting lines from 1
   */
  constructor() {
    let lineNumber = 0;
    super({
      transform(line, controller) {
        lineNumber++;
        if (isBlank(line)) return;
        controller.enqueue(parseLine(line, lineNumber));
      },
    });
  }
}
