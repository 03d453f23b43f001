// The layering rule of issue 9, checked from the imports of every file in src/.
//
// Data flows one way. The layers, lowest first:
//
//   errors.ts (and errors/) → runtime → record → log → producer | consumer → topic → streams | server | console → mod.ts → cli
//
// A module may import from its own layer's folder or from a lower layer, never from a higher one;
// the producer and the consumer (one layer, two folders) never import each other. File I/O goes
// through src/runtime/ only: no other folder imports node:fs (or fs, fs/promises), and what they
// reach through it never opens, writes, syncs, cuts, renames or removes a file itself. And only
// src/runtime/ knows which runtime it runs on: no other module (nor mod.ts) uses the Deno or Bun
// globals, a `bun:` module or `import.meta.main`, so everything else runs on Node as it is.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");
const SRC = path.join(ROOT, "src");

/** Each folder of src/ (and the two files that are layers of their own) with its rank, lowest first. */
const LAYERS: Readonly<Record<string, number>> = {
  "errors.ts": 0,
  errors: 0, // the error classes, one file a family, re-exported by errors.ts
  runtime: 1,
  record: 2,
  log: 3,
  producer: 4,
  consumer: 4,
  topic: 5,
  streams: 6,
  server: 6,
  console: 6,
  cluster: 6,
  "mod.ts": 7, // the public API, outside src/: only the CLI may import it
  cli: 8,
};

/** Folders of one layer that still may not import each other. */
const SIBLINGS_APART: readonly [string, string][] = [["producer", "consumer"]];

/** The modules that may do file I/O themselves. */
const FILE_IO_LAYER = "runtime";
const FILE_IO_MODULES = new Set(["node:fs", "fs", "node:fs/promises", "fs/promises"]);

/**
 * The module specifiers a source file imports or re-exports: static `import … from`, `import "…"`,
 * `export … from` and dynamic `import("…")`. Comments are dropped first, so the imports of a
 * doc comment's example do not count.
 */
export function importsOf(source: string): string[] {
  const code = withoutComments(source);
  const out: string[] = [];
  const patterns = [
    /^\s*(?:import|export)\s+(?:type\s+)?[^;'"]*?\bfrom\s*["']([^"']+)["']/gm,
    /^\s*import\s*["']([^"']+)["']/gm,
    /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const re of patterns) for (const m of code.matchAll(re)) out.push(m[1]);
  return out;
}

/**
 * A source file without its block comments and whole-line `//` comments (a block comment's lines are
 * kept as empty lines, so that line numbers stay the file's).
 */
function withoutComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, "")).replace(/^\s*\/\/.*$/gm, "");
}

/** What in a source file's code only Deno or only Bun has: `Deno.…`, `Bun.…`, `"bun:…"`, `import.meta.main`. */
export function runtimeSpecificUses(source: string): string[] {
  const re =
    /\b(?:Deno|Bun)\s*\.\s*\w+|\bglobalThis\s*\.\s*(?:Deno|Bun)\b|["'](?:Deno|Bun)["']\s+in\b|["']bun:\w*|\bimport\.meta\.main\b/g;
  return [...withoutComments(source).matchAll(re)].map((m) => m[0]);
}

/** The layer a file belongs to: its first folder under src/ (errors/ for the error classes), the file itself for src/errors.ts, or "mod.ts". */
function layerOf(file: string): string | undefined {
  const rel = path.relative(SRC, file).split(path.sep);
  if (rel[0] === "..") return path.relative(ROOT, file) === "mod.ts" ? "mod.ts" : undefined;
  return rel.length === 1 ? rel[0] : rel[0];
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(p));
    else if (/\.(ts|mts|js|mjs)$/.test(entry.name)) out.push(p);
  }
  return out.sort();
}

interface Violation {
  file: string;
  specifier: string;
  why: string;
}

/** Every import of `files` that breaks the rule. */
function violations(
  files: readonly string[],
  read: (file: string) => string,
  allowFileIo: ReadonlySet<string> = new Set(),
): Violation[] {
  const out: Violation[] = [];
  for (const file of files) {
    const from = layerOf(file);
    const rel = path.relative(ROOT, file);
    if (from === undefined || !(from in LAYERS)) {
      out.push({ file: rel, specifier: "", why: `${from ?? rel} is not a layer of LAYERS` });
      continue;
    }
    for (const specifier of importsOf(read(file))) {
      if (!specifier.startsWith(".")) {
        if (FILE_IO_MODULES.has(specifier) && from !== FILE_IO_LAYER && !allowFileIo.has(rel)) {
          out.push({ file: rel, specifier, why: "file I/O goes through src/runtime/ only" });
        }
        continue;
      }
      const target = path.resolve(path.dirname(file), specifier);
      const to = layerOf(target);
      if (to === undefined || !(to in LAYERS)) {
        out.push({ file: rel, specifier, why: "it imports a file outside the layers" });
      } else if (LAYERS[to] > LAYERS[from]) {
        out.push({
          file: rel,
          specifier,
          why: `${from} (layer ${LAYERS[from]}) imports ${to} (layer ${LAYERS[to]})`,
        });
      } else if (SIBLINGS_APART.some(([a, b]) => (from === a && to === b) || (from === b && to === a))) {
        out.push({ file: rel, specifier, why: `${from} and ${to} never import each other` });
      }
    }
  }
  return out;
}

/**
 * The calls on the `fs` that src/runtime/file_system.ts re-exports which change the file system or
 * open a file by path. Outside src/runtime/ they go through the runtime layer instead: opens through
 * `openFile` (never through a symbolic link), writes, syncs, truncations, renames and removals
 * through the fault seam (`writeFully`, `datasync`, `syncFile`, `truncateFile`, `renameFile`,
 * `removeFile`, `removeDirectory`), so the fault injector sees every one of them (issue 9, item 4).
 */
const FS_CALLS_THROUGH_RUNTIME =
  /\bfs\.(openSync|open|writeSync|write|writeFileSync|writeFile|appendFileSync|appendFile|fsyncSync|fsync|fdatasyncSync|fdatasync|ftruncateSync|ftruncate|truncateSync|truncate|renameSync|rename|rmSync|rm|unlinkSync|unlink|rmdirSync|rmdir|linkSync|link|symlinkSync|symlink|copyFileSync|copyFile|utimesSync|utimes)\(/g;

/** Files outside src/runtime/ that may still call those, and why. */
const FS_CALLS_ALLOWED: Readonly<Record<string, string>> = {
  "src/cli/commands/dump.ts":
    "reads a file named on the command line, wherever it is (a link is the user's own)",
};

/** Each call of `FS_CALLS_THROUGH_RUNTIME` in a source file's code (comments dropped), as `line: call`. */
function fsCallsOf(source: string): string[] {
  const out: string[] = [];
  const lines = withoutComments(source).split("\n");
  lines.forEach((line, i) => {
    for (const m of line.matchAll(FS_CALLS_THROUGH_RUNTIME)) out.push(`${i + 1}: fs.${m[1]}`);
  });
  return out;
}

describe("layering", () => {
  test("no module in src/ imports from a layer above it", () => {
    const files = sourceFiles(SRC);
    assert.ok(files.length > 50, `expected the source tree, found ${files.length} files`);
    const found = violations(files, (f) => fs.readFileSync(f, "utf8"));
    assert.deepEqual(found, [], found.map((v) => `${v.file}: ${v.specifier}: ${v.why}`).join("\n"));
  });

  test("outside src/runtime/, files are opened, written, synced, cut, renamed and removed only through it", () => {
    const found = sourceFiles(SRC)
      .filter((f) =>
        layerOf(f) !== "runtime" && !(path.relative(ROOT, f).split(path.sep).join("/") in FS_CALLS_ALLOWED)
      )
      .flatMap((f) =>
        fsCallsOf(fs.readFileSync(f, "utf8")).map((call) => `${path.relative(ROOT, f)}:${call}`)
      );
    assert.deepEqual(found, []);
    // The check finds calls in code, and not in a comment or a doc example.
    assert.deepEqual(
      fsCallsOf(
        '/**\n * fs.writeFileSync(p, "x");\n */\nfs.renameSync(a, b);\n// fs.rmSync(p)\nconst n = fs.readdirSync(d);\n',
      ),
      ["4: fs.renameSync"],
    );
  });

  test("nothing outside src/runtime/ uses what only Deno or only Bun has", () => {
    const files = [...sourceFiles(SRC), path.join(ROOT, "mod.ts")].filter((f) => layerOf(f) !== "runtime");
    const found = files.flatMap((f) =>
      runtimeSpecificUses(fs.readFileSync(f, "utf8")).map((use) => `${path.relative(ROOT, f)}: ${use}`)
    );
    assert.deepEqual(found, []);
    // The check itself finds each kind, and not what a comment says.
    assert.deepEqual(
      runtimeSpecificUses(
        '// Deno.exit(1)\nDeno.exit(1);\nconst f = Bun.file("x");\nif ("Deno" in globalThis) {}\n' +
          'import { dlopen } from "bun:ffi";\nif (import.meta.main) {}\n/** Bun.serve */\n',
      ),
      ["Deno.exit", "Bun.file", '"Deno" in', '"bun:ffi', "import.meta.main"],
    );
  });

  test("mod.ts re-exports only from src/", () => {
    const found = violations([path.join(ROOT, "mod.ts")], (f) => fs.readFileSync(f, "utf8"));
    assert.deepEqual(found, []);
    assert.ok(importsOf(fs.readFileSync(path.join(ROOT, "mod.ts"), "utf8")).length > 5);
  });

  test("every subpath export of deno.json and package.json names the same existing module", () => {
    const deno = JSON.parse(fs.readFileSync(path.join(ROOT, "deno.json"), "utf8")).exports;
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).exports;
    // npm gets what tsc builds from each module into dist/ (tsconfig.build.json): types and JavaScript.
    const built = (target: string, ext: string) => `./dist/${target.slice(2).replace(/\.ts$/, ext)}`;
    assert.deepEqual(
      pkg,
      Object.fromEntries(
        Object.entries(deno as Record<string, string>).map((
          [name, target],
        ) => [name, { types: built(target, ".d.ts"), default: built(target, ".js") }]),
      ),
    );
    const buildFiles = JSON.parse(fs.readFileSync(path.join(ROOT, "tsconfig.build.json"), "utf8")).files;
    for (const [name, target] of Object.entries(deno as Record<string, string>)) {
      assert.ok(fs.existsSync(path.join(ROOT, target)), `${name} → ${target} does not exist`);
      assert.ok(buildFiles.includes(target.slice(2)), `${target} is not in tsconfig.build.json's files`);
    }
    for (const sub of ["./record", "./log", "./producer", "./consumer"]) assert.ok(sub in deno, sub);
  });

  test("the checker finds an upward import, a sibling import and file I/O outside runtime", () => {
    const fake: Record<string, string> = {
      [path.join(SRC, "log", "a.ts")]: 'import { Topic } from "../topic/topic.ts";\n',
      [path.join(SRC, "producer", "b.ts")]: 'import type {\n  X,\n} from "../consumer/c.ts";\n',
      [path.join(SRC, "record", "c.ts")]: 'import * as fs from "node:fs";\nexport * from "../errors.ts";\n',
      [path.join(SRC, "runtime", "d.ts")]:
        'import * as fs from "node:fs";\nconst m = await import("../log/x.ts");\n',
      [path.join(SRC, "consumer", "e.ts")]:
        '/**\n * ```ts\n * import { open } from "../../mod.ts";\n * ```\n */\n// import "../cli/main.ts";\nimport { PartitionLog } from "../log/partition_log.ts";\n',
    };
    const found = violations(Object.keys(fake), (f) => fake[f]);
    assert.deepEqual(found.map((v) => `${v.file} ${v.specifier}`), [
      "src/log/a.ts ../topic/topic.ts",
      "src/producer/b.ts ../consumer/c.ts",
      "src/record/c.ts node:fs",
      "src/runtime/d.ts ../log/x.ts",
    ]);
  });
});
