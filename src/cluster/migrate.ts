/**
 * `migrate()`: moves a log directory's topics into a Kafka cluster, for `reel migrate`: the topics
 * (partition counts, configs), their records (keys, values, headers, timestamps) partition by
 * partition in order, and every consumer group's committed offsets.
 *
 * Resuming: a partition's copy in Kafka is a prefix of the source's records (only `migrate`
 * writes to it), so a second run counts what Kafka has (its high watermark) and copies only the
 * records after those. Offsets: Kafka numbers a new partition from 0, so where reel's log start
 * offset is not 0 (retention deleted the first segments) or offsets have gaps (control batches of
 * a log Kafka wrote), a committed offset is translated through the copy's mapping: reel's offset
 * `o` becomes the number of copied records below `o`.
 *
 * @module
 */
import { describeGroup, listGroups } from "../consumer/group_admin.ts";
import { DEFAULT_LOG_CONFIG } from "../log/log_config.ts";
import type { ProducerRecord } from "../record/producer_record.ts";
import type { LogDirectory, TopicConfig } from "../topic/log_directory.ts";
import { ReelError, UnknownTopicOrPartitionError } from "../errors.ts";
import type { ClusterConnection } from "./cluster_connection.ts";
import { KAFKA_MIN_SEGMENT_BYTES, kafkaTopicConfigs } from "./_kafka_mapping.ts";

/** Options of {@linkcode migrate}. */
export interface MigrateOptions {
  /** The topics to move. @default every topic of the log directory */
  topics?: string[];
  /** Replicas of each partition of a topic `migrate` creates. @default the brokers' `default.replication.factor` */
  replicationFactor?: number;
  /** Called with each line of progress and of the summary as it is known. */
  onLine?: (line: string) => void;
}

/** What happened to one partition. */
export interface MigratedPartition {
  /** The partition. */
  partition: number;
  /** reel's log start offset. */
  logStartOffset: number;
  /** reel's high watermark when the copy began (the copy ends there). */
  highWatermark: number;
  /** Records Kafka had already (copied by an earlier run). */
  alreadyCopied: number;
  /** Records copied by this run. */
  copied: number;
  /** Whether Kafka's offsets differ from reel's (a log start offset not 0, or gaps). */
  translated: boolean;
}

/** What happened to one topic. */
export interface MigratedTopic {
  /** The topic. */
  topic: string;
  /** Whether `migrate` created it in Kafka (else it existed, with the same partition count). */
  created: boolean;
  /** The Kafka topic configs it was created with. */
  configs: Record<string, string>;
  /** Configs left at Kafka's default, with why. */
  notes: string[];
  /** Per partition. */
  partitions: MigratedPartition[];
}

/** A consumer group's committed offset as copied. */
export interface MigratedOffset {
  /** The consumer group. */
  groupId: string;
  /** The topic. */
  topic: string;
  /** The partition. */
  partition: number;
  /** reel's committed offset. */
  offset: number;
  /** Kafka's committed offset (equal unless translated). */
  kafkaOffset: number;
}

/** What {@linkcode migrate} did. */
export interface MigrateSummary {
  /** Per topic. */
  topics: MigratedTopic[];
  /** Every committed offset copied. */
  offsets: MigratedOffset[];
}

/** reel's config as Kafka topic configs, leaving out what equals reel's defaults and what Kafka refuses. */
function configsFor(
  name: string,
  config: Readonly<TopicConfig>,
): { configs: Record<string, string>; notes: string[] } {
  const changed: Partial<TopicConfig> = {};
  const notes: string[] = [];
  for (const key of Object.keys(DEFAULT_LOG_CONFIG) as (keyof TopicConfig)[]) {
    if (config[key] !== DEFAULT_LOG_CONFIG[key]) (changed as Record<string, unknown>)[key] = config[key];
  }
  if (changed.segmentBytes !== undefined && changed.segmentBytes < KAFKA_MIN_SEGMENT_BYTES) {
    notes.push(
      `segment.bytes left at Kafka's default: reel's ${changed.segmentBytes} is below Kafka's minimum ${KAFKA_MIN_SEGMENT_BYTES}`,
    );
    delete changed.segmentBytes;
  }
  if (changed.fsync === "interval" && changed.fsyncIntervalMs === undefined) delete changed.fsync;
  return { configs: kafkaTopicConfigs(name, changed), notes };
}

/**
 * Copies topics, records and committed offsets from a log directory into a Kafka cluster; see the
 * module doc for resuming and offset translation.
 *
 * @param log the source, from `open()`
 * @param connection the target, from `connect()`
 * @param options which topics, the replication factor of created topics, a line callback
 * @returns what was copied and how offsets map
 * @throws {UnknownTopicOrPartitionError} for a topic the log directory does not have
 * @throws {ReelError} `INVALID_PARTITIONS` when Kafka's topic has another partition count, or
 *   `INVALID_REQUEST` when a Kafka partition has more records than the source or a log start offset
 *   not 0 (it is not a copy `migrate` made)
 * @throws {InvalidConfigError} when Kafka refuses a topic config
 * @example Nothing to move from an empty log directory
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../mod.ts";
 * import { migrate } from "./migrate.ts";
 * import type { ClusterConnection } from "./cluster_connection.ts";
 * const log = await open(Deno.makeTempDirSync());
 * const summary = await migrate(log, {} as ClusterConnection); // no topic: the cluster is never asked
 * assert.deepEqual(summary, { topics: [], offsets: [] });
 * await log.close();
 * ```
 */
export async function migrate(
  log: LogDirectory,
  connection: ClusterConnection,
  options: MigrateOptions = {},
): Promise<MigrateSummary> {
  const say = options.onLine ?? (() => {});
  const names = options.topics ?? log.topics();
  for (const name of names) if (!log.hasTopic(name)) throw new UnknownTopicOrPartitionError(name);
  const summary: MigrateSummary = { topics: [], offsets: [] };
  if (names.length === 0) return summary;

  // Each group's committed offsets of the topics moved, by topic and partition.
  const committed = new Map<string, { groupId: string; offset: number }[]>();
  for (const groupId of listGroups(log)) {
    for (const o of describeGroup(log, groupId).offsets) {
      if (o.committedOffset === null || !names.includes(o.topic)) continue;
      const k = `${o.topic}:${o.partition}`;
      committed.set(k, [...(committed.get(k) ?? []), { groupId, offset: o.committedOffset }]);
    }
  }

  for (const name of names) {
    const source = log.topic(name);
    const { configs, notes } = configsFor(name, source.config);
    let created = false;
    await connection.refresh();
    if (!connection.hasTopic(name)) {
      await connection.createTopic(name, {
        partitions: source.partitions,
        replicationFactor: options.replicationFactor,
        kafkaConfig: configs,
      });
      created = true;
    }
    const target = connection.topic(name);
    if (target.partitions !== source.partitions) {
      throw new ReelError(
        "INVALID_PARTITIONS",
        `Cannot migrate topic "${name}": Kafka's topic has ${target.partitions} partitions, reel's ${source.partitions}`,
      );
    }
    const moved: MigratedTopic = { topic: name, created, configs, notes, partitions: [] };
    say(
      `topic ${name}: ${source.partitions} partition(s), ${created ? "created" : "exists"}` +
        (Object.keys(configs).length > 0
          ? `, configs ${Object.entries(configs).map(([k, v]) => `${k}=${v}`).join(",")}`
          : ""),
    );
    for (const note of notes) say(`  ${note}`);
    const targetOffsets = await target.describe();
    for (let p = 0; p < source.partitions; p++) {
      const { logStartOffset, highWatermark } = source.describe()[p];
      const there = targetOffsets[p];
      if (there.logStartOffset !== 0) {
        throw new ReelError(
          "INVALID_REQUEST",
          `Cannot migrate "${name}-${p}": Kafka's log start offset is ${there.logStartOffset}, not 0, so what was copied cannot be counted`,
        );
      }
      const already = there.highWatermark;
      // Committed offsets on this partition, lowest first, translated as the scan passes them.
      const commits = (committed.get(`${name}:${p}`) ?? []).sort((a, b) => a.offset - b.offset);
      const translatedTo = new Map<number, number>();
      let next = 0;
      let n = 0;
      let translated = false;
      let oldest = Infinity;
      const pending: ProducerRecord[] = [];
      const writer = target.writable({ lingerMs: 5, batchSize: 256 * 1024 }).getWriter();
      try {
        for await (
          const batch of source.readableBatches({ partitions: p, from: "earliest", to: highWatermark })
        ) {
          for (const r of batch) {
            while (next < commits.length && commits[next].offset <= r.offset) {
              translatedTo.set(commits[next++].offset, n);
            }
            if (r.offset !== n) translated = true;
            if (n >= already) {
              if (r.timestamp < oldest) oldest = r.timestamp;
              pending.push({
                partition: p,
                key: r.key,
                value: r.value,
                headers: r.headers,
                timestamp: r.timestamp,
              });
            }
            n++;
          }
          for (const record of pending.splice(0)) await writer.write(record);
        }
        await writer.close();
      } catch (err) {
        await writer.abort(err).catch(() => {}); // err, thrown below, is what failed
        throw err;
      }
      while (next < commits.length) translatedTo.set(commits[next++].offset, n);
      if (n === 0 && logStartOffset !== 0) translated = true;
      if (already > n) {
        throw new ReelError(
          "INVALID_REQUEST",
          `Cannot migrate "${name}-${p}": Kafka has ${already} records, reel only ${n}: it is not a copy migrate made`,
        );
      }
      moved.partitions.push({
        partition: p,
        logStartOffset,
        highWatermark,
        alreadyCopied: already,
        copied: n - already,
        translated,
      });
      say(
        `  partition ${p}: ${n - already} record(s) copied` +
          (already > 0 ? `, ${already} already there` : "") +
          (translated
            ? `; offsets translated: reel ${logStartOffset}..${highWatermark} → Kafka 0..${n}` +
              (logStartOffset !== 0 ? ` (log start offset ${logStartOffset})` : " (offsets with gaps)")
            : "; offsets equal"),
      );
      const retentionMs = Number(configs["retention.ms"] ?? DEFAULT_LOG_CONFIG.retentionMs);
      if (retentionMs >= 0 && oldest < Date.now() - retentionMs) {
        const note = `partition ${p} has records older than retention.ms=${retentionMs}: Kafka's retention ` +
          `deletes them (give the reel topic retentionMs: -1 before migrating to keep them)`;
        moved.notes.push(note);
        say(`  ${note}`);
      }
      for (const c of commits) {
        summary.offsets.push({
          groupId: c.groupId,
          topic: name,
          partition: p,
          offset: c.offset,
          kafkaOffset: translatedTo.get(c.offset)!,
        });
      }
    }
    summary.topics.push(moved);
  }

  const byGroup = new Map<string, MigratedOffset[]>();
  for (const o of summary.offsets) byGroup.set(o.groupId, [...(byGroup.get(o.groupId) ?? []), o]);
  for (const [groupId, offsets] of byGroup) {
    await connection.alterCommittedOffsets(
      groupId,
      offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.kafkaOffset })),
    );
    const moved = offsets.filter((o) => o.offset !== o.kafkaOffset);
    say(
      `group ${groupId}: ${offsets.length} committed offset(s) copied` +
        (moved.length > 0
          ? `, ${moved.length} translated (${
            moved.map((o) => `${o.topic}-${o.partition} ${o.offset}→${o.kafkaOffset}`).join(", ")
          })`
          : ""),
    );
  }
  return summary;
}
