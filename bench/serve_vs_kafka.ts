// `reel serve` against a real Apache Kafka broker (the harness's pinned release, started with the
// JVM options of `kafka-server-start.sh`) on the same machine, side by side in one run, with the
// same client (Kafka's own perf tools) and settings:
//
//   - kafka-producer-perf-test: N records of 100 B, acks=1 and acks=all, as fast as it can send;
//   - kafka-consumer-perf-test: the same N records read back;
//   - kafka-e2e-latency (EndToEndLatency): one record at a time, produce → consume, p50/p99/p99.9;
//   - peak RSS of the broker process (VmHWM), and the time from the process's start to the first
//     answered request (an ApiVersions over a raw socket, polled every 10 ms).
//
// reel serve runs as the `reel serve` command on Deno and on Bun, each over a fresh directory with
// the default `fsync: "never"` (acks=all waits for the topic's fsync policy, as Kafka's waits for
// the in-sync replicas: one here); Kafka with one KRaft node, `log.flush.*` at its defaults (never).
//
// Usage: deno run -A bench/serve_vs_kafka.ts [--records N] [--write]
//   --records N  records per perf run (default 1,000,000, the issue's size)
//   --write      put the table in bench/RESULTS.md and README.md (between the serve-bench markers)
// Needs Java and Kafka's jars (`node tests/run.mjs` fetches them, or
// `mvn -q -f tests/interop/kafka/pom.xml dependency:copy-dependencies`).

import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import {
  freePorts,
  KAFKA_DEFAULT_JVM_OPTIONS,
  KAFKA_VERSION,
  runKafkaTool,
  startKafka,
  TOOLS,
} from "../tests/interop/kafka/harness.ts";
import {
  consumerPerf,
  type ProducerFigures,
  producerPerf,
  ratioTable,
  requireKafka,
  ROOT as root,
  writeSection,
  writtenBy,
} from "./_kafka_perf.ts";

const args = process.argv.slice(2);
const RECORDS = Number(args[args.indexOf("--records") + 1] ?? 0) > 0 && args.includes("--records")
  ? Number(args[args.indexOf("--records") + 1])
  : 1_000_000;
const E2E_RECORDS = Math.max(1000, Math.min(10_000, RECORDS / 100));
const WRITE = args.includes("--write");

interface Figures {
  broker: string;
  startupMs: number;
  produceAcks1: ProducerFigures;
  produceAcksAll: ProducerFigures;
  consume: { recordsPerSec: number; mbPerSec: number };
  e2e: { p50: number; p99: number; p999: number };
  peakRssMiB: number;
}

/** Sends ApiVersions v0 until a response comes back; resolves with the time it took from `since`. */
async function firstAnswer(port: number, since: number): Promise<number> {
  // size 14: api key 18, version 0, correlation id 1, client id "b" (int16 length + 1 byte)
  const request = new Uint8Array([0, 0, 0, 11, 0, 18, 0, 0, 0, 0, 0, 1, 0, 1, 98]);
  for (;;) {
    const answered = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1", () => socket.write(request));
      socket.once("data", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
      socket.once("close", () => resolve(false));
    });
    if (answered) return performance.now() - since;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Peak RSS (VmHWM) of a process, MiB. */
function peakRss(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]);
  return kb / 1024;
}

async function e2eLatency(
  bootstrap: string,
  topic: string,
): Promise<{ p50: number; p99: number; p999: number }> {
  // Positional in Kafka 4.1: broker_list topic num_messages producer_acks message_size_bytes
  const { stdout } = await runKafkaTool("org.apache.kafka.tools.EndToEndLatency", [
    bootstrap,
    topic,
    String(E2E_RECORDS),
    "1",
    "100",
  ], { timeoutMs: 600_000 });
  // "Percentiles: 50th = 1, 99th = 3, 99.9th = 7"
  const m = /50th = ([\d.]+), 99th = ([\d.]+), 99\.9th = ([\d.]+)/.exec(stdout);
  if (!m) throw new Error(`Unexpected end-to-end latency output: ${stdout}`);
  return { p50: Number(m[1]), p99: Number(m[2]), p999: Number(m[3]) };
}

async function createTopics(bootstrap: string): Promise<void> {
  for (const topic of ["perf-acks1", "perf-acksall", "e2e"]) {
    await runKafkaTool(TOOLS.topicCommand, [
      "--bootstrap-server",
      bootstrap,
      "--create",
      "--topic",
      topic,
      "--partitions",
      "1",
      "--replication-factor",
      "1",
    ]);
  }
}

async function measure(broker: string, bootstrap: string, pid: number, startupMs: number): Promise<Figures> {
  process.stderr.write(`${broker}: serving after ${startupMs.toFixed(0)} ms\n`);
  await createTopics(bootstrap);
  const produceAcks1 = await producerPerf(bootstrap, "perf-acks1", RECORDS, "1");
  process.stderr.write(`${broker}: produce acks=1 ${produceAcks1.recordsPerSec} records/s\n`);
  const produceAcksAll = await producerPerf(bootstrap, "perf-acksall", RECORDS, "all");
  process.stderr.write(`${broker}: produce acks=all ${produceAcksAll.recordsPerSec} records/s\n`);
  const consume = await consumerPerf(bootstrap, "perf-acks1", RECORDS);
  process.stderr.write(`${broker}: consume ${consume.recordsPerSec} records/s\n`);
  const e2e = await e2eLatency(bootstrap, "e2e");
  process.stderr.write(`${broker}: end-to-end p99 ${e2e.p99} ms\n`);
  return { broker, startupMs, produceAcks1, produceAcksAll, consume, e2e, peakRssMiB: peakRss(pid) };
}

async function benchKafka(): Promise<Figures> {
  const started = performance.now();
  const cluster = await startKafka({
    jvmOptions: KAFKA_DEFAULT_JVM_OPTIONS,
    config: { "auto.create.topics.enable": true },
  });
  try {
    const broker = cluster.brokers[0];
    const startupMs = await firstAnswer(broker.port, started);
    return await measure(`Apache Kafka ${KAFKA_VERSION}`, cluster.bootstrapServers, broker.pid!, startupMs);
  } finally {
    await cluster.stop();
  }
}

async function benchReel(runtime: "deno" | "bun"): Promise<Figures> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-serve-bench-"));
  const port = (await freePorts(1))[0];
  const main = path.join(root, "src", "cli", "main.ts");
  const bin = path.join(root, "node_modules", ".bin", runtime);
  const argv = [
    ...(runtime === "deno" ? ["run", "-A", main] : [main]),
    "serve",
    "--dir",
    dir,
    "--listen",
    `127.0.0.1:${port}`,
  ];
  const started = performance.now();
  const child = spawn(bin, argv, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d) => stderr += d);
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  try {
    const startupMs = await firstAnswer(port, started);
    const version = runtime === "deno" ? "Deno" : "Bun";
    return await measure(`reel serve (${version})`, `127.0.0.1:${port}`, child.pid!, startupMs);
  } catch (err) {
    throw new Error(`${(err as Error).message}\nreel serve said: ${stderr}`);
  } finally {
    child.kill("SIGTERM");
    await exited;
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function table(all: Figures[]): string {
  const rows = [
    ["produce, acks=1: records/s", (f: Figures) => f.produceAcks1.recordsPerSec],
    ["produce, acks=all: records/s", (f: Figures) => f.produceAcksAll.recordsPerSec],
    ["produce, acks=1: p99 ack latency, ms", (f: Figures) => f.produceAcks1.p99Ms],
    ["consume (fetching, after the group join): records/s", (f: Figures) => f.consume.recordsPerSec],
    ["end-to-end latency p50, ms", (f: Figures) => f.e2e.p50],
    ["end-to-end latency p99, ms", (f: Figures) => f.e2e.p99],
    ["end-to-end latency p99.9, ms", (f: Figures) => f.e2e.p999],
    ["broker peak RSS, MiB", (f: Figures) => f.peakRssMiB],
    ["start to first answered request, ms", (f: Figures) => f.startupMs],
  ] as const;
  return ratioTable(
    `${RECORDS.toLocaleString("en")} × 100 B`,
    all.map((f) => f.broker),
    all.slice(1).map((f) => f.broker.replace("reel serve ", "")),
    rows.map(([name, get]) => [name, all.map(get)] as const),
  );
}

requireKafka("serve_vs_kafka");
const load = os.loadavg()[0];
const results = [await benchKafka(), await benchReel("deno"), await benchReel("bun")];
const note = `${
  writtenBy(
    `deno run -A bench/serve_vs_kafka.ts${RECORDS === 1_000_000 ? "" : ` --records ${RECORDS}`}`,
    load,
  )
} (2 cores, shared: read the ratios). Clients: Kafka ${KAFKA_VERSION}'s perf tools (producer defaults: batch.size 16 KiB, linger.ms 5, idempotence on with acks=all); end-to-end: ${E2E_RECORDS} records one at a time.`;
const out = `${note}\n\n${table(results)}`;
console.log(out);
if (WRITE) writeSection(["README.md", "bench/RESULTS.md"], "serve-bench", out);
