/**
 * The one reader of a partition's log for the consumer side: where a read starts (the earliest
 * offset, the latest, an offset, a timestamp, or the consumer's `autoOffsetReset` policy), and each
 * fetch of whole record batches from the fetch offset, checked (CRC-32C) and decoded straight into
 * consumer records, bounded under `read_committed` by the last stable offset. `topic.readable()`
 * (through `FetchSource`) and the `Consumer` (through its `Fetcher`) both read with it: Kafka's
 * `Fetcher` sends one Fetch per partition the same way for both.
 *
 * @module
 */
import { NoOffsetForPartitionError, OffsetOutOfRangeError } from "../errors.ts";
import { batchesFrom } from "../log/file_records.ts";
import type { FetchData, PartitionLog, ReadCursor } from "../log/partition_log.ts";
import { TransactionIndex } from "../log/transaction_index.ts";
import type { ConsumedRecord } from "../record/consumed_record.ts";
import type { AutoOffsetReset } from "./consumer_config.ts";
import type { StartPosition } from "./types.ts";

/** The size of a partition's first fetch, bytes, unless a reader asks otherwise. */
const FIRST_FETCH_BYTES = 64 * 1024;

/** Options of a {@linkcode PartitionFetcher}. */
export interface PartitionFetcherOptions {
  /** The most bytes one fetch reads (Kafka's `max.partition.fetch.bytes`). */
  maxBytes: number;
  /**
   * The bytes of the first fetch (and the first after a seek); each fetch after it reads twice the
   * last, up to `maxBytes`. @default the smaller of 64 KiB and `maxBytes`
   */
  firstFetchBytes?: number;
  /** Read only below the last stable offset, without aborted transactions' records (`read_committed`). */
  readCommitted?: boolean;
  /**
   * Decode about this many bytes of a read per fetch (at least one batch); the rest waits, read
   * already, for the next fetch. A reader that hands records out one by one keeps fewer decoded
   * records alive and decodes bytes still in the CPU cache. @default Infinity (a whole read)
   */
  decodeBytes?: number;
}

/**
 * A read cut after its whole batches within `bytes` (at least one): the first part, with its own
 * `next`, and the rest, or `undefined` when nothing is left over.
 */
function splitRead(data: FetchData, bytes: number): [FetchData, FetchData | undefined] {
  const batches = batchesFrom(data.bytes, 0, data.bytes.length);
  let end = 0, nextOffset = 0;
  while (batches.nextBatch() && (end === 0 || batches.nextPosition <= bytes)) {
    end = batches.nextPosition;
    nextOffset = batches.lastOffset + 1;
  }
  if (end === 0 || end >= data.bytes.length) return [data, undefined];
  const { segmentBaseOffset, position } = data;
  const next = {
    offset: nextOffset,
    segmentBaseOffset,
    position: position + end,
    generation: data.next.generation,
  };
  return [
    { ...data, bytes: data.bytes.subarray(0, end), next },
    { ...data, bytes: data.bytes.subarray(end), position: position + end },
  ];
}

/**
 * The end of what a reader of a partition may read now.
 *
 * @param log the partition's log
 * @param readCommitted under `read_committed`: the last stable offset
 * @returns the last stable offset under `read_committed`, else the high watermark
 * @example The end of a partition
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../mod.ts";
 * import { endOffsetOf } from "./_partition_fetcher.ts";
 * const log = await open(Deno.makeTempDirSync());
 * const topic = await log.createTopic("events");
 * await topic.append([{ value: "a" }, { value: "b" }]);
 * assert.equal(endOffsetOf(topic.partition(0), false), 2);
 * assert.equal(endOffsetOf(topic.partition(0), true), 2); // no open transaction
 * await log.close();
 * ```
 */
export function endOffsetOf(log: PartitionLog, readCommitted: boolean): number {
  return readCommitted ? TransactionIndex.of(log).update() : log.highWatermark;
}

/**
 * A partition's earliest or latest offset now (Kafka's `ListOffsets`), after seeing the log's
 * latest state (a partition another process writes is refreshed first).
 *
 * @param log the partition's log
 * @param which `"earliest"` (the log start offset) or `"latest"` ({@linkcode endOffsetOf})
 * @param readCommitted under `read_committed`: "latest" is the last stable offset
 * @returns the offset
 * @example The earliest and latest offsets
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../mod.ts";
 * import { listOffset } from "./_partition_fetcher.ts";
 * const log = await open(Deno.makeTempDirSync());
 * const topic = await log.createTopic("events");
 * await topic.append([{ value: "a" }, { value: "b" }]);
 * assert.equal(listOffset(topic.partition(0), "earliest", false), 0);
 * assert.equal(listOffset(topic.partition(0), "latest", false), 2);
 * await log.close();
 * ```
 */
export function listOffset(log: PartitionLog, which: "earliest" | "latest", readCommitted: boolean): number {
  log.refresh();
  return which === "earliest" ? log.logStartOffset : endOffsetOf(log, readCommitted);
}

/**
 * Reads one partition's records from a fetch offset on, a chunk of whole batches at a time.
 *
 * @example Fetch from the earliest offset, then wait for more
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../mod.ts";
 * import { PartitionFetcher } from "./_partition_fetcher.ts";
 * const log = await open(Deno.makeTempDirSync());
 * const topic = await log.createTopic("events");
 * await topic.append([{ value: "a" }, { value: "b" }, { value: "c" }]);
 * const fetcher = new PartitionFetcher(topic.partition(0), { maxBytes: 1 << 20 });
 * fetcher.seek(fetcher.startOffset(1));
 * assert.deepEqual(fetcher.fetch()?.map((r) => r.offset), [1, 2]);
 * assert.equal(fetcher.fetchOffset, 3);
 * assert.equal(fetcher.fetch(), null); // nothing past the high watermark yet
 * assert.equal(fetcher.resetOffset("earliest", undefined, "g"), 0);
 * await log.close();
 * ```
 */
export class PartitionFetcher {
  /** The partition's log. */
  readonly log: PartitionLog;
  /** Under `read_committed`: the log's aborted transactions and last stable offset. */
  readonly transactions: TransactionIndex | undefined;
  /** The next offset to read from the log. */
  fetchOffset = 0;
  #cursor: ReadCursor | undefined;
  /** What the last read holds past what was decoded (see `decodeBytes`). */
  #unread: FetchData | undefined;
  readonly #decodeBytes: number;
  #fetchBytes: number;
  readonly #firstFetchBytes: number;
  readonly #maxBytes: number;

  /**
   * @param log the partition's log
   * @param options how much to read, and under which isolation level
   */
  constructor(log: PartitionLog, options: PartitionFetcherOptions) {
    this.log = log;
    this.#maxBytes = options.maxBytes;
    this.#firstFetchBytes = options.firstFetchBytes ?? Math.min(FIRST_FETCH_BYTES, options.maxBytes);
    this.#fetchBytes = this.#firstFetchBytes;
    this.#decodeBytes = options.decodeBytes ?? Infinity;
    this.transactions = options.readCommitted ? TransactionIndex.of(log) : undefined;
  }

  /**
   * The end of what this fetcher may read now: the last stable offset under `read_committed`, else
   * the high watermark.
   */
  endOffset(): number {
    return this.transactions ? this.transactions.update() : this.log.highWatermark;
  }

  /**
   * The offset a start position names in this partition, after seeing the log's latest state (a
   * partition another process writes is refreshed first).
   *
   * @param from `"earliest"` (the log start offset), `"latest"` ({@linkcode endOffset}: the high
   *   watermark, or under `read_committed` the last stable offset, as Kafka's `ListOffsets`), an
   *   offset, or `{ timestamp }` (the first record at or after it, never past that end)
   * @returns the offset
   * @throws {OffsetOutOfRangeError} for an offset outside `[logStartOffset, logEndOffset]`
   * @throws {TypeError} for a start position that is none of these
   */
  startOffset(from: StartPosition): number {
    const log = this.log;
    if (!log.closed) log.refresh();
    if (from === "earliest") return log.logStartOffset;
    if (from === "latest") return this.endOffset();
    if (typeof from === "number") {
      log.checkOffset(from);
      return from;
    }
    if (typeof from === "object" && from !== null && "timestamp" in from) {
      const ts = from.timestamp instanceof Date ? from.timestamp.getTime() : from.timestamp;
      if (typeof ts !== "number" || !Number.isFinite(ts)) {
        throw new TypeError(`Invalid start timestamp ${String(from.timestamp)}`);
      }
      const end = this.endOffset();
      return Math.min(log.offsetForTimestamp(ts)?.offset ?? end, end);
    }
    throw new TypeError(
      `Invalid start position ${
        JSON.stringify(from)
      }: expected "earliest", "latest", an offset or { timestamp }`,
    );
  }

  /**
   * Where a consumer without a usable offset starts, as its `autoOffsetReset` policy says, after
   * seeing the log's latest state: `"earliest"` the log start offset, `"latest"` the end
   * ({@linkcode listOffset}).
   *
   * @param policy the reset policy
   * @param outOfRange the offset that fell outside the log, if that is why
   * @param groupId the consumer's group, if any (for the error)
   * @returns the offset to start from
   * @throws {OffsetOutOfRangeError} under `"none"`, for an offset outside the log
   * @throws {NoOffsetForPartitionError} under `"none"`, without one (no committed offset)
   */
  resetOffset(policy: AutoOffsetReset, outOfRange: number | undefined, groupId: string | undefined): number {
    const log = this.log;
    if (policy !== "none") return listOffset(log, policy, this.transactions !== undefined);
    log.refresh();
    if (outOfRange !== undefined) {
      throw new OffsetOutOfRangeError(
        log.topic,
        log.partition,
        outOfRange,
        log.logStartOffset,
        log.logEndOffset,
      );
    }
    throw new NoOffsetForPartitionError(groupId, log.topic, log.partition);
  }

  /** Whether the last read holds batches not decoded yet: the next fetch takes them, reading nothing. */
  get hasUnread(): boolean {
    return this.#unread !== undefined;
  }

  /**
   * Moves the fetch offset; the next fetch reads from there (and small again).
   *
   * @param offset the next offset to read
   */
  seek(offset: number): void {
    this.fetchOffset = offset;
    this.#cursor = undefined;
    this.#unread = undefined;
    this.#fetchBytes = this.#firstFetchBytes;
  }

  /**
   * Reads the next whole record batches and moves the fetch offset past them. Under
   * `read_committed` only records below the last stable offset come back, without those of aborted
   * transactions; batches past it are read again once their transaction ends.
   *
   * @param to return only records before this offset
   * @returns the records at or after the fetch offset (empty when the batches read hold none: control
   *   records, aborted transactions, gaps), or `null` when there is nothing to read now: the fetch
   *   offset is at `to` or at the end ({@linkcode PartitionFetcher.endOffset})
   * @throws {OffsetOutOfRangeError} when the fetch offset is outside the log (retention deleted it)
   * @throws {CorruptRecordError} when a batch read fails its checks
   */
  fetch(to: number = Infinity): ConsumedRecord[] | null {
    const transactions = this.transactions;
    // Under read_committed the last stable offset bounds the read (it only moves forward).
    const end = transactions ? Math.min(to, transactions.update()) : to;
    if (this.fetchOffset >= end) return null;
    let data: FetchData | null | undefined = this.#unread;
    this.#unread = undefined;
    if (data === undefined) {
      data = this.log.read(this.fetchOffset, this.#fetchBytes, this.#cursor);
      if (!data) return null;
      this.#fetchBytes = Math.min(this.#fetchBytes * 2, this.#maxBytes);
    }
    let rest: FetchData | undefined;
    if (data.bytes.length > this.#decodeBytes) [data, rest] = splitRead(data, this.#decodeBytes);
    const next = data.next;
    // Decoded straight into consumer records: no copy per record.
    let records: ConsumedRecord[] = this.log.decodeWithSource(data, this.fetchOffset, end);
    // The rest waits unless a bad batch moved `next` to itself: the next read from there reports it.
    if (data.next === next) this.#unread = rest;
    if (transactions) {
      records = transactions.withoutAborted(records);
      if (data.next.offset > end) {
        // Batches past the last stable offset are read again once their transaction ends.
        this.#unread = undefined;
        this.#cursor = undefined;
        this.fetchOffset = end;
        return records;
      }
    }
    this.#cursor = data.next;
    this.fetchOffset = data.next.offset;
    return records;
  }
}
