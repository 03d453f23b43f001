// kafkajs consumer groups against `serve()`, in this process, on Deno and Bun: consume what was
// produced byte for byte, committed offsets visible to reel's describeGroup(), two members
// sharing partitions, and the refusal to mix with in-process consumers.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type Consumer as KafkaConsumer, Kafka, logLevel } from "kafkajs";
import { Consumer, describeGroup, InconsistentGroupProtocolError } from "../../mod.ts";
import { withBroker } from "./_helpers.ts";

const GROUP_OPTIONS = { groupInitialRebalanceDelayMs: 0, groupMinSessionTimeoutMs: 1000 };

/** Resolves once `check` holds, polling; the guard only turns a hang into a failure. */
async function until(check: () => boolean | Promise<boolean>, what: string, guardMs = 60_000): Promise<void> {
  const deadline = Date.now() + guardMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Gave up waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("kafkajs consumer groups against reel serve", () => {
  test("a group consumes every record as produced, and its commits show in describeGroup()", async () => {
    await withBroker(async (broker, log) => {
      await log.createTopic("events", { partitions: 3 });
      const kafka = new Kafka({ clientId: "t", brokers: [broker.address], logLevel: logLevel.NOTHING });
      const producer = kafka.producer();
      await producer.connect();
      const sent = Array.from({ length: 60 }, (_, i) => ({
        key: `k${i}`,
        value: `v${i}`,
        headers: { n: String(i) },
      }));
      await producer.send({ topic: "events", messages: sent });
      await producer.disconnect();
      const consumer = kafka.consumer({
        groupId: "g1",
        sessionTimeout: 10_000,
        heartbeatInterval: 500,
        maxWaitTimeInMs: 100,
      });
      await consumer.connect();
      await consumer.subscribe({ topic: "events", fromBeginning: true });
      const got = new Map<string, { value: string; header: string }>();
      await consumer.run({
        eachMessage: ({ message }) => {
          got.set(message.key!.toString(), {
            value: message.value!.toString(),
            header: message.headers!.n!.toString(),
          });
          return Promise.resolve();
        },
      });
      await until(() => got.size === 60, "60 records consumed");
      for (const [i, m] of sent.entries()) {
        assert.deepEqual(got.get(m.key), { value: m.value, header: String(i) });
      }
      await until(
        () => describeGroup(log, "g1").offsets.reduce((n, o) => n + (o.committedOffset ?? 0), 0) === 60,
        "commits of all 60 offsets",
      );
      const admin = kafka.admin();
      await admin.connect();
      const described = await admin.describeGroups(["g1"]);
      assert.equal(described.groups[0].state, "Stable");
      assert.equal(described.groups[0].members.length, 1);
      const offsets = await admin.fetchOffsets({ groupId: "g1", topics: ["events"] });
      assert.equal(offsets[0].partitions.reduce((n, p) => n + Number(p.offset), 0), 60);
      await consumer.disconnect();
      await admin.disconnect();
    }, GROUP_OPTIONS);
  });

  test("two members share the partitions; when one leaves the other gets them all", async () => {
    await withBroker(async (broker, log) => {
      await log.createTopic("shared", { partitions: 4 });
      const kafka = new Kafka({ clientId: "t", brokers: [broker.address], logLevel: logLevel.NOTHING });
      const assigned = new Map<KafkaConsumer, number[]>();
      const start = async () => {
        const c = kafka.consumer({
          groupId: "g2",
          sessionTimeout: 10_000,
          heartbeatInterval: 200,
          maxWaitTimeInMs: 100,
        });
        assigned.set(c, []);
        c.on(
          c.events.GROUP_JOIN,
          (e) => assigned.set(c, [...(e.payload.memberAssignment["shared"] ?? [])].sort()),
        );
        await c.connect();
        await c.subscribe({ topic: "shared", fromBeginning: true });
        await c.run({ eachMessage: async () => {} });
        return c;
      };
      const a = await start();
      const b = await start();
      await until(
        () => assigned.get(a)!.length === 2 && assigned.get(b)!.length === 2,
        "both members with two partitions each",
      );
      assert.deepEqual([...assigned.get(a)!, ...assigned.get(b)!].sort(), [0, 1, 2, 3]);
      await b.disconnect();
      await until(() => assigned.get(a)!.length === 4, "the remaining member with all four partitions");
      await a.disconnect();
    }, GROUP_OPTIONS);
  });

  test("a Kafka client cannot join a group an in-process consumer is a member of", async () => {
    await withBroker(async (broker, log) => {
      await log.createTopic("mixed");
      const local = new Consumer(log, { groupId: "g3", autoOffsetReset: "earliest" });
      local.subscribe(["mixed"]);
      await local.poll({ timeoutMs: 10 });
      const kafka = new Kafka({
        clientId: "t",
        brokers: [broker.address],
        logLevel: logLevel.NOTHING,
        retry: { retries: 0 },
      });
      const remote = kafka.consumer({ groupId: "g3", retry: { retries: 0 } });
      await remote.connect();
      await remote.subscribe({ topic: "mixed" });
      const crashed = new Promise<string>((resolve) =>
        remote.on(
          remote.events.CRASH,
          (e) => resolve(String((e.payload.error as Error & { type?: string }).type)),
        )
      );
      await remote.run({ eachMessage: async () => {} });
      assert.equal(await crashed, "INCONSISTENT_GROUP_PROTOCOL");
      await remote.disconnect();
      await local.close();
    }, GROUP_OPTIONS);
  });

  test("an in-process consumer cannot join a group Kafka clients are members of, and can once they leave", async () => {
    await withBroker(async (broker, log) => {
      await log.createTopic("both");
      const kafka = new Kafka({ clientId: "t", brokers: [broker.address], logLevel: logLevel.NOTHING });
      const remote = kafka.consumer({ groupId: "g4", maxWaitTimeInMs: 100 });
      let joined = false;
      remote.on(remote.events.GROUP_JOIN, () => joined = true);
      await remote.connect();
      await remote.subscribe({ topic: "both" });
      await remote.run({ eachMessage: () => Promise.resolve() });
      await until(() => joined, "the Kafka client in the group");
      await until(
        () => describeGroup(log, "g4").members.some((m) => m.clientId === "reel serve (Kafka clients)"),
        "the broker's member file",
      );
      const local = new Consumer(log, { groupId: "g4" });
      local.subscribe(["both"]);
      await assert.rejects(local.poll({ timeoutMs: 10 }), InconsistentGroupProtocolError);
      await local.close();
      await remote.disconnect();
      await until(() => describeGroup(log, "g4").members.length === 0, "the broker's member file removed");
      const later = new Consumer(log, { groupId: "g4" });
      later.subscribe(["both"]);
      await later.poll({ timeoutMs: 10 });
      assert.equal(describeGroup(log, "g4").members.length, 1);
      await later.close();
    }, GROUP_OPTIONS);
  });
});
