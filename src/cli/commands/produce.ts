/**
 * `reel produce`: stdin, one record per line, into a topic.
 *
 * @module
 */
import process from "node:process";
import {
  CompressionType,
  JsonLineRecordStream,
  LineStream,
  type LogDirectory,
  open,
  type ProducerRecord,
  type Topic,
  TopicExistsError,
} from "../../../mod.ts";
import {
  choiceOption,
  integerOption,
  optionalString,
  type OptionValues,
  requireString,
  UsageError,
} from "../args.ts";
import type { Command } from "../command.ts";
import { formatBytes, ProgressLine } from "../progress.ts";
import { printError, stdinStream } from "../stdio.ts";

const FORMATS = ["lines", "json"] as const;
const COMPRESSIONS = ["none", "gzip", "snappy", "lz4", "zstd"] as const;

const CODECS: { [name in typeof COMPRESSIONS[number]]: CompressionType } = {
  none: CompressionType.None,
  gzip: CompressionType.Gzip,
  snappy: CompressionType.Snappy,
  lz4: CompressionType.Lz4,
  zstd: CompressionType.Zstd,
};

/** `reel produce`. */
export const produce: Command = {
  name: "produce",
  summary: "Append the lines of stdin to a topic, one record per line",
  help: `Usage: reel produce --dir D --topic T [options] < input

Reads stdin and appends one record per line (LF or CRLF; blank lines are kept
as empty values with --format lines, skipped with --format json). The topic is
created if it does not exist. A summary goes to stderr; while stderr is a
terminal, a progress line too.

Options:
  --dir D                 the log directory (created if missing)
  --topic T               the topic
  --partitions N          partitions of the topic if it is created (default 1)
  --config K=V            topic config if it is created, repeatable
                          (segmentBytes, segmentMs, retentionMs, fsync, ...)
  --format lines|json     lines: each line is the value as it is (default);
                          json: each line must be JSON (an invalid line stops
                          the produce with an error; the records before it are
                          kept), and is stored as its original text
  --key-field F           json: the key is field F (a dotted path: user.id)
  --key-regex R           the key is the first capture group of regular
                          expression R matched against the line (the whole
                          match if R has no group; no key if it does not match)
  --timestamp-field F     json: the record timestamp is field F, ISO-8601 or ms
                          since the epoch (default: the append time)
  --compression C         none (default), gzip, snappy, lz4 or zstd
  --batch-size BYTES      batch size per partition (default 16384)
  --linger-ms MS          how long a partial batch waits to fill (default 5)
  --verbose               print the stack of an error
  -h, --help              show this help

Records without a key are spread over the partitions, sticky per batch; keyed
records go to the partition of their key's murmur2 hash, as in Kafka.

Example:
  reel produce --dir data --topic access --partitions 4 --key-regex '^(\\S+)' < access.log
`,
  options: {
    dir: { type: "string" },
    topic: { type: "string" },
    partitions: { type: "string" },
    config: { type: "string", multiple: true },
    format: { type: "string" },
    "key-field": { type: "string" },
    "key-regex": { type: "string" },
    "timestamp-field": { type: "string" },
    compression: { type: "string" },
    "batch-size": { type: "string" },
    "linger-ms": { type: "string" },
  },
  run: runProduce,
};

/**
 * Parses `--config K=V` values into a partial topic config: numbers for numeric text.
 *
 * @param items the `K=V` strings
 * @returns the config
 * @throws {UsageError} for an item without `=`
 */
export function parseConfig(items: string[]): { [key: string]: string | number } {
  const config: { [key: string]: string | number } = {};
  for (const item of items) {
    const eq = item.indexOf("=");
    if (eq <= 0) throw new UsageError(`Invalid --config ${JSON.stringify(item)}: expected KEY=VALUE`);
    const key = item.slice(0, eq).trim();
    const text = item.slice(eq + 1).trim();
    config[key] = /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
  }
  return config;
}

/**
 * Turns `--key-regex` into a function from a line to its key.
 *
 * @param source the regular expression
 * @returns the key of a line, or `null` when the line does not match
 * @throws {UsageError} when `source` is not a valid regular expression
 */
export function keyExtractor(source: string): (line: string) => string | null {
  let re: RegExp;
  try {
    re = new RegExp(source);
  } catch (err) {
    throw new UsageError(`Invalid --key-regex ${JSON.stringify(source)}: ${(err as Error).message}`);
  }
  const groups = new RegExp(`${source}|`).exec("")!.length - 1;
  return (line) => {
    const m = re.exec(line);
    if (m === null) return null;
    return (groups > 0 ? m[1] : m[0]) ?? null;
  };
}

async function runProduce(values: OptionValues): Promise<number> {
  const dir = requireString(values, "dir");
  const topicName = requireString(values, "topic");
  const partitions = integerOption(values, "partitions", 1, 1_000_000);
  const format = choiceOption(values, "format", FORMATS, "lines");
  const keyField = optionalString(values, "key-field");
  const keyRegex = optionalString(values, "key-regex");
  const timestampField = optionalString(values, "timestamp-field");
  const compression = CODECS[choiceOption(values, "compression", COMPRESSIONS, "none")];
  const batchSize = integerOption(values, "batch-size", 1);
  const lingerMs = integerOption(values, "linger-ms", 0);
  const config = parseConfig((values.config as string[] | undefined) ?? []);
  if (keyField !== undefined && keyRegex !== undefined) {
    throw new UsageError("Cannot use --key-field and --key-regex together");
  }
  if (format !== "json" && keyField !== undefined) throw new UsageError("--key-field needs --format json");
  if (format !== "json" && timestampField !== undefined) {
    throw new UsageError("--timestamp-field needs --format json");
  }
  const keyOf = keyRegex === undefined ? undefined : keyExtractor(keyRegex);

  const log = await open(dir);
  try {
    const topic = await topicFor(log, topicName, partitions, config);
    return await pump(topic, {
      format,
      keyField,
      timestampField,
      keyOf,
      writable: { compression, batchSize, lingerMs },
    });
  } finally {
    await log.close();
  }
}

/** The topic, created if missing; notes options that do not apply to an existing topic. */
async function topicFor(
  log: LogDirectory,
  name: string,
  partitions: number | undefined,
  config: { [key: string]: string | number },
): Promise<Topic> {
  if (!log.hasTopic(name)) {
    try {
      return await log.createTopic(name, { partitions: partitions ?? 1, config });
    } catch (err) {
      if (err instanceof TopicExistsError) return log.topic(name);
      if (err instanceof TypeError || err instanceof RangeError) {
        throw new UsageError(`Cannot create topic ${name}: ${err.message}`, { cause: err });
      }
      throw err;
    }
  }
  const topic = log.topic(name);
  if (partitions !== undefined && partitions !== topic.partitions) {
    printError(
      `reel: topic ${name} exists with ${topic.partitions} partitions: --partitions ${partitions} ignored`,
    );
  }
  if (Object.keys(config).length > 0) printError(`reel: topic ${name} exists: --config ignored`);
  return topic;
}

interface PumpOptions {
  format: typeof FORMATS[number];
  keyField?: string;
  timestampField?: string;
  keyOf?: (line: string) => string | null;
  writable: { compression: CompressionType; batchSize?: number; lingerMs?: number };
}

/** Pipes stdin into the topic; on a bad line, keeps what came before it and rethrows. */
async function pump(topic: Topic, options: PumpOptions): Promise<number> {
  const started = performance.now();
  const before = topic.describe();
  let bytesIn = 0;
  let records = 0;
  const bytes = stdinStream().pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        bytesIn += chunk.byteLength;
        controller.enqueue(chunk);
      },
    }),
  );
  const lines = bytes.pipeThrough(new LineStream());
  let parsed: ReadableStream<ProducerRecord>;
  if (options.format === "json") {
    parsed = lines.pipeThrough(
      new JsonLineRecordStream({ key: options.keyField, timestamp: options.timestampField }),
    );
  } else {
    parsed = lines.pipeThrough(
      new TransformStream<string, ProducerRecord>({
        transform(line, controller) {
          controller.enqueue({ value: line });
        },
      }),
    );
  }
  const keyOf = options.keyOf;
  const counted = parsed.pipeThrough(
    new TransformStream<ProducerRecord, ProducerRecord>({
      transform(record, controller) {
        if (keyOf !== undefined) record.key = keyOf(record.value as string);
        records++;
        controller.enqueue(record);
      },
    }),
  );

  const progress = ProgressLine.start(() => {
    const seconds = (performance.now() - started) / 1000;
    return `producing to ${topic.name}: ${records} records, ${formatBytes(bytesIn)}, ${
      Math.round(records / Math.max(seconds, 0.001))
    } records/s`;
  });
  const abort = new AbortController();
  const onSignal = () => abort.abort(new Interrupted());
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  const writable = topic.writable(options.writable);
  let failure: unknown;
  try {
    // preventAbort: when the input fails (a line that is not JSON), the records written before
    // it are not thrown away: close() below sends them and waits until they are durable.
    await counted.pipeTo(writable, { preventAbort: true, signal: abort.signal });
  } catch (err) {
    failure = err;
  }
  if (failure !== undefined) {
    try {
      await writable.close();
    } catch {
      // The writable failed itself: `failure` says why.
    }
  }
  progress.stop();
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);

  const seconds = (performance.now() - started) / 1000;
  // What reached the log, from the partitions' end offsets: exact even when the input failed.
  const after = topic.describe();
  let appended = 0;
  let logBytes = 0;
  for (let p = 0; p < after.length; p++) {
    appended += after[p].logEndOffset - (before[p]?.logEndOffset ?? 0);
    logBytes += after[p].bytes - (before[p]?.bytes ?? 0);
  }
  printError(
    `${failure === undefined ? "produced" : "produced, before stopping,"} ${appended} record${
      appended === 1 ? "" : "s"
    } ` +
      `(${bytesIn} bytes read, ${logBytes} bytes of log) to ${topic.name} ` +
      `(${topic.partitions} partition${topic.partitions === 1 ? "" : "s"}) in ${seconds.toFixed(3)} s: ` +
      `${Math.round(appended / Math.max(seconds, 0.001))} records/s`,
  );
  if (failure instanceof Interrupted) return 130;
  if (failure !== undefined) throw failure;
  return 0;
}

/** The reason a produce was aborted by SIGINT or SIGTERM. */
class Interrupted extends Error {
  constructor() {
    super("Interrupted");
    this.name = "Interrupted";
  }
}
