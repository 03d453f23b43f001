/**
 * Kafka's topic config names (`retention.ms`, `flush.messages`, …; Kafka `TopicConfig.java`) to
 * reel's {@linkcode LogConfig} and back, for CreateTopics and DescribeConfigs.
 *
 * @module
 */
import type { CleanupPolicy, LogConfig } from "../log/log_config.ts";

/** The Kafka topic configs reel keeps, and the {@linkcode LogConfig} key of each. */
const NUMERIC: Readonly<Record<string, keyof LogConfig>> = {
  "segment.bytes": "segmentBytes",
  "segment.ms": "segmentMs",
  "index.interval.bytes": "indexIntervalBytes",
  "max.message.bytes": "maxMessageBytes",
  "retention.ms": "retentionMs",
  "retention.bytes": "retentionBytes",
  "flush.ms": "fsyncIntervalMs",
  "delete.retention.ms": "deleteRetentionMs",
  "min.compaction.lag.ms": "minCompactionLagMs",
  "max.compaction.lag.ms": "maxCompactionLagMs",
};

/** Kafka's `Long.MAX_VALUE`, the default of `max.compaction.lag.ms`: reel's `Number.MAX_SAFE_INTEGER`. */
const LONG_MAX = "9223372036854775807";

/** Configs accepted with only the value Kafka's own default has (single node, producer's codec). */
const FIXED: Readonly<Record<string, readonly string[]>> = {
  "compression.type": ["producer"],
  "message.timestamp.type": ["CreateTime"],
  "min.insync.replicas": ["1"],
  "unclean.leader.election.enable": ["false", "true"],
};

/**
 * Turns Kafka topic configs into a partial {@linkcode LogConfig}. `flush.messages=1` means an
 * fsync before each acknowledgement (`fsync: "always"`); `flush.ms` sets the interval of
 * `fsync: "interval"`. The compaction configs (`cleanup.policy`, `min.cleanable.dirty.ratio`,
 * `delete.retention.ms`, `min.compaction.lag.ms`, `max.compaction.lag.ms`) map to theirs, and
 * `preallocate` ("true" or "false") to `preallocate`; values are range-checked where the config is
 * applied (`resolveLogConfig`).
 *
 * @param configs name and value pairs, as CreateTopics carries them
 * @returns the config, or the first problem as text (answered with INVALID_CONFIG)
 * @example Kafka's topic configs to reel's; an unsupported one is refused
 * ```ts
 * import assert from "node:assert/strict";
 * import { logConfigFromKafka } from "./topic_configs.ts";
 * assert.deepEqual(logConfigFromKafka([{ name: "retention.ms", value: "1000" }]), { retentionMs: 1000 });
 * assert.deepEqual(logConfigFromKafka([{ name: "cleanup.policy", value: "compact" }]), { cleanupPolicy: "compact" });
 * assert.deepEqual(logConfigFromKafka([{ name: "min.cleanable.dirty.ratio", value: "0.01" }]), {
 *   minCleanableDirtyRatio: 0.01,
 * });
 * assert.equal(typeof logConfigFromKafka([{ name: "cleanup.policy", value: "shred" }]), "string");
 * assert.equal(typeof logConfigFromKafka([{ name: "compression.type", value: "gzip" }]), "string");
 * ```
 */
export function logConfigFromKafka(
  configs: readonly { name: string; value: string | null }[],
): Partial<LogConfig> | string {
  const out: Partial<LogConfig> = {};
  for (const { name, value } of configs) {
    if (value === null) continue;
    const key = NUMERIC[name];
    if (key !== undefined) {
      if (key === "maxCompactionLagMs" && value === LONG_MAX) {
        out.maxCompactionLagMs = Number.MAX_SAFE_INTEGER;
        continue;
      }
      const n = Number(value);
      if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(n)) {
        return `Invalid value ${value} for config ${name}`;
      }
      (out as Record<string, number>)[key] = n;
      if (key === "fsyncIntervalMs") out.fsync ??= "interval";
    } else if (name === "cleanup.policy") {
      // Kafka's list config: "compact", "delete", "compact,delete" or "delete,compact".
      const parts = value.split(",").map((p) => p.trim()).sort();
      const policy = parts.join(",");
      if (policy !== "delete" && policy !== "compact" && policy !== "compact,delete") {
        return `Invalid value ${value} for config ${name}: expected delete, compact or compact,delete`;
      }
      out.cleanupPolicy = policy as CleanupPolicy;
    } else if (name === "min.cleanable.dirty.ratio") {
      const n = Number(value);
      if (!/^\d*\.?\d+(e-?\d+)?$/i.test(value) || !Number.isFinite(n)) {
        return `Invalid value ${value} for config ${name}`;
      }
      out.minCleanableDirtyRatio = n;
    } else if (name === "preallocate") {
      if (value !== "true" && value !== "false") {
        return `Invalid value ${value} for config ${name}: expected true or false`;
      }
      out.preallocate = value === "true";
    } else if (name === "flush.messages") {
      if (value === "1") out.fsync = "always";
      else if (!/^\d+$/.test(value)) return `Invalid value ${value} for config ${name}`;
    } else if (FIXED[name] !== undefined) {
      if (!FIXED[name].includes(value)) {
        return `Unsupported value ${value} for config ${name}: reel supports ${FIXED[name].join(", ")}`;
      }
    } else {
      return `Unknown or unsupported topic config ${name}`;
    }
  }
  return out;
}

/**
 * A {@linkcode LogConfig} as Kafka topic configs (for DescribeConfigs).
 *
 * @param config the topic's config
 * @returns name and value pairs, sorted by name
 * @example reel's config as Kafka's topic configs
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_LOG_CONFIG } from "../log/log_config.ts";
 * import { logConfigToKafka } from "./topic_configs.ts";
 * const configs = logConfigToKafka(DEFAULT_LOG_CONFIG);
 * assert.equal(configs.find((c) => c.name === "retention.ms")?.value, "604800000");
 * ```
 */
export function logConfigToKafka(config: Readonly<LogConfig>): { name: string; value: string }[] {
  const out = Object.entries(NUMERIC).map(([name, key]) => ({
    name,
    value: key === "maxCompactionLagMs" && config[key] >= Number.MAX_SAFE_INTEGER
      ? LONG_MAX
      : String(config[key]),
  }));
  out.push({ name: "cleanup.policy", value: config.cleanupPolicy });
  out.push({ name: "min.cleanable.dirty.ratio", value: String(config.minCleanableDirtyRatio) });
  out.push({ name: "flush.messages", value: config.fsync === "always" ? "1" : "9223372036854775807" });
  out.push({ name: "preallocate", value: String(config.preallocate) });
  for (const [name, values] of Object.entries(FIXED)) out.push({ name, value: values[0] });
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * The {@linkcode LogConfig} keys a Kafka topic config sets (for IncrementalAlterConfigs' DELETE,
 * which resets them): `undefined` for a config reel does not keep.
 *
 * @param name the Kafka config name
 * @returns the keys, or `undefined`
 * @example Which reel keys `flush.messages` and `retention.ms` stand for
 * ```ts
 * import assert from "node:assert/strict";
 * import { logConfigKeysOf } from "./topic_configs.ts";
 * assert.deepEqual(logConfigKeysOf("retention.ms"), ["retentionMs"]);
 * assert.deepEqual(logConfigKeysOf("flush.messages"), ["fsync"]);
 * assert.equal(logConfigKeysOf("colour"), undefined);
 * ```
 */
export function logConfigKeysOf(name: string): (keyof LogConfig)[] | undefined {
  if (NUMERIC[name] !== undefined) {
    return name === "flush.ms" ? ["fsyncIntervalMs", "fsync"] : [NUMERIC[name]];
  }
  if (name === "flush.messages") return ["fsync"];
  if (name === "cleanup.policy") return ["cleanupPolicy"];
  if (name === "min.cleanable.dirty.ratio") return ["minCleanableDirtyRatio"];
  if (name === "preallocate") return ["preallocate"];
  if (FIXED[name] !== undefined) return [];
  return undefined;
}
