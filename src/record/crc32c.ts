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
 * computation (slice-by-16) comes from the `crc-32` package (SheetJS, `crc-32/crc32c.js`); inputs
 * of {@linkcode NATIVE_CRC_MIN_BYTES} or more go to `@node-rs/crc32` (native, SSE 4.2 / ARMv8 CRC
 * instructions, about 3× faster) when its prebuilt binary loads on this platform and runtime. Both
 * give the same value; the native one costs more per call, so small inputs stay in JavaScript.
 *
 * @example The check value
 * ```ts
 * import assert from "node:assert/strict";
 * import { crc32c } from "./crc32c.ts";
 * assert.equal(crc32c(new TextEncoder().encode("123456789")), 0xe3069283);
 * ```
 *
 * @module
 */

import { createRequire } from "node:module";
import CRC32C from "crc-32/crc32c.js";

/** Inputs at least this long (bytes) use the native CRC-32C when it is available. */
export const NATIVE_CRC_MIN_BYTES = 1024;

type NativeCrc32c = (input: Uint8Array, initialState?: number) => number;

function loadNative(): NativeCrc32c | undefined {
  try {
    const require = createRequire(import.meta.url);
    const native = require("@node-rs/crc32").crc32c as NativeCrc32c;
    // Check it against the CRC-32C check value before trusting it.
    return native(new TextEncoder().encode("123456789")) >>> 0 === 0xe3069283 ? native : undefined;
  } catch {
    return undefined; // no prebuilt binary for this platform: the JavaScript tables do it all
  }
}

const native = loadNative();

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
 * import assert from "node:assert/strict";
 * import { crc32c } from "./crc32c.ts";
 * const bytes = new TextEncoder().encode("xx123456789xx");
 * assert.equal(crc32c(bytes, 2, 11), 0xe3069283);
 * assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa); // RFC 3720 B.4: 32 zero bytes
 * // 4 KiB (the native path, when it loads) followed by its own CRC, little-endian, leaves
 * // CRC-32C's constant residue 0x48674BC7.
 * const framed = new Uint8Array(4096 + 4).fill(0xa5, 0, 4096);
 * new DataView(framed.buffer).setUint32(4096, crc32c(framed, 0, 4096), true);
 * assert.equal(crc32c(framed), 0x48674bc7);
 * assert.throws(() => crc32c(bytes, 5, 99), RangeError);
 * ```
 */
export function crc32c(bytes: Uint8Array, start: number = 0, end: number = bytes.length): number {
  if (!(start >= 0 && start <= end && end <= bytes.length)) {
    throw new RangeError(
      `Cannot compute CRC-32C of bytes [${start}, ${end}): the data has ${bytes.length} bytes`,
    );
  }
  const data = start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end);
  if (native !== undefined && data.length >= NATIVE_CRC_MIN_BYTES) return native(data) >>> 0;
  return CRC32C.buf(data, 0) >>> 0;
}
