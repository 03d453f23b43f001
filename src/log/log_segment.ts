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
import { MAGIC, RECORD_BATCH_OVERHEAD } from "../record/record_batch.ts";
import {
  datasync,
  datasyncSync,
  fileSize,
  fs,
  openFile,
  readFully,
  writeFully,
} from "../runtime/file_system.ts";
import { CachedFile } from "../runtime/file_handle_cache.ts";
import { batchesFrom, type BatchSource, type FileBatches, findValidBatch } from "./file_records.ts";
import { OffsetIndex } from "./offset_index.ts";
import { PendingWrites } from "./pending_writes.ts";
import { TimeIndex } from "./time_index.ts";

/** What {@linkcode LogSegment.writePending} restores when the write of pending batches fails. */
interface PendingState {
  nextOffset: number;
  maxTimestampSoFar: number;
  offsetOfMaxTimestampSoFar: number;
  rollingBasedTimestamp: number;
  bytesSinceLastIndexEntry: number;
}

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

/**
 * Where a batch lies in a segment, as found by a scan.
 */
export interface BatchLocation {
  /** The batch's base offset. */
  baseOffset: number;
  /** The batch's last offset. */
  lastOffset: number;
  /** Byte position of the batch in the `.log` file. */
  position: number;
  /** The batch's size in bytes (batchLength + 12). */
  size: number;
}

/** The result of {@linkcode LogSegment.recover}. */
export interface RecoveryResult {
  /** Bytes of valid batches kept. */
  validBytes: number;
  /** Bytes cut from the tail (a torn or corrupt batch and everything after it). */
  truncatedBytes: number;
  /** The offset after the segment's last valid batch. */
  nextOffset: number;
  /**
   * Damage that was found and not cut (below the durable offset): the byte position and offset of
   * the first invalid batch, and what is wrong with it.
   */
  damage?: { position: number; offset: number; detail: string };
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
  /** Whether the `.log` file holds bytes not yet fsynced. */
  dirty = false;
  /**
   * Whether this process only reads the segment (another process writes it): nothing is ever
   * written to its files, and `size` is the end of the last whole batch seen.
   */
  readOnly = false;
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
  /**
   * The `.log` file, opened on demand (the process-wide cache closes it when unused, see
   * `setMaxOpenFiles`); `undefined` for a placeholder and once closed.
   */
  #file: CachedFile | undefined;
  /** The `.log` file's descriptor (opened again if the cache closed it). */
  #fd(): number {
    if (this.#file === undefined) throw new StorageError(`Cannot use ${this.logPath}: the segment is closed`);
    return this.#file.fd();
  }
  /** The whole `.log` file, for the scans of recovery and loading (reads see only written bytes). */
  readonly #file_: BatchSource = { read: (position, length) => readFully(this.#fd(), position, length) };
  /** The fsync running now, if any (a roll starts one that later appends must wait for). */
  #inFlightSync: Promise<void> | undefined;
  #bytesSinceLastIndexEntry = 0;
  /** Batches appended with `deferWrite` and not yet written: the bytes at `size − length`. */
  readonly #pending = new PendingWrites();
  /** What the segment was before its first pending batch: restored when their write fails. */
  #beforePending: PendingState | undefined;

  private constructor(
    readonly dir: string,
    readonly baseOffset: number,
    readonly indexIntervalBytes: number,
    fd: number,
    mode: "r" | "r+" = "r+",
  ) {
    this.placeholder = fd < 0;
    const prefix = `${dir}/${filenamePrefixFromOffset(baseOffset)}`;
    this.logPath = `${prefix}.log`;
    this.#file = fd < 0 ? undefined : new CachedFile(this.logPath, mode, fd);
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
    const path = `${dir}/${filenamePrefixFromOffset(baseOffset)}.log`;
    const fd = openFile(path, "w+");
    const segment = new LogSegment(dir, baseOffset, indexIntervalBytes, fd);
    segment.offsetIndex.flush();
    segment.timeIndex.flush();
    return segment;
  }

  /**
   * Opens an existing segment without scanning it. The caller then either trusts it (a clean
   * shutdown: {@linkcode LogSegment.loadIndexes}) or calls {@linkcode LogSegment.recover}.
   *
   * @param dir the partition directory
   * @param baseOffset the segment's base offset
   * @param indexIntervalBytes bytes between index entries
   */
  static open(dir: string, baseOffset: number, indexIntervalBytes: number): LogSegment {
    const path = `${dir}/${filenamePrefixFromOffset(baseOffset)}.log`;
    const fd = openFile(path, "r+");
    const segment = new LogSegment(dir, baseOffset, indexIntervalBytes, fd);
    segment.size = fs.fstatSync(fd).size;
    return segment;
  }

  /**
   * An empty, read-only stand-in for a segment whose files do not exist yet: what a reader sees of
   * a partition whose writer has not created its first segment. It holds no file handle.
   *
   * @param dir the partition directory
   * @param baseOffset the base offset the first segment will have
   * @param indexIntervalBytes bytes between index entries
   */
  static placeholder(dir: string, baseOffset: number, indexIntervalBytes: number): LogSegment {
    const segment = new LogSegment(dir, baseOffset, indexIntervalBytes, -1);
    segment.readOnly = true;
    return segment;
  }

  /**
   * Opens an existing segment for reading only (another process may be appending to it). Call
   * {@linkcode LogSegment.loadReadOnly} next.
   *
   * @param dir the partition directory
   * @param baseOffset the segment's base offset
   * @param indexIntervalBytes bytes between index entries
   * @throws {Error} ENOENT when the segment's `.log` file is gone
   */
  static openReadOnly(dir: string, baseOffset: number, indexIntervalBytes: number): LogSegment {
    const path = `${dir}/${filenamePrefixFromOffset(baseOffset)}.log`;
    const fd = openFile(path, "r");
    const segment = new LogSegment(dir, baseOffset, indexIntervalBytes, fd, "r");
    segment.readOnly = true;
    return segment;
  }

  /**
   * Loads a segment that another process may be writing, changing no file: reads the index files
   * if they pass their checks (else starts from empty in-memory indexes), then scans batch
   * headers from the last indexed batch to the end of the last whole batch in the file. A torn or
   * half-written tail is simply where the segment ends for now. Offsets must be dense from
   * `expectedBaseOffset` (when given).
   *
   * @param expectedBaseOffset the offset the first batch must start at, when known
   */
  loadReadOnly(expectedBaseOffset?: number): void {
    if (this.placeholder) return;
    const fileBytes = fs.fstatSync(this.#fd()).size;
    const offsetIndex = OffsetIndex.load(this.offsetIndex.path, this.baseOffset, fileBytes);
    const timeIndex = TimeIndex.load(this.timeIndex.path, this.baseOffset, Number.MAX_SAFE_INTEGER);
    this.maxTimestampSoFar = -1;
    this.offsetOfMaxTimestampSoFar = this.baseOffset;
    this.rollingBasedTimestamp = -1;
    let from = 0;
    let expected = expectedBaseOffset;
    if (offsetIndex && timeIndex && offsetIndex.lastEntry) {
      this.offsetIndex = offsetIndex;
      this.timeIndex = timeIndex;
      from = offsetIndex.lastEntry.position;
      expected = undefined;
      const lastTime = timeIndex.lastEntry;
      if (lastTime) {
        this.maxTimestampSoFar = lastTime.timestamp;
        this.offsetOfMaxTimestampSoFar = lastTime.offset;
      }
    } else {
      this.offsetIndex = new OffsetIndex(this.offsetIndex.path, this.baseOffset);
      this.timeIndex = new TimeIndex(this.timeIndex.path, this.baseOffset);
    }
    this.size = from;
    this.nextOffset = this.baseOffset;
    this.#bytesSinceLastIndexEntry = 0;
    this.#scanForward(fileBytes, expected);
    if (this.size > 0) this.rollingBasedTimestamp = this.#firstMaxTimestamp();
  }

  /**
   * For a read-only segment: picks up the whole batches appended since the last look.
   *
   * @returns bytes added, or -1 when the file shrank (another process recovered it: reload it)
   */
  refreshReadOnly(): number {
    if (this.placeholder) return 0;
    const fileBytes = fs.fstatSync(this.#fd()).size;
    if (fileBytes < this.size) return -1;
    if (fileBytes === this.size) return 0;
    const before = this.size;
    this.#scanForward(fileBytes, this.size === 0 ? undefined : this.nextOffset);
    return this.size - before;
  }

  /**
   * Scans batch headers from `size` to `fileBytes`, indexing each whole batch in memory, and stops
   * at the first incomplete or implausible one. Reads in chunks, never a batch's records.
   */
  #scanForward(fileBytes: number, expected: number | undefined): void {
    const batches = batchesFrom(this.#file_, this.size, fileBytes);
    while (batches.nextBatch()) {
      const baseOffset = batches.baseOffset;
      if (batches.magic !== MAGIC || batches.lastOffsetDelta < 0 || baseOffset < this.baseOffset) break;
      if (expected !== undefined && (this.offsetGaps ? baseOffset < expected : baseOffset !== expected)) {
        break;
      }
      const lastOffset = batches.lastOffset;
      const maxTimestamp = batches.maxTimestamp;
      if (this.rollingBasedTimestamp < 0) this.rollingBasedTimestamp = maxTimestamp;
      // As in append: an entry only once indexIntervalBytes have passed since the last one (so
      // neither a segment's first batch nor the already indexed batch a load starts from gets one).
      this.#indexBatch(lastOffset, maxTimestamp, lastOffset, batches.position, batches.size);
      expected = lastOffset + 1;
      this.nextOffset = expected;
      this.size = batches.nextPosition;
    }
  }

  /**
   * Loads both index files and checks them against the `.log` file; the segment's next offset
   * must be known (`nextOffset`).
   *
   * @returns `false` when an index is missing or fails its check: recover the segment then
   */
  loadIndexes(): boolean {
    const offsetIndex = OffsetIndex.load(this.offsetIndex.path, this.baseOffset, this.size);
    const timeIndex = TimeIndex.load(this.timeIndex.path, this.baseOffset, this.nextOffset - 1);
    if (!offsetIndex || !timeIndex) return false;
    if (offsetIndex.lastEntry && offsetIndex.lastEntry.offset >= this.nextOffset) return false;
    // An inactive segment always ends with its final time index entry (onBecomeInactiveSegment):
    // a segment with records and an empty time index lost it.
    if (this.size > 0 && timeIndex.entries === 0) return false;
    this.offsetIndex = offsetIndex;
    this.timeIndex = timeIndex;
    const lastTime = timeIndex.lastEntry;
    if (lastTime) {
      this.maxTimestampSoFar = lastTime.timestamp;
      this.offsetOfMaxTimestampSoFar = lastTime.offset;
    }
    const lastIndexed = offsetIndex.lastEntry;
    this.#bytesSinceLastIndexEntry = this.size - (lastIndexed ? lastIndexed.position : 0);
    if (this.size > 0) this.rollingBasedTimestamp = this.#firstMaxTimestamp();
    return true;
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
      if (this.#pending.length === 0) {
        this.#beforePending = {
          nextOffset: this.nextOffset,
          maxTimestampSoFar: this.maxTimestampSoFar,
          offsetOfMaxTimestampSoFar: this.offsetOfMaxTimestampSoFar,
          rollingBasedTimestamp: this.rollingBasedTimestamp,
          bytesSinceLastIndexEntry: this.#bytesSinceLastIndexEntry,
        };
      }
      this.#pending.add(batch, lent);
    } else {
      this.writePending();
      this.#writeOrCut(batch, position);
    }
    this.size += batch.length;
    this.dirty = true;
    if (this.rollingBasedTimestamp < 0) this.rollingBasedTimestamp = info.maxTimestamp;
    this.#indexBatch(info.lastOffset, info.maxTimestamp, info.offsetOfMaxTimestamp, position, batch.length);
    this.nextOffset = info.lastOffset + 1;
  }

  /** Writes `bytes` at `position`; on failure cuts the file back to `position` and throws StorageError. */
  #writeOrCut(bytes: Uint8Array, position: number): void {
    try {
      writeFully(this.#fd(), bytes, position);
    } catch (err) {
      try {
        fs.ftruncateSync(this.#fd(), position);
      } catch { /* the truncation at the next open will cut the torn tail */ }
      throw new StorageError(`Cannot append to ${this.logPath}: ${(err as Error).message}`, { cause: err });
    }
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
    if (this.#pending.length === 0) return;
    const before = this.#beforePending!;
    const position = this.size - this.#pending.length;
    const bytes = this.#pending.take();
    this.#beforePending = undefined;
    try {
      this.#writeOrCut(bytes, position);
    } catch (err) {
      this.size = position;
      this.nextOffset = before.nextOffset;
      this.maxTimestampSoFar = before.maxTimestampSoFar;
      this.offsetOfMaxTimestampSoFar = before.offsetOfMaxTimestampSoFar;
      this.rollingBasedTimestamp = before.rollingBasedTimestamp;
      this.#bytesSinceLastIndexEntry = before.bytesSinceLastIndexEntry;
      this.offsetIndex.truncateToPosition(position);
      this.timeIndex.truncateToOffset(before.nextOffset);
      throw err;
    }
  }

  #indexBatch(
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
    if (this.#bytesSinceLastIndexEntry > this.indexIntervalBytes) {
      this.offsetIndex.append(lastOffset, position);
      // As Kafka's TimeIndex: no entry before a batch has a timestamp (an empty batch has none).
      if (this.maxTimestampSoFar >= 0) {
        this.timeIndex.maybeAppend(this.maxTimestampSoFar, this.offsetOfMaxTimestampSoFar);
      }
      this.#bytesSinceLastIndexEntry = 0;
    }
    this.#bytesSinceLastIndexEntry += size;
  }

  /**
   * Reads up to `length` bytes of the `.log` file from byte `position`.
   *
   * @param position byte position in the file
   * @param length bytes wanted
   * @returns the bytes (fewer at the end of the file)
   */
  read(position: number, length: number): Uint8Array {
    return readFully(this.#fd(), position, Math.max(0, Math.min(length, this.writtenSize - position)));
  }

  /** A walk over the batch headers of the written bytes from `position` (one read per batch). */
  #headers(position: number): FileBatches {
    return batchesFrom(this, position, this.size, { chunkBytes: RECORD_BATCH_OVERHEAD });
  }

  /** The first batch's maxTimestamp (what `segmentMs` counts from), or -1 when there is none. */
  #firstMaxTimestamp(): number {
    const first = this.#headers(0);
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
    return this.#find(startPosition ?? this.#scanStart(offset), offset, -Infinity);
  }

  /**
   * The first batch from `position` on whose last offset is at least `offset` and whose max
   * timestamp is at least `timestamp`, by its header; `undefined` at the end, or at a header that
   * cannot frame a batch of this segment.
   */
  #find(position: number, offset: number, timestamp: number): BatchLocation | undefined {
    const batches = this.#headers(position);
    while (batches.nextBatch()) {
      if (!this.#plausible(batches)) return undefined;
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

  /**
   * Where a scan for `offset` may start: the offset index's entry for it, checked. An entry names
   * a batch's last offset and that batch's start; one that does not (a damaged `.index`, which
   * has no checksum) makes the segment rebuild both indexes from its batch headers, so a damaged
   * index costs a scan, never a wrong answer.
   */
  #scanStart(offset: number): number {
    for (let attempt = 0;; attempt++) {
      const entry = this.offsetIndex.lookup(offset);
      if (entry.position === 0) return 0;
      const batch = this.#headers(entry.position);
      if (
        batch.nextBatch() && this.#plausible(batch) && batch.baseOffset <= entry.offset &&
        batch.lastOffset >= entry.offset
      ) {
        return entry.position;
      }
      if (attempt > 0) return 0;
      this.#rebuildIndexes();
    }
  }

  /**
   * Rebuilds both indexes from the batch headers of the written part of the file, in memory and in
   * the index files (a reader writes them only when no writer holds the partition), as they would
   * have been written. What the segment knows of itself (size, next offset, timestamps, pending
   * batches) stays as it is.
   */
  #rebuildIndexes(): void {
    const kept = {
      size: this.size,
      nextOffset: this.nextOffset,
      maxTimestampSoFar: this.maxTimestampSoFar,
      offsetOfMaxTimestampSoFar: this.offsetOfMaxTimestampSoFar,
      rollingBasedTimestamp: this.rollingBasedTimestamp,
      bytesSinceLastIndexEntry: this.#bytesSinceLastIndexEntry,
    };
    const written = this.writtenSize;
    this.offsetIndex = new OffsetIndex(this.offsetIndex.path, this.baseOffset);
    this.timeIndex = new TimeIndex(this.timeIndex.path, this.baseOffset);
    this.size = 0;
    this.nextOffset = this.baseOffset;
    this.maxTimestampSoFar = -1;
    this.offsetOfMaxTimestampSoFar = this.baseOffset;
    this.#bytesSinceLastIndexEntry = 0;
    this.#scanForward(written, this.baseOffset);
    // The largest timestamp's entry, as a rolled segment's time index ends with (and harmless in
    // the active one, whose later entries only grow from it).
    if (this.maxTimestampSoFar >= 0) {
      this.timeIndex.maybeAppend(this.maxTimestampSoFar, this.offsetOfMaxTimestampSoFar);
    }
    this.size = kept.size;
    this.nextOffset = kept.nextOffset;
    this.maxTimestampSoFar = kept.maxTimestampSoFar;
    this.offsetOfMaxTimestampSoFar = kept.offsetOfMaxTimestampSoFar;
    this.rollingBasedTimestamp = kept.rollingBasedTimestamp;
    this.#bytesSinceLastIndexEntry = kept.bytesSinceLastIndexEntry;
    if (this.#file === undefined) return;
    // A read-only segment leaves the files to its owner, who may write them only while no writer
    // holds the partition (`LocalLog`).
    if (this.readOnly) this.indexFilesStale = true;
    else this.flushIndexes();
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
  #plausible(batch: FileBatches): boolean {
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
    return this.#find(this.#scanStart(this.timeIndex.lookup(timestamp).offset), -Infinity, timestamp);
  }

  /**
   * Validates every batch from the start (size, magic, CRC-32C, offsets dense), rebuilds both
   * indexes (over the valid batches: none points into damage), and decides what to do with the
   * bytes from the first invalid batch on
   * (Kafka's `LogSegment.recover`, with one rule Kafka does not have: bytes known to be durable
   * are never cut to make room for new offsets):
   *
   * - nothing invalid: nothing to do;
   * - the first invalid batch starts at or past `durableOffset` (what a crash can leave: bytes
   *   written after the last recovery point): the file is cut there, as Kafka does;
   * - below `durableOffset`, with `cutTornTail` (the active segment after a crash), a torn tail
   *   (no valid batch anywhere after the damage) is cut too;
   * - otherwise the file is left whole: `damage` says where the first invalid batch is, and
   *   `nextOffset` is the offset after the last valid batch found past the damage.
   *
   * @param maxBatchBytes batches claiming to be larger than this are treated as corrupt
   * @param expectedBaseOffset the offset the first batch must start at
   * @param options `durableOffset`: offsets below it were fsynced and checkpointed (the recovery
   *   point, or the log end offset of a clean close), default 0; `cutTornTail`: below it, cut a
   *   tail that nothing valid follows
   * @returns what was kept, cut, and found damaged
   */
  recover(
    maxBatchBytes: number,
    expectedBaseOffset = this.baseOffset,
    options: { durableOffset?: number; cutTornTail?: boolean } = {},
  ): RecoveryResult {
    this.offsetIndex.reset();
    this.timeIndex.reset();
    this.maxTimestampSoFar = -1;
    this.offsetOfMaxTimestampSoFar = this.baseOffset;
    this.rollingBasedTimestamp = -1;
    this.#bytesSinceLastIndexEntry = 0;
    const fileBytes = fs.fstatSync(this.#fd()).size;
    const valid = this.#validate(0, fileBytes, maxBatchBytes, expectedBaseOffset, true);
    const position = valid.position;
    let nextOffset = valid.nextOffset;
    let truncatedBytes = 0;
    let damage: RecoveryResult["damage"];
    if (position < fileBytes) {
      let cut = nextOffset >= (options.durableOffset ?? 0);
      const after = cut
        ? undefined
        : findValidBatch(this.#file_, position + 1, fileBytes, maxBatchBytes, this.baseOffset);
      if (!cut && options.cutTornTail && after === undefined) cut = true; // a torn tail: nothing valid follows
      if (cut) {
        truncatedBytes = fileBytes - position;
        fs.ftruncateSync(this.#fd(), position);
        this.dirty = true;
      } else {
        damage = { position, offset: nextOffset, detail: valid.detail };
        const last = this.offsetIndex.lastEntry;
        if (after && (last === undefined || after.baseOffset > last.offset)) {
          // The valid batches after the damage stay readable: an entry points at the first of
          // them (an entry may name any offset of the batch it points at), so no read of them
          // starts before the damage.
          this.offsetIndex.append(after.baseOffset, after.position);
          this.#bytesSinceLastIndexEntry = 0;
          const rest = this.#validate(after.position, fileBytes, maxBatchBytes, after.baseOffset, true);
          nextOffset = Math.max(nextOffset, rest.nextOffset);
        }
      }
    }
    this.size = position + (damage ? fileBytes - position : 0);
    this.nextOffset = nextOffset;
    this.offsetIndex.flush();
    this.timeIndex.flush();
    return { validBytes: position, truncatedBytes, nextOffset, damage };
  }

  /**
   * Validates batches from `position` on, each whole, CRC-32C checked and starting where the last
   * ended, and (with `index`) indexes each; stops at the first that fails.
   *
   * @returns where the valid batches end, the offset after them, and why the scan stopped
   */
  #validate(
    position: number,
    fileBytes: number,
    maxBatchBytes: number,
    expectedBaseOffset: number,
    index: boolean,
  ): { position: number; nextOffset: number; detail: string } {
    let nextOffset = expectedBaseOffset;
    const batches = batchesFrom(this.#file_, position, fileBytes, { validate: true, maxBatchBytes });
    while (batches.nextBatch()) {
      const baseOffset = batches.baseOffset;
      // Offsets are dense: a batch must start exactly where the previous one ended (its baseOffset
      // lies outside the CRC, so a damaged one is caught only here).
      const follows = this.offsetGaps ? baseOffset >= nextOffset : baseOffset === nextOffset;
      if (!follows || batches.lastOffsetDelta < 0) {
        return {
          position: batches.position,
          nextOffset,
          detail: `the batch starts at offset ${baseOffset}, expected ${nextOffset}`,
        };
      }
      const lastOffset = batches.lastOffset;
      if (index) {
        if (this.rollingBasedTimestamp < 0) this.rollingBasedTimestamp = batches.maxTimestamp;
        this.#indexBatch(lastOffset, batches.maxTimestamp, lastOffset, batches.position, batches.size);
      }
      nextOffset = lastOffset + 1;
    }
    return { position: batches.position, nextOffset, detail: batches.detail };
  }

  /**
   * After a clean close: checks the batches from the last offset index entry to the end of the
   * file (CRC-32C, dense offsets ending at `nextOffset`), the part of the active segment a writer
   * appends after. Cheap: at most `indexIntervalBytes` and a batch.
   *
   * @param maxBatchBytes batches claiming to be larger than this are treated as corrupt
   * @returns whether the tail is sound; when not, recover the segment
   */
  checkTail(maxBatchBytes: number): boolean {
    const fileBytes = fs.fstatSync(this.#fd()).size;
    if (fileBytes !== this.size) return false;
    const last = this.offsetIndex.lastEntry;
    let position = 0;
    let expected = this.baseOffset;
    if (last) {
      const batch = this.#headers(last.position);
      if (!batch.nextBatch()) return false;
      position = last.position;
      expected = batch.baseOffset;
    }
    const valid = this.#validate(position, fileBytes, maxBatchBytes, expected, false);
    return valid.position === fileBytes && valid.nextOffset === this.nextOffset;
  }

  /** Whether either index holds no room for more entries in its int32 relative offsets. */
  canHold(lastOffset: number): boolean {
    return lastOffset - this.baseOffset <= 0x7fffffff;
  }

  /** Whether an fsync of the `.log` file started by {@linkcode LogSegment.flush} is still running. */
  get syncing(): boolean {
    return this.#inFlightSync !== undefined;
  }

  /**
   * Writes the pending batches and index entries and, with `sync`, fsyncs the `.log` file (fdatasync) and the
   * indexes. With `sync`, it resolves only once every fsync started before it has finished too, so
   * that bytes whose fsync is still running (started by a roll) are never taken as durable.
   *
   * @param sync force the data to stable storage
   */
  async flush(sync: boolean): Promise<void> {
    if (this.readOnly || this.#file === undefined) return; // read only, or abandoned: write nothing
    this.writePending();
    // The indexes are written at roll, close and hand-over (flushSync), and in between only every
    // INDEX_FLUSH_ENTRIES entries: a recovery rebuilds them anyway, and a reader scans the few
    // batches past the last entry on disk.
    if (this.offsetIndex.unflushed >= INDEX_FLUSH_ENTRIES) this.offsetIndex.flush();
    if (this.timeIndex.unflushed >= INDEX_FLUSH_ENTRIES) this.timeIndex.flush();
    if (!sync) return;
    if (this.dirty) {
      this.dirty = false;
      const previous = this.#inFlightSync;
      const done: Promise<void> = this.#file!.pinned(datasync).then(() => previous, (err) => {
        // The data is not known to be on disk: the next flush must try again.
        this.dirty = true;
        throw err;
      }).finally(() => {
        if (this.#inFlightSync === done) this.#inFlightSync = undefined;
      });
      this.#inFlightSync = done;
      await done;
    } else if (this.#inFlightSync) {
      try {
        await this.#inFlightSync;
      } catch {
        // Someone else's fsync failed and marked the segment dirty again: try once more ourselves.
        await this.flush(true);
      }
    }
  }

  /**
   * Fdatasyncs the `.log` file now, on this thread, if it is dirty and no fsync of it is running
   * (a group-commit round with a single append waiting: the thread-pool hop costs more than it
   * saves).
   *
   * @returns whether the segment is now clean (`false`: an fsync is running; use `flush`)
   */
  datasyncNow(): boolean {
    if (this.readOnly || this.#file === undefined || !this.dirty) return true;
    if (this.#inFlightSync !== undefined) return false;
    this.writePending();
    this.dirty = false;
    try {
      datasyncSync(this.#fd()); // synchronous: the cache cannot close the file meanwhile
    } catch (err) {
      this.dirty = true; // not known to be on disk: the next flush tries again
      throw err;
    }
    return true;
  }

  /** The synchronous form of {@linkcode LogSegment.flush}. */
  flushSync(sync: boolean): void {
    if (this.readOnly || this.#file === undefined) return;
    this.writePending();
    this.offsetIndex.flush();
    this.timeIndex.flush();
    if (sync && this.dirty) {
      fs.fdatasyncSync(this.#fd());
      this.dirty = false;
    }
  }

  /**
   * Marks the segment inactive (rolled or closed): adds the final time index entry, the segment's
   * largest timestamp, which retention reads (Kafka's `onBecomeInactiveSegment`).
   */
  onBecomeInactiveSegment(): void {
    if (this.maxTimestampSoFar >= 0) {
      this.timeIndex.maybeAppend(this.maxTimestampSoFar, this.offsetOfMaxTimestampSoFar);
    }
  }

  /** Flushes the indexes and closes the `.log` file (a read-only segment only closes it). */
  close(): void {
    if (this.readOnly) {
      this.closeHandle();
      return;
    }
    this.onBecomeInactiveSegment();
    this.offsetIndex.flush();
    this.timeIndex.flush();
    this.closeHandle();
  }

  /**
   * The segment's largest record timestamp, ms, which time-based retention compares with
   * `retentionMs`; the `.log` file's modification time when no record has a timestamp (Kafka's
   * `LogSegment.largestTimestamp`).
   */
  get largestTimestamp(): number {
    if (this.maxTimestampSoFar >= 0) return this.maxTimestampSoFar;
    try {
      return fs.fstatSync(this.#fd()).mtimeMs;
    } catch {
      return Date.now();
    }
  }

  /**
   * The first step of deleting a segment: closes it and renames its three files with the suffix
   * `.deleted` (what the next open removes if the process dies before
   * {@linkcode LogSegment.removeDeleted}). Kafka's `LogSegment.changeFileSuffixes("", ".deleted")`.
   */
  renameForDeletion(): void {
    this.closeHandle();
    for (const path of [this.logPath, this.offsetIndex.path, this.timeIndex.path]) {
      try {
        fs.renameSync(path, `${path}.deleted`);
      } catch (err) {
        if ((err as { code?: string }).code !== "ENOENT") throw err;
      }
    }
  }

  /** The second step: removes the files renamed by {@linkcode LogSegment.renameForDeletion}. */
  removeDeleted(): void {
    for (const path of [this.logPath, this.offsetIndex.path, this.timeIndex.path]) {
      fs.rmSync(`${path}.deleted`, { force: true });
    }
  }

  /**
   * Closes the `.log` file handle without writing anything (what a crash leaves): pending batches
   * are dropped.
   */
  closeHandle(): void {
    this.#pending.clear();
    this.#file?.release();
    this.#file = undefined;
  }

  /** Closes and removes the segment's three files. */
  delete(): void {
    this.closeHandle();
    for (const path of [this.logPath, this.offsetIndex.path, this.timeIndex.path]) {
      if (fileSize(path) >= 0) fs.unlinkSync(path);
    }
  }
}
