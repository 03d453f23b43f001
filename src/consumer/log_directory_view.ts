/**
 * What the consumer side needs of an open log directory, as an interface so that the consumer
 * (below `topic/` in the layers) never imports the topic layer: an open `LogDirectory` is one.
 *
 * @module
 */
import type { PartitionLog } from "../log/partition_log.ts";

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
