/**
 * Which runtime reel runs on (Deno, Bun or Node) and its version, for the few features that need a
 * newer one than the rest of reel (`connect()`'s Kafka client needs Node 22.22 or later).
 *
 * @module
 */
import process from "node:process";

/** A runtime reel runs on. */
export type RuntimeName = "deno" | "bun" | "node";

/** The runtime and its version. */
export interface RuntimeVersion {
  /** `"deno"`, `"bun"` or `"node"`. */
  name: RuntimeName;
  /** Its own version (`Deno.version.deno`, `process.versions.bun`, `process.versions.node`), as `"22.22.0"`. */
  version: string;
}

/**
 * The runtime this process runs on, and its version.
 *
 * @returns its name and version
 * @example The version is three numbers
 * ```ts
 * import assert from "node:assert/strict";
 * import { runtimeVersion } from "./runtime_version.ts";
 * const { name, version } = runtimeVersion();
 * assert.equal(name, "deno");
 * assert.match(version, /^\d+\.\d+\.\d+/);
 * ```
 */
export function runtimeVersion(): RuntimeVersion {
  const deno = (globalThis as { Deno?: { version?: { deno?: string } } }).Deno;
  if (deno !== undefined) return { name: "deno", version: deno.version?.deno ?? "0.0.0" };
  if (process.versions.bun !== undefined) return { name: "bun", version: process.versions.bun };
  return { name: "node", version: process.versions.node };
}

/**
 * Whether a version (`"22.22.0"`) is at least another, compared number by number.
 *
 * @param version the version to check
 * @param minimum the least accepted
 * @returns `true` when `version` ≥ `minimum`
 * @example Node 20 is older than 22.22
 * ```ts
 * import assert from "node:assert/strict";
 * import { versionAtLeast } from "./runtime_version.ts";
 * assert.equal(versionAtLeast("20.20.2", "22.22.0"), false);
 * assert.equal(versionAtLeast("22.22.0", "22.22.0"), true);
 * assert.equal(versionAtLeast("24.1.0", "22.22.0"), true);
 * ```
 */
export function versionAtLeast(version: string, minimum: string): boolean {
  const a = version.split(/[.-]/).map((p) => Number.parseInt(p, 10) || 0);
  const b = minimum.split(/[.-]/).map((p) => Number.parseInt(p, 10) || 0);
  for (let i = 0; i < 3; i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return true;
}
