/**
 * CRC-32C (Castagnoli), the checksum of a RecordBatch v2.
 *
 * ```
 * CRC-32C => reflected polynomial 0x82F63B78, init 0xFFFFFFFF, final xor 0xFFFFFFFF
 * check   => crc32c("123456789") = 0xE3069283
 * ```
 *
 * Source: Apache Kafka `clients/src/main/java/org/apache/kafka/common/utils/Crc32C.java` and
 * `DefaultRecordBatch.java` (the CRC covers attributes to the end of the batch). The table-driven
 * computation (slice-by-16) comes from the `crc-32` package (SheetJS, `crc-32/crc32c.js`).
 *
 * @example The check value
 * ```ts
 * import { crc32c } from "./crc32c.ts";
 * console.log(crc32c(new TextEncoder().encode("123456789")).toString(16)); // e3069283
 * ```
 *
 * @module
 */

import CRC32C from "crc-32/crc32c.js";

/**
 * Computes the CRC-32C of `bytes[start, end)`.
 *
 * @param bytes the data
 * @param start the first byte position included; defaults to 0
 * @param end the byte position just past the last byte included; defaults to `bytes.length`
 * @returns the checksum as an unsigned 32-bit integer (0 to 2^32 − 1)
 * @throws {RangeError} when `start`/`end` do not describe a range inside `bytes`
 *
 * @example Checksum of part of a buffer
 * ```ts
 * import { crc32c } from "./crc32c.ts";
 * const bytes = new TextEncoder().encode("xx123456789xx");
 * console.log(crc32c(bytes, 2, 11) === 0xe3069283); // true
 * ```
 */
export function crc32c(bytes: Uint8Array, start: number = 0, end: number = bytes.length): number {
  if (start === 0 && end === bytes.length) return CRC32C.buf(bytes, 0) >>> 0;
  if (!(start >= 0 && start <= end && end <= bytes.length)) {
    throw new RangeError(
      `Cannot compute CRC-32C of bytes [${start}, ${end}): the data has ${bytes.length} bytes`,
    );
  }
  return CRC32C.buf(bytes.subarray(start, end), 0) >>> 0;
}
