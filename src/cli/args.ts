/**
 * Argument parsing for the `reel` commands, on top of `node:util`'s `parseArgs` (built into Node,
 * Deno and Bun): a {@linkcode UsageError} for every mistake, and helpers that check option values.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { fs } from "../runtime/file_system.ts";

/**
 * A mistake in the command line: an unknown option, a missing or malformed value. The CLI prints
 * its message and exits with status 2.
 */
export class UsageError extends Error {
  /**
   * Creates the error.
   *
   * @param message sentence case, no trailing period
   * @param options the standard `ErrorOptions`
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UsageError";
  }
}

/** The option specs of a command, as `parseArgs` takes them. */
export type OptionSpecs = NonNullable<ParseArgsConfig["options"]>;

/** The parsed options: strings, booleans, or lists of them for `multiple` options. */
export type OptionValues = { [name: string]: string | boolean | (string | boolean)[] | undefined };

/** Options every command takes. */
export const COMMON_OPTIONS: OptionSpecs = {
  help: { type: "boolean", short: "h" },
  verbose: { type: "boolean" },
};

/**
 * Parses a command's arguments.
 *
 * @param args the arguments after the command name
 * @param options the command's options (the common ones are added)
 * @param positionals how many positional arguments the command takes
 * @returns the option values and the positional arguments
 * @throws {UsageError} for an unknown option, a missing value, or a wrong number of positionals
 *
 * @example Options, positionals and mistakes
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCommandArgs, UsageError } from "./args.ts";
 * const { values, positionals } = parseCommandArgs(["--dir", "d", "a.log"], { dir: { type: "string" } }, {
 *   min: 1,
 *   max: 1,
 * });
 * assert.equal(values.dir, "d");
 * assert.deepEqual(positionals, ["a.log"]);
 * assert.throws(() => parseCommandArgs(["--nope"], {}), UsageError);
 * assert.throws(() => parseCommandArgs(["x"], {}), UsageError); // no positional allowed
 * ```
 */
export function parseCommandArgs(
  args: string[],
  options: OptionSpecs,
  positionals: { min: number; max: number } = { min: 0, max: 0 },
): { values: OptionValues; positionals: string[] } {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: { ...COMMON_OPTIONS, ...options },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new UsageError(usageMessage(err as Error), { cause: err });
  }
  const values = parsed.values as OptionValues;
  if (!values.help) {
    if (parsed.positionals.length > positionals.max) {
      throw new UsageError(`Unexpected argument ${JSON.stringify(parsed.positionals[positionals.max])}`);
    }
    if (parsed.positionals.length < positionals.min) throw new UsageError("Missing argument");
  }
  return { values, positionals: parsed.positionals };
}

/** `parseArgs`' message, shortened to its first sentence, in the CLI's style. */
function usageMessage(err: Error): string {
  const ambiguous = /^Option '(--[^' ]+)[^']*' argument is ambiguous/.exec(err.message);
  if (ambiguous) {
    return `Option ${ambiguous[1]} needs a value: write ${
      ambiguous[1]
    }=VALUE for a value that starts with a dash`;
  }
  const first = err.message.split(/\.\s/)[0].replace(/\.$/, "");
  return first.charAt(0).toUpperCase() + first.slice(1);
}

/**
 * A required string option.
 *
 * @param values the parsed options
 * @param name the option name
 * @returns its value
 * @throws {UsageError} when it is missing or empty
 */
export function requireString(values: OptionValues, name: string): string {
  const value = optionalString(values, name);
  if (value === undefined || value === "") throw new UsageError(`Missing required option --${name}`);
  return value;
}

/**
 * An optional string option (the last one, if given more than once).
 *
 * @param values the parsed options
 * @param name the option name
 * @returns its value, or `undefined`
 */
export function optionalString(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  if (Array.isArray(value)) return value.length ? String(value[value.length - 1]) : undefined;
  return typeof value === "string" ? value : undefined;
}

/**
 * An option holding a whole number in a range.
 *
 * @param values the parsed options
 * @param name the option name
 * @param min the smallest value allowed
 * @param max the largest value allowed
 * @returns the number, or `undefined` when the option is absent
 * @throws {UsageError} when the value is not a whole number in `[min, max]`
 *
 * @example A number in range, an absent option, and one out of range
 * ```ts
 * import assert from "node:assert/strict";
 * import { integerOption, UsageError } from "./args.ts";
 * assert.equal(integerOption({ partitions: "4" }, "partitions", 1), 4);
 * assert.equal(integerOption({}, "partitions", 1), undefined);
 * assert.throws(() => integerOption({ partitions: "0" }, "partitions", 1), UsageError);
 * assert.throws(() => integerOption({ partitions: "4.5" }, "partitions", 1), UsageError);
 * ```
 */
export function integerOption(
  values: OptionValues,
  name: string,
  min: number,
  max: number = Number.MAX_SAFE_INTEGER,
): number | undefined {
  const text = optionalString(values, name);
  if (text === undefined) return undefined;
  return parseInteger(text, `--${name}`, min, max);
}

/**
 * Parses a whole number in a range.
 *
 * @param text the text
 * @param what what it is, for the message (`--partitions`)
 * @param min the smallest value allowed
 * @param max the largest value allowed
 * @returns the number
 * @throws {UsageError} when the text is not a whole number in `[min, max]`
 */
export function parseInteger(
  text: string,
  what: string,
  min: number,
  max: number = Number.MAX_SAFE_INTEGER,
): number {
  const n = /^-?\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n)) {
    throw new UsageError(`Invalid ${what} ${JSON.stringify(text)}: expected a whole number`);
  }
  if (n < min || n > max) {
    throw new UsageError(
      `Invalid ${what} ${n}: ${
        max === Number.MAX_SAFE_INTEGER ? `must be ${min} or more` : `must be ${min} to ${max}`
      }`,
    );
  }
  return n;
}

/**
 * An option whose value must be one of a list.
 *
 * @param values the parsed options
 * @param name the option name
 * @param choices the allowed values
 * @param fallback the value when the option is absent
 * @returns the value
 * @throws {UsageError} when the value is not one of `choices`
 */
export function choiceOption<T extends string>(
  values: OptionValues,
  name: string,
  choices: readonly T[],
  fallback: T,
): T {
  const value = optionalString(values, name);
  if (value === undefined) return fallback;
  if (!(choices as readonly string[]).includes(value)) {
    throw new UsageError(`Invalid --${name} ${JSON.stringify(value)}: expected one of ${choices.join(", ")}`);
  }
  return value as T;
}

/**
 * Reads a file an option names (a certificate, a key, a password file).
 *
 * @param path the file's path, as given
 * @param option the option's name with its dashes, for the message (`"--tls-cert"`)
 * @returns the file's bytes
 * @throws {UsageError} when the file is missing or unreadable, naming the option and the path
 * @example A missing file
 * ```ts
 * import assert from "node:assert/strict";
 * import { readOptionFile, UsageError } from "./args.ts";
 * assert.throws(() => readOptionFile("/no/such/file.pem", "--tls-ca"), UsageError);
 * ```
 */
export function readOptionFile(path: string, option: string): Uint8Array {
  try {
    return new Uint8Array(fs.readFileSync(path));
  } catch (err) {
    throw new UsageError(`Cannot read ${option} ${JSON.stringify(path)}: ${(err as Error).message}`);
  }
}
