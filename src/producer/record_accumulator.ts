/**
 * Groups producer records into per-partition record batches, as Kafka's producer
 * `RecordAccumulator` does: each record goes to its explicit partition, else to its key's murmur2
 * partition, else to the sticky partition (KIP-794); a partition's batch is sent once it reaches
 * `batchSize` bytes or when the caller drains it.
 *
 * @module
 */
import { RecordTooLargeError, UnknownTopicOrPartitionError } from "../errors.ts";
import type { AppendInfo, PartitionLog } from "../log/partition_log.ts";
import type { RecordHeader, RecordInput } from "../record/record.ts";
import { type Compression, CompressionType, toCompressionType } from "../record/compression.ts";
import { RECORD_BATCH_OVERHEAD } from "../record/record_batch.ts";
import {
  encodePlainRecordBatch,
  encodeRecordBatch,
  PLAIN_RECORD_MAX_FRAMING,
} from "../record/record_batch_encoder.ts";
import { partitionForKey, StickyPartitioner } from "./partitioner.ts";
import { type ProducerRecord, toRecordInput } from "../record/producer_record.ts";
import { PendingBatch } from "./_pending_batch.ts";

/**
 * The part of a topic the streams need: its name and one open log per partition.
 */
export interface TopicLogs {
  /** The topic name. */
  readonly name: string;
  /** How many partitions the topic has. */
  readonly partitions: number;
  /** The topic's log settings (`maxMessageBytes` bounds a batch). */
  readonly config: { readonly maxMessageBytes: number };
  /**
   * One partition's log, opened on first use.
   *
   * @param partition the partition number
   * @param forAppend whether the caller is about to append to it (the log may then open as its
   *   writer at once, instead of for reading and then again to write)
   */
  partition(partition: number, forAppend?: boolean): PartitionLog;
}

/** Options of a {@linkcode RecordAccumulator}. */
export interface AccumulatorOptions {
  /**
   * Send a partition's batch once its records reach this many bytes (Kafka's `batch.size`).
   * @default 131072 ({@linkcode DEFAULT_BATCH_SIZE})
   */
  batchSize?: number;
  /** The compression codec of the batches: `"none"`, `"gzip"`, `"snappy"`, `"lz4"`, `"zstd"` or 0–4. @default "none" */
  compression?: Compression;
  /**
   * Send batches with `PartitionLog.appendDeferred`: they are written (and acknowledged) together
   * by {@linkcode RecordAccumulator.writeDeferred}. @default false
   */
  deferWrites?: boolean;
}

/** A batch encoded for one partition, not yet appended. */
export interface EncodedBatch {
  /** The partition it goes to. */
  partition: number;
  /** How many records it holds. */
  count: number;
  /** The records' timestamps, ms. */
  timestamps: number[];
  /** The RecordBatch bytes (base offset 0 until appended). */
  batch: Uint8Array;
}

/** A batch sent: its records' count and the promise of its append. */
export interface SentBatch {
  /** The partition it went to. */
  partition: number;
  /** How many records it holds. */
  count: number;
  /** The records' timestamps, ms. */
  timestamps: number[];
  /** Resolves with the offsets once the batch is acknowledged. */
  result: Promise<AppendInfo>;
}

/**
 * The default `batchSize` of `writable()` and the CLI's `produce`, bytes: 128 KiB, 8× Kafka's
 * `batch.size` default (16384). Kafka's producer pays its per-batch costs once per request of
 * many batches; reel pays them (header, CRC-32C call, offset assignment, acknowledgement) once per
 * batch, and 16 KiB holds only ~15 records of 1 KiB. Measured on this project's 2-core machine,
 * `pipeTo(writable())` of 1 KiB records: 16 KiB → 128 KiB about +15–20% records/s on Deno and Bun,
 * 100 B records about +5–10%; 256 KiB no better. A batch is sent at `lingerMs` whether full or
 * not, so the larger size adds no latency.
 */
export const DEFAULT_BATCH_SIZE = 131072;

/** The largest buffer (bytes) an accumulator keeps for encoding batches into. */
export const MAX_ARENA_BYTES = 4 << 20;

/** The framing {@linkcode estimateSize} counts per record besides its key, value and headers, bytes. */
const RECORD_FRAMING_ESTIMATE = 21;

/**
 * {@linkcode estimateSize} of a record without headers, from its key and value.
 *
 * @param key the key (`null`: none)
 * @param value the value (`null`: none)
 * @returns the estimate: 21 bytes of framing plus the key and value bytes
 * @example A record of a 100-byte value and a 3-byte key
 * ```ts
 * import assert from "node:assert/strict";
 * import { estimatePlainSize } from "./record_accumulator.ts";
 * assert.equal(estimatePlainSize(new Uint8Array(3), new Uint8Array(100)), 124);
 * ```
 */
export function estimatePlainSize(key: Uint8Array | null, value: Uint8Array | null): number {
  return RECORD_FRAMING_ESTIMATE + (key === null ? 0 : key.length) + (value === null ? 0 : value.length);
}

/**
 * The accumulator's estimate of a record's size in a batch, bytes (an upper bound for records
 * without headers): what it sums against `batchSize` and `maxMessageBytes` to end batches.
 *
 * @param r the record
 * @returns the estimate: 21 bytes of framing plus the key, value and header bytes
 * @example A record of a 100-byte value
 * ```ts
 * import assert from "node:assert/strict";
 * import { estimateSize } from "./record_accumulator.ts";
 * assert.equal(estimateSize({ key: null, value: new Uint8Array(100) }), 121);
 * ```
 */
export function estimateSize(r: RecordInput): number {
  let n = estimatePlainSize(r.key ?? null, r.value ?? null);
  const headers = r.headers;
  // An indexed loop: most records have none, and an iterator per record costs more than the rest.
  if (headers !== undefined) {
    for (let i = 0; i < headers.length; i++) {
      const h = headers[i];
      n += 10 + h.key.length * 3 + (h.value ? h.value.length : 0);
    }
  }
  return n;
}

/**
 * Per-partition batch building for one producer (a writable stream or one `append` call).
 *
 * @example Records grouped into one batch per partition
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../mod.ts";
 * import { RecordAccumulator } from "./record_accumulator.ts";
 * const log = await open(Deno.makeTempDirSync());
 * const topic = await log.createTopic("events"); // any { name, partitions, config, partition() }
 * const sent: [number, number][] = [];
 * const acc = new RecordAccumulator(topic, { batchSize: 16384 }, (b) => void sent.push([b.partition, b.count]));
 * acc.add({ value: "hello", key: "user-1" });
 * acc.add({ value: "again", key: "user-1" });
 * acc.drainAll();
 * assert.deepEqual(sent, [[0, 2]]);
 * await log.close();
 * ```
 */
export class RecordAccumulator {
  readonly #topic: TopicLogs;
  readonly #batchSize: number;
  readonly #compression: CompressionType;
  readonly #sticky: StickyPartitioner;
  readonly #pending: PendingBatch[];
  readonly #onSend: ((batch: SentBatch) => void) | null;
  readonly #deferWrites: boolean;
  /** The logs holding batches sent with `deferWrites` and not yet written. */
  readonly #deferred = new Set<PartitionLog>();
  /** The log the last batch sent with `deferWrites` went to. */
  #lastDeferred: PartitionLog | undefined;
  #deferredBytes = 0;
  #encoded: EncodedBatch[] = [];
  readonly #maxRecordBytes: number;
  /** A pending batch is sent once its records reach this many bytes: `batchSize`, at most what fits in `maxMessageBytes`. */
  readonly #limit: number;
  /** Batches are encoded into this buffer, reused once they are appended (see `#reserve`). */
  #arena: Uint8Array = new Uint8Array(0);
  #arenaUsed = 0;
  /** Bytes of the batches encoded since the arena was last released. */
  #arenaWanted = 0;
  /** The most the arena had to hold at once since then (a batch is encoded into the room for its largest size): what it should hold next time. */
  #arenaPeak = 0;
  readonly #allocate = (size: number): Uint8Array => {
    const at = this.#reserve(size);
    return at < 0 ? new Uint8Array(size) : this.#arena.subarray(at, at + size);
  };

  /**
   * Creates an accumulator with one pending batch per partition.
   *
   * @param topic the topic's name and partition logs
   * @param options batch size and compression
   * @param onSend called with each batch handed to its partition log; `null` keeps the encoded
   *   batches for {@linkcode RecordAccumulator.takeEncoded} instead of appending them
   */
  constructor(topic: TopicLogs, options: AccumulatorOptions, onSend: ((batch: SentBatch) => void) | null) {
    this.#topic = topic;
    this.#batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    if (!(this.#batchSize > 0)) {
      throw new RangeError(`Invalid batchSize ${this.#batchSize}: must be positive`);
    }
    this.#compression = toCompressionType(options.compression);
    const n = topic.partitions;
    this.#sticky = new StickyPartitioner(n, this.#batchSize);
    this.#pending = Array.from({ length: n }, () => new PendingBatch());
    this.#onSend = onSend;
    this.#deferWrites = options.deferWrites ?? false;
    this.#maxRecordBytes = topic.config.maxMessageBytes -
      RECORD_BATCH_OVERHEAD;
    this.#limit = Math.min(this.#batchSize, this.#maxRecordBytes);
  }

  /**
   * Places one record in its partition's pending batch, sending that batch first if the record
   * would take it past `batchSize` (or past `maxMessageBytes`).
   *
   * @param record the producer record
   * @returns the partition chosen (records of one partition keep their order across batches)
   * @throws {UnknownTopicOrPartitionError} when `record.partition` is not a partition of the topic
   * @throws {RecordTooLargeError} when the record alone cannot fit in a batch of `maxMessageBytes`
   * @throws {TypeError} when the record's fields have the wrong types
   */
  add(record: ProducerRecord): number {
    if (record === null || typeof record !== "object") {
      throw new TypeError(
        `Cannot produce a ${
          record === null ? "null" : typeof record
        }: expected a record { value, key?, headers?, timestamp?, partition? }`,
      );
    }
    const given = record.partition;
    if (given !== undefined && (!Number.isInteger(given) || given < 0 || given >= this.#pending.length)) {
      throw new UnknownTopicOrPartitionError(this.#topic.name, given);
    }
    // The usual record, bytes and no headers, is taken as it is; any other is converted.
    let key = record.key,
      value = record.value,
      timestamp = record.timestamp,
      headers: RecordHeader[] | undefined;
    if (
      (value == null || value instanceof Uint8Array) && (key == null || key instanceof Uint8Array) &&
      record.headers == null && (timestamp === undefined || Number.isSafeInteger(timestamp))
    ) {
      key ??= null;
      value ??= null;
    } else {
      ({ key, value, timestamp, headers } = toRecordInput(record));
    }
    const keyBytes = key as Uint8Array | null, valueBytes = value as Uint8Array | null;
    const size = headers === undefined || headers.length === 0
      ? estimatePlainSize(keyBytes, valueBytes)
      : estimateSize({ key: keyBytes, value: valueBytes, headers });
    if (size > this.#maxRecordBytes) {
      throw new RecordTooLargeError(
        size + RECORD_BATCH_OVERHEAD,
        this.#maxRecordBytes + RECORD_BATCH_OVERHEAD,
      );
    }
    const partition = this.partitionOf(given, keyBytes, size);
    const limit = this.#limit;
    let pending = this.#pending[partition];
    if (pending.bytes > 0 && pending.bytes + size > limit) {
      this.drain(partition);
      pending = this.#pending[partition];
    }
    pending.push(keyBytes, valueBytes, timestamp as number | undefined, headers, size);
    if (pending.bytes >= limit) this.drain(partition);
    return partition;
  }

  /**
   * The partition {@linkcode RecordAccumulator.add} places a record on: its own `partition`, else 0
   * on a topic of one partition, else its key's (murmur2, as Kafka's built-in partitioner), else the
   * sticky partition (KIP-794), which counts `size` towards its next switch.
   *
   * @param partition the record's partition, already checked to be one of the topic's, or `undefined`
   * @param key the record's key bytes, or `null` (or `undefined`) for none
   * @param size the record's size as {@linkcode estimateSize} gives it, bytes
   * @returns the partition
   */
  partitionOf(partition: number | undefined, key: Uint8Array | null | undefined, size: number): number {
    if (partition !== undefined) return partition;
    const n = this.#pending.length;
    if (n === 1) return 0;
    return key ? partitionForKey(key, n) : this.#sticky.partition(size);
  }

  /** Whether any record waits in a pending batch. */
  get isEmpty(): boolean {
    return this.#pending.every((b) => b.count === 0);
  }

  /**
   * Encodes one partition's pending records into a batch and appends it to the partition's log
   * (or, without `onSend`, keeps it for {@linkcode RecordAccumulator.takeEncoded}).
   *
   * @param partition the partition
   * @throws {Error} without `onSend`, an encoding error (with it, the error rejects `result`)
   */
  drain(partition: number): void {
    const records = this.#pending[partition];
    const count = records.count;
    if (count === 0) return;
    this.#pending[partition] = new PendingBatch();
    const now = Date.now();
    const timestamps = new Array<number>(count);
    const given = records.timestamps;
    for (let i = 0; i < count; i++) {
      const t = given?.[i];
      timestamps[i] = t === undefined ? now : t;
    }
    if (this.#onSend === null) {
      const batch = this.#encode(records, now);
      this.#encoded.push({ partition, count, timestamps, batch });
      return;
    }
    let result: Promise<AppendInfo>;
    try {
      // The log writes the batch, or copies it to write later, before `append` returns.
      const log = this.#topic.partition(partition, true);
      // A log keeps lent batches uncopied only while each follows the one before it in the same
      // buffer: when another log's batch lies between, what is held back is written first.
      if (this.#deferWrites && this.#lastDeferred !== log && this.#deferred.has(log)) this.writeDeferred();
      const batch = this.#encode(records, now);
      if (this.#deferWrites) {
        // Lent: the arena is not reused before writeDeferred() has written every deferred log.
        result = log.appendDeferred(batch, false, true);
        this.#deferred.add(log);
        this.#lastDeferred = log;
        this.#deferredBytes += batch.length;
      } else result = log.append(batch, false);
    } catch (err) {
      result = Promise.reject(err);
    } finally {
      if (!this.#deferWrites) this.#releaseArena();
    }
    this.#onSend({ partition, count, timestamps, result });
  }

  /**
   * Encodes pending records into a batch in the arena, right after the batch before it. Records
   * without headers, uncompressed, are written straight from their columns into the room for the
   * largest their batch can be, and the room left over is given back.
   */
  #encode(records: PendingBatch, now: number): Uint8Array {
    if (this.#compression !== CompressionType.None || records.headers !== undefined) {
      return encodeRecordBatch(records.inputs(), {
        compression: this.#compression,
        now,
        allocate: this.#allocate,
      });
    }
    const count = records.count;
    const room = RECORD_BATCH_OVERHEAD + records.payload + count * PLAIN_RECORD_MAX_FRAMING;
    const at = this.#reserve(room);
    const out = at < 0 ? new Uint8Array(room) : this.#arena;
    const batch = encodePlainRecordBatch(
      out,
      Math.max(at, 0),
      records.keys,
      records.values,
      records.timestamps,
      0,
      count,
      now,
    );
    const unused = room - batch.length;
    this.#arenaWanted -= unused;
    if (at >= 0) this.#arenaUsed -= unused;
    return batch;
  }

  /**
   * Reserves `size` bytes of the arena.
   *
   * @returns where they start, or -1 when they do not fit (the arena is in use, or `size` is over
   *   {@linkcode MAX_ARENA_BYTES}): the caller takes a buffer of its own
   */
  #reserve(size: number): number {
    this.#arenaWanted += size;
    if (this.#arenaWanted > this.#arenaPeak) this.#arenaPeak = this.#arenaWanted;
    if (this.#arenaUsed + size > this.#arena.length) {
      // Full (several batches wait for `append`) or too small: a batch of its own, or a bigger arena.
      if (this.#arenaUsed > 0 || size > MAX_ARENA_BYTES) return -1;
      this.#arena = new Uint8Array(Math.min(MAX_ARENA_BYTES, Math.max(size, 2 * this.#arena.length, 65536)));
    }
    const at = this.#arenaUsed;
    this.#arenaUsed += size;
    return at;
  }

  /**
   * Hands over the batches encoded so far (only without `onSend`), in the order they were made.
   * Their bytes may lie in a buffer the accumulator reuses: append them, then call
   * {@linkcode RecordAccumulator.clear}, before adding more records.
   *
   * @returns the encoded batches; records of one partition keep their order across them
   */
  takeEncoded(): EncodedBatch[] {
    const out = this.#encoded;
    this.#encoded = [];
    return out;
  }

  /**
   * Drops every pending record and encoded batch, and lets the buffer the batches were encoded
   * into be reused: call it once the batches from {@linkcode RecordAccumulator.takeEncoded} are
   * appended (or given up).
   */
  clear(): void {
    this.#releaseArena();
    for (let p = 0; p < this.#pending.length; p++) {
      if (this.#pending[p].count > 0) this.#pending[p] = new PendingBatch();
    }
    this.#encoded = [];
  }

  /** Lets the arena be reused; grows it when the batches since the last release did not fit. */
  #releaseArena(): void {
    const peak = this.#arenaPeak;
    if (peak > this.#arena.length && peak <= MAX_ARENA_BYTES) this.#arena = new Uint8Array(peak);
    this.#arenaUsed = 0;
    this.#arenaWanted = 0;
    this.#arenaPeak = 0;
  }

  /** Bytes of the batches sent with `deferWrites` and not yet written. */
  get deferredBytes(): number {
    return this.#deferredBytes;
  }

  /** Writes the batches sent with `deferWrites`: one write per partition log that holds any. */
  writeDeferred(): void {
    if (this.#deferred.size > 0) {
      for (const log of this.#deferred) log.writeDeferred();
      this.#deferred.clear();
      this.#deferredBytes = 0;
    }
    // Every batch lent to a log is written (or failed and given back): the arena may be reused.
    this.#releaseArena();
  }

  /** Sends every partition's pending batch. */
  drainAll(): void {
    for (let p = 0; p < this.#pending.length; p++) this.drain(p);
  }
}
