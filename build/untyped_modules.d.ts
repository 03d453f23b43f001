// Declarations for `tsc -p tsconfig.build.json` (the npm build): these packages ship no types.
// Deno types such imports as `any` by itself; src/record/compression.ts types what it uses.
declare module "lz4js";
declare module "lz4js/xxh32.js";
declare module "snappyjs";
