/**
 * Per-topic log settings, named after Kafka's topic configs in camelCase, with Kafka's defaults
 * where Kafka has one. Source: Kafka `TopicConfig.java`, `LogConfig.java`, `ServerLogConfigs.java`.
 *
 * @module
 */

/**
 * When the log forces appended bytes to stable storage.
 * - `"always"`: every append is fdatasync'ed before it is acknowledged (appends that arrive while
 *   a sync runs share the next one: group commit). Survives process crash and power loss.
 * - `"interval"`: appends are acknowledged once written to the OS; a timer fdatasyncs every
 *   `fsyncIntervalMs`. Survives a process crash; a power loss can lose the last interval.
 * - `"never"`: left to the OS, as Kafka does by default. Survives a process crash; a power loss
 *   can lose what the OS had not yet written back.
 */
export type FsyncPolicy = "always" | "interval" | "never";

/**
 * What happens to old records (Kafka's `cleanup.policy`):
 * - `"delete"`: whole old segments are deleted by `retentionMs` and `retentionBytes`;
 * - `"compact"`: the log cleaner keeps at least the last record of every key (see `log_cleaner.ts`);
 * - `"compact,delete"`: both.
 */
export type CleanupPolicy = "delete" | "compact" | "compact,delete";

/**
 * The settings of one partition's log (and of every partition of a topic).
 *
 * @example Resolve a topic config over the defaults
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveLogConfig } from "./log_config.ts";
 * const config = resolveLogConfig({ segmentBytes: 64 * 1024 * 1024, fsync: "always" });
 * assert.equal(config.segmentBytes, 64 * 1024 * 1024);
 * assert.equal(config.indexIntervalBytes, 4096); // Kafka's index.interval.bytes default
 * ```
 */
export interface LogConfig {
  /** Roll a new segment when the active one would grow past this many bytes (`segment.bytes`). @default 1073741824 */
  segmentBytes: number;
  /** Roll a new segment when the record timestamps in the active one span more than this, ms (`segment.ms`). @default 604800000 */
  segmentMs: number;
  /** Bytes of log between two offset-index entries (`index.interval.bytes`). @default 4096 */
  indexIntervalBytes: number;
  /** The largest record batch accepted, bytes (`max.message.bytes`). @default 1048588 */
  maxMessageBytes: number;
  /** When appended bytes are forced to disk. @default "interval" */
  fsync: FsyncPolicy;
  /** With `fsync: "interval"`, ms between two fsyncs (`flush.ms`). @default 1000 */
  fsyncIntervalMs: number;
  /** Delete segments whose records are all older than this, ms; -1 for no limit (`retention.ms`). @default 604800000 */
  retentionMs: number;
  /** Delete old segments while the partition is larger than this, bytes; -1 for no limit (`retention.bytes`). @default -1 */
  retentionBytes: number;
  /** Delete old segments, compact them, or both (`cleanup.policy`). @default "delete" */
  cleanupPolicy: CleanupPolicy;
  /**
   * Compact once the part of the log not yet cleaned is at least this share of the cleanable part,
   * 0 to 1 (`min.cleanable.dirty.ratio`). @default 0.5
   */
  minCleanableDirtyRatio: number;
  /** Keep a tombstone (a record with a null value) this long after it was first cleaned, ms (`delete.retention.ms`). @default 86400000 */
  deleteRetentionMs: number;
  /** Never compact records younger than this, ms (`min.compaction.lag.ms`). @default 0 */
  minCompactionLagMs: number;
  /** Compact records older than this whatever the dirty ratio, ms (`max.compaction.lag.ms`). @default 9223372036854775807 as Kafka, here `Number.MAX_SAFE_INTEGER` */
  maxCompactionLagMs: number;
  /**
   * Fill the active segment with zeros ahead of its data, 4 MiB at a time, and cut them off when
   * it rolls or closes (`preallocate`). Appends then overwrite blocks the file already has, so an
   * fdatasync need not record a new file size: for `fsync: "always"` with small appends (about
   * +25% appends/s on a plain ext4, 2× and more on a journaled one, in `bench/RESULTS.md`).
   * A write of 32 KiB or more grows the file itself, without zeros ahead of it. While the log is
   * open, its active `.log` file ends in zeros; a crash leaves them for the next open to cut, as it
   * cuts a torn write. Kafka fills nothing (a sparse file).
   * @default false
   */
  preallocate: boolean;
}

/** Kafka's defaults, except `fsync`, which Kafka leaves to the OS. */
export const DEFAULT_LOG_CONFIG: Readonly<LogConfig> = Object.freeze({
  segmentBytes: 1024 * 1024 * 1024,
  segmentMs: 7 * 24 * 60 * 60 * 1000,
  indexIntervalBytes: 4096,
  maxMessageBytes: 1048588,
  fsync: "interval",
  fsyncIntervalMs: 1000,
  retentionMs: 7 * 24 * 60 * 60 * 1000,
  retentionBytes: -1,
  cleanupPolicy: "delete",
  minCleanableDirtyRatio: 0.5,
  deleteRetentionMs: 24 * 60 * 60 * 1000,
  minCompactionLagMs: 0,
  maxCompactionLagMs: Number.MAX_SAFE_INTEGER,
  preallocate: false,
});

/**
 * Whether a cleanup policy compacts (Kafka's `LogConfig.compact`).
 *
 * @param policy a cleanup policy
 * @returns true for `"compact"` and `"compact,delete"`
 * @example The compacting policies
 * ```ts
 * import assert from "node:assert/strict";
 * import { compacts } from "./log_config.ts";
 * assert.equal(compacts("compact,delete"), true);
 * assert.equal(compacts("delete"), false);
 * ```
 */
export function compacts(policy: CleanupPolicy): boolean {
  return policy !== "delete";
}

/**
 * Whether a cleanup policy deletes old segments by retention (Kafka's `LogConfig.delete`).
 *
 * @param policy a cleanup policy
 * @returns true for `"delete"` and `"compact,delete"`
 * @example The deleting policies
 * ```ts
 * import assert from "node:assert/strict";
 * import { deletes } from "./log_config.ts";
 * assert.equal(deletes("compact"), false);
 * assert.equal(deletes("compact,delete"), true);
 * ```
 */
export function deletes(policy: CleanupPolicy): boolean {
  return policy !== "compact";
}

/**
 * Fills in defaults and checks every value.
 *
 * @param config the settings given (unknown keys are rejected)
 * @param base the settings to fill gaps from
 * @returns a complete, checked config
 * @throws {TypeError} for an unknown key or a value of the wrong type
 * @throws {RangeError} for a value out of range
 * @example Defaults and a refused value
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveLogConfig } from "./log_config.ts";
 * assert.equal(resolveLogConfig({ fsync: "never" }).segmentBytes, 1073741824); // Kafka's segment.bytes
 * assert.throws(() => resolveLogConfig({ segmentBytes: 100 }), RangeError);
 * assert.equal(resolveLogConfig({ cleanupPolicy: "compact" }).minCleanableDirtyRatio, 0.5);
 * assert.throws(() => resolveLogConfig({ minCleanableDirtyRatio: 2 }), RangeError);
 * ```
 */
export function resolveLogConfig(
  config: Partial<LogConfig> = {},
  base: LogConfig = DEFAULT_LOG_CONFIG,
): LogConfig {
  const out: LogConfig = { ...base };
  for (const [key, value] of Object.entries(config)) {
    if (value === undefined) continue;
    if (!(key in DEFAULT_LOG_CONFIG)) throw new TypeError(`Unknown topic config "${key}"`);
    if (key === "fsync") {
      if (value !== "always" && value !== "interval" && value !== "never") {
        throw new TypeError(
          `Invalid topic config fsync=${JSON.stringify(value)}: expected "always", "interval" or "never"`,
        );
      }
      out.fsync = value;
      continue;
    }
    if (key === "cleanupPolicy") {
      // Kafka accepts "delete,compact" too, in either order.
      const parts = typeof value === "string" ? value.split(",").map((p) => p.trim()).sort() : [];
      const policy = parts.join(",");
      if (policy !== "delete" && policy !== "compact" && policy !== "compact,delete") {
        throw new TypeError(
          `Invalid topic config cleanupPolicy=${
            JSON.stringify(value)
          }: expected "delete", "compact" or "compact,delete"`,
        );
      }
      out.cleanupPolicy = policy as CleanupPolicy;
      continue;
    }
    if (key === "minCleanableDirtyRatio") {
      if (typeof value !== "number" || !(value >= 0 && value <= 1)) {
        throw new RangeError(
          `Invalid topic config minCleanableDirtyRatio=${
            JSON.stringify(value)
          }: must be a number from 0 to 1`,
        );
      }
      out.minCleanableDirtyRatio = value;
      continue;
    }
    if (key === "preallocate") {
      if (typeof value !== "boolean") {
        throw new TypeError(
          `Invalid topic config preallocate=${JSON.stringify(value)}: expected true or false`,
        );
      }
      out.preallocate = value;
      continue;
    }
    if (typeof value !== "number" || !Number.isSafeInteger(value)) {
      throw new TypeError(`Invalid topic config ${key}=${JSON.stringify(value)}: expected an integer`);
    }
    (out as unknown as { [k: string]: number })[key] = value;
  }
  const atLeast = (key: keyof LogConfig, min: number) => {
    if ((out[key] as number) < min) {
      throw new RangeError(`Invalid topic config ${key}=${out[key]}: must be at least ${min}`);
    }
  };
  atLeast("segmentBytes", 1024);
  atLeast("segmentMs", 1);
  atLeast("indexIntervalBytes", 0);
  atLeast("maxMessageBytes", 61);
  atLeast("fsyncIntervalMs", 1);
  atLeast("retentionMs", -1);
  atLeast("retentionBytes", -1);
  atLeast("deleteRetentionMs", 0);
  atLeast("minCompactionLagMs", 0);
  atLeast("maxCompactionLagMs", 1);
  if (out.maxCompactionLagMs < out.minCompactionLagMs) {
    throw new RangeError(
      `Invalid topic config maxCompactionLagMs=${out.maxCompactionLagMs}: must be at least minCompactionLagMs=${out.minCompactionLagMs}`,
    );
  }
  if (out.segmentBytes > 0x7fffffff) {
    throw new RangeError(`Invalid topic config segmentBytes=${out.segmentBytes}: must fit in int32`);
  }
  return out;
}
