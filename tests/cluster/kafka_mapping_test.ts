// The mapping between reel's shapes and the Kafka client's, without a broker: topic configs to
// Kafka's names (and the typed error where Kafka has none), records both ways with null and empty
// keys and values, repeated header keys and LogAppendTime batches.

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import process from "node:process";
import { test } from "node:test";
import {
  connect,
  Consumer,
  InvalidConfigError,
  type LogDirectoryLike,
  ReelError,
  UnsupportedRuntimeError,
} from "../../mod.ts";
import {
  kafkaConfigChanges,
  kafkaErrorNames,
  kafkaTopicConfigs,
  loadKafka,
  reelTopicConfig,
  toConsumedRecord,
  toMessage,
} from "../../src/cluster/_kafka_mapping.ts";
import { DEFAULT_LOG_CONFIG } from "../../src/log/log_config.ts";
import { logConfigFromKafka, logConfigToKafka } from "../../src/server/topic_configs.ts";
import { CONNECT_UNSUPPORTED } from "./_helpers.ts";

test("kafkaTopicConfigs() maps reel's names to Kafka's and fsync to flush.messages / flush.ms", () => {
  assert.deepEqual(
    kafkaTopicConfigs("t", {
      segmentBytes: 2 ** 21,
      retentionMs: -1,
      maxMessageBytes: 2048,
      fsync: "always",
    }),
    { "segment.bytes": "2097152", "retention.ms": "-1", "max.message.bytes": "2048", "flush.messages": "1" },
  );
  assert.deepEqual(kafkaTopicConfigs("t", { fsync: "interval", fsyncIntervalMs: 250 }), {
    "flush.ms": "250",
  });
  assert.deepEqual(kafkaTopicConfigs("t", { fsync: "never" }), {});
  assert.deepEqual(
    kafkaTopicConfigs("t", {
      cleanupPolicy: "compact,delete",
      minCleanableDirtyRatio: 0.01,
      deleteRetentionMs: 1000,
      minCompactionLagMs: 0,
      maxCompactionLagMs: Number.MAX_SAFE_INTEGER,
    }),
    {
      "cleanup.policy": "compact,delete",
      "min.cleanable.dirty.ratio": "0.01",
      "delete.retention.ms": "1000",
      "min.compaction.lag.ms": "0",
      "max.compaction.lag.ms": "9223372036854775807",
    },
  );
});

test("kafkaTopicConfigs() throws InvalidConfigError for a config Kafka has not or a value it refuses", () => {
  assert.throws(() => kafkaTopicConfigs("t", { segmentBytes: 4096 }), (err: unknown) => {
    assert.ok(err instanceof InvalidConfigError);
    assert.equal(err.code, "INVALID_CONFIG");
    assert.equal(err.topic, "t");
    assert.match(
      err.message,
      /^Cannot change the config of topic "t": segmentBytes: Kafka's segment\.bytes is at least 1048576/,
    );
    return true;
  });
  assert.throws(() => kafkaTopicConfigs("t", { compaction: true } as never), InvalidConfigError);
  assert.throws(() => kafkaTopicConfigs("t", { retentionMs: 1.5 }), InvalidConfigError);
  assert.throws(() => kafkaTopicConfigs("t", { minCleanableDirtyRatio: 2 }), InvalidConfigError);
  assert.deepEqual(kafkaConfigChanges("t", { cleanupPolicy: "compact", minCleanableDirtyRatio: null }), [
    { name: "cleanup.policy", op: "set", value: "compact" },
    { name: "min.cleanable.dirty.ratio", op: "delete" },
  ]);
  assert.throws(() => kafkaTopicConfigs("t", { cleanupPolicy: "shred" as never }), InvalidConfigError);
});

test("preallocate maps to Kafka's preallocate, both ways, and back to its default with null", () => {
  assert.deepEqual(kafkaTopicConfigs("t", { preallocate: true }), { preallocate: "true" });
  assert.deepEqual(kafkaConfigChanges("t", { preallocate: false }), [
    { name: "preallocate", op: "set", value: "false" },
  ]);
  assert.deepEqual(kafkaConfigChanges("t", { preallocate: null }), [{ name: "preallocate", op: "delete" }]);
  assert.throws(() => kafkaTopicConfigs("t", { preallocate: "yes" as never }), InvalidConfigError);
  assert.equal(reelTopicConfig([{ name: "preallocate", value: "true" }]).preallocate, true);
  assert.equal(reelTopicConfig([{ name: "preallocate", value: "false" }]).preallocate, false);
  assert.deepEqual(logConfigFromKafka([{ name: "preallocate", value: "true" }]), { preallocate: true });
  assert.match(String(logConfigFromKafka([{ name: "preallocate", value: "1" }])), /expected true or false/);
  assert.ok(
    logConfigToKafka({ ...DEFAULT_LOG_CONFIG, preallocate: true }).some((c) =>
      c.name === "preallocate" && c.value === "true"
    ),
  );
});

test("records map both ways: null and empty keys and values, repeated header keys kept in order", () => {
  const message = toMessage(
    "t",
    {
      key: "",
      value: null,
      headers: [{ key: "h", value: new Uint8Array([1]) }, { key: "h", value: null }],
    },
    2,
    1234,
  );
  assert.equal(message.partition, 2);
  assert.equal(message.timestamp, 1234n);
  assert.equal(message.key!.length, 0);
  assert.equal(message.value, null);
  const headers = [...(message.headers as Map<Buffer, Buffer>)];
  assert.deepEqual(headers.map(([k, v]) => [k.toString(), v === null ? null : [...v]]), [["h", [1]], [
    "h",
    null,
  ]]);

  const batch = {
    firstOffset: 40n,
    attributes: 0,
    firstTimestamp: 1000n,
    maxTimestamp: 5000n,
  } as never;
  const record = {
    timestampDelta: 7n,
    offsetDelta: 2,
    key: null,
    value: Buffer.from("v"),
    headers: [[Buffer.from("h"), null], [Buffer.from("h"), Buffer.from("x")]],
  } as never;
  const consumed = toConsumedRecord("t", 1, batch, record);
  assert.deepEqual(
    {
      ...consumed,
      value: new TextDecoder().decode(consumed.value!),
      headers: consumed.headers.map((h) => h.key),
    },
    { topic: "t", partition: 1, offset: 42, timestamp: 1007, key: null, value: "v", headers: ["h", "h"] },
  );
  // LogAppendTime (attributes bit 3): every record has the batch's max timestamp.
  assert.equal(
    toConsumedRecord("t", 1, { ...(batch as object), attributes: 8 } as never, record).timestamp,
    5000,
  );
});

test("kafkaErrorNames() finds Kafka's error names in the client's nested errors", () => {
  const err = {
    errors: [{ apiId: "NOT_LEADER_OR_FOLLOWER" }, { errors: [{ apiId: "OFFSET_OUT_OF_RANGE" }] }],
  };
  assert.deepEqual([...kafkaErrorNames(err)].sort(), ["NOT_LEADER_OR_FOLLOWER", "OFFSET_OUT_OF_RANGE"]);
  assert.equal(kafkaErrorNames(new Error("plain")).size, 0);
});

test("connect() throws UnsupportedRuntimeError on a Node older than 22.22, before any request; elsewhere it loads its client", async () => {
  if (CONNECT_UNSUPPORTED) {
    await assert.rejects(connect({ bootstrapServers: "127.0.0.1:9" }), (err: unknown) => {
      assert.ok(err instanceof UnsupportedRuntimeError);
      assert.equal(err.code, "UNSUPPORTED_VERSION");
      assert.equal(err.runtime, "node");
      assert.equal(err.version, process.versions.node);
      assert.match(
        err.message,
        /^Cannot use connect\(\) on node \d+\.\d+\.\d+: it needs Node 22\.22 or later/,
      );
      return true;
    });
  } else {
    const kafka = await loadKafka();
    assert.equal(typeof kafka.Producer, "function");
    assert.equal(typeof kafka.Admin, "function");
  }
});

test("new Consumer() refuses a source that is neither a log directory nor a connection, and needs new", () => {
  assert.throws(
    () => new Consumer({} as LogDirectoryLike, { groupId: "g" }),
    (err: unknown) =>
      err instanceof ReelError && err.code === "INVALID_REQUEST" &&
      /^Cannot make a consumer: expected a log directory from open\(\) or a connection from connect\(\)$/
        .test(err.message),
  );
  assert.throws(() => (Consumer as unknown as (log: unknown) => unknown)({}), TypeError);
});
