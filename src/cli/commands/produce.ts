/**
 * `reel produce`: stdin, one record per line, into a topic.
 *
 * @module
 */
import process from "node:process";
import {
  type Compression,
  InvalidRecordError,
  JsonLineRecordStream,
  type LogDirectory,
  open,
  type ProducerRecord,
  RecordTooLargeError,
  type Topic,
  TopicExistsError,
} from "../../../mod.ts";
import { DEFAULT_LOG_CONFIG } from "../../log/log_config.ts";
import { MAX_PARTITIONS } from "../../runtime/log_paths.ts";
import { RECORD_BATCH_OVERHEAD } from "../../record/record_batch.ts";
import { ByteLineStream } from "../../streams/byte_line_stream.ts";
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

const FORMATS = ["lines", "text", "json"] as const;
const COMPRESSIONS = ["none", "gzip", "snappy", "lz4", "zstd"] as const;

/** `reel produce`. */
export const produce: Command = {
  name: "produce",
  summary: "Append the lines of stdin to a topic, one record per line",
  help: `Usage: reel produce --dir D --topic T [options] < input

Reads stdin and appends one record per line (LF or CRLF; blank lines are kept
as empty values with --format lines and text, skipped with --format json). The
topic is created if it does not exist and the input holds a line. A summary
goes to stderr; while stderr is a terminal, a progress line too. A line longer
than the topic's maxMessageBytes stops the produce with an error naming it.

Options:
  --dir D                 the log directory (created if missing)
  --topic T               the topic
  --partitions N          partitions of the topic if it is created (default 1)
  --config K=V            topic config if it is created, repeatable
                          (segmentBytes, segmentMs, retentionMs, fsync, ...)
  --format lines|text|json
                          lines: each line's bytes are the value, unchanged,
                          whatever the encoding (default);
                          text: the same, but a line that is not UTF-8 stops
                          the produce with an error (the lines before it are
                          kept);
                          json: each line must be JSON (an invalid line stops
                          the produce with an error; the records before it are
                          kept), and is stored as its original text
  --key-field F           json: the key is field F (a dotted path: user.id)
  --key-regex R           the key is the first capture group of regular
                          expression R matched against the line, read as UTF-8
                          (the whole match if R has no group; no key if it
                          does not match)
  --timestamp-field F     json: the record timestamp is field F, ISO-8601 or ms
                          since the epoch (default: the append time)
  --compression C         none (default), gzip, snappy, lz4 or zstd
  --batch-size BYTES      batch size per partition (default 131072)
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
 * Parses `--config K=V` values into a partial topic config: numbers for numeric text, booleans
 * for `true` and `false`.
 *
 * @param items the `K=V` strings
 * @returns the config
 * @throws {UsageError} for an item without `=`
 */
export function parseConfig(items: string[]): { [key: string]: string | number | boolean } {
  const config: { [key: string]: string | number | boolean } = {};
  for (const item of items) {
    const eq = item.indexOf("=");
    if (eq <= 0) throw new UsageError(`Invalid --config ${JSON.stringify(item)}: expected KEY=VALUE`);
    const key = item.slice(0, eq).trim();
    const text = item.slice(eq + 1).trim();
    config[key] = /^-?\d+(\.\d+)?$/.test(text)
      ? Number(text)
      : text === "true" || text === "false"
      ? text === "true"
      : text;
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
  const partitions = integerOption(values, "partitions", 1, MAX_PARTITIONS);
  const format = choiceOption(values, "format", FORMATS, "lines");
  const keyField = optionalString(values, "key-field");
  const keyRegex = optionalString(values, "key-regex");
  const timestampField = optionalString(values, "timestamp-field");
  const compression = choiceOption(values, "compression", COMPRESSIONS, "none");
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
    return await pump(log, topicName, partitions, config, {
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

/** Creates the topic, or takes it when another process created it first (`created` is then false). */
async function createTopic(
  log: LogDirectory,
  name: string,
  partitions: number | undefined,
  config: { [key: string]: string | number | boolean },
): Promise<{ topic: Topic; created: boolean }> {
  try {
    return { topic: await log.createTopic(name, { partitions: partitions ?? 1, config }), created: true };
  } catch (err) {
    if (err instanceof TopicExistsError) return { topic: log.topic(name), created: false };
    if (err instanceof TypeError || err instanceof RangeError) {
      throw new UsageError(`Cannot create topic ${name}: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

/** Notes the options that do not apply to an existing topic. */
function noteIgnoredOptions(
  topic: Topic,
  partitions: number | undefined,
  config: { [key: string]: string | number | boolean },
): void {
  if (partitions !== undefined && partitions !== topic.partitions) {
    printError(
      `reel: topic ${topic.name} exists with ${topic.partitions} partitions: --partitions ${partitions} ignored`,
    );
  }
  if (Object.keys(config).length > 0) printError(`reel: topic ${topic.name} exists: --config ignored`);
}

interface PumpOptions {
  format: typeof FORMATS[number];
  keyField?: string;
  timestampField?: string;
  keyOf?: (line: string) => string | null;
  writable: { compression: Compression; batchSize?: number; lingerMs?: number };
}

/**
 * stdin's lines as producer records. Lines are split on bytes and, with `--format lines`, stored as
 * they are; `text` and `json` decode them as UTF-8 and stop at a line that is not.
 */
function recordsOf(
  input: ReadableStream<Uint8Array>,
  maxLineBytes: number,
  options: PumpOptions,
): ReadableStream<ProducerRecord> {
  const lines = input.pipeThrough(new ByteLineStream({ maxLineBytes }));
  const keyOf = options.keyOf;
  if (options.format === "lines") {
    const lenient = new TextDecoder("utf-8", { ignoreBOM: true });
    return lines.pipeThrough(
      new TransformStream<Uint8Array, ProducerRecord>({
        transform(line, controller) {
          const record: ProducerRecord = { value: line };
          if (keyOf !== undefined) record.key = keyOf(lenient.decode(line));
          controller.enqueue(record);
        },
      }),
    );
  }
  const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  let lineNumber = 0;
  const text = lines.pipeThrough(
    new TransformStream<Uint8Array, string>({
      transform(line, controller) {
        lineNumber++;
        let decoded: string;
        try {
          decoded = strict.decode(line);
        } catch (err) {
          throw new InvalidRecordError(
            `Cannot decode line ${lineNumber} as UTF-8: it holds an invalid byte sequence ` +
              `(--format lines takes any bytes)`,
            { cause: err },
          );
        }
        // JSON text has no byte order mark (RFC 8259 section 8.1); one at the start is skipped.
        if (lineNumber === 1 && options.format === "json" && decoded.startsWith("\uFEFF")) {
          decoded = decoded.slice(1);
        }
        controller.enqueue(decoded);
      },
    }),
  );
  const records: ReadableStream<ProducerRecord> = options.format === "json"
    ? text.pipeThrough(new JsonLineRecordStream({ key: options.keyField, timestamp: options.timestampField }))
    : text.pipeThrough(
      new TransformStream<string, ProducerRecord>({
        transform(line, controller) {
          controller.enqueue({ value: line });
        },
      }),
    );
  if (keyOf === undefined) return records;
  return records.pipeThrough(
    new TransformStream<ProducerRecord, ProducerRecord>({
      transform(record, controller) {
        record.key = keyOf(record.value as string);
        controller.enqueue(record);
      },
    }),
  );
}

/**
 * Pipes stdin into the topic, creating it (when missing) once a first record has been read; on a bad
 * line, keeps what came before it and rethrows.
 */
async function pump(
  log: LogDirectory,
  topicName: string,
  partitions: number | undefined,
  config: { [key: string]: string | number | boolean },
  options: PumpOptions,
): Promise<number> {
  const started = performance.now();
  const existing = log.hasTopic(topicName) ? log.topic(topicName) : undefined;
  if (existing !== undefined) noteIgnoredOptions(existing, partitions, config);
  const configured = config.maxMessageBytes;
  const maxMessageBytes = existing?.config.maxMessageBytes ??
    (typeof configured === "number" ? configured : DEFAULT_LOG_CONFIG.maxMessageBytes);
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
  // A record batch holds a header and the record around the value: a line longer than this can
  // never be appended, and is refused before it is read whole.
  const maxLineBytes = Math.max(0, maxMessageBytes - RECORD_BATCH_OVERHEAD);
  const reader = recordsOf(bytes, maxLineBytes, options).getReader();

  let name = topicName;
  const progress = ProgressLine.start(() => {
    const seconds = (performance.now() - started) / 1000;
    return `producing to ${name}: ${records} records, ${formatBytes(bytesIn)}, ${
      Math.round(records / Math.max(seconds, 0.001))
    } records/s`;
  });
  const abort = new AbortController();
  const interrupted = new Promise<never>((_, reject) => {
    abort.signal.addEventListener("abort", () => reject(abort.signal.reason), { once: true });
  });
  interrupted.catch(() => {}); // only raced against the input: an interrupt nothing waits on is no error
  const onSignal = () => abort.abort(new Interrupted());
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  let topic: Topic | undefined = existing;
  let created = false;
  let before: { logEndOffset: number; bytes: number }[] = existing?.describe() ?? [];
  let failure: unknown;
  try {
    // The first record decides whether there is anything to produce: empty input creates no topic.
    const first = await Promise.race([reader.read(), interrupted]);
    if (!first.done && topic === undefined) {
      ({ topic, created } = await createTopic(log, topicName, partitions, config));
      before = topic.describe();
    }
    if (topic !== undefined) {
      name = topic.name;
      const source = new ReadableStream<ProducerRecord>({
        start(controller) {
          if (!first.done) {
            records++;
            controller.enqueue(first.value);
          }
        },
        async pull(controller) {
          const next = await reader.read();
          if (next.done) return controller.close();
          records++;
          controller.enqueue(next.value);
        },
        cancel(reason) {
          return reader.cancel(reason);
        },
      }, { highWaterMark: 0 });
      const writable = topic.writable(options.writable);
      try {
        // preventAbort: when the input fails (a line that is not JSON), the records written before
        // it are not thrown away: close() below sends them and waits until they are durable.
        await source.pipeTo(writable, { preventAbort: true, signal: abort.signal });
      } catch (err) {
        failure = err;
        try {
          await writable.close();
        } catch {
          // The writable failed itself: `failure` says why.
        }
      }
    }
  } catch (err) {
    failure = err;
  }
  progress.stop();
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);

  const seconds = (performance.now() - started) / 1000;
  if (topic === undefined) {
    printError(
      failure === undefined
        ? `produced 0 records (${bytesIn} bytes read) to ${topicName}: the input holds no line, ` +
          `so the topic was not created`
        : `produced, before stopping, 0 records (${bytesIn} bytes read) to ${topicName}: ` +
          `the topic was not created`,
    );
  } else {
    // What reached the log, from the partitions' end offsets: exact even when the input failed.
    const after = topic.describe();
    let appended = 0;
    let logBytes = 0;
    for (let p = 0; p < after.length; p++) {
      appended += after[p].logEndOffset - (before[p]?.logEndOffset ?? 0);
      logBytes += after[p].bytes - (before[p]?.bytes ?? 0);
    }
    printError(
      `${created ? "created topic " + topic.name + "; " : ""}` +
        `${failure === undefined ? "produced" : "produced, before stopping,"} ${appended} record${
          appended === 1 ? "" : "s"
        } ` +
        `(${bytesIn} bytes read, ${logBytes} bytes of log) to ${topic.name} ` +
        `(${topic.partitions} partition${topic.partitions === 1 ? "" : "s"}) in ${seconds.toFixed(3)} s: ` +
        `${Math.round(appended / Math.max(seconds, 0.001))} records/s`,
    );
  }
  if (failure instanceof Interrupted) return 130;
  if (failure instanceof RecordTooLargeError && failure.message.startsWith("Cannot read line")) {
    throw new RecordTooLargeError(
      failure.size,
      maxMessageBytes,
      `${failure.message.replace("Cannot read line", "Cannot produce line")} (the topic's maxMessageBytes ` +
        `of ${maxMessageBytes} bytes less the ${RECORD_BATCH_OVERHEAD}-byte record batch header): raise the ` +
        `topic's maxMessageBytes (--config maxMessageBytes=N when the topic is created)`,
    );
  }
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
