/**
 * The errors of consumer groups and committed offsets: a bad group id, a refused commit, no offset
 * to start from, no assignor in common, a group with live members.
 *
 * @module
 */
import { ReelError } from "./reel_error.ts";

/**
 * A consumer group id cannot be used: it is empty, not a well-formed string, or too long to be a
 * directory name once encoded (code `INVALID_GROUP_ID`, 24). Any other string is a legal group id,
 * as in Kafka.
 *
 * @example An empty group id
 * ```ts
 * import assert from "node:assert/strict";
 * import { InvalidGroupIdError } from "./group_errors.ts";
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
 * A consumer's offset commit was refused because the member no longer owns the partition: the
 * group rebalanced and gave it to another member (code `ILLEGAL_GENERATION`, 22), or the member
 * was removed from the group after missing its session timeout (code `UNKNOWN_MEMBER_ID`, 25).
 * Kafka's `CommitFailedException`. The records since the last successful commit will be
 * delivered again to the partition's new owner (at-least-once).
 *
 * @example A commit after the partition moved, and after the member was removed
 * ```ts
 * import assert from "node:assert/strict";
 * import { CommitFailedError } from "./group_errors.ts";
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
 * import { NoOffsetForPartitionError } from "./group_errors.ts";
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
 * import { InconsistentGroupProtocolError } from "./group_errors.ts";
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
 * A consumer group cannot be deleted while it has live members (code `NON_EMPTY_GROUP`, 68, as
 * Kafka's DeleteGroups answers).
 *
 * @example Its Kafka code
 * ```ts
 * import assert from "node:assert/strict";
 * import { GroupNotEmptyError } from "./group_errors.ts";
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
