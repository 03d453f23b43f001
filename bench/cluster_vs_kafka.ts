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

import { spawn } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { connect } from "../mod.ts";
import { KAFKA_VERSION, startKafka } from "../tests/interop/kafka/harness.ts";
import {
  consumerPerf,
  producerPerf,
  ratioTable,
  requireKafka,
  ROOT as root,
  writeSection,
  writtenBy,
} from "./_kafka_perf.ts";

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
  const produced = await producerPerf(bootstrap, topic, n, "all");
  const consumed = await consumerPerf(bootstrap, topic, n);
  return {
    client: `Kafka ${KAFKA_VERSION} perf tools`,
    appendPerSec: produced.recordsPerSec,
    consumePerSec: consumed.recordsPerSec,
  };
}

function table(n: number, all: Figures[]): string {
  return ratioTable(
    `${n.toLocaleString("en")} × 100 B, 3 brokers, RF 3`,
    all.map((f) => f.client),
    all.slice(1).map((f) => f.client),
    [
      ["append, acks=all, idempotent: records/s", all.map((f) => f.appendPerSec)],
      ["consume from the earliest offset: records/s", all.map((f) => f.consumePerSec)],
    ],
  );
}

if (args[0] === "--child") {
  await child(args[1], args[2], Number(args[3]));
} else {
  requireKafka("cluster_vs_kafka");
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
    const note = `${
      writtenBy(`deno run -A bench/cluster_vs_kafka.ts${n === 200_000 ? "" : ` --records ${n}`}`, load)
    } (2 cores, shared, three brokers on the same machine: read the ratios). Both sides: batch.size 16 KiB, linger.ms 5, idempotence on with acks=all; 3 partitions, replication factor 3, min.insync.replicas=2.`;
    const out = `${note}\n\n${table(n, results)}`;
    console.log(out);
    if (args.includes("--write")) {
      writeSection(
        ["bench/RESULTS.md"],
        "cluster-bench",
        out,
        "Through connect() against a Kafka cluster",
      );
    }
  } finally {
    await kafka.stop();
  }
}
