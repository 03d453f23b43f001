/**
 * Whether a module is the program's entry point: `import.meta.main` where the runtime has it (Deno,
 * Bun, Node from 24.2); on an older Node, whether the script Node was started with
 * (`process.argv[1]`, links resolved) is the module's own file.
 *
 * @module
 */
import fs from "node:fs";
import process from "node:process";
import { pathToFileURL } from "node:url";

/**
 * Whether the module whose `import.meta` is given is the program's entry point.
 *
 * @param meta the module's `import.meta`
 * @returns `true` when the runtime was started with this module as its script
 * @example A module imported by another is not the entry point
 * ```ts
 * import assert from "node:assert/strict";
 * import { isMainModule } from "./main_module.ts";
 * assert.equal(isMainModule({ url: "file:///not/the/entry/point.ts" } as ImportMeta), false);
 * ```
 */
export function isMainModule(meta: ImportMeta): boolean {
  const main = (meta as { main?: unknown }).main;
  if (typeof main === "boolean") return main;
  const script = process.argv[1];
  if (!script) return false;
  try {
    return pathToFileURL(fs.realpathSync(script)).href === meta.url;
  } catch {
    return false;
  }
}
