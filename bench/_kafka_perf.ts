/**
 * What the benchmarks against Apache Kafka share (`cluster_vs_kafka.ts`, `serve_vs_kafka.ts`):
 * Kafka's own perf tools run and their output read, the check that Kafka can run here, the note
 * on the machine's load, and the table of figures with each column's ratio to Kafka's.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { kafkaUnavailable, runKafkaTool, TOOLS } from "../tests/interop/kafka/harness.ts";
import { replaceSection } from "./_common.ts";

/** The repository's root. */
export const ROOT: string = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");

/** What kafka-producer-perf-test reports. */
export interface ProducerFigures {
  /** Records sent per second. */
  recordsPerSec: number;
  /** MB sent per second. */
  mbPerSec: number;
  /** The 99th percentile of the ack latency, ms. */
  p99Ms: number;
}

/**
 * Runs kafka-producer-perf-test: `records` records of 100 B to `topic`, as fast as it can send.
 *
 * @param bootstrap `host:port` of a broker
 * @param topic the topic
 * @param records how many records
 * @param acks the producer's `acks` (`"1"`, `"all"`)
 */
export async function producerPerf(
  bootstrap: string,
  topic: string,
  records: number,
  acks: string,
): Promise<ProducerFigures> {
  const { stdout } = await runKafkaTool(TOOLS.producerPerformance, [
    ...["--topic", topic, "--num-records", String(records), "--record-size", "100", "--throughput", "-1"],
    ...["--producer-props", `bootstrap.servers=${bootstrap}`, `acks=${acks}`],
  ], { timeoutMs: 600_000 });
  // "1000000 records sent, 123456.7 records/sec (11.77 MB/sec), 12.3 ms avg latency, 345.0 ms max
  //  latency, 5 ms 50th, 20 ms 95th, 30 ms 99th, 40 ms 99.9th."
  const last = stdout.trim().split("\n").filter((l) => l.includes("records sent")).at(-1)!;
  const m = /([\d.]+) records\/sec \(([\d.]+) MB\/sec\).*?(\d+) ms 99th/.exec(last);
  if (!m) throw new Error(`Unexpected producer perf output: ${last}`);
  return { recordsPerSec: Number(m[1]), mbPerSec: Number(m[2]), p99Ms: Number(m[3]) };
}

/**
 * Runs kafka-consumer-perf-test over `records` records of `topic`, and answers its fetch figures.
 *
 * @param bootstrap `host:port` of a broker
 * @param topic the topic
 * @param records how many records to read
 */
export async function consumerPerf(
  bootstrap: string,
  topic: string,
  records: number,
): Promise<{ recordsPerSec: number; mbPerSec: number }> {
  const { stdout } = await runKafkaTool(TOOLS.consumerPerformance, [
    ...[
      "--bootstrap-server",
      bootstrap,
      "--topic",
      topic,
      "--messages",
      String(records),
      "--timeout",
      "60000",
    ],
  ], { timeoutMs: 600_000 });
  // start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec,
  // rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec: the fetch figures leave out
  // joining the group (whose first rebalance waits group.initial.rebalance.delay.ms, 3 s by default
  // in reel serve as in Kafka, 0 in the harness's Kafka).
  const line = stdout.trim().split("\n").at(-1)!.split(",").map((f) => f.trim());
  return { mbPerSec: Number(line[8]), recordsPerSec: Number(line[9]) };
}

/**
 * Exits with status 1, saying why, when Kafka cannot run here (no Java, no jars).
 *
 * @param script the script's name, for the message
 */
export function requireKafka(script: string): void {
  const unavailable = kafkaUnavailable();
  if (unavailable) {
    console.error(`${script}: ${unavailable}`);
    process.exit(1);
  }
}

/**
 * The first sentence of a result's note: the command that wrote it, when, and the load average
 * at its start and now.
 *
 * @param command the command, as the reader would run it again
 * @param loadAtStart the one-minute load average when the run began
 */
export function writtenBy(command: string, loadAtStart: number): string {
  return `Written by \`${command}\` on ${new Date().toISOString().slice(0, 19)}Z, load average ${
    loadAtStart.toFixed(2)
  } at start / ${os.loadavg()[0].toFixed(2)} at end`;
}

/**
 * A markdown table: one column per run (Kafka's first), then each other run's ratio to Kafka's.
 *
 * @param title the first header cell
 * @param names each run's name
 * @param ratioNames each run's name in its ratio column (the runs after the first)
 * @param rows each row's name and each run's figure
 */
export function ratioTable(
  title: string,
  names: readonly string[],
  ratioNames: readonly string[],
  rows: readonly (readonly [string, readonly number[]])[],
): string {
  const ratio = (x: number, k: number) => k === 0 ? "n/a" : `${(x / k).toFixed(2)}×`;
  const fmt = (n: number) => n >= 1000 ? `${(n / 1000).toFixed(1)} k` : n === 0 ? "< 1" : n.toFixed(1);
  const head = `| ${title} | ${names.join(" | ")} | ${ratioNames.map((n) => `${n} ÷ Kafka`).join(" | ")} |`;
  const sep = `| --- | ${names.map(() => "---:").join(" | ")} | ${
    ratioNames.map(() => "---:").join(" | ")
  } |`;
  const body = rows.map(([name, values]) =>
    `| ${name} | ${values.map(fmt).join(" | ")} | ${
      values.slice(1).map((v) => ratio(v, values[0])).join(" | ")
    } |`
  );
  return [head, sep, ...body].join("\n");
}

/**
 * Puts `content` between the `<!-- section:start -->` and `<!-- section:end -->` markers of each
 * file (see `replaceSection`), then formats the files as `deno fmt --check` wants them.
 *
 * @param files the files, relative to the repository's root
 * @param section the markers' name
 * @param content the new section
 * @param heading the heading of a section added at the end of a file that has none
 */
export function writeSection(
  files: readonly string[],
  section: string,
  content: string,
  heading?: string,
): void {
  for (const file of files) replaceSection(path.join(ROOT, file), section, content, heading);
  // The project's formatter aligns the table as `deno fmt --check` wants it.
  spawnSync(path.join(ROOT, "node_modules", ".bin", "deno"), ["fmt", ...files], { cwd: ROOT });
}
