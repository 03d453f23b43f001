/**
 * Value codecs (JSON, text, bytes), the streams that apply them to records, and the JSON-lines streams
 * that turn lines of text into values or producer records.
 *
 * @example Encoding objects into keyed, timestamped producer records
 * ```ts
 * import { jsonCodec, ValueEncoderStream } from "./value_codec.ts";
 * const records = ReadableStream.from([{ user: { id: "ada" }, at: "2024-05-01T12:00:00Z" }])
 *   .pipeThrough(new ValueEncoderStream(jsonCodec, { key: "user.id", timestamp: "at" }));
 * for await (const r of records) console.log(r.key, r.timestamp); // ada 1714564800000
 * ```
 *
 * @module
 */

import { InvalidRecordError } from "../errors.ts";
import type { ConsumedRecord, ProducerRecord } from "./types.ts";

/**
 * Converts values of type `T` to bytes and back.
 *
 * @typeParam T the value type
 *
 * @example A codec for numbers as decimal text
 * ```ts
 * import type { ValueCodec } from "./value_codec.ts";
 * const numberCodec: ValueCodec<number> = {
 *   encode: (n) => new TextEncoder().encode(String(n)),
 *   decode: (bytes) => Number(new TextDecoder().decode(bytes)),
 * };
 * console.log(numberCodec.decode(numberCodec.encode(42))); // 42
 * ```
 */
export interface ValueCodec<T> {
  /**
   * @param value the value
   * @returns its bytes
   */
  encode(value: T): Uint8Array;
  /**
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
 * @example
 * ```ts
 * import { jsonCodec } from "./value_codec.ts";
 * const bytes = jsonCodec.encode({ a: [1, 2] });
 * console.log(new TextDecoder().decode(bytes), jsonCodec.decode(bytes)); // {"a":[1,2]} { a: [ 1, 2 ] }
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
 * @example
 * ```ts
 * import { textCodec } from "./value_codec.ts";
 * console.log(textCodec.decode(textCodec.encode("héllo"))); // héllo
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
 * @example
 * ```ts
 * import { bytesCodec } from "./value_codec.ts";
 * console.log(bytesCodec.decode(new Uint8Array([1, 2]))); // Uint8Array(2) [ 1, 2 ]
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

/** Reads one dotted field path from an object: compiled once, applied per record. */
type FieldGetter = (obj: unknown) => unknown;

function fieldGetter(path: string): FieldGetter {
  if (typeof path !== "string" || path === "") {
    throw new TypeError(`Invalid field path ${JSON.stringify(path)}: expected names separated by dots`);
  }
  const names = path.split(".");
  if (names.includes("")) {
    throw new TypeError(`Invalid field path ${JSON.stringify(path)}: a name between dots is empty`);
  }
  if (names.length === 1) {
    const name = names[0];
    return (obj) =>
      obj !== null && typeof obj === "object" && Object.hasOwn(obj, name) ? (obj as Obj)[name] : undefined;
  }
  return (obj) => {
    let current = obj;
    for (let i = 0; i < names.length; i++) {
      if (current === null || typeof current !== "object" || !Object.hasOwn(current, names[i])) {
        return undefined;
      }
      current = (current as Obj)[names[i]];
    }
    return current;
  };
}

type Obj = { [name: string]: unknown };

/**
 * Reads a field from an object by a dotted path of own property names (`"user.id"`; array items by
 * index: `"items.0"`).
 *
 * @param obj the object (any value: a non-object yields `undefined`)
 * @param path names separated by dots
 * @returns the field's value, or `undefined` when any step of the path is missing
 * @throws {TypeError} when the path is empty or has an empty name (`"a..b"`)
 *
 * @example
 * ```ts
 * import { getField } from "./value_codec.ts";
 * console.log(getField({ user: { id: 7 } }, "user.id")); // 7
 * console.log(getField({ user: null }, "user.id")); // undefined
 * ```
 */
export function getField(obj: unknown, path: string): unknown {
  return fieldGetter(path)(obj);
}

const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?)?$/;
const NUMERIC = /^\s*-?\d+(?:\.\d*)?\s*$/;
const MS_PER_DAY = 86_400_000;

/** Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `days_from_civil`). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** An ISO-8601 date or date-time in ms, or `NaN`. */
function parseIso(text: string): number {
  const m = ISO_8601.exec(text);
  if (m === null) return NaN;
  const year = +m[1];
  const month = +m[2];
  const day = +m[3];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return NaN;
  if (m[4] === undefined) return daysFromCivil(year, month, day) * MS_PER_DAY; // a date alone is UTC
  const hour = +m[4];
  const minute = +m[5];
  const second = m[6] === undefined ? 0 : +m[6];
  const ms = m[7] === undefined ? 0 : +(m[7] + "00").slice(0, 3);
  if (hour > 23 || minute > 59 || second > 59) return NaN;
  if (m[8] === undefined && m[9] === undefined) {
    // No offset: local time, as ECMAScript's Date.parse reads it.
    const local = new Date(2000, 0, 1);
    local.setFullYear(year, month - 1, day);
    local.setHours(hour, minute, second, ms);
    return local.getTime();
  }
  let offsetMinutes = 0;
  if (m[9] !== undefined) {
    const offsetHour = +m[10];
    const offsetMinute = m[11] === undefined ? 0 : +m[11];
    if (offsetHour > 23 || offsetMinute > 59) return NaN;
    offsetMinutes = (m[9] === "-" ? -1 : 1) * (offsetHour * 60 + offsetMinute);
  }
  return daysFromCivil(year, month, day) * MS_PER_DAY +
    ((hour * 60 + minute - offsetMinutes) * 60 + second) * 1000 + ms;
}

/** A timestamp field's value in ms, `undefined` when absent, `NaN` when unparsable. */
function toTimestampMs(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  let ms: number;
  if (typeof value === "number") ms = value;
  else if (typeof value === "string") ms = NUMERIC.test(value) ? Number(value) : parseIso(value);
  else if (value instanceof Date) ms = value.getTime();
  else return NaN;
  return Number.isFinite(ms) ? Math.trunc(ms) : NaN;
}

function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value);
  if (typeof value === "object" && value !== null && !(value instanceof Date)) {
    return `an ${Array.isArray(value) ? "array" : "object"}`;
  }
  return String(value);
}

/**
 * Reads a timestamp as found in data: ms since the epoch (a number or a numeric string), an ISO-8601
 * date or date-time (`2024-05-01`, `2024-05-01T12:00:00.250Z`, `2024-05-01 14:00:00+02:00`), or a
 * `Date`. A date alone is UTC; a date-time without an offset is local time, as in `Date.parse`.
 * Fractional ms are truncated.
 *
 * @param value the value of a timestamp field
 * @returns ms since the epoch, or `undefined` when `value` is `null` or `undefined`
 * @throws {InvalidRecordError} when `value` is present but is none of the above
 *
 * @example
 * ```ts
 * import { parseTimestamp } from "./value_codec.ts";
 * console.log(parseTimestamp("2024-05-01T12:00:00Z"), parseTimestamp("1714564800000")); // 1714564800000 1714564800000
 * ```
 */
export function parseTimestamp(value: unknown): number | undefined {
  const ms = toTimestampMs(value);
  if (Number.isNaN(ms)) {
    throw new InvalidRecordError(
      `Cannot parse timestamp ${show(value)}: expected ms since the epoch or an ISO-8601 date`,
    );
  }
  return ms;
}

/** A key field's value as a key: text and bytes as they are, numbers and booleans as text, objects as JSON. */
function toKey(value: unknown): Uint8Array | string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === "string" || value instanceof Uint8Array) return value;
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

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
 * import { jsonCodec, ValueEncoderStream } from "./value_codec.ts";
 * type Click = { user: string; ms: number };
 * const records = ReadableStream.from<Click>([{ user: "ada", ms: 1_700_000_000_000 }])
 *   .pipeThrough(new ValueEncoderStream<Click>(jsonCodec, { key: "user", timestamp: (c) => c.ms }));
 * console.log(await Array.fromAsync(records)); // [ { value: Uint8Array(...), key: "ada", timestamp: 1700000000000 } ]
 * ```
 */
export class ValueEncoderStream<T> extends TransformStream<T, ProducerRecord<Uint8Array>> {
  /**
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
      ? ((get: FieldGetter) => (v: T) => toKey(get(v)))(fieldGetter(options.key))
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
          const key = keyOf(value);
          if (key !== undefined && key !== null) record.key = key;
        }
        if (timestampOf !== undefined) {
          const raw = timestampOf(value);
          const ms = toTimestampMs(raw);
          if (Number.isNaN(ms)) {
            throw new InvalidRecordError(
              `Cannot read the timestamp of record ${count}: ${
                show(raw)
              } is neither ms since the epoch nor an ISO-8601 date`,
            );
          }
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

/**
 * Decodes the value of each consumed record with a {@linkcode ValueCodec}; a `null` value (a
 * tombstone) stays `null`. The other fields are passed on as they are.
 *
 * @typeParam T the decoded value type
 *
 * @example
 * ```ts
 * import { textCodec, ValueDecoderStream } from "./value_codec.ts";
 * const consumed = ReadableStream.from([{
 *   topic: "t", partition: 0, offset: 0, timestamp: 0, key: null, headers: [],
 *   value: new TextEncoder().encode("hi"),
 * }]);
 * for await (const r of consumed.pipeThrough(new ValueDecoderStream(textCodec))) console.log(r.value); // hi
 * ```
 */
export class ValueDecoderStream<T> extends TransformStream<ConsumedRecord, ConsumedRecord<T | null>> {
  /**
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

function isBlank(line: string): boolean {
  return line.length === 0 || line.trim().length === 0;
}

function parseLine(line: string, lineNumber: number): unknown {
  try {
    return JSON.parse(line);
  } catch (err) {
    throw new InvalidRecordError(`Cannot parse line ${lineNumber} as JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/**
 * Parses each string (one line of JSON lines) with `JSON.parse`. Blank lines are skipped, but still
 * counted for the line numbers in errors.
 *
 * @example
 * ```ts
 * import { JsonParseStream } from "./value_codec.ts";
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
 * ```ts ignore
 * import { LineStream } from "./line_stream.ts";
 * import { JsonLineRecordStream } from "./value_codec.ts";
 * const file = await Deno.open("events.jsonl.gz");
 * const records = file.readable
 *   .pipeThrough(new DecompressionStream("gzip"))
 *   .pipeThrough(new LineStream())
 *   .pipeThrough(new JsonLineRecordStream({ key: "channel", timestamp: "time" }));
 * ```
 *
 * @example
 * ```ts
 * import { JsonLineRecordStream } from "./value_codec.ts";
 * const records = ReadableStream.from(['{"channel":"#deno","time":"2024-05-01T12:00:00Z"}'])
 *   .pipeThrough(new JsonLineRecordStream({ key: "channel", timestamp: "time" }));
 * console.log(await Array.fromAsync(records));
 * // [ { value: '{"channel":"#deno","time":"2024-05-01T12:00:00Z"}', key: "#deno", timestamp: 1714564800000 } ]
 * ```
 */
export class JsonLineRecordStream extends TransformStream<string, ProducerRecord<string>> {
  /**
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
          const key = toKey(keyOf(parsed));
          if (key !== null) record.key = key;
        }
        if (timestampOf !== undefined) {
          const raw = timestampOf(parsed);
          const ms = toTimestampMs(raw);
          if (Number.isNaN(ms)) {
            throw new InvalidRecordError(
              `Cannot read the timestamp of line ${lineNumber}: ${
                show(raw)
              } is neither ms since the epoch nor an ISO-8601 date`,
            );
          }
          if (ms !== undefined) record.timestamp = ms;
        }
        controller.enqueue(record);
      },
    });
  }
}
