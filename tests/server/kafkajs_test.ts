// kafkajs (a Kafka client none of us wrote) against `serve()`, in this process, on Deno and Bun:
// admin, producer, and what it produced read back by reel byte for byte.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import kafkajs from "kafkajs";
import { readRecordBatchHeader } from "../../src/record/mod.ts";
import { withBroker } from "./_helpers.ts";

// kafkajs is CommonJS: Node's ESM loader finds only some of its names statically, so they are all
// taken from its default export, which every runtime provides.
const { ConfigResourceTypes, Kafka, logLevel } = kafkajs;

const text = new TextDecoder();

describe("kafkajs against reel serve", () => {
  test("admin creates a topic, the producer sends keyed records with headers, reel reads them back as sent", async () => {
    await withBroker(async (broker, log) => {
      const kafka = new Kafka({ clientId: "t", brokers: [broker.address], logLevel: logLevel.NOTHING });
      const admin = kafka.admin();
      await admin.connect();
      assert.equal(await admin.createTopics({ topics: [{ topic: "orders", numPartitions: 3 }] }), true);
      assert.deepEqual(await admin.listTopics(), ["orders"]);
      const meta = await admin.fetchTopicMetadata({ topics: ["orders"] });
      assert.equal(meta.topics[0].partitions.length, 3);
      const producer = kafka.producer();
      await producer.connect();
      const messages = Array.from({ length: 30 }, (_, i) => ({
        key: `k${i % 7}`,
        value: `value-${i}`,
        headers: { h: `x${i}` },
        timestamp: String(1_700_000_000_000 + i),
      }));
      const sent = await producer.send({ topic: "orders", messages, acks: -1 });
      assert.equal(sent.length, 3); // one result per partition written
      const offsets = await admin.fetchTopicOffsets("orders");
      assert.equal(offsets.reduce((n, o) => n + Number(o.high), 0), 30);
      await producer.disconnect();
      await admin.disconnect();
      const got = [];
      for await (const r of log.topic("orders").readable()) got.push(r);
      assert.equal(got.length, 30);
      got.sort((a, b) => Number(a.timestamp) - Number(b.timestamp));
      for (const [i, r] of got.entries()) {
        assert.equal(text.decode(r.key!), messages[i].key);
        assert.equal(text.decode(r.value!), messages[i].value);
        assert.equal(r.timestamp, 1_700_000_000_000 + i);
        assert.equal(r.headers.length, 1);
        assert.equal(r.headers[0].key, "h");
        assert.equal(text.decode(r.headers[0].value!), `x${i}`);
      }
    });
  });

  test("an idempotent producer gets a producer ID and its batches carry sequences reel accepts", async () => {
    await withBroker(async (broker, log) => {
      const kafka = new Kafka({ clientId: "t", brokers: [broker.address], logLevel: logLevel.NOTHING });
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      for (let i = 0; i < 5; i++) {
        await producer.send({ topic: "idem", messages: [{ value: `m${i}` }], acks: -1 });
      }
      await producer.disconnect();
      const batches = [];
      const partition = log.topic("idem").partition(0);
      for (
        let data = partition.read(0, 1 << 20);
        data;
        data = partition.read(data.next.offset, 1 << 20, data.next)
      ) {
        batches.push(data.bytes);
        if (data.next.offset >= partition.highWatermark) break;
      }
      const headers = batches.flatMap((bytes) => {
        const out = [];
        for (let at = 0; at < bytes.length;) {
          const h = readRecordBatchHeader(bytes, at);
          out.push(h);
          at += h.batchLength + 12;
        }
        return out;
      });
      assert.equal(headers.length, 5);
      assert.ok(headers.every((h) => h.producerId === headers[0].producerId && h.producerId > 0));
      assert.deepEqual(headers.map((h) => h.baseSequence), [0, 1, 2, 3, 4]);
    });
  });

  test("admin: describeCluster names this broker as controller; describeConfigs gives the topic's Kafka configs", async () => {
    await withBroker(async (broker, log) => {
      await log.createTopic("conf", { config: { retentionMs: 60_000, fsync: "always" } });
      const kafka = new Kafka({ clientId: "t", brokers: [broker.address], logLevel: logLevel.NOTHING });
      const admin = kafka.admin();
      await admin.connect();
      const cluster = await admin.describeCluster();
      assert.equal(cluster.controller, 0);
      assert.deepEqual(cluster.brokers.map((b) => `${b.host}:${b.port}`), [broker.address]);
      const described = await admin.describeConfigs({
        resources: [{ type: ConfigResourceTypes.TOPIC, name: "conf" }],
        includeSynonyms: false,
      });
      const entries = new Map(described.resources[0].configEntries.map((e) => [e.configName, e.configValue]));
      assert.equal(entries.get("retention.ms"), "60000");
      assert.equal(entries.get("flush.messages"), "1");
      assert.equal(entries.get("cleanup.policy"), "delete");
      await admin.deleteTopics({ topics: ["conf"] });
      assert.equal(log.hasTopic("conf"), false);
      await admin.disconnect();
    });
  });
});
