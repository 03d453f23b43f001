/**
 * The C library's `pwrite(2)` through the runtime's FFI, for the writes reel makes most often:
 * a durable producer's batch and its `.high-watermark`, one of each per group commit. On Linux a
 * call costs about 250 ns less on Bun than `fs.writeSync` (350 against 600 ns for 1151 bytes to
 * tmpfs) and about 80 ns less on Deno: 0.5 µs of a durable round's 8 on Bun. Node (no FFI), Deno
 * without FFI permission and other systems get `undefined` and write through `node:fs`.
 *
 * @module
 */
import process from "node:process";
import { openNativeLibrary } from "./native_library.ts";
import { runtimeVersion } from "./runtime_version.ts";

/**
 * The most bytes one native call writes (a `pwrite` count must fit the 32-bit result it is read
 * as); longer writes go through `node:fs`.
 */
const MAX_NATIVE_WRITE_BYTES = 0x7fffffff;

type Pwrite = (fd: number, bytes: Uint8Array, length: number | bigint, position: number | bigint) => number;

function bindPwrite(): ((fd: number, bytes: Uint8Array, position: number) => number) | undefined {
  if (process.platform !== "linux") return undefined;
  let pwrite: Pwrite;
  try {
    const libc = openNativeLibrary("libc.so.6", {
      // ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset): the result is read
      // as its low 32 bits, which hold any count up to MAX_NATIVE_WRITE_BYTES, and -1.
      pwrite: { args: ["i32", "ptr", "u64", "i64"], returns: "i32" },
    });
    if (libc === undefined) return undefined;
    pwrite = libc.pwrite as Pwrite;
  } catch {
    return undefined; // no glibc (musl, a container without libc.so.6)
  }
  // Deno's fast calls take 64-bit integers as BigInts (a number takes its slow path); Bun's take
  // numbers.
  if (runtimeVersion().name === "deno") {
    return (fd, bytes, position) => pwrite(fd, bytes, BigInt(bytes.length), BigInt(position));
  }
  return (fd, bytes, position) => pwrite(fd, bytes, bytes.length, position);
}

const bound = bindPwrite();

/**
 * Whether {@linkcode pwriteNative} writes through the runtime's FFI in this process (Bun, and
 * Deno with FFI permission, on Linux with glibc).
 *
 * @example On Linux, Bun and Deno -A write natively, Node through node:fs
 * ```ts
 * import assert from "node:assert/strict";
 * import process from "node:process";
 * import { NATIVE_PWRITE } from "./native_pwrite.ts";
 * import { runtimeVersion } from "./runtime_version.ts";
 * if (process.platform === "linux") assert.equal(NATIVE_PWRITE, runtimeVersion().name !== "node");
 * ```
 */
export const NATIVE_PWRITE: boolean = bound !== undefined;

/**
 * Writes all of `bytes` at byte `position` of the open file `fd` with one `pwrite(2)` call
 * through the runtime's FFI, when it has one ({@linkcode NATIVE_PWRITE}).
 *
 * @param fd an open file descriptor
 * @param bytes what to write (at most 2 GiB − 1; none is not a write)
 * @param position the byte position in the file (a safe integer)
 * @returns the bytes written, which may be fewer than `bytes.length` (a short write); -1 when
 *   the call failed, or when it cannot be made here (no FFI, no bytes, too many): the caller then
 *   writes through `node:fs`, which makes the same write again and reports its error
 * @example Write a view's bytes (its offset in its buffer counts) at a byte position
 * ```ts
 * import assert from "node:assert/strict";
 * import * as fs from "node:fs";
 * import { NATIVE_PWRITE, pwriteNative } from "./native_pwrite.ts";
 * const path = `${Deno.makeTempDirSync()}/file`;
 * const fd = fs.openSync(path, "w+");
 * const written = pwriteNative(fd, new Uint8Array([9, 1, 2, 3]).subarray(1), 2);
 * if (NATIVE_PWRITE) {
 *   assert.equal(written, 3);
 *   assert.deepEqual([...fs.readFileSync(path)], [0, 0, 1, 2, 3]);
 * } else {
 *   assert.equal(written, -1);
 * }
 * fs.closeSync(fd);
 * ```
 */
export function pwriteNative(fd: number, bytes: Uint8Array, position: number): number {
  if (bound === undefined || bytes.length === 0 || bytes.length > MAX_NATIVE_WRITE_BYTES) return -1;
  return bound(fd, bytes, position);
}
