/**
 * `reel consume`: a topic's records to stdout, one per line.
 *
 * @module
 */
import process from "node:process";
import { Buffer } from "node:buffer";
import type { ConsumedRecord, StartPosition } from "../../../mod.ts";
import {
  choiceOption,
  integerOption,
  optionalString,
  type OptionValues,
  parseInteger,
  requireString,
  UsageError,
} from "../args.ts";
import { type Command, openExisting } from "../command.ts";
import { BrokenPipeError, StdoutWriter } from "../stdio.ts";
import { consumeWithGroup, groupStart } from "./groups.ts";

const FORMATS = ["lines", "json", "full"] as const;
type Format = typeof FORMATS[number];

/** `reel consume`. */
export const consume: Command = {
  name: "consume",
  summary: "Print a topic's records to stdout, one per line",
  help: `Usage: reel consume --dir D --topic T [options]

Writes the records of a topic to stdout, one per line: each partition in
offset order, partitions interleaved. Without --follow it exits after the last
record present when it started.

Options:
  --dir D                 the log directory
  --topic T               the topic
  --partition P           read only partition P (repeatable; default: all)
  --from WHERE            earliest (default), latest, an offset, or an
                          ISO-8601 time (2015-09-12T01:00:00Z): the first
                          record at or after it, in each partition
  --to OFFSET             stop before this offset (exclusive), in each partition
  --follow                keep waiting for new records (Ctrl-C to stop)
  --group G               read as a member of consumer group G: start at the
                          group's committed offsets (--from earliest or latest
                          says where when there are none), share the
                          partitions with the group's other members, and
                          commit after each chunk printed; without --follow,
                          stop once caught up (see reel groups)
  --format F              lines: the value as UTF-8 text (default);
                          json: the value parsed as JSON and printed compactly;
                          full: one JSON object per record:
                            {"partition","offset","timestamp","key","value","headers"}
                          with key, value and header values as UTF-8 text, or
                          null; a key or value that is not valid UTF-8 is
                          given in base64 and flagged by "keyEncoding":"base64"
                          or "valueEncoding":"base64" ("encoding":"base64" in
                          a header)
  --verbose               print the stack of an error
  -h, --help              show this help

With --format lines and json, a record without a value (a tombstone) prints as
null, as Kafka's console consumer does.

Examples:
  reel consume --dir data --topic access | head
  reel consume --dir data --topic wiki --partition 0 --from 2015-09-12T12:00:00Z --format full
`,
  options: {
    dir: { type: "string" },
    topic: { type: "string" },
    partition: { type: "string", multiple: true },
    from: { type: "string" },
    to: { type: "string" },
    follow: { type: "boolean" },
    format: { type: "string" },
    group: { type: "string" },
  },
  run: runConsume,
};

/**
 * Parses `--from`.
 *
 * @param text `earliest`, `latest`, an offset or an ISO-8601 time
 * @returns the start position
 * @throws {UsageError} for anything else, or a negative offset
 *
 * @example Each form of --from
 * ```ts
 * import assert from "node:assert/strict";
 * import { UsageError } from "../args.ts";
 * import { parseFrom } from "./consume.ts";
 * assert.equal(parseFrom(undefined), "earliest");
 * assert.equal(parseFrom("latest"), "latest");
 * assert.equal(parseFrom("42"), 42);
 * assert.deepEqual(parseFrom("1970-01-01T00:00:01Z"), { timestamp: 1000 });
 * assert.throws(() => parseFrom("yesterday"), UsageError);
 * assert.throws(() => parseFrom("-1"), UsageError);
 * ```
 */
export function parseFrom(text: string | undefined): StartPosition {
  if (text === undefined || text === "earliest") return "earliest";
  if (text === "latest") return "latest";
  if (/^-?\d+$/.test(text)) return parseInteger(text, "--from", 0);
  const ms = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(ms)) {
    throw new UsageError(
      `Invalid --from ${JSON.stringify(text)}: expected earliest, latest, an offset or an ISO-8601 time`,
    );
  }
  return { timestamp: ms };
}

async function runConsume(values: OptionValues): Promise<number> {
  const dir = requireString(values, "dir");
  const topicName = requireString(values, "topic");
  const partitions = ((values.partition as string[] | undefined) ?? []).map((p) =>
    parseInteger(p, "--partition", 0, 2 ** 31 - 1)
  );
  const from = parseFrom(optionalString(values, "from"));
  const to = integerOption(values, "to", 0);
  const follow = values.follow === true;
  const format = choiceOption(values, "format", FORMATS, "lines");
  const group = optionalString(values, "group");
  if (group !== undefined) {
    if (to !== undefined) throw new UsageError("Invalid --to with --group: a member reads on to the end");
    const from = groupStart(optionalString(values, "from"));
    const log = await openExisting(dir);
    const print = printer(format, topicName);
    try {
      return await consumeWithGroup({ log, topic: topicName, group, partitions, from, follow, print });
    } finally {
      await log.close();
    }
  }

  const log = await openExisting(dir);
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const out = new StdoutWriter();
  try {
    const topic = log.topic(topicName);
    const reader = topic.readableBatches({
      partitions: partitions.length > 0 ? partitions : undefined,
      from,
      to,
      follow,
      signal: abort.signal,
    }).getReader();
    const print = printer(format, topicName);
    try {
      for (;;) {
        let chunk;
        try {
          chunk = await reader.read();
        } catch (err) {
          if (abort.signal.aborted) break; // Ctrl-C: a normal end
          throw err;
        }
        if (chunk.done) break;
        for (const record of chunk.value) {
          print(record, out);
          if (out.buffered >= 64 * 1024) await out.flush();
        }
        // Hand each chunk over at once, so `--follow` shows records as they arrive.
        await out.flush();
      }
      await out.end();
    } catch (err) {
      await reader.cancel().catch(() => {}); // the error below is what is reported, not the cancel's
      if (err instanceof BrokenPipeError) return 0; // `| head` has all it wants
      throw err;
    }
    return 0;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await log.close();
  }
}

const NEWLINE = new Uint8Array([10]);
const NULL_LINE = new TextEncoder().encode("null\n");
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The function that prints one record in `format`. */
function printer(format: Format, topic: string): (record: ConsumedRecord, out: StdoutWriter) => void {
  switch (format) {
    case "lines":
      return (record, out) => {
        if (record.value === null) return out.writeBytes(NULL_LINE);
        out.writeBytes(record.value);
        out.writeBytes(NEWLINE);
      };
    case "json":
      return (record, out) => {
        if (record.value === null) return out.writeBytes(NULL_LINE);
        let value: unknown;
        try {
          value = JSON.parse(utf8.decode(record.value));
        } catch (err) {
          throw new Error(
            `Cannot print offset ${record.offset} of ${topic}-${record.partition} as JSON: ${
              (err as Error).message
            }`,
            { cause: err },
          );
        }
        out.writeText(JSON.stringify(value) + "\n");
      };
    case "full":
      return (record, out) => out.writeText(JSON.stringify(fullRecord(record)) + "\n");
  }
}

/**
 * The `--format full` form of a record: key, value and header values as UTF-8 text, or base64 (and
 * flagged) when not valid UTF-8.
 *
 * @param record the record
 * @returns a plain object for `JSON.stringify`
 */
export function fullRecord(record: ConsumedRecord): { [field: string]: unknown } {
  const out: { [field: string]: unknown } = {
    partition: record.partition,
    offset: record.offset,
    timestamp: record.timestamp,
  };
  const key = text(record.key);
  out.key = key.text;
  if (key.base64) out.keyEncoding = "base64";
  const value = text(record.value);
  out.value = value.text;
  if (value.base64) out.valueEncoding = "base64";
  out.headers = record.headers.map((h) => {
    const v = text(h.value);
    return v.base64 ? { key: h.key, value: v.text, encoding: "base64" } : { key: h.key, value: v.text };
  });
  return out;
}

function text(bytes: Uint8Array | null): { text: string | null; base64: boolean } {
  if (bytes === null) return { text: null, base64: false };
  try {
    return { text: utf8.decode(bytes), base64: false };
  } catch {
    return {
      text: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64"),
      base64: true,
    };
  }
}
