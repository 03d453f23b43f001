/**
 * The small shapes a consumer passes around: start positions, topic-partitions, committed offsets,
 * the rebalance listener, a member's view of its group. Kafka's `TopicPartition`,
 * `OffsetAndMetadata`, `ConsumerRebalanceListener` and `ConsumerGroupMetadata`.
 *
 * @module
 */

/** Where a reader starts, in each partition it reads. */
export type StartPosition = "earliest" | "latest" | number | { timestamp: number | Date };

/** One partition of one topic. */
export interface TopicPartition {
  /** The topic name. */
  topic: string;
  /** The partition number. */
  partition: number;
}

/** An offset to commit for a partition, with optional metadata (Kafka's `OffsetAndMetadata`). */
export interface OffsetToCommit extends TopicPartition {
  /** The next offset the group should read: the last processed record's offset + 1. */
  offset: number;
  /** Free text stored with the offset. @default "" */
  metadata?: string;
}

/** A committed offset as stored for a group and partition. */
export interface CommittedOffset {
  /** The next offset the group will read. */
  offset: number;
  /** The metadata committed with it. */
  metadata: string;
  /** When it was committed, ms since the epoch. */
  commitTimestamp: number;
}

/** A group's view of one member, for `Consumer.groupMetadata()`. */
export interface ConsumerGroupMetadata {
  /** The group. */
  groupId: string;
  /** This member's id, once it has joined. */
  memberId: string | undefined;
  /** The generation of the assignment it holds (-1 before it holds one). */
  generationId: number;
}

/**
 * Callbacks around a rebalance (Kafka's `ConsumerRebalanceListener`). They run inside the
 * consumer's poll (or iteration), never while a record is being processed, and the consumer
 * waits for a promise they return (other return values are ignored).
 */
export interface ConsumerRebalanceListener {
  /**
   * Called before the consumer gives up partitions (at a rebalance, on `unsubscribe()` and on
   * `close()`): the last chance to commit what was processed. No other member reads them until
   * this returns.
   */
  onPartitionsRevoked?(partitions: TopicPartition[]): unknown;
  /** Called once the consumer owns newly assigned partitions, before it reads from them. */
  onPartitionsAssigned?(partitions: TopicPartition[]): unknown;
  /**
   * Called instead of `onPartitionsRevoked` when the partitions were already taken away: the
   * member missed its session timeout and was removed from the group. Commits fail by now.
   * @default calls `onPartitionsRevoked`
   */
  onPartitionsLost?(partitions: TopicPartition[]): unknown;
}

/**
 * A topic-partition as a map key, `"<topic>-<partition>"`, as Kafka names partition directories
 * (unique: the partition is what follows the last `-`).
 *
 * @param tp the topic-partition
 * @returns its key
 * @example The key of a topic-partition
 * ```ts
 * import assert from "node:assert/strict";
 * import { topicPartitionKey } from "./types.ts";
 * assert.equal(topicPartitionKey({ topic: "events", partition: 3 }), "events-3");
 * ```
 */
export function topicPartitionKey(tp: TopicPartition): string {
  return `${tp.topic}-${tp.partition}`;
}

/**
 * Sorts topic-partitions by topic, then partition (a new array).
 *
 * @param tps the topic-partitions
 * @returns them sorted
 * @example By topic, then by partition
 * ```ts
 * import assert from "node:assert/strict";
 * import { sortTopicPartitions } from "./types.ts";
 * assert.deepEqual(
 *   sortTopicPartitions([{ topic: "b", partition: 0 }, { topic: "a", partition: 1 }, { topic: "a", partition: 0 }]),
 *   [{ topic: "a", partition: 0 }, { topic: "a", partition: 1 }, { topic: "b", partition: 0 }],
 * );
 * ```
 */
export function sortTopicPartitions(tps: readonly TopicPartition[]): TopicPartition[] {
  return [...tps].sort((a, b) => a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition);
}
