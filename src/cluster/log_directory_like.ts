/**
 * The shape a log directory from `open()` and a Kafka cluster from `connect()` share, written down
 * once so that application code types against it and runs on either: topics with the same Web
 * Streams faces, and consumers with the same subscribe, poll and commit.
 *
 * Calls that read local files synchronously (`describe()`, `offsetsForTimes()`, `committed()`,
 * `beginningOffsets()`, `endOffsets()`) ask a broker over the network on a cluster, so the shared
 * shape types their results as {@linkcode Awaitable}: `await` them and the same code runs on both.
 *
 * @module
 */
import type { AppendOptions, RecordMetadata } from "../topic/topic.ts";
import type { CreateTopicOptions, TopicConfig } from "../topic/log_directory.ts";
import type { ReadableOptions } from "../consumer/fetch_source.ts";
import type { WritableBatchesOptions, WritableOptions } from "../producer/produce_sink.ts";
import type { ConsumedRecord } from "../record/consumed_record.ts";
import type { ProducerRecord } from "../record/producer_record.ts";
import type { PollOptions } from "../consumer/consumer.ts";
import type {
  CommittedOffset,
  ConsumerRebalanceListener,
  OffsetToCommit,
  TopicPartition,
} from "../consumer/types.ts";

/**
 * A value, or a promise of it: what a call returns when a log directory answers at once and a
 * cluster answers over the network. `await` works on both.
 *
 * @example Awaiting either
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Awaitable } from "./log_directory_like.ts";
 * const now: Awaitable<number> = 1;
 * const later: Awaitable<number> = Promise.resolve(2);
 * assert.equal((await now) + (await later), 3);
 * ```
 */
export type Awaitable<T> = T | Promise<T>;

/**
 * One partition's offsets, as `describe()` reports them on either side. A log directory adds its
 * `segments` and `bytes`; Kafka does not tell a client those.
 */
export interface PartitionOffsets {
  /** The partition number. */
  partition: number;
  /** The first offset still in the log (ListOffsets with timestamp -2 on a cluster). */
  logStartOffset: number;
  /**
   * The next offset to be assigned. A cluster's client sees only the high watermark (ListOffsets
   * with timestamp -1), so there it equals `highWatermark`.
   */
  logEndOffset: number;
  /** The end of what readers see. */
  highWatermark: number;
  /** How many segments the partition has (a log directory only). */
  segments?: number;
  /** The size of its `.log` files, bytes (a log directory only). */
  bytes?: number;
}

/** The offset of the first record at or after a timestamp in one partition, as `offsetsForTimes()` finds it. */
export interface OffsetAndTimestamp {
  /** The partition number. */
  partition: number;
  /** The record's offset. */
  offset: number;
  /** The record's timestamp, ms since the epoch. */
  timestamp: number;
}

/**
 * A topic of either a log directory (`Topic`) or a Kafka cluster (`ClusterTopic`).
 *
 * @example A local topic is one
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../mod.ts";
 * import type { TopicLike } from "./log_directory_like.ts";
 * const log = await open(Deno.makeTempDirSync());
 * const topic: TopicLike = await log.createTopic("events", { partitions: 2 });
 * await topic.append([{ key: "k", value: "v" }]);
 * const described = await topic.describe();
 * assert.equal(described.reduce((n, p) => n + p.highWatermark, 0), 1);
 * await log.close();
 * ```
 */
export interface TopicLike {
  /** The topic name. */
  readonly name: string;
  /** How many partitions it has. */
  readonly partitions: number;
  /**
   * A `WritableStream` of records: batched per partition, keys partitioned with murmur2; `close()`
   * resolves once every record is acknowledged (durable under the fsync policy, or by Kafka with
   * `acks=all`).
   */
  writable(options?: WritableOptions): WritableStream<ProducerRecord>;
  /** A `WritableStream` of record arrays, each one append, in order. */
  writableBatches(options?: WritableBatchesOptions): WritableStream<readonly ProducerRecord[]>;
  /** Appends records; resolves with each one's partition, offset and timestamp once acknowledged. */
  append(records: readonly ProducerRecord[], options?: AppendOptions): Promise<RecordMetadata[]>;
  /** A `ReadableStream` of the records of some or all partitions. */
  readable(options?: ReadableOptions): ReadableStream<ConsumedRecord>;
  /** The same records, one array per chunk. */
  readableBatches(options?: ReadableOptions): ReadableStream<ConsumedRecord[]>;
  /** Per partition, the first record at or after `timestamp` (ms), or `null` when there is none. */
  offsetsForTimes(timestamp: number): Awaitable<(OffsetAndTimestamp | null)[]>;
  /** Per partition: log start offset, log end offset, high watermark. */
  describe(): Awaitable<PartitionOffsets[]>;
}

/**
 * A log directory (`open()`) or a Kafka cluster (`connect()`): its topics.
 *
 * @example A log directory is one
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../mod.ts";
 * import type { LogDirectoryLike } from "./log_directory_like.ts";
 * async function ensure(log: LogDirectoryLike, name: string) {
 *   return log.hasTopic(name) ? log.topic(name) : await log.createTopic(name, { partitions: 3 });
 * }
 * const log = await open(Deno.makeTempDirSync());
 * assert.equal((await ensure(log, "clicks")).partitions, 3);
 * assert.deepEqual(log.topics(), ["clicks"]);
 * await log.close();
 * ```
 */
export interface LogDirectoryLike {
  /** Whether it was closed. */
  readonly closed: boolean;
  /** The topic names, sorted. */
  topics(): string[];
  /** Whether a topic exists. */
  hasTopic(name: string): boolean;
  /**
   * An existing topic.
   *
   * @throws {UnknownTopicOrPartitionError} when there is none of that name
   */
  topic(name: string): TopicLike;
  /**
   * Creates a topic.
   *
   * @throws {TopicExistsError} when it exists
   */
  createTopic(name: string, options?: CreateTopicOptions): Promise<TopicLike>;
  /** Deletes a topic and its records. */
  deleteTopic(name: string): Promise<void>;
  /**
   * Changes a topic's configs (Kafka's IncrementalAlterConfigs): each key set, or reset with `null`.
   * A log directory answers its whole config; a cluster the configs reel has names for.
   *
   * @throws {InvalidConfigError} for an unknown key or a value refused (nothing is changed)
   */
  alterTopicConfig(
    name: string,
    changes: { [K in keyof TopicConfig]?: TopicConfig[K] | null },
    options?: { validateOnly?: boolean },
  ): Promise<Partial<TopicConfig>>;
  /**
   * Adds partitions, up to `count` in all (Kafka's CreatePartitions); answers the new count.
   *
   * @throws {InvalidPartitionsError} for a count not above the current one
   */
  createPartitions(name: string, count: number, options?: { validateOnly?: boolean }): Promise<number>;
  /**
   * Deletes the records before the given offsets (Kafka's DeleteRecords); answers each partition's
   * log start offset afterwards.
   *
   * @throws {OffsetOutOfRangeError} for an offset past a partition's high watermark
   */
  deleteRecords(
    name: string,
    offsets: readonly { partition: number; offset: number }[],
  ): Promise<{ partition: number; lowWatermark: number }[]>;
  /** Closes it: what is in flight finishes first. */
  close(): Promise<void>;
}

/**
 * A consumer over either (`Consumer` over a log directory, `ClusterConsumer` over a cluster), with
 * Kafka's `KafkaConsumer` calls.
 *
 * @example The local Consumer is one
 * ```ts
 * import assert from "node:assert/strict";
 * import { Consumer, open } from "../../mod.ts";
 * import type { ConsumerLike } from "./log_directory_like.ts";
 * const log = await open(Deno.makeTempDirSync());
 * await (await log.createTopic("orders")).append([{ value: "a" }, { value: "b" }]);
 * const consumer: ConsumerLike = new Consumer(log, { groupId: "billing", autoOffsetReset: "earliest" });
 * consumer.subscribe(["orders"]);
 * const records = await consumer.poll({ timeoutMs: 1_000 });
 * assert.equal(records.length, 2);
 * await consumer.commit();
 * assert.equal((await consumer.committed({ topic: "orders", partition: 0 }))?.offset, 2);
 * await consumer.close();
 * await log.close();
 * ```
 */
export interface ConsumerLike extends AsyncIterable<ConsumedRecord> {
  /** Joins the group for these topics (the group's members share their partitions). */
  subscribe(topics: string | string[], listener?: ConsumerRebalanceListener): void;
  /** Reads exactly these partitions, without a group's assignment. */
  assign(partitions: TopicPartition[]): void;
  /** The topics subscribed to. */
  subscription(): string[];
  /** The partitions held now. */
  assignment(): TopicPartition[];
  /** Up to `maxRecords` records, waiting up to `timeoutMs` for the first. */
  poll(options?: PollOptions): Promise<ConsumedRecord[]>;
  /** Commits the current positions, or the offsets given, as the group's committed offsets. */
  commit(offsets?: OffsetToCommit[]): Promise<void>;
  /** A partition's committed offset, or `null`. */
  committed(tp: TopicPartition): Awaitable<CommittedOffset | null>;
  /** Moves a partition's position to an offset. */
  seek(tp: TopicPartition, offset: number): void;
  /** Moves positions to the log start offsets. */
  seekToBeginning(partitions?: TopicPartition[]): void;
  /** Moves positions to the high watermarks. */
  seekToEnd(partitions?: TopicPartition[]): void;
  /** The offset of the next record `poll` hands out from a partition. */
  position(tp: TopicPartition): Awaitable<number>;
  /** Stops fetching from these partitions until `resume`. */
  pause(partitions: TopicPartition[]): void;
  /** Fetches from these partitions again. */
  resume(partitions: TopicPartition[]): void;
  /** Per partition, its log start offset. */
  beginningOffsets(partitions: TopicPartition[]): Awaitable<number[]>;
  /** Per partition, its high watermark. */
  endOffsets(partitions: TopicPartition[]): Awaitable<number[]>;
  /** Leaves the group (committing first under auto-commit) and releases everything. */
  close(): Promise<void>;
}
