/**
 * `connect()`: a Kafka cluster with the shape of a log directory, so that code written against
 * `open(dir)` runs against Kafka by changing the one line that opens it. The Kafka client is
 * @platformatic/kafka (loaded on the first `connect()`); reel's code here is the mapping.
 *
 * @module
 */
import type { Admin, Consumer as KafkaConsumer, Producer } from "@platformatic/kafka";
import {
  InvalidConfigError,
  SaslAuthenticationError,
  TopicExistsError,
  UnknownTopicOrPartitionError,
} from "../errors.ts";
import { MAX_PARTITIONS, validateTopicName } from "../runtime/log_paths.ts";
import type { CreateTopicOptions, TopicConfig } from "../topic/log_directory.ts";
import type { LogDirectoryLike } from "./log_directory_like.ts";
import { ClusterTopic } from "./cluster_topic.ts";
import {
  hasClientErrorCode,
  kafkaErrorNames,
  type KafkaModule,
  kafkaTopicConfigs,
  loadKafka,
} from "./_kafka_mapping.ts";
import { alterTopicConfig, createPartitions, deleteRecords } from "./_topic_admin.ts";
import { type ClientOptions, clientOptionsFor, type ConnectOptions } from "./connect_options.ts";

export type { ConnectOptions, SaslCredentials, TlsOptions } from "./connect_options.ts";

/** Options of `connection.createTopic()`: a log directory's, plus Kafka's replication. */
export interface ClusterCreateTopicOptions extends CreateTopicOptions {
  /** Replicas of each partition. @default the brokers' `default.replication.factor` */
  replicationFactor?: number;
  /**
   * Kafka topic configs by Kafka's name (`min.insync.replicas`, `cleanup.policy`, …), over those
   * `config` maps to.
   */
  kafkaConfig?: Record<string, string | number>;
}

const clientOptions = new WeakMap<ClusterConnection, { options: ClientOptions; kafka: KafkaModule }>();

/**
 * The client options of a connection and the client module it loaded (for `ClusterConsumer`).
 *
 * @throws {TypeError} for anything `connect()` did not make
 */
export function clientOptionsOf(
  connection: ClusterConnection,
): { options: ClientOptions; kafka: KafkaModule } {
  const found = clientOptions.get(connection);
  if (!found) throw new TypeError("Cannot use the connection: it was not made by connect()");
  return found;
}

/**
 * A Kafka cluster with the shape of a log directory: `createTopic`, `topic`, `topics`, `hasTopic`,
 * `deleteTopic`, `close`. Made by {@linkcode connect}.
 *
 * `topics()`, `hasTopic()` and `topic()` answer from the metadata read at `connect()` and kept up
 * to date by this connection's `createTopic` and `deleteTopic`; `refresh()` reads it again (topics
 * that other clients created).
 *
 * @example A local log directory and a cluster are both a `LogDirectoryLike`
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../mod.ts";
 * import type { LogDirectoryLike } from "./log_directory_like.ts";
 * import type { ClusterConnection } from "./cluster_connection.ts";
 * const useEither = (log: LogDirectoryLike) => log.topics().length;
 * const log = await open(Deno.makeTempDirSync());
 * assert.equal(useEither(log), 0);
 * const _typed: (c: ClusterConnection) => number = useEither; // a connection fits the same code
 * await log.close();
 * ```
 */
export class ClusterConnection implements LogDirectoryLike {
  readonly #producer: Producer;
  readonly #admin: Admin;
  readonly #fetchClient: KafkaConsumer;
  readonly #topics = new Map<string, ClusterTopic>();
  #closed = false;

  private constructor(
    producer: Producer,
    admin: Admin,
    fetchClient: KafkaConsumer,
    options: ClientOptions,
    kafka: KafkaModule,
  ) {
    this.#producer = producer;
    this.#admin = admin;
    this.#fetchClient = fetchClient;
    clientOptions.set(this, { options, kafka });
  }

  /**
   * Connects (see {@linkcode connect}).
   *
   * @param options bootstrap servers, client id, SASL, TLS
   * @returns the connection, with the cluster's topics read
   */
  static async connect(options: ConnectOptions): Promise<ClusterConnection> {
    const kafka = await loadKafka();
    const base = clientOptionsFor(options);
    const servers = base.bootstrapBrokers;
    // One attempt first, without retries: a refused SASL authentication is final (the client
    // would retry it as a network error until retryTimeoutMs), anything else is retried below.
    if (base.sasl) {
      const probe = new kafka.Admin({ ...base, retries: 0 });
      try {
        await probe.listTopics();
      } catch (err) {
        if (hasClientErrorCode(err, "PLT_KFK_AUTHENTICATION")) {
          throw new SaslAuthenticationError(
            `Cannot connect to ${servers.join(",")}: SASL authentication failed (${options.sasl!.mechanism})`,
          );
        }
      } finally {
        await probe.close().catch(() => {}); // the probe's only answer was the authentication's
      }
    }
    const producer = new kafka.Producer({ ...base, idempotent: true, acks: -1, autocreateTopics: false });
    const admin = new kafka.Admin({ ...base });
    const fetchClient = new kafka.Consumer({
      ...base,
      groupId: `reel-fetch-${crypto.randomUUID()}`, // never joined: Fetch and ListOffsets only
      autocommit: false,
    });
    const connection = new ClusterConnection(producer, admin, fetchClient, base, kafka);
    try {
      await connection.refresh();
    } catch (err) {
      await connection.close();
      throw err;
    }
    return connection;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  #checkOpen(action: string): void {
    if (this.#closed) throw new Error(`Cannot ${action}: the connection is closed`);
  }

  #clients() {
    return { producer: this.#producer, admin: this.#admin, fetchClient: this.#fetchClient };
  }

  /**
   * Reads the cluster's topic list and partition counts again (Metadata), for topics other
   * clients created or deleted.
   */
  async refresh(): Promise<void> {
    this.#checkOpen("refresh the metadata");
    const names = (await this.#admin.listTopics()).filter((n) => !n.startsWith("__"));
    const metadata = names.length > 0
      ? await this.#admin.metadata({ topics: names, forceUpdate: true })
      : { topics: new Map() };
    this.#topics.clear();
    for (const name of names) {
      const t = metadata.topics.get(name);
      if (t) this.#topics.set(name, new ClusterTopic(name, t.partitionsCount, this.#clients()));
    }
  }

  /** The topic names (internal `__` topics left out), sorted. */
  topics(): string[] {
    return [...this.#topics.keys()].sort();
  }

  /** Whether a topic exists (as of the last metadata read). */
  hasTopic(name: string): boolean {
    return this.#topics.has(name);
  }

  /**
   * An existing topic.
   *
   * @param name the topic name
   * @returns the topic
   * @throws {UnknownTopicOrPartitionError} when the cluster had no such topic at the last metadata read
   */
  topic(name: string): ClusterTopic {
    const topic = this.#topics.get(name);
    if (!topic) throw new UnknownTopicOrPartitionError(name);
    return topic;
  }

  /**
   * Creates a topic (CreateTopics) and waits until every partition has a leader.
   *
   * @param name the topic name (Kafka's rule)
   * @param options `partitions` (1), `config` (reel's names, mapped to Kafka topic configs:
   *   `segmentBytes` → `segment.bytes`, `fsync: "always"` → `flush.messages=1`, …),
   *   `replicationFactor`, `kafkaConfig` (Kafka's names)
   * @returns the topic
   * @throws {TopicExistsError} when it exists
   * @throws {InvalidConfigError} for a config Kafka has no topic config for, or one Kafka refuses
   * @throws {InvalidTopicError} for a name that breaks Kafka's rule
   */
  async createTopic(name: string, options: ClusterCreateTopicOptions = {}): Promise<ClusterTopic> {
    this.#checkOpen(`create topic "${name}"`);
    validateTopicName(name);
    const partitions = options.partitions ?? 1;
    if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS) {
      throw new RangeError(
        `Cannot create topic "${name}" with ${partitions} partitions: expected a whole number from 1 to ${MAX_PARTITIONS}`,
      );
    }
    const configs = { ...kafkaTopicConfigs(name, options.config ?? {}) };
    for (const [k, v] of Object.entries(options.kafkaConfig ?? {})) configs[k] = String(v);
    try {
      await this.#admin.createTopics({
        topics: [name],
        partitions,
        replicas: options.replicationFactor ?? -1,
        configs: Object.entries(configs).map(([k, v]) => ({ name: k, value: v })),
      });
    } catch (err) {
      const names = kafkaErrorNames(err);
      if (names.has("TOPIC_ALREADY_EXISTS")) throw new TopicExistsError(name);
      if (names.has("INVALID_CONFIG") || names.has("INVALID_REPLICATION_FACTOR")) {
        const detail = err instanceof Error ? err.message : String(err);
        throw new InvalidConfigError(name, `Kafka refused it: ${detail}`, { cause: err });
      }
      throw err;
    }
    // Wait until every partition has a leader, so the first produce does not race the election.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const metadata = await this.#admin.metadata({ topics: [name], forceUpdate: true }).catch(() =>
        undefined
      );
      const t = metadata?.topics.get(name);
      if (t && t.partitionsCount === partitions && t.partitions.every((p) => p && p.leader >= 0)) break;
      if (Date.now() > deadline) {
        throw new Error(`Cannot create topic "${name}": no leader for every partition`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const topic = new ClusterTopic(name, partitions, this.#clients());
    this.#topics.set(name, topic);
    return topic;
  }

  /**
   * Deletes a topic (DeleteTopics) and every record in it.
   *
   * @param name the topic name
   * @throws {UnknownTopicOrPartitionError} when there is no such topic
   */
  async deleteTopic(name: string): Promise<void> {
    this.#checkOpen(`delete topic "${name}"`);
    try {
      await this.#admin.deleteTopics({ topics: [name] });
    } catch (err) {
      if (kafkaErrorNames(err).has("UNKNOWN_TOPIC_OR_PARTITION")) {
        throw new UnknownTopicOrPartitionError(name);
      }
      throw err;
    }
    this.#topics.delete(name);
  }

  /**
   * Changes a topic's configs (Kafka's IncrementalAlterConfigs, KIP-339), as a log directory's
   * `alterTopicConfig` does: each key of `changes` is set, or reset with `null` (to the broker's
   * default). reel's names map to Kafka's as in `createTopic` (`fsync: "always"` →
   * `flush.messages=1`, …).
   *
   * @param name the topic name
   * @param changes the configs to set, or reset with `null`
   * @param options `validateOnly`: Kafka checks the change and changes nothing
   * @returns the topic's config afterwards, as reel names it, read back with DescribeConfigs
   * @throws {UnknownTopicOrPartitionError} when there is no such topic
   * @throws {InvalidConfigError} for a config Kafka has no topic config for, or a value Kafka refuses
   * @example The same call on a directory or a cluster
   * ```ts
   * import assert from "node:assert/strict";
   * import { open, type LogDirectoryLike } from "../../mod.ts";
   * const shorter = (log: LogDirectoryLike) => log.alterTopicConfig("events", { retentionMs: 3_600_000 });
   * const log = await open(Deno.makeTempDirSync()); // or: await connect({ bootstrapServers })
   * await log.createTopic("events");
   * assert.equal((await shorter(log)).retentionMs, 3_600_000);
   * await log.close();
   * ```
   */
  async alterTopicConfig(
    name: string,
    changes: { [K in keyof TopicConfig]?: TopicConfig[K] | null },
    options: { validateOnly?: boolean } = {},
  ): Promise<Partial<TopicConfig>> {
    this.#checkOpen(`change the config of topic "${name}"`);
    this.topic(name);
    return await alterTopicConfig(
      this.#admin,
      clientOptionsOf(this).kafka,
      name,
      changes,
      !!options.validateOnly,
    );
  }

  /**
   * Adds partitions to a topic, up to `count` in all (Kafka's CreatePartitions, KIP-195), and waits
   * until each new one has a leader. `topic(name)` then has the new count; a `ClusterTopic` taken
   * before keeps the count it had (as a `writable()` opened before the change does on a directory).
   *
   * @param name the topic name
   * @param count the new partition count, more than the topic has
   * @param options `validateOnly`: Kafka checks the count and adds nothing
   * @returns the partition count afterwards
   * @throws {UnknownTopicOrPartitionError} when there is no such topic
   * @throws {InvalidPartitionsError} for a count not above the current one, above `MAX_PARTITIONS`,
   *   or refused by Kafka
   * @example The same call on a directory or a cluster
   * ```ts
   * import assert from "node:assert/strict";
   * import { open, type LogDirectoryLike } from "../../mod.ts";
   * const grow = (log: LogDirectoryLike) => log.createPartitions("events", 3);
   * const log = await open(Deno.makeTempDirSync()); // or: await connect({ bootstrapServers })
   * await log.createTopic("events");
   * assert.equal(await grow(log), 3);
   * assert.equal(log.topic("events").partitions, 3);
   * await log.close();
   * ```
   */
  async createPartitions(
    name: string,
    count: number,
    options: { validateOnly?: boolean } = {},
  ): Promise<number> {
    this.#checkOpen(`add partitions to topic "${name}"`);
    const current = this.topic(name).partitions;
    const after = await createPartitions(this.#admin, name, current, count, !!options.validateOnly);
    if (!options.validateOnly) this.#topics.set(name, new ClusterTopic(name, after, this.#clients()));
    return after;
  }

  /**
   * Deletes the records before the given offsets (Kafka's DeleteRecords, KIP-107): each partition's
   * log start offset moves to its offset (-1: the high watermark).
   *
   * @param name the topic name
   * @param offsets per partition, the first offset to keep
   * @returns per partition, the log start offset afterwards (Kafka's low watermark)
   * @throws {UnknownTopicOrPartitionError} when there is no such topic or partition (nothing is deleted)
   * @throws {OffsetOutOfRangeError} for an offset past a partition's high watermark
   * @example The same call on a directory or a cluster
   * ```ts
   * import assert from "node:assert/strict";
   * import { open, type LogDirectoryLike } from "../../mod.ts";
   * const trim = (log: LogDirectoryLike) => log.deleteRecords("events", [{ partition: 0, offset: 2 }]);
   * const log = await open(Deno.makeTempDirSync()); // or: await connect({ bootstrapServers })
   * await (await log.createTopic("events")).append([{ value: "a" }, { value: "b" }, { value: "c" }]);
   * assert.deepEqual(await trim(log), [{ partition: 0, lowWatermark: 2 }]);
   * await log.close();
   * ```
   */
  async deleteRecords(
    name: string,
    offsets: readonly { partition: number; offset: number }[],
  ): Promise<{ partition: number; lowWatermark: number }[]> {
    this.#checkOpen(`delete records of topic "${name}"`);
    return await deleteRecords(this.#admin, this.topic(name), offsets);
  }

  /**
   * The committed offsets of a consumer group (OffsetFetch), per topic and partition.
   *
   * @param groupId the consumer group
   * @returns `{ topic, partition, offset }` for each partition with a committed offset
   */
  async committedOffsets(groupId: string): Promise<{ topic: string; partition: number; offset: number }[]> {
    const groups = await this.#admin.listConsumerGroupOffsets({ groups: [groupId] });
    const out: { topic: string; partition: number; offset: number }[] = [];
    for (const g of groups) {
      for (const t of g.topics) {
        for (const p of t.partitions) {
          if (p.committedOffset >= 0n) {
            out.push({ topic: t.name, partition: p.partitionIndex, offset: Number(p.committedOffset) });
          }
        }
      }
    }
    return out;
  }

  /**
   * Sets a consumer group's committed offsets (OffsetCommit as an admin: the group must have no live
   * members), as `kafka-consumer-groups --reset-offsets` does.
   *
   * @param groupId the consumer group
   * @param offsets `{ topic, partition, offset }` to commit
   */
  async alterCommittedOffsets(
    groupId: string,
    offsets: readonly { topic: string; partition: number; offset: number }[],
  ): Promise<void> {
    const byTopic = new Map<string, { partition: number; offset: bigint }[]>();
    for (const o of offsets) {
      byTopic.set(o.topic, [...(byTopic.get(o.topic) ?? []), {
        partition: o.partition,
        offset: BigInt(o.offset),
      }]);
    }
    if (byTopic.size === 0) return;
    await this.#admin.alterConsumerGroupOffsets({
      groupId,
      topics: [...byTopic].map(([name, partitionOffsets]) => ({ name, partitionOffsets })),
    });
  }

  /** Closes the connection's clients; what is in flight finishes first. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([this.#producer.close(), this.#admin.close(), this.#fetchClient.close()]);
  }
}

/**
 * Connects to a Kafka cluster (or anything that speaks Kafka's protocol: `reel serve` too) and
 * returns it with the shape of an open log directory: the change from `open(dir)` is this one call.
 *
 * @param options `bootstrapServers` (Kafka's `bootstrap.servers`), `clientId`, `sasl`, `tls`
 * @returns the connection, its topic list read
 * @throws {TypeError} when `bootstrapServers` names no broker
 * @throws {SaslAuthenticationError} when the broker refuses the `sasl` credentials (at once, not retried)
 * @throws {UnsupportedRuntimeError} on Node older than 22.22 (the Kafka client's least Node); Deno
 *   and Bun run it
 * @throws {Error} the client's error when no bootstrap server answers in time
 * @example One line changes: `open(dir)` becomes `connect({ bootstrapServers })`
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect, open } from "../../mod.ts";
 * const bootstrapServers = Deno.env.get("KAFKA_BOOTSTRAP_SERVERS"); // unset: the log directory
 * const log = bootstrapServers ? await connect({ bootstrapServers }) : await open(Deno.makeTempDirSync());
 * const topic = log.hasTopic("clicks") ? log.topic("clicks") : await log.createTopic("clicks", { partitions: 4 });
 * const [meta] = await topic.append([{ key: "user-1", value: "home" }]);
 * assert.ok(meta.offset >= 0);
 * await log.close();
 * ```
 */
export function connect(options: ConnectOptions): Promise<ClusterConnection> {
  return ClusterConnection.connect(options);
}
