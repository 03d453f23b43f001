/**
 * A consumer's configuration (Kafka's `ConsumerConfig`): the options a `Consumer` takes, checked
 * and with their defaults filled in, once, when it is made.
 *
 * @module
 */
import { checkIsolationLevel, type IsolationLevel } from "../log/transaction_index.ts";
import { BUILT_IN_ASSIGNORS, type PartitionAssignor } from "./partition_assignor.ts";

/** What a consumer does where it has no valid offset to start from (Kafka's `auto.offset.reset`). */
export type AutoOffsetReset = "earliest" | "latest" | "none";

/** Options of `Consumer`. Kafka's consumer configs, in camelCase. */
export interface ConsumerOptions {
  /**
   * The consumer group (`group.id`): needed to `subscribe` and to commit offsets. Members of a
   * group, in this process and in other processes on the same directory, share its partitions.
   */
  groupId?: string;
  /** Names the consumer in member ids and `describeGroup` (`client.id`). @default "reel-consumer" */
  clientId?: string;
  /**
   * Where to start in a partition without a committed offset, or when the position falls outside
   * the log (retention deleted it): `"earliest"` (the log start offset), `"latest"` (the log end:
   * only new records), `"none"` (poll throws {@linkcode NoOffsetForPartitionError} or
   * {@linkcode OffsetOutOfRangeError}). @default "latest"
   */
  autoOffsetReset?: AutoOffsetReset;
  /**
   * Commit the positions every `autoCommitIntervalMs` (from within poll, so only records already
   * returned — and, with iteration, already processed — are committed), before partitions are
   * revoked, and on close (`enable.auto.commit`). Needs `groupId`. @default true with a groupId
   */
  enableAutoCommit?: boolean;
  /** How often auto-commit commits, ms (`auto.commit.interval.ms`). @default 5000 */
  autoCommitIntervalMs?: number;
  /** Remove a member that has not heartbeated for this long, ms (`session.timeout.ms`). @default 45000 */
  sessionTimeoutMs?: number;
  /** How often a member heartbeats and looks for group changes, ms (`heartbeat.interval.ms`). @default 3000 */
  heartbeatIntervalMs?: number;
  /**
   * Stop heartbeating (so the group moves the partitions on) when the application has not polled
   * for this long, ms (`max.poll.interval.ms`). @default 300000
   */
  maxPollIntervalMs?: number;
  /** The most records one `poll()` returns (`max.poll.records`). @default 500 */
  maxPollRecords?: number;
  /** Bytes read from a partition at a time (`max.partition.fetch.bytes`). @default 1048576 */
  maxBytes?: number;
  /**
   * Which records poll returns (`isolation.level`): `"read_uncommitted"` every record below the high
   * watermark; `"read_committed"` only records below the last stable offset, without those of
   * aborted transactions (a log written by Kafka's transactional producers); the end offsets and
   * `"latest"` are then the last stable offset too. Control batches are never returned.
   * @default "read_uncommitted"
   */
  isolationLevel?: IsolationLevel;
  /**
   * The assignors this member supports, most preferred first: `"range"`, `"roundrobin"`, `"sticky"`, or
   * your own {@linkcode PartitionAssignor} (every member must know it by name)
   * (`partition.assignment.strategy`). @default ["range", "roundrobin"]
   */
  partitionAssignors?: (string | PartitionAssignor)[];
}

/** Options of `Consumer.poll()`. */
export interface PollOptions {
  /** Wait at most this long for a record, ms; 0 returns at once. @default 0 */
  timeoutMs?: number;
  /** The most records to return. @default the consumer's `maxPollRecords` */
  maxRecords?: number;
}

/** A consumer's options, checked, with every default filled in. */
export interface ConsumerConfig {
  /** The consumer group (`group.id`), if any. */
  readonly groupId: string | undefined;
  /** The client id (`client.id`). */
  readonly clientId: string;
  /** The reset policy (`auto.offset.reset`). */
  readonly autoOffsetReset: AutoOffsetReset;
  /** Whether positions are committed automatically (`enable.auto.commit`). */
  readonly enableAutoCommit: boolean;
  /** ms (`auto.commit.interval.ms`). */
  readonly autoCommitIntervalMs: number;
  /** ms (`session.timeout.ms`). */
  readonly sessionTimeoutMs: number;
  /** ms (`heartbeat.interval.ms`). */
  readonly heartbeatIntervalMs: number;
  /** ms (`max.poll.interval.ms`). */
  readonly maxPollIntervalMs: number;
  /** The most records one poll returns (`max.poll.records`). */
  readonly maxPollRecords: number;
  /** Bytes read from a partition at a time (`max.partition.fetch.bytes`). */
  readonly maxBytes: number;
  /** Whether the isolation level is `read_committed`. */
  readonly readCommitted: boolean;
  /** The names of the assignors this member supports, most preferred first. */
  readonly assignorNames: readonly string[];
  /** Every assignor this member knows, by name: the built-in ones and its own. */
  readonly assignors: Readonly<Record<string, PartitionAssignor>>;
}

const DEFAULT_ASSIGNORS = ["range", "roundrobin"];

/**
 * A whole number option of at least `min`, or its default.
 *
 * @param name the option's name, for the error
 * @param value the value given
 * @param fallback the default
 * @param min the smallest value allowed
 * @returns the value, or the default when none was given
 * @throws {RangeError} for anything else
 * @example A default, a value, and one out of range
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkPositive } from "./consumer_config.ts";
 * assert.equal(checkPositive("maxPollRecords", undefined, 500), 500);
 * assert.equal(checkPositive("maxPollRecords", 10, 500), 10);
 * assert.throws(() => checkPositive("maxPollRecords", 0, 500), RangeError);
 * ```
 */
export function checkPositive(name: string, value: number | undefined, fallback: number, min = 1): number {
  const v = value ?? fallback;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) {
    throw new RangeError(`Invalid ${name} ${String(value)}: expected a whole number of at least ${min}`);
  }
  return v;
}

/**
 * Checks a consumer's options and fills in the defaults.
 *
 * @param options the options given
 * @returns the configuration
 * @throws {TypeError} for an invalid assignor or option type, or auto-commit without a groupId
 * @throws {RangeError} for an option out of range
 * @example Defaults follow Kafka's, auto-commit only with a group
 * ```ts
 * import assert from "node:assert/strict";
 * import { consumerConfig } from "./consumer_config.ts";
 * const config = consumerConfig({ groupId: "billing" });
 * assert.equal(config.autoOffsetReset, "latest");
 * assert.equal(config.enableAutoCommit, true);
 * assert.deepEqual(config.assignorNames, ["range", "roundrobin"]);
 * assert.equal(consumerConfig({}).enableAutoCommit, false);
 * assert.throws(() => consumerConfig({ enableAutoCommit: true }), TypeError);
 * assert.throws(() => consumerConfig({ maxPollRecords: 0 }), RangeError);
 * ```
 */
export function consumerConfig(options: ConsumerOptions): ConsumerConfig {
  const groupId = options.groupId;
  const clientId = options.clientId ?? "reel-consumer";
  if (typeof clientId !== "string") throw new TypeError(`Invalid clientId ${String(clientId)}`);
  const reset = options.autoOffsetReset ?? "latest";
  if (reset !== "earliest" && reset !== "latest" && reset !== "none") {
    throw new TypeError(
      `Invalid autoOffsetReset ${JSON.stringify(reset)}: expected "earliest", "latest" or "none"`,
    );
  }
  const enableAutoCommit = options.enableAutoCommit ?? groupId !== undefined;
  if (enableAutoCommit && groupId === undefined) {
    throw new TypeError("Invalid enableAutoCommit true: auto-commit needs a groupId");
  }
  const autoCommitIntervalMs = checkPositive("autoCommitIntervalMs", options.autoCommitIntervalMs, 5000);
  const sessionTimeoutMs = checkPositive("sessionTimeoutMs", options.sessionTimeoutMs, 45_000);
  const heartbeatIntervalMs = checkPositive("heartbeatIntervalMs", options.heartbeatIntervalMs, 3000);
  const maxPollIntervalMs = checkPositive("maxPollIntervalMs", options.maxPollIntervalMs, 300_000);
  const maxPollRecords = checkPositive("maxPollRecords", options.maxPollRecords, 500);
  const maxBytes = checkPositive("maxBytes", options.maxBytes, 1 << 20);
  const readCommitted = checkIsolationLevel(options.isolationLevel) === "read_committed";
  const assignors: Record<string, PartitionAssignor> = { ...BUILT_IN_ASSIGNORS };
  const assignorNames: string[] = [];
  for (const a of options.partitionAssignors ?? DEFAULT_ASSIGNORS) {
    if (typeof a === "string") {
      if (!(a in BUILT_IN_ASSIGNORS)) {
        throw new TypeError(
          `Unknown partition assignor ${
            JSON.stringify(a)
          }: expected "range", "roundrobin" or an assignor object`,
        );
      }
      assignorNames.push(a);
    } else if (a && typeof a.name === "string" && typeof a.assign === "function") {
      assignors[a.name] = a;
      assignorNames.push(a.name);
    } else {
      throw new TypeError("Invalid partition assignor: expected a name or { name, assign }");
    }
  }
  if (assignorNames.length === 0) {
    throw new RangeError("Invalid partitionAssignors: the list is empty");
  }
  return {
    groupId,
    clientId,
    autoOffsetReset: reset,
    enableAutoCommit,
    autoCommitIntervalMs,
    sessionTimeoutMs,
    heartbeatIntervalMs,
    maxPollIntervalMs,
    maxPollRecords,
    maxBytes,
    readCommitted,
    assignorNames,
    assignors,
  };
}
