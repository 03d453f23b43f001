/**
 * {@linkcode ValueEncoderStream} and its options: values encoded with a {@linkcode ValueCodec} into
 * producer records, with the key, timestamp, headers and partition taken from each value.
 *
 * @example Encoding objects into keyed, timestamped producer records
 * ```ts
 * import assert from "node:assert/strict";
 * import { jsonCodec } from "./value_codec.ts";
 * import { ValueEncoderStream } from "./value_encoder_stream.ts";
 * const records = ReadableStream.from([{ user: { id: "ada" }, at: "2024-05-01T12:00:00Z" }])
 *   .pipeThrough(new ValueEncoderStream(jsonCodec, { key: "user.id", timestamp: "at" }));
 * const [record] = await Array.fromAsync(records);
 * assert.equal(record.key, "ada");
 * assert.equal(record.timestamp, 1714564800000);
 * assert.deepEqual(jsonCodec.decode(record.value!), { user: { id: "ada" }, at: "2024-05-01T12:00:00Z" });
 * ```
 *
 * @module
 */

import { InvalidRecordError } from "../errors.ts";
import type { ProducerRecord } from "../record/producer_record.ts";
import type { ValueCodec } from "./value_codec.ts";
import { type FieldGetter, fieldGetter, readTimestamp, toKey } from "./_record_fields.ts";

/**
 * Options for {@linkcode ValueEncoderStream}. A string is a dotted field path into the value
 * (see {@linkcode getField}); a function computes the field from the value.
 *
 * @typeParam T the value type
 */
export interface ValueEncoderStreamOptions<T> {
  /**
   * The record key. A field's value is used as it is when text or bytes, as text when a number or a
   * boolean, as JSON when an object; a missing field gives no key.
   * @default no key
   */
  key?: string | ((value: T) => Uint8Array | string | null | undefined);
  /**
   * The record timestamp. A field may hold ms since the epoch (a number or a numeric string) or an
   * ISO-8601 string (see {@linkcode parseTimestamp}); a missing field gives the append time.
   * @default the append time
   */
  timestamp?: string | ((value: T) => number | Date | undefined);
  /**
   * The record headers.
   * @default no headers
   */
  headers?: (value: T) => ProducerRecord["headers"] | undefined;
  /**
   * An explicit partition.
   * @default the key's hash, else the sticky partition
   */
  partition?: (value: T) => number | undefined;
}

/**
 * Encodes values with a {@linkcode ValueCodec} into producer records, taking the key, timestamp,
 * headers and partition from each value as the options say.
 *
 * @typeParam T the value type
 *
 * @example Keys from a field, timestamps from a function
 * ```ts
 * import assert from "node:assert/strict";
 * import { jsonCodec } from "./value_codec.ts";
 * import { ValueEncoderStream } from "./value_encoder_stream.ts";
 * type Click = { user: string; ms: number };
 * const records = ReadableStream.from<Click>([{ user: "ada", ms: 1_700_000_000_000 }])
 *   .pipeThrough(new ValueEncoderStream<Click>(jsonCodec, { key: "user", timestamp: (c) => c.ms }));
 * assert.deepEqual(await Array.fromAsync(records), [{
 *   value: new TextEncoder().encode('{"user":"ada","ms":1700000000000}'),
 *   key: "ada",
 *   timestamp: 1_700_000_000_000,
 * }]);
 * ```
 */
export class ValueEncoderStream<T> extends TransformStream<T, ProducerRecord<Uint8Array>> {
  /**
   * Creates the stream.
   *
   * @param codec encodes each value (only its `encode` is used, so `jsonCodec` serves any `T`)
   * @param options where the key, timestamp, headers and partition come from
   * @throws {TypeError} when a field path is empty or has an empty name
   * @throws {InvalidRecordError} (from the stream) when the codec cannot encode a value, or a
   *   timestamp cannot be parsed; the message names the record, counting from 1
   */
  constructor(codec: Pick<ValueCodec<T>, "encode">, options: ValueEncoderStreamOptions<T> = {}) {
    const keyOf = options.key === undefined
      ? undefined
      : typeof options.key === "string"
      ? ((get: FieldGetter) => (v: T, what: string) => toKey(get(v), what))(fieldGetter(options.key))
      : options.key;
    const timestampOf = options.timestamp === undefined
      ? undefined
      : typeof options.timestamp === "string"
      ? fieldGetter(options.timestamp) as (v: T) => unknown
      : options.timestamp;
    const headersOf = options.headers;
    const partitionOf = options.partition;
    let count = 0;

    super({
      transform(value, controller) {
        count++;
        let bytes: Uint8Array;
        try {
          bytes = codec.encode(value);
        } catch (err) {
          if (!(err instanceof InvalidRecordError)) throw err;
          throw new InvalidRecordError(`Cannot encode record ${count}: ${err.message}`, { cause: err });
        }
        const record: ProducerRecord<Uint8Array> = { value: bytes };
        if (keyOf !== undefined) {
          const key = keyOf(value, `record ${count}`);
          if (key !== undefined && key !== null) record.key = key;
        }
        if (timestampOf !== undefined) {
          const ms = readTimestamp(timestampOf(value), `record ${count}`);
          if (ms !== undefined) record.timestamp = ms;
        }
        if (headersOf !== undefined) {
          const headers = headersOf(value);
          if (headers !== undefined) record.headers = headers;
        }
        if (partitionOf !== undefined) {
          const partition = partitionOf(value);
          if (partition !== undefined) record.partition = partition;
        }
        controller.enqueue(record);
      },
    });
  }
}
