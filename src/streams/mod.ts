/**
 * The Web Streams codecs of reel: text to lines, lines to JSON values or producer records, values to
 * bytes and back, length-prefixed frames, and Kafka record batches. Each is a `TransformStream` that
 * runs unchanged on Deno, Bun and Node.
 *
 * - {@linkcode ByteLineStream}: bytes → lines of bytes (LF or CRLF), every byte kept as it is
 * - {@linkcode LineStream}: bytes or text → lines of text (LF or CRLF), decoded as UTF-8
 * - {@linkcode JsonParseStream}: lines → JSON values
 * - {@linkcode JsonLineRecordStream}: JSON lines → producer records whose value is the line's text
 * - {@linkcode ValueEncoderStream} / {@linkcode ValueDecoderStream}: values ↔ records, through a
 *   {@linkcode ValueCodec} ({@linkcode jsonCodec}, {@linkcode textCodec}, {@linkcode bytesCodec})
 * - {@linkcode LengthPrefixedFrameEncoderStream} / {@linkcode LengthPrefixedFrameDecoderStream}: int32
 *   length-prefixed frames
 * - {@linkcode RecordBatchEncoderStream} / {@linkcode RecordBatchDecoderStream}: record lists ↔ Kafka
 *   record batches (magic v2)
 *
 * @example Ingesting gzipped JSON lines as keyed, timestamped producer records
 * ```ts
 * import assert from "node:assert/strict";
 * import { join } from "node:path";
 * import { JsonLineRecordStream, LineStream } from "./mod.ts";
 * const dir = Deno.makeTempDirSync();
 * const line = '{"channel":"#deno","time":"2024-05-01T12:00:00Z"}';
 * const gzipped = ReadableStream.from([new TextEncoder().encode(`${line}\n`)])
 *   .pipeThrough(new CompressionStream("gzip"));
 * await Deno.writeFile(join(dir, "events.jsonl.gz"), gzipped);
 *
 * const file = await Deno.open(join(dir, "events.jsonl.gz"));
 * const records = file.readable
 *   .pipeThrough(new DecompressionStream("gzip"))
 *   .pipeThrough(new LineStream())
 *   .pipeThrough(new JsonLineRecordStream({ key: "channel", timestamp: "time" }));
 * const all = [];
 * for await (const record of records) all.push(record);
 * assert.deepEqual(all, [{ key: "#deno", timestamp: 1714564800000, value: line }]);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 *
 * @module
 */

export { ByteLineStream, type ByteLineStreamOptions } from "./byte_line_stream.ts";
export { LineStream, type LineStreamOptions } from "./line_stream.ts";
export {
  LengthPrefixedFrameDecoderStream,
  type LengthPrefixedFrameDecoderStreamOptions,
  LengthPrefixedFrameEncoderStream,
} from "./frame_stream.ts";
export { JsonParseStream } from "./json_parse_stream.ts";
export { JsonLineRecordStream, type JsonLineRecordStreamOptions } from "./json_line_record_stream.ts";
export { bytesCodec, jsonCodec, textCodec, type ValueCodec } from "./value_codec.ts";
export { ValueEncoderStream, type ValueEncoderStreamOptions } from "./value_encoder_stream.ts";
export { ValueDecoderStream } from "./value_decoder_stream.ts";
export { getField, parseTimestamp } from "./record_fields.ts";
export {
  RecordBatchDecoderStream,
  type RecordBatchDecoderStreamOptions,
  RecordBatchEncoderStream,
  type RecordBatchEncoderStreamOptions,
} from "./record_batch_stream.ts";
export type { ProducerRecord } from "../record/producer_record.ts";
export type { ConsumedRecord } from "../record/consumed_record.ts";
export type { Record, RecordHeader, RecordInput } from "../record/record.ts";
export type { CompressionType } from "../record/compression.ts";
