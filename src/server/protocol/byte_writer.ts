/**
 * Writing Kafka's protocol primitive types into a response: big-endian integers, unsigned
 * varints, strings, bytes and UUIDs (Kafka `docs/protocol.html` "Protocol Primitive Types").
 * Large byte fields (a Fetch response's records) are kept by reference, not copied.
 *
 * @module
 */
import { uuidFromString } from "./byte_reader.ts";

const utf8 = new TextEncoder();
/** Byte fields at least this large are sent by reference instead of copied. */
const REFERENCE_BYTES = 4096;

/**
 * Writes primitive types front to back into growing buffers; {@linkcode ByteWriter.chunks}
 * returns what was written, as chunks to send in order.
 *
 * @example Write an int16, a string and an unsigned varint
 * ```ts
 * import assert from "node:assert/strict";
 * import { ByteWriter } from "./byte_writer.ts";
 * const w = new ByteWriter();
 * w.int16(5);
 * w.string("hi", false);
 * w.uvarint(150);
 * assert.deepEqual(w.toBytes(), new Uint8Array([0, 5, 0, 2, 104, 105, 0x96, 0x01]));
 * ```
 */
export class ByteWriter {
  #buf: Uint8Array;
  #view: DataView;
  #pos = 0;
  #done: Uint8Array[] = [];
  #doneBytes = 0;

  /** @param capacity the first buffer's size, bytes */
  constructor(capacity = 256) {
    this.#buf = new Uint8Array(capacity);
    this.#view = new DataView(this.#buf.buffer);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#doneBytes + this.#pos;
  }

  #room(n: number): number {
    if (this.#pos + n > this.#buf.length) {
      if (this.#pos > 0) {
        this.#done.push(this.#buf.subarray(0, this.#pos));
        this.#doneBytes += this.#pos;
      }
      this.#buf = new Uint8Array(Math.max(n, this.#buf.length * 2));
      this.#view = new DataView(this.#buf.buffer);
      this.#pos = 0;
    }
    const at = this.#pos;
    this.#pos += n;
    return at;
  }

  /** An int8. */
  int8(v: number): void {
    const at = this.#room(1);
    this.#view.setInt8(at, v);
  }
  /** A boolean. */
  bool(v: boolean): void {
    const at = this.#room(1);
    this.#view.setUint8(at, v ? 1 : 0);
  }
  /** A big-endian int16. */
  int16(v: number): void {
    const at = this.#room(2);
    this.#view.setInt16(at, v);
  }
  /** A big-endian uint16. */
  uint16(v: number): void {
    const at = this.#room(2);
    this.#view.setUint16(at, v);
  }
  /** A big-endian int32. */
  int32(v: number): void {
    const at = this.#room(4);
    this.#view.setInt32(at, v);
  }
  /** A big-endian uint32. */
  uint32(v: number): void {
    const at = this.#room(4);
    this.#view.setUint32(at, v);
  }
  /** A big-endian int64, from a number (exact up to 2^53). */
  int64(v: number): void {
    const at = this.#room(8);
    this.#view.setBigInt64(at, BigInt(v));
  }
  /** A big-endian float64. */
  float64(v: number): void {
    const at = this.#room(8);
    this.#view.setFloat64(at, v);
  }
  /** A UUID given as Kafka prints it. */
  uuid(v: string): void {
    this.raw(uuidFromString(v));
  }
  /** An unsigned varint (LEB128). */
  uvarint(v: number): void {
    while (v >= 0x80) {
      const at = this.#room(1); // before reading #buf: #room may replace it
      this.#buf[at] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    const at = this.#room(1);
    this.#buf[at] = v;
  }

  /** A length prefix: compact `uvarint(n + 1)`, else int32 (`wide`) or int16. -1 is null. */
  lengthPrefix(n: number, compact: boolean, wide: boolean): void {
    if (compact) this.uvarint(n + 1);
    else if (wide) this.int32(n);
    else this.int16(n);
  }

  /** A string (int16 length, or compact), or null. */
  string(v: string | null, compact: boolean): void {
    if (v === null) return this.lengthPrefix(-1, compact, false);
    const bytes = utf8.encode(v);
    this.lengthPrefix(bytes.length, compact, false);
    this.raw(bytes);
  }

  /** Bytes (int32 length, or compact), or null. */
  bytes(v: Uint8Array | null, compact: boolean): void {
    if (v === null) return this.lengthPrefix(-1, compact, true);
    this.lengthPrefix(v.length, compact, true);
    this.raw(v);
  }

  /** Bytes with no length; large ones are kept by reference (do not change them until sent). */
  raw(v: Uint8Array): void {
    if (v.length >= REFERENCE_BYTES) {
      if (this.#pos > 0) {
        this.#done.push(this.#buf.subarray(0, this.#pos));
        this.#doneBytes += this.#pos;
        this.#buf = this.#buf.subarray(this.#pos);
        this.#view = new DataView(this.#buf.buffer, this.#buf.byteOffset, this.#buf.byteLength);
        this.#pos = 0;
      }
      this.#done.push(v);
      this.#doneBytes += v.length;
      return;
    }
    const at = this.#room(v.length); // before reading #buf: #room may replace it
    this.#buf.set(v, at);
  }

  /** What was written, as chunks in order. */
  chunks(): Uint8Array[] {
    return this.#pos > 0 ? [...this.#done, this.#buf.subarray(0, this.#pos)] : [...this.#done];
  }

  /** What was written, in one array (a copy when there is more than one chunk). */
  toBytes(): Uint8Array {
    const chunks = this.chunks();
    if (chunks.length === 1) return chunks[0];
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}
