/**
 * A C library's functions through the runtime's foreign function interface: `bun:ffi` on Bun and
 * `Deno.dlopen` on Deno, where a call costs a fraction of a Node-API call's (reel's CRC-32C of a
 * 1 KiB batch: about 20 ns of call on Bun and 70 ns on Deno, against 100 ns and 140 ns through
 * Node-API). Node gets `undefined` (it has no FFI), and so does Deno without FFI permission
 * (asking for it would prompt the user in a terminal).
 *
 * @module
 */
import { createRequire } from "node:module";
import { runtimeVersion } from "./runtime_version.ts";

/**
 * A C type, in `bun:ffi`'s names: `"ptr"` (an argument passed as a `Uint8Array`, a pointer to its
 * first byte valid for the call), `"u32"`, `"i32"`, and for arguments only `"u64"`, `"i64"` (a
 * number on Bun; a BigInt on Deno, whose fast calls take numbers only on a slow path).
 */
export type FfiType = "ptr" | "u32" | "i32" | "u64" | "i64";

/** One function's signature. */
export interface FfiSignature {
  /** The argument types, in order. */
  args: FfiType[];
  /** The return type (`"u32"` or `"i32"`). */
  returns: "u32" | "i32";
}

/** The shape of the `bun:ffi` module this uses. */
interface BunFfi {
  dlopen(path: string, symbols: Record<string, FfiSignature>): {
    symbols: Record<string, (...args: unknown[]) => number>;
  };
}

/** The shape of `Deno.dlopen` and the permission query this uses. */
interface DenoFfi {
  dlopen(
    path: string,
    symbols: Record<string, { parameters: string[]; result: string }>,
  ): { symbols: Record<string, (...args: unknown[]) => number> };
  permissions: { querySync(descriptor: { name: "ffi" }): { state: string } };
}

/**
 * Opens the shared library at `path` through the runtime's FFI and returns its functions by name.
 *
 * @param path the library's file path, or a name the system's loader finds (`"libc.so.6"`)
 * @param symbols the functions to bind, by name
 * @returns the bound functions; `undefined` on Node, and on Deno without FFI permission
 * @throws {Error} what the runtime's `dlopen` throws (no such file, a missing symbol)
 * @example `getpid` from the C library, where the runtime has an FFI
 * ```ts
 * import assert from "node:assert/strict";
 * import { openNativeLibrary } from "./native_library.ts";
 * const bound = openNativeLibrary("libc.so.6", { getpid: { args: [], returns: "i32" } });
 * if ("Deno" in globalThis || "Bun" in globalThis) assert.equal(bound?.getpid(), process.pid);
 * else assert.equal(bound, undefined); // Node has no FFI
 * ```
 */
export function openNativeLibrary(
  path: string,
  symbols: Record<string, FfiSignature>,
): Record<string, (...args: unknown[]) => number> | undefined {
  const runtime = runtimeVersion().name;
  if (runtime === "bun") {
    const ffi = createRequire(import.meta.url)("bun:ffi") as BunFfi;
    return ffi.dlopen(path, symbols).symbols;
  }
  if (runtime !== "deno" || !nativeCodeAllowed()) return undefined;
  const deno = (globalThis as unknown as { Deno: DenoFfi }).Deno;
  const definitions: Record<string, { parameters: string[]; result: string }> = {};
  for (const [name, { args, returns }] of Object.entries(symbols)) {
    // Deno's "buffer" takes a typed array, as bun:ffi's "ptr" does.
    definitions[name] = { parameters: args.map((t) => t === "ptr" ? "buffer" : t), result: returns };
  }
  return deno.dlopen(path, definitions).symbols;
}

/**
 * Whether native code (an FFI library or a Node-API module) may be loaded: on Deno only with FFI
 * permission already granted (asking would prompt the user in a terminal); always elsewhere.
 *
 * @returns `false` on Deno without `--allow-ffi` (or `-A`)
 * @example Tests run Deno with -A
 * ```ts
 * import assert from "node:assert/strict";
 * import { nativeCodeAllowed } from "./native_library.ts";
 * assert.equal(nativeCodeAllowed(), true);
 * ```
 */
export function nativeCodeAllowed(): boolean {
  if (runtimeVersion().name !== "deno") return true;
  const deno = (globalThis as unknown as { Deno: DenoFfi }).Deno;
  try {
    return deno.permissions.querySync({ name: "ffi" }).state === "granted";
  } catch {
    return false;
  }
}
