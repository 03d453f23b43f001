// A 3-broker KRaft cluster (replication factor 3, min.insync.replicas=2), started once for the
// file. The README's Bun example (the demo's ingest of the Wikipedia edits) gives the same
// partitions, offsets and records through connect() as on a log directory. While topic.writable() from connect() streams keyed records with acks=all, the leader of
// partition 0 is killed with SIGKILL: the stream carries on once the leadership moves, close()
// resolves, and every acknowledged record is in Kafka exactly once, in order per key. Then a
// consumer group of three `new Consumer(connection)`s reads the topic across a second kill, committing as
// it goes: every record is consumed at least once and the group's commits reach the end.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Readable } from "node:stream";
import { describe, test } from "node:test";
import {
  type ConsumedRecord,
  Consumer,
  type ConsumerLike,
  JsonLineRecordStream,
  LineStream,
  type LogDirectoryLike,
  open,
} from "../../mod.ts";
import { runKafkaTool, TOOLS } from "../interop/kafka/harness.ts";
import { clusterSkip, kafkaForFile } from "./_helpers.ts";

const SKIP = clusterSkip();
const TIMEOUT = { timeout: 300_000 };
const RECORDS = 6000;
const KEYS = 12;
const PARTITIONS = 3;
const text = (b: Uint8Array | null) => new TextDecoder().decode(b!);

const shared = kafkaForFile({
  brokers: 3,
  config: {
    // A killed broker is noticed within a few seconds, not Kafka's default 9.
    "broker.heartbeat.interval.ms": 500,
    "broker.session.timeout.ms": 3000,
    "default.replication.factor": 3,
    "min.insync.replicas": 2,
  },
}, { retryTimeoutMs: 60_000 });
const setup = shared.connection;

/** The node id of a partition's leader, as `kafka-topics --describe` prints it. */
async function leaderOf(topic: string, partition: number): Promise<number> {
  const { stdout } = await runKafkaTool(TOOLS.topicCommand, [
    ...["--bootstrap-server", shared.kafka.bootstrapServers, "--describe", "--topic", topic],
  ]);
  const line = stdout.split("\n").find((l) => new RegExp(`Partition: ${partition}\\s`).test(l));
  const m = /Leader: (-?\d+)/.exec(line ?? "");
  assert.ok(m, stdout);
  return Number(m[1]);
}

const WIKITICKER = path.join(
  import.meta.dirname!,
  "../../data/wikiticker/wikiticker-2015-09-12-sampled.json.gz",
);

/** The README's Bun example (the demo's ingest of the edits), typed against the shared shape. */
async function ingestEdits(log: LogDirectoryLike): Promise<{ all: string[]; afterNoon: number }> {
  const topic = log.hasTopic("edits")
    ? log.topic("edits")
    : await log.createTopic("edits", { partitions: 4, config: { retentionMs: -1 } });
  await (Readable.toWeb(fs.createReadStream(WIKITICKER)) as unknown as ReadableStream<
    Uint8Array<ArrayBuffer>
  >)
    .pipeThrough(new DecompressionStream("gzip"))
    .pipeThrough(new LineStream())
    .pipeThrough(new JsonLineRecordStream({ key: "channel", timestamp: "time" }))
    .pipeTo(topic.writable());
  const all: string[] = [];
  for await (const r of topic.readable({ from: "earliest" })) {
    all.push(`${r.partition} ${r.offset} ${r.timestamp} ${text(r.key)} ${r.value!.length}`);
  }
  let afterNoon = 0;
  for await (const _ of topic.readable({ from: { timestamp: Date.parse("2015-09-12T12:00:00Z") } })) {
    afterNoon++;
  }
  return { all: all.sort(), afterNoon };
}

describe("connect() against a 3-broker KRaft cluster", { skip: SKIP }, () => {
  test(
    "the demo's ingest of the real data gives the same partitions, offsets and records as a log directory",
    TIMEOUT,
    async () => {
      const c = await setup();
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-cluster-demo-"));
      const log = await open(dir);
      try {
        const local = await ingestEdits(log);
        const started = performance.now();
        const remote = await ingestEdits(c);
        const seconds = (performance.now() - started) / 1000;
        assert.equal(remote.all.length, 39_244);
        assert.deepEqual(remote, local);
        console.log(
          `demo ingest: ${remote.all.length} edits through connect() (RF 3), written and read in ${
            seconds.toFixed(1)
          } s`,
        );
      } finally {
        await log.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  test(
    "SIGKILL of the partition leader mid-stream: every acknowledged record exactly once, in order per key",
    TIMEOUT,
    async () => {
      const c = await setup();
      const topic = await c.createTopic("failover", {
        partitions: PARTITIONS,
        replicationFactor: 3,
        kafkaConfig: { "min.insync.replicas": 2 },
      });
      const leader = await leaderOf("failover", 0);
      let killed: Promise<void> | undefined;
      let i = 0;
      const source = new ReadableStream<{ key: string; value: string }>({
        async pull(controller) {
          if (i === RECORDS) return controller.close();
          if (i === RECORDS / 3) killed = shared.kafka.brokers[leader - 1].kill();
          if (i % 100 === 0) await new Promise((resolve) => setTimeout(resolve, 5)); // a stream, not one burst
          const key = `k${i % KEYS}`;
          controller.enqueue({ key, value: `${key}:${i}` });
          i++;
        },
      });
      await source.pipeTo(topic.writable({ lingerMs: 2 }));
      await killed;
      assert.notEqual(await leaderOf("failover", 0), leader, "the leadership moved");

      const seen = new Map<string, number>();
      const lastSeq = new Map<string, number>();
      for await (const r of topic.readable({ from: "earliest" })) {
        const value = text(r.value);
        seen.set(value, (seen.get(value) ?? 0) + 1);
        const [key, seq] = value.split(":");
        assert.equal(text(r.key), key);
        assert.ok(
          (lastSeq.get(key) ?? -1) < Number(seq),
          `${value} after ${key}:${lastSeq.get(key)}: out of order`,
        );
        lastSeq.set(key, Number(seq));
      }
      const duplicated = [...seen].filter(([, n]) => n > 1);
      assert.deepEqual(duplicated, [], "no record twice");
      const missing = Array.from({ length: RECORDS }, (_, n) => `k${n % KEYS}:${n}`).filter((v) =>
        !seen.has(v)
      );
      assert.deepEqual(missing, [], "every acknowledged record is there");
      console.log(
        `failover: ${RECORDS} records acknowledged through a leader kill (node ${leader}), all there once`,
      );
    },
  );

  test(
    "three Consumers (new Consumer(connection)) in one group keep consuming across a broker kill (at-least-once, commits resumed)",
    TIMEOUT,
    async () => {
      const c = await setup();
      const topic = c.topic("failover");
      const total = (await topic.describe()).reduce((n, p) => n + p.highWatermark, 0);
      assert.ok(total >= RECORDS);
      // Restart what the first test killed, so there is a broker to kill again.
      await shared.kafka.start();
      const members: ConsumerLike[] = [];
      for (let m = 0; m < 3; m++) {
        const consumer = new Consumer(c, {
          groupId: "failover-group",
          autoOffsetReset: "earliest",
          enableAutoCommit: false,
          sessionTimeoutMs: 10_000,
          heartbeatIntervalMs: 500,
        });
        consumer.subscribe(["failover"]);
        members.push(consumer);
      }
      const consumed = new Set<string>();
      let killedAt = -1;
      let rounds = 0;
      try {
        while (consumed.size < total) {
          assert.ok(++rounds < 2000, `consumed only ${consumed.size} of ${total}`);
          const batches = await Promise.all(members.map((m) => m.poll({ timeoutMs: 500, maxRecords: 200 })));
          for (const r of batches.flat() as ConsumedRecord[]) consumed.add(`${r.partition}:${r.offset}`);
          await Promise.all(members.map((m) => m.commit().catch(() => {}))); // a commit during a rebalance may fail
          if (killedAt < 0 && consumed.size > total / 3) {
            killedAt = consumed.size;
            await shared.kafka.brokers[(await leaderOf("failover", 1)) - 1].kill();
          }
        }
        // The commits reach the end: a new member of the group has nothing left to read.
        for (let tries = 0; tries < 20; tries++) {
          await Promise.all(
            members.map((m) => m.poll({ timeoutMs: 200 }).then(() => m.commit()).catch(() => {})),
          );
        }
      } finally {
        await Promise.all(members.map((m) => m.close()));
      }
      const committed = await c.committedOffsets("failover-group");
      const ends = (await topic.describe()).map((p) => p.highWatermark);
      assert.deepEqual(
        committed.sort((a, b) => a.partition - b.partition).map((o) => o.offset),
        ends,
      );
      console.log(
        `group failover: ${consumed.size} records consumed by 3 members across a broker kill at ${killedAt}`,
      );
    },
  );
});
