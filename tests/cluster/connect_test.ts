// connect() against a real Kafka 4.1.1 broker (one KRaft node, started once for the file): the
// Topic faces round-trip records, keys land on the partition a log directory puts them in,
// readable({ from: { timestamp } }) starts where ListOffsets says, and a `new Consumer(connection)`'s commits
// are Kafka's group offsets (kafka-consumer-groups sees them). Without Java or the jars these
// tests skip, unless REEL_REQUIRE_KAFKA=1, which makes that a failure.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, test } from "node:test";
import {
  ClusterConsumer,
  type ConsumedRecord,
  Consumer,
  InvalidConfigError,
  open,
  type ProducerRecord,
  TopicExistsError,
  type TopicLike,
  UnknownTopicOrPartitionError,
} from "../../mod.ts";
import { javaConsume, runKafkaTool, toHex, TOOLS } from "../interop/kafka/harness.ts";
import { ADMIN_SCENARIO_RESULT, adminScenario, clusterSkip, kafkaForFile } from "./_helpers.ts";

const SKIP = clusterSkip();
const TIMEOUT = { timeout: 180_000 };
const text = (b: Uint8Array | null) => b === null ? null : new TextDecoder().decode(b);

const shared = kafkaForFile({}, { clientId: "reel-test" });
const setup = shared.connection;

async function readAll(topic: TopicLike): Promise<ConsumedRecord[]> {
  const out: ConsumedRecord[] = [];
  for await (const r of topic.readable({ from: "earliest" })) out.push(r);
  return out.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

describe("connect() against Kafka 4.1.1", { skip: SKIP }, () => {
  test(
    "writable() and append() round-trip keys, values, headers and timestamps; a Java consumer reads the same",
    TIMEOUT,
    async () => {
      const c = await setup();
      const topic = await c.createTopic("round-trip", { partitions: 3 });
      assert.ok(c.hasTopic("round-trip"));
      assert.ok(c.topics().includes("round-trip"));
      const records: (ProducerRecord & { key: string; value: string; timestamp: number })[] = Array.from({
        length: 300,
      }, (_, i) => ({
        key: `k${i % 7}`,
        value: i % 50 === 0 ? "" : `v${i}`,
        headers: [{ key: "h", value: new TextEncoder().encode(`${i}`) }, { key: "h", value: null }],
        timestamp: 1_600_000_000_000 + i,
      }));
      await ReadableStream.from(records.slice(0, 200)).pipeTo(topic.writable({ lingerMs: 1 }));
      const meta = await topic.append(records.slice(200));
      assert.equal(meta.length, 100);

      const read = await readAll(topic);
      assert.equal(read.length, 300);
      // Per key, in the order written; repeated header keys kept; timestamps as given.
      const byTimestamp = new Map(read.map((r) => [r.timestamp, r]));
      for (const [i, r] of records.entries()) {
        const got = byTimestamp.get(r.timestamp)!;
        assert.equal(text(got.key), r.key);
        assert.equal(text(got.value), r.value);
        assert.deepEqual(got.headers.map((h) => [h.key, text(h.value)]), [["h", `${i}`], ["h", null]]);
      }
      for (const [i, m] of meta.entries()) {
        const got = byTimestamp.get(records[200 + i].timestamp)!;
        assert.deepEqual([got.partition, got.offset, got.timestamp], [m.partition, m.offset, m.timestamp]);
      }
      const described = await topic.describe();
      assert.equal(described.reduce((n, p) => n + p.highWatermark - p.logStartOffset, 0), 300);

      const java = await javaConsume(shared.kafka.bootstrapServers, "round-trip");
      assert.deepEqual(
        java.map((r) => [r.partition, r.offset, r.key, r.value]),
        read.map((r) => [r.partition, r.offset, toHex(r.key), toHex(r.value)]),
      );
    },
  );

  test("keys land on the partition a log directory puts them in (murmur2)", TIMEOUT, async () => {
    const c = await setup();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-cluster-local-"));
    const log = await open(dir);
    try {
      const keys = Array.from({ length: 200 }, (_, i) => ({ key: `user-${i}`, value: "x" }));
      const local = await (await log.createTopic("keys", { partitions: 5 })).append(keys);
      const remote = await (await c.createTopic("keys", { partitions: 5 })).append(keys);
      assert.deepEqual(remote.map((m) => m.partition), local.map((m) => m.partition));
      // Kafka's own console consumer agrees on where the keys are.
      const java = await javaConsume(shared.kafka.bootstrapServers, "keys");
      assert.deepEqual(
        java.map((r) => [r.key, r.partition]).sort(),
        keys.map((k, i) => [toHex(k.key), local[i].partition]).sort(),
      );
    } finally {
      await log.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("readable({ from: { timestamp } }) and offsetsForTimes() go by ListOffsets", TIMEOUT, async () => {
    const c = await setup();
    const topic = await c.createTopic("times", { partitions: 2 });
    const t0 = Date.parse("2015-09-12T00:00:00Z");
    await topic.append(
      Array.from({ length: 100 }, (_, i) => ({ key: `k${i % 4}`, value: `${i}`, timestamp: t0 + i * 1000 })),
    );
    const from = t0 + 60_000;
    const seen: number[] = [];
    for await (const r of topic.readable({ from: { timestamp: from } })) seen.push(r.timestamp);
    assert.deepEqual(seen.sort((a, b) => a - b), Array.from({ length: 40 }, (_, i) => from + i * 1000));
    const offsets = await topic.offsetsForTimes(from);
    assert.equal(offsets.length, 2);
    for (const o of offsets) assert.ok(o === null || o.timestamp >= from);
    assert.deepEqual(await topic.offsetsForTimes(t0 + 1_000_000), [null, null]);
    // `to` ends each partition before an offset; an unknown partition is refused.
    let n = 0;
    for await (const _ of topic.readable({ partitions: 0, to: 3 })) n++;
    assert.equal(n, 3);
    assert.throws(() => topic.readable({ partitions: 7 }), UnknownTopicOrPartitionError);
  });

  test(
    "new Consumer(connection) is a ClusterConsumer whose commits are Kafka's group offsets: kafka-consumer-groups shows them",
    TIMEOUT,
    async () => {
      const c = await setup();
      const topic = await c.createTopic("orders", { partitions: 2 });
      await topic.append(Array.from({ length: 50 }, (_, i) => ({ key: `o${i}`, value: `${i}` })));
      const consumer = new Consumer(c, {
        groupId: "billing",
        autoOffsetReset: "earliest",
        enableAutoCommit: false,
      });
      assert.ok(consumer instanceof ClusterConsumer);
      assert.ok(consumer instanceof Consumer);
      consumer.subscribe(["orders"]);
      const got: ConsumedRecord[] = [];
      while (got.length < 30) {
        got.push(...await consumer.poll({ timeoutMs: 2_000, maxRecords: 30 - got.length }));
      }
      await consumer.commit();
      const committed = new Map<number, number>();
      for (const r of got) {
        committed.set(r.partition, Math.max(committed.get(r.partition) ?? 0, r.offset + 1));
      }
      for (const [p, o] of committed) {
        assert.equal((await consumer.committed({ topic: "orders", partition: p }))?.offset, o);
      }
      await consumer.close();

      const described = await runKafkaTool(TOOLS.consumerGroups, [
        ...["--bootstrap-server", shared.kafka.bootstrapServers, "--describe", "--group", "billing"],
      ]);
      const rows = described.stdout.split("\n").filter((l) => l.startsWith("billing"));
      const current = new Map(rows.map((l) => {
        const cols = l.trim().split(/\s+/);
        return [Number(cols[2]), Number(cols[3])];
      }));
      for (const [p, o] of committed) assert.equal(current.get(p), o, described.stdout);

      // A second member of the group resumes from the commits: the other 20 records, none again.
      const again = new Consumer(c, { groupId: "billing", autoOffsetReset: "earliest" });
      again.subscribe("orders");
      const rest: ConsumedRecord[] = [];
      while (rest.length < 20) rest.push(...await again.poll({ timeoutMs: 2_000 }));
      assert.deepEqual(
        [...got, ...rest].map((r) => `${r.partition}:${r.offset}`).sort(),
        (await readAll(topic)).map((r) => `${r.partition}:${r.offset}`).sort(),
      );
      await again.close();
    },
  );

  test(
    "createTopic maps reel's topic config to Kafka's and refuses what Kafka has not",
    TIMEOUT,
    async () => {
      const c = await setup();
      await c.createTopic("configured", {
        config: { segmentBytes: 2 * 1024 * 1024, fsync: "always", retentionMs: -1 },
      });
      const described = await runKafkaTool(TOOLS.topicCommand, [
        ...["--bootstrap-server", shared.kafka.bootstrapServers, "--describe", "--topic", "configured"],
      ]);
      assert.match(described.stdout, /segment\.bytes=2097152/);
      assert.match(described.stdout, /flush\.messages=1/);
      assert.match(described.stdout, /retention\.ms=-1/);
      await assert.rejects(c.createTopic("tiny", { config: { segmentBytes: 4096 } }), InvalidConfigError);
      await assert.rejects(c.createTopic("configured"), TopicExistsError);
      assert.equal(c.hasTopic("tiny"), false);
      await c.deleteTopic("configured");
      assert.equal(c.hasTopic("configured"), false);
      assert.throws(() => c.topic("configured"), UnknownTopicOrPartitionError);
    },
  );

  test(
    "alterTopicConfig, createPartitions and deleteRecords answer on Kafka what they answer on a log directory; Kafka's tools see the change",
    TIMEOUT,
    async () => {
      const c = await setup();
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-cluster-admin-"));
      const log = await open(dir);
      try {
        assert.deepEqual(await adminScenario(log, "admin"), ADMIN_SCENARIO_RESULT);
        assert.deepEqual(await adminScenario(c, "admin"), ADMIN_SCENARIO_RESULT);
        const described = await runKafkaTool(TOOLS.topicCommand, [
          ...["--bootstrap-server", shared.kafka.bootstrapServers, "--describe", "--topic", "admin"],
        ]);
        assert.match(described.stdout, /PartitionCount: 3/);
        assert.match(described.stdout, /segment\.bytes=2097152/);
        assert.doesNotMatch(described.stdout, /retention\.ms/);
      } finally {
        await log.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
