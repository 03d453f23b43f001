/**
 * The demo on real input: ingest the Apache access log (keyed by client IP) and the gzipped
 * Wikipedia edits (decompressed in-stream, keyed by channel, timestamped by their `time` field) into
 * a fresh log directory, consume everything back, check the counts, each key's order and the
 * timestamps, and print a table. Runs the same on Deno and on Bun; `npm run demo` runs it on Deno and
 * then, with `--verify-only`, on Bun over what Deno wrote.
 *
 * ```sh
 * deno run -A demo/demo.ts --dir /tmp/reel-demo            # ingest, then verify
 * bun demo/demo.ts --dir /tmp/reel-demo --verify-only      # verify what is there
 * ```
 *
 * Exit status: 0 when every check passes, 1 otherwise (2 for a usage error).
 *
 * @module
 */
import fs from "node:fs";
import process from "node:process";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  JsonLineRecordStream,
  LineStream,
  type LogDirectory,
  open,
  type ProducerRecord,
  type Topic,
} from "../mod.ts";

const DATA = fileURLToPath(new URL("../data/", import.meta.url));
const APACHE_LOGS = `${DATA}apache_logs/apache_logs`;
const WIKITICKER = `${DATA}wikiticker/wikiticker-2015-09-12-sampled.json.gz`;
const PARTITIONS = 4;
/** The 2015 timestamps of the edits are far older than the default retention: keep everything. */
const TOPIC_CONFIG = { retentionMs: -1 };
const RUNTIME = process.versions.bun !== undefined
  ? `bun ${process.versions.bun}`
  : `deno ${process.versions.deno}`;

/** One input: where it comes from, how it becomes records, and what must come back. */
interface Dataset {
  topic: string;
  /** The record count SOURCE.md gives. */
  expectedCount: number;
  /** The input as a stream of producer records. */
  records(): ReadableStream<ProducerRecord>;
  /** The input as the consumer must see it: key and value text and timestamp, in input order. */
  expected(): Promise<Expected[]>;
  /** Whether the record timestamps come from the data (else they are append times). */
  timestamped: boolean;
}

interface Expected {
  key: string;
  value: string;
  timestamp?: number;
}

function fileStream(path: string): ReadableStream<Uint8Array<ArrayBuffer>> {
  return Readable.toWeb(fs.createReadStream(path)) as unknown as ReadableStream<Uint8Array<ArrayBuffer>>;
}

function map<I, O>(fn: (chunk: I) => O): TransformStream<I, O> {
  return new TransformStream({ transform: (chunk, controller) => controller.enqueue(fn(chunk)) });
}

const IP = /^(\S+)/;

const DATASETS: Dataset[] = [
  {
    topic: "access",
    expectedCount: 10_000,
    timestamped: false,
    records: () =>
      fileStream(APACHE_LOGS)
        .pipeThrough(new LineStream())
        .pipeThrough(map((line: string): ProducerRecord => ({ key: IP.exec(line)![1], value: line }))),
    expected: async () => {
      const out: Expected[] = [];
      for await (const line of fileStream(APACHE_LOGS).pipeThrough(new LineStream())) {
        out.push({ key: IP.exec(line)![1], value: line });
      }
      return out;
    },
  },
  {
    topic: "wikiticker",
    expectedCount: 39_244,
    timestamped: true,
    records: () =>
      fileStream(WIKITICKER)
        .pipeThrough(new DecompressionStream("gzip"))
        .pipeThrough(new LineStream())
        .pipeThrough(new JsonLineRecordStream({ key: "channel", timestamp: "time" })),
    expected: async () => {
      const out: Expected[] = [];
      const lines = fileStream(WIKITICKER).pipeThrough(new DecompressionStream("gzip")).pipeThrough(
        new LineStream(),
      );
      for await (const line of lines) {
        const edit = JSON.parse(line) as { channel: string; time: string };
        out.push({ key: edit.channel, value: line, timestamp: Date.parse(edit.time) });
      }
      return out;
    },
  },
];

interface Row {
  topic: string;
  records: number;
  bytes: number;
  partitions: number;
  segments: number;
  produceRate?: number;
  consumeRate: number;
}

const failures: string[] = [];

function check(ok: boolean, message: string): void {
  if (!ok) failures.push(message);
}

async function produce(log: LogDirectory, dataset: Dataset): Promise<number> {
  if (log.hasTopic(dataset.topic)) {
    throw new Error(`Cannot ingest ${dataset.topic}: the topic exists already`);
  }
  const topic = await log.createTopic(dataset.topic, { partitions: PARTITIONS, config: TOPIC_CONFIG });
  const started = performance.now();
  await dataset.records().pipeTo(topic.writable());
  const seconds = (performance.now() - started) / 1000;
  const records = topic.describe().reduce((n, p) => n + p.logEndOffset - p.logStartOffset, 0);
  return records / seconds;
}

/** Consumes the whole topic and checks it against the input: count, each key's order, timestamps. */
async function verify(topic: Topic, dataset: Dataset): Promise<number> {
  const expected = await dataset.expected();
  check(
    expected.length === dataset.expectedCount,
    `${dataset.topic}: the input has ${expected.length} records, SOURCE.md says ${dataset.expectedCount}`,
  );
  const byKey = new Map<string, Expected[]>();
  for (const e of expected) {
    let list = byKey.get(e.key);
    if (list === undefined) byKey.set(e.key, list = []);
    list.push(e);
  }
  const seen = new Map<string, number>();
  const partitionOfKey = new Map<string, number>();
  const nextOffset = new Array<number>(topic.partitions).fill(0);
  const decoder = new TextDecoder();
  let count = 0;
  let reported = 0;
  const fail = (message: string) => {
    if (reported++ < 5) check(false, message);
  };
  const started = performance.now();
  for await (const record of topic.readable({ from: "earliest" })) {
    count++;
    const where = `${dataset.topic}-${record.partition}@${record.offset}`;
    if (record.offset !== nextOffset[record.partition]) {
      fail(`${where}: expected offset ${nextOffset[record.partition]}`);
    }
    nextOffset[record.partition] = record.offset + 1;
    const key = record.key === null ? "" : decoder.decode(record.key);
    if ((partitionOfKey.get(key) ?? record.partition) !== record.partition) {
      fail(`${where}: key ${key} in two partitions`);
    }
    partitionOfKey.set(key, record.partition);
    const i = seen.get(key) ?? 0;
    seen.set(key, i + 1);
    const want = byKey.get(key)?.[i];
    if (want === undefined) {
      fail(`${where}: unexpected record #${i + 1} of key ${JSON.stringify(key)}`);
      continue;
    }
    if (record.value === null || decoder.decode(record.value) !== want.value) {
      fail(`${where}: record #${i + 1} of key ${JSON.stringify(key)} is not the input's, or out of order`);
    }
    if (want.timestamp !== undefined && record.timestamp !== want.timestamp) {
      fail(`${where}: timestamp ${record.timestamp}, expected ${want.timestamp}`);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  check(
    count === expected.length,
    `${dataset.topic}: consumed ${count} records, expected ${expected.length}`,
  );
  for (const [key, list] of byKey) {
    const got = seen.get(key) ?? 0;
    if (got !== list.length) {
      fail(`${dataset.topic}: key ${JSON.stringify(key)}: ${got} records, expected ${list.length}`);
    }
  }
  return count / seconds;
}

function table(rows: Row[]): string {
  const header = ["topic", "records", "bytes", "partitions", "segments", "produce rec/s", "consume rec/s"];
  const cells = rows.map((r) => [
    r.topic,
    String(r.records),
    String(r.bytes),
    String(r.partitions),
    String(r.segments),
    r.produceRate === undefined ? "-" : String(Math.round(r.produceRate)),
    String(Math.round(r.consumeRate)),
  ]);
  const all = [header, ...cells];
  const widths = header.map((_, i) => Math.max(...all.map((row) => row[i].length)));
  return all.map((row) =>
    row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ")
  )
    .join("\n");
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: process.argv.slice(2),
      options: { dir: { type: "string" }, "verify-only": { type: "boolean" } },
    }));
  } catch (err) {
    console.error(`demo: ${(err as Error).message}`);
    return 2;
  }
  if (!values.dir) {
    console.error("Usage: demo.ts --dir D [--verify-only]");
    return 2;
  }
  const verifyOnly = values["verify-only"] === true;
  if (verifyOnly && !fs.existsSync(values.dir)) {
    console.error(`demo: Cannot verify ${values.dir}: it does not exist`);
    return 1;
  }
  console.log(`${RUNTIME}: ${verifyOnly ? "verifying" : "ingesting into"} ${values.dir}`);
  const log = await open(values.dir);
  const rows: Row[] = [];
  try {
    for (const dataset of DATASETS) {
      const produceRate = verifyOnly ? undefined : await produce(log, dataset);
      if (!log.hasTopic(dataset.topic)) {
        check(false, `${dataset.topic}: no such topic in ${values.dir}`);
        continue;
      }
      const topic = log.topic(dataset.topic);
      const consumeRate = await verify(topic, dataset);
      const partitions = topic.describe();
      rows.push({
        topic: dataset.topic,
        records: partitions.reduce((n, p) => n + p.logEndOffset - p.logStartOffset, 0),
        bytes: partitions.reduce((n, p) => n + p.bytes, 0),
        partitions: topic.partitions,
        segments: partitions.reduce((n, p) => n + p.segments, 0),
        produceRate,
        consumeRate,
      });
    }
  } finally {
    await log.close();
  }
  console.log(table(rows));
  if (failures.length > 0) {
    for (const f of failures) console.log(`FAIL ${f}`);
    return 1;
  }
  console.log(
    `${RUNTIME}: ok: counts (${DATASETS.map((d) => d.expectedCount).join(", ")}), each key's order` +
      " and the edits' timestamps match the input",
  );
  return 0;
}

process.exit(await main());
