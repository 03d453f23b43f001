/**
 * Files of an installed npm package (a browser script, its stylesheet, its licence), found by
 * Node's module resolution from this module: `node_modules/` as `npm ci` leaves it, which Deno,
 * Bun and Node all resolve the same way. The web console serves its chart library this way.
 *
 * @module
 */
import { createRequire } from "node:module";
import { readRegularFile } from "./file_system.ts";

/**
 * Reads a file of an installed package.
 *
 * @param specifier the package and the file's path inside it, e.g. `"uplot/dist/uPlot.min.css"`
 * @returns the file's bytes, or `undefined` when the package or the file is not installed (a
 * Deno run with no `node_modules/`, for instance)
 * @throws {StorageError} when the path resolves to something other than a regular file
 *
 * @example Read the licence of the console's chart library (uPlot, MIT)
 * ```ts
 * import assert from "node:assert/strict";
 * import { readPackageFile } from "./package_file.ts";
 * const licence = new TextDecoder().decode(readPackageFile("uplot/LICENSE"));
 * assert.match(licence, /The MIT License/);
 * assert.equal(readPackageFile("uplot/no-such-file.js"), undefined);
 * ```
 */
export function readPackageFile(specifier: string): Uint8Array | undefined {
  let path: string;
  try {
    path = createRequire(import.meta.url).resolve(specifier);
  } catch {
    return undefined;
  }
  try {
    return readRegularFile(path);
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") return undefined;
    throw err;
  }
}
