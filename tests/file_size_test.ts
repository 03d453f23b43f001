// Issue 9's size rule, checked: no source file in src/ is over MAX_LINES lines, so that each file holds
// one concept a newcomer can read in one sitting. The files still over it are listed with their size
// at the time as a ceiling: a listed file may shrink (and leaves the list once it is under the rule),
// never grow, and no other file may cross the line.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");
const SRC = path.join(ROOT, "src");

/** The rule: "no file in src/ is over about 500 lines". */
const MAX_LINES = 500;

/** Files still over the rule, each with the most lines it may have (its size when it was listed). */
const STILL_OVER: Readonly<Record<string, number>> = {};

/** Every `.ts` file under `dir`, as paths relative to src/ with forward slashes. */
function sources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sources(full));
    else if (entry.name.endsWith(".ts")) out.push(path.relative(SRC, full).split(path.sep).join("/"));
  }
  return out;
}

/** Lines of a file as `wc -l` counts them. */
function lineCount(file: string): number {
  const text = fs.readFileSync(path.join(SRC, file), "utf8");
  return text.length === 0 ? 0 : text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
}

test("no file in src/ is over the size rule, and no listed file grew", () => {
  const files = sources(SRC);
  assert.ok(files.length > 50, `found only ${files.length} source files under ${SRC}`);
  const offenders: string[] = [];
  for (const file of files) {
    const lines = lineCount(file);
    const ceiling = STILL_OVER[file] ?? MAX_LINES;
    if (lines > ceiling) offenders.push(`${file}: ${lines} lines (at most ${ceiling})`);
  }
  assert.deepEqual(offenders, [], "files over the size rule");
});

test("the list of files still over the size rule holds only files that are", () => {
  const stale = Object.keys(STILL_OVER).filter((file) =>
    !fs.existsSync(path.join(SRC, file)) || lineCount(file) <= MAX_LINES
  );
  assert.deepEqual(stale, [], "listed files that no longer exist or are now under the rule: remove them");
});
