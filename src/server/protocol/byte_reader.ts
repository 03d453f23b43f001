/**
 * Reading Kafka's protocol primitive types from a request: big-endian integers, unsigned varints,
 * strings, bytes and UUIDs (Kafka `docs/protocol.html` "Protocol Primitive Types").
 *
 * @module
 */
import { ReelError } from "../../errors.ts";

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * A request that does not parse: truncated, a length out of range, bad UTF-8 (code
 * `INVALID_REQUEST`, 42). The broker closes the connection, as Kafka does.
 *
 * @example A malformed request carries INVALID_REQUEST (42)
 * ```ts
 * import assert from "node:assert/strict";
 * import { MalformedRequestError } from "./byte_reader.ts";
 * const err = new MalformedRequestError("a string runs past the end of the request");
 * assert.equal(err.errorCode, 42);
 * ```
 */
export class MalformedRequestError extends ReelError {
  /** @param detail what is wrong */
  constructor(detail: string) {
    super("INVALID_REQUEST", `Cannot parse the request: ${detail}`);
    this.name = "MalformedRequestError";
  }
}

/** The all-zero UUID, as Kafka prints it (`Uuid.ZERO_UUID`): topic ID "none". */
export const ZERO_UUID = "AAAAAAAAAAAAAAAAAAAAAA";

/**
 * A UUID's 16 bytes as Kafka prints it: URL-safe base64 without padding (`Uuid.toString`).
 *
 * @param bytes 16 bytes
 * @returns the 22-character string
 * @example The zero UUID in Kafka's base64 form
 * ```ts
 * import assert from "node:assert/strict";
 * import { uuidToString } from "./byte_reader.ts";
 * assert.equal(uuidToString(new Uint8Array(16)), "AAAAAAAAAAAAAAAAAAAAAA");
 * ```
 */
export function uuidToString(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * A UUID string (URL-safe base64, as {@linkcode uuidToString} makes) back to its 16 bytes.
 *
 * @param text the 22-character string
 * @returns 16 bytes
 * @throws {RangeError} when `text` is not 16 bytes of base64
 * @example A UUID survives a round trip through its text form
 * ```ts
 * import assert from "node:assert/strict";
 * import { uuidFromString, uuidToString } from "./byte_reader.ts";
 * const id = uuidToString(new Uint8Array(16).fill(7));
 * assert.deepEqual(uuidFromString(id), new Uint8Array(16).fill(7));
 * ```
 */
export function uuidFromString(text: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
  } catch {
    throw new RangeError(`Invalid UUID ${JSON.stringify(text)}: expected base64`);
  }
  if (bytes.length !== 16) throw new RangeError(`Invalid UUID ${JSON.stringify(text)}: expected 16 bytes`);
  return bytes;
}

/**
 * Reads primitive types from a byte array, front to back, checking every length against what is
 * left.
 *
 * @example Read an int16, a string and an unsigned varint
 * ```ts
 * import assert from "node:assert/strict";
 * import { ByteReader } from "./byte_reader.ts";
 * const r = new ByteReader(new Uint8Array([0, 5, 0, 2, 104, 105, 0x96, 0x01]));
 * assert.equal(r.int16(), 5);
 * assert.equal(r.string(false), "hi");
 * assert.equal(r.uvarint(), 150);
 * assert.equal(r.remaining, 0);
 * ```
 */
export class ByteReader {
  #view: DataView;
  /** The byte position of the next read. */
  position = 0;

  /** @param bytes the bytes to read (not copied) */
  constructor(readonly bytes: Uint8Array) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Bytes not read yet. */
  get remaining(): number {
    return this.bytes.length - this.position;
  }

  #need(n: number, what: string): number {
    if (n > this.bytes.length - this.position) {
      throw new MalformedRequestError(`${what} runs past the end of the request`);
    }
    const at = this.position;
    this.position += n;
    return at;
  }

  /** An int8. */
  int8(): number {
    return this.#view.getInt8(this.#need(1, "an int8"));
  }
  /** A boolean (one byte, non-zero is true). */
  bool(): boolean {
    return this.#view.getUint8(this.#need(1, "a boolean")) !== 0;
  }
  /** A big-endian int16. */
  int16(): number {
    return this.#view.getInt16(this.#need(2, "an int16"));
  }
  /** A big-endian uint16. */
  uint16(): number {
    return this.#view.getUint16(this.#need(2, "a uint16"));
  }
  /** A big-endian int32. */
  int32(): number {
    return this.#view.getInt32(this.#need(4, "an int32"));
  }
  /** A big-endian uint32. */
  uint32(): number {
    return this.#view.getUint32(this.#need(4, "a uint32"));
  }
  /** A big-endian int64, as a number (exact up to 2^53). */
  int64(): number {
    const at = this.#need(8, "an int64");
    return this.#view.getInt32(at) * 2 ** 32 + this.#view.getUint32(at + 4);
  }
  /** A big-endian float64. */
  float64(): number {
    return this.#view.getFloat64(this.#need(8, "a float64"));
  }
  /** A UUID, as Kafka prints it. */
  uuid(): string {
    const at = this.#need(16, "a UUID");
    return uuidToString(this.bytes.subarray(at, at + 16));
  }

  /** An unsigned varint (LEB128, at most 5 bytes, 32 bits). */
  uvarint(): number {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.#view.getUint8(this.#need(1, "a varint"));
      value += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) {
        if (value > 0xffffffff) throw new MalformedRequestError("a varint is larger than 32 bits");
        return value;
      }
    }
    throw new MalformedRequestError("a varint is longer than 5 bytes");
  }

  /**
   * A length prefix: int16 (string) or int32 (bytes, array) when not compact, `uvarint(n + 1)`
   * when compact. -1 means null.
   */
  length(compact: boolean, wide: boolean): number {
    const n = compact ? this.uvarint() - 1 : wide ? this.int32() : this.int16();
    if (n < -1) throw new MalformedRequestError(`a length of ${n} is negative`);
    return n;
  }

  /** A string (int16 length, or compact), or null. */
  string(compact: boolean): string | null {
    const n = this.length(compact, false);
    if (n < 0) return null;
    const at = this.#need(n, "a string");
    try {
      return utf8.decode(this.bytes.subarray(at, at + n));
    } catch {
      throw new MalformedRequestError("a string is not valid UTF-8");
    }
  }

  /** Bytes (int32 length, or compact), or null: a view into the request, not a copy. */
  bytesView(compact: boolean): Uint8Array | null {
    const n = this.length(compact, true);
    if (n < 0) return null;
    const at = this.#need(n, "a bytes field");
    return this.bytes.subarray(at, at + n);
  }

  /** Skips `n` bytes. */
  skip(n: number): void {
    this.#need(n, "a tagged field");
  }
}
