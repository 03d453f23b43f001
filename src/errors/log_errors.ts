/**
 * The errors of a partition's log and its files: an offset outside the log, an idempotent
 * producer's batch refused, a failed file operation, another writer's lock, a name that would leave
 * the log directory.
 *
 * @module
 */
import { ReelError } from "./reel_error.ts";

/**
 * A read asked for an offset outside `[logStartOffset, logEndOffset]` (code `OFFSET_OUT_OF_RANGE`, 1).
 *
 * @example Past the end and before the start
 * ```ts
 * import assert from "node:assert/strict";
 * import { OffsetOutOfRangeError } from "./log_errors.ts";
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
 * An idempotent producer's batch refused by its partition's producer state (KIP-98): its first
 * sequence does not follow the producer's last batch (code `OUT_OF_ORDER_SEQUENCE_NUMBER`, 45),
 * or its epoch is older than the producer's (code `INVALID_PRODUCER_EPOCH`, 47). Nothing is
 * appended.
 *
 * @example A gap in the sequence
 * ```ts
 * import assert from "node:assert/strict";
 * import { ProducerSequenceError } from "./log_errors.ts";
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
 * A file operation failed, or the log was used after `close()` (code `KAFKA_STORAGE_ERROR`, 56).
 *
 * @example A failed file operation keeps its cause
 * ```ts
 * import assert from "node:assert/strict";
 * import { StorageError } from "./log_errors.ts";
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
 * import { PartitionLockedError } from "./log_errors.ts";
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
 * A name given for a file or directory under the log directory cannot be one: it is empty, `.`,
 * `..`, holds `/`, `\` or NUL, or is too long (code `INVALID_REQUEST`, 42). Paths built from input
 * go through one validator (`src/runtime/log_paths.ts`), which throws this rather than touch
 * anything outside the log directory.
 *
 * @example A name that would leave the log directory
 * ```ts
 * import assert from "node:assert/strict";
 * import { InvalidPathError } from "./log_errors.ts";
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
