/**
 * Error classes for the conditions a caller of reel may want to catch, each carrying the
 * Kafka error name as `code` and the numeric Kafka error code as `errorCode`.
 *
 * Source for the codes: Apache Kafka `clients/src/main/java/org/apache/kafka/common/protocol/Errors.java`.
 *
 * @example Catching a typed error
 * ```ts
 * import { OffsetOutOfRangeError, ReelError } from "./errors.ts";
 * try {
 *   throw new OffsetOutOfRangeError("events", 0, 42, 0, 40);
 * } catch (err) {
 *   if (err instanceof ReelError) console.log(err.code, err.errorCode); // OFFSET_OUT_OF_RANGE 1
 * }
 * ```
 *
 * @module
 */

/** The Kafka error names reel uses, mapped to Kafka's numeric error codes (Errors.java). */
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
  INVALID_PARTITIONS: 37,
  INVALID_CONFIG: 40,
  INVALID_REQUEST: 42,
  KAFKA_STORAGE_ERROR: 56,
  UNSUPPORTED_COMPRESSION_TYPE: 76,
  INVALID_RECORD: 87,
} as const;

/** A Kafka error name, such as `"OFFSET_OUT_OF_RANGE"`. */
export type KafkaErrorName = keyof typeof KAFKA_ERROR_CODES;

/**
 * The base class of every error reel throws for a condition (not for a wrong argument, which gets a
 * plain `TypeError` or `RangeError`).
 *
 * @example
 * ```ts
 * import { ReelError } from "./errors.ts";
 * const err = new ReelError("INVALID_REQUEST", "Cannot do that: reason");
 * console.log(err.code, err.errorCode, err instanceof Error); // INVALID_REQUEST 42 true
 * ```
 */
export class ReelError extends Error {
  /** The Kafka error name, such as `"CORRUPT_MESSAGE"`. */
  readonly code: KafkaErrorName;
  /** Kafka's numeric error code for {@linkcode ReelError.code}, as sent on the wire. */
  readonly errorCode: number;

  /**
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
 * @example
 * ```ts
 * import { OffsetOutOfRangeError } from "./errors.ts";
 * const err = new OffsetOutOfRangeError("events", 0, 42, 0, 40);
 * console.log(err.message); // Cannot read from offset 42 of "events-0": offset is past the log end offset 40
 * ```
 */
export class OffsetOutOfRangeError extends ReelError {
  /**
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
 * @example
 * ```ts
 * import { CorruptRecordError } from "./errors.ts";
 * const err = new CorruptRecordError("CRC mismatch", { topic: "t", partition: 0, segment: "/d/t-0/00000000000000000000.log", position: 0 });
 * console.log(err.code); // CORRUPT_MESSAGE
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
   * @param detail what is wrong with the bytes
   * @param where where the bytes came from, when known
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
 * @example
 * ```ts
 * import { RecordTooLargeError } from "./errors.ts";
 * console.log(new RecordTooLargeError(2_000_000, 1_048_588).message);
 * ```
 */
export class RecordTooLargeError extends ReelError {
  /**
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
 * @example
 * ```ts
 * import { UnknownTopicOrPartitionError } from "./errors.ts";
 * console.log(new UnknownTopicOrPartitionError("events", 7).message);
 * ```
 */
export class UnknownTopicOrPartitionError extends ReelError {
  /**
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
 * @example
 * ```ts
 * import { InvalidTopicError } from "./errors.ts";
 * console.log(new InvalidTopicError("../x", "only [a-zA-Z0-9._-] are allowed").code);
 * ```
 */
export class InvalidTopicError extends ReelError {
  /**
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
 * @example
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
 * @example
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
 * @example
 * ```ts
 * import { TopicExistsError } from "./errors.ts";
 * console.log(new TopicExistsError("events").message);
 * ```
 */
export class TopicExistsError extends ReelError {
  /** @param topic the topic name */
  constructor(readonly topic: string) {
    super("TOPIC_ALREADY_EXISTS", `Cannot create topic "${topic}": it already exists`);
    this.name = "TopicExistsError";
  }
}

/**
 * A record batch uses a compression codec this build cannot read or write
 * (code `UNSUPPORTED_COMPRESSION_TYPE`, 76).
 *
 * @example
 * ```ts
 * import { UnsupportedCompressionTypeError } from "./errors.ts";
 * console.log(new UnsupportedCompressionTypeError("codec 7").message);
 * ```
 */
export class UnsupportedCompressionTypeError extends ReelError {
  /** @param codec the codec's name, or its number when unknown */
  constructor(readonly codec: string, detail = "no codec for it is available") {
    super("UNSUPPORTED_COMPRESSION_TYPE", `Cannot use compression type ${codec}: ${detail}`);
    this.name = "UnsupportedCompressionTypeError";
  }
}

/**
 * A record is not valid for the codec or the log: a line that is not JSON under the JSON codec,
 * invalid UTF-8 under the text codec, a negative header count (code `INVALID_RECORD`, 87).
 *
 * @example
 * ```ts
 * import { InvalidRecordError } from "./errors.ts";
 * console.log(new InvalidRecordError("Cannot parse line 3 as JSON: Unexpected token").code);
 * ```
 */
export class InvalidRecordError extends ReelError {
  /** @param message what is wrong, with where it was found */
  constructor(message: string, options?: ErrorOptions) {
    super("INVALID_RECORD", message, options);
    this.name = "InvalidRecordError";
  }
}

/**
 * A file operation failed, or the log was used after `close()` (code `KAFKA_STORAGE_ERROR`, 56).
 *
 * @example
 * ```ts
 * import { StorageError } from "./errors.ts";
 * console.log(new StorageError("Cannot append to \"t-0\": the log is closed").code);
 * ```
 */
export class StorageError extends ReelError {
  /** @param message the action that failed and why */
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
 * @example
 * ```ts
 * import { PartitionLockedError } from "./errors.ts";
 * const err = new PartitionLockedError("events", 0, { pid: 4242, hostname: "host-a", acquiredAt: 0 });
 * console.log(err.code, err.pid); // NOT_LEADER_OR_FOLLOWER 4242
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
 * @example
 * ```ts
 * import { CommitFailedError } from "./errors.ts";
 * const err = new CommitFailedError("billing", "events", 3, "the partition is assigned to another member");
 * console.log(err.code); // ILLEGAL_GENERATION
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
 * @example
 * ```ts
 * import { NoOffsetForPartitionError } from "./errors.ts";
 * console.log(new NoOffsetForPartitionError("billing", "events", 0).message);
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
 * @example
 * ```ts
 * import { InconsistentGroupProtocolError } from "./errors.ts";
 * console.log(new InconsistentGroupProtocolError("billing", ["range"], ["roundrobin"]).code);
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

/** Every error class, for `instanceof` checks: `err instanceof errors.CorruptRecordError`. */
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
};
