// The cost of the mapping: append and consume through `connect()` (on Deno and on Bun) against a
// 3-broker KRaft cluster, next to Kafka's own perf tools on the same cluster and topic settings:
//
//   - append: N records of 100 B without keys through `topic.writable()` (batch.size 16 KiB,
//     linger.ms 5, idempotent, acks=all: the perf tool's producer defaults), until `close()`
//     resolves, vs kafka-producer-perf-test with acks=all;
//   - consume: the same N records through `topic.readableBatches()` from the earliest offset, vs
//     kafka-consumer-perf-test (its fetch figures, after the group join).
//
// The topic has 3 partitions, replication factor 3, min.insync.replicas=2. The brokers run with the
// harness's small JVM options (three brokers on a 2-core machine).
//
// Usage: deno run -A bench/cluster_vs_kafka.ts [--records N] [--write]
//   --records N  records per run (default 200,000)
//   --write      put the table in bench/RESULTS.md (between the cluster-bench markers)
// Child mode (run by the script itself): <runtime> bench/cluster_vs_kafka.ts --child BOOTSTRAP TOPIC N

import { spawn, spawnSync } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { connect } from "../mod.ts";
import {
  KAFKA_VERSION,
  kafkaUnavailable,
  runKafkaTool,
  startKafka,
  TOOLS,
} from "../tests/interop/kafka/harness.ts";
import { replaceSection } from "./_common.ts";

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const option = (name: string) => args.includes(name) ? args[args.indexOf(name) + 1] : undefined;

interface Figures {
  client: string;
  appendPerSec: number;
  consumePerSec: number;
}

/** Child mode: append N records to TOPIC through connect(), then read them back; prints JSON. */
async function child(bootstrap: string, topic: string, n: number): Promise<void> {
  const connection = await connect({ bootstrapServers: bootstrap });
  const t = connection.topic(topic);
  const value = new Uint8Array(100).fill(120);
  let i = 0;
  const source = new ReadableStream<{ value: Uint8Array }>({
    pull(controller) {
      for (let k = 0; k < 1000 && i < n; k++, i++) controller.enqueue({ value });
      if (i === n) controller.close();
    },
  });
  let started = performance.now();
  await source.pipeTo(t.writable({ batchSize: 16384, lingerMs: 5 }));
  const appendPerSec = n / ((performance.now() - started) / 1000);
  started = performance.now();
  let read = 0;
  for await (const batch of t.readableBatches({ from: "earliest" })) read += batch.length;
  const consumePerSec = read / ((performance.now() - started) / 1000);
  await connection.close();
  if (read !== n) throw new Error(`Read ${read} records of ${n}`);
  console.log(JSON.stringify({ appendPerSec, consumePerSec }));
}

async function runChild(
  runtime: "deno" | "bun",
  bootstrap: string,
  topic: string,
  n: number,
): Promise<Figures> {
  const bin = path.join(root, "node_modules", ".bin", runtime);
  const script = fileURLToPath(import.meta.url);
  const argv = runtime === "deno" ? ["run", "-A", script] : [script];
  const proc = spawn(bin, [...argv, "--child", bootstrap, topic, String(n)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  proc.stdout.on("data", (d) => out += d);
  const code = await new Promise<number | null>((resolve) => proc.on("close", resolve));
  if (code !== 0) throw new Error(`The ${runtime} child failed (${code}): ${out}`);
  const figures = JSON.parse(out.trim().split("\n").at(-1)!);
  return { client: `connect() (${runtime === "deno" ? "Deno" : "Bun"})`, ...figures };
}

async function kafkaPerf(bootstrap: string, topic: string, n: number): Promise<Figures> {
  const produced = await runKafkaTool(TOOLS.producerPerformance, [
    ...["--topic", topic, "--num-records", String(n), "--record-size", "100", "--throughput", "-1"],
    ...["--producer-props", `bootstrap.servers=${bootstrap}`, "acks=all"],
  ], { timeoutMs: 600_000 });
  const last = produced.stdout.trim().split("\n").filter((l) => l.includes("records sent")).at(-1)!;
  const m = /([\d.]+) records\/sec/.exec(last);
  if (!m) throw new Error(`Unexpected producer perf output: ${last}`);
  const consumed = await runKafkaTool(TOOLS.consumerPerformance, [
    ...["--bootstrap-server", bootstrap, "--topic", topic, "--messages", String(n), "--timeout", "60000"],
  ], { timeoutMs: 600_000 });
  const line = consumed.stdout.trim().split("\n").at(-1)!.split(",").map((f) => f.trim());
  return {
    client: `Kafka ${KAFKA_VERSION} perf tools`,
    appendPerSec: Number(m[1]),
    consumePerSec: Number(line[9]),
  };
}

function table(n: number, all: Figures[]): string {
  const kafka = all[0];
  const fmt = (x: number) => `${(x / 1000).toFixed(1)} k`;
  const rows = [
    ["append, acks=all, idempotent: records/s", (f: Figures) => f.appendPerSec],
    ["consume from the earliest offset: records/s", (f: Figures) => f.consumePerSec],
  ] as const;
  const head = `| ${n.toLocaleString("en")} × 100 B, 3 brokers, RF 3 | ${
    all.map((f) => f.client).join(" | ")
  } | ${all.slice(1).map((f) => `${f.client} ÷ Kafka`).join(" | ")} |`;
  const sep = `| --- | ${all.map(() => "---:").join(" | ")} | ${
    all.slice(1).map(() => "---:").join(" | ")
  } |`;
  const body = rows.map(([name, get]) =>
    `| ${name} | ${all.map((f) => fmt(get(f))).join(" | ")} | ${
      all.slice(1).map((f) => `${(get(f) / get(kafka)).toFixed(2)}×`).join(" | ")
    } |`
  );
  return [head, sep, ...body].join("\n");
}

if (args[0] === "--child") {
  await child(args[1], args[2], Number(args[3]));
} else {
  const unavailable = kafkaUnavailable();
  if (unavailable) {
    console.error(`cluster_vs_kafka: ${unavailable}`);
    process.exit(1);
  }
  const n = Number(option("--records") ?? 200_000);
  const load = os.loadavg()[0];
  const kafka = await startKafka({
    brokers: 3,
    config: { "default.replication.factor": 3, "min.insync.replicas": 2 },
  });
  try {
    const bootstrap = kafka.bootstrapServers;
    for (const t of ["perf-kafka", "perf-deno", "perf-bun"]) {
      await kafka.createTopic(t, 3, { "min.insync.replicas": 2 }, 3);
    }
    const results = [
      await kafkaPerf(bootstrap, "perf-kafka", n),
      await runChild("deno", bootstrap, "perf-deno", n),
      await runChild("bun", bootstrap, "perf-bun", n),
    ];
    const note = `Written by \`deno run -A bench/cluster_vs_kafka.ts${
      n === 200_000 ? "" : ` --records ${n}`
    }\` on ${new Date().toISOString().slice(0, 19)}Z, load average ${load.toFixed(2)} at start / ${
      os.loadavg()[0].toFixed(2)
    } at end (2 cores, shared, three brokers on the same machine: read the ratios). Both sides: batch.size 16 KiB, linger.ms 5, idempotence on with acks=all; 3 partitions, replication factor 3, min.insync.replicas=2.`;
    const out = `${note}\n\n${table(n, results)}`;
    console.log(out);
    if (args.includes("--write")) {
      replaceSection(
        path.join(root, "bench", "RESULTS.md"),
        "cluster-bench",
        out,
        "Through connect() against a Kafka cluster",
      );
      spawnSync(path.join(root, "node_modules", ".bin", "deno"), ["fmt", "bench/RESULTS.md"], { cwd: root });
    }
  } finally {
    await kafka.stop();
  }
}
