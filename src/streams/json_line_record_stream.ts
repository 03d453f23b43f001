/**
 * {@linkcode JsonLineRecordStream} and its options: JSON lines → producer records whose value is the
 * line's original text, with the key and timestamp read from the line's fields.
 *
 * @module
 */

import type { ProducerRecord } from "../record/producer_record.ts";
import { fieldGetter, readTimestamp, toKey } from "./_record_fields.ts";
import { isBlank, parseLine } from "./_parse_line.ts";

/** Options for {@linkcode JsonLineRecordStream}: dotted field paths (see {@linkcode getField}). */
export interface JsonLineRecordStreamOptions {
  /**
   * The field holding the record key (text and bytes as they are, numbers and booleans as text,
   * objects as JSON); a line without it gives a record without a key.
   * @default no key
   */
  key?: string;
  /**
   * The field holding the timestamp: ms since the epoch or an ISO-8601 string (see
   * {@linkcode parseTimestamp}); a line without it gives a record stamped at append time.
   * @default the append time
   */
  timestamp?: string;
}

/**
 * Turns JSON lines into producer records whose value is the line's original text (not re-stringified),
 * after parsing it to check it is JSON and to read the key and timestamp fields. Blank lines are
 * skipped, but still counted for the line numbers in errors.
 *
 * @example Ingesting gzipped JSON lines
 * ```ts
 * import assert from "node:assert/strict";
 * import { join } from "node:path";
 * import { LineStream } from "./line_stream.ts";
 * import { JsonLineRecordStream } from "./json_line_record_stream.ts";
 * const dir = Deno.makeTempDirSync();
 * const path = join(dir, "events.jsonl.gz");
 * const text = '{"channel":"#deno","time":1714564800000}\n{"channel":"#bun","time":1714564801000}\n';
 * const gzipped = ReadableStream.from([new TextEncoder().encode(text)]).pipeThrough(new CompressionStream("gzip"));
 * await Deno.writeFile(path, gzipped);
 * const file = await Deno.open(path);
 * const records = file.readable
 *   .pipeThrough(new DecompressionStream("gzip"))
 *   .pipeThrough(new LineStream())
 *   .pipeThrough(new JsonLineRecordStream({ key: "channel", timestamp: "time" }));
 * const got = await Array.fromAsync(records);
 * assert.deepEqual(got.map((r) => [r.key, r.timestamp]), [["#deno", 1714564800000], ["#bun", 1714564801000]]);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 *
 * @example The value is the line as written
 * ```ts
 * import assert from "node:assert/strict";
 * import { InvalidRecordError } from "../errors.ts";
 * import { JsonLineRecordStream } from "./json_line_record_stream.ts";
 * const line = '{"channel":"#deno", "time":"2024-05-01T12:00:00Z"}';
 * const records = ReadableStream.from([line])
 *   .pipeThrough(new JsonLineRecordStream({ key: "channel", timestamp: "time" }));
 * assert.deepEqual(await Array.fromAsync(records), [{ value: line, key: "#deno", timestamp: 1714564800000 }]);
 * const bad = ReadableStream.from(["{}", "", "{oops"]).pipeThrough(new JsonLineRecordStream());
 * await assert.rejects(Array.fromAsync(bad), (err) => err instanceof InvalidRecordError && /line 3/.test(err.message));
 * ```
 */
export class JsonLineRecordStream extends TransformStream<string, ProducerRecord<string>> {
  /**
   * Creates the stream.
   *
   * @param options the key and timestamp fields
   * @throws {TypeError} when a field path is empty or has an empty name
   * @throws {InvalidRecordError} (from the stream) when a line is not JSON (`Cannot parse line N as
   *   JSON: …`) or its timestamp cannot be parsed; lines count from 1
   */
  constructor(options: JsonLineRecordStreamOptions = {}) {
    const keyOf = options.key === undefined ? undefined : fieldGetter(options.key);
    const timestampOf = options.timestamp === undefined ? undefined : fieldGetter(options.timestamp);
    let lineNumber = 0;
    super({
      transform(line, controller) {
        lineNumber++;
        if (isBlank(line)) return;
        const parsed = parseLine(line, lineNumber);
        const record: ProducerRecord<string> = { value: line };
        if (keyOf !== undefined) {
          const key = toKey(keyOf(parsed), `line ${lineNumber}`);
          if (key !== null) record.key = key;
        }
        if (timestampOf !== undefined) {
          const ms = readTimestamp(timestampOf(parsed), `line ${lineNumber}`);
          if (ms !== undefined) record.timestamp = ms;
        }
        controller.enqueue(record);
      },
    });
  }
}
