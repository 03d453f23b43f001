/**
 * Reading a record's fields out of a value: {@linkcode getField} follows a dotted path of property
 * names, {@linkcode parseTimestamp} reads a timestamp as found in data.
 *
 * @module
 */

import { InvalidRecordError } from "../errors.ts";
import { fieldGetter, show, toTimestampMs } from "./_record_fields.ts";

/**
 * Reads a field from an object by a dotted path of own property names (`"user.id"`; array items by
 * index: `"items.0"`).
 *
 * @param obj the object (any value: a non-object yields `undefined`)
 * @param path names separated by dots
 * @returns the field's value, or `undefined` when any step of the path is missing
 * @throws {TypeError} when the path is empty or has an empty name (`"a..b"`)
 *
 * @example Nested fields, array items and missing steps
 * ```ts
 * import assert from "node:assert/strict";
 * import { getField } from "./record_fields.ts";
 * assert.equal(getField({ user: { id: 7 } }, "user.id"), 7);
 * assert.equal(getField({ items: ["a", "b"] }, "items.1"), "b");
 * assert.equal(getField({ user: null }, "user.id"), undefined);
 * assert.throws(() => getField({}, "a..b"), TypeError);
 * ```
 */
export function getField(obj: unknown, path: string): unknown {
  return fieldGetter(path)(obj);
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
 * @example The forms of a timestamp
 * ```ts
 * import assert from "node:assert/strict";
 * import { InvalidRecordError } from "../errors.ts";
 * import { parseTimestamp } from "./record_fields.ts";
 * assert.equal(parseTimestamp("2024-05-01T12:00:00Z"), 1714564800000);
 * assert.equal(parseTimestamp("2024-05-01 14:00:00.250+02:00"), 1714564800250);
 * assert.equal(parseTimestamp("2024-05-01"), Date.UTC(2024, 4, 1)); // a date alone is UTC
 * assert.equal(parseTimestamp("1714564800000"), 1714564800000);
 * assert.equal(parseTimestamp(new Date(5)), 5);
 * assert.equal(parseTimestamp(null), undefined);
 * assert.throws(() => parseTimestamp("yesterday"), InvalidRecordError);
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
