/**
 * The base of reel's errors: {@linkcode ReelError}, and the Kafka error names and numeric codes it
 * carries ({@linkcode KAFKA_ERROR_CODES}).
 *
 * Source for the codes: Apache Kafka `clients/src/main/java/org/apache/kafka/common/protocol/Errors.java`.
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
 * import { KAFKA_ERROR_CODES } from "./reel_error.ts";
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
 * import { ReelError } from "./reel_error.ts";
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
