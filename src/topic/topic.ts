/**
 * A topic: a name, N partitions (one {@linkcode PartitionLog} each) and a config, with the Web
 * Streams faces to produce into it and consume from it.
 *
 * @module
 */
import { PartitionLockedError, UnknownTopicOrPartitionError } from "../errors.ts";
import type { LogConfig } from "../log/log_config.ts";
import type { CleanerStats } from "../log/log_cleaner.ts";
import type { PartitionLog } from "../log/partition_log.ts";
import { type Compression, toCompressionType } from "../record/compression.ts";
import type { ConsumedRecord } from "../record/consumed_record.ts";
import type { ProducerRecord } from "../record/producer_record.ts";
import { FetchSource, type ReadableOptions } from "../consumer/fetch_source.ts";
import { RecordStream } from "../consumer/record_stream.ts";
import {
  BatchProduceSink,
  ProduceSink,
  type WritableBatchesOptions,
  type WritableOptions,
} from "../producer/produce_sink.ts";
import { TopicAppender } from "./_topic_appender.ts";

/** What `append` tells of each record once it is acknowledged. */
export interface RecordMetadata {
  /** The partition the record went to. */
  partition: number;
  /** Its offset in that partition. */
  offset: number;
  /** Its timestamp, ms (CreateTime: given, or the append time). */
  timestamp: number;
}

/** One partition's state, as `describe()` reports it. */
export interface PartitionDescription {
  /** The partition number. */
  partition: number;
  /** The first offset still in the log. */
  logStartOffset: number;
  /** The next offset to be assigned. */
  logEndOffset: number;
  /** The end of what readers see. */
  highWatermark: number;
  /** How many segments the partition has. */
  segments: number;
  /** The size of its `.log` files, bytes. */
  bytes: number;
}

/**
 * How a `Topic` opens its partition logs on demand (`LogDirectory` gives one; see the `Topic`
 * constructor).
 */
export interface PartitionOpener {
  /** How many partitions the topic has. */
  readonly partitions: number;
  /** The topic's ID (KIP-516), when it has one. */
  readonly topicId: string | undefined;
  /**
   * Opens one partition's log (called once per partition, on its first use).
   *
   * @param partition the partition number, from 0 to `partitions - 1`
   * @param forAppend whether the caller is about to append to it (see {@linkcode Topic.partition})
   * @returns the open log
   */
  open(partition: number, forAppend?: boolean): PartitionLog;
}

/** Options of `topic.append()`. */
export interface AppendOptions {
  /**
   * Compression codec of the batches, by name (`"none"`, `"gzip"`, `"snappy"`, `"lz4"`, `"zstd"`:
   * Kafka's `compression.type`) or number (0–4).
   * @default "none"
   */
  compression?: Compression;
}

/**
 * A topic of an open log directory. Get one from `log.createTopic()` or `log.topic()`.
 *
 * @example Append to a topic of two partitions and read it back
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../mod.ts";
 * const log = await open(Deno.makeTempDirSync());
 * const topic = await log.createTopic("events", { partitions: 2 });
 * await topic.append([{ key: "user-1", value: "signed up" }, { key: "user-1", value: "logged in" }]);
 * const seen = [];
 * for await (const record of topic.readable()) seen.push(new TextDecoder().decode(record.value!));
 * assert.deepEqual(seen, ["signed up", "logged in"]); // one key, one partition: in order
 * await log.close();
 * ```
 */
export class Topic {
  /** The partition logs opened so far, indexed by partition number (`undefined`: not opened yet). */
  readonly #opened: (PartitionLog | undefined)[];
  readonly #openPartition: (partition: number, forAppend?: boolean) => PartitionLog;
  readonly #topicId: string | undefined;
  #config: Readonly<LogConfig>;
  /** What {@linkcode Topic.append} does. */
  readonly #appender: TopicAppender = new TopicAppender(this);

  /**
   * Wraps a topic's partition logs (`LogDirectory` makes topics; applications get them from it).
   * Partitions are opened on first use when `logs` is a {@linkcode PartitionOpener}: a directory of
   * thousands of partitions costs nothing until they are read or written.
   *
   * @param name the topic name
   * @param logs one open log per partition, or how to open them on demand
   * @param config the topic's log settings
   */
  constructor(
    readonly name: string,
    logs: readonly PartitionLog[] | PartitionOpener,
    config: Readonly<LogConfig>,
  ) {
    this.#config = config;
    if (Array.isArray(logs)) {
      const open = logs as readonly PartitionLog[];
      this.#opened = [...open];
      this.#openPartition = (p) => open[p];
      this.#topicId = open[0]?.topicId;
    } else {
      const opener = logs as PartitionOpener;
      this.#opened = new Array(opener.partitions).fill(undefined);
      this.#openPartition = opener.open;
      this.#topicId = opener.topicId;
    }
  }

  /**
   * The topic's ID (KIP-516): 22 base64url characters, as Kafka prints a `Uuid`; a topic deleted
   * and created again under the same name gets a new one. `undefined` for a topic created before
   * reel recorded IDs.
   */
  get topicId(): string | undefined {
    return this.#topicId;
  }

  /** How many partitions the topic has. */
  get partitions(): number {
    return this.#opened.length;
  }

  /** The topic's log settings (changed by `LogDirectory.alterTopicConfig`, here or in another process). */
  get config(): Readonly<LogConfig> {
    return this.#config;
  }

  /**
   * Takes a changed config and partition count (what `LogDirectory` read from the topic's config
   * file): every open partition log gets the new config, and partitions added since are known.
   * For `LogDirectory`; applications use its `alterTopicConfig` and `createPartitions`.
   *
   * @param config the topic's new log settings
   * @param partitions the partition count, never fewer than now
   */
  updateStored(config: Readonly<LogConfig>, partitions: number): void {
    if (JSON.stringify(config) !== JSON.stringify(this.#config)) {
      this.#config = config;
      for (const log of this.#opened) log?.setConfig({ ...config });
    }
    if (this.#opened.length < partitions) {
      while (this.#opened.length < partitions) this.#opened.push(undefined);
      // append()'s partitioners know the count they were made with: made again on next use.
      this.#appender.reset();
    }
  }

  /**
   * The partition logs, indexed by partition number (for tools; most code uses the streams).
   * Opens every partition not opened yet.
   */
  get logs(): readonly PartitionLog[] {
    for (let p = 0; p < this.#opened.length; p++) this.partition(p);
    return this.#opened as PartitionLog[];
  }

  /** The partition logs opened so far (none is opened by this). */
  get openedLogs(): PartitionLog[] {
    return this.#opened.filter((l): l is PartitionLog => l !== undefined);
  }

  /**
   * One partition's log, opened (and recovered, when no process writes it) on first use.
   *
   * @param partition the partition number
   * @param forAppend the caller is about to append: a log opened now takes the writer role at once
   *   when no other process holds it (one load of its files instead of two)
   * @throws {UnknownTopicOrPartitionError} when the topic has no such partition (or was deleted)
   * @throws {StorageError} when the partition's files cannot be read
   */
  partition(partition: number, forAppend = false): PartitionLog {
    if (!Number.isInteger(partition) || partition < 0 || partition >= this.#opened.length) {
      throw new UnknownTopicOrPartitionError(this.name, partition);
    }
    return this.#opened[partition] ??= this.#openPartition(partition, forAppend);
  }

  /**
   * A `WritableStream` of producer records. Records are grouped per partition into batches of
   * `batchSize` bytes (sent early after `lingerMs`); at most `maxInFlight` batches wait for
   * acknowledgement before `write()` applies backpressure; `close()` resolves once everything
   * written is durable under the topic's fsync policy.
   *
   * The process takes each partition's writer role when it first appends to it, and shares it
   * with other writers of the partition (see `open()`): the stream errors with
   * {@linkcode PartitionLockedError} only when another writer keeps a partition for longer than
   * `lockTimeoutMs`.
   *
   * @param options batching and compression
   * @returns the stream
   * @throws {RangeError} for a bad option
   * @throws {UnsupportedCompressionTypeError} for a `compression` that is not a Kafka codec
   * @example Pipe a stream of records into a topic
   * ```ts
   * import assert from "node:assert/strict";
   * import { open } from "../../mod.ts";
   * const log = await open(Deno.makeTempDirSync());
   * const topic = await log.createTopic("lines");
   * await ReadableStream.from(["a", "b"].map((value) => ({ value }))).pipeTo(topic.writable());
   * assert.equal(topic.partition(0).logEndOffset, 2); // close() resolved: both are in the log
   * await log.close();
   * ```
   */
  writable(options: WritableOptions = {}): WritableStream<ProducerRecord> {
    toCompressionType(options.compression); // a bad codec fails here
    return new WritableStream(new ProduceSink(this, options), { highWaterMark: 64 });
  }

  /**
   * A `WritableStream` of record arrays: each chunk is appended as one {@linkcode Topic.append}
   * call (all or nothing: a bad record fails its whole chunk and errors the stream), chunks in
   * the order written, as few batches per chunk as `maxMessageBytes` allows. The fastest way to
   * pipe records that already come in arrays, such as the chunks of another topic's
   * `readableBatches()`. At most `maxInFlight` chunks wait for acknowledgement before `write()`
   * applies backpressure; `close()` resolves once every chunk is acknowledged under the topic's
   * fsync policy.
   *
   * @param options compression and backpressure
   * @returns the stream
   * @throws {RangeError} for a bad `maxInFlight`
   * @throws {UnsupportedCompressionTypeError} for a `compression` that is not a Kafka codec
   * @example Pipe arrays of records, one batch each
   * ```ts
   * import assert from "node:assert/strict";
   * import { open } from "../../mod.ts";
   * const log = await open(Deno.makeTempDirSync());
   * const topic = await log.createTopic("lines");
   * await ReadableStream.from([[{ value: "a" }, { value: "b" }], [{ value: "c" }]])
   *   .pipeTo(topic.writableBatches());
   * assert.equal(topic.partition(0).logEndOffset, 3);
   * await log.close();
   * ```
   */
  writableBatches(options: WritableBatchesOptions = {}): WritableStream<readonly ProducerRecord[]> {
    const appendOptions = { compression: toCompressionType(options.compression) };
    return new WritableStream(
      new BatchProduceSink((records) => this.append(records, appendOptions), options.maxInFlight),
      { highWaterMark: 4 },
    );
  }

  /**
   * Appends records and resolves, once they are acknowledged under the topic's fsync policy,
   * with each record's partition, offset and timestamp, in the order given. Records for one
   * partition go into as few batches as `maxMessageBytes` allows.
   *
   * @param records the records
   * @param options compression
   * @returns one {@linkcode RecordMetadata} per record
   * @throws {UnknownTopicOrPartitionError} for a partition the topic does not have (nothing is appended)
   * @throws {RecordTooLargeError} for a record larger than `maxMessageBytes` (nothing is appended)
   * @throws {InvalidRecordError} on a topic whose cleanup policy compacts, for a record without a
   *   key, as Kafka refuses it (code 87; nothing is appended)
   * @throws {UnsupportedCompressionTypeError} for a `compression` that is not a Kafka codec
   * @throws {PartitionLockedError} when another writer of a partition the records go to kept its
   *   writer role for longer than `lockTimeoutMs` (the records for other partitions may be
   *   appended: as a Kafka producer's, the outcome is per partition)
   * @example Append and get each record's partition and offset
   * ```ts
   * import assert from "node:assert/strict";
   * import { open } from "../../mod.ts";
   * const log = await open(Deno.makeTempDirSync());
   * const topic = await log.createTopic("events", { partitions: 3 });
   * const [first, second] = await topic.append([{ key: "k", value: "v1" }, { key: "k", value: "v2" }]);
   * assert.equal(second.partition, first.partition); // murmur2 of the key, as Kafka's partitioner
   * assert.equal(second.offset, first.offset + 1);
   * await log.close();
   * ```
   */
  append(records: readonly ProducerRecord[], options: AppendOptions = {}): Promise<RecordMetadata[]> {
    return this.#appender.append(records, options);
  }

  /**
   * A `ReadableStream` of consumed records over one, some or all partitions: from `"earliest"`,
   * `"latest"`, an offset or `{ timestamp }`, optionally up to an end offset, and with `follow`
   * kept open for new records. Readers see records only up to the high watermark. Cancelling the
   * stream, or aborting `signal`, releases everything it holds.
   *
   * @param options where and how to read
   * @returns the stream (each partition in offset order; partitions interleave chunk by chunk)
   * @throws {UnknownTopicOrPartitionError} for a partition the topic does not have
   * @throws {OffsetOutOfRangeError} for a start offset outside `[logStartOffset, logEndOffset]`
   * @example Read from an offset
   * ```ts
   * import assert from "node:assert/strict";
   * import { open } from "../../mod.ts";
   * const log = await open(Deno.makeTempDirSync());
   * const topic = await log.createTopic("events");
   * await topic.append([{ value: "a" }, { value: "b" }]);
   * const offsets = [];
   * for await (const r of topic.readable({ from: 1 })) offsets.push(r.offset);
   * assert.deepEqual(offsets, [1]);
   * await log.close();
   * ```
   */
  readable(options: ReadableOptions = {}): ReadableStream<ConsumedRecord> {
    // Its records go out one by one: each read is decoded 128 KiB at a time (fewer records alive).
    return new RecordStream(new FetchSource<ConsumedRecord[]>(this.name, this, options, true, 128 * 1024));
  }

  /**
   * Like {@linkcode Topic.readable}, but each chunk is an array of records (those of one read
   * from one partition): the fastest way to consume.
   *
   * @param options where and how to read
   * @returns the stream of record arrays
   * @example Read records a batch at a time
   * ```ts
   * import assert from "node:assert/strict";
   * import { open } from "../../mod.ts";
   * const log = await open(Deno.makeTempDirSync());
   * const topic = await log.createTopic("events");
   * await topic.append([{ value: "a" }, { value: "b" }]);
   * const sizes = [];
   * for await (const records of topic.readableBatches()) sizes.push(records.length);
   * assert.deepEqual(sizes, [2]); // one append, one record batch
   * await log.close();
   * ```
   */
  readableBatches(options: ReadableOptions = {}): ReadableStream<ConsumedRecord[]> {
    return new ReadableStream(
      new FetchSource<ConsumedRecord[]>(this.name, this, options, true),
      {
        highWaterMark: 0,
      },
    );
  }

  /**
   * The first offset, per partition, whose record timestamp is at or after `timestamp`
   * (Kafka's `offsetsForTimes`).
   *
   * @param timestamp ms since the epoch
   * @returns per partition the offset and its record's timestamp, or `null` when every record is older
   */
  offsetsForTimes(timestamp: number): ({ partition: number; offset: number; timestamp: number } | null)[] {
    return this.logs.map((log, partition) => {
      const found = log.offsetForTimestamp(timestamp);
      return found ? { partition, ...found } : null;
    });
  }

  /**
   * Each partition's offsets, segments and size (partitions another process writes are
   * refreshed first).
   *
   * @returns one entry per partition
   */
  describe(): PartitionDescription[] {
    for (const log of this.logs) if (!log.closed) log.refresh();
    return this.logs.map((log, partition) => ({
      partition,
      logStartOffset: log.logStartOffset,
      logEndOffset: log.logEndOffset,
      highWatermark: log.highWatermark,
      segments: log.segments.length,
      bytes: log.size,
    }));
  }

  /**
   * Runs retention now over the partitions this process writes or that no process writes (see
   * `PartitionLog.deleteOldSegments`); partitions another live process writes are left to that
   * process's own retention check.
   *
   * @param now the current time, ms since the epoch
   * @returns how many segments were deleted
   * @example Retention deletes whole segments older than retentionMs
   * ```ts
   * import assert from "node:assert/strict";
   * import { open } from "../../mod.ts";
   * const log = await open(Deno.makeTempDirSync());
   * const topic = await log.createTopic("events", { config: { retentionMs: 60_000, segmentBytes: 1024 } });
   * await topic.append([{ value: "x".repeat(1100), timestamp: 0 }]); // fills a 1 KiB segment
   * await topic.append([{ value: "new" }]); // rolls: the first segment is sealed
   * assert.equal(topic.deleteOldSegments(), 1);
   * assert.equal(topic.describe()[0].logStartOffset, 1);
   * await log.close();
   * ```
   */
  deleteOldSegments(now: number = Date.now()): number {
    let deleted = 0;
    for (const log of this.logs) {
      try {
        deleted += log.deleteOldSegments(now);
      } catch (err) {
        if (!(err instanceof PartitionLockedError)) throw err;
      }
    }
    return deleted;
  }

  /**
   * Compacts the topic now (Kafka's log compaction, see `PartitionLog.compact`): in every
   * partition this process writes or that no process writes, each key's last record below the
   * active segment is kept and the records it supersedes are removed; offsets do not change.
   * Partitions another live process writes are left to that process's cleaner.
   *
   * @param options `now` (ms since the epoch) for the tombstone and lag checks
   * @returns what each partition's round did, by partition
   * @throws {StorageError} when a partition's files cannot be read, written or renamed
   * @example Keep only the last value of each key
   * ```ts
   * import assert from "node:assert/strict";
   * import { open } from "../../mod.ts";
   * const log = await open(Deno.makeTempDirSync());
   * const topic = await log.createTopic("users", { config: { cleanupPolicy: "compact", segmentBytes: 1024 } });
   * for (let i = 0; i < 40; i++) await topic.append([{ key: `user-${i % 2}`, value: "v".repeat(90) + i, partition: 0 }]);
   * const [stats] = await topic.compact();
   * assert.ok(stats.recordsKept < stats.recordsRead);
   * const values = new Map<string, string>();
   * for await (const r of topic.readable({ from: "earliest" })) {
   *   values.set(new TextDecoder().decode(r.key!), new TextDecoder().decode(r.value!).slice(90));
   * }
   * assert.deepEqual([...values], [["user-0", "38"], ["user-1", "39"]]);
   * await log.close();
   * ```
   */
  async compact(options: { now?: number } = {}): Promise<CleanerStats[]> {
    const out: CleanerStats[] = [];
    for (const log of this.logs) {
      try {
        out.push(await log.compact({ now: options.now, force: true }));
      } catch (err) {
        if (!(err instanceof PartitionLockedError)) throw err;
      }
    }
    return out;
  }

  /** Forces every partition's appended records to disk. */
  async flush(): Promise<void> {
    await Promise.all(this.logs.map((l) => l.flush()));
  }
}
