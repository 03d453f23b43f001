/**
 * The errors of topic administration: a missing topic or partition, a bad topic name, a topic that
 * exists, a partition count or a config Kafka would refuse.
 *
 * @module
 */
import { ReelError } from "./reel_error.ts";

/**
 * The topic, or the partition of a topic, does not exist (code `UNKNOWN_TOPIC_OR_PARTITION`, 3).
 *
 * @example A missing topic and a missing partition
 * ```ts
 * import assert from "node:assert/strict";
 * import { UnknownTopicOrPartitionError } from "./topic_errors.ts";
 * assert.equal(new UnknownTopicOrPartitionError("events").message, 'Cannot find topic "events": it does not exist');
 * const err = new UnknownTopicOrPartitionError("events", 7);
 * assert.equal(err.message, 'Cannot find partition 7 of topic "events": it does not exist');
 * assert.equal(err.errorCode, 3);
 * ```
 */
export class UnknownTopicOrPartitionError extends ReelError {
  /**
   * Creates the error for a topic, or for one partition of it.
   *
   * @param topic the topic name
   * @param partition the partition asked for, if the topic exists
   */
  constructor(readonly topic: string, readonly partition?: number) {
    super(
      "UNKNOWN_TOPIC_OR_PARTITION",
      partition === undefined
        ? `Cannot find topic "${topic}": it does not exist`
        : `Cannot find partition ${partition} of topic "${topic}": it does not exist`,
    );
    this.name = "UnknownTopicOrPartitionError";
  }
}

/**
 * A topic name breaks Kafka's rule: 1 to 249 characters of `[a-zA-Z0-9._-]`, not `.` or `..`
 * (code `INVALID_TOPIC_EXCEPTION`, 17). Source: Kafka `common/internals/Topic.java`.
 *
 * @example A name with a slash
 * ```ts
 * import assert from "node:assert/strict";
 * import { InvalidTopicError } from "./topic_errors.ts";
 * const err = new InvalidTopicError("../x", "only [a-zA-Z0-9._-] are allowed");
 * assert.equal(err.code, "INVALID_TOPIC_EXCEPTION");
 * assert.equal(err.errorCode, 17);
 * assert.equal(err.message, 'Invalid topic name "../x": only [a-zA-Z0-9._-] are allowed');
 * ```
 */
export class InvalidTopicError extends ReelError {
  /**
   * Creates the error.
   *
   * @param topic the rejected name
   * @param reason why it is rejected
   */
  constructor(readonly topic: string, reason: string) {
    super("INVALID_TOPIC_EXCEPTION", `Invalid topic name ${JSON.stringify(topic)}: ${reason}`);
    this.name = "InvalidTopicError";
  }
}

/**
 * A topic of that name exists already (code `TOPIC_ALREADY_EXISTS`, 36).
 *
 * @example Creating a topic twice
 * ```ts
 * import assert from "node:assert/strict";
 * import { TopicExistsError } from "./topic_errors.ts";
 * const err = new TopicExistsError("events");
 * assert.equal(err.message, 'Cannot create topic "events": it already exists');
 * assert.equal(err.errorCode, 36);
 * ```
 */
export class TopicExistsError extends ReelError {
  /**
   * Creates the error.
   *
   * @param topic the topic name
   */
  constructor(readonly topic: string) {
    super("TOPIC_ALREADY_EXISTS", `Cannot create topic "${topic}": it already exists`);
    this.name = "TopicExistsError";
  }
}

/**
 * A partition count change that Kafka refuses: fewer partitions than the topic has (partitions are
 * never removed), or more than `MAX_PARTITIONS` (code `INVALID_PARTITIONS`, 37; Kafka's
 * CreatePartitions answers it).
 *
 * @example Shrinking a topic
 * ```ts
 * import assert from "node:assert/strict";
 * import { InvalidPartitionsError } from "./topic_errors.ts";
 * const err = new InvalidPartitionsError("events", "it has 4 partitions, and partitions are never removed");
 * assert.equal(err.message, 'Cannot change the partitions of topic "events": it has 4 partitions, and partitions are never removed');
 * assert.equal(err.errorCode, 37);
 * ```
 */
export class InvalidPartitionsError extends ReelError {
  /**
   * Creates the error.
   *
   * @param topic the topic name
   * @param reason why, as a clause
   */
  constructor(readonly topic: string, reason: string) {
    super("INVALID_PARTITIONS", `Cannot change the partitions of topic "${topic}": ${reason}`);
    this.name = "InvalidPartitionsError";
  }
}

/**
 * A topic config that is not one reel knows, or a value out of its range (code `INVALID_CONFIG`,
 * 40; Kafka's IncrementalAlterConfigs answers it). Nothing is changed.
 *
 * @example An unknown key
 * ```ts
 * import assert from "node:assert/strict";
 * import { InvalidConfigError } from "./topic_errors.ts";
 * const err = new InvalidConfigError("events", 'Unknown topic config "colour"');
 * assert.equal(err.message, 'Cannot change the config of topic "events": Unknown topic config "colour"');
 * assert.equal(err.errorCode, 40);
 * ```
 */
export class InvalidConfigError extends ReelError {
  /**
   * Creates the error.
   *
   * @param topic the topic name
   * @param reason why
   * @param options the error that caused it
   */
  constructor(readonly topic: string, reason: string, options?: ErrorOptions) {
    super("INVALID_CONFIG", `Cannot change the config of topic "${topic}": ${reason}`, options);
    this.name = "InvalidConfigError";
  }
}
