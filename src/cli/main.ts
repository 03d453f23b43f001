/**
 * The `reel` command line: produce stdin into a topic, consume a topic to stdout, list and describe
 * topics, and dump segment files. Runs on Deno (`deno run -A src/cli/main.ts …`), on Bun
 * (`bun src/cli/main.ts …`), and as `reel` through package.json `bin`.
 *
 * Exit status: 0 on success, 1 on an error (a one-line `reel: <message>` on stderr; the stack too
 * with `--verbose`), 2 on a usage error, 130 when a produce is interrupted. A round trip from the
 * shell:
 *
 * ```sh
 * deno run -A src/cli/main.ts produce --dir /tmp/d --topic access --partitions 4 --key-regex '^(\S+)' < access.log
 * bun src/cli/main.ts consume --dir /tmp/d --topic access | head
 * ```
 *
 * @example Round trip: produce stdin into a topic, then consume it
 * ```ts
 * import assert from "node:assert/strict";
 * import { fileURLToPath } from "node:url";
 * const dir = Deno.makeTempDirSync();
 * async function reel(args: string[], input = "") {
 *   const child = new Deno.Command(Deno.execPath(), {
 *     args: ["run", "-A", fileURLToPath(new URL("./main.ts", import.meta.url)), ...args],
 *     stdin: "piped",
 *     stdout: "piped",
 *     stderr: "null",
 *   }).spawn();
 *   const writer = child.stdin.getWriter();
 *   await writer.write(new TextEncoder().encode(input));
 *   await writer.close();
 *   const { code, stdout } = await child.output();
 *   return { code, lines: new TextDecoder().decode(stdout).split("\n").filter(Boolean) };
 * }
 * const accessLog = ["1.2.3.4 GET /", "5.6.7.8 GET /a", "1.2.3.4 GET /b"];
 * const produce = ["produce", "--dir", dir, "--topic", "access", "--partitions", "4", "--key-regex", "^(\\S+)"];
 * assert.equal((await reel(produce, accessLog.join("\n") + "\n")).code, 0);
 * const consumed = await reel(["consume", "--dir", dir, "--topic", "access", "--format", "full"]);
 * assert.equal(consumed.code, 0);
 * const records = consumed.lines.map((line) => JSON.parse(line));
 * assert.deepEqual(records.map((r) => r.value).sort(), [...accessLog].sort());
 * // One key, one partition: both of 1.2.3.4's lines, in the order they were produced.
 * const ofKey = records.filter((r) => r.key === "1.2.3.4");
 * assert.equal(new Set(ofKey.map((r) => r.partition)).size, 1);
 * assert.deepEqual(ofKey.map((r) => r.value), ["1.2.3.4 GET /", "1.2.3.4 GET /b"]);
 * assert.equal((await reel(["consume", "--dir", dir, "--bogus"])).code, 2); // a usage error
 * Deno.removeSync(dir, { recursive: true });
 * ```
 *
 * @module
 */
import process from "node:process";
import { parseCommandArgs, UsageError } from "./args.ts";
import type { Command } from "./command.ts";
export type { Command } from "./command.ts";
export type { OptionSpecs, OptionValues } from "./args.ts";
import { console } from "./commands/console.ts";
import { consume } from "./commands/consume.ts";
import { describe } from "./commands/describe.ts";
import { dump } from "./commands/dump.ts";
import { groups } from "./commands/groups.ts";
import { migrate } from "./commands/migrate.ts";
import { offsets } from "./commands/offsets.ts";
import { produce } from "./commands/produce.ts";
import { serve } from "./commands/serve.ts";
import { topics } from "./commands/topics.ts";
import { addPartitions, alterConfig, deleteRecords } from "./commands/topic_admin.ts";
import { verify } from "./commands/verify.ts";
import { isBrokenPipe, printError, StdoutWriter } from "./stdio.ts";
import { isMainModule } from "../runtime/main_module.ts";

/** The commands, in the order `reel --help` lists them. */
export const COMMANDS: readonly Command[] = [
  produce,
  consume,
  topics,
  describe,
  alterConfig,
  addPartitions,
  deleteRecords,
  dump,
  verify,
  groups,
  offsets,
  serve,
  console,
  migrate,
];

function generalHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `Usage: reel <command> [options]

Kafka-style partitioned logs on disk, for Deno, Bun and Node.

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join("\n")}

Run 'reel <command> --help' for a command's options. Every command takes
--verbose (print the stack of an error). Exit status: 0 ok, 1 error, 2 usage
error.
`;
}

/**
 * Runs the CLI.
 *
 * @param args the arguments after the program name
 * @returns the exit status
 */
export async function main(args: string[]): Promise<number> {
  const verbose = args.includes("--verbose");
  const [name, ...rest] = args;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    if (name === "help" && rest[0] !== undefined) return await main([rest[0], "--help"]);
    return await print(generalHelp(), name === undefined ? 2 : 0);
  }
  const command = COMMANDS.find((c) => c.name === name);
  try {
    if (command === undefined) {
      throw new UsageError(
        `Unknown command ${JSON.stringify(name)}: expected ${COMMANDS.map((c) => c.name).join(", ")}`,
      );
    }
    const { values, positionals } = parseCommandArgs(rest, command.options, command.positionals);
    if (values.help) return await print(command.help, 0);
    return await command.run(values, positionals);
  } catch (err) {
    return report(err, verbose, command);
  }
}

async function print(text: string, status: number): Promise<number> {
  if (status !== 0) {
    process.stderr.write(text);
    return status;
  }
  const out = new StdoutWriter();
  out.writeText(text);
  await out.endUnlessBrokenPipe();
  return status;
}

/**
 * Prints an error as one line (`reel: <message>`), with its stack and causes under `verbose`.
 *
 * @returns the exit status: 2 for a usage error, 0 for a closed stdout, else 1
 */
function report(err: unknown, verbose: boolean, command: Command | undefined): number {
  if (isBrokenPipe(err)) return 0;
  const usage = err instanceof UsageError;
  const message = err instanceof Error ? err.message : String(err);
  const hint = usage ? ` (see 'reel ${command ? command.name + " " : ""}--help')` : "";
  printError(`reel: ${message.replace(/\s*\n\s*/g, " ")}${hint}`);
  if (verbose) {
    for (let e: unknown = err; e !== undefined; e = (e as { cause?: unknown }).cause) {
      printError(e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : `thrown: ${String(e)}`);
      if (!(e instanceof Error)) break;
    }
  }
  return usage ? 2 : 1;
}

if (isMainModule(import.meta)) {
  const status = await main(process.argv.slice(2));
  process.exit(status);
}
