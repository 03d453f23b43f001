/**
 * `reel offsets`: per partition, the first offset whose record timestamp is at or after a time
 * (Kafka's ListOffsets by timestamp, `kafka-get-offsets.sh --time`), read through the time index.
 *
 * @module
 */
import { type OptionValues, parseInteger, requireString, UsageError } from "../args.ts";
import { type Command, openExisting } from "../command.ts";
import { StdoutWriter } from "../stdio.ts";

/** `reel offsets`. */
export const offsets: Command = {
  name: "offsets",
  summary: "Find each partition's first offset at or after a time",
  help: `Usage: reel offsets --dir D --topic T --time TIME [--partition P]

Prints one line per partition: the partition, the first offset whose record
timestamp is at or after TIME, and that record's timestamp, separated by tabs
(as Kafka's ListOffsets by timestamp). A partition whose records are all older
prints "-" for both.

Options:
  --dir D                 the log directory
  --topic T               the topic
  --time TIME             an ISO-8601 time (2015-09-12T12:00:00Z) or ms since
                          the epoch
  --partition P           only partition P (repeatable; default: all)
  --verbose               print the stack of an error
  -h, --help              show this help

Example:
  reel offsets --dir data --topic wiki --time 2015-09-12T12:00:00Z
`,
  options: {
    dir: { type: "string" },
    topic: { type: "string" },
    time: { type: "string" },
    partition: { type: "string", multiple: true },
  },
  async run(values: OptionValues): Promise<number> {
    const dir = requireString(values, "dir");
    const topicName = requireString(values, "topic");
    const time = parseTime(requireString(values, "time"));
    const only = ((values.partition as string[] | undefined) ?? []).map((p) =>
      parseInteger(p, "--partition", 0, 2 ** 31 - 1)
    );
    const log = await openExisting(dir);
    try {
      const topic = log.topic(topicName);
      const wanted = only.length > 0 ? only : Array.from({ length: topic.partitions }, (_, p) => p);
      const out = new StdoutWriter();
      for (const p of wanted) {
        const found = topic.partition(p).offsetForTimestamp(time);
        out.writeText(
          found ? `${p}\t${found.offset}\t${new Date(found.timestamp).toISOString()}\n` : `${p}\t-\t-\n`,
        );
      }
      await out.endUnlessBrokenPipe();
      return 0;
    } finally {
      await log.close();
    }
  },
};

/**
 * Parses `--time`.
 *
 * @param text an ISO-8601 time or ms since the epoch
 * @returns ms since the epoch
 * @throws {UsageError} for anything else
 *
 * @example A time or ms since the epoch
 * ```ts
 * import assert from "node:assert/strict";
 * import { UsageError } from "../args.ts";
 * import { parseTime } from "./offsets.ts";
 * assert.equal(parseTime("1970-01-01T00:00:01Z"), 1000);
 * assert.equal(parseTime("1000"), 1000);
 * assert.throws(() => parseTime("soon"), UsageError);
 * ```
 */
export function parseTime(text: string): number {
  if (/^\d+$/.test(text)) return Number(text);
  const ms = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(ms)) {
    throw new UsageError(
      `Invalid --time ${JSON.stringify(text)}: expected an ISO-8601 time or ms since the epoch`,
    );
  }
  return ms;
}
