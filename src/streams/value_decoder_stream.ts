/**
 * {@linkcode ValueDecoderStream}: decodes the value of each consumed record with a
 * {@linkcode ValueCodec}.
 *
 * @module
 */

import { InvalidRecordError } from "../errors.ts";
import type { ConsumedRecord } from "../record/consumed_record.ts";
import type { ValueCodec } from "./value_codec.ts";

/**
 * Decodes the value of each consumed record with a {@linkcode ValueCodec}; a `null` value (a
 * tombstone) stays `null`. The other fields are passed on as they are.
 *
 * @typeParam T the decoded value type
 *
 * @example Values as text; a tombstone stays null
 * ```ts
 * import assert from "node:assert/strict";
 * import { textCodec } from "./value_codec.ts";
 * import { ValueDecoderStream } from "./value_decoder_stream.ts";
 * const record = { topic: "t", partition: 0, offset: 0, timestamp: 0, key: null, headers: [] };
 * const consumed = ReadableStream.from([
 *   { ...record, value: new TextEncoder().encode("hi") },
 *   { ...record, offset: 1, value: null },
 * ]);
 * const decoded = await Array.fromAsync(consumed.pipeThrough(new ValueDecoderStream(textCodec)));
 * assert.deepEqual(decoded.map((r) => [r.offset, r.value]), [[0, "hi"], [1, null]]);
 * ```
 */
export class ValueDecoderStream<T> extends TransformStream<ConsumedRecord, ConsumedRecord<T | null>> {
  /**
   * Creates the stream.
   *
   * @param codec decodes each value (only its `decode` is used)
   * @throws {InvalidRecordError} (from the stream) when the codec cannot decode a value; the message
   *   names the topic, partition and offset
   */
  constructor(codec: Pick<ValueCodec<T>, "decode">) {
    super({
      transform(record, controller) {
        let value: T | null = null;
        if (record.value !== null) {
          try {
            value = codec.decode(record.value);
          } catch (err) {
            if (!(err instanceof InvalidRecordError)) throw err;
            throw new InvalidRecordError(
              `Cannot decode the value at offset ${record.offset} of "${record.topic}-${record.partition}": ${err.message}`,
              { cause: err },
            );
          }
        }
        controller.enqueue({
          topic: record.topic,
          partition: record.partition,
          offset: record.offset,
          timestamp: record.timestamp,
          key: record.key,
          value,
          headers: record.headers,
        });
      },
    });
  }
}
