/**
 * What `topic.append()` does: the records are placed on partitions and encoded into record
 * batches, every batch is checked (size, keys on a compacted topic) before any is appended, and
 * each record's partition, offset and timestamp is reported in the order given.
 *
 * @module
 */
import { RecordTooLargeError } from "../errors.ts";
import { compacts, type LogConfig } from "../log/log_config.ts";
import { validateProducerRecordKeys } from "../log/log_validator.ts";
import type { AppendInfo, PartitionLog } from "../log/partition_log.ts";
import { CompressionType, toCompressionType } from "../record/compression.ts";
import type { ProducerRecord } from "../record/producer_record.ts";
import { RECORD_BATCH_OVERHEAD } from "../record/record_batch.ts";
import { encodePlainRecordBatch, PLAIN_RECORD_MAX_FRAMING } from "../record/record_batch_encoder.ts";
import {
  type EncodedBatch,
  estimatePlainSize,
  MAX_ARENA_BYTES,
  RecordAccumulator,
  type TopicLogs,
} from "../producer/record_accumulator.ts";
import type { AppendOptions, RecordMetadata } from "./topic.ts";

/**
 * The short path's buffer, shared by every topic of the process and reused from call to call: a
 * call encodes its batches into it and hands each to its log, which writes it or copies it before
 * `append` returns. So a new topic's first append encodes into memory already touched (a fresh
 * MiB costs its page faults, several hundred µs). A call made while it is in use (from a log's
 * listener, between an encode and its append) takes a buffer of its own.
 */
let sharedArena = new Uint8Array(0);
/** Whether a call is between encoding into {@linkcode sharedArena} and appending from it. */
let sharedArenaInUse = false;

/** The topic as its append path sees it: its partitions' logs (opened for an append) and config. */
type AppendTarget = TopicLogs & {
  readonly config: Readonly<LogConfig>;
  partition(partition: number, forAppend?: boolean): PartitionLog;
};

/**
 * The append path of one topic: its accumulators (one per compression codec, made on first use,
 * so a keyless record's sticky partition carries on from call to call, as a Kafka producer's does).
 *
 * @example Records of one key land in one partition, at consecutive offsets
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../mod.ts";
 * import { TopicAppender } from "./_topic_appender.ts";
 * const log = await open(Deno.makeTempDirSync());
 * const topic = await log.createTopic("events", { partitions: 3 });
 * const appender = new TopicAppender(topic);
 * const [a, b] = await appender.append([{ key: "k", value: "1" }, { key: "k", value: "2" }]);
 * assert.equal(a.partition, b.partition);
 * assert.equal(b.offset, a.offset + 1);
 * await assert.rejects(appender.append([{ partition: 7, value: "x" }]), { name: "UnknownTopicOrPartitionError" });
 * await log.close();
 * ```
 */
export class TopicAppender {
  readonly #topic: AppendTarget;
  /** One accumulator per compression codec, made on first use. */
  readonly #accumulators: (RecordAccumulator | undefined)[] = [];

  /**
   * Makes the append path of a topic.
   *
   * @param topic the topic: its name, partitions, config and partition logs
   */
  constructor(topic: AppendTarget) {
    this.#topic = topic;
  }

  /** Forgets the accumulators, whose partitioners know the partition count they were made with. */
  reset(): void {
    this.#accumulators.length = 0;
  }

  /**
   * Appends records: see `Topic.append`, whose work this is.
   *
   * @param records the records
   * @param options compression
   * @returns one {@linkcode RecordMetadata} per record, in the order given
   * @throws {UnknownTopicOrPartitionError} for a partition the topic does not have (nothing is appended)
   * @throws {RecordTooLargeError} for a batch larger than `maxMessageBytes` (nothing is appended)
   * @throws {InvalidRecordError} on a compacted topic, for a record without a key (nothing is appended)
   * @throws {UnsupportedCompressionTypeError} for a `compression` that is not a Kafka codec
   */
  append(records: readonly ProducerRecord[], options: AppendOptions = {}): Promise<RecordMetadata[]> {
    // Not an async function: the short path's promise is handed back as it is, without the steps
    // an async function's return of a promise adds (a durable producer waits through them).
    try {
      if (!Array.isArray(records)) throw new TypeError("Cannot append: expected an array of records");
      const compression = toCompressionType(options.compression);
      if (compression === CompressionType.None && !compacts(this.#topic.config.cleanupPolicy)) {
        const plain = this.#appendPlain(records);
        if (plain !== undefined) return plain;
      }
      return this.#appendAccumulated(records, compression);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** The general path of `append`: every record through the accumulator of `compression`. */
  async #appendAccumulated(
    records: readonly ProducerRecord[],
    compression: CompressionType,
  ): Promise<RecordMetadata[]> {
    const topic = this.#topic;
    // The accumulator only encodes (no onSend): nothing is appended until every record has been
    // placed and every batch checked, so a bad record or batch fails the whole call. Encoding is
    // synchronous, so one accumulator per codec serves every call (and its sticky partitioner
    // carries on from call to call, as a Kafka producer's does).
    const accumulator = this.#accumulator(compression);
    const partitions = new Int32Array(records.length);
    let pending: Promise<AppendInfo>[];
    let sent: EncodedBatch[] = [];
    try {
      for (let i = 0; i < records.length; i++) partitions[i] = accumulator.add(records[i]);
      // A keyless record on a compacted topic fails the whole call before any partition writes.
      if (compacts(topic.config.cleanupPolicy)) validateProducerRecordKeys(records, partitions, topic.name);
      accumulator.drainAll();
      sent = accumulator.takeEncoded();
      for (const { batch } of sent) {
        const max = topic.config.maxMessageBytes;
        if (batch.length > max) throw new RecordTooLargeError(batch.length, max); // compression can grow a batch
      }
      // Each log writes its batch, or copies it for the group commit, before `append` returns.
      pending = sent.map((b) => topic.partition(b.partition, true).append(b.batch, false));
    } finally {
      accumulator.clear(); // what a failed call leaves behind is dropped
    }
    if (sent.length === 1) {
      // One batch (the usual case): the records' offsets follow its base offset.
      const { partition, timestamps } = sent[0];
      const { baseOffset } = await pending[0];
      const out = new Array<RecordMetadata>(records.length);
      for (let i = 0; i < out.length; i++) {
        out[i] = { partition, offset: baseOffset + i, timestamp: timestamps[i] };
      }
      return out;
    }
    const results = await Promise.all(pending);
    // A record's offset: its batch's base offset plus its place among the batch's records. Batches
    // of one partition follow each other in the order of the records.
    const batchOf = new Int32Array(topic.partitions).fill(-1);
    const placeInBatch = new Int32Array(topic.partitions);
    const out = new Array<RecordMetadata>(records.length);
    for (let i = 0; i < records.length; i++) {
      const p = partitions[i];
      let b = batchOf[p];
      if (b < 0 || placeInBatch[p] === sent[b].count) {
        do b++; while (sent[b].partition !== p);
        batchOf[p] = b;
        placeInBatch[p] = 0;
      }
      const place = placeInBatch[p]++;
      out[i] = { partition: p, offset: results[b].baseOffset + place, timestamp: sent[b].timestamps[place] };
    }
    return out;
  }

  /**
   * The short path of `append` for the usual call: no compression, a topic that is not compacted,
   * and every record `{ value, key?, timestamp?, partition? }` with bytes (or `null`) for its key
   * and value, no headers, and a partition of the topic or none. Each record goes where the
   * accumulator would place it (its partition, its key's, or the accumulator's own sticky
   * partition) and the records are encoded straight from the caller's objects into batches split
   * where the accumulator splits them, without its per-record copies. The result is the same as
   * the accumulator's path gives.
   *
   * @returns `undefined`, having done nothing, when a record does not qualify (the accumulator's
   *   path then takes the call, and reports any error)
   */
  #appendPlain(records: readonly ProducerRecord[]): Promise<RecordMetadata[]> | undefined {
    const n = records.length;
    if (n === 0) return undefined;
    const topic = this.#topic;
    const partitions = topic.partitions;
    const max = topic.config.maxMessageBytes;
    // Batches end where the accumulator would end them: its size estimate summed up to the limit.
    const limit = max - RECORD_BATCH_OVERHEAD;
    // Each record's fields are read once, into columns of their own (no object per record): what
    // was checked is what is encoded, even from an object whose getters answer differently each
    // time. On a topic of several partitions nothing is placed before every record has
    // qualified, so a call that falls back leaves the sticky partitioner as it was. (Plain arrays
    // throughout: a typed array per call costs a small `append` of a durable producer a third of
    // its rate on Deno.)
    const multi = partitions > 1;
    const values = new Array<Uint8Array | null>(n);
    /** Made when a record has a key; `null` where one has none. */
    let keys: (Uint8Array | null)[] | undefined;
    /** Made when a record has a timestamp of its own; `undefined` where one has none. */
    let timestamps: (number | undefined)[] | undefined;
    const sizes: number[] = [];
    const given: number[] = [];
    // Placement, as `RecordAccumulator.add` does it: a partition's open batch is closed before a
    // record that would take it past the limit, and once it reaches the limit. Batches are
    // numbered as they open; a partition's batches are appended in that order.
    const first: number[] = [], last: number[] = [], count: number[] = [], partitionOf: number[] = [];
    const batchOf: number[] = [];
    // (Partition 0's entries are there from the start: a read past an array's end is slow on JSC.)
    const openBatch: number[] = multi ? [] : [-1], openBytes: number[] = multi ? [] : [0];
    const place = (i: number, p: number, size: number): void => {
      let bytes = openBytes[p] ?? 0;
      let b = openBatch[p] ?? -1;
      if (bytes > 0 && bytes + size > limit) {
        b = -1;
        bytes = 0;
      }
      if (b < 0) {
        b = first.length;
        first.push(i);
        last.push(i);
        count.push(0);
        partitionOf.push(p);
        openBatch[p] = b;
      }
      if (multi) batchOf.push(b);
      last[b] = i;
      count[b]++;
      bytes += size;
      if (bytes >= limit) {
        openBatch[p] = -1;
        bytes = 0;
      }
      openBytes[p] = bytes;
    };
    let total = 0;
    for (let i = 0; i < n; i++) {
      const r = records[i];
      if (r === null || typeof r !== "object") return undefined;
      const { key, value, timestamp, partition } = r;
      if (!(value == null || value instanceof Uint8Array) || !(key == null || key instanceof Uint8Array)) {
        return undefined;
      }
      if (r.headers !== undefined) return undefined;
      if (
        partition !== undefined && !(Number.isInteger(partition) && partition >= 0 && partition < partitions)
      ) {
        return undefined;
      }
      if (timestamp !== undefined) {
        if (!Number.isSafeInteger(timestamp)) return undefined;
        (timestamps ??= new Array<number | undefined>(n))[i] = timestamp as number;
      }
      const k = key ?? null;
      if (k !== null) (keys ??= new Array<Uint8Array | null>(n).fill(null))[i] = k;
      const v = values[i] = value ?? null;
      const size = estimatePlainSize(k, v);
      if (size > limit) return undefined;
      total += size;
      if (multi) {
        sizes.push(size);
        given.push(partition ?? -1);
      }
    }
    if (multi) {
      const accumulator = this.#accumulator(CompressionType.None);
      for (let i = 0; i < n; i++) {
        const p = accumulator.partitionOf(given[i] < 0 ? undefined : given[i], keys?.[i], sizes[i]);
        place(i, p, sizes[i]);
      }
    } else if (total <= limit) {
      // The usual call: every record fits one batch (no sum of sizes before the last record reaches
      // the limit), so the placement below would make just this one.
      first.push(0);
      last.push(n - 1);
      count.push(n);
      partitionOf.push(0);
    } else {
      for (let i = 0; i < n; i++) {
        place(i, 0, estimatePlainSize(keys?.[i] ?? null, values[i]));
      }
    }

    const now = Date.now();
    const batchCount = first.length;
    // Room for the largest the batches can be: the estimate counts 21 bytes of framing a record.
    const room = total + n * (PLAIN_RECORD_MAX_FRAMING - 21) + batchCount * RECORD_BATCH_OVERHEAD;
    const shared = !sharedArenaInUse;
    if (shared && sharedArena.length < room) sharedArena = new Uint8Array(Math.max(room, 65536));
    const arena = shared ? sharedArena : new Uint8Array(room);
    sharedArenaInUse = true;
    let pending: Promise<AppendInfo | AppendInfo[]>;
    try {
      let used = 0;
      const batches = new Array<Uint8Array>(batchCount);
      for (let b = 0; b < batchCount; b++) {
        let batch: Uint8Array;
        if (last[b] - first[b] + 1 === count[b]) {
          batch = encodePlainRecordBatch(arena, used, keys, values, timestamps, first[b], last[b] + 1, now);
        } else {
          // Its records lie among other partitions' records: gathered in order.
          const v: (Uint8Array | null)[] = [];
          const k: (Uint8Array | null)[] | undefined = keys && [];
          const t: (number | undefined)[] | undefined = timestamps && [];
          for (let i = first[b]; v.length < count[b]; i++) {
            if (batchOf[i] !== b) continue;
            k?.push(keys![i]);
            v.push(values[i]);
            t?.push(timestamps![i]);
          }
          batch = encodePlainRecordBatch(arena, used, k, v, t, 0, count[b], now);
        }
        if (batch.length > max) throw new RecordTooLargeError(batch.length, max);
        used += batch.length;
        batches[b] = batch;
      }
      // Each log writes its batch, or copies it for the group commit, before `append` returns.
      pending = batchCount === 1
        ? topic.partition(partitionOf[0], true).append(batches[0], false)
        : Promise.all(batches.map((batch, b) => topic.partition(partitionOf[b], true).append(batch, false)));
    } finally {
      if (shared) {
        sharedArenaInUse = false;
        if (sharedArena.length > MAX_ARENA_BYTES) sharedArena = new Uint8Array(0);
      }
    }
    return pending.then((result) => {
      const infos = Array.isArray(result) ? result : [result];
      // A record's offset: its batch's base offset plus its place among the batch's records (on
      // one partition, the batches are consecutive runs of records).
      const out = new Array<RecordMetadata>(n);
      if (!multi) {
        for (let b = 0; b < batchCount; b++) {
          const delta = infos[b].baseOffset - first[b];
          if (timestamps === undefined) {
            for (let i = first[b]; i <= last[b]; i++) {
              out[i] = { partition: 0, offset: delta + i, timestamp: now };
            }
          } else {
            for (let i = first[b]; i <= last[b]; i++) {
              out[i] = { partition: 0, offset: delta + i, timestamp: timestamps[i] ?? now };
            }
          }
        }
        return out;
      }
      const next = infos.map((info) => info.baseOffset);
      for (let i = 0; i < n; i++) {
        const b = batchOf[i];
        out[i] = { partition: partitionOf[b], offset: next[b]++, timestamp: timestamps?.[i] ?? now };
      }
      return out;
    });
  }

  /** The accumulator of `compression`, made on first use. */
  #accumulator(compression: CompressionType): RecordAccumulator {
    let accumulator = this.#accumulators[compression];
    if (accumulator === undefined) {
      accumulator = new RecordAccumulator(
        this.#topic,
        { batchSize: this.#topic.config.maxMessageBytes, compression },
        null,
      );
      this.#accumulators[compression] = accumulator;
    }
    return accumulator;
  }
}
