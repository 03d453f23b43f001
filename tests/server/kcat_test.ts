// librdkafka through Debian's kcat (a Kafka client none of us wrote) against `serve()`: metadata,
// produce and consume with each compression codec, consume from a timestamp. Skipped when kcat
// is not installed (.ci/run installs it).

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, test } from "node:test";
import { Kafka, logLevel } from "kafkajs";
import { describeGroup, UnsupportedCompressionTypeError } from "../../mod.ts";
import { HAS_ZSTD } from "../_runtime.ts";
import { kcat, withBroker } from "./_helpers.ts";

const HAS_KCAT = spawnSync("kcat", ["-V"]).status === 0;

describe("kcat (librdkafka) against reel serve", { skip: !HAS_KCAT }, () => {
  test("-L lists the broker as controller and the topics with their partitions", async () => {
    await withBroker(async (broker, log) => {
      await log.createTopic("three", { partitions: 3 });
      const res = await kcat(["-b", broker.address, "-L", "-J"]);
      assert.equal(res.status, 0, res.stderr);
      const meta = JSON.parse(res.stdout);
      assert.equal(meta.controllerid, 0);
      assert.deepEqual(meta.brokers.map((b: { name: string }) => b.name), [`${broker.address}`]);
      const topic = meta.topics.find((t: { topic: string }) => t.topic === "three");
      assert.equal(topic.partitions.length, 3);
      assert.ok(topic.partitions.every((p: { leader: number }) => p.leader === 0));
    });
  });

  for (const codec of ["none", "gzip", "snappy", "lz4", "zstd"]) {
    test(`produce and consume with compression ${codec}: reel and kcat read the same keys and values`, async () => {
      await withBroker(async (broker, log) => {
        const lines = Array.from({ length: 50 }, (_, i) => `key${i % 5}:value-${codec}-${i}`);
        const produced = await kcat(
          ["-b", broker.address, "-P", "-t", "c", "-K:", "-z", codec, "-X", "partitioner=murmur2_random"],
          lines.join("\n") + "\n",
        );
        assert.equal(produced.status, 0, produced.stderr);
        const got: string[] = [];
        const read = async () => {
          for await (const r of log.topic("c").readable()) {
            got.push(`${new TextDecoder().decode(r.key!)}:${new TextDecoder().decode(r.value!)}`);
          }
        };
        if (codec === "zstd" && !HAS_ZSTD) {
          // Node 20's node:zlib has no zstd: reel stores kcat's batches as they came and serves
          // them back, but cannot decode them itself.
          await assert.rejects(read(), UnsupportedCompressionTypeError);
        } else {
          await read();
          assert.deepEqual(got, lines);
        }
        const consumed = await kcat(["-b", broker.address, "-C", "-t", "c", "-e", "-f", "%k:%s\\n"]);
        assert.equal(consumed.status, 0, consumed.stderr);
        assert.deepEqual(consumed.stdout.trim().split("\n"), lines);
      });
    });
  }

  test("consume from a timestamp starts at the first record at or after it", async () => {
    await withBroker(async (broker, log) => {
      const topic = await log.createTopic("ts");
      await topic.append([1000, 2000, 3000, 4000].map((t) => ({ value: `at-${t}`, timestamp: t })));
      const res = await kcat(["-b", broker.address, "-C", "-t", "ts", "-o", "s@2500", "-e", "-f", "%s\\n"]);
      assert.equal(res.status, 0, res.stderr);
      assert.deepEqual(res.stdout.trim().split("\n"), ["at-3000", "at-4000"]);
    });
  });

  test("-G: a balanced consumer reads every partition and commits, and describeGroup() shows the offsets", async () => {
    await withBroker(async (broker, log) => {
      const topic = await log.createTopic("g", { partitions: 3 });
      await topic.append(Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })));
      const res = await kcat([
        "-b",
        broker.address,
        "-G",
        "kg",
        "g",
        "-e",
        "-f",
        "%s\\n",
        "-X",
        "auto.offset.reset=earliest",
        "-X",
        "session.timeout.ms=6000",
      ]);
      assert.equal(res.status, 0, res.stderr);
      assert.deepEqual(
        res.stdout.trim().split("\n").sort(),
        Array.from({ length: 30 }, (_, i) => `v${i}`).sort(),
      );
      const committed = describeGroup(log, "kg").offsets.reduce((n, o) => n + (o.committedOffset ?? 0), 0);
      assert.equal(committed, 30);
    }, { groupInitialRebalanceDelayMs: 0 });
  });

  test("what kafkajs produces kcat reads (keys, values, headers), and what kcat produces kafkajs reads", async () => {
    await withBroker(async (broker) => {
      const kafka = new Kafka({ clientId: "x", brokers: [broker.address], logLevel: logLevel.NOTHING });
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({
        topic: "from-kafkajs",
        messages: [{ key: "a", value: "1", headers: { h: "x" } }, {
          key: "b",
          value: "2",
          headers: { h: "y" },
        }],
      });
      await producer.disconnect();
      const read = await kcat(["-b", broker.address, "-C", "-t", "from-kafkajs", "-e", "-f", "%k=%s %h\\n"]);
      assert.equal(read.status, 0, read.stderr);
      assert.deepEqual(read.stdout.trim().split("\n"), ["a=1 h=x", "b=2 h=y"]);

      const produced = await kcat(
        ["-b", broker.address, "-P", "-t", "from-kcat", "-K:", "-H", "h=z"],
        "c:3\nd:4\n",
      );
      assert.equal(produced.status, 0, produced.stderr);
      const consumer = kafka.consumer({ groupId: "x", maxWaitTimeInMs: 100 });
      await consumer.connect();
      await consumer.subscribe({ topic: "from-kcat", fromBeginning: true });
      const got: string[] = [];
      await new Promise<void>((resolve) => {
        consumer.run({
          eachMessage: ({ message }) => {
            got.push(`${message.key}=${message.value} h=${message.headers!.h}`);
            if (got.length === 2) resolve();
            return Promise.resolve();
          },
        });
      });
      await consumer.disconnect();
      assert.deepEqual(got, ["c=3 h=z", "d=4 h=z"]);
    }, { groupInitialRebalanceDelayMs: 0 });
  });
});
