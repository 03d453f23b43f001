/**
 * A topic of a Kafka cluster with the faces of a log directory's `Topic`: `writable()`,
 * `writableBatches()`, `append()`, `readable()`, `readableBatches()`, `offsetsForTimes()` and
 * `describe()`, mapped onto Kafka's Produce (idempotent, `acks=all`), Fetch and ListOffsets.
 *
 * @module
 */
import type { Admin, Consumer as KafkaConsumer, MessageToProduce, Producer } from "@platformatic/kafka";
import { RecordTooLargeError, UnknownTopicOrPartitionError } from "../errors.ts";
import { type Compression, CompressionType, toCompressionType } from "../record/compression.ts";
import type { ConsumedRecord } from "../record/consumed_record.ts";
import { type ProducerRecord, toBytes } from "../record/producer_record.ts";
import type { ReadableOptions } from "../consumer/fetch_source.ts";
import type { WritableBatchesOptions, WritableOptions } from "../producer/produce_sink.ts";
import { partitionForKey, StickyPartitioner } from "../producer/partitioner.ts";
import type { AppendOptions, RecordMetadata } from "../topic/topic.ts";
import type { OffsetAndTimestamp, PartitionOffsets, TopicLike } from "./log_directory_like.ts";
import { kafkaErrorNames, recordTimestamp, toMessage } from "./_kafka_mapping.ts";
import { Fetcher, outOfRangeError } from "./_fetcher.ts";

/** ListOffsets' special timestamps (Kafka `ListOffsetsRequest.java`). */
const EARLIEST_TIMESTAMP = -2n;
const LATEST_TIMESTAMP = -1n;

/** The clients a `ClusterTopic` works through (its `ClusterConnection`'s). */
export interface ClusterClients {
  /** The idempotent producer (`acks=all`). */
  producer: Producer;
  /** Admin calls: ListOffsets, CreateTopics, DeleteTopics, offsets of groups. */
  admin: Admin;
  /** A consumer client used only for Fetch and metadata, never joining a group. */
  fetchClient: KafkaConsumer;
}

const COMPRESSION_NAMES = ["none", "gzip", "snappy", "lz4", "zstd"] as const;

function compressionName(c: Compression | undefined): (typeof COMPRESSION_NAMES)[number] {
  return COMPRESSION_NAMES[toCompressionType(c ?? CompressionType.None)];
}

/** A record's size as `batch.size` counts it (key, value, a little overhead), bytes. */
function approximateSize(r: ProducerRecord): number {
  const k = r.key == null ? 0 : typeof r.key === "string" ? r.key.length : r.key.byteLength;
  const v = r.value == null ? 0 : typeof r.value === "string" ? r.value.length : r.value.byteLength;
  return k + v + 16;
}

/**
 * A topic of a Kafka cluster: the same faces as a log directory's `Topic`. Get one from
 * `connection.createTopic()` or `connection.topic()`.
 *
 * - Partitions: the explicit one, else murmur2 of the key (`partitionForKey`, the partition reel and
 *   Kafka's Java producer pick), else a sticky partition that changes after `batchSize` bytes (KIP-794).
 * - Acknowledgements: `append()` and `writable().close()` resolve once Kafka acknowledged every record
 *   with `acks=all` from an idempotent producer (KIP-98): each in-sync replica has it, and a retry
 *   after a leader move is not written twice.
 * - Reads: Fetch from each partition's leader; `from: { timestamp }` and `offsetsForTimes()` use
 *   ListOffsets (KIP-79); a reader that is not `follow` stops at the high watermark it found when it
 *   started.
 *
 * @example The same code over a log directory and over Kafka (typed as `TopicLike`)
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../mod.ts";
 * import type { TopicLike } from "./log_directory_like.ts";
 * async function roundTrip(topic: TopicLike): Promise<string[]> {
 *   await ReadableStream.from([{ key: "k", value: "a" }, { key: "k", value: "b" }]).pipeTo(topic.writable());
 *   const seen: string[] = [];
 *   for await (const r of topic.readable({ from: "earliest" })) seen.push(new TextDecoder().decode(r.value!));
 *   return seen;
 * }
 * // `connect({ bootstrapServers })` gives a ClusterTopic here; a log directory runs the same code.
 * const log = await open(Deno.makeTempDirSync());
 * assert.deepEqual(await roundTrip(await log.createTopic("events")), ["a", "b"]);
 * await log.close();
 * ```
 */
export class ClusterTopic implements TopicLike {
  readonly #clients: ClusterClients;
  readonly #partitions: number;

  /**
   * Made by `ClusterConnection`; not called directly.
   *
   * @param name the topic name
   * @param partitions its partition count, from the cluster's metadata
   * @param clients the connection's clients
   */
  constructor(readonly name: string, partitions: number, clients: ClusterClients) {
    this.#partitions = partitions;
    this.#clients = clients;
  }

  /** How many partitions the topic has (as the metadata said when the connection last refreshed it). */
  get partitions(): number {
    return this.#partitions;
  }

  /**
   * Makes sure the producer's metadata has at least `count` partitions of this topic, reading it
   * again when not (partitions added since it last looked): the client sends a record for
   * partition p to p modulo the partition count it knows, which for a stale count is another
   * partition.
   */
  async #producerKnows(count: number): Promise<void> {
    const { producer } = this.#clients;
    const known = async (forceUpdate: boolean) =>
      (await producer.metadata({ topics: [this.name], forceUpdate })).topics.get(this.name)
        ?.partitionsCount ?? 0;
    if (await known(false) >= count) return;
    if (await known(true) < count) throw new UnknownTopicOrPartitionError(this.name, count - 1);
  }

  #checkPartition(p: number): void {
    if (!Number.isInteger(p) || p < 0 || p >= this.#partitions) {
      throw new UnknownTopicOrPartitionError(this.name, p);
    }
  }

  /**
   * Produces one group of records in a single Produce round (one batch per partition) and resolves
   * with each record's partition, offset and timestamp once Kafka acknowledged them with `acks=all`.
   */
  async #send(
    records: readonly ProducerRecord[],
    sticky: StickyPartitioner,
    compression: Compression | undefined,
  ): Promise<RecordMetadata[]> {
    if (records.length === 0) return [];
    const now = Date.now();
    const messages: MessageToProduce[] = [];
    const meta: RecordMetadata[] = [];
    for (const r of records) {
      let partition: number;
      if (r.partition !== undefined) {
        this.#checkPartition(r.partition);
        partition = r.partition;
      } else {
        const key = toBytes(r.key);
        partition = key !== null
          ? partitionForKey(key, this.#partitions)
          : sticky.partition(approximateSize(r));
      }
      const timestamp = recordTimestamp(r, now);
      messages.push(toMessage(this.name, r, partition, timestamp));
      meta.push({ partition, offset: -1, timestamp });
    }
    await this.#producerKnows(Math.max(...meta.map((m) => m.partition)) + 1);
    let result;
    try {
      result = await this.#clients.producer.send({ messages, compression: compressionName(compression) });
    } catch (err) {
      const names = kafkaErrorNames(err);
      if (names.has("MESSAGE_TOO_LARGE") || names.has("RECORD_LIST_TOO_LARGE")) {
        const size = Math.max(...records.map(approximateSize));
        throw new RecordTooLargeError(
          size,
          -1,
          `Cannot produce to topic "${this.name}": Kafka refused a batch as too large (MESSAGE_TOO_LARGE)`,
        );
      }
      if (names.has("UNKNOWN_TOPIC_OR_PARTITION")) throw new UnknownTopicOrPartitionError(this.name);
      throw err;
    }
    // One batch per partition per send: a record's offset is its partition's base offset plus its
    // place among that partition's records.
    const base = new Map<number, number>();
    for (const o of result.offsets ?? []) if (o.topic === this.name) base.set(o.partition, Number(o.offset));
    const next = new Map<number, number>();
    for (const m of meta) {
      const b = base.get(m.partition);
      const i = next.get(m.partition) ?? 0;
      next.set(m.partition, i + 1);
      m.offset = b === undefined ? -1 : b + i;
    }
    return meta;
  }

  /**
   * Appends records: partitioned as the class doc says, sent in one Produce round.
   *
   * @param records the records
   * @param options `compression` of the batches
   * @returns per record, in order: partition, offset, timestamp (ms)
   * @throws {UnknownTopicOrPartitionError} for an explicit partition the topic does not have
   * @throws {RecordTooLargeError} when Kafka refuses a batch as too large (MESSAGE_TOO_LARGE)
   */
  append(records: readonly ProducerRecord[], options: AppendOptions = {}): Promise<RecordMetadata[]> {
    return this.#send(records, new StickyPartitioner(this.#partitions), options.compression);
  }

  /**
   * A `WritableStream` of records: gathered up to `batchSize` bytes or `lingerMs`, sent one Produce
   * round at a time, in order. `close()` resolves once Kafka acknowledged every record with
   * `acks=all`; a failed send errors the stream (nothing is sent again by reel: the idempotent
   * producer already retried it).
   *
   * @param options `batchSize` (bytes, 16384), `lingerMs` (5), `compression`, `maxInFlight`
   *   (rounds in flight, 1 by default, which keeps order across retries)
   * @returns the stream
   */
  writable(options: WritableOptions = {}): WritableStream<ProducerRecord> {
    const batchSize = options.batchSize ?? 16384;
    const lingerMs = options.lingerMs ?? 5;
    const maxInFlight = Math.max(1, options.maxInFlight ?? 1);
    const sticky = new StickyPartitioner(this.#partitions, batchSize);
    let pending: ProducerRecord[] = [];
    let pendingBytes = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const inFlight = new Set<Promise<unknown>>();
    let chain: Promise<unknown> = Promise.resolve();
    let failure: unknown;
    const flush = () => {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      if (pending.length === 0) return;
      const batch = pending;
      pending = [];
      pendingBytes = 0;
      // Rounds start in order; with maxInFlight 1 each waits for the one before.
      const previous = chain;
      const round: Promise<unknown> = (maxInFlight === 1 ? previous : Promise.resolve())
        .then(() => failure === undefined ? this.#send(batch, sticky, options.compression) : undefined)
        .catch((err) => {
          failure ??= err;
        })
        .finally(() => inFlight.delete(round));
      chain = round;
      inFlight.add(round);
    };
    return new WritableStream<ProducerRecord>({
      write: async (record) => {
        if (failure !== undefined) throw failure;
        pending.push(record);
        pendingBytes += approximateSize(record);
        if (pendingBytes >= batchSize) flush();
        else timer ??= setTimeout(flush, lingerMs);
        while (inFlight.size > maxInFlight) await Promise.race(inFlight);
        if (failure !== undefined) throw failure;
      },
      close: async () => {
        flush();
        await Promise.all(inFlight);
        await chain;
        if (failure !== undefined) throw failure;
      },
      abort: () => {
        if (timer !== undefined) clearTimeout(timer);
        pending = [];
      },
    }, { highWaterMark: 1024 });
  }

  /**
   * A `WritableStream` of record arrays: each chunk is one `append`, in order; `close()` resolves once
   * every chunk is acknowledged.
   *
   * @param options `compression` of the batches
   * @returns the stream
   */
  writableBatches(options: WritableBatchesOptions = {}): WritableStream<readonly ProducerRecord[]> {
    const sticky = new StickyPartitioner(this.#partitions);
    return new WritableStream<readonly ProducerRecord[]>({
      write: async (records) => {
        await this.#send(records, sticky, options.compression);
      },
    });
  }

  /** ListOffsets of every partition at one timestamp (or -1 latest, -2 earliest). */
  async #listOffsets(
    timestamp: bigint,
    partitions: readonly number[],
    isolationLevel: "read_uncommitted" | "read_committed" = "read_uncommitted",
  ): Promise<{ offset: number; timestamp: number }[]> {
    const answer = await this.#clients.admin.listOffsets({
      topics: [{ name: this.name, partitions: partitions.map((p) => ({ partitionIndex: p, timestamp })) }],
      isolationLevel: isolationLevel === "read_committed" ? 1 : 0,
    });
    const byPartition = new Map<number, { offset: number; timestamp: number }>();
    for (const t of answer) {
      for (const p of t.partitions) {
        byPartition.set(p.partitionIndex, { offset: Number(p.offset), timestamp: Number(p.timestamp) });
      }
    }
    return partitions.map((p) => byPartition.get(p) ?? { offset: -1, timestamp: -1 });
  }

  /**
   * Per partition, the first record at or after a time (ListOffsets by timestamp, KIP-79).
   *
   * @param timestamp ms since the epoch
   * @returns per partition, its offset and timestamp, or `null` when no record is that recent
   */
  async offsetsForTimes(timestamp: number): Promise<(OffsetAndTimestamp | null)[]> {
    const all = Array.from({ length: this.#partitions }, (_, p) => p);
    const found = await this.#listOffsets(BigInt(timestamp), all);
    return found.map((f, partition) =>
      f.offset < 0 ? null : { partition, offset: f.offset, timestamp: f.timestamp }
    );
  }

  /**
   * Per partition: log start offset and high watermark (ListOffsets -2 and -1). A client cannot see
   * a leader's log end offset, so `logEndOffset` is the high watermark; `segments` and `bytes` are
   * left out.
   *
   * @returns one entry per partition
   */
  async describe(): Promise<PartitionOffsets[]> {
    const all = Array.from({ length: this.#partitions }, (_, p) => p);
    const [start, end] = await Promise.all([
      this.#listOffsets(EARLIEST_TIMESTAMP, all),
      this.#listOffsets(LATEST_TIMESTAMP, all),
    ]);
    return all.map((partition) => ({
      partition,
      logStartOffset: start[partition].offset,
      logEndOffset: end[partition].offset,
      highWatermark: end[partition].offset,
    }));
  }

  /**
   * A `ReadableStream` of one array of records per Fetch answer.
   *
   * @param options as `readable()`
   * @returns the stream
   * @throws {OffsetOutOfRangeError} (through the stream) when `from` is an offset outside the log
   */
  readableBatches(options: ReadableOptions = {}): ReadableStream<ConsumedRecord[]> {
    const partitions = options.partitions === undefined
      ? Array.from({ length: this.#partitions }, (_, p) => p)
      : Array.isArray(options.partitions)
      ? options.partitions
      : [options.partitions];
    for (const p of partitions) this.#checkPartition(p);
    const isolationLevel = options.isolationLevel ?? "read_uncommitted";
    const fetcher = new Fetcher(this.#clients.fetchClient, {
      maxBytes: options.maxBytes ?? 1048576,
      isolationLevel,
    });
    const positions = new Map<number, number>();
    const ends = new Map<number, number>();
    const signal = options.signal;
    const start = async () => {
      const from = options.from ?? "earliest";
      if (from === "earliest" || from === "latest") {
        const found = await this.#listOffsets(
          from === "earliest" ? EARLIEST_TIMESTAMP : LATEST_TIMESTAMP,
          partitions,
        );
        partitions.forEach((p, i) => positions.set(p, found[i].offset));
      } else if (typeof from === "number") {
        if (!Number.isSafeInteger(from) || from < 0) {
          throw new RangeError(`Invalid offset ${from}: it must be at least 0`);
        }
        for (const p of partitions) positions.set(p, from);
      } else {
        const ms = from.timestamp instanceof Date ? from.timestamp.getTime() : from.timestamp;
        const [found, latest] = await Promise.all([
          this.#listOffsets(BigInt(ms), partitions),
          this.#listOffsets(LATEST_TIMESTAMP, partitions),
        ]);
        partitions.forEach((p, i) =>
          positions.set(p, found[i].offset >= 0 ? found[i].offset : latest[i].offset)
        );
      }
      if (!options.follow) {
        const latest = await this.#listOffsets(LATEST_TIMESTAMP, partitions, isolationLevel);
        partitions.forEach((p, i) => ends.set(p, latest[i].offset));
      }
      if (options.to !== undefined) {
        for (const p of partitions) ends.set(p, Math.min(ends.get(p) ?? Infinity, options.to));
      }
    };
    let started: Promise<void> | undefined;
    return new ReadableStream<ConsumedRecord[]>({
      pull: async (controller) => {
        started ??= start();
        await started;
        for (;;) {
          signal?.throwIfAborted();
          const open = partitions.filter((p) => positions.get(p)! < (ends.get(p) ?? Infinity));
          if (open.length === 0) {
            controller.close();
            return;
          }
          const fetched = await fetcher.fetch(
            open.map((p) => ({ topic: this.name, partition: p, offset: positions.get(p)! })),
            options.follow ? 500 : 100,
          );
          const out: ConsumedRecord[] = [];
          for (const f of fetched) {
            if (f.outOfRange) throw outOfRangeError(f, positions.get(f.partition)!);
            const end = ends.get(f.partition) ?? Infinity;
            for (const r of f.records) if (r.offset < end) out.push(r);
            positions.set(f.partition, Math.min(f.nextOffset, Math.max(end, positions.get(f.partition)!)));
          }
          if (out.length > 0) {
            controller.enqueue(out);
            return;
          }
        }
      },
    }, { highWaterMark: 1 });
  }

  /**
   * A `ReadableStream` of the records of some or all partitions: `from` `"earliest"` (default),
   * `"latest"`, an offset, or `{ timestamp }` (ListOffsets); `to` an exclusive end offset;
   * `follow` keeps it open for new records; `signal` ends it.
   *
   * @param options where to start and stop, which partitions, `maxBytes` per partition and Fetch,
   *   `isolationLevel`
   * @returns the stream
   * @throws {OffsetOutOfRangeError} (through the stream) when `from` is an offset outside the log
   */
  readable(options: ReadableOptions = {}): ReadableStream<ConsumedRecord> {
    const batches = this.readableBatches(options);
    return batches.pipeThrough(
      new TransformStream<ConsumedRecord[], ConsumedRecord>({
        transform(chunk, controller) {
          for (const r of chunk) controller.enqueue(r);
        },
      }),
    );
  }
}
