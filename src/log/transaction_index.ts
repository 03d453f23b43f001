/**
 * What a `read_committed` reader needs from a partition's log: the records that belong to aborted
 * transactions, and the last stable offset (LSO: the first offset of the earliest transaction not
 * yet committed or aborted, or the high watermark when there is none).
 *
 * Kafka keeps aborted transactions in a `.txnindex` file per segment and the open ones in its
 * `ProducerStateManager` (KIP-98; `TransactionIndex.java`, `ProducerStateManager.java`,
 * `LogSegment.collectAbortedTxns`). reel writes no transactions of its own and keeps no `.txnindex`:
 * a log written by Kafka's transactional producers is read from its control batches instead, as
 * Kafka rebuilds its state when the index files are missing. The first use scans the batch headers
 * from the log start offset to the high watermark (and decodes each control batch); each later
 * use scans only what was appended since.
 *
 * ```
 * transactional batch  => attributes bit 4 set, producerId, producerEpoch
 * control batch        => attributes bits 4 and 5 set; one record:
 *   key   => version: int16, type: int16          (0 ABORT, 1 COMMIT: ControlRecordType.java)
 *   value => version: int16, coordinatorEpoch: int32  (EndTransactionMarker.java)
 * ```
 *
 * A transaction is the producer's transactional batches from its first one after the previous
 * marker of that producer up to its next marker. Under `read_committed` a reader reads only below
 * the LSO and skips the batches of aborted transactions; control batches are never delivered.
 *
 * @module
 */
import { OffsetOutOfRangeError } from "../errors.ts";
import { LOG_OVERHEAD, readRecordBatchHeader } from "../record/record_batch.ts";
import { decodeRecordBatch } from "../record/record_batch_decoder.ts";
import type { PartitionLog, ReadCursor } from "./partition_log.ts";

/**
 * Which records a reader sees (Kafka's `isolation.level`): `"read_uncommitted"` every record below
 * the high watermark, aborted transactions included; `"read_committed"` only records below the last
 * stable offset, without those of aborted transactions. Control batches are never delivered.
 */
export type IsolationLevel = "read_uncommitted" | "read_committed";

/** The control record types of transaction markers (Kafka's `ControlRecordType`). */
const ABORT = 0;
const COMMIT = 1;
/** Bytes read per scan step. */
const SCAN_BYTES = 1 << 20;

/**
 * Checks an `isolationLevel` option.
 *
 * @param value the option as given
 * @returns the level, `"read_uncommitted"` when absent
 * @throws {TypeError} for anything else
 * @example The default and a refused value
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkIsolationLevel } from "./transaction_index.ts";
 * assert.equal(checkIsolationLevel(undefined), "read_uncommitted");
 * assert.throws(() => checkIsolationLevel("committed"), TypeError);
 * ```
 */
export function checkIsolationLevel(value: unknown): IsolationLevel {
  if (value === undefined) return "read_uncommitted";
  if (value === "read_uncommitted" || value === "read_committed") return value;
  throw new TypeError(
    `Invalid isolationLevel ${JSON.stringify(value)}: expected "read_uncommitted" or "read_committed"`,
  );
}

interface OngoingTransaction {
  firstOffset: number;
  /** The offsets of its batches: [baseOffset, lastOffset] pairs, in order. */
  batches: number[];
}

const indexes = new WeakMap<PartitionLog, TransactionIndex>();

/**
 * The aborted transactions and the last stable offset of one partition log, kept up to date by
 * {@linkcode TransactionIndex.update}. One per log, shared by its readers ({@linkcode TransactionIndex.of}).
 *
 * @example A log without transactions: the last stable offset is the high watermark
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeRecordBatch } from "../record/mod.ts";
 * import { DEFAULT_LOG_CONFIG, PartitionLog } from "./mod.ts";
 * import { TransactionIndex } from "./transaction_index.ts";
 * const log = PartitionLog.open(`${Deno.makeTempDirSync()}/t-0`, "t", 0, DEFAULT_LOG_CONFIG);
 * await log.append(encodeRecordBatch([{ value: new Uint8Array(1) }, { value: null }]));
 * const transactions = TransactionIndex.of(log);
 * assert.equal(transactions.update(), 2);
 * assert.equal(transactions.isAborted(0), false);
 * await log.close();
 * ```
 */
export class TransactionIndex {
  readonly #log: PartitionLog;
  /** Every batch below this offset has been scanned. */
  #scanned = -1;
  #cursor: ReadCursor | undefined;
  readonly #ongoing = new Map<number, OngoingTransaction>();
  /** Offset ranges of aborted batches: [first, last] pairs, sorted once `#sorted`. */
  #aborted: number[] = [];
  #sorted = true;

  private constructor(log: PartitionLog) {
    this.#log = log;
  }

  /**
   * The transaction index of a log, made on first use.
   *
   * @param log the partition log
   * @returns its index (not yet scanned: call {@linkcode TransactionIndex.update})
   */
  static of(log: PartitionLog): TransactionIndex {
    let index = indexes.get(log);
    if (!index) indexes.set(log, index = new TransactionIndex(log));
    return index;
  }

  /**
   * Scans what was appended since the last call, up to the high watermark, and returns the last
   * stable offset.
   *
   * @returns the LSO: the first offset of the earliest open transaction, else the high watermark
   * @throws {CorruptRecordError} when a batch fails its checks (as a read would)
   */
  update(): number {
    const log = this.#log;
    if (this.#scanned < log.logStartOffset) this.#reset(log.logStartOffset);
    let guard = 0;
    while (this.#scanned < log.highWatermark) {
      let data;
      try {
        data = log.read(this.#scanned, SCAN_BYTES, this.#cursor);
      } catch (err) {
        // Retention deleted what was being scanned: start again from the new log start offset.
        if (!(err instanceof OffsetOutOfRangeError) || ++guard > 3) throw err;
        this.#reset(log.logStartOffset);
        continue;
      }
      if (!data) break;
      this.#scan(data.bytes);
      this.#cursor = data.next;
      this.#scanned = data.next.offset;
    }
    return this.lastStableOffset;
  }

  /** The last stable offset as of the last {@linkcode TransactionIndex.update}. */
  get lastStableOffset(): number {
    let lso = Math.min(this.#scanned, this.#log.highWatermark);
    for (const t of this.#ongoing.values()) lso = Math.min(lso, t.firstOffset);
    return lso;
  }

  /**
   * Whether the record at `offset` belongs to a transaction that was aborted (as far as scanned).
   *
   * @param offset a record's offset
   * @returns `true` for a record a read_committed reader must skip
   */
  isAborted(offset: number): boolean {
    const ranges = this.#ranges();
    let lo = 0, hi = ranges.length / 2 - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (ranges[2 * mid + 1] < offset) lo = mid + 1;
      else if (ranges[2 * mid] > offset) hi = mid - 1;
      else return true;
    }
    return false;
  }

  /**
   * Leaves out the records of aborted transactions.
   *
   * @param records records in offset order
   * @returns the same array when none was aborted, else a new one without them
   */
  withoutAborted<R extends { offset: number }>(records: R[]): R[] {
    if (this.#aborted.length === 0 || records.length === 0) return records;
    const ranges = this.#ranges();
    const first = records[0].offset, last = records[records.length - 1].offset;
    // Most reads overlap no aborted range.
    let overlaps = false;
    for (let i = 0; i < ranges.length && !overlaps; i += 2) {
      overlaps = ranges[i] <= last && ranges[i + 1] >= first;
    }
    return overlaps ? records.filter((r) => !this.isAborted(r.offset)) : records;
  }

  #ranges(): number[] {
    if (!this.#sorted) {
      const pairs: [number, number][] = [];
      for (let i = 0; i < this.#aborted.length; i += 2) pairs.push([this.#aborted[i], this.#aborted[i + 1]]);
      pairs.sort((a, b) => a[0] - b[0]);
      this.#aborted = pairs.flat();
      this.#sorted = true;
    }
    return this.#aborted;
  }

  #reset(offset: number): void {
    this.#scanned = offset;
    this.#cursor = undefined;
    this.#ongoing.clear();
  }

  #scan(bytes: Uint8Array): void {
    let position = 0;
    while (position < bytes.length) {
      const h = readRecordBatchHeader(bytes, position);
      const size = h.batchLength + LOG_OVERHEAD;
      if (h.isTransactional) {
        const lastOffset = h.baseOffset + h.lastOffsetDelta;
        if (h.isControl) {
          const type = markerType(bytes, position);
          const open = this.#ongoing.get(h.producerId);
          if (open && (type === ABORT || type === COMMIT)) {
            this.#ongoing.delete(h.producerId);
            if (type === ABORT) {
              const prev = this.#aborted.length;
              this.#aborted.push(...open.batches);
              if (prev > 0 && this.#aborted[prev] < this.#aborted[prev - 1]) this.#sorted = false;
            }
          }
        } else {
          let open = this.#ongoing.get(h.producerId);
          if (!open) this.#ongoing.set(h.producerId, open = { firstOffset: h.baseOffset, batches: [] });
          open.batches.push(h.baseOffset, lastOffset);
        }
      }
      position += size;
    }
  }
}

/** The type of a control batch's record (`-1` for a control batch without one). */
function markerType(bytes: Uint8Array, position: number): number {
  const { records } = decodeRecordBatch(bytes, position);
  const key = records[0]?.key;
  if (!key || key.length < 4) return -1;
  return new DataView(key.buffer, key.byteOffset, key.byteLength).getInt16(2);
}
