/**
 * The `ReadableStream` face of a topic: records read from one, some or all partitions, from the
 * earliest offset, the latest, a given offset or a timestamp, optionally up to an end offset, and
 * with `follow` kept open for records appended later.
 *
 * @module
 */
import { StorageError, UnknownTopicOrPartitionError } from "../errors.ts";
import type { PartitionLog } from "../log/partition_log.ts";
import { checkIsolationLevel, type IsolationLevel } from "../log/transaction_index.ts";
import type { ConsumedRecord } from "../record/consumed_record.ts";
import { STREAM_READ_BYTES } from "../runtime/file_system.ts";
import { validatePartition } from "../runtime/log_paths.ts";
import { PartitionFetcher } from "./_partition_fetcher.ts";
import type { StartPosition } from "./types.ts";

export type { StartPosition } from "./types.ts";

/** Options of `topic.readable()`. */
export interface ReadableOptions {
  /** The partitions to read. @default every partition */
  partitions?: number | number[];
  /**
   * Where to start: `"earliest"` (the log start offset), `"latest"` (the high watermark, or under
   * `read_committed` the last stable offset: only records appended, or committed, from now on), an
   * offset, or `{ timestamp }` (the first record at or after it, ms or a Date). @default "earliest"
   */
  from?: StartPosition;
  /** Stop before this offset (exclusive), in each partition. @default no end */
  to?: number;
  /**
   * Keep the stream open at the end of the log and deliver records as they are appended (woken by
   * the log, no polling; for a partition another process writes, by watching its directory).
   * Without it the stream ends at the high watermark the stream saw when it was created.
   * @default false
   */
  follow?: boolean;
  /** Aborting it errors the stream with the signal's reason and releases everything it holds. */
  signal?: AbortSignal;
  /**
   * The most bytes read from a partition at a time. A partition's first read takes at most 64 KiB
   * (so a seek decodes little before its first record), and each read after it twice the last, up
   * to this. @default 1048576; from a log directory on Bun 131072, where smaller reads are the
   * faster (`STREAM_READ_BYTES`)
   */
  maxBytes?: number;
  /**
   * Which records to deliver (Kafka's `isolation.level`): `"read_uncommitted"` every record below
   * the high watermark; `"read_committed"` only records below the last stable offset, leaving out
   * those of aborted transactions (a log written by Kafka's transactional producers). Control
   * batches are never delivered. @default "read_uncommitted"
   */
  isolationLevel?: IsolationLevel;
}

interface PartitionState {
  /** The partition's reader: its log and fetch offset. */
  fetcher: PartitionFetcher;
  partition: number;
  /** Stop before this offset (`to`; without follow, at most the end seen at the start). */
  end: number;
}

/**
 * Partition logs opened on demand (what a `Topic` offers): a reader of some partitions of a topic
 * of thousands opens only those.
 */
export interface PartitionSource {
  /** How many partitions there are. */
  readonly partitions: number;
  /**
   * One partition's log, opened on first use.
   *
   * @param partition the partition number
   * @throws {UnknownTopicOrPartitionError} when there is no such partition
   */
  partition(partition: number): PartitionLog;
}

/**
 * The underlying source of `topic.readable()` and `topic.readableBatches()`. Each pull reads one
 * chunk of whole batches from the next partition that has records (round robin), each partition
 * through its {@linkcode PartitionFetcher} (the consumer's reader too), and enqueues the records,
 * one by one or as one array.
 *
 * @example Reading a topic's records from offset 1
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../mod.ts";
 * import type { ConsumedRecord } from "../record/consumed_record.ts";
 * import { FetchSource } from "./fetch_source.ts";
 * const log = await open(Deno.makeTempDirSync());
 * const topic = await log.createTopic("events");
 * await topic.append([{ value: "a" }, { value: "b" }, { value: "c" }]);
 * const source = new FetchSource<ConsumedRecord>("events", topic.logs, { from: 1 }, false);
 * const offsets = [];
 * for await (const record of new ReadableStream(source)) offsets.push(record.offset);
 * assert.deepEqual(offsets, [1, 2]);
 * await log.close();
 * ```
 */
export class FetchSource<T extends ConsumedRecord | ConsumedRecord[]> implements UnderlyingDefaultSource<T> {
  readonly #topic: string;
  readonly #states: PartitionState[];
  readonly #follow: boolean;
  readonly #batched: boolean;
  readonly #signal?: AbortSignal;
  #next = 0;
  #wake: (() => void) | undefined;
  #unsubscribe: (() => void)[] = [];
  #onAbort: (() => void) | undefined;
  #done = false;

  /**
   * Resolves the start offsets at once, so that a bad option throws here.
   *
   * @param topic the topic name
   * @param logs the topic's partition logs, indexed by partition number, or a {@linkcode PartitionSource}
   *   (a `Topic`) that opens only the partitions read
   * @param options where to read
   * @param batched enqueue one array of records per chunk instead of single records
   * @param decodeBytes decode about this many bytes of a read per pull (at least one batch), the
   *   rest at the next pulls: for a stream whose records are handed out one by one
   * @throws {UnknownTopicOrPartitionError} for a partition the topic does not have
   * @throws {OffsetOutOfRangeError} for an offset outside `[logStartOffset, logEndOffset]`
   * @throws {RangeError} for a negative or non-integer offset
   */
  constructor(
    topic: string,
    logs: readonly PartitionLog[] | PartitionSource,
    options: ReadableOptions,
    batched: boolean,
    decodeBytes?: number,
  ) {
    this.#topic = topic;
    this.#follow = options.follow ?? false;
    const maxBytes = options.maxBytes ?? STREAM_READ_BYTES;
    this.#batched = batched;
    this.#signal = options.signal;
    if (!(maxBytes > 0)) throw new RangeError(`Invalid maxBytes ${maxBytes}: must be positive`);
    const to = options.to ?? Infinity;
    if (options.to !== undefined && (!Number.isSafeInteger(to) || to < 0)) {
      throw new RangeError(`Invalid end offset ${options.to}: must be a whole number, 0 or more`);
    }
    const count = Array.isArray(logs) ? logs.length : (logs as PartitionSource).partitions;
    const logOf = Array.isArray(logs)
      ? (p: number) => (logs as readonly PartitionLog[])[p]
      : (p: number) => (logs as PartitionSource).partition(p);
    const partitions = options.partitions === undefined
      ? Array.from({ length: count }, (_, i) => i)
      : Array.isArray(options.partitions)
      ? options.partitions
      : [options.partitions];
    const from = options.from ?? "earliest";
    const readCommitted = checkIsolationLevel(options.isolationLevel) === "read_committed";
    if (typeof from === "number" && (!Number.isSafeInteger(from) || from < 0)) {
      throw new RangeError(`Invalid start offset ${from}: must be a whole number, 0 or more`);
    }
    this.#states = partitions.map((partition) => {
      validatePartition(topic, partition, count);
      const fetcher = new PartitionFetcher(logOf(partition), { maxBytes, readCommitted, decodeBytes });
      // A partition another process writes: its latest state is seen before the offset is resolved.
      fetcher.seek(fetcher.startOffset(from));
      const state: PartitionState = { fetcher, partition, end: to };
      if (!this.#follow) state.end = Math.min(to, fetcher.endOffset());
      return state;
    });
  }

  /** Subscribes to the partitions' appends (follow) and to the abort signal. */
  start(controller: ReadableStreamDefaultController<T>): void {
    if (this.#follow) {
      for (const state of this.#states) {
        this.#unsubscribe.push(state.fetcher.log.onAppend(() => this.#wakeUp()));
      }
    }
    if (this.#signal) {
      if (this.#signal.aborted) {
        this.#release();
        controller.error(this.#signal.reason);
        return;
      }
      this.#onAbort = () => {
        this.#release();
        controller.error(this.#signal!.reason);
      };
      this.#signal.addEventListener("abort", this.#onAbort, { once: true });
    }
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Reads the next chunk of records, waiting for appends when following. */
  async pull(controller: ReadableStreamDefaultController<T>): Promise<void> {
    while (!this.#done) {
      let open = 0;
      for (let i = 0; i < this.#states.length; i++) {
        const state = this.#states[(this.#next + i) % this.#states.length];
        const fetcher = state.fetcher;
        if (fetcher.fetchOffset >= state.end) continue;
        if (fetcher.log.topicDeleted) throw new UnknownTopicOrPartitionError(this.#topic, state.partition);
        if (fetcher.log.closed) {
          if (this.#follow) continue;
          throw new StorageError(`Cannot read from "${this.#topic}-${state.partition}": the log is closed`);
        }
        open++;
        const records = fetcher.fetch(state.end);
        if (records === null) {
          // Without follow, the end is at or below the high watermark (and the last stable offset), so
          // nothing to read means no batch holds the remaining offsets (a gap at the end): this
          // partition is done.
          if (!this.#follow) state.end = fetcher.fetchOffset;
          continue;
        }
        // The next pull goes on to the next partition once this one's read is all decoded.
        this.#next = (this.#next + i + (fetcher.hasUnread ? 0 : 1)) % this.#states.length;
        if (records.length === 0) continue;
        if (this.#batched) controller.enqueue(records as T);
        else for (let j = 0; j < records.length; j++) controller.enqueue(records[j] as T);
        return;
      }
      const live = this.#states.some((s) => s.fetcher.fetchOffset < s.end && !s.fetcher.log.closed);
      if (!this.#follow ? open === 0 : !live) {
        this.#release();
        controller.close();
        return;
      }
      if (!this.#follow) continue;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        // A record may have landed between the reads above and now.
        if (
          this.#states.some((s) =>
            s.fetcher.log.closed || s.fetcher.fetchOffset < Math.min(s.end, s.fetcher.endOffset())
          )
        ) this.#wakeUp();
      });
    }
  }

  /** Stops reading and releases the subscriptions. */
  cancel(): void {
    this.#release();
  }

  #release(): void {
    this.#done = true;
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    this.#unsubscribe = [];
    if (this.#onAbort && this.#signal) this.#signal.removeEventListener("abort", this.#onAbort);
    this.#onAbort = undefined;
    this.#wakeUp();
  }
}
