// The Kafka harness itself: a cluster of three KRaft nodes (each a broker and a controller quorum
// voter) serves a replicated topic, keeps serving it when one node is killed with SIGKILL, takes the
// node back; Kafka's perf and consumer-group tools run against it; and a test process that dies
// (an uncaught error, or SIGKILL) leaves no Java process behind.

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { RUNTIME, runtimeCommand, spawnLines } from "../../durability/_helpers.ts";
import {
  HARNESS_DIR,
  javaConsume,
  javaProduce,
  type KafkaCluster,
  kafkaUnavailable,
  runKafkaTool,
  startKafka,
  toHex,
  TOOLS,
} from "./harness.ts";

const SKIP = kafkaUnavailable();
const TIMEOUT = { timeout: 300_000 };
const CHILD = path.join(HARNESS_DIR, "_harness_child.ts");

let cluster: KafkaCluster | undefined;

after(async () => {
  await cluster?.destroy();
});

/** The pids of running Java processes whose command line mentions `text`. */
function javaProcessesWith(text: string): number[] {
  const out: number[] = [];
  for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    let cmdline: string;
    try {
      cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
    } catch {
      continue;
    }
    if (cmdline.startsWith("java ") && cmdline.includes(text)) out.push(Number(pid));
  }
  return out;
}

async function waitUntilGone(text: string): Promise<number[]> {
  // Killed processes take a moment to be reaped; a safety limit, not a pass condition.
  for (let i = 0; i < 200; i++) {
    const left = javaProcessesWith(text);
    if (left.length === 0) return left;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return javaProcessesWith(text);
}

describe(`the Kafka harness (${RUNTIME})`, { skip: SKIP }, () => {
  test(
    "a cluster of three KRaft nodes serves a replicated topic, and goes on when one is killed with SIGKILL",
    TIMEOUT,
    async () => {
      cluster = await startKafka({ brokers: 3 });
      const k = cluster;
      assert.equal(k.bootstrapServers.split(",").length, 3);
      await k.createTopic("replicated", 2, { "min.insync.replicas": 2 }, 3);
      const sends = (tag: string) =>
        Array.from({ length: 10 }, (_, i) => ({
          send: {
            partition: i % 2,
            key: toHex(`${tag}${i}`),
            value: toHex(`${tag}-value-${i}`),
            headers: [],
          },
        }));
      await javaProduce(k.bootstrapServers, "replicated", sends("a"));
      // Every node holds a replica of each partition.
      for (let b = 0; b < 3; b++) {
        assert.ok(fs.existsSync(k.partitionDir("replicated", 0, b)), `node ${b + 1}`);
      }

      await k.brokers[2].kill();
      assert.equal(k.brokers[2].running, false);
      const alive = k.brokers.slice(0, 2).map((b) => `127.0.0.1:${b.port}`).join(",");
      await javaProduce(alive, "replicated", sends("b"), { "acks": "all" });
      const records = await javaConsume(alive, "replicated");
      assert.equal(records.length, 20);
      assert.deepEqual(
        records.filter((r) => r.partition === 0).map((r) => r.offset),
        Array.from({ length: 10 }, (_, i) => i),
      );

      k.brokers[2].start();
      await k.brokers[2].ready();
      assert.equal((await javaConsume(k.bootstrapServers, "replicated")).length, 20);
    },
  );

  test("Kafka's perf tools and the consumer group command run against it", TIMEOUT, async () => {
    assert.ok(cluster, "the cluster of the test before");
    const bootstrap = cluster.bootstrapServers;
    await cluster.createTopic("perf", 1, {}, 3);
    const produced = await runKafkaTool(TOOLS.producerPerformance, [
      "--topic",
      "perf",
      "--num-records",
      "2000",
      "--record-size",
      "100",
      "--throughput",
      "-1",
      "--producer-props",
      `bootstrap.servers=${bootstrap}`,
    ]);
    assert.match(produced.stdout, /2000 records sent/);
    const consumed = await runKafkaTool(TOOLS.consumerPerformance, [
      "--bootstrap-server",
      bootstrap,
      "--topic",
      "perf",
      "--messages",
      "2000",
      "--group",
      "perf-group",
      "--timeout",
      "60000",
    ]);
    assert.match(consumed.stdout, /start\.time/);
    const groups = await runKafkaTool(TOOLS.consumerGroups, ["--bootstrap-server", bootstrap, "--list"]);
    assert.match(groups.stdout, /perf-group/);
  });

  for (const how of ["throws", "sigkill"] as const) {
    test(
      `a test process that ${
        how === "throws" ? "dies of an uncaught error" : "is killed with SIGKILL"
      } leaves no Java process behind`,
      TIMEOUT,
      async () => {
        const [cmd, args] = runtimeCommand(CHILD, [how]);
        const child = spawnLines(cmd, args);
        let dir = "";
        for (;;) {
          const line = await child.nextLine();
          if (line === null) break;
          const m = /^serving (\S+)$/.exec(line);
          if (m) {
            dir = m[1];
            assert.ok(javaProcessesWith(dir).length > 0, "its broker runs");
            if (how === "sigkill") child.child.kill("SIGKILL");
            else child.child.stdin!.end("throw\n");
          }
        }
        const { code, signal } = await child.exited;
        assert.ok(dir, "the child started a broker");
        assert.ok(code !== 0 || signal !== null, "the child died");
        assert.deepEqual(await waitUntilGone(dir), [], "no Java process of the dead test is left");
        fs.rmSync(dir, { recursive: true, force: true });
      },
    );
  }
});
