/**
 * What the consumer side needs of an open log directory, as an interface so that the consumer
 * (below `topic/` in the layers) never imports the topic layer: an open `LogDirectory` is one. And
 * the one check that a topic-partition exists in it.
 *
 * @module
 */
import { UnknownTopicOrPartitionError } from "../errors.ts";
import type { PartitionLog } from "../log/partition_log.ts";
import { validatePartition } from "../runtime/log_paths.ts";
import type { TopicPartition } from "./types.ts";

/** One topic as the consumer side sees it: its partition count and each partition's log. */
export interface TopicView {
  /** The topic name. */
  readonly name: string;
  /** How many partitions it has. */
  readonly partitions: number;
  /**
   * One partition's log.
   *
   * @throws {UnknownTopicOrPartitionError} when the topic has no such partition
   */
  partition(partition: number): PartitionLog;
}

/**
 * An open log directory as the consumer side sees it (a `LogDirectory` from `open()` is one).
 *
 * @example An open log directory is a view
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../mod.ts";
 * import type { LogDirectoryView } from "./log_directory_view.ts";
 * const log = await open(Deno.makeTempDirSync());
 * await log.createTopic("events", { partitions: 3 });
 * const view: LogDirectoryView = log;
 * assert.equal(view.hasTopic("events") && view.topic("events").partitions, 3);
 * await log.close();
 * assert.equal(view.closed, true);
 * ```
 */
export interface LogDirectoryView {
  /** The log directory's path. */
  readonly dir: string;
  /** Whether the log directory was closed. */
  readonly closed: boolean;
  /** Whether a topic exists. */
  hasTopic(name: string): boolean;
  /**
   * An existing topic.
   *
   * @throws {UnknownTopicOrPartitionError} when there is no such topic
   */
  topic(name: string): TopicView;
}

/**
 * Checks that a topic-partition exists in a log directory, without opening its log (nothing is
 * written), as Kafka's broker answers UNKNOWN_TOPIC_OR_PARTITION before it builds any path.
 *
 * @param log the open log directory
 * @param tp the topic-partition
 * @throws {TypeError} for something that is not a `{ topic, partition }`
 * @throws {UnknownTopicOrPartitionError} when there is no such topic or partition
 * @example An existing partition, one past the count, and a topic that is not there
 * ```ts
 * import assert from "node:assert/strict";
 * import { open, UnknownTopicOrPartitionError } from "../../mod.ts";
 * import { checkTopicPartition } from "./log_directory_view.ts";
 * const log = await open(Deno.makeTempDirSync());
 * await log.createTopic("events", { partitions: 2 });
 * checkTopicPartition(log, { topic: "events", partition: 1 });
 * assert.throws(() => checkTopicPartition(log, { topic: "events", partition: 2 }), UnknownTopicOrPartitionError);
 * assert.throws(() => checkTopicPartition(log, { topic: "../x", partition: 0 }), UnknownTopicOrPartitionError);
 * await log.close();
 * ```
 */
export function checkTopicPartition(log: LogDirectoryView, tp: TopicPartition): void {
  if (!tp || typeof tp.topic !== "string") {
    throw new TypeError(`Invalid topic-partition ${JSON.stringify(tp)}: expected { topic, partition }`);
  }
  // hasTopic() is false for a name that is not a legal topic name; validatePartition() checks
  // the partition is a whole number below the partition count.
  if (!log.hasTopic(tp.topic)) throw new UnknownTopicOrPartitionError(tp.topic, tp.partition);
  validatePartition(tp.topic, tp.partition, log.topic(tp.topic).partitions);
}
