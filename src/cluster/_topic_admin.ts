/**
 * Topic administration on a Kafka cluster, as a log directory's `alterTopicConfig`,
 * `createPartitions` and `deleteRecords` do it on disk: Kafka's IncrementalAlterConfigs (KIP-339),
 * CreatePartitions (KIP-195) and DeleteRecords (KIP-107) through the client's admin, with Kafka's
 * answers as reel's typed errors. Internal to `src/cluster/`: `ClusterConnection` calls these.
 *
 * @module
 */
import type { Admin } from "@platformatic/kafka";
import {
  InvalidConfigError,
  InvalidPartitionsError,
  OffsetOutOfRangeError,
  UnknownTopicOrPartitionError,
} from "../errors.ts";
import { MAX_PARTITIONS } from "../runtime/log_paths.ts";
import type { TopicConfig } from "../topic/log_directory.ts";
import type { ClusterTopic } from "./cluster_topic.ts";
import { kafkaConfigChanges, kafkaErrorNames, type KafkaModule, reelTopicConfig } from "./_kafka_mapping.ts";

const detail = (err: unknown) => err instanceof Error ? err.message : String(err);

/**
 * Changes a topic's configs with IncrementalAlterConfigs, then reads them back (DescribeConfigs).
 *
 * @returns the topic's config as reel names it: Kafka's values after the change; with
 *   `validateOnly`, today's values with the values set by the change over them (a reset's value is
 *   the broker's default, known only once applied, so a reset key is left out)
 * @throws {InvalidConfigError} for a config Kafka has no topic config for, or one it refuses
 * @throws {UnknownTopicOrPartitionError} when Kafka has no such topic
 */
export async function alterTopicConfig(
  admin: Admin,
  kafka: KafkaModule,
  name: string,
  changes: { [K in keyof TopicConfig]?: TopicConfig[K] | null },
  validateOnly: boolean,
): Promise<Partial<TopicConfig>> {
  const ops = kafkaConfigChanges(name, changes);
  const { SET, DELETE } = kafka.IncrementalAlterConfigOperationTypes;
  try {
    await admin.incrementalAlterConfigs({
      resources: [{
        resourceType: kafka.ConfigResourceTypes.TOPIC,
        resourceName: name,
        configs: ops.map((o) =>
          o.op === "set"
            ? { name: o.name, configOperation: SET, value: o.value }
            : { name: o.name, configOperation: DELETE }
        ),
      }],
      validateOnly,
    });
  } catch (err) {
    const names = kafkaErrorNames(err);
    if (names.has("UNKNOWN_TOPIC_OR_PARTITION")) throw new UnknownTopicOrPartitionError(name);
    if (names.has("INVALID_CONFIG") || names.has("INVALID_REQUEST") || names.has("POLICY_VIOLATION")) {
      throw new InvalidConfigError(name, `Kafka refused it: ${detail(err)}`, { cause: err });
    }
    throw err;
  }
  const [described] = await admin.describeConfigs({
    resources: [{ resourceType: kafka.ConfigResourceTypes.TOPIC, resourceName: name }],
  });
  const configs = described?.configs ?? [];
  if (!validateOnly) return reelTopicConfig(configs);
  const now = new Map(configs.map((c) => [c.name, c.value]));
  for (const o of ops) {
    if (o.op === "set") now.set(o.name, o.value);
  }
  const out = reelTopicConfig([...now].map(([n, value]) => ({ name: n, value })));
  for (const [key, value] of Object.entries(changes ?? {})) {
    if (value === null) delete (out as Record<string, unknown>)[key];
  }
  return out;
}

/**
 * Adds partitions with CreatePartitions, checked first as a log directory checks them, and waits
 * until every new partition has a leader.
 *
 * @returns the partition count afterwards
 * @throws {InvalidPartitionsError} for a count not above the current one, or above `MAX_PARTITIONS`,
 *   or one Kafka refuses
 * @throws {UnknownTopicOrPartitionError} when Kafka has no such topic
 */
export async function createPartitions(
  admin: Admin,
  name: string,
  current: number,
  count: number,
  validateOnly: boolean,
): Promise<number> {
  if (!Number.isInteger(count) || count <= current) {
    throw new InvalidPartitionsError(
      name,
      `it has ${current} partitions, and ${count} is not more (partitions are never removed)`,
    );
  }
  if (count > MAX_PARTITIONS) {
    throw new InvalidPartitionsError(name, `${count} partitions is more than ${MAX_PARTITIONS}`);
  }
  try {
    await admin.createPartitions({ topics: [{ name, count }], validateOnly });
  } catch (err) {
    const names = kafkaErrorNames(err);
    if (names.has("UNKNOWN_TOPIC_OR_PARTITION")) throw new UnknownTopicOrPartitionError(name);
    if (names.has("INVALID_PARTITIONS") || names.has("INVALID_REQUEST")) {
      throw new InvalidPartitionsError(name, `Kafka refused it: ${detail(err)}`);
    }
    throw err;
  }
  if (validateOnly) return count;
  const deadline = Date.now() + 30_000;
  for (;;) {
    // A failed metadata read is retried until the deadline.
    const metadata = await admin.metadata({ topics: [name], forceUpdate: true }).catch(() => undefined);
    const t = metadata?.topics.get(name);
    if (t && t.partitionsCount === count && t.partitions.every((p) => p && p.leader >= 0)) return count;
    if (Date.now() > deadline) {
      throw new Error(`Cannot add partitions to topic "${name}": no leader for every new partition`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Deletes the records before the given offsets with DeleteRecords (-1: the high watermark).
 *
 * @returns per partition, Kafka's low watermark (the log start offset) afterwards
 * @throws {UnknownTopicOrPartitionError} for a partition the topic does not have (nothing is sent)
 * @throws {OffsetOutOfRangeError} for an offset past a partition's high watermark (Kafka's
 *   OFFSET_OUT_OF_RANGE; what Kafka did for the other partitions stands)
 */
export async function deleteRecords(
  admin: Admin,
  topic: ClusterTopic,
  offsets: readonly { partition: number; offset: number }[],
): Promise<{ partition: number; lowWatermark: number }[]> {
  for (const { partition } of offsets) {
    if (!Number.isInteger(partition) || partition < 0 || partition >= topic.partitions) {
      throw new UnknownTopicOrPartitionError(topic.name, partition);
    }
  }
  if (offsets.length === 0) return [];
  let result;
  try {
    result = await admin.deleteRecords({
      topics: [{
        name: topic.name,
        partitions: offsets.map(({ partition, offset }) => ({ partition, offset: BigInt(offset) })),
      }],
    });
  } catch (err) {
    const names = kafkaErrorNames(err);
    if (names.has("OFFSET_OUT_OF_RANGE")) {
      const described = await topic.describe();
      for (const { partition, offset } of offsets) {
        const p = described[partition];
        if (offset > p.highWatermark) {
          throw new OffsetOutOfRangeError(topic.name, partition, offset, p.logStartOffset, p.highWatermark);
        }
      }
    }
    if (names.has("UNKNOWN_TOPIC_OR_PARTITION")) throw new UnknownTopicOrPartitionError(topic.name);
    throw err;
  }
  const low = new Map<number, number>();
  for (const t of result) {
    for (const p of t.partitions) low.set(p.partition, Number(p.lowWatermark));
  }
  return offsets.map(({ partition }) => ({ partition, lowWatermark: low.get(partition) ?? -1 }));
}
