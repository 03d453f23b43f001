// @platformatic/kafka (a Kafka client none of us wrote, flexible versions only: ApiVersions v3,
// Metadata ≥ 9, Fetch ≥ 12 with topic IDs) against `serve()`, in this process, on Deno and Bun.
// Not on Node 20: the client itself needs Node 22.22 or later (its package.json's engines; it calls
// Promise.withResolvers, which Node 20 lacks).

import assert from "node:assert/strict";
import process from "node:process";
import { describe, test } from "node:test";
import { Admin, Consumer, Producer, stringDeserializers, stringSerializers } from "@platformatic/kafka";
import { describeGroup } from "../../mod.ts";
import { withBroker } from "./_helpers.ts";
import { RUNTIME } from "../_runtime.ts";

const text = new TextDecoder();

const NODE_TOO_OLD = RUNTIME === "node" && Number(process.versions.node.split(".")[0]) < 22;

describe("@platformatic/kafka against reel serve", {
  skip: NODE_TOO_OLD && "@platformatic/kafka needs Node 22.22 or later",
}, () => {
  test("admin creates a topic; an idempotent producer sends; a group consumes byte for byte and commits", async () => {
    await withBroker(async (broker, log) => {
      const bootstrapBrokers = [broker.address];
      const admin = new Admin({ clientId: "admin", bootstrapBrokers });
      await admin.createTopics({ topics: ["pk"], partitions: 2, replicas: 1 });
      await admin.close();
      assert.equal(log.topic("pk").partitions, 2);
      const producer = new Producer({
        clientId: "producer",
        bootstrapBrokers,
        serializers: stringSerializers,
        idempotent: true,
      });
      const messages = Array.from({ length: 20 }, (_, i) => ({
        topic: "pk",
        key: `k${i}`,
        value: `value-${i}`,
        headers: { n: String(i) },
      }));
      await producer.send({ messages });
      await producer.close();
      const stored = new Map<string, string>();
      for await (const r of log.topic("pk").readable()) {
        stored.set(text.decode(r.key!), text.decode(r.value!));
      }
      assert.deepEqual(stored, new Map(messages.map((m) => [m.key, m.value])));

      const consumer = new Consumer({
        groupId: "pg",
        clientId: "consumer",
        bootstrapBrokers,
        deserializers: stringDeserializers,
      });
      const stream = await consumer.consume({
        autocommit: false,
        topics: ["pk"],
        mode: "earliest",
        sessionTimeout: 10_000,
        heartbeatInterval: 500,
        maxWaitTime: 100,
      });
      const got = new Map<string, { value: string; n: string }>();
      for await (const message of stream) {
        got.set(message.key as string, {
          value: message.value as string,
          n: String((message.headers as Map<string, string>).get("n")),
        });
        await message.commit();
        if (got.size === 20) break;
      }
      await consumer.close(true);
      for (const [i, m] of messages.entries()) {
        assert.deepEqual(got.get(m.key), { value: m.value, n: String(i) });
      }
      const committed = describeGroup(log, "pg").offsets.reduce((n, o) => n + (o.committedOffset ?? 0), 0);
      assert.equal(committed, 20);
    }, { groupInitialRebalanceDelayMs: 0 });
  });
});
