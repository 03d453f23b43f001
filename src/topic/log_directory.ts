/**
 * A log directory: many topics, each a set of partition directories `<topic>-<partition>/`,
 * with each topic's config kept in `.topics/<topic>.json`.
 *
 * @module
 */
import { StorageError, TopicExistsError, UnknownTopicOrPartitionError } from "../errors.ts";
import { type LogConfig, resolveLogConfig } from "../log/log_config.ts";
import { compactInBackground } from "../log/log_cleaner.ts";
import { fs, removeDirectory } from "../runtime/file_system.ts";
import { randomTopicId } from "../log/partition_metadata_file.ts";
import { createTopicFiles, deleteTopicFiles } from "./topic_store.ts";
import { deleteTopicOffsets } from "../consumer/offset_store.ts";
import type { Topic } from "./topic.ts";
import { TopicRegistry } from "./_topic_registry.ts";
import {
  joinLogPath,
  MAX_PARTITIONS,
  TOPICS_DIR,
  validatePartition,
  validateTopicName,
} from "../runtime/log_paths.ts";

/** The settings of a topic: Kafka's log configs, in camelCase. */
export type TopicConfig = LogConfig;

/** Options of {@linkcode open}. */
export interface OpenOptions {
  /** Config for topics created without one, over Kafka's defaults. */
  defaults?: Partial<TopicConfig>;
  /**
   * How often retention (`retentionMs`, `retentionBytes`) runs over the partitions this process
   * writes, ms; 0 or less turns the timer off (`topic.deleteOldSegments()` still works). Kafka's
   * `log.retention.check.interval.ms`. The timer never keeps the process alive.
   * @default 300000
   */
  retentionCheckIntervalMs?: number;
  /**
   * How long a partition this process writes may stay idle before its writer role is given back
   * (the log is flushed and marked clean, and another process may write it), ms. Another process
   * waiting for the role gets it sooner, once what is in flight is acknowledged.
   * @default 1000
   */
  writerIdleMs?: number;
  /**
   * How long an append waits for a partition's writer role while another process holds it, ms,
   * before it fails with {@linkcode PartitionLockedError}; 0 fails at once.
   * @default 30000
   */
  lockTimeoutMs?: number;
}

/** Options of {@linkcode LogDirectory.createTopic}. */
export interface CreateTopicOptions {
  /** How many partitions. @default 1 */
  partitions?: number;
  /** The topic's config, over the directory's defaults. */
  config?: Partial<TopicConfig>;
}

/** How often a directory looks for changes other processes made to its open topics, ms. */
const STORED_CHECK_INTERVAL_MS = 1000;

/**
 * An open log directory. Get one with {@linkcode open}.
 *
 * @example Create a topic and list the topics
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../mod.ts";
 * const log = await open(Deno.makeTempDirSync());
 * await log.createTopic("events", { partitions: 4, config: { fsync: "always" } });
 * assert.deepEqual(log.topics(), ["events"]);
 * assert.equal(log.topic("events").partitions, 4);
 * await log.close();
 * ```
 */
export class LogDirectory {
  readonly #topics: TopicRegistry;
  #storedTimer: ReturnType<typeof setInterval> | undefined;
  #retentionTimer: ReturnType<typeof setInterval> | undefined;

  private constructor(readonly dir: string, defaults: TopicConfig, options: OpenOptions) {
    const writerIdleMs = options.writerIdleMs ?? 1000;
    const lockTimeoutMs = options.lockTimeoutMs ?? 30_000;
    if (!(writerIdleMs > 0)) throw new RangeError(`Invalid writerIdleMs ${writerIdleMs}: must be positive`);
    if (!(lockTimeoutMs >= 0)) {
      throw new RangeError(`Invalid lockTimeoutMs ${lockTimeoutMs}: must be 0 or more`);
    }
    this.#topics = new TopicRegistry(dir, defaults, { writerIdleMs, lockTimeoutMs });
  }

  #startRetention(intervalMs: number): void {
    if (!(intervalMs > 0)) return;
    this.#retentionTimer = setInterval(() => {
      for (const topic of this.#topics.values()) {
        for (const log of topic.openedLogs) {
          // Only the partitions this process writes: their writer runs retention.
          if (!log.isWriter || log.closed) continue;
          try {
            log.deleteOldSegments();
          } catch { /* tried again at the next check */ }
          compactInBackground(log); // the cleaner, if the topic compacts and is dirty: one round at a time
        }
      }
    }, intervalMs);
    (this.#retentionTimer as unknown as { unref?: () => void }).unref?.();
  }

  /**
   * Opens a log directory (created if missing) and finds its topics. Partition logs open on first
   * use (a read, a write, `describe`), recovering then those that were not closed cleanly, so a
   * directory of thousands of partitions opens at once; open segment files are bounded per
   * process (see `setMaxOpenFiles`), as are writer roles (see `setMaxWriters`).
   *
   * Many processes may open the same directory, and each may produce to any partition: a
   * partition has one writer at a time, and the writer role passes between them. A process takes
   * a partition's writer role (its lock file, reloading the log under it) when it appends to it,
   * and gives it back once it has been idle for `writerIdleMs`, or sooner when another writer
   * waits for it; an append that finds another writer waits for the role up to `lockTimeoutMs`,
   * then fails with {@linkcode PartitionLockedError}. Offsets stay dense: each writer appends
   * after the log end offset its predecessor left. Readers see what any writer appends (follow
   * readers within milliseconds); the lock of a writer that died is taken over.
   *
   * @param dir the directory path
   * @param options defaults for new topics, the retention check interval
   * @returns the open directory
   * @throws {StorageError} when the directory cannot be created or read
   * @throws {RangeError} for a `writerIdleMs` that is not positive or a negative `lockTimeoutMs`
   */
  static async open(dir: string, options: OpenOptions = {}): Promise<LogDirectory> {
    await Promise.resolve();
    const defaults = resolveLogConfig(options.defaults ?? {});
    try {
      fs.mkdirSync(joinLogPath(dir, TOPICS_DIR), { recursive: true });
    } catch (err) {
      throw new StorageError(`Cannot open log directory ${dir}: ${(err as Error).message}`, { cause: err });
    }
    const self = new LogDirectory(dir, defaults, options);
    self.#topics.load();
    self.#startRetention(options.retentionCheckIntervalMs ?? 300_000);
    self.#storedTimer = setInterval(() => self.#topics.refresh(), STORED_CHECK_INTERVAL_MS);
    (self.#storedTimer as unknown as { unref?: () => void }).unref?.();
    return self;
  }

  /**
   * Changes a topic's config (Kafka's IncrementalAlterConfigs, KIP-339): each key of `changes`
   * is set, or, with `null`, reset to the directory's default. The change is checked whole first
   * (nothing is changed when one value is invalid), stored in `.topics/<name>.json`, and takes
   * effect at once in this process and within a second in every other process that has the
   * topic open (the next append, roll, retention check and fsync use it).
   *
   * @param name the topic name
   * @param changes the configs to set, or reset with `null`
   * @param options `validateOnly`: check the change and answer what the config would be, changing
   *   nothing (as Kafka's `validateOnly`)
   * @returns the topic's config afterwards
   * @throws {UnknownTopicOrPartitionError} when there is no such topic
   * @throws {InvalidConfigError} for an unknown key or a value out of range (nothing is changed)
   * @throws {StorageError} when the config file cannot be written
   * @example Shorter retention for one topic
   * ```ts
   * import assert from "node:assert/strict";
   * import { open } from "../../mod.ts";
   * const log = await open(Deno.makeTempDirSync());
   * await log.createTopic("events");
   * const config = await log.alterTopicConfig("events", { retentionMs: 3_600_000 });
   * assert.equal(config.retentionMs, 3_600_000);
   * assert.equal(log.topic("events").config.retentionMs, 3_600_000);
   * await log.close();
   * ```
   */
  async alterTopicConfig(
    name: string,
    changes: { [K in keyof TopicConfig]?: TopicConfig[K] | null },
    options: { validateOnly?: boolean } = {},
  ): Promise<TopicConfig> {
    await Promise.resolve();
    this.#checkOpen(`change the config of topic "${name}"`);
    const topic = this.topic(name);
    return this.#topics.alterConfig(topic, changes, options.validateOnly);
  }

  /**
   * Adds partitions to a topic, up to `count` in all (Kafka's CreatePartitions, KIP-195; never
   * removes any). The new partitions' directories are made before the config file names them, so
   * a crash leaves the topic as it was or complete. Other processes see the new count within a
   * second; keyed records may then go to other partitions, as in Kafka, and a `writable()` opened
   * before the change keeps the partition count it started with.
   *
   * @param name the topic name
   * @param count the new partition count, more than the topic has
   * @param options `validateOnly`: check the count, adding nothing (as Kafka's `validateOnly`)
   * @returns the partition count afterwards
   * @throws {UnknownTopicOrPartitionError} when there is no such topic
   * @throws {InvalidPartitionsError} for a count not above the current one, or above `MAX_PARTITIONS`
   * @throws {StorageError} when a directory or the config file cannot be written (nothing is added)
   * @example From one partition to three
   * ```ts
   * import assert from "node:assert/strict";
   * import { open } from "../../mod.ts";
   * const log = await open(Deno.makeTempDirSync());
   * await log.createTopic("events");
   * assert.equal(await log.createPartitions("events", 3), 3);
   * await log.topic("events").append([{ partition: 2, value: "new" }]);
   * assert.equal(log.topic("events").describe()[2].logEndOffset, 1);
   * await log.close();
   * ```
   */
  async createPartitions(
    name: string,
    count: number,
    options: { validateOnly?: boolean } = {},
  ): Promise<number> {
    await Promise.resolve();
    this.#checkOpen(`add partitions to topic "${name}"`);
    const topic = this.topic(name);
    return this.#topics.addPartitions(topic, count, options);
  }

  /**
   * Deletes the records before the given offsets (Kafka's DeleteRecords, KIP-107): each
   * partition's log start offset moves to its offset (-1: the high watermark), checkpointed before
   * any segment wholly below it is deleted. Readers of an earlier offset then get
   * `OffsetOutOfRangeError`; consumers move as their `autoOffsetReset` says.
   *
   * @param name the topic name
   * @param offsets per partition, the first offset to keep
   * @returns per partition, the log start offset afterwards (Kafka's low watermark)
   * @throws {UnknownTopicOrPartitionError} when there is no such topic or partition (nothing is deleted)
   * @throws {OffsetOutOfRangeError} for an offset past a partition's high watermark (the partitions
   *   before it in `offsets` are done)
   * @throws {PartitionLockedError} when another writer keeps a partition
   * @example Delete everything up to offset 2
   * ```ts
   * import assert from "node:assert/strict";
   * import { open } from "../../mod.ts";
   * const log = await open(Deno.makeTempDirSync());
   * const topic = await log.createTopic("events");
   * await topic.append([{ value: "a" }, { value: "b" }, { value: "c" }]);
   * const [low] = await log.deleteRecords("events", [{ partition: 0, offset: 2 }]);
   * assert.deepEqual(low, { partition: 0, lowWatermark: 2 });
   * const left = [];
   * for await (const r of topic.readable()) left.push(r.offset);
   * assert.deepEqual(left, [2]);
   * await log.close();
   * ```
   */
  async deleteRecords(
    name: string,
    offsets: readonly { partition: number; offset: number }[],
  ): Promise<{ partition: number; lowWatermark: number }[]> {
    await Promise.resolve();
    this.#checkOpen(`delete records of topic "${name}"`);
    const topic = this.topic(name);
    for (const { partition } of offsets) validatePartition(name, partition, topic.partitions);
    return offsets.map(({ partition, offset }) => ({
      partition,
      lowWatermark: topic.partition(partition).deleteRecordsBefore(offset),
    }));
  }

  /** Whether {@linkcode LogDirectory.close} has been called. */
  get closed(): boolean {
    return this.#topics.closed;
  }

  #checkOpen(action: string): void {
    this.#topics.checkOpen(action);
  }

  /**
   * The topic names, sorted (including topics other processes created since the open).
   *
   * @returns the names
   */
  topics(): string[] {
    return this.#topics.names();
  }

  /**
   * Whether a topic exists (also one another process created since the open).
   *
   * @param name the topic name
   */
  hasTopic(name: string): boolean {
    return this.#topics.discover(name) !== undefined;
  }

  /**
   * An existing topic.
   *
   * @param name the topic name
   * @returns the topic
   * @throws {UnknownTopicOrPartitionError} when there is no such topic
   */
  topic(name: string): Topic {
    this.#checkOpen(`use topic "${name}"`);
    const topic = this.#topics.discover(name);
    if (!topic) throw new UnknownTopicOrPartitionError(name);
    return topic;
  }

  /**
   * Creates a topic with N partitions and its config (stored in `.topics/<name>.json`).
   *
   * @param name the topic name (Kafka's rule: 1–249 characters of `[a-zA-Z0-9._-]`, not `.`/`..`)
   * @param options partitions and config
   * @returns the new topic
   * @throws {InvalidTopicError} for an illegal name
   * @throws {TopicExistsError} when the topic exists
   * @throws {RangeError} for a partition count below 1 or a config value out of range
   */
  async createTopic(name: string, options: CreateTopicOptions = {}): Promise<Topic> {
    await Promise.resolve();
    this.#checkOpen(`create topic "${name}"`);
    validateTopicName(name);
    if (this.#topics.discover(name)) throw new TopicExistsError(name);
    const partitions = options.partitions ?? 1;
    if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS) {
      throw new RangeError(
        `Cannot create topic "${name}" with ${partitions} partitions: expected a whole number from 1 to ${MAX_PARTITIONS}`,
      );
    }
    const config = resolveLogConfig(options.config ?? {}, this.#topics.defaults);
    const topicId = randomTopicId();
    createTopicFiles(this.dir, name, { version: 0, name, topicId, partitions, config });
    return this.#topics.add(name, partitions, config, topicId);
  }

  /**
   * Deletes a topic and all its records: takes every partition's writer lock, closes its logs,
   * renames each partition directory to `<topic>-<partition>.<id>-delete` (as Kafka does),
   * removes them and the topic's config, and deletes the topic's committed offsets from every
   * consumer group (as Kafka does). Readers, followers and consumers of the topic in other
   * processes end with {@linkcode UnknownTopicOrPartitionError} when they next look for new
   * records, also once a topic of the same name is created again (it has another topic ID).
   *
   * @param name the topic name
   * @throws {InvalidTopicError} for an illegal name
   * @throws {UnknownTopicOrPartitionError} when there is no such topic (or another process deleted it)
   * @throws {PartitionLockedError} when another process writes one of its partitions (nothing is deleted)
   * @throws {StorageError} when a directory cannot be renamed or removed
   * @example A topic deleted and created again is a new topic
   * ```ts
   * import assert from "node:assert/strict";
   * import { open } from "../../mod.ts";
   * const log = await open(Deno.makeTempDirSync());
   * const before = await log.createTopic("events");
   * await before.append([{ value: "a" }]);
   * await log.deleteTopic("events");
   * assert.equal(log.hasTopic("events"), false);
   * const after = await log.createTopic("events");
   * assert.notEqual(after.topicId, before.topicId);
   * assert.equal(after.partition(0).logEndOffset, 0);
   * await log.close();
   * ```
   */
  async deleteTopic(name: string): Promise<void> {
    this.#checkOpen(`delete topic "${name}"`);
    validateTopicName(name);
    const topic = this.topic(name);
    // Fails with UnknownTopicOrPartitionError when another process deleted it first.
    for (const log of topic.logs) log.acquireWriterLock();
    this.#topics.forget(name);
    // The directories are renamed while this process still holds their locks (no other process
    // can start writing them in between); the logs are closed without writing into them.
    let doomed: string[];
    try {
      doomed = deleteTopicFiles(this.dir, name, topic.partitions);
    } finally {
      for (const log of topic.logs) log.closeDeleted();
    }
    // As Kafka does, the topic's committed offsets go with it, from every consumer group.
    await deleteTopicOffsets(this.dir, name);
    for (const path of doomed) removeDirectory(path);
  }

  /**
   * Runs retention now over every topic (see `Topic.deleteOldSegments`): the partitions this
   * process writes, and those no process writes.
   *
   * @param now the current time, ms since the epoch
   * @returns how many segments were deleted
   * @example Retention over every topic
   * ```ts
   * import assert from "node:assert/strict";
   * import { open } from "../../mod.ts";
   * const log = await open(Deno.makeTempDirSync());
   * const topic = await log.createTopic("events", { config: { retentionMs: 60_000, segmentBytes: 1024 } });
   * await topic.append([{ value: "x".repeat(1100), timestamp: 0 }]); // fills a 1 KiB segment
   * await topic.append([{ value: "new" }]);
   * assert.equal(log.deleteOldSegments(), 1);
   * assert.equal(log.deleteOldSegments(), 0); // nothing older is left
   * await log.close();
   * ```
   */
  deleteOldSegments(now: number = Date.now()): number {
    this.#checkOpen("delete old segments");
    let deleted = 0;
    for (const topic of this.#topics.values()) deleted += topic.deleteOldSegments(now);
    return deleted;
  }

  /**
   * Closes every partition log: those this process writes cleanly (flushed, fsynced, marked clean
   * so the next open scans nothing, writer lock released). Streams still reading end; the
   * directory cannot be used afterwards.
   *
   * @throws {StorageError} when a partition's files could not be flushed or marked clean (a full
   *   disk, an I/O error); every writer lock is released all the same, and the next open recovers
   *   that partition
   */
  async close(): Promise<void> {
    if (this.#topics.closed) return;
    if (this.#retentionTimer !== undefined) clearInterval(this.#retentionTimer);
    if (this.#storedTimer !== undefined) clearInterval(this.#storedTimer);
    // Every partition closes (and releases its lock) even when another fails; the first error is reported.
    const results = await Promise.allSettled(this.#topics.close());
    const failed = results.find((r) => r.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }
}

/**
 * Opens a log directory: the entry point of reel.
 *
 * @param dir the directory path (created if missing)
 * @param options defaults for new topics
 * @returns the open {@linkcode LogDirectory}
 * @throws {StorageError} when the directory cannot be created or read
 * @example Open a directory, create a topic if needed, append
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../mod.ts";
 * const dir = Deno.makeTempDirSync();
 * for (const value of ["hello", "again"]) {
 *   const log = await open(dir, { defaults: { fsync: "always" } });
 *   const topic = log.hasTopic("events") ? log.topic("events") : await log.createTopic("events");
 *   await topic.append([{ value }]);
 *   await log.close();
 * }
 * const log = await open(dir);
 * assert.equal(log.topic("events").partition(0).logEndOffset, 2);
 * assert.equal(log.topic("events").config.fsync, "always");
 * await log.close();
 * ```
 */
export function open(dir: string, options: OpenOptions = {}): Promise<LogDirectory> {
  return LogDirectory.open(dir, options);
}
