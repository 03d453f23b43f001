/**
 * Internal: reading one line of JSON lines, shared by `JsonParseStream` and `JsonLineRecordStream`.
 *
 * @module
 */

import { InvalidRecordError } from "../errors.ts";

/** Whether a line is empty or only whitespace (such lines are skipped, but still counted). */
export function isBlank(line: string): boolean {
  return line.length === 0 || line.trim().length === 0;
}

/**
 * Parses one line with `JSON.parse`.
 *
 * @throws {InvalidRecordError} when the line is not JSON: `Cannot parse line N as JSON: …`
 */
export function parseLine(line: string, lineNumber: number): unknown {
  try {
    return JSON.parse(line);
  } catch (err) {
    throw new InvalidRecordError(`Cannot parse line ${lineNumber} as JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
}
