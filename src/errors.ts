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
 * The classes live in `src/errors/`, one file a family; this module re-exports them all.
 *
 * @module
 */
import { ReelError } from "./errors/reel_error.ts";
import {
  CorruptRecordError,
  InvalidRecordError,
  RecordTooLargeError,
  UnsupportedCompressionTypeError,
} from "./errors/record_errors.ts";
import {
  InvalidPathError,
  OffsetOutOfRangeError,
  PartitionLockedError,
  ProducerSequenceError,
  StorageError,
} from "./errors/log_errors.ts";
import {
  InvalidConfigError,
  InvalidPartitionsError,
  InvalidTopicError,
  TopicExistsError,
  UnknownTopicOrPartitionError,
} from "./errors/topic_errors.ts";
import {
  CommitFailedError,
  GroupNotEmptyError,
  InconsistentGroupProtocolError,
  InvalidGroupIdError,
  NoOffsetForPartitionError,
} from "./errors/group_errors.ts";
import { SaslAuthenticationError, UnsupportedRuntimeError } from "./errors/connection_errors.ts";

export { KAFKA_ERROR_CODES, type KafkaErrorName, ReelError } from "./errors/reel_error.ts";
export * from "./errors/record_errors.ts";
export * from "./errors/log_errors.ts";
export * from "./errors/topic_errors.ts";
export * from "./errors/group_errors.ts";
export * from "./errors/connection_errors.ts";

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
