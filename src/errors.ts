/**
 * Error classes for the conditions a caller of reel may want to catch, each carrying the
 * Kafka error name as `code` and the numeric Kafka error code as `errorCode`.
 *
 * Source for the codes: Apache Kafka `clients/src/main/java/org/apache/kafka/common/protocol/Errors.java`.
 *
 * @example Catching a typed error
 * ```ts
 * import assert from "node:assert/strict";
 * import { errors, OffsetOutOfRangeError, ReelError } from "./errors.ts";
 * try {
 *   throw new OffsetOutOfRangeError("events", 0, 42, 0, 40);
 * } catch (err) {
 *   assert.ok(err instanceof ReelError);
 *   assert.ok(err instanceof errors.OffsetOutOfRangeError);
 *   assert.equal(err.code, "OFFSET_OUT_OF_RANGE");
 *   assert.equal(err.errorCode, 1);
 * }
 * ```
 *
 * @module
 */

/**
 * The Kafka error names reel uses, mapped to Kafka's numeric error codes (Errors.java).
 * `UNKNOWN_SERVER_ERROR`, `INVALID_PARTITIONS` and `INVALID_CONFIG` are there for the broker's
 * answers on the wire (an unexpected failure; CreateTopics and CreatePartitions), where no error
 * class of reel's carries them.
 *
 * @example Kafka's numbers
 * ```ts
 * import assert from "node:assert/strict";
 * import { KAFKA_ERROR_CODES } from "./errors.ts";
 * assert.equal(KAFKA_ERROR_CODES.CORRUPT_MESSAGE, 2);
 * assert.equal(KAFKA_ERROR_CODES.MESSAGE_TOO_LARGE, 10);
 * assert.equal(KAFKA_ERROR_CODES.KAFKA_STORAGE_ERROR, 56);
 * ```
 */
export const KAFKA_ERROR_CODES = {
  UNKNOWN_SERVER_ERROR: -1,
  OFFSET_OUT_OF_RANGE: 1,
  CORRUPT_MESSAGE: 2,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  NOT_LEADER_OR_FOLLOWER: 6,
  MESSAGE_TOO_LARGE: 10,
  INVALID_TOPIC_EXCEPTION: 17,
  ILLEGAL_GENERATION: 22,
  INCONSISTENT_GROUP_PROTOCOL: 23,
  INVALID_GROUP_ID: 24,
  UNKNOWN_MEMBER_ID: 25,
  TOPIC_ALREADY_EXISTS: 36,
  UNSUPPORTED_VERSION: 35,
  INVALID_PARTITIONS: 37,
  INVALID_CONFIG: 40,
  INVALID_REQUEST: 42,
  OUT_OF_ORDER_SEQUENCE_NUMBER: 45,
  INVALID_PRODUCER_EPOCH: 47,
  KAFKA_STORAGE_ERROR: 56,
  SASL_AUTHENTICATION_FAILED: 58,
  NON_EMPTY_GROUP: 68,
  GROUP_ID_NOT_FOUND: 69,
  UNSUPPORTED_COMPRESSION_TYPE: 76,
  INVALID_RECORD: 87,
} as const;

/** A Kafka error name, such as `"OFFSET_OUT_OF_RANGE"`. */
export type KafkaErrorName = keyof typeof KAFKA_ERROR_CODES;

/**
 * The base class of every error reel throws for a condition (not for a wrong argument, which gets a
 * plain `TypeError` or `RangeError`).
 *
 * @example A condition with a Kafka code
 * ```ts
 * import assert from "node:assert/strict";
 * import { ReelError } from "./errors.ts";
 * const cause = new Error("EIO");
 * const err = new ReelError("INVALID_REQUEST", "Cannot do that: reason", { cause });
 * assert.ok(err instanceof Error);
 * assert.equal(err.name, "ReelError");
 * assert.equal(err.code, "INVALID_REQUEST");
 * assert.equal(err.errorCode, 42);
 * assert.equal(err.message, "Cannot do that: reason");
 * assert.equal(err.cause, cause);
 * ```
 */
export class ReelError extends Error {
  /** The Kafka error name, such as `"CORRUPT_MESSAGE"`. */
  readonly code: KafkaErrorName;
  /** Kafka's numeric error code for {@linkcode ReelError.code}, as sent on the wire. */
  readonly errorCode: number;

  /**
   * Creates the error; `errorCode` is looked up from `code`.
   *
   * @param code the Kafka error name
   * @param message sentence case, no trailing period: the action that failed, a colon, the detail
   * @param options the standard `ErrorOptions` (`cause`)
   */
  constructor(code: KafkaErrorName, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ReelError";
    this.code = code;
    this.errorCode = KAFKA_ERROR_CODES[code];
  }
}

/**
 * A read asked for an offset outside `[logStartOffset, logEndOffset]` (code `OFFSET_OUT_OF_RANGE`, 1).
 *
 * @example Past the end and before the start
 * ```ts
 * import assert from "node:assert/strict";
 * import { OffsetOutOfRangeError } from "./errors.ts";
 * const err = new OffsetOutOfRangeError("events", 0, 42, 0, 40);
 * assert.equal(err.message, 'Cannot read from offset 42 of "events-0": offset is past the log end offset 40');
 * assert.equal(err.logEndOffset, 40);
 * assert.equal(
 *   new OffsetOutOfRangeError("events", 1, 3, 10, 40).message,
 *   'Cannot read from offset 3 of "events-1": offset is before the log start offset 10',
 * );
 * ```
 */
export class OffsetOutOfRangeError extends ReelError {
  /**
   * Creates the error; the message says which end of the log `offset` is outside.
   *
   * @param topic the topic name
   * @param partition the partition number
   * @param offset the offset asked for
   * @param logStartOffset the partition's first offset
   * @param logEndOffset the partition's next offset to be assigned
   */
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly offset: number,
    readonly logStartOffset: number,
    readonly logEndOffset: number,
  ) {
    const why = offset < logStartOffset
      ? `offset is before the log start offset ${logStartOffset}`
      : `offset is past the log end offset ${logEndOffset}`;
    super("OFFSET_OUT_OF_RANGE", `Cannot read from offset ${offset} of "${topic}-${partition}": ${why}`);
    this.name = "OffsetOutOfRangeError";
  }
}

/**
 * Bytes on disk or handed in failed validation: a bad CRC-32C, a bad length, an unknown magic byte
 * (code `CORRUPT_MESSAGE`, 2). `segment` and `position` say where, when the bytes came from a file.
 *
 * @example Where the bad batch is
 * ```ts
 * import assert from "node:assert/strict";
 * import { CorruptRecordError } from "./errors.ts";
 * const segment = "/d/t-0/00000000000000000000.log";
 * const err = new CorruptRecordError("CRC mismatch", { topic: "t", partition: 0, segment, position: 4096 });
 * assert.equal(err.code, "CORRUPT_MESSAGE");
 * assert.equal(err.errorCode, 2);
 * assert.equal(err.position, 4096);
 * assert.equal(err.message, `Corrupt record batch in "t-0", segment ${segment}, position 4096: CRC mismatch`);
 * assert.equal(new CorruptRecordError("bad length").message, "Corrupt record batch: bad length");
 * ```
 */
export class CorruptRecordError extends ReelError {
  /** The topic, when known. */
  readonly topic?: string;
  /** The partition, when known. */
  readonly partition?: number;
  /** The segment file path, when the bytes came from a file. */
  readonly segment?: string;
  /** The byte position of the bad batch in its file, when known. */
  readonly position?: number;

  /**
   * Creates the error; the message names where the bytes came from, as far as `where` says.
   *
   * @param detail what is wrong with the bytes
   * @param where where the bytes came from, when known
   * @param options the standard `ErrorOptions` (`cause`)
   */
  constructor(
    detail: string,
    where: { topic?: string; partition?: number; segment?: string; position?: number } = {},
    options?: ErrorOptions,
  ) {
    const at = [
      where.topic !== undefined ? `"${where.topic}-${where.partition ?? "?"}"` : undefined,
      where.segment !== undefined ? `segment ${where.segment}` : undefined,
      where.position !== undefined ? `position ${where.position}` : undefined,
    ].filter(Boolean).join(", ");
    super("CORRUPT_MESSAGE", `Corrupt record batch${at ? ` in ${at}` : ""}: ${detail}`, options);
    this.name = "CorruptRecordError";
    this.topic = where.topic;
    this.partition = where.partition;
    this.segment = where.segment;
    this.position = where.position;
  }
}

/**
 * A record or record batch is larger than `maxMessageBytes` (code `MESSAGE_TOO_LARGE`, 10).
 *
 * @example A batch over maxMessageBytes
 * ```ts
 * import assert from "node:assert/strict";
 * import { RecordTooLargeError } from "./errors.ts";
 * const err = new RecordTooLargeError(2_000_000, 1_048_588);
 * assert.equal(err.code, "MESSAGE_TOO_LARGE");
 * assert.equal(err.maxSize, 1_048_588);
 * assert.equal(
 *   err.message,
 *   "Cannot append a record batch of 2000000 bytes: the limit (maxMessageBytes) is 1048588 bytes",
 * );
 * ```
 */
export class RecordTooLargeError extends ReelError {
  /**
   * Creates the error.
   *
   * @param size the size in bytes (for a line cut short, the bytes of it read so far)
   * @param maxSize the limit in bytes (`maxMessageBytes`)
   * @param message the message, when the default (a record batch too large to append) does not fit
   */
  constructor(readonly size: number, readonly maxSize: number, message?: string) {
    super(
      "MESSAGE_TOO_LARGE",
      message ??
        `Cannot append a record batch of ${size} bytes: the limit (maxMessageBytes) is ${maxSize} bytes`,
    );
    this.name = "RecordTooLargeError";
  }
}

/**
 * The topic, or the partition of a topic, does not exist (code `UNKNOWN_TOPIC_OR_PARTITION`, 3).
 *
 * @example A missing topic and a missing partition
 * ```ts
 * import assert from "node:assert/strict";
 * import { UnknownTopicOrPartitionError } from "./errors.ts";
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
 * import { InvalidTopicError } from "./errors.ts";
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
 * A consumer group id cannot be used: it is empty, not a well-formed string, or too long to be a
 * directory name once encoded (code `INVALID_GROUP_ID`, 24). Any other string is a legal group id,
 * as in Kafka.
 *
 * @example An empty group id
 * ```ts
 * import assert from "node:assert/strict";
 * import { InvalidGroupIdError } from "./errors.ts";
 * const err = new InvalidGroupIdError("", "expected a non-empty, well-formed string");
 * assert.equal(err.code, "INVALID_GROUP_ID");
 * assert.equal(err.errorCode, 24);
 * ```
 */
export class InvalidGroupIdError extends ReelError {
  /**
   * Creates the error.
   *
   * @param groupId the rejected group id
   * @param reason why it is rejected
   */
  constructor(readonly groupId: string, reason: string) {
    super("INVALID_GROUP_ID", `Invalid group id ${JSON.stringify(groupId)}: ${reason}`);
    this.name = "InvalidGroupIdError";
  }
}

/**
 * A name given for a file or directory under the log directory cannot be one: it is empty, `.`,
 * `..`, holds `/`, `\` or NUL, or is too long (code `INVALID_REQUEST`, 42). Paths built from input
 * go through one validator (`src/runtime/log_paths.ts`), which throws this rather than touch
 * anything outside the log directory.
 *
 * @example A name that would leave the log directory
 * ```ts
 * import assert from "node:assert/strict";
 * import { InvalidPathError } from "./errors.ts";
 * const err = new InvalidPathError("..", "it is not a name under /data/log");
 * assert.equal(err.code, "INVALID_REQUEST");
 * assert.equal(err.message, 'Cannot use ".." as a name in the log directory: it is not a name under /data/log');
 * ```
 */
export class InvalidPathError extends ReelError {
  /**
   * Creates the error.
   *
   * @param pathName the rejected name
   * @param reason why it is rejected
   */
  constructor(readonly pathName: string, reason: string) {
    super(
      "INVALID_REQUEST",
      `Cannot use ${JSON.stringify(pathName)} as a name in the log directory: ${reason}`,
    );
    this.name = "InvalidPathError";
  }
}

/**
 * A topic of that name exists already (code `TOPIC_ALREADY_EXISTS`, 36).
 *
 * @example Creating a topic twice
 * ```ts
 * import assert from "node:assert/strict";
 * import { TopicExistsError } from "./errors.ts";
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
 * import { InvalidPartitionsError } from "./errors.ts";
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
 * import { InvalidConfigError } from "./errors.ts";
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

/**
 * An idempotent producer's batch refused by its partition's producer state (KIP-98): its first
 * sequence does not follow the producer's last batch (code `OUT_OF_ORDER_SEQUENCE_NUMBER`, 45),
 * or its epoch is older than the producer's (code `INVALID_PRODUCER_EPOCH`, 47). Nothing is
 * appended.
 *
 * @example A gap in the sequence
 * ```ts
 * import assert from "node:assert/strict";
 * import { ProducerSequenceError } from "./errors.ts";
 * const err = new ProducerSequenceError("OUT_OF_ORDER_SEQUENCE_NUMBER", "events", 0, "expected sequence 5, got 7");
 * assert.equal(err.message, 'Cannot append to "events-0": expected sequence 5, got 7');
 * assert.equal(err.errorCode, 45);
 * ```
 */
export class ProducerSequenceError extends ReelError {
  /**
   * Creates the error.
   *
   * @param code which refusal
   * @param topic the topic name
   * @param partition the partition
   * @param detail what was wrong
   */
  constructor(
    code: "OUT_OF_ORDER_SEQUENCE_NUMBER" | "INVALID_PRODUCER_EPOCH",
    readonly topic: string,
    readonly partition: number,
    detail: string,
  ) {
    super(code, `Cannot append to "${topic}-${partition}": ${detail}`);
    this.name = "ProducerSequenceError";
  }
}

/**
 * A record batch uses a compression codec this build cannot read or write
 * (code `UNSUPPORTED_COMPRESSION_TYPE`, 76).
 *
 * @example An unknown codec number
 * ```ts
 * import assert from "node:assert/strict";
 * import { UnsupportedCompressionTypeError } from "./errors.ts";
 * const err = new UnsupportedCompressionTypeError("7", "it is not a Kafka codec");
 * assert.equal(err.message, "Cannot use compression type 7: it is not a Kafka codec");
 * assert.equal(err.errorCode, 76);
 * assert.equal(
 *   new UnsupportedCompressionTypeError("zstd").message,
 *   "Cannot use compression type zstd: no codec for it is available",
 * );
 * ```
 */
export class UnsupportedCompressionTypeError extends ReelError {
  /**
   * Creates the error.
   *
   * @param codec the codec's name, or its number when unknown
   * @param detail why it cannot be used
   */
  constructor(readonly codec: string, detail = "no codec for it is available") {
    super("UNSUPPORTED_COMPRESSION_TYPE", `Cannot use compression type ${codec}: ${detail}`);
    this.name = "UnsupportedCompressionTypeError";
  }
}

/**
 * A record is not valid for the codec or the log: a line that is not JSON under the JSON codec,
 * invalid UTF-8 under the text codec, a negative header count (code `INVALID_RECORD`, 87).
 *
 * @example A line that is not JSON
 * ```ts
 * import assert from "node:assert/strict";
 * import { InvalidRecordError } from "./errors.ts";
 * const err = new InvalidRecordError("Cannot parse line 3 as JSON: Unexpected token");
 * assert.equal(err.code, "INVALID_RECORD");
 * assert.equal(err.errorCode, 87);
 * assert.equal(err.name, "InvalidRecordError");
 * ```
 */
export class InvalidRecordError extends ReelError {
  /**
   * Creates the error.
   *
   * @param message what is wrong, with where it was found
   * @param options the standard `ErrorOptions` (`cause`)
   */
  constructor(message: string, options?: ErrorOptions) {
    super("INVALID_RECORD", message, options);
    this.name = "InvalidRecordError";
  }
}

/**
 * A file operation failed, or the log was used after `close()` (code `KAFKA_STORAGE_ERROR`, 56).
 *
 * @example A failed file operation keeps its cause
 * ```ts
 * import assert from "node:assert/strict";
 * import { StorageError } from "./errors.ts";
 * const cause = Object.assign(new Error("no space left on device"), { code: "ENOSPC" });
 * const err = new StorageError('Cannot append to "t-0": no space left on device', { cause });
 * assert.equal(err.code, "KAFKA_STORAGE_ERROR");
 * assert.equal(err.errorCode, 56);
 * assert.equal(err.cause, cause);
 * ```
 */
export class StorageError extends ReelError {
  /**
   * Creates the error.
   *
   * @param message the action that failed and why
   * @param options the standard `ErrorOptions` (`cause`: the file system's error)
   */
  constructor(message: string, options?: ErrorOptions) {
    super("KAFKA_STORAGE_ERROR", message, options);
    this.name = "StorageError";
  }
}

/**
 * Another writer holds the partition's writer lock: another process (or another open log
 * directory in this process) appends to it (code `NOT_LEADER_OR_FOLLOWER`, 6: in Kafka's terms,
 * the partition's leader is elsewhere). Many readers, one writer per partition; a lock left by a
 * writer that died is taken over, so this error always names a live writer.
 *
 * @example The writer that holds the lock
 * ```ts
 * import assert from "node:assert/strict";
 * import { PartitionLockedError } from "./errors.ts";
 * const err = new PartitionLockedError("events", 0, { pid: 4242, hostname: "host-a", acquiredAt: 0 });
 * assert.equal(err.code, "NOT_LEADER_OR_FOLLOWER");
 * assert.equal(err.errorCode, 6);
 * assert.equal(err.pid, 4242);
 * assert.equal(
 *   err.message,
 *   'Cannot write to "events-0": another writer holds its lock (process 4242 on host-a, since 1970-01-01T00:00:00.000Z)',
 * );
 * ```
 */
export class PartitionLockedError extends ReelError {
  /** The process id of the writer holding the lock. */
  readonly pid: number;
  /** The host name recorded in the lock. */
  readonly hostname: string;

  /**
   * Creates the error from the lock's record of its owner.
   *
   * @param topic the topic name
   * @param partition the partition number
   * @param owner who holds the lock: process id, host name, when it was taken (ms since the epoch)
   * @param options the standard `ErrorOptions` (`cause`)
   */
  constructor(
    readonly topic: string,
    readonly partition: number,
    owner: { pid: number; hostname: string; acquiredAt: number },
    options?: ErrorOptions,
  ) {
    super(
      "NOT_LEADER_OR_FOLLOWER",
      `Cannot write to "${topic}-${partition}": another writer holds its lock (process ${owner.pid} on ${owner.hostname}, since ${
        new Date(owner.acquiredAt).toISOString()
      })`,
      options,
    );
    this.name = "PartitionLockedError";
    this.pid = owner.pid;
    this.hostname = owner.hostname;
  }
}

/**
 * A consumer's offset commit was refused because the member no longer owns the partition: the
 * group rebalanced and gave it to another member (code `ILLEGAL_GENERATION`, 22), or the member
 * was removed from the group after missing its session timeout (code `UNKNOWN_MEMBER_ID`, 25).
 * Kafka's `CommitFailedException`. The records since the last successful commit will be
 * delivered again to the partition's new owner (at-least-once).
 *
 * @example A commit after the partition moved, and after the member was removed
 * ```ts
 * import assert from "node:assert/strict";
 * import { CommitFailedError } from "./errors.ts";
 * const err = new CommitFailedError("billing", "events", 3, "the partition is assigned to another member");
 * assert.equal(err.code, "ILLEGAL_GENERATION");
 * assert.equal(err.errorCode, 22);
 * assert.equal(
 *   err.message,
 *   'Cannot commit the offset of "events-3" for group "billing": the partition is assigned to another member',
 * );
 * const removed = new CommitFailedError("billing", "events", 3, "the member was removed", "UNKNOWN_MEMBER_ID");
 * assert.equal(removed.errorCode, 25);
 * ```
 */
export class CommitFailedError extends ReelError {
  /**
   * Creates the error for the first refused partition.
   *
   * @param groupId the consumer group
   * @param topic the topic of the refused offset
   * @param partition its partition
   * @param reason why the commit was refused
   * @param code `"ILLEGAL_GENERATION"` (partition moved) or `"UNKNOWN_MEMBER_ID"` (member removed)
   */
  constructor(
    readonly groupId: string,
    readonly topic: string,
    readonly partition: number,
    reason: string,
    code: "ILLEGAL_GENERATION" | "UNKNOWN_MEMBER_ID" = "ILLEGAL_GENERATION",
  ) {
    super(code, `Cannot commit the offset of "${topic}-${partition}" for group "${groupId}": ${reason}`);
    this.name = "CommitFailedError";
  }
}

/**
 * A consumer has no committed offset for a partition and its `autoOffsetReset` is `"none"`
 * (Kafka's `NoOffsetForPartitionException`). It has no wire code of its own; like Kafka's, it is
 * an invalid-offset condition, so its code is `OFFSET_OUT_OF_RANGE` (1).
 *
 * @example With and without a group
 * ```ts
 * import assert from "node:assert/strict";
 * import { NoOffsetForPartitionError } from "./errors.ts";
 * assert.equal(
 *   new NoOffsetForPartitionError("billing", "events", 0).message,
 *   'Cannot choose a start offset for "events-0" in group "billing": there is no committed offset and autoOffsetReset is "none"',
 * );
 * const err = new NoOffsetForPartitionError(undefined, "events", 0);
 * assert.equal(err.code, "OFFSET_OUT_OF_RANGE");
 * assert.match(err.message, /^Cannot choose a start offset for "events-0": there is no committed offset/);
 * ```
 */
export class NoOffsetForPartitionError extends ReelError {
  /**
   * Creates the error for one partition.
   *
   * @param groupId the consumer group (or `undefined` for a consumer without one)
   * @param topic the topic
   * @param partition the partition
   */
  constructor(readonly groupId: string | undefined, readonly topic: string, readonly partition: number) {
    super(
      "OFFSET_OUT_OF_RANGE",
      `Cannot choose a start offset for "${topic}-${partition}"${
        groupId === undefined ? "" : ` in group "${groupId}"`
      }: there is no committed offset and autoOffsetReset is "none"`,
    );
    this.name = "NoOffsetForPartitionError";
  }
}

/**
 * A consumer cannot join its group: none of its partition assignors is supported by every
 * current member (code `INCONSISTENT_GROUP_PROTOCOL`, 23).
 *
 * @example No assignor in common
 * ```ts
 * import assert from "node:assert/strict";
 * import { InconsistentGroupProtocolError } from "./errors.ts";
 * const err = new InconsistentGroupProtocolError("billing", ["range"], ["roundrobin"]);
 * assert.equal(err.code, "INCONSISTENT_GROUP_PROTOCOL");
 * assert.equal(err.errorCode, 23);
 * assert.equal(err.message, 'Cannot join group "billing" with assignors range: the members support only roundrobin');
 * ```
 */
export class InconsistentGroupProtocolError extends ReelError {
  /**
   * Creates the error from both sides' assignor names.
   *
   * @param groupId the consumer group
   * @param offered the joining member's assignor names
   * @param supported the names every current member supports
   */
  constructor(readonly groupId: string, offered: readonly string[], supported: readonly string[]) {
    super(
      "INCONSISTENT_GROUP_PROTOCOL",
      `Cannot join group "${groupId}" with assignors ${offered.join(", ")}: the members support only ${
        supported.join(", ") || "no common assignor"
      }`,
    );
    this.name = "InconsistentGroupProtocolError";
  }
}

/**
 * A Kafka client's SASL authentication failed: a wrong password, an unknown user, or a malformed
 * or out-of-order SASL message (Kafka's `SaslAuthenticationException`). The broker answers it in
 * SaslAuthenticate and then closes the connection.
 *
 * @example Its Kafka code
 * ```ts
 * import assert from "node:assert/strict";
 * import { SaslAuthenticationError } from "./errors.ts";
 * const err = new SaslAuthenticationError("Authentication failed: invalid user credentials");
 * assert.equal(err.code, "SASL_AUTHENTICATION_FAILED");
 * assert.equal(err.errorCode, 58);
 * ```
 */
export class SaslAuthenticationError extends ReelError {
  /**
   * Creates the error.
   *
   * @param message what failed, without naming which of user and password was wrong
   */
  constructor(message: string) {
    super("SASL_AUTHENTICATION_FAILED", message);
    this.name = "SaslAuthenticationError";
  }
}

/**
 * A consumer group cannot be deleted while it has live members (code `NON_EMPTY_GROUP`, 68, as
 * Kafka's DeleteGroups answers).
 *
 * @example Its Kafka code
 * ```ts
 * import assert from "node:assert/strict";
 * import { GroupNotEmptyError } from "./errors.ts";
 * const err = new GroupNotEmptyError("billing", 2);
 * assert.equal(err.code, "NON_EMPTY_GROUP");
 * assert.equal(err.errorCode, 68);
 * assert.equal(err.message, 'Cannot delete group "billing": it has 2 live members');
 * ```
 */
export class GroupNotEmptyError extends ReelError {
  /**
   * Creates the error.
   *
   * @param groupId the consumer group
   * @param members how many live members it has
   */
  constructor(readonly groupId: string, members: number) {
    super(
      "NON_EMPTY_GROUP",
      `Cannot delete group "${groupId}": it has ${members} live member${members === 1 ? "" : "s"}`,
    );
    this.name = "GroupNotEmptyError";
  }
}

/**
 * A feature this runtime (or this version of it) cannot run: `connect()` on a Node older than
 * 22.22, which its Kafka client (@platformatic/kafka, `engines: node >= 22.22.0`) needs. Code
 * `UNSUPPORTED_VERSION` (35), Kafka's answer to a request version it cannot serve, the closest of
 * Kafka's codes to a version that cannot run the client.
 *
 * @example Node 20 and `connect()`
 * ```ts
 * import assert from "node:assert/strict";
 * import { UnsupportedRuntimeError } from "./errors.ts";
 * const err = new UnsupportedRuntimeError("connect()", "node", "20.20.2", "Node 22.22 or later, Deno or Bun");
 * assert.equal(err.message, "Cannot use connect() on node 20.20.2: it needs Node 22.22 or later, Deno or Bun");
 * assert.equal(err.errorCode, 35);
 * assert.equal(err.runtime, "node");
 * ```
 */
export class UnsupportedRuntimeError extends ReelError {
  /**
   * Creates the error.
   *
   * @param feature what cannot be used, as `"connect()"`
   * @param runtime the runtime's name (`"node"`)
   * @param version its version (`"20.20.2"`)
   * @param needs what it needs, as a noun phrase
   */
  constructor(feature: string, readonly runtime: string, readonly version: string, needs: string) {
    super("UNSUPPORTED_VERSION", `Cannot use ${feature} on ${runtime} ${version}: it needs ${needs}`);
    this.name = "UnsupportedRuntimeError";
  }
}

/**
 * Every error class, for `instanceof` checks: `err instanceof errors.CorruptRecordError`.
 *
 * @example Each class's name is its key
 * ```ts
 * import assert from "node:assert/strict";
 * import { errors } from "./errors.ts";
 * for (const [name, ErrorClass] of Object.entries(errors)) assert.equal(ErrorClass.name, name);
 * assert.ok(new errors.StorageError("Cannot sync: EIO") instanceof errors.ReelError);
 * ```
 */
export const errors = {
  ReelError,
  OffsetOutOfRangeError,
  CorruptRecordError,
  RecordTooLargeError,
  UnknownTopicOrPartitionError,
  InvalidTopicError,
  InvalidGroupIdError,
  InvalidPathError,
  TopicExistsError,
  UnsupportedCompressionTypeError,
  InvalidRecordError,
  StorageError,
  PartitionLockedError,
  CommitFailedError,
  NoOffsetForPartitionError,
  InconsistentGroupProtocolError,
  SaslAuthenticationError,
  GroupNotEmptyError,
  InvalidConfigError,
  InvalidPartitionsError,
  ProducerSequenceError,
  UnsupportedRuntimeError,
};
