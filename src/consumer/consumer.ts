/**
 * A consumer with Kafka's `KafkaConsumer` API over a log directory: `subscribe` (the group splits
 * the partitions among its members) or `assign`; `poll`, async iteration and a `ReadableStream`;
 * `seek`, `seekToBeginning`, `seekToEnd`, `position`; `commit` and `committed` (offsets kept per
 * group, topic and partition, durable); `pause`/`resume`; `autoOffsetReset`; auto-commit.
 *
 * The parts, in Kafka's layers: `consumer_config.ts` (the options), `_subscription_state.ts` (what
 * it reads, and where), `_fetcher.ts` (records for a poll, each partition read by
 * `_partition_fetcher.ts`), `_consumer_coordinator.ts` (its group and commits).
 *
 * @module
 */
import { StorageError } from "../errors.ts";
import type { PartitionLog } from "../log/partition_log.ts";
import type { ConsumedRecord } from "../record/consumed_record.ts";
import {
  checkPositive,
  type ConsumerConfig,
  consumerConfig,
  type ConsumerOptions,
  type PollOptions,
} from "./consumer_config.ts";
import { checkTopicPartition, type LogDirectoryView } from "./log_directory_view.ts";
import { ConsumerCoordinator } from "./_consumer_coordinator.ts";
import { Fetcher } from "./_fetcher.ts";
import { listOffset } from "./_partition_fetcher.ts";
import { SubscriptionState } from "./_subscription_state.ts";
import { WakeSignal } from "./_wake_signal.ts";
import type {
  CommittedOffset,
  ConsumerGroupMetadata,
  ConsumerRebalanceListener,
  OffsetToCommit,
  TopicPartition,
} from "./types.ts";

export type { AutoOffsetReset, ConsumerOptions, PollOptions } from "./consumer_config.ts";
export type { ConsumerGroupMetadata } from "./types.ts";

/**
 * A Kafka-style consumer over an open log directory.
 *
 * @example A group member that commits after processing (at-least-once)
 * ```ts
 * import assert from "node:assert/strict";
 * import { Consumer, describeGroup, open } from "../../mod.ts";
 * const log = await open(Deno.makeTempDirSync());
 * const orders = await log.createTopic("orders", { partitions: 2 });
 * await orders.append([{ key: "a", value: "1" }, { key: "b", value: "2" }, { key: "c", value: "3" }]);
 * const consumer = new Consumer(log, { groupId: "billing", autoOffsetReset: "earliest", enableAutoCommit: false });
 * consumer.subscribe(["orders"], {
 *   onPartitionsRevoked: () => consumer.commit(), // hand over exactly what was processed
 * });
 * const values = [];
 * for await (const record of consumer) {
 *   values.push(new TextDecoder().decode(record.value!));
 *   await consumer.commit();
 *   if (values.length === 3) break;
 * }
 * await consumer.close();
 * assert.deepEqual(values.sort(), ["1", "2", "3"]);
 * assert.equal(describeGroup(log, "billing").offsets.reduce((n, o) => n + (o.committedOffset ?? 0), 0), 3);
 * await log.close();
 * ```
 */
export class Consumer implements AsyncIterable<ConsumedRecord> {
  readonly #log: LogDirectoryView;
  readonly #config: ConsumerConfig;
  readonly #subscriptions: SubscriptionState;
  readonly #fetcher: Fetcher;
  readonly #coordinator: ConsumerCoordinator | undefined;
  readonly #wake = new WakeSignal();

  #closing = false;
  #closed = false;
  #mutex: Promise<unknown> = Promise.resolve();
  #readable: ReadableStream<ConsumedRecord> | undefined;

  /**
   * Creates a consumer. It reads nothing until it subscribes (and polls) or is assigned partitions.
   *
   * @param log the open log directory to read
   * @param options Kafka's consumer configs in camelCase
   * @throws {InvalidGroupIdError} for an empty, malformed or too long group id
   * @throws {TypeError} for an invalid assignor or option type
   * @throws {RangeError} for an option out of range
   */
  constructor(log: LogDirectoryView, options: ConsumerOptions = {}) {
    this.#log = log;
    const config = this.#config = consumerConfig(options);
    const wakeUp = () => this.#wake.wake();
    this.#subscriptions = new SubscriptionState(
      { maxBytes: config.maxBytes, firstFetchBytes: config.maxBytes, readCommitted: config.readCommitted },
      wakeUp,
    );
    const groupId = config.groupId;
    const coordinator = this.#coordinator = groupId === undefined
      ? undefined
      : new ConsumerCoordinator(log, groupId, config, this.#subscriptions, wakeUp, () => this.#closed);
    this.#fetcher = new Fetcher(
      this.#subscriptions,
      config.autoOffsetReset,
      groupId,
      coordinator ? (tp) => coordinator.committed(tp) : () => undefined,
    );
  }

  // ---------------------------------------------------------------------------------------------
  // Subscription and assignment

  /**
   * Subscribes to topics: the consumer joins its group at the next poll, and the group's members
   * share the topics' partitions (rebalancing as members join, leave or stop heartbeating).
   * Replaces an earlier subscription.
   *
   * @param topics the topic names (topics that do not exist yet are assigned once they do and a
   *   member notices, at a heartbeat)
   * @param listener called when partitions are revoked from and assigned to this member
   * @throws {TypeError} without a groupId, after `assign()`, or for a bad topic list
   * @throws {StorageError} after `close()`
   * @example Subscribe and hear which partitions are assigned
   * ```ts
   * import assert from "node:assert/strict";
   * import { Consumer, open, type TopicPartition } from "../../mod.ts";
   * const log = await open(Deno.makeTempDirSync());
   * await log.createTopic("events", { partitions: 2 });
   * const consumer = new Consumer(log, { groupId: "g" });
   * const assigned: TopicPartition[] = [];
   * consumer.subscribe(["events"], { onPartitionsAssigned: (tps) => void assigned.push(...tps) });
   * await consumer.poll({ timeoutMs: 10 });
   * assert.deepEqual(assigned.map((tp) => tp.partition).sort(), [0, 1]); // the only member gets both
   * await consumer.close();
   * await log.close();
   * ```
   */
  subscribe(topics: string | string[], listener: ConsumerRebalanceListener = {}): void {
    this.#checkOpen("subscribe");
    const coordinator = this.#coordinator;
    if (coordinator === undefined) throw new TypeError("Cannot subscribe: the consumer has no groupId");
    coordinator.subscribed(this.#subscriptions.subscribe(topics, listener));
    this.#wake.wake();
  }

  /**
   * Reads the given partitions without group management (Kafka's `assign`): no rebalancing, no
   * callbacks. With a groupId, positions start from the group's committed offsets and `commit()`
   * works (refused for a partition a live group member owns). Replaces an earlier assignment.
   *
   * @param partitions the topic-partitions to read
   * @throws {UnknownTopicOrPartitionError} for a topic or partition that does not exist
   * @throws {TypeError} after `subscribe()`
   * @throws {StorageError} after `close()`
   * @example Read one partition without a group
   * ```ts
   * import assert from "node:assert/strict";
   * import { Consumer, open } from "../../mod.ts";
   * const log = await open(Deno.makeTempDirSync());
   * const topic = await log.createTopic("events", { partitions: 2 });
   * await topic.append([{ value: "p0", partition: 0 }, { value: "p1", partition: 1 }]);
   * const consumer = new Consumer(log, { autoOffsetReset: "earliest" });
   * consumer.assign([{ topic: "events", partition: 1 }]);
   * const records = await consumer.poll({ timeoutMs: 100 });
   * assert.deepEqual(records.map((r) => new TextDecoder().decode(r.value!)), ["p1"]);
   * await consumer.close();
   * await log.close();
   * ```
   */
  assign(partitions: TopicPartition[]): void {
    this.#checkOpen("assign");
    this.#subscriptions.assignFromUser(partitions, (tp) => this.#logOf(tp));
    this.#wake.wake();
  }

  /**
   * Leaves the group (after revoking the partitions: callbacks, auto-commit) or drops the manual
   * assignment.
   *
   * @throws {StorageError} after `close()`
   */
  async unsubscribe(): Promise<void> {
    this.#checkOpen("unsubscribe");
    await this.#exclusive(async () => {
      await this.#coordinator?.leaveGroup();
      this.#subscriptions.unsubscribe();
    });
  }

  /** The topics subscribed to (empty without a subscription). */
  subscription(): string[] {
    return [...(this.#subscriptions.subscription ?? [])];
  }

  /** The partitions this consumer reads now: its share of the group, or its manual assignment. */
  assignment(): TopicPartition[] {
    return this.#subscriptions.assignment();
  }

  /** The group, this member's id and the generation of its assignment. */
  groupMetadata(): ConsumerGroupMetadata {
    const group = this.#group("describe the group");
    return { groupId: this.#config.groupId!, memberId: group.memberId, generationId: group.generation };
  }

  // ---------------------------------------------------------------------------------------------
  // Positions

  /**
   * Moves the position of an assigned partition: the next poll returns the record at `offset`. An
   * offset outside the log is handled at the next poll as `autoOffsetReset` says.
   *
   * @param tp the partition
   * @param offset the next offset to return
   * @throws {UnknownTopicOrPartitionError} for a topic or partition that does not exist
   * @throws {RangeError} for a partition not assigned to this consumer, or a negative offset
   */
  seek(tp: TopicPartition, offset: number): void {
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new RangeError(`Invalid offset ${offset}: must be a whole number, 0 or more`);
    }
    checkTopicPartition(this.#log, tp); // a topic-partition that exists at all, before "not assigned"
    const subscriptions = this.#subscriptions;
    subscriptions.seek(subscriptions.stateOf(tp, "seek"), offset);
    this.#wake.wake();
  }

  /**
   * Moves partitions to their log start offset.
   *
   * @param partitions the partitions (default: every assigned one)
   * @throws {RangeError} for a partition not assigned to this consumer
   */
  seekToBeginning(partitions?: TopicPartition[]): void {
    this.#seekTo(partitions, "earliest");
  }

  /**
   * Moves partitions to their end: only records appended from now on are returned.
   *
   * @param partitions the partitions (default: every assigned one)
   * @throws {RangeError} for a partition not assigned to this consumer
   */
  seekToEnd(partitions?: TopicPartition[]): void {
    this.#seekTo(partitions, "latest");
  }

  /**
   * The offset of the next record poll returns for a partition, resolving it first (from the
   * committed offset or `autoOffsetReset`) if needed.
   *
   * @param tp an assigned partition
   * @returns the position
   * @throws {RangeError} for a partition not assigned to this consumer
   * @throws {NoOffsetForPartitionError} with `autoOffsetReset: "none"` and no committed offset
   * @throws {OffsetOutOfRangeError} with `autoOffsetReset: "none"` and a committed offset outside the log
   */
  position(tp: TopicPartition): number {
    const state = this.#subscriptions.stateOf(tp, "get the position of");
    this.#fetcher.resolve(state);
    return state.position!;
  }

  /**
   * The group's committed offset for a partition (any partition, assigned or not).
   *
   * @param tp the partition
   * @returns the offset with its metadata and time, or `null` when the group has none
   * @throws {TypeError} without a groupId
   * @throws {UnknownTopicOrPartitionError} for a topic or partition that does not exist
   */
  committed(tp: TopicPartition): CommittedOffset | null {
    const coordinator = this.#group("read committed offsets");
    checkTopicPartition(this.#log, tp); // a topic-partition that exists, before any path is built from it
    return coordinator.committed(tp) ?? null;
  }

  /**
   * Commits offsets for the group, durably (fsynced) and atomically per partition. Without
   * arguments: the current position of every assigned partition that has one (the offset after the
   * last record returned). Only the partition's owner in the group may commit it.
   *
   * @param offsets what to commit (default: the current positions)
   * @throws {TypeError} without a groupId
   * @throws {UnknownTopicOrPartitionError} for a topic or partition that does not exist (nothing is
   *   committed then)
   * @throws {CommitFailedError} when this member no longer owns a partition (the group rebalanced,
   *   or the member was removed after missing its session timeout)
   * @throws {StorageError} when the files cannot be written
   */
  async commit(offsets?: OffsetToCommit[]): Promise<void> {
    await this.#group("commit").commit(offsets);
  }

  /**
   * Pauses partitions: polls skip them until `resume()` (they stay assigned).
   *
   * @param partitions assigned partitions
   * @throws {RangeError} for a partition not assigned to this consumer
   */
  pause(partitions: TopicPartition[]): void {
    for (const state of this.#subscriptions.statesOf(partitions, "pause")) state.paused = true;
  }

  /**
   * Resumes paused partitions.
   *
   * @param partitions assigned partitions
   * @throws {RangeError} for a partition not assigned to this consumer
   */
  resume(partitions: TopicPartition[]): void {
    for (const state of this.#subscriptions.statesOf(partitions, "resume")) state.paused = false;
    this.#wake.wake();
  }

  /** The paused partitions. */
  paused(): TopicPartition[] {
    return this.#subscriptions.paused();
  }

  /**
   * Per partition, the first offset whose timestamp is at or after `timestamp` (Kafka's
   * `offsetsForTimes`), or `null` when every record is older.
   *
   * @param partitions the partitions (any, assigned or not)
   * @param timestamp ms since the epoch
   * @returns one entry per partition, in the order given
   * @throws {UnknownTopicOrPartitionError} for a partition that does not exist
   */
  offsetsForTimes(
    partitions: TopicPartition[],
    timestamp: number,
  ): (TopicPartition & { offset: number; timestamp: number } | null)[] {
    return partitions.map((tp) => {
      const found = this.#logOf(tp).offsetForTimestamp(timestamp);
      return found ? { topic: tp.topic, partition: tp.partition, ...found } : null;
    });
  }

  /**
   * The log start offset of each partition.
   *
   * @param partitions the partitions
   * @returns one offset per partition
   */
  beginningOffsets(partitions: TopicPartition[]): number[] {
    return partitions.map((tp) => listOffset(this.#logOf(tp), "earliest", false));
  }

  /**
   * The end of each partition: the high watermark (the offset the next record will get), or under
   * read_committed the last stable offset.
   *
   * @param partitions the partitions
   * @returns one offset per partition
   */
  endOffsets(partitions: TopicPartition[]): number[] {
    return partitions.map((tp) => listOffset(this.#logOf(tp), "latest", this.#config.readCommitted));
  }

  // ---------------------------------------------------------------------------------------------
  // Reading

  /**
   * Returns the next records of the assigned partitions, waiting up to `timeoutMs` for one. Runs
   * the group's work first: joining, rebalance callbacks, auto-commit. Positions move past the
   * records returned.
   *
   * @param options how long to wait and how many records
   * @returns up to `maxRecords` records (empty after the timeout, or once the consumer or its log
   *   directory closes)
   * @throws {NoOffsetForPartitionError} / {OffsetOutOfRangeError} under `autoOffsetReset: "none"`
   * @throws {StorageError} after `close()`
   * @example Poll what is there
   * ```ts
   * import assert from "node:assert/strict";
   * import { Consumer, open } from "../../mod.ts";
   * const log = await open(Deno.makeTempDirSync());
   * const topic = await log.createTopic("events");
   * await topic.append([{ value: "a" }]);
   * const consumer = new Consumer(log, { autoOffsetReset: "earliest" });
   * consumer.assign([{ topic: "events", partition: 0 }]);
   * assert.equal((await consumer.poll({ timeoutMs: 100 })).length, 1);
   * assert.equal(consumer.position({ topic: "events", partition: 0 }), 1);
   * await consumer.close();
   * await log.close();
   * ```
   */
  async poll(options: PollOptions = {}): Promise<ConsumedRecord[]> {
    this.#checkOpen("poll");
    const timeoutMs = options.timeoutMs ?? 0;
    const max = checkPositive("maxRecords", options.maxRecords, this.#config.maxPollRecords);
    if (!(timeoutMs >= 0)) throw new RangeError(`Invalid timeoutMs ${timeoutMs}: must be 0 or more`);
    return await this.#exclusive(() => this.#poll(max, timeoutMs));
  }

  /**
   * Iterates over records one at a time until the consumer (or its log directory) closes;
   * breaking out of the loop leaves the consumer open. Each record's position is passed when it is handed out, so
   * `commit()` in the loop body commits what has been processed.
   */
  async *[Symbol.asyncIterator](): AsyncIterator<ConsumedRecord> {
    while (!this.#closing && !this.#closed && !this.#log.closed) {
      const [record] = await this.#exclusive(() => this.#poll(1, Infinity));
      if (record) yield record;
    }
  }

  /**
   * The consumer as a `ReadableStream` of records (the same stream each time); cancelling it
   * closes the consumer.
   */
  get readable(): ReadableStream<ConsumedRecord> {
    this.#readable ??= new ReadableStream<ConsumedRecord>({
      pull: async (controller) => {
        if (this.#closing || this.#closed || this.#log.closed) {
          controller.close();
          return;
        }
        const [record] = await this.#exclusive(() => this.#poll(1, Infinity));
        if (record) controller.enqueue(record);
        else if (this.#closing || this.#closed || this.#log.closed) controller.close();
      },
      cancel: () => this.close(),
    }, { highWaterMark: 0 });
    return this.#readable;
  }

  /**
   * Leaves the group (revoking its partitions first: callbacks, then auto-commit if on), stops
   * heartbeating and watching, and ends iteration and the readable stream. Safe to call twice.
   *
   * @throws {CommitFailedError} never: a failed final auto-commit is ignored, as the records are
   *   delivered again to the next owner
   */
  async close(): Promise<void> {
    if (this.#closing || this.#closed) return;
    this.#closing = true;
    this.#wake.wake();
    try {
      await this.#exclusive(async () => await this.#coordinator?.close());
    } finally {
      this.#coordinator?.stop();
      this.#subscriptions.clear();
      this.#closed = true;
      this.#wake.wake();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Internals

  #checkOpen(action: string): void {
    if (this.#closing || this.#closed) throw new StorageError(`Cannot ${action}: the consumer is closed`);
  }

  #group(action: string): ConsumerCoordinator {
    if (!this.#coordinator) throw new TypeError(`Cannot ${action}: the consumer has no groupId`);
    return this.#coordinator;
  }

  /** Runs `fn` after every earlier poll, commit of the group flow, or close has finished. */
  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#mutex.then(fn, fn);
    this.#mutex = run.catch(() => {/* the caller of `run` gets its error; the next call still runs */});
    return run;
  }

  #logOf(tp: TopicPartition): PartitionLog {
    checkTopicPartition(this.#log, tp);
    return this.#log.topic(tp.topic).partition(tp.partition);
  }

  /** Moves partitions (default: every assigned one) to their log start offset or their end. */
  #seekTo(partitions: TopicPartition[] | undefined, where: "earliest" | "latest"): void {
    const subscriptions = this.#subscriptions;
    for (const state of subscriptions.statesOf(partitions, "seek")) {
      subscriptions.seek(state, listOffset(state.fetcher.log, where, this.#config.readCommitted));
    }
    this.#wake.wake();
  }

  async #poll(max: number, timeoutMs: number): Promise<ConsumedRecord[]> {
    const deadline = Date.now() + timeoutMs;
    const coordinator = this.#coordinator;
    for (;;) {
      if (this.#closing || this.#closed || this.#log.closed) return [];
      if (coordinator !== undefined) {
        coordinator.lastPollAt = Date.now();
        if (this.#subscriptions.subscription !== undefined) await coordinator.coordinate();
        if (this.#closing || this.#closed) return [];
        await coordinator.maybeAutoCommit();
      }
      const records = this.#fetcher.collect(max);
      if (records.length > 0) return records;
      const now = Date.now();
      if (now >= deadline) return [];
      await this.#wake.sleep(Math.min(deadline - now, 1000));
    }
  }
}
