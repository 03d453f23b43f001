/**
 * CRC-32C (Castagnoli), the checksum of a RecordBatch v2.
 *
 * ```
 * CRC-32C => reflected polynomial 0x82F63B78, init 0xFFFFFFFF, final xor 0xFFFFFFFF
 * check   => crc32c("123456789") = 0xE3069283
 * ```
 *
 * Source: Apache Kafka `clients/src/main/java/org/apache/kafka/common/utils/Crc32C.java` and
 * `DefaultRecordBatch.java` (the CRC covers attributes to the end of the batch).
 *
 * Three implementations give the same value; the fastest that loads on this platform and runtime is
 * used (see {@linkcode CRC32C_IMPLEMENTATION}):
 *
 * - `"reel-native"`: reel's own native module (`native/crc32c/crc32c.c`, shipped prebuilt in
 *   `native/prebuilt/<platform>-<arch>/`): on an x86-64 server with AVX-512 and VPCLMULQDQ, inputs
 *   of 256 B and more folded with carry-less multiplications, 50–80 GB/s on 1 MiB and 17–24 GB/s
 *   on a 1151 B batch, a call included; else the CPU's CRC32 instruction on three interleaved
 *   chains, about 19 GB/s on 1 MiB and 8–11 GB/s on 1 KiB (SSE 4.2, PCLMULQDQ).
 *   Built for linux-x64; it loads through Node-API on Node, through `Deno.dlopen` on Deno when FFI
 *   is allowed (`--allow-ffi` or `-A`), and through `bun:ffi` on Bun.
 * - `"node-rs"`: `@node-rs/crc32` (native, SSE 4.2 / ARMv8 CRC instructions on one chain, about
 *   6 GB/s), prebuilt for many platforms.
 * - `"javascript"`: slice-by-16 tables from the `crc-32` package (SheetJS, `crc-32/crc32c.js`),
 *   about 1.5 GB/s; also used for inputs too short to be worth a native call.
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
import { fileURLToPath } from "node:url";
import CRC32C from "crc-32/crc32c.js";
import { nativeCodeAllowed, openNativeLibrary } from "../runtime/native_library.ts";
import { runtimeVersion } from "../runtime/runtime_version.ts";

type NativeCrc32c = (input: Uint8Array, start: number, end: number) => number;

/** Which CRC-32C implementation this process uses: see the module's documentation. */
export type Crc32cImplementation = "reel-native" | "node-rs" | "javascript";

const CHECK_INPUT = new TextEncoder().encode("123456789");
const CHECK_VALUE = 0xe3069283;

/**
 * Loads reel's module: through the runtime's FFI on Bun and Deno (a call costs about 20 ns on Bun
 * and 70 ns on Deno, against about 100 ns and 140 ns through Node-API: the most of a small
 * batch's checksum), through Node-API on Node.
 */
function loadReelNative(): NativeCrc32c | undefined {
  const process = (globalThis as { process?: { platform?: string; arch?: string } }).process;
  if (process?.platform === undefined || process.arch === undefined) return undefined;
  const file = `native/prebuilt/${process.platform}-${process.arch}/reel_crc32c.node`;
  const require = createRequire(import.meta.url);
  // From src/record/ in the repository, or dist/src/record/ in the npm package.
  for (const up of ["../../", "../../../"]) {
    try {
      let native: NativeCrc32c | undefined;
      const symbols = openNativeLibrary(fileURLToPath(new URL(up + file, import.meta.url)), {
        reel_crc32c_available: { args: [], returns: "u32" },
        reel_crc32c: { args: ["ptr", "u32", "u32"], returns: "u32" },
      });
      if (symbols !== undefined) {
        // Without the CPU's instruction the module must not be called.
        if (symbols.reel_crc32c_available() === 1) native = symbols.reel_crc32c as NativeCrc32c;
      } else {
        native = require(up + file).crc32c as NativeCrc32c | undefined;
      }
      // The module exports nothing when the CPU lacks the instruction; check the value before trusting it.
      if (native !== undefined && native(CHECK_INPUT, 0, CHECK_INPUT.length) === CHECK_VALUE) return native;
    } catch {
      // not built for this platform, not found from here, or FFI not allowed: try the next
    }
  }
  return undefined;
}

function loadNodeRs(): NativeCrc32c | undefined {
  try {
    const require = createRequire(import.meta.url);
    const crc = require("@node-rs/crc32").crc32c as (input: Uint8Array) => number;
    if (crc(CHECK_INPUT) >>> 0 !== CHECK_VALUE) return undefined;
    return (input, start, end) =>
      crc(start === 0 && end === input.length ? input : input.subarray(start, end)) >>> 0;
  } catch {
    return undefined; // no prebuilt binary for this platform: the JavaScript tables do it all
  }
}

// On Deno only with FFI permission already granted; without it the JavaScript tables are used.
const allowed = nativeCodeAllowed();
const reelNative = allowed ? loadReelNative() : undefined;
const native: NativeCrc32c | undefined = reelNative ?? (allowed ? loadNodeRs() : undefined);

/**
 * The CRC-32C implementation this process loaded: `"reel-native"`, `"node-rs"` or `"javascript"`
 * (see the module's documentation). All give the same values; they differ in speed.
 *
 * @example Every implementation gives the check value
 * ```ts
 * import assert from "node:assert/strict";
 * import { crc32c, CRC32C_IMPLEMENTATION } from "./crc32c.ts";
 * assert.ok(["reel-native", "node-rs", "javascript"].includes(CRC32C_IMPLEMENTATION));
 * assert.equal(crc32c(new TextEncoder().encode("123456789")), 0xe3069283);
 * ```
 */
export const CRC32C_IMPLEMENTATION: Crc32cImplementation = reelNative !== undefined
  ? "reel-native"
  : native !== undefined
  ? "node-rs"
  : "javascript";

/**
 * Inputs at least this long (bytes) go to the native implementation when one loaded; shorter ones
 * stay in JavaScript, where a call costs less (measured crossover: about 128 B for reel's module
 * through Node-API, 16 B or less through Bun's and Deno's FFI, 1 KiB for `@node-rs/crc32`).
 */
const NATIVE_MIN_BYTES = reelNative === undefined ? 1024 : runtimeVersion().name === "node" ? 128 : 16;

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
  if (native !== undefined && end - start >= NATIVE_MIN_BYTES) return native(bytes, start, end);
  return CRC32C.buf(start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end), 0) >>> 0;
}
