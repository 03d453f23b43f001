// When the cluster tests run: connect()'s Kafka client (@platformatic/kafka) needs Node 22.22 or
// later, so on an older Node they skip with that reason (connect() throws UnsupportedRuntimeError
// there, which kafka_mapping_test.ts checks). On Deno and Bun they need Java and the Kafka jars,
// and under REEL_REQUIRE_KAFKA=1 a missing Kafka is a failure, never a skip.

import assert from "node:assert/strict";
import process from "node:process";
import { after } from "node:test";
import {
  type ClusterConnection,
  connect,
  type ConnectOptions,
  InvalidConfigError,
  InvalidPartitionsError,
  type LogDirectoryLike,
  OffsetOutOfRangeError,
  UnknownTopicOrPartitionError,
} from "../../mod.ts";
import { KAFKA_CLIENT_MIN_NODE } from "../../src/cluster/_kafka_mapping.ts";
import { versionAtLeast } from "../../src/runtime/runtime_version.ts";
import { RUNTIME } from "../_runtime.ts";
import {
  type KafkaCluster,
  type KafkaOptions,
  kafkaUnavailable,
  startKafka,
} from "../interop/kafka/harness.ts";

/** Why connect() cannot run on this runtime (an old Node), or `undefined` where it can. */
export const CONNECT_UNSUPPORTED: string | undefined =
  RUNTIME === "node" && !versionAtLeast(process.versions.node, KAFKA_CLIENT_MIN_NODE)
    ? `connect()'s Kafka client (@platformatic/kafka) needs Node ${KAFKA_CLIENT_MIN_NODE} or later, ` +
      `this is Node ${process.versions.node}`
    : undefined;

/**
 * Why the tests against a Kafka broker or cluster skip here, or `undefined` when they run.
 *
 * @throws {Error} under REEL_REQUIRE_KAFKA=1 when connect() can run but Kafka cannot be started
 */
export function clusterSkip(): string | undefined {
  return CONNECT_UNSUPPORTED ?? kafkaUnavailable();
}

/** One Kafka cluster for a test file, and a connection to it (see {@linkcode kafkaForFile}). */
export interface FileKafka {
  /** The cluster once started (by {@linkcode FileKafka.start} or {@linkcode FileKafka.connection}). */
  readonly kafka: KafkaCluster;
  /** Starts the cluster, once for the file. */
  start(): Promise<KafkaCluster>;
  /** Starts the cluster and connects to it, once each for the file. */
  connection(): Promise<ClusterConnection>;
}

/**
 * The Kafka of one test file: started by the first test that asks for it, and after the file's
 * tests its connection closed and the cluster destroyed (registers a file-level `after`: call it at
 * the top of the file).
 *
 * @param options the cluster's (brokers, broker configs)
 * @param connectOptions the connection's, over the cluster's bootstrap servers
 */
export function kafkaForFile(
  options: KafkaOptions = {},
  connectOptions: Omit<ConnectOptions, "bootstrapServers"> = {},
): FileKafka {
  let kafka: KafkaCluster | undefined;
  let started: Promise<KafkaCluster> | undefined;
  let connected: Promise<ClusterConnection> | undefined;
  let connection: ClusterConnection | undefined;
  after(async () => {
    await connection?.close();
    await kafka?.destroy();
  });
  const start = () => started ??= startKafka(options).then((k) => (kafka = k));
  return {
    get kafka() {
      if (kafka === undefined) throw new Error("Kafka is not started: call start() or connection() first");
      return kafka;
    },
    start,
    connection: () =>
      connected ??= start().then(async (k) =>
        connection = await connect({ bootstrapServers: k.bootstrapServers, ...connectOptions })
      ),
  };
}

/**
 * Topic administration through the shared shape, on a log directory or a cluster: what each call
 * answered, for comparing the two. Creates `name` (1 partition, 3 records), shortens its retention,
 * resets it, grows it to 3 partitions, deletes the records below offset 2 of partition 0; and checks
 * the typed errors on the way.
 */
export async function adminScenario(log: LogDirectoryLike, name: string): Promise<unknown> {
  const topic = await log.createTopic(name, { partitions: 1 });
  await topic.append([{ value: "a" }, { value: "b" }, { value: "c" }]);
  const set = await log.alterTopicConfig(name, { retentionMs: 3_600_000, segmentBytes: 2 ** 21 });
  const checked = await log.alterTopicConfig(name, { retentionMs: 60_000 }, { validateOnly: true });
  const reset = await log.alterTopicConfig(name, { retentionMs: null });
  await assert.rejects(log.alterTopicConfig(name, { colour: 1 } as never), InvalidConfigError);
  await assert.rejects(log.alterTopicConfig(name, { segmentBytes: 10 }), InvalidConfigError);
  const validated = await log.createPartitions(name, 5, { validateOnly: true });
  const unchanged = log.topic(name).partitions;
  const grown = await log.createPartitions(name, 3);
  await assert.rejects(log.createPartitions(name, 2), InvalidPartitionsError);
  const grownTopic = log.topic(name);
  await grownTopic.append([{ partition: 2, value: "new" }]);
  const low = await log.deleteRecords(name, [{ partition: 0, offset: 2 }]);
  await assert.rejects(log.deleteRecords(name, [{ partition: 0, offset: 99 }]), OffsetOutOfRangeError);
  await assert.rejects(log.deleteRecords(name, [{ partition: 7, offset: 0 }]), UnknownTopicOrPartitionError);
  const left: string[] = [];
  for await (const r of grownTopic.readable({ from: "earliest" })) {
    left.push(`${r.partition}:${r.offset}:${new TextDecoder().decode(r.value!)}`);
  }
  const described = (await grownTopic.describe()).map((
    p,
  ) => [p.partition, p.logStartOffset, p.highWatermark]);
  return {
    set: [set.retentionMs, set.segmentBytes],
    checked: checked.retentionMs,
    afterCheck: [reset.retentionMs, reset.segmentBytes],
    validated,
    unchanged,
    grown,
    partitions: grownTopic.partitions,
    low,
    left: left.sort(),
    described,
  };
}

/** What {@linkcode adminScenario} answers on a log directory and on Kafka alike. */
export const ADMIN_SCENARIO_RESULT = {
  set: [3_600_000, 2 ** 21],
  checked: 60_000,
  afterCheck: [7 * 24 * 3600 * 1000, 2 ** 21], // retention.ms back to the default, 7 days on both
  validated: 5,
  unchanged: 1,
  grown: 3,
  partitions: 3,
  low: [{ partition: 0, lowWatermark: 2 }],
  left: ["0:2:c", "2:0:new"],
  described: [[0, 2, 3], [1, 0, 0], [2, 0, 1]],
};
