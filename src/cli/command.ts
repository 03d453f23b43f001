/**
 * What every `reel` command provides, and helpers they share.
 *
 * @module
 */
import { fs } from "../runtime/file_system.ts";
import { type LogDirectory, open } from "../../mod.ts";
import type { OptionSpecs, OptionValues } from "./args.ts";

/** A `reel` subcommand. */
export interface Command {
  /** The name typed after `reel`. */
  name: string;
  /** One line for `reel --help`. */
  summary: string;
  /** The text `reel <name> --help` prints. */
  help: string;
  /** The command's options (besides `--help` and `--verbose`). */
  options: OptionSpecs;
  /** How many positional arguments it takes. @default none */
  positionals?: { min: number; max: number };
  /**
   * Runs the command.
   *
   * @param values the parsed options
   * @param positionals the positional arguments
   * @returns the exit status
   */
  run(values: OptionValues, positionals: string[]): Promise<number>;
}

/**
 * Opens a log directory that must exist already (for commands that only read).
 *
 * @param dir the directory
 * @returns the open directory
 * @throws {Error} when `dir` is not a directory
 */
export async function openExisting(dir: string): Promise<LogDirectory> {
  let stat;
  try {
    stat = fs.statSync(dir);
  } catch (err) {
    throw new Error(`Cannot open log directory ${dir}: it does not exist`, { cause: err });
  }
  if (!stat.isDirectory()) throw new Error(`Cannot open log directory ${dir}: it is not a directory`);
  return await open(dir);
}

/**
 * Formats rows as columns padded with spaces (the last column is not padded).
 *
 * @param rows the rows, a header first if wanted
 * @returns the lines
 *
 * @example Two columns
 * ```ts
 * import assert from "node:assert/strict";
 * import { columns } from "./command.ts";
 * assert.deepEqual(columns([["A", "BB"], ["ccc", "d"]]), ["A    BB", "ccc  d"]);
 * ```
 */
export function columns(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => widths[i] = Math.max(widths[i] ?? 0, cell.length));
  return rows.map((row) =>
    row.map((cell, i) => i === row.length - 1 ? cell : cell.padEnd(widths[i])).join("  ")
  );
}
