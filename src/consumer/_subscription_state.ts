/**
 * What a consumer reads (Kafka's `SubscriptionState`): the topics it subscribed to or the partitions
 * it was assigned by hand, and for each assigned partition its position, whether it is paused, its
 * {@linkcode PartitionFetcher} and the records fetched but not yet returned.
 *
 * @module
 */
import type { PartitionLog } from "../log/partition_log.ts";
import type { ConsumedRecord } from "../record/consumed_record.ts";
import { PartitionFetcher, type PartitionFetcherOptions } from "./_partition_fetcher.ts";
import {
  type ConsumerRebalanceListener,
  type OffsetToCommit,
  sortTopicPartitions,
  type TopicPartition,
  topicPartitionKey,
} from "./types.ts";

/** One assigned partition. */
export interface TopicPartitionState {
  /** The partition. */
  readonly tp: TopicPartition;
  /** Its reader. */
  readonly fetcher: PartitionFetcher;
  /** The next offset to return; `undefined` until resolved from the committed offset or the reset policy. */
  position: number | undefined;
  /** Records fetched and not yet returned (from `next` on). */
  buffer: ConsumedRecord[];
  /** The index in `buffer` of the next record to return. */
  next: number;
  /** Whether polls skip it. */
  paused: boolean;
  /** Stops listening to its log's appends. */
  readonly unsubscribe: () => void;
}

/**
 * The consumer's subscription and assigned partitions.
 *
 * @example Assign two partitions, move one, list the positions
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../mod.ts";
 * import { SubscriptionState } from "./_subscription_state.ts";
 * const log = await open(Deno.makeTempDirSync());
 * const topic = await log.createTopic("events", { partitions: 2 });
 * const subscriptions = new SubscriptionState({ maxBytes: 1 << 20 }, () => {});
 * subscriptions.add({ topic: "events", partition: 1 }, topic.partition(1));
 * subscriptions.add({ topic: "events", partition: 0 }, topic.partition(0));
 * subscriptions.seek(subscriptions.stateOf({ topic: "events", partition: 0 }, "seek"), 0);
 * assert.deepEqual(subscriptions.assignment().map((tp) => tp.partition), [0, 1]);
 * assert.deepEqual(subscriptions.positions(), [{ topic: "events", partition: 0, offset: 0 }]);
 * subscriptions.clear();
 * assert.equal(subscriptions.size, 0);
 * await log.close();
 * ```
 */
export class SubscriptionState {
  /** The topics subscribed to, sorted; `undefined` without a subscription. */
  subscription: string[] | undefined;
  /** The rebalance listener given with the subscription. */
  listener: ConsumerRebalanceListener = {};
  /** Whether the partitions were assigned by hand (`assign()`). */
  manual = false;
  readonly #assigned = new Map<string, TopicPartitionState>();
  readonly #fetch: PartitionFetcherOptions;
  readonly #onAppend: () => void;

  /**
   * @param fetch how each partition's fetcher reads
   * @param onAppend called when a record is appended to an assigned partition
   */
  constructor(fetch: PartitionFetcherOptions, onAppend: () => void) {
    this.#fetch = fetch;
    this.#onAppend = onAppend;
  }

  /** How many partitions are assigned. */
  get size(): number {
    return this.#assigned.size;
  }

  /** The assigned partitions' states, in the order they were assigned (a new array). */
  states(): TopicPartitionState[] {
    return [...this.#assigned.values()];
  }

  /**
   * Subscribes to topics (Kafka's `subscribe`), replacing an earlier subscription.
   *
   * @param topics the topic names
   * @param listener the rebalance listener
   * @returns whether an earlier subscription had other topics (the member must rejoin)
   * @throws {TypeError} after a manual assignment, or for a bad topic list
   */
  subscribe(topics: string | string[], listener: ConsumerRebalanceListener): boolean {
    if (this.manual) {
      throw new TypeError("Cannot subscribe: the consumer uses assign(); call unsubscribe() first");
    }
    const list = typeof topics === "string" ? [topics] : topics;
    if (!Array.isArray(list) || list.length === 0 || list.some((t) => typeof t !== "string" || t === "")) {
      throw new TypeError("Cannot subscribe: expected a topic name or a non-empty array of names");
    }
    const topicsNow = [...new Set(list)].sort();
    const before = this.subscription;
    this.subscription = topicsNow;
    this.listener = listener;
    return before !== undefined && topicsNow.join("\n") !== before.join("\n");
  }

  /**
   * Assigns partitions by hand (Kafka's `assignFromUser`), replacing an earlier assignment: the
   * partitions kept keep their positions.
   *
   * @param partitions the partitions
   * @param logOf each partition's log (it throws for a partition that does not exist)
   * @throws {TypeError} while subscribed
   */
  assignFromUser(partitions: TopicPartition[], logOf: (tp: TopicPartition) => PartitionLog): void {
    if (this.subscription !== undefined) {
      throw new TypeError("Cannot assign partitions: the consumer is subscribed; call unsubscribe() first");
    }
    const logs = partitions.map(logOf);
    this.retain(new Set(partitions.map(topicPartitionKey)));
    partitions.forEach((tp, i) => {
      if (!this.#assigned.has(topicPartitionKey(tp))) {
        this.add({ topic: tp.topic, partition: tp.partition }, logs[i]);
      }
    });
    this.manual = partitions.length > 0;
  }

  /** Drops the subscription or the manual assignment, and every assigned partition. */
  unsubscribe(): void {
    this.clear();
    this.subscription = undefined;
    this.manual = false;
  }

  /**
   * Assigns a partition: it has no position until the first poll resolves one.
   *
   * @param tp the partition
   * @param log its log
   */
  add(tp: TopicPartition, log: PartitionLog): void {
    this.#assigned.set(topicPartitionKey(tp), {
      tp,
      fetcher: new PartitionFetcher(log, this.#fetch),
      position: undefined,
      buffer: [],
      next: 0,
      paused: false,
      // A listener of its own: the log keeps a set of them.
      unsubscribe: log.onAppend(() => this.#onAppend()),
    });
  }

  /**
   * Unassigns every partition whose key is not in `keep`.
   *
   * @param keep the {@linkcode topicPartitionKey}s of the partitions to keep
   */
  retain(keep: ReadonlySet<string>): void {
    for (const [key, state] of this.#assigned) {
      if (!keep.has(key)) {
        state.unsubscribe();
        this.#assigned.delete(key);
      }
    }
  }

  /** Unassigns every partition. */
  clear(): void {
    for (const state of this.#assigned.values()) state.unsubscribe();
    this.#assigned.clear();
  }

  /**
   * An assigned partition's state.
   *
   * @param tp the partition
   * @param action what the caller does, for the error
   * @throws {RangeError} when the partition is not assigned to this consumer
   */
  stateOf(tp: TopicPartition, action: string): TopicPartitionState {
    const state = tp && this.#assigned.get(topicPartitionKey(tp));
    if (!state) {
      throw new RangeError(
        `Cannot ${action} "${tp?.topic}-${tp?.partition}": the partition is not assigned to this consumer`,
      );
    }
    return state;
  }

  /**
   * The states of the given partitions, or of every assigned one.
   *
   * @throws {RangeError} when a partition is not assigned to this consumer
   */
  statesOf(partitions: TopicPartition[] | undefined, action: string): TopicPartitionState[] {
    return partitions === undefined ? this.states() : partitions.map((tp) => this.stateOf(tp, action));
  }

  /**
   * Moves a partition's position (and its fetcher) to `offset`, dropping the records read ahead.
   *
   * @param state the partition
   * @param offset the next offset to return
   */
  seek(state: TopicPartitionState, offset: number): void {
    state.position = offset;
    state.fetcher.seek(offset);
    state.buffer = [];
    state.next = 0;
  }

  /** The assigned partitions, sorted. */
  assignment(): TopicPartition[] {
    return sortTopicPartitions([...this.#assigned.values()].map((s) => ({ ...s.tp })));
  }

  /** The paused partitions, sorted. */
  paused(): TopicPartition[] {
    return sortTopicPartitions(
      [...this.#assigned.values()].filter((s) => s.paused).map((s) => ({ ...s.tp })),
    );
  }

  /** The position of every assigned partition that has one, as offsets to commit. */
  positions(): OffsetToCommit[] {
    const out: OffsetToCommit[] = [];
    for (const s of this.#assigned.values()) {
      if (s.position !== undefined) {
        out.push({ topic: s.tp.topic, partition: s.tp.partition, offset: s.position });
      }
    }
    return out;
  }
}
