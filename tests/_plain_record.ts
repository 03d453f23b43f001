// A consumed record in a form assert.deepEqual can compare, and that JSON carries from one runtime
// to another: keys, values and header values as hex strings (or null).
import type { ConsumedRecord } from "../mod.ts";

/**
 * Bytes as lowercase hex, two digits a byte.
 *
 * @param b the bytes, or null
 * @returns the hex string, or null
 */
export const hex = (
  b: Uint8Array | null,
): string | null => (b === null ? null : Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(""));

/**
 * A consumed record's partition, offset, timestamp, key, value and headers, bytes as hex.
 *
 * @param r the record
 * @returns its comparable form
 */
export function plain(r: ConsumedRecord): {
  partition: number;
  offset: number;
  timestamp: number;
  key: string | null;
  value: string | null;
  headers: (string | null)[][];
} {
  return {
    partition: r.partition,
    offset: r.offset,
    timestamp: r.timestamp,
    key: hex(r.key),
    value: hex(r.value),
    headers: r.headers.map((h) => [h.key, hex(h.value)]),
  };
}
