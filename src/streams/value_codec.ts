/**
 * The {@linkcode ValueCodec} interface, which converts values to bytes and back, and its three codecs:
 * {@linkcode jsonCodec}, {@linkcode textCodec} and {@linkcode bytesCodec}.
 *
 * @module
 */

import { InvalidRecordError } from "../errors.ts";

/**
 * Converts values of type `T` to bytes and back.
 *
 * @typeParam T the value type
 *
 * @example A codec for numbers as decimal text
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ValueCodec } from "./value_codec.ts";
 * const numberCodec: ValueCodec<number> = {
 *   encode: (n) => new TextEncoder().encode(String(n)),
 *   decode: (bytes) => Number(new TextDecoder().decode(bytes)),
 * };
 * assert.deepEqual(numberCodec.encode(42), new Uint8Array([0x34, 0x32]));
 * assert.equal(numberCodec.decode(numberCodec.encode(42)), 42);
 * ```
 */
export interface ValueCodec<T> {
  /**
   * Converts a value to bytes.
   *
   * @param value the value
   * @returns its bytes
   */
  encode(value: T): Uint8Array;
  /**
   * Converts bytes back to the value they encode.
   *
   * @param bytes the bytes
   * @returns the value they encode
   * @throws {InvalidRecordError} when the bytes do not encode a value of this codec
   */
  decode(bytes: Uint8Array): T;
}

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return strictDecoder.decode(bytes);
  } catch (err) {
    throw new InvalidRecordError(`Cannot decode ${what}: it is not valid UTF-8`, { cause: err });
  }
}

/**
 * JSON as UTF-8: `encode` is `JSON.stringify`, `decode` is `JSON.parse`.
 *
 * @throws {InvalidRecordError} from `encode` when the value has no JSON form (`undefined`, a function,
 *   a BigInt, a cycle); from `decode` when the bytes are not UTF-8 or not JSON
 *
 * @example Round trip, and what has no JSON form
 * ```ts
 * import assert from "node:assert/strict";
 * import { InvalidRecordError } from "../errors.ts";
 * import { jsonCodec } from "./value_codec.ts";
 * const bytes = jsonCodec.encode({ a: [1, 2] });
 * assert.equal(new TextDecoder().decode(bytes), '{"a":[1,2]}');
 * assert.deepEqual(jsonCodec.decode(bytes), { a: [1, 2] });
 * assert.throws(() => jsonCodec.encode(10n), InvalidRecordError);
 * assert.throws(() => jsonCodec.decode(new TextEncoder().encode("{a")), InvalidRecordError);
 * ```
 */
export const jsonCodec: ValueCodec<unknown> = {
  encode(value: unknown): Uint8Array {
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch (err) {
      throw new InvalidRecordError(`Cannot encode a value as JSON: ${(err as Error).message}`, {
        cause: err,
      });
    }
    if (text === undefined) {
      throw new InvalidRecordError(`Cannot encode a value as JSON: a ${typeof value} has no JSON form`);
    }
    return encoder.encode(text);
  },
  decode(bytes: Uint8Array): unknown {
    const text = decodeUtf8(bytes, "a JSON value");
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new InvalidRecordError(`Cannot parse a value as JSON: ${(err as Error).message}`, { cause: err });
    }
  },
};

/**
 * Strings as UTF-8. `decode` rejects invalid UTF-8 rather than replacing it.
 *
 * @throws {InvalidRecordError} from `decode` when the bytes are not valid UTF-8
 *
 * @example UTF-8 both ways, and bytes that are not UTF-8
 * ```ts
 * import assert from "node:assert/strict";
 * import { InvalidRecordError } from "../errors.ts";
 * import { textCodec } from "./value_codec.ts";
 * assert.deepEqual(textCodec.encode("hé"), new Uint8Array([0x68, 0xc3, 0xa9]));
 * assert.equal(textCodec.decode(textCodec.encode("héllo")), "héllo");
 * assert.throws(() => textCodec.decode(new Uint8Array([0xff])), InvalidRecordError);
 * ```
 */
export const textCodec: ValueCodec<string> = {
  encode(value: string): Uint8Array {
    if (typeof value !== "string") {
      throw new TypeError(`Cannot encode a ${typeof value} with the text codec: expected a string`);
    }
    return encoder.encode(value);
  },
  decode(bytes: Uint8Array): string {
    return decodeUtf8(bytes, "a text value");
  },
};

/**
 * Bytes as they are: both directions return their argument.
 *
 * @example The same bytes, not a copy
 * ```ts
 * import assert from "node:assert/strict";
 * import { bytesCodec } from "./value_codec.ts";
 * const bytes = new Uint8Array([1, 2]);
 * assert.equal(bytesCodec.decode(bytes), bytes);
 * assert.equal(bytesCodec.encode(bytes), bytes);
 * ```
 */
export const bytesCodec: ValueCodec<Uint8Array> = {
  encode(value: Uint8Array): Uint8Array {
    if (!(value instanceof Uint8Array)) {
      throw new TypeError(`Cannot encode a ${typeof value} with the bytes codec: expected a Uint8Array`);
    }
    return value;
  },
  decode(bytes: Uint8Array): Uint8Array {
    return bytes;
  },
};
