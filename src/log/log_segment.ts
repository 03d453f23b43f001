/**
 * One segment of a partition's log: `<baseOffset>.log` with its `.index` and `.timeindex`.
 *
 * ```
 * <20-digit baseOffset>.log       => RecordBatch*   (back to back, no file header)
 * <20-digit baseOffset>.index     => OffsetIndexEntry*
 * <20-digit baseOffset>.timeindex => TimeIndexEntry*
 * ```
 * Source: Kafka `LogSegment.java`, `LogFileUtils.java` (file names: the base offset as exactly
 * 20 zero-padded digits) and `docs/implementation.html` §5.4 "Log".
 *
 * @module
 */
import { StorageError } from "../errors.ts";
import { RECORD_BATCH_OVERHEAD } from "../record/record_batch.ts";
import { fileSize, openFileAndSize, removeFile, renameFile } from "../runtime/file_system.ts";
import { batchesFrom, type BatchLocation, type FileBatches, FileRecords } from "./file_records.ts";
import { OffsetIndex } from "./offset_index.ts";
import { PendingWrites } from "./pending_writes.ts";
import { indexedPosition } from "./read_only_segment.ts";
import { TimeIndex } from "./time_index.ts";

/**
 * A segment's file name prefix: the base offset as exactly 20 zero-padded digits.
 *
 * @param offset the base offset
 * @returns e.g. `"00000000000000000042"` for 42
 * @example Kafka's 20-digit segment names
 * ```ts
 * import assert from "node:assert/strict";
 * import { filenamePrefixFromOffset } from "./log_segment.ts";
 * assert.equal(filenamePrefixFromOffset(42) + ".log", "00000000000000000042.log");
 * ```
 */
export function filenamePrefixFromOffset(offset: number): string {
  return String(offset).padStart(20, "0");
}

/**
 * What {@linkcode LogSegment.append} needs to know of a batch besides its bytes.
 */
export interface BatchInfo {
  /** The batch's first offset. */
  baseOffset: number;
  /** The batch's last offset. */
  lastOffset: number;
  /** The largest timestamp in the batch, ms. */
  maxTimestamp: number;
  /** The offset of the record carrying `maxTimestamp`. */
  offsetOfMaxTimestamp: number;
}

/** Index entries the per-round flush lets accumulate before it writes them (see `LogSegment.flush`). */
const INDEX_FLUSH_ENTRIES = 64;

/**
 * One segment: an append-only `.log` file of record batches with its two sparse indexes.
 * Only {@linkcode PartitionLog} uses segments; the class is exported for tools and tests.
 *
 * @example A new segment: its three files, empty
 * ```ts
 * import assert from "node:assert/strict";
 * import * as fs from "node:fs";
 * import { LogSegment } from "./log_segment.ts";
 * const dir = Deno.makeTempDirSync();
 * const segment = LogSegment.create(dir, 0, 4096);
 * assert.ok(segment.logPath.endsWith("00000000000000000000.log"));
 * assert.equal(segment.size, 0);
 * segment.close();
 * assert.deepEqual(fs.readdirSync(dir).sort(), [
 *   "00000000000000000000.index",
 *   "00000000000000000000.log",
 *   "00000000000000000000.timeindex",
 * ]);
 * ```
 */
export class LogSegment {
  /** Path of the `.log` file. */
  readonly logPath: string;
  /** The sparse offset index. */
  offsetIndex: OffsetIndex;
  /** The sparse time index. */
  timeIndex: TimeIndex;
  /** Size of the `.log` file in bytes. */
  size = 0;
  /** The offset after the last batch in this segment (the base offset while empty). */
  nextOffset: number;
  /** The largest timestamp appended so far, ms (-1 while empty). */
  maxTimestampSoFar = -1;
  /** The offset of the record carrying {@linkcode LogSegment.maxTimestampSoFar}. */
  offsetOfMaxTimestampSoFar: number;
  /** The first batch's max timestamp, which `segmentMs` counts from (-1 while empty). */
  rollingBasedTimestamp = -1;
  /**
   * Whether this process only reads the segment (another process writes it): nothing is ever
   * written to its files, and `size` is the end of the last whole batch seen.
   */
  readOnly: boolean;
  /** Whether this stands in for a segment whose file does not exist yet (a reader's empty log). */
  readonly placeholder: boolean;
  /**
   * Whether the indexes in memory were rebuilt (a damaged index found by a lookup) and their files
   * not written: a read-only segment writes no file itself ({@linkcode LogSegment.flushIndexes}).
   */
  indexFilesStale = false;
  /**
   * Whether batches may leave offsets out (a compacted log, see `log_cleaner.ts`): a batch must
   * then start after the previous one ended rather than exactly there. Offsets still only grow.
   */
  offsetGaps = false;
  /** Bytes appended since the last offset index entry (an entry is due past `indexIntervalBytes`). */
  bytesSinceLastIndexEntry = 0;
  /**
   * The `.log` file (closed for a placeholder and once the segment is closed). Its reads see the
   * whole file, for the scans of recovery and loading; {@linkcode LogSegment.read} sees only the
   * written bytes.
   */
  readonly log: FileRecords;
  /** Batches appended with `deferWrite` and not yet written: the bytes at `size − length`. */
  readonly #pending = new PendingWrites();

  /**
   * Opens the `.log` file: creates it with `"w+"`, reads only with `"r"` (see the static methods).
   * Without `open`, an empty read-only placeholder with no file: what a reader sees of a partition
   * whose writer has not created its first segment.
   *
   * @param dir the partition directory
   * @param baseOffset the segment's base offset
   * @param indexIntervalBytes bytes between index entries (`indexIntervalBytes`)
   * @param open how the `.log` file is opened
   */
  constructor(
    readonly dir: string,
    readonly baseOffset: number,
    readonly indexIntervalBytes: number,
    open?: "w+" | "r+" | "r",
  ) {
    this.placeholder = open === undefined;
    this.readOnly = open === undefined || open === "r";
    const prefix = `${dir}/${filenamePrefixFromOffset(baseOffset)}`;
    this.logPath = `${prefix}.log`;
    const opened = open === undefined ? undefined : openFileAndSize(this.logPath, open);
    this.log = new FileRecords(this.logPath, open === "r" ? "r" : "r+", opened?.fd ?? -1);
    // The file's size at open, one fstat: what `LogSegment.open` trusts, and where a read-only
    // segment's load (`loadReadOnlySegment`) scans to.
    if (opened !== undefined) this.size = opened.size;
    this.offsetIndex = new OffsetIndex(`${prefix}.index`, baseOffset);
    this.timeIndex = new TimeIndex(`${prefix}.timeindex`, baseOffset);
    this.nextOffset = baseOffset;
    this.offsetOfMaxTimestampSoFar = baseOffset;
  }

  /**
   * Creates a new, empty segment (its `.log`, `.index` and `.timeindex` files).
   *
   * @param dir the partition directory
   * @param baseOffset the segment's base offset (the log end offset when it is rolled)
   * @param indexIntervalBytes bytes between index entries (`indexIntervalBytes`)
   */
  static create(dir: string, baseOffset: number, indexIntervalBytes: number): LogSegment {
    const segment = new LogSegment(dir, baseOffset, indexIntervalBytes, "w+");
    segment.offsetIndex.flush();
    segment.timeIndex.flush();
    return segment;
  }

  /**
   * Opens an existing segment without scanning it. The caller then either trusts it (a clean
   * shutdown: `loadSegmentIndexes`) or recovers it (`recoverSegment`, in `recover_segment.ts`).
   *
   * @param dir the partition directory
   * @param baseOffset the segment's base offset
   * @param indexIntervalBytes bytes between index entries
   */
  static open(dir: string, baseOffset: number, indexIntervalBytes: number): LogSegment {
    return new LogSegment(dir, baseOffset, indexIntervalBytes, "r+"); // its size: the file's
  }

  /**
   * Opens an existing segment for reading only (another process may be appending to it). Call
   * `loadReadOnlySegment` (`read_only_segment.ts`) next: it scans up to the size the file had
   * at this open (`size` until then).
   *
   * @param dir the partition directory
   * @param baseOffset the segment's base offset
   * @param indexIntervalBytes bytes between index entries
   * @returns the segment, not yet loaded
   * @throws {Error} ENOENT when the segment's `.log` file is gone
   */
  static openReadOnly(dir: string, baseOffset: number, indexIntervalBytes: number): LogSegment {
    return new LogSegment(dir, baseOffset, indexIntervalBytes, "r");
  }

  /** Whether the `.log` file holds bytes not yet fsynced. */
  get dirty(): boolean {
    return this.log.dirty;
  }

  /**
   * Appends one batch whose offsets are already assigned, and adds index entries as Kafka does.
   * On a failed write the file is cut back to its previous size and a {@linkcode StorageError}
   * thrown, so a partial batch never stays in the log.
   *
   * With `deferWrite` the bytes are copied to a pending buffer instead, and written (all the
   * pending batches in one write) by {@linkcode LogSegment.writePending}, which
   * {@linkcode LogSegment.flush} calls first: under `fsync: "always"` many appends then share one
   * write as well as one fdatasync. The segment's `size`, `nextOffset` and indexes count pending
   * batches at once; reads see only what is written.
   *
   * A deferred batch that is `lent` is not copied while the pending batches are all lent and
   * follow one another in the same buffer (see `pending_writes.ts`): they are written from there.
   * The caller then must not change those bytes until {@linkcode LogSegment.writePending} has run.
   *
   * @param batch the whole batch bytes (not kept unless `lent`: the caller may reuse the buffer)
   * @param info the batch's offsets and timestamps
   * @param deferWrite leave the write to {@linkcode LogSegment.writePending}
   * @param lent with `deferWrite`, the bytes may be kept until written instead of copied
   * @throws {StorageError} when the write fails (disk full, I/O error)
   */
  append(batch: Uint8Array, info: BatchInfo, deferWrite = false, lent = false): void {
    if (this.readOnly) {
      throw new StorageError(`Cannot append to ${this.logPath}: it is open for reading only`);
    }
    const position = this.size;
    if (deferWrite) {
      this.#pending.add(batch, lent, this);
    } else {
      this.writePending();
      this.log.write(batch, position);
    }
    this.size += batch.length;
    this.log.dirty = true;
    if (this.rollingBasedTimestamp < 0) this.rollingBasedTimestamp = info.maxTimestamp;
    this.indexBatch(info.lastOffset, info.maxTimestamp, info.offsetOfMaxTimestamp, position, batch.length);
    this.nextOffset = info.lastOffset + 1;
  }

  /** Bytes appended with `deferWrite` and not yet written. */
  get pendingBytes(): number {
    return this.#pending.length;
  }

  /** The bytes of the `.log` file that are written (`size` less the pending bytes). */
  get writtenSize(): number {
    return this.size - this.#pending.length;
  }

  /**
   * Writes the pending batches (see {@linkcode LogSegment.append}) in one write. When the write
   * fails, the file is cut back to where they began and every one of them is taken back: `size`,
   * `nextOffset`, the indexes and the timestamps are what they were before the first of them, so
   * the caller can fail their appends and carry on at that offset.
   *
   * @throws {StorageError} when the write fails; `nextOffset` is then the first offset taken back
   */
  writePending(): void {
    this.#pending.writeTo(this);
  }

  /**
   * Counts a batch at `position` in: the largest timestamp so far, and index entries once more
   * than `indexIntervalBytes` have passed since the last one, as Kafka's `LogSegment.append` does.
   */
  indexBatch(
    lastOffset: number,
    maxTimestamp: number,
    offsetOfMax: number,
    position: number,
    size: number,
  ): void {
    if (maxTimestamp > this.maxTimestampSoFar) {
      this.maxTimestampSoFar = maxTimestamp;
      this.offsetOfMaxTimestampSoFar = offsetOfMax;
    }
    if (this.bytesSinceLastIndexEntry > this.indexIntervalBytes) {
      this.offsetIndex.append(lastOffset, position);
      // As Kafka's TimeIndex: no entry before a batch has a timestamp (an empty batch has none).
      if (this.maxTimestampSoFar >= 0) {
        this.timeIndex.maybeAppend(this.maxTimestampSoFar, this.offsetOfMaxTimestampSoFar);
      }
      this.bytesSinceLastIndexEntry = 0;
    }
    this.bytesSinceLastIndexEntry += size;
  }

  /**
   * Reads up to `length` bytes of the `.log` file from byte `position`.
   *
   * @param position byte position in the file
   * @param length bytes wanted
   * @returns the bytes (fewer at the end of the file)
   */
  read(position: number, length: number): Uint8Array {
    return this.log.read(position, Math.max(0, Math.min(length, this.writtenSize - position)));
  }

  /** A walk over the batch headers of the written bytes from `position` (one read per batch). */
  headers(position: number): FileBatches {
    return batchesFrom(this, position, this.size, { chunkBytes: RECORD_BATCH_OVERHEAD });
  }

  /** The first batch's maxTimestamp (what `segmentMs` counts from), or -1 when there is none. */
  firstMaxTimestamp(): number {
    const first = this.headers(0);
    return first.nextBatch() ? first.maxTimestamp : -1;
  }

  /**
   * Finds the batch that holds `offset` (or the first batch after it): an index lookup, then a
   * forward scan of batch headers from the indexed position, never a scan from the start.
   *
   * @param offset the offset looked for
   * @param startPosition a position known to be at or before the batch (skips the index)
   * @returns the batch's location, or `undefined` when no batch at or past `offset` is found
   */
  translateOffset(offset: number, startPosition?: number): BatchLocation | undefined {
    return this.#find(startPosition ?? indexedPosition(this, offset), offset, -Infinity);
  }

  /**
   * The first batch from `position` on whose last offset is at least `offset` and whose max
   * timestamp is at least `timestamp`, by its header; `undefined` at the end, or at a header that
   * cannot frame a batch of this segment.
   */
  #find(position: number, offset: number, timestamp: number): BatchLocation | undefined {
    const batches = this.headers(position);
    while (batches.nextBatch()) {
      if (!this.plausible(batches)) return undefined;
      if (batches.lastOffset >= offset && batches.maxTimestamp >= timestamp) {
        return {
          baseOffset: batches.baseOffset,
          lastOffset: batches.lastOffset,
          position: batches.position,
          size: batches.size,
        };
      }
    }
    return undefined;
  }

  /** Writes both indexes' new entries to their files (see {@linkcode LogSegment.indexFilesStale}). */
  flushIndexes(): void {
    this.offsetIndex.flush();
    this.timeIndex.flush();
    this.indexFilesStale = false;
  }

  /**
   * Whether a batch header the walk framed (a sane size, inside the segment) has offsets of this
   * segment. The magic byte and the rest are checked when the batch is decoded, so a scan steps
   * over a batch damaged there and only reading that batch fails.
   */
  plausible(batch: FileBatches): boolean {
    return batch.baseOffset >= this.baseOffset && batch.lastOffsetDelta >= 0;
  }

  /**
   * Finds the first batch whose max timestamp is at or after `timestamp`, starting from the time
   * index's entry for it (Kafka's `LogSegment.findOffsetByTimestamp`).
   *
   * @param timestamp ms since the epoch
   * @returns that batch's location, or `undefined` when none is at or after `timestamp`
   */
  findBatchByTimestamp(timestamp: number): BatchLocation | undefined {
    return this.#find(indexedPosition(this, this.timeIndex.lookup(timestamp).offset), -Infinity, timestamp);
  }

  /** Whether either index holds no room for more entries in its int32 relative offsets. */
  canHold(lastOffset: number): boolean {
    return lastOffset - this.baseOffset <= 0x7fffffff;
  }

  /** Whether an fsync of the `.log` file started by {@linkcode LogSegment.flush} is still running. */
  get syncing(): boolean {
    return this.log.syncing;
  }

  /**
   * Writes the pending batches and index entries and, with `sync`, fsyncs the `.log` file (fdatasync) and the
   * indexes. With `sync`, it resolves only once every fsync started before it has finished too, so
   * that bytes whose fsync is still running (started by a roll) are never taken as durable.
   *
   * @param sync force the data to stable storage
   */
  async flush(sync: boolean): Promise<void> {
    if (this.readOnly || this.log.closed) return; // read only, or abandoned: write nothing
    this.writePending();
    // The indexes are written at roll, close and hand-over (flushSync), and in between only every
    // INDEX_FLUSH_ENTRIES entries: a recovery rebuilds them anyway, and a reader scans the few
    // batches past the last entry on disk.
    if (this.offsetIndex.unflushed >= INDEX_FLUSH_ENTRIES) this.offsetIndex.flush();
    if (this.timeIndex.unflushed >= INDEX_FLUSH_ENTRIES) this.timeIndex.flush();
    if (!sync) return;
    // False: someone else's fsync failed and marked the segment dirty again: try once more ourselves.
    if (!(await this.log.datasync())) await this.flush(true);
  }

  /**
   * Fdatasyncs the `.log` file now, on this thread, if it is dirty and no fsync of it is running
   * (a group-commit round with a single append waiting: the thread-pool hop costs more than it
   * saves).
   *
   * @returns whether the segment is now clean (`false`: an fsync is running; use `flush`)
   */
  datasyncNow(): boolean {
    if (this.readOnly || this.log.closed || !this.dirty) return true;
    if (this.log.syncing) return false;
    this.writePending();
    this.log.datasyncNow();
    return true;
  }

  /** The synchronous form of {@linkcode LogSegment.flush}. */
  flushSync(sync: boolean): void {
    if (this.readOnly || this.log.closed) return;
    this.writePending();
    this.offsetIndex.flush();
    this.timeIndex.flush();
    if (sync) this.log.flushSync();
  }

  /**
   * Marks the segment inactive (rolled or closed): cuts the zeros a preallocated file holds past
   * its data, and adds the final time index entry, the segment's largest timestamp, which
   * retention reads (Kafka's `onBecomeInactiveSegment`).
   */
  onBecomeInactiveSegment(): void {
    if (!this.readOnly) this.log.endPreallocation(this.size);
    if (this.maxTimestampSoFar >= 0) {
      this.timeIndex.maybeAppend(this.maxTimestampSoFar, this.offsetOfMaxTimestampSoFar);
    }
  }

  /** Flushes the indexes and closes the `.log` file (a read-only segment only closes it). */
  close(): void {
    if (!this.readOnly) {
      this.onBecomeInactiveSegment();
      this.offsetIndex.flush();
      this.timeIndex.flush();
    }
    this.closeHandle();
  }

  /**
   * The segment's largest record timestamp, ms, which time-based retention compares with
   * `retentionMs`; the `.log` file's modification time when no record has a timestamp (Kafka's
   * `LogSegment.largestTimestamp`).
   */
  get largestTimestamp(): number {
    return this.maxTimestampSoFar >= 0 ? this.maxTimestampSoFar : this.log.lastModified();
  }

  /**
   * The first step of deleting a segment: closes it and renames its three files with the suffix
   * `.deleted` (what the next open removes if the process dies before
   * {@linkcode LogSegment.removeDeleted}). Kafka's `LogSegment.changeFileSuffixes("", ".deleted")`.
   */
  renameForDeletion(): void {
    this.closeHandle();
    for (const path of this.#paths()) {
      try {
        renameFile(path, `${path}.deleted`);
      } catch (err) {
        if ((err as { code?: string }).code !== "ENOENT") throw err;
      }
    }
  }

  /** The second step: removes the files renamed by {@linkcode LogSegment.renameForDeletion}. */
  removeDeleted(): void {
    for (const path of this.#paths()) {
      removeFile(`${path}.deleted`);
    }
  }

  /**
   * Closes the `.log` file handle without writing anything (what a crash leaves): pending batches
   * are dropped.
   */
  closeHandle(): void {
    this.#pending.clear();
    this.log.close();
  }

  /** Closes and removes the segment's three files. */
  delete(): void {
    this.closeHandle();
    for (const path of this.#paths()) {
      if (fileSize(path) >= 0) removeFile(path);
    }
  }

  /** The segment's three files. */
  #paths(): string[] {
    return [this.logPath, this.offsetIndex.path, this.timeIndex.path];
  }
}
