/**
 * The mapping between reel's shapes and @platformatic/kafka's: records both ways, topic configs,
 * and Kafka error names out of the client's nested errors. Internal to `src/cluster/`.
 *
 * @module
 */
import type { KafkaRecord, MessageToProduce, RecordsBatch } from "@platformatic/kafka";
import { Buffer } from "node:buffer";
import { InvalidConfigError, UnsupportedRuntimeError } from "../errors.ts";
import { runtimeVersion, versionAtLeast } from "../runtime/runtime_version.ts";
import type { ConsumedRecord } from "../record/consumed_record.ts";
import { normalizeHeaders, type ProducerRecord, toBytes } from "../record/producer_record.ts";
import type { RecordHeader } from "../record/record.ts";
import type { TopicConfig } from "../topic/log_directory.ts";

/** The client module, loaded on the first `connect()` (so `open()` never loads it). */
export type KafkaModule = typeof import("@platformatic/kafka");

let loaded: Promise<KafkaModule> | undefined;

/** The least Node the client runs on (its package.json's `engines`; it calls `Promise.withResolvers`). */
export const KAFKA_CLIENT_MIN_NODE = "22.22.0";

/**
 * Loads @platformatic/kafka once.
 *
 * @throws {UnsupportedRuntimeError} on a Node older than {@linkcode KAFKA_CLIENT_MIN_NODE}, before
 *   anything is loaded (the client would fail later, on its first request, with a `TypeError`)
 */
export function loadKafka(): Promise<KafkaModule> {
  const { name, version } = runtimeVersion();
  if (name === "node" && !versionAtLeast(version, KAFKA_CLIENT_MIN_NODE)) {
    return Promise.reject(
      new UnsupportedRuntimeError("connect()", name, version, "Node 22.22 or later, Deno or Bun"),
    );
  }
  return loaded ??= import("@platformatic/kafka");
}

/**
 * Kafka's error names (`apiId`: `NOT_LEADER_OR_FOLLOWER`, `TOPIC_ALREADY_EXISTS`, …) anywhere in one
 * of the client's errors (its `MultipleErrors` nest them in `errors`).
 */
export function kafkaErrorNames(err: unknown, out: Set<string> = new Set()): Set<string> {
  if (err === null || typeof err !== "object") return out;
  const e = err as { apiId?: unknown; errors?: unknown; cause?: unknown };
  if (typeof e.apiId === "string") out.add(e.apiId);
  if (Array.isArray(e.errors)) { for (const inner of e.errors) kafkaErrorNames(inner, out); }
  if (e.cause) kafkaErrorNames(e.cause, out);
  return out;
}

/** Whether one of the client's own error codes (`PLT_KFK_AUTHENTICATION`, …) is anywhere in an error. */
export function hasClientErrorCode(err: unknown, code: string, depth = 0): boolean {
  if (err === null || typeof err !== "object" || depth > 8) return false;
  const e = err as { code?: unknown; errors?: unknown; cause?: unknown };
  if (e.code === code) return true;
  if (Array.isArray(e.errors) && e.errors.some((inner) => hasClientErrorCode(inner, code, depth + 1))) {
    return true;
  }
  return e.cause !== undefined && hasClientErrorCode(e.cause, code, depth + 1);
}

/** Bytes as a Buffer over the same memory (the client's serializers take Buffers). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * A reel `ProducerRecord` as the client's message, at a chosen partition and timestamp. Headers go
 * in a `Map` keyed by distinct Buffer objects, so repeated header keys stay repeated and in order.
 */
export function toMessage(
  topic: string,
  record: ProducerRecord,
  partition: number,
  timestamp: number,
): MessageToProduce {
  const key = toBytes(record.key);
  const value = toBytes(record.value);
  const headers = new Map<Buffer, Buffer>();
  for (const h of normalizeHeaders(record.headers)) {
    headers.set(Buffer.from(h.key), h.value === null ? null as unknown as Buffer : asBuffer(h.value));
  }
  return {
    topic,
    partition,
    key: key === null ? undefined : asBuffer(key),
    value: value === null ? null as unknown as Buffer : asBuffer(value),
    headers,
    timestamp: BigInt(timestamp),
  };
}

/** A record's timestamp as a number of ms (a Date, a number, or now). */
export function recordTimestamp(record: ProducerRecord, now: number): number {
  const t = record.timestamp;
  if (t === undefined) return now;
  return typeof t === "number" ? t : t.getTime();
}

const decoder = new TextDecoder();
/** Bit 3 of a batch's attributes: LogAppendTime (the batch's maxTimestamp is every record's). */
const TIMESTAMP_TYPE_LOG_APPEND_TIME = 0x08;
/** Bit 5: a control batch (transaction markers), never delivered. */
export const CONTROL_BATCH = 0x20;
/** Bit 4: a transactional batch. */
export const TRANSACTIONAL_BATCH = 0x10;

/** One record of a fetched batch as reel's `ConsumedRecord`. */
export function toConsumedRecord(
  topic: string,
  partition: number,
  batch: RecordsBatch,
  record: KafkaRecord,
): ConsumedRecord {
  const timestamp = (batch.attributes & TIMESTAMP_TYPE_LOG_APPEND_TIME) !== 0
    ? batch.maxTimestamp
    : batch.firstTimestamp + record.timestampDelta;
  const headers: RecordHeader[] = record.headers.map(([k, v]) => ({
    key: k === null ? "" : decoder.decode(k),
    value: v === null ? null : new Uint8Array(v.buffer, v.byteOffset, v.byteLength),
  }));
  return {
    topic,
    partition,
    offset: Number(batch.firstOffset) + record.offsetDelta,
    timestamp: Number(timestamp),
    key: record.key === null
      ? null
      : new Uint8Array(record.key.buffer, record.key.byteOffset, record.key.length),
    value: record.value === null
      ? null
      : new Uint8Array(record.value.buffer, record.value.byteOffset, record.value.length),
    headers,
  };
}

/** reel's numeric topic configs and Kafka's names for them (Kafka `TopicConfig.java`). */
const NUMERIC: ReadonlyArray<readonly [keyof TopicConfig, string]> = [
  ["segmentBytes", "segment.bytes"],
  ["segmentMs", "segment.ms"],
  ["indexIntervalBytes", "index.interval.bytes"],
  ["maxMessageBytes", "max.message.bytes"],
  ["retentionMs", "retention.ms"],
  ["retentionBytes", "retention.bytes"],
  ["deleteRetentionMs", "delete.retention.ms"],
  ["minCompactionLagMs", "min.compaction.lag.ms"],
  ["maxCompactionLagMs", "max.compaction.lag.ms"],
];

/**
 * Kafka's smallest `segment.bytes` (`LogConfig.java` in Kafka 4.x: `atLeast(1024 * 1024)`); a
 * smaller one is refused before anything is sent.
 */
export const KAFKA_MIN_SEGMENT_BYTES = 1024 * 1024;

/** reel's config names that Kafka has a topic config for. */
const KNOWN_KEYS: ReadonlySet<string> = new Set([
  ...NUMERIC.map(([k]) => k),
  "fsync",
  "fsyncIntervalMs",
  "cleanupPolicy",
  "minCleanableDirtyRatio",
  "preallocate",
]);

function checkKnownKeys(topic: string, keys: readonly string[]): void {
  for (const key of keys) {
    if (!KNOWN_KEYS.has(key)) throw new InvalidConfigError(topic, `${key}: Kafka has no topic config for it`);
  }
}

/**
 * reel's topic config as Kafka topic configs: the numeric ones by name; `fsync: "always"` as
 * `flush.messages=1` (an fsync before each acknowledgement), `fsync: "interval"` as `flush.ms`
 * (`fsyncIntervalMs`, reel's 1000 ms by default), `"never"` as Kafka's default (nothing); the
 * compaction configs as `cleanup.policy`, `min.cleanable.dirty.ratio`, `delete.retention.ms`,
 * `min.compaction.lag.ms` and `max.compaction.lag.ms` (reel's `Number.MAX_SAFE_INTEGER` as
 * Kafka's `Long.MAX_VALUE`, the default); `preallocate` as `preallocate` ("true" or "false").
 *
 * @throws {InvalidConfigError} for a config Kafka has no topic config for, or a value it refuses
 */
export function kafkaTopicConfigs(topic: string, config: Partial<TopicConfig>): Record<string, string> {
  const out: Record<string, string> = {};
  checkKnownKeys(topic, Object.keys(config));
  for (const [key, name] of NUMERIC) {
    const v = config[key];
    if (v === undefined) continue;
    if (typeof v !== "number" || !Number.isSafeInteger(v)) {
      throw new InvalidConfigError(topic, `${key}: ${String(v)} is not a whole number`);
    }
    out[name] = key === "maxCompactionLagMs" && v >= Number.MAX_SAFE_INTEGER
      ? "9223372036854775807"
      : String(v);
  }
  if (config.cleanupPolicy !== undefined) {
    const policy = config.cleanupPolicy;
    if (policy !== "delete" && policy !== "compact" && policy !== "compact,delete") {
      throw new InvalidConfigError(topic, `cleanupPolicy: unknown policy ${String(policy)}`);
    }
    out["cleanup.policy"] = policy;
  }
  if (config.minCleanableDirtyRatio !== undefined) {
    const ratio = config.minCleanableDirtyRatio;
    if (typeof ratio !== "number" || !(ratio >= 0 && ratio <= 1)) {
      throw new InvalidConfigError(topic, `minCleanableDirtyRatio: ${String(ratio)} is not from 0 to 1`);
    }
    out["min.cleanable.dirty.ratio"] = String(ratio);
  }
  if (config.preallocate !== undefined) {
    if (typeof config.preallocate !== "boolean") {
      throw new InvalidConfigError(topic, `preallocate: ${String(config.preallocate)} is not true or false`);
    }
    out.preallocate = String(config.preallocate);
  }
  if (config.segmentBytes !== undefined && config.segmentBytes < KAFKA_MIN_SEGMENT_BYTES) {
    throw new InvalidConfigError(
      topic,
      `segmentBytes: Kafka's segment.bytes is at least ${KAFKA_MIN_SEGMENT_BYTES}, not ${config.segmentBytes}`,
    );
  }
  const fsync = config.fsync ?? (config.fsyncIntervalMs !== undefined ? "interval" : undefined);
  if (fsync === "always") out["flush.messages"] = "1";
  else if (fsync === "interval") out["flush.ms"] = String(config.fsyncIntervalMs ?? 1000);
  else if (fsync !== undefined && fsync !== "never") {
    throw new InvalidConfigError(topic, `fsync: unknown policy ${String(fsync)}`);
  }
  return out;
}

/** Kafka's `flush.messages` and `flush.ms` default: Long.MAX_VALUE, never (`TopicConfig.java`). */
const KAFKA_NEVER = "9223372036854775807";

/** One change of IncrementalAlterConfigs (KIP-339): set a topic config, or delete it (Kafka's default again). */
export type KafkaConfigChange = { name: string; op: "set"; value: string } | { name: string; op: "delete" };

/**
 * reel's config changes (`alterTopicConfig`'s: a value, or `null` to reset) as Kafka's
 * IncrementalAlterConfigs operations. `fsync: "always"` sets `flush.messages=1` and deletes
 * `flush.ms`; `"interval"` sets `flush.ms` (`fsyncIntervalMs`, or 1000) and deletes
 * `flush.messages`; `"never"` and `null` delete both.
 *
 * @throws {InvalidConfigError} for a config Kafka has no topic config for, or a value it refuses
 */
export function kafkaConfigChanges(
  topic: string,
  changes: { [K in keyof TopicConfig]?: TopicConfig[K] | null },
): KafkaConfigChange[] {
  const set: Partial<TopicConfig> = {};
  const reset: string[] = [];
  for (const [key, value] of Object.entries(changes ?? {})) {
    if (value === null) reset.push(key);
    else (set as Record<string, unknown>)[key] = value;
  }
  checkKnownKeys(topic, reset);
  const mapped = kafkaTopicConfigs(topic, set); // the values checked as createTopic checks them
  const out: KafkaConfigChange[] = Object.entries(mapped).map(([name, value]) => ({
    name,
    op: "set",
    value,
  }));
  const fsync = set.fsync ?? (set.fsyncIntervalMs !== undefined ? "interval" : undefined);
  if (fsync === "always") out.push({ name: "flush.ms", op: "delete" });
  if (fsync === "interval") out.push({ name: "flush.messages", op: "delete" });
  if (fsync === "never" || reset.includes("fsync")) {
    out.push({ name: "flush.messages", op: "delete" }, { name: "flush.ms", op: "delete" });
  }
  for (const key of reset) {
    const name = NUMERIC.find(([k]) => k === key)?.[1];
    if (name) out.push({ name, op: "delete" });
    else if (key === "cleanupPolicy") out.push({ name: "cleanup.policy", op: "delete" });
    else if (key === "minCleanableDirtyRatio") out.push({ name: "min.cleanable.dirty.ratio", op: "delete" });
    else if (key === "preallocate") out.push({ name: "preallocate", op: "delete" });
    else if (key === "fsyncIntervalMs" && !reset.includes("fsync")) {
      out.push({ name: "flush.ms", op: "delete" });
    }
  }
  return out;
}

/**
 * A topic's Kafka configs (DescribeConfigs' names and values) as reel's: the numeric ones by name,
 * `flush.messages=1` as `fsync: "always"`, a `flush.ms` other than Kafka's never as `"interval"`
 * with `fsyncIntervalMs`, otherwise `"never"` (Kafka's default: the page cache, replication for
 * durability).
 */
export function reelTopicConfig(
  configs: readonly { name: string; value?: string | null }[],
): Partial<TopicConfig> {
  const byName = new Map(configs.map((c) => [c.name, c.value]));
  const out: Partial<TopicConfig> = {};
  for (const [key, name] of NUMERIC) {
    const v = byName.get(name);
    if (v !== undefined && v !== null && Number.isSafeInteger(Number(v))) {
      (out as Record<string, number>)[key] = Number(v);
    }
  }
  const preallocate = byName.get("preallocate");
  if (preallocate === "true" || preallocate === "false") out.preallocate = preallocate === "true";
  const messages = byName.get("flush.messages");
  const ms = byName.get("flush.ms");
  if (messages === "1") out.fsync = "always";
  else if (ms !== undefined && ms !== null && ms !== KAFKA_NEVER && Number.isSafeInteger(Number(ms))) {
    out.fsync = "interval";
    out.fsyncIntervalMs = Number(ms);
  } else out.fsync = "never";
  return out;
}
