/**
 * Internal: the machinery behind `record_fields.ts` and the streams that read a record's key and
 * timestamp out of a value: compiled dotted field paths, timestamp parsing, and key conversion.
 *
 * @module
 */

import { InvalidRecordError } from "../errors.ts";

/** Reads one dotted field path from an object: compiled once, applied per record. */
export type FieldGetter = (obj: unknown) => unknown;

/**
 * Compiles a dotted field path into a {@linkcode FieldGetter}.
 *
 * @throws {TypeError} when the path is empty or has an empty name
 */
export function fieldGetter(path: string): FieldGetter {
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
export function toTimestampMs(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  let ms: number;
  if (typeof value === "number") ms = value;
  else if (typeof value === "string") ms = NUMERIC.test(value) ? Number(value) : parseIso(value);
  else if (value instanceof Date) ms = value.getTime();
  else return NaN;
  return Number.isFinite(ms) ? Math.trunc(ms) : NaN;
}

/** A value as it is shown in an error message: strings quoted and cut at 40 characters. */
export function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value);
  if (typeof value === "object" && value !== null && !(value instanceof Date)) {
    return `an ${Array.isArray(value) ? "array" : "object"}`;
  }
  return String(value);
}

/**
 * A timestamp field's value in ms, `undefined` when absent.
 *
 * @param raw the field's value
 * @param what what the field belongs to, for the error message (`record 3`, `line 3`)
 * @throws {InvalidRecordError} when the value is present but is neither ms since the epoch nor an
 *   ISO-8601 date
 */
export function readTimestamp(raw: unknown, what: string): number | undefined {
  const ms = toTimestampMs(raw);
  if (Number.isNaN(ms)) {
    throw new InvalidRecordError(
      `Cannot read the timestamp of ${what}: ${show(raw)} is neither ms since the epoch nor an ISO-8601 date`,
    );
  }
  return ms;
}

/**
 * A key field's value as a key: text and bytes as they are, numbers and booleans as text, objects
 * as JSON.
 *
 * @param value the key field's value
 * @param what what the field belongs to, for the error message (`record 3`, `line 3`)
 * @throws {InvalidRecordError} when an object has no JSON text: nested too deeply for the runtime
 *   to write (Bun's `JSON.stringify` overflows its stack at 100,000 levels), a cycle, a BigInt
 */
export function toKey(value: unknown, what: string): Uint8Array | string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === "string" || value instanceof Uint8Array) return value;
  if (typeof value === "object") {
    try {
      return JSON.stringify(value);
    } catch (err) {
      throw new InvalidRecordError(
        `Cannot use the key field of ${what} as a key: ${show(value)} has no JSON text (${
          (err as Error).message
        })`,
        { cause: err },
      );
    }
  }
  return String(value);
}
