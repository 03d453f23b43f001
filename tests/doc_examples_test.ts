// Every `@example` in the source's doc comments must check its result, so that breaking the
// function it shows fails `npm test` (`deno test --doc src/ mod.ts` runs them). This test reads
// every doc comment in src/**/*.ts and mod.ts and fails for an example that:
// - has no title (`@example Title`, as Deno's std writes them);
// - has no ```ts code block, or a block Deno's doc runner skips (`ignore`, `no-eval`);
// - never calls `assert` imported from "node:assert/strict" (`assert(...)`, `assert.equal(...)`);
// - prints a value and states it in a comment instead of checking it (`console.log(x); // 42`,
//   `// expected ...`, `// => ...`).

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * Files (or folders, ending in `/`) whose examples may skip these checks for a while, during a
 * restructuring. Empty: every example in src/ and mod.ts is titled and asserts. Keep it so.
 */
const PENDING: readonly string[] = [];

/** One `@example` found in a doc comment. */
interface DocExample {
  /** The file, relative to the repository root, with `/` separators. */
  file: string;
  /** The 1-based line of the `@example` tag. */
  line: number;
  /** The text after `@example` on its line (empty when untitled). */
  title: string;
  /** The example's text up to the next tag or the end of the comment, `*` prefixes removed. */
  body: string[];
}

/**
 * Extracts every `@example` from the doc comments (`/** ... *\/`) of a TypeScript source.
 *
 * @param file the file name to report
 * @param source the file's text
 * @returns the examples in source order
 */
function extractExamples(file: string, source: string): DocExample[] {
  const examples: DocExample[] = [];
  for (const match of source.matchAll(/\/\*\*[\s\S]*?\*\//g)) {
    const firstLine = source.slice(0, match.index).split("\n").length;
    const lines = match[0].split("\n").map((l) =>
      l.replace(/^\s*\/\*\*\s?/, "").replace(/\s*\*\/\s*$/, "").replace(/^\s*\*(?: |$)/, "")
    );
    let current: DocExample | undefined;
    let inFence = false;
    lines.forEach((text, i) => {
      if (/^\s*```/.test(text)) inFence = !inFence;
      if (!inFence && /^@\w+/.test(text)) {
        current = undefined;
        const tag = /^@example(?:\s+(.*))?$/.exec(text);
        if (tag) {
          current = { file, line: firstLine + i, title: (tag[1] ?? "").trim(), body: [] };
          examples.push(current);
        }
        return;
      }
      current?.body.push(text);
    });
  }
  return examples;
}

/** The ```-fenced code blocks of an example: each block's info string and its code. */
function codeBlocks(body: string[]): { info: string; code: string }[] {
  const blocks: { info: string; code: string }[] = [];
  let open: { info: string; lines: string[] } | undefined;
  for (const line of body) {
    const fence = /^\s*```\s*(.*)$/.exec(line);
    if (fence && open === undefined) open = { info: fence[1].trim(), lines: [] };
    else if (fence && open !== undefined) {
      blocks.push({ info: open.info, code: open.lines.join("\n") });
      open = undefined;
    } else open?.lines.push(line);
  }
  return blocks;
}

/** The code without its string literals' contents and without comments, for finding calls. */
function stripStringsAndComments(code: string): string {
  return code
    .replace(/"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`/g, '""')
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/\/\/.*$/gm, "");
}

/**
 * What is wrong with an example, or nothing.
 *
 * @param example the example
 * @returns one sentence per problem, empty when the example checks its result
 */
function problemsOf(example: DocExample): string[] {
  const problems: string[] = [];
  if (example.title === "") problems.push("it has no title (write `@example What it shows`)");
  const blocks = codeBlocks(example.body);
  const runnable = blocks.filter((b) => /^(ts|typescript|js|javascript|tsx|jsx)\b/.test(b.info));
  if (runnable.length === 0) {
    problems.push("it has no ```ts code block for `deno test --doc` to run");
    return problems;
  }
  for (const block of runnable) {
    if (/\b(ignore|no-eval)\b/.test(block.info)) {
      problems.push(`its code block is marked \`${block.info}\`, so it never runs`);
    }
  }
  const code = runnable.map((b) => b.code).join("\n");
  const calls = stripStringsAndComments(code);
  const importsAssert = /import\s+assert\b[^;]*from\s+["']node:assert\/strict["']/.test(code);
  if (!importsAssert || !/\bassert(?:\.\w+)?\s*\(/.test(calls)) {
    problems.push(
      'it checks nothing: `import assert from "node:assert/strict"` and assert its result ' +
        "(`assert.equal`, `assert.deepEqual`, `assert.throws`, ...)",
    );
  }
  code.split("\n").forEach((line) => {
    const printOnly = /\bconsole\.(log|info|dir)\s*\(.*\/\/\s*\S/.test(line) ||
      /\/\/\s*(expected\b|=>|->|→|prints\b|logs\b|outputs?\b)/i.test(line);
    if (printOnly) {
      problems.push(`it states a result in a comment instead of asserting it: \`${line.trim()}\``);
    }
  });
  return problems;
}

function sourceFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...sourceFiles(path));
    else if (entry.isFile() && entry.name.endsWith(".ts")) files.push(path);
  }
  return files;
}

function repoPath(path: string): string {
  return relative(root, path).split("\\").join("/");
}

function isPending(file: string): boolean {
  return PENDING.some((p) => p.endsWith("/") ? file.startsWith(p) : file === p);
}

const files = [...sourceFiles(join(root, "src")), join(root, "mod.ts")].map((path) => ({
  file: repoPath(path),
  source: readFileSync(path, "utf8"),
})).sort((a, b) => a.file < b.file ? -1 : 1);
const examples = files.flatMap(({ file, source }) => extractExamples(file, source));

describe("doc comment examples", () => {
  test("every @example outside the pending list is titled and asserts its result", () => {
    const failures = examples
      .filter((e) => !isPending(e.file))
      .flatMap((e) => problemsOf(e).map((p) => `${e.file}:${e.line} @example ${e.title}: ${p}`));
    assert.deepEqual(failures, [], `\n${failures.join("\n")}\n`);
  });

  test("the source has examples to check (the extraction finds them)", () => {
    assert.ok(examples.length >= 100, `found only ${examples.length} examples`);
    assert.ok(examples.every((e) => e.body.length > 0));
  });

  test("problemsOf() flags an untitled, print-only example and passes an asserting one", () => {
    const src = [
      "/**",
      " * Doubles.",
      " *",
      " * @example",
      " * ```ts",
      " * console.log(double(2)); // 4",
      " * ```",
      " */",
      "/**",
      " * Halves.",
      " *",
      " * @example Half of 4",
      " * ```ts",
      ' * import assert from "node:assert/strict";',
      " * assert.equal(half(4), 2);",
      " * ```",
      " * @param x a number",
      " */",
    ].join("\n");
    const [bad, good] = extractExamples("x.ts", src);
    assert.equal(bad.line, 4);
    assert.equal(good.title, "Half of 4");
    assert.equal(problemsOf(bad).length, 3);
    assert.deepEqual(problemsOf(good), []);
    // An assertion inside a string or a comment does not count.
    const fake = extractExamples(
      "y.ts",
      '/**\n * @example T\n * ```ts\n * import assert from "node:assert/strict";\n * // assert.equal(1, 1)\n * const s = "assert(1)";\n * ```\n */',
    )[0];
    assert.equal(problemsOf(fake).length, 1);
  });
});
