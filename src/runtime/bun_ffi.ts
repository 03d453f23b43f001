/**
 * A C library's functions through Bun's FFI (`bun:ffi`), where a call costs a fraction of a
 * Node-API call's (about 20 ns against 100 for reel's CRC-32C). Other runtimes get `undefined`.
 *
 * @module
 */
import { createRequire } from "node:module";
import { runtimeVersion } from "./runtime_version.ts";

/** One function's signature, in `bun:ffi`'s type names (`"ptr"`, `"u32"`, `"i32"`, ...). */
export interface FfiSignature {
  /** The argument types, in order. */
  args: string[];
  /** The return type. */
  returns: string;
}

/** The shape of the `bun:ffi` module this uses. */
interface BunFfi {
  dlopen(path: string, symbols: Record<string, FfiSignature>): {
    symbols: Record<string, (...args: unknown[]) => number>;
  };
}

/**
 * Opens the shared library at `path` through `bun:ffi` and returns its functions by name. A
 * `Uint8Array` argument of type `"ptr"` passes a pointer to its first byte, valid for the call.
 *
 * @param path the library's file path
 * @param symbols the functions to bind, by name
 * @returns the bound functions, or `undefined` when the runtime is not Bun
 * @throws {Error} what `dlopen` throws on Bun (no such file, a missing symbol)
 * @example Only Bun has it
 * ```ts
 * import assert from "node:assert/strict";
 * import { bunDlopen } from "./bun_ffi.ts";
 * const bound = bunDlopen("libc.so.6", { getpid: { args: [], returns: "i32" } });
 * if ("Bun" in globalThis) assert.equal(bound?.getpid(), process.pid);
 * else assert.equal(bound, undefined);
 * ```
 */
export function bunDlopen(
  path: string,
  symbols: Record<string, FfiSignature>,
): Record<string, (...args: unknown[]) => number> | undefined {
  if (runtimeVersion().name !== "bun") return undefined;
  const ffi = createRequire(import.meta.url)("bun:ffi") as BunFfi;
  return ffi.dlopen(path, symbols).symbols;
}
