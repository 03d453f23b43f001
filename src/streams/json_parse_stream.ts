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
 * @example Parse lines, skipping blank ones
 * ```ts
 * import assert from "node:assert/strict";
 * import { InvalidRecordError } from "../errors.ts";
 * import { JsonParseStream } from "./json_parse_stream.ts";
 * const values = ReadableStream.from(['{"a":1}', "", "[2]"]).pipeThrough(new JsonParseStream());
 * assert.deepEqual(await Array.fromAsync(values), [{ a: 1 }, [2]]);
 * const bad = ReadableStream.from(["1", "two"]).pipeThrough(new JsonParseStream());
 * await assert.rejects(Array.fromAsync(bad), (err) => err instanceof InvalidRecordError && /line 2/.test(err.message));
 * ```
 */
export class JsonParseStream extends TransformStream<string, unknown> {
  /**
   * Creates the stream.
   *
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
