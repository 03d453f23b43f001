/**
 * A consumer with Kafka's `KafkaConsumer` API over a log directory: `subscribe` (the group splits
 * the partitions among its members) or `assign`; `poll`, async iteration and a `ReadableStream`;
 * `seek`, `seekToBeginning`, `seekToEnd`, `position`; `commit` and `committed` (offsets kept per
 * group, topic and partition, durable); `pause`/`resume`; `autoOffsetReset`; auto-commit.
 *
 * @module
 */
import {
  NoOffsetForPartitionError,
  OffsetOutOfRangeError,
  StorageError,
  UnknownTopicOrPartitionError,
} from "../errors.ts";
import type { PartitionLog, ReadCursor } from "../log/partition_log.ts";
import { checkIsolationLevel, type IsolationLevel, TransactionIndex } from "../log/transaction_index.ts";
import { watchDirectory } from "../runtime/watch.ts";
import { validatePartition } from "../runtime/log_paths.ts";
import type { ConsumedRecord } from "../record/consumed_record.ts";
import type { LogDirectoryView } from "./log_directory_view.ts";
import { GroupMembership } from "./_group_membership.ts";
import { OffsetStore } from "./offset_store.ts";
import { BUILT_IN_ASSIGNORS, type PartitionAssignor } from "./partition_assignor.ts";
import {
  type CommittedOffset,
  type ConsumerRebalanceListener,
  type OffsetToCommit,
  sortTopicPartitions,
  type TopicPartition,
  topicPartitionKey,
} from "./types.ts";

/** What a consumer does where it has no valid offset to start from (Kafka's `auto.offset.reset`). */
export type AutoOffsetReset = "earliest" | "latest" | "none";

/** Options of {@linkcode Consumer}. Kafka's consumer configs, in camelCase. */
export interface ConsumerOptions {
  /**
   * The consumer group (`group.id`): needed to `subscribe` and to commit offsets. Members of a
   * group, in this process and in other processes on the same directory, share its partitions.
   */
  groupId?: string;
  /** Names the consumer in member ids and `describeGroup` (`client.id`). @default "reel-consumer" */
  clientId?: string;
  /**
   * Where to start in a partition without a committed offset, or when the position falls outside
   * the log (retention deleted it): `"earliest"` (the log start offset), `"latest"` (the log end:
   * only new records), `"none"` (poll throws {@linkcode NoOffsetForPartitionError} or
   * {@linkcode OffsetOutOfRangeError}). @default "latest"
   */
  autoOffsetReset?: AutoOffsetReset;
  /**
   * Commit the positions every `autoCommitIntervalMs` (from within poll, so only records already
   * returned — and, with iteration, already processed — are committed), before partitions are
   * revoked, and on close (`enable.auto.commit`). Needs `groupId`. @default true with a groupId
   */
  enableAutoCommit?: boolean;
  /** How often auto-commit commits, ms (`auto.commit.interval.ms`). @default 5000 */
  autoCommitIntervalMs?: number;
  /** Remove a member that has not heartbeated for this long, ms (`session.timeout.ms`). @default 45000 */
  sessionTimeoutMs?: number;
  /** How often a member heartbeats and looks for group changes, ms (`heartbeat.interval.ms`). @default 3000 */
  heartbeatIntervalMs?: number;
  /**
   * Stop heartbeating (so the group moves the partitions on) when the application has not polled
   * for this long, ms (`max.poll.interval.ms`). @default 300000
   */
  maxPollIntervalMs?: number;
  /** The most records one `poll()` returns (`max.poll.records`). @default 500 */
  maxPollRecords?: number;
  /** Bytes read from a partition at a time (`max.partition.fetch.bytes`). @default 1048576 */
  maxBytes?: number;
  /**
   * Which records poll returns (`isolation.level`): `"read_uncommitted"` every record below the high
   * watermark; `"read_committed"` only records below the last stable offset, without those of
   * aborted transactions (a log written by Kafka's transactional producers); the end offsets and
   * `"latest"` are then the last stable offset too. Control batches are never returned.
   * @default "read_uncommitted"
   */
  isolationLevel?: IsolationLevel;
  /**
   * The assignors this member supports, most preferred first: `"range"`, `"roundrobin"`, `"sticky"`, or
   * your own {@linkcode PartitionAssignor} (every member must know it by name)
   * (`partition.assignment.strategy`). @default ["range", "roundrobin"]
   */
  partitionAssignors?: (string | PartitionAssignor)[];
}

/** Options of {@linkcode Consumer.poll}. */
export interface PollOptions {
  /** Wait at most this long for a record, ms; 0 returns at once. @default 0 */
  timeoutMs?: number;
  /** The most records to return. @default the consumer's `maxPollRecords` */
  maxRecords?: number;
}

/** A group's view of one member, for {@linkcode Consumer.groupMetadata}. */
export interface ConsumerGroupMetadata {
  /** The group. */
  groupId: string;
  /** This member's id, once it has joined. */
  memberId: string | undefined;
  /** The generation of the assignment it holds (-1 before it holds one). */
  generationId: number;
}

interface Fetch {
  tp: TopicPartition;
  log: PartitionLog;
  /** The next offset to return; `undefined` until resolved from the committed offset or the reset policy. */
  position: number | undefined;
  /** The next offset to read from the log (at or past `position`). */
  fetchOffset: number;
  cursor?: ReadCursor;
  buffer: ConsumedRecord[];
  next: number;
  paused: boolean;
  unsubscribe: () => void;
}

const DEFAULT_ASSIGNORS = ["range", "roundrobin"];

function checkPositive(name: string, value: number | undefined, fallback: number, min = 1): number {
  const v = value ?? fallback;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) {
    throw new RangeError(`Invalid ${name} ${String(value)}: expected a whole number of at least ${min}`);
  }
  return v;
}

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
  readonly #groupId: string | undefined;
  readonly #clientId: string;
  readonly #reset: AutoOffsetReset;
  readonly #autoCommit: boolean;
  readonly #autoCommitIntervalMs: number;
  readonly #sessionTimeoutMs: number;
  readonly #heartbeatIntervalMs: number;
  readonly #maxPollIntervalMs: number;
  readonly #maxPollRecords: number;
  readonly #maxBytes: number;
  readonly #readCommitted: boolean;
  readonly #assignorNames: string[];
  readonly #coordinator: GroupMembership | undefined;
  readonly #offsets: OffsetStore | undefined;

  #subscription: string[] | undefined;
  #listener: ConsumerRebalanceListener = {};
  #manual = false;
  #fetches = new Map<string, Fetch>();
  #roundRobin = 0;

  #memberId: string | undefined;
  #generation = -1;
  #pending: TopicPartition[] | undefined;
  #groupDirty = true;
  #expelled = false;
  #resubscribe = false;
  #heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  #stopGroupWatch: (() => void) | undefined;
  #stopGroupListener: (() => void) | undefined;

  #lastPollAt = Date.now();
  #lastAutoCommit = Date.now();
  #closing = false;
  #closed = false;
  #wake: (() => void) | undefined;
  #wakePending = false;
  #mutex: Promise<unknown> = Promise.resolve();
  #readable: ReadableStream<ConsumedRecord> | undefined;
  #commits = new Set<Promise<void>>();

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
    this.#groupId = options.groupId;
    this.#clientId = options.clientId ?? "reel-consumer";
    if (typeof this.#clientId !== "string") throw new TypeError(`Invalid clientId ${String(this.#clientId)}`);
    const reset = options.autoOffsetReset ?? "latest";
    if (reset !== "earliest" && reset !== "latest" && reset !== "none") {
      throw new TypeError(
        `Invalid autoOffsetReset ${JSON.stringify(reset)}: expected "earliest", "latest" or "none"`,
      );
    }
    this.#reset = reset;
    this.#autoCommit = options.enableAutoCommit ?? this.#groupId !== undefined;
    if (this.#autoCommit && this.#groupId === undefined) {
      throw new TypeError("Invalid enableAutoCommit true: auto-commit needs a groupId");
    }
    this.#autoCommitIntervalMs = checkPositive("autoCommitIntervalMs", options.autoCommitIntervalMs, 5000);
    this.#sessionTimeoutMs = checkPositive("sessionTimeoutMs", options.sessionTimeoutMs, 45_000);
    this.#heartbeatIntervalMs = checkPositive("heartbeatIntervalMs", options.heartbeatIntervalMs, 3000);
    this.#maxPollIntervalMs = checkPositive("maxPollIntervalMs", options.maxPollIntervalMs, 300_000);
    this.#maxPollRecords = checkPositive("maxPollRecords", options.maxPollRecords, 500);
    this.#maxBytes = checkPositive("maxBytes", options.maxBytes, 1 << 20);
    this.#readCommitted = checkIsolationLevel(options.isolationLevel) === "read_committed";
    const assignors: Record<string, PartitionAssignor> = { ...BUILT_IN_ASSIGNORS };
    this.#assignorNames = [];
    for (const a of options.partitionAssignors ?? DEFAULT_ASSIGNORS) {
      if (typeof a === "string") {
        if (!(a in BUILT_IN_ASSIGNORS)) {
          throw new TypeError(
            `Unknown partition assignor ${
              JSON.stringify(a)
            }: expected "range", "roundrobin" or an assignor object`,
          );
        }
        this.#assignorNames.push(a);
      } else if (a && typeof a.name === "string" && typeof a.assign === "function") {
        assignors[a.name] = a;
        this.#assignorNames.push(a.name);
      } else {
        throw new TypeError("Invalid partition assignor: expected a name or { name, assign }");
      }
    }
    if (this.#assignorNames.length === 0) {
      throw new RangeError("Invalid partitionAssignors: the list is empty");
    }
    this.#coordinator = this.#groupId === undefined
      ? undefined
      : new GroupMembership(log, this.#groupId, assignors);
    this.#offsets = this.#coordinator && new OffsetStore(this.#coordinator.store);
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
    if (this.#groupId === undefined) throw new TypeError("Cannot subscribe: the consumer has no groupId");
    if (this.#manual) {
      throw new TypeError("Cannot subscribe: the consumer uses assign(); call unsubscribe() first");
    }
    const list = typeof topics === "string" ? [topics] : topics;
    if (!Array.isArray(list) || list.length === 0 || list.some((t) => typeof t !== "string" || t === "")) {
      throw new TypeError("Cannot subscribe: expected a topic name or a non-empty array of names");
    }
    const topicsNow = [...new Set(list)].sort();
    if (this.#subscription !== undefined && topicsNow.join("\n") !== this.#subscription.join("\n")) {
      this.#resubscribe = true;
    }
    this.#subscription = topicsNow;
    this.#listener = listener;
    this.#groupDirty = true;
    this.#wakeUp();
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
    if (this.#subscription !== undefined) {
      throw new TypeError("Cannot assign partitions: the consumer is subscribed; call unsubscribe() first");
    }
    const logs = partitions.map((tp) => this.#logOf(tp));
    const wanted = new Set(partitions.map(topicPartitionKey));
    for (const [key, f] of this.#fetches) {
      if (!wanted.has(key)) {
        f.unsubscribe();
        this.#fetches.delete(key);
      }
    }
    partitions.forEach((tp, i) => {
      if (!this.#fetches.has(topicPartitionKey(tp))) {
        this.#addFetch({ topic: tp.topic, partition: tp.partition }, logs[i]);
      }
    });
    this.#manual = partitions.length > 0;
    this.#wakeUp();
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
      await this.#leaveGroup();
      for (const f of this.#fetches.values()) f.unsubscribe();
      this.#fetches.clear();
      this.#subscription = undefined;
      this.#manual = false;
    });
  }

  /** The topics subscribed to (empty without a subscription). */
  subscription(): string[] {
    return [...(this.#subscription ?? [])];
  }

  /** The partitions this consumer reads now: its share of the group, or its manual assignment. */
  assignment(): TopicPartition[] {
    return sortTopicPartitions([...this.#fetches.values()].map((f) => ({ ...f.tp })));
  }

  /** The group, this member's id and the generation of its assignment. */
  groupMetadata(): ConsumerGroupMetadata {
    if (this.#groupId === undefined) {
      throw new TypeError("Cannot describe the group: the consumer has no groupId");
    }
    return { groupId: this.#groupId, memberId: this.#memberId, generationId: this.#generation };
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
    this.#checkExists(tp); // a topic-partition that exists at all, before "not assigned"
    this.#setPosition(this.#fetchOf(tp, "seek"), offset);
    this.#wakeUp();
  }

  /**
   * Moves partitions to their log start offset.
   *
   * @param partitions the partitions (default: every assigned one)
   * @throws {RangeError} for a partition not assigned to this consumer
   */
  seekToBeginning(partitions?: TopicPartition[]): void {
    for (const f of this.#fetchesOf(partitions, "seek")) {
      f.log.refresh();
      this.#setPosition(f, f.log.logStartOffset);
    }
    this.#wakeUp();
  }

  /**
   * Moves partitions to their end: only records appended from now on are returned.
   *
   * @param partitions the partitions (default: every assigned one)
   * @throws {RangeError} for a partition not assigned to this consumer
   */
  seekToEnd(partitions?: TopicPartition[]): void {
    for (const f of this.#fetchesOf(partitions, "seek")) {
      f.log.refresh();
      this.#setPosition(f, this.#endOffset(f.log));
    }
    this.#wakeUp();
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
    const f = this.#fetchOf(tp, "get the position of");
    this.#resolve(f);
    return f.position!;
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
    const group = this.#group("read committed offsets");
    this.#checkExists(tp); // a topic-partition that exists, before any path is built from it
    return group.readCommitted(tp) ?? null;
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
    const group = this.#group("commit");
    const list = offsets ?? this.#currentPositions();
    for (const o of list) {
      if (typeof o?.topic !== "string") {
        throw new TypeError(`Cannot commit ${JSON.stringify(o)}: expected { topic, partition, offset }`);
      }
      if (!Number.isSafeInteger(o.offset) || o.offset < 0) {
        throw new RangeError(
          `Cannot commit offset ${o.offset} of "${o.topic}-${o.partition}": must be a whole number, 0 or more`,
        );
      }
      // Only a topic-partition that exists is committed, as Kafka's broker answers
      // UNKNOWN_TOPIC_OR_PARTITION: nothing is written for a name or number that is not one.
      this.#checkExists(o);
    }
    const done = group.commit(this.#subscription !== undefined ? (this.#memberId ?? "") : undefined, list);
    this.#commits.add(done);
    try {
      await done;
    } finally {
      this.#commits.delete(done);
    }
  }

  /** Waits for the commits in flight, so that they land while this member still owns the partitions. */
  async #commitsSettled(): Promise<void> {
    while (this.#commits.size > 0) await Promise.allSettled([...this.#commits]);
  }

  /**
   * Pauses partitions: polls skip them until `resume()` (they stay assigned).
   *
   * @param partitions assigned partitions
   * @throws {RangeError} for a partition not assigned to this consumer
   */
  pause(partitions: TopicPartition[]): void {
    for (const f of this.#fetchesOf(partitions, "pause")) f.paused = true;
  }

  /**
   * Resumes paused partitions.
   *
   * @param partitions assigned partitions
   * @throws {RangeError} for a partition not assigned to this consumer
   */
  resume(partitions: TopicPartition[]): void {
    for (const f of this.#fetchesOf(partitions, "resume")) f.paused = false;
    this.#wakeUp();
  }

  /** The paused partitions. */
  paused(): TopicPartition[] {
    return sortTopicPartitions([...this.#fetches.values()].filter((f) => f.paused).map((f) => ({ ...f.tp })));
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
    return partitions.map((tp) => {
      const log = this.#logOf(tp);
      log.refresh();
      return log.logStartOffset;
    });
  }

  /**
   * The end of each partition: the high watermark (the offset the next record will get), or under
   * read_committed the last stable offset.
   *
   * @param partitions the partitions
   * @returns one offset per partition
   */
  endOffsets(partitions: TopicPartition[]): number[] {
    return partitions.map((tp) => {
      const log = this.#logOf(tp);
      log.refresh();
      return this.#endOffset(log);
    });
  }

  /** The end of what this consumer may read: the last stable offset under read_committed, else the high watermark. */
  #endOffset(log: PartitionLog): number {
    return this.#readCommitted ? TransactionIndex.of(log).update() : log.highWatermark;
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
    const max = checkPositive("maxRecords", options.maxRecords, this.#maxPollRecords);
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
    this.#wakeUp();
    try {
      await this.#exclusive(async () => {
        await this.#commitsSettled();
        if (this.#subscription !== undefined) await this.#leaveGroup();
        else if (this.#autoCommit && this.#fetches.size > 0) await this.commit().catch(() => {});
      });
    } finally {
      this.#stopGroup();
      for (const f of this.#fetches.values()) f.unsubscribe();
      this.#fetches.clear();
      this.#closed = true;
      this.#wakeUp();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Internals

  #checkOpen(action: string): void {
    if (this.#closing || this.#closed) throw new StorageError(`Cannot ${action}: the consumer is closed`);
  }

  #group(action: string): OffsetStore {
    if (!this.#offsets) throw new TypeError(`Cannot ${action}: the consumer has no groupId`);
    return this.#offsets;
  }

  /** Runs `fn` after every earlier poll, commit of the group flow, or close has finished. */
  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#mutex.then(fn, fn);
    this.#mutex = run.catch(() => {});
    return run;
  }

  #logOf(tp: TopicPartition): PartitionLog {
    this.#checkExists(tp);
    return this.#log.topic(tp.topic).partition(tp.partition);
  }

  /**
   * Checks that a topic-partition exists, without opening its log (nothing is written).
   *
   * @throws {TypeError} for something that is not a `{ topic, partition }`
   * @throws {UnknownTopicOrPartitionError} when there is no such topic or partition
   */
  #checkExists(tp: TopicPartition): void {
    if (!tp || typeof tp.topic !== "string") {
      throw new TypeError(`Invalid topic-partition ${JSON.stringify(tp)}: expected { topic, partition }`);
    }
    // hasTopic() is false for a name that is not a legal topic name; validatePartition() checks
    // the partition is a whole number below the partition count.
    if (!this.#log.hasTopic(tp.topic)) throw new UnknownTopicOrPartitionError(tp.topic, tp.partition);
    validatePartition(tp.topic, tp.partition, this.#log.topic(tp.topic).partitions);
  }

  #fetchOf(tp: TopicPartition, action: string): Fetch {
    const f = tp && this.#fetches.get(topicPartitionKey(tp));
    if (!f) {
      throw new RangeError(
        `Cannot ${action} "${tp?.topic}-${tp?.partition}": the partition is not assigned to this consumer`,
      );
    }
    return f;
  }

  #fetchesOf(partitions: TopicPartition[] | undefined, action: string): Fetch[] {
    return partitions === undefined
      ? [...this.#fetches.values()]
      : partitions.map((tp) => this.#fetchOf(tp, action));
  }

  #addFetch(tp: TopicPartition, log: PartitionLog): void {
    const f: Fetch = {
      tp,
      log,
      position: undefined,
      fetchOffset: 0,
      buffer: [],
      next: 0,
      paused: false,
      unsubscribe: log.onAppend(() => this.#wakeUp()),
    };
    this.#fetches.set(topicPartitionKey(tp), f);
  }

  #setPosition(f: Fetch, offset: number): void {
    f.position = offset;
    f.fetchOffset = offset;
    f.cursor = undefined;
    f.buffer = [];
    f.next = 0;
  }

  #currentPositions(): OffsetToCommit[] {
    const out: OffsetToCommit[] = [];
    for (const f of this.#fetches.values()) {
      if (f.position !== undefined) {
        out.push({ topic: f.tp.topic, partition: f.tp.partition, offset: f.position });
      }
    }
    return out;
  }

  /** Applies `autoOffsetReset` to a partition without a usable offset. */
  #applyReset(f: Fetch, outOfRange: number | undefined): void {
    f.log.refresh();
    if (this.#reset === "earliest") this.#setPosition(f, f.log.logStartOffset);
    else if (this.#reset === "latest") this.#setPosition(f, this.#endOffset(f.log));
    else if (outOfRange !== undefined) {
      throw new OffsetOutOfRangeError(
        f.tp.topic,
        f.tp.partition,
        outOfRange,
        f.log.logStartOffset,
        f.log.logEndOffset,
      );
    } else throw new NoOffsetForPartitionError(this.#groupId, f.tp.topic, f.tp.partition);
  }

  /** Gives a partition its starting position: the committed offset, or the reset policy. */
  #resolve(f: Fetch): void {
    if (f.position !== undefined) return;
    const committed = this.#offsets?.readCommitted(f.tp);
    if (committed === undefined) return this.#applyReset(f, undefined);
    f.log.refresh();
    if (committed.offset < f.log.logStartOffset || committed.offset > f.log.logEndOffset) {
      return this.#applyReset(f, committed.offset);
    }
    this.#setPosition(f, committed.offset);
  }

  /** Takes up to `max` records from the assigned, unpaused partitions, round robin. */
  #fetch(max: number): ConsumedRecord[] {
    const out: ConsumedRecord[] = [];
    const fetches = [...this.#fetches.values()];
    const n = fetches.length;
    for (let progressed = true; progressed && out.length < max;) {
      progressed = false;
      for (let i = 0; i < n && out.length < max; i++) {
        const f = fetches[(this.#roundRobin + i) % n];
        if (f.paused || f.log.closed) continue;
        if (this.#fetchOne(f, max, out)) progressed = true;
        if (out.length >= max) this.#roundRobin = (this.#roundRobin + i + 1) % n;
      }
    }
    return out;
  }

  /** Takes records of one partition into `out`; `true` when it took some or moved on. */
  #fetchOne(f: Fetch, max: number, out: ConsumedRecord[]): boolean {
    this.#resolve(f);
    if (f.next >= f.buffer.length) {
      // Under read_committed the last stable offset bounds the read.
      const transactions = this.#readCommitted ? TransactionIndex.of(f.log) : undefined;
      const end = transactions ? transactions.update() : Infinity;
      if (f.fetchOffset >= end) return false;
      let data;
      try {
        data = f.log.read(f.fetchOffset, this.#maxBytes, f.cursor);
      } catch (err) {
        if (!(err instanceof OffsetOutOfRangeError)) throw err;
        this.#applyReset(f, f.fetchOffset);
        return true;
      }
      if (!data) return false;
      f.buffer = f.log.decodeWithSource(data, f.fetchOffset, end);
      f.next = 0;
      if (transactions) f.buffer = transactions.withoutAborted(f.buffer);
      if (data.next.offset > end) {
        // Batches past the last stable offset are read again once their transaction ends.
        f.cursor = undefined;
        f.fetchOffset = end;
      } else {
        f.cursor = data.next;
        f.fetchOffset = data.next.offset;
      }
    }
    while (f.next < f.buffer.length && out.length < max) {
      const r = f.buffer[f.next++];
      out.push(r);
      f.position = r.offset + 1;
    }
    if (f.next >= f.buffer.length) {
      // Past the batches read (control records, gaps): the position follows the fetch.
      f.buffer = [];
      f.next = 0;
      f.position = f.fetchOffset;
    }
    return true;
  }

  async #poll(max: number, timeoutMs: number): Promise<ConsumedRecord[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.#closing || this.#closed || this.#log.closed) return [];
      this.#lastPollAt = Date.now();
      if (this.#subscription !== undefined) await this.#coordinate();
      if (this.#closing || this.#closed) return [];
      await this.#maybeAutoCommit();
      const records = this.#fetch(max);
      if (records.length > 0) return records;
      const now = Date.now();
      if (now >= deadline) return [];
      await this.#sleep(Math.min(deadline - now, 1000));
    }
  }

  #sleep(ms: number): Promise<void> {
    if (this.#wakePending) {
      this.#wakePending = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = undefined;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    if (wake) wake();
    else this.#wakePending = true;
  }

  async #maybeAutoCommit(): Promise<void> {
    if (!this.#autoCommit || Date.now() - this.#lastAutoCommit < this.#autoCommitIntervalMs) return;
    this.#lastAutoCommit = Date.now();
    try {
      await this.commit();
    } catch { /* a rebalance is on its way; the next owner reads those records again */ }
  }

  // --- the group flow -------------------------------------------------------------------------

  /** Runs the group flow until it settles (or waits for another member). */
  async #coordinate(): Promise<void> {
    for (let round = 0; round < 8; round++) {
      if (!(await this.#coordinateOnce())) return;
    }
  }

  /** One step of the group flow; `true` when the next step should run at once. */
  async #coordinateOnce(): Promise<boolean> {
    const group = this.#coordinator!;
    if (this.#expelled) {
      this.#expelled = false;
      await this.#losePartitions();
      this.#memberId = undefined;
    }
    if (this.#resubscribe && this.#memberId !== undefined) {
      this.#resubscribe = false;
      await this.#leaveGroup();
    }
    if (this.#memberId === undefined) {
      this.#resubscribe = false;
      const memberId = `${
        this.#clientId.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 64)
      }-${crypto.randomUUID()}`;
      await group.join(
        group.newMember(
          memberId,
          this.#clientId,
          this.#subscription!,
          this.#assignorNames,
          this.#sessionTimeoutMs,
        ),
      );
      this.#memberId = memberId;
      this.#generation = -1;
      this.#groupDirty = true;
      this.#startGroup();
    }
    if (this.#groupDirty) {
      this.#groupDirty = false;
      const state = group.store.readState();
      if (state === undefined || !(this.#memberId! in state.assignment)) {
        // The state does not know this member: it was removed (its file is gone), or a
        // rebalance is due.
        if (group.store.readMember(this.#memberId!) === undefined) this.#expelled = true;
        else await group.rebalance();
        this.#groupDirty = true;
        return true;
      }
      if (state.generation !== this.#generation) {
        await this.#revokeAll();
        if (this.#expelled) return true;
        this.#generation = state.generation;
        this.#pending = state.assignment[this.#memberId!] ?? [];
      }
    }
    if (this.#pending !== undefined) {
      const result = await group.claim(this.#memberId!, this.#generation, this.#pending);
      if (result === "stale") {
        this.#groupDirty = true;
        return true;
      }
      if (result === "unknown") {
        this.#expelled = true;
        return true;
      }
      if (result === "wait") return false; // woken when the owner releases (its file changes)
      const assigned = this.#pending;
      this.#pending = undefined;
      for (const tp of assigned) {
        if (this.#log.hasTopic(tp.topic)) {
          this.#addFetch(tp, this.#log.topic(tp.topic).partition(tp.partition));
        }
      }
      await this.#listener.onPartitionsAssigned?.(sortTopicPartitions(assigned));
    }
    return false;
  }

  /** Gives up every owned partition: auto-commit, `onPartitionsRevoked`, then the claim. */
  async #revokeAll(): Promise<void> {
    this.#pending = undefined;
    if (this.#fetches.size === 0) return;
    const revoked = this.assignment();
    let error: unknown;
    try {
      await this.#commitsSettled();
      if (this.#autoCommit) await this.commit().catch(() => {});
      await this.#listener.onPartitionsRevoked?.(revoked);
    } catch (err) {
      error = err;
    }
    for (const f of this.#fetches.values()) f.unsubscribe();
    this.#fetches.clear();
    if (this.#memberId !== undefined && !(await this.#coordinator!.release(this.#memberId))) {
      this.#expelled = true;
    }
    if (error !== undefined) throw error;
  }

  /** After removal from the group: the partitions are gone already. */
  async #losePartitions(): Promise<void> {
    this.#pending = undefined;
    if (this.#fetches.size === 0) return;
    const lost = this.assignment();
    for (const f of this.#fetches.values()) f.unsubscribe();
    this.#fetches.clear();
    if (this.#listener.onPartitionsLost) await this.#listener.onPartitionsLost(lost);
    else await this.#listener.onPartitionsRevoked?.(lost);
  }

  async #leaveGroup(): Promise<void> {
    if (this.#memberId === undefined) return;
    try {
      if (this.#expelled) await this.#losePartitions();
      else await this.#revokeAll();
    } finally {
      const memberId = this.#memberId;
      this.#memberId = undefined;
      this.#generation = -1;
      this.#expelled = false;
      this.#stopGroup();
      await this.#coordinator!.leave(memberId);
    }
  }

  #startGroup(): void {
    if (this.#heartbeatTimer === undefined) {
      this.#heartbeatTimer = setInterval(() => this.#heartbeat(), this.#heartbeatIntervalMs);
      (this.#heartbeatTimer as unknown as { unref?: () => void }).unref?.();
    }
    this.#stopGroupListener ??= this.#coordinator!.store.onChange(() => {
      this.#groupDirty = true;
      this.#wakeUp();
    });
    if (this.#stopGroupWatch === undefined) {
      this.#coordinator!.store.ensureDir();
      // Before watching: a named pipe in the group's directory would hang Deno's watcher thread.
      this.#coordinator!.store.checkFiles();
      this.#stopGroupWatch = watchDirectory(this.#coordinator!.store.dir, (name) => {
        // Offsets and the lock change often and say nothing about membership.
        if (name === ".lock" || (name !== undefined && /\.(tmp|new|takeover)$/.test(name))) return;
        this.#groupDirty = true;
        this.#wakeUp();
      }, { keepAlive: false, fallbackMs: this.#heartbeatIntervalMs });
    }
  }

  #stopGroup(): void {
    if (this.#heartbeatTimer !== undefined) clearInterval(this.#heartbeatTimer);
    this.#heartbeatTimer = undefined;
    this.#stopGroupWatch?.();
    this.#stopGroupWatch = undefined;
    this.#stopGroupListener?.();
    this.#stopGroupListener = undefined;
  }

  #heartbeating = false;

  /** The heartbeat: touch the member file; expire others and rebalance when something changed. */
  async #heartbeat(): Promise<void> {
    if (this.#memberId === undefined || this.#heartbeating || this.#closed) return;
    // An application that stopped polling stops heartbeating, so the group moves on without it.
    if (Date.now() - this.#lastPollAt > this.#maxPollIntervalMs) return;
    this.#heartbeating = true;
    try {
      const group = this.#coordinator!;
      if (!group.heartbeat(this.#memberId)) {
        this.#expelled = true;
      } else if (group.needsRebalance()) {
        await group.rebalance();
      }
      this.#groupDirty = true;
      this.#wakeUp();
    } catch {
      /* tried again at the next heartbeat */
    } finally {
      this.#heartbeating = false;
    }
  }
}
