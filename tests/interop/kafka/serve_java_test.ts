// Apache Kafka's Java client and tools (4.1.1, from the harness) against `reel serve`: the
// idempotent producer (the Java default) with every codec, read back by reel byte for byte; records
// appended in process read by the Java consumer; the console producer and a console consumer in a
// group; kafka-consumer-groups --describe and --reset-offsets; kafka-topics and kafka-configs; a
// transactional producer refused with a clear error.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { describeGroup, listGroups, type LogDirectory, open } from "../../../mod.ts";
import { type Broker, serve, type ServeOptions } from "../../../src/server/broker.ts";
import {
  javaConsume,
  javaProduce,
  type JavaRecord,
  kafkaUnavailable,
  runKafkaTool,
  toHex,
  TOOLS,
} from "./harness.ts";
import { CODECS } from "../../_runtime.ts";
import { compressionName } from "../../../src/record/mod.ts";

const skip = kafkaUnavailable();
/** A guard against a hang (Java tools start slowly on a busy machine), never a pass/fail condition. */
const TIMEOUT = { timeout: 240_000 };

async function withServe<T>(
  fn: (broker: Broker, log: LogDirectory) => Promise<T>,
  options: ServeOptions = {},
): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-serve-java-"));
  const log = await open(dir);
  const broker = await serve(log, {
    port: 0,
    logLine: () => {},
    groupInitialRebalanceDelayMs: 0,
    ...options,
  });
  try {
    return await fn(broker, log);
  } finally {
    await broker.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const hex = (b: Uint8Array | null) => toHex(b);

describe("Apache Kafka's Java client and tools against reel serve", { skip }, () => {
  test(
    "the idempotent Java producer, every codec this runtime has: reel reads keys, values, headers and timestamps as sent",
    TIMEOUT,
    async () => {
      await withServe(async (broker, log) => {
        await log.createTopic("java", { partitions: 2 });
        // Every codec but zstd on Node 20, whose node:zlib has none (kcat_test checks the refusal).
        const codecs = CODECS.map(compressionName);
        for (const codec of codecs) {
          const records: JavaRecord[] = Array.from({ length: 10 }, (_, i) => ({
            partition: i % 2,
            timestamp: 1_700_000_000_000 + i,
            key: toHex(`${codec}-k${i}`),
            value: toHex(`${codec}-v${i}`),
            headers: [["h", toHex(`x${i}`)]],
          }));
          const acks = await javaProduce(broker.address, "java", records.map((send) => ({ send })), {
            "compression.type": codec,
            "acks": "all",
          });
          assert.equal(acks.length, 10);
        }
        const got = [];
        for await (const r of log.topic("java").readable()) got.push(r);
        assert.equal(got.length, 10 * codecs.length);
        for (const r of got) {
          const key = new TextDecoder().decode(r.key!);
          const [codec, k] = key.split("-k");
          assert.equal(new TextDecoder().decode(r.value!), `${codec}-v${k}`);
          assert.equal(r.timestamp, 1_700_000_000_000 + Number(k));
          assert.deepEqual(r.headers.map((h) => [h.key, hex(h.value)]), [["h", toHex(`x${k}`)]]);
        }
      });
    },
  );

  test("records appended in process are read by the Java consumer byte for byte", TIMEOUT, async () => {
    await withServe(async (broker, log) => {
      const topic = await log.createTopic("local");
      await topic.append([
        {
          key: "a",
          value: "1",
          timestamp: 1000,
          headers: [{ key: "k", value: new TextEncoder().encode("v") }],
        },
        { key: null, value: new Uint8Array([0, 255, 7]), timestamp: 2000 },
      ]);
      const records = await javaConsume(broker.address, "local");
      assert.deepEqual(
        records.map((r) => [r.offset, r.timestamp, r.key, r.value, r.headers]),
        [[0, 1000, toHex("a"), toHex("1"), [["k", toHex("v")]]], [1, 2000, null, "00ff07", []]],
      );
    });
  });

  test(
    "console producer, a console consumer in a group, kafka-consumer-groups --describe and --reset-offsets",
    TIMEOUT,
    async () => {
      await withServe(async (broker, log) => {
        const bootstrap = ["--bootstrap-server", broker.address];
        await runKafkaTool(TOOLS.consoleProducer, [...bootstrap, "--topic", "lines"], { input: "a\nb\nc\n" });
        const consumed = await runKafkaTool(TOOLS.consoleConsumer, [
          ...bootstrap,
          "--topic",
          "lines",
          "--from-beginning",
          "--max-messages",
          "3",
          "--group",
          "cg",
        ]);
        assert.deepEqual(consumed.stdout.trim().split("\n"), ["a", "b", "c"]);
        assert.equal(describeGroup(log, "cg").offsets[0].committedOffset, 3);
        const described = await runKafkaTool(TOOLS.consumerGroups, [
          ...bootstrap,
          "--describe",
          "--group",
          "cg",
        ]);
        assert.match(described.stdout, /cg\s+lines\s+0\s+3\s+3\s+0/);
        await runKafkaTool(TOOLS.consumerGroups, [
          ...bootstrap,
          "--reset-offsets",
          "--group",
          "cg",
          "--topic",
          "lines",
          "--to-earliest",
          "--execute",
        ]);
        assert.equal(describeGroup(log, "cg").offsets[0].committedOffset, 0);
      });
    },
  );

  test("kafka-topics --create, --describe, --delete and kafka-configs --describe", TIMEOUT, async () => {
    await withServe(async (broker, log) => {
      const bootstrap = ["--bootstrap-server", broker.address];
      await runKafkaTool(TOOLS.topicCommand, [
        ...bootstrap,
        "--create",
        "--topic",
        "six",
        "--partitions",
        "6",
        "--config",
        "retention.ms=60000",
      ]);
      assert.equal(log.topic("six").partitions, 6);
      assert.equal(log.topic("six").config.retentionMs, 60000);
      const described = await runKafkaTool(TOOLS.topicCommand, [
        ...bootstrap,
        "--describe",
        "--topic",
        "six",
      ]);
      assert.match(described.stdout, new RegExp(`TopicId: ${log.topic("six").topicId}\\s+PartitionCount: 6`));
      const configs = await runKafkaTool("kafka.admin.ConfigCommand", [
        ...bootstrap,
        "--describe",
        "--all",
        "--entity-type",
        "topics",
        "--entity-name",
        "six",
      ]);
      assert.match(configs.stdout, /retention\.ms=60000/);
      await runKafkaTool(TOOLS.topicCommand, [...bootstrap, "--delete", "--topic", "six"]);
      assert.equal(log.hasTopic("six"), false);
    });
  });

  test(
    "kafka-topics --alter --partitions, kafka-configs --alter and kafka-delete-records change a topic reel serves",
    TIMEOUT,
    async () => {
      await withServe(async (broker, log) => {
        const bootstrap = ["--bootstrap-server", broker.address];
        const topic = await log.createTopic("admin", { partitions: 2 });
        await topic.append(["a", "b", "c", "d"].map((value) => ({ value, partition: 0 })));
        // CreatePartitions
        await runKafkaTool(TOOLS.topicCommand, [
          ...bootstrap,
          "--alter",
          "--topic",
          "admin",
          "--partitions",
          "5",
        ]);
        assert.equal(log.topic("admin").partitions, 5);
        const shrink = await runKafkaTool(
          TOOLS.topicCommand,
          [...bootstrap, "--alter", "--topic", "admin", "--partitions", "3"],
          { check: false },
        );
        assert.notEqual(shrink.code, 0, "partitions are never removed");
        assert.match(shrink.stdout + shrink.stderr, /InvalidPartitionsException|partitions/i);
        // IncrementalAlterConfigs
        const alter = (...change: string[]) =>
          runKafkaTool("kafka.admin.ConfigCommand", [
            ...bootstrap,
            "--alter",
            "--entity-type",
            "topics",
            "--entity-name",
            "admin",
            ...change,
          ]);
        await alter("--add-config", "retention.ms=120000,segment.bytes=1048576");
        assert.equal(log.topic("admin").config.retentionMs, 120000);
        assert.equal(log.topic("admin").config.segmentBytes, 1048576);
        await alter("--add-config", "cleanup.policy=[compact,delete],min.cleanable.dirty.ratio=0.01");
        assert.equal(log.topic("admin").config.cleanupPolicy, "compact,delete");
        assert.equal(log.topic("admin").config.minCleanableDirtyRatio, 0.01);
        await alter("--delete-config", "retention.ms");
        assert.equal(log.topic("admin").config.retentionMs, 604_800_000, "back to the default");
        // DeleteRecords
        const json = path.join(os.tmpdir(), `reel-delete-records-${process.pid}.json`);
        fs.writeFileSync(
          json,
          JSON.stringify({ version: 1, partitions: [{ topic: "admin", partition: 0, offset: 3 }] }),
        );
        try {
          const deleted = await runKafkaTool("org.apache.kafka.tools.DeleteRecordsCommand", [
            ...bootstrap,
            "--offset-json-file",
            json,
          ]);
          assert.match(deleted.stdout, /partition: admin-0\s+low_watermark: 3/);
        } finally {
          fs.rmSync(json, { force: true });
        }
        assert.equal(log.topic("admin").describe()[0].logStartOffset, 3);
      });
    },
  );

  test(
    "a transactional producer is refused with a clear error and nothing is appended",
    TIMEOUT,
    async () => {
      await withServe(async (broker, log) => {
        await log.createTopic("tx");
        await assert.rejects(
          javaProduce(broker.address, "tx", ["begin", {
            send: { partition: 0, key: null, value: "00", headers: [] },
          }, "commit"], {
            "transactional.id": "t1",
          }),
          /UnsupportedVersion|not supported/i,
        );
        assert.equal(log.topic("tx").partition(0).logEndOffset, 0);
      });
    },
  );
  test(
    "SASL_SSL with SCRAM-SHA-512: the Java producer and the console consumer authenticate and trust the certificate",
    TIMEOUT,
    async () => {
      const fixtures = path.join(
        path.dirname(fileURLToPath(import.meta.url)),
        "..",
        "..",
        "server",
        "fixtures",
      );
      const certPath = path.join(fixtures, "localhost.cert.pem");
      const tls = {
        cert: fs.readFileSync(certPath, "utf8"),
        key: fs.readFileSync(path.join(fixtures, "localhost.key.pem"), "utf8"),
      };
      const security = (password: string): Record<string, string> => ({
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.jaas.config":
          `org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="${password}";`,
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": certPath,
      });
      await withServe(async (broker, log) => {
        await log.createTopic("secure");
        const records: JavaRecord[] = Array.from({ length: 5 }, (_, i) => ({
          partition: 0,
          key: toHex(`k${i}`),
          value: toHex(`v${i}`),
          headers: [],
        }));
        const acks = await javaProduce(
          broker.address,
          "secure",
          records.map((send) => ({ send })),
          security("alice-secret"),
        );
        assert.deepEqual(acks.map((a) => a.offset), [0, 1, 2, 3, 4]);
        const values = [];
        for await (const r of log.topic("secure").readable()) values.push(new TextDecoder().decode(r.value!));
        assert.deepEqual(values, ["v0", "v1", "v2", "v3", "v4"]);
        // The console consumer, reading the topic from the beginning with the given password.
        const consoleConsume = (password: string, maxMessages: number) =>
          runKafkaTool(TOOLS.consoleConsumer, [
            ...["--bootstrap-server", broker.address, "--topic", "secure", "--from-beginning"],
            ...["--max-messages", String(maxMessages)],
            ...Object.entries(security(password)).flatMap(([k, v]) => ["--consumer-property", `${k}=${v}`]),
          ], { check: false });
        const consumed = await consoleConsume("alice-secret", 5);
        assert.deepEqual(consumed.stdout.trim().split("\n"), ["v0", "v1", "v2", "v3", "v4"]);
        const refused = await consoleConsume("wrong", 1);
        assert.equal(refused.stdout.trim(), "", "no record reaches a client with a wrong password");
        // The console consumer logs the failure and exits 0 (Kafka's tool does); the broker's reason
        // reaches the client.
        assert.match(
          refused.stderr,
          /failed authentication due to: Authentication failed: invalid user credentials/,
        );
      }, { tls, sasl: { users: { alice: "alice-secret" } } });
    },
  );
  test(
    "kafka-log-dirs --describe: the log directory and each partition's size, as describe() reports them",
    TIMEOUT,
    async () => {
      await withServe(async (broker, log) => {
        const topic = await log.createTopic("sized", { partitions: 3 });
        await topic.append(Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, value: "x".repeat(i) })));
        const { stdout } = await runKafkaTool(TOOLS.logDirs, [
          ...["--bootstrap-server", broker.address, "--describe", "--topic-list", "sized"],
        ]);
        // The tool prints a line of JSON after its status lines.
        const report = JSON.parse(stdout.split("\n").find((l) => l.startsWith("{"))!);
        const [dir] = report.brokers[0].logDirs;
        assert.equal(dir.logDir, log.dir);
        assert.equal(dir.error, null);
        const sizes = Object.fromEntries(
          dir.partitions.map((p: { partition: string; size: number }) => [p.partition, p.size]),
        );
        assert.deepEqual(
          sizes,
          Object.fromEntries(topic.describe().map((p) => [`sized-${p.partition}`, p.bytes])),
        );
        assert.ok(Object.values(sizes).some((n) => (n as number) > 0));
      });
    },
  );
  test("kafka-consumer-groups --delete removes a group reel serve holds offsets for", TIMEOUT, async () => {
    await withServe(async (broker, log) => {
      const topic = await log.createTopic("deleted-group");
      await topic.append([{ value: "a" }, { value: "b" }]);
      const bootstrap = ["--bootstrap-server", broker.address];
      await runKafkaTool(TOOLS.consoleConsumer, [
        ...bootstrap,
        ...["--topic", "deleted-group", "--from-beginning", "--max-messages", "2", "--group", "to-delete"],
      ]);
      assert.equal(describeGroup(log, "to-delete").offsets[0].committedOffset, 2);
      const deleted = await runKafkaTool(TOOLS.consumerGroups, [
        ...bootstrap,
        "--delete",
        "--group",
        "to-delete",
      ]);
      assert.match(deleted.stdout, /Deletion of requested consumer groups \('to-delete'\) was successful/);
      assert.deepEqual(listGroups(log), []);
      const missing = await runKafkaTool(TOOLS.consumerGroups, [
        ...bootstrap,
        "--delete",
        "--group",
        "to-delete",
      ], {
        check: false,
      });
      assert.match(missing.stdout + missing.stderr, /GroupIdNotFoundException|does not exist/);
    });
  });
});
