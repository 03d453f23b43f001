// Shared by open_file_test.ts and its Deno child (_open_file_child.ts): openFile in every mode on
// every kind of entry, and what each open left behind.

import * as fs from "node:fs";
import * as path from "node:path";
import { openFileAndSize, type OpenMode } from "../../src/runtime/file_system.ts";
import { StorageError } from "../../src/errors.ts";

export const MODES: OpenMode[] = ["r", "r+", "w+", "w", "wx"];
export const ENTRIES = ["file", "missing", "link to a file", "dangling link", "directory"] as const;

/** Where the case of `entry` and `mode` lies under `dir`: its entry, and a link's target. */
function casePaths(dir: string, entry: string, mode: OpenMode): { name: string; target: string } {
  const base = path.join(dir, `${ENTRIES.indexOf(entry as typeof ENTRIES[number])}-${MODES.indexOf(mode)}`);
  return { name: path.join(base, "00000000000000000000.log"), target: path.join(base, "target") };
}

/** Makes every case's entry under `dir` (a Deno limited to a directory cannot make links). */
export function prepareCases(dir: string): void {
  for (const entry of ENTRIES) {
    for (const mode of MODES) {
      const { name, target } = casePaths(dir, entry, mode);
      fs.mkdirSync(path.dirname(name));
      if (entry === "file") fs.writeFileSync(name, "keep");
      if (entry === "link to a file") {
        fs.writeFileSync(target, "keep");
        fs.symlinkSync(target, name);
      }
      if (entry === "dangling link") fs.symlinkSync(target, name);
      if (entry === "directory") fs.mkdirSync(name);
    }
  }
}

/**
 * For each case {@linkcode prepareCases} made under `dir`: what `openFileAndSize` gave (`"size N"`,
 * `"StorageError"` or the error's code), then what is left: the entry's kind and a link's target's
 * contents (`"none"` when there is none).
 */
export function openFileOutcomes(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of ENTRIES) {
    for (const mode of MODES) {
      const { name, target } = casePaths(dir, entry, mode);
      let result: string;
      try {
        const { fd, size } = openFileAndSize(name, mode);
        fs.closeSync(fd);
        result = `size ${size}`;
      } catch (err) {
        result = err instanceof StorageError ? "StorageError" : String((err as { code?: string }).code);
      }
      const st = fs.lstatSync(name, { throwIfNoEntry: false });
      const left = st === undefined
        ? "nothing"
        : st.isSymbolicLink()
        ? "link"
        : st.isDirectory()
        ? "directory"
        : `file "${fs.readFileSync(name, "utf8")}"`;
      const targetLeft = fs.existsSync(target) ? `"${fs.readFileSync(target, "utf8")}"` : "none";
      out[`${entry}, ${mode}`] = `${result}; ${left}; target ${targetLeft}`;
    }
  }
  return out;
}

/** What every runtime, under any permissions, must give. */
export function expectedOutcomes(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const mode of MODES) {
    const emptied = mode === "w+" || mode === "w";
    out[`file, ${mode}`] = mode === "wx"
      ? `EEXIST; file "keep"; target none`
      : `size ${emptied ? 0 : 4}; file "${emptied ? "" : "keep"}"; target none`;
    out[`missing, ${mode}`] = mode.startsWith("r")
      ? "ENOENT; nothing; target none"
      : `size 0; file ""; target none`;
    // "wx" answers EEXIST for any entry, as open(2) does with O_CREAT | O_EXCL.
    const refused = mode === "wx" ? "EEXIST" : "StorageError";
    out[`link to a file, ${mode}`] = `${refused}; link; target "keep"`;
    out[`dangling link, ${mode}`] = `${refused}; link; target none`;
    out[`directory, ${mode}`] = `${refused}; directory; target none`;
  }
  return out;
}
