/**
 * The segments of one partition's log and the reads over them (Kafka's `LocalLog`): the segment
 * list and its file work (roll, flush, deletion of the oldest, the log cleaner's swap), the
 * segment holding an offset, whole record batches from an offset up to a byte limit
 * (Fetch's framing, KIP-74), decoding them, and the offset for a timestamp. Offsets that bound
 * what may be read (log start offset, high watermark) are the caller's: {@linkcode PartitionLog}
 * keeps them, as Kafka's `UnifiedLog` does.
 *
 * @module
 */
import { CorruptRecordError } from "../errors.ts";
import type { Record } from "../record/record.ts";
import { LOG_OVERHEAD } from "../record/record_batch.ts";
import { type DecodeOptions, decodeRecordBatch } from "../record/record_batch_decoder.ts";
import { syncDirectory } from "../runtime/file_system.ts";
import { LockFile, tryLock } from "../runtime/lock_file.ts";
import { batchesFrom } from "./file_records.ts";
import { LogSegment } from "./log_segment.ts";
import { UnflushedSegments } from "./_unflushed_segments.ts";

/**
 * Name of the writer lock file in each partition directory: whoever holds it may append, roll,
 * recover and delete segments; everyone else only reads. See `runtime/lock_file.ts`.
 */
export const WRITER_LOCK_FILE = ".lock";

/**
 * Writes the index files a read-only segment rebuilt in memory (a lookup found its `.index`
 * damaged), but only while this process holds the writer lock for a moment: no writer can then
 * be using them, and the next one loads a sound index. A writer's segments write them at once.
 */
function writeRebuiltIndexes(segment: LogSegment): void {
  segment.indexFilesStale = false;
  const lock = tryLock(`${segment.dir}/${WRITER_LOCK_FILE}`, { transient: true });
  if (!(lock instanceof LockFile)) return;
  try {
    segment.flushIndexes();
  } catch { /* the next writer's reads find the damage again */ }
  lock.release();
}

/** A reader's place in the log, returned by {@linkcode PartitionLog.read} to make the next read cheap. */
export interface ReadCursor {
  /** The next offset the reader wants. */
  offset: number;
  /** The base offset of the segment that holds it. */
  segmentBaseOffset: number;
  /** The byte position of the batch holding `offset` in that segment. */
  position: number;
  /** {@linkcode LocalLog.generation} when made: a cursor from before a cleaner's swap is not used. */
  generation?: number;
}

/** Whole record batches read from one segment, as Kafka's Fetch returns them. */
export interface FetchData {
  /** One or more whole record batches, back to back. */
  bytes: Uint8Array;
  /** The `.log` file they came from. */
  segment: string;
  /** The base offset of that segment. */
  segmentBaseOffset: number;
  /** The byte position of `bytes[0]` in that file. */
  position: number;
  /** Where the next read continues. */
  next: ReadCursor;
}

/** Per-segment facts for `describe`. */
export interface SegmentInfo {
  /** The segment's base offset. */
  baseOffset: number;
  /** Its `.log` file size, bytes. */
  size: number;
  /** Its `.log` file path. */
  path: string;
}

/**
 * The segments of one partition's log, oldest first, and the reads over them.
 *
 * @example Find the segment that holds an offset
 * ```ts
 * import assert from "node:assert/strict";
 * import { LocalLog } from "./local_log.ts";
 * import { LogSegment } from "./log_segment.ts";
 * const dir = Deno.makeTempDirSync();
 * const local = new LocalLog("events", 0, [LogSegment.create(dir, 0, 4096), LogSegment.create(dir, 100, 4096)]);
 * assert.equal(local.segmentFor(42), 0);
 * assert.equal(local.segmentFor(100), 1);
 * assert.equal(local.active.baseOffset, 100);
 * for (const s of local.segments) s.close();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export class LocalLog {
  /**
   * @param topic the topic name (for errors)
   * @param partition the partition number (for errors)
   * @param segments the segments, oldest first (at least one)
   */
  constructor(readonly topic: string, readonly partition: number, public segments: LogSegment[]) {}

  /**
   * Whether batches may leave offsets out (a compacted log): reads then step over gaps between
   * batches and segments instead of reporting them as damage.
   */
  offsetGaps = false;

  /** Counts the segment swaps of the log cleaner: cursors of an earlier generation are not used. */
  generation = 0;

  /** The active segment: the newest, where appends go. */
  get active(): LogSegment {
    return this.segments[this.segments.length - 1];
  }

  /** The total size of the `.log` files, bytes. */
  get size(): number {
    let n = 0;
    for (const s of this.segments) n += s.size;
    return n;
  }

  /** The segments as {@linkcode SegmentInfo}, oldest first. */
  get segmentInfos(): SegmentInfo[] {
    return this.segments.map((s) => ({ baseOffset: s.baseOffset, size: s.size, path: s.logPath }));
  }

  /**
   * The index in {@linkcode LocalLog.segments} of the segment that holds `offset`: the last one
   * whose base offset is at or below it (the first one for an offset below every base offset).
   *
   * @param offset a record's offset
   * @returns an index into `segments`
   */
  segmentFor(offset: number): number {
    let lo = 0, hi = this.segments.length - 1, found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.segments[mid].baseOffset <= offset) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /**
   * Swaps in freshly loaded segments (the log was loaded afresh) and closes the old ones' file
   * handles. Cursors into the old segments are not used again: their positions may point into
   * files the log cleaner replaced.
   *
   * @param segments the loaded segments, oldest first
   * @param offsetGaps whether batches may leave offsets out (a compacted log)
   */
  replaceAll(segments: LogSegment[], offsetGaps: boolean): void {
    const old = this.segments;
    this.segments = segments;
    this.offsetGaps = offsetGaps;
    this.generation++;
    for (const segment of old) segment.closeHandle();
  }

  /**
   * Swaps the log cleaner's segment in for the consecutive segments it replaces (Kafka's
   * `LocalLog.replaceSegments`); cursors into the old ones are not used again.
   *
   * @param cleaned the cleaned segment
   * @param old the segments it replaces, oldest first
   */
  replaceSegments(cleaned: LogSegment, old: readonly LogSegment[]): void {
    const at = this.segments.indexOf(old[0]);
    this.segments = [...this.segments.slice(0, at), cleaned, ...this.segments.slice(at + old.length)];
    this.generation++;
  }

  /** From now on batches may leave offsets out: the log cleaner has compacted the log. */
  allowOffsetGaps(): void {
    this.offsetGaps = true;
    for (const segment of this.segments) segment.offsetGaps = true;
  }

  /**
   * Seals the active segment (its last time index entry, its indexes written out) and starts a
   * new one at `baseOffset` (Kafka's `LocalLog.roll`). The caller writes what the old one holds
   * back first, and fsyncs the directory.
   *
   * @param dir the partition directory
   * @param baseOffset the new segment's base offset (the log end offset)
   * @param indexIntervalBytes the new segment's index interval, bytes
   * @returns the sealed segment
   */
  roll(dir: string, baseOffset: number, indexIntervalBytes: number): LogSegment {
    const old = this.active;
    old.onBecomeInactiveSegment();
    // A sealed segment's indexes are complete on disk (the per-round flush writes them in steps).
    old.offsetIndex.flush();
    old.timeIndex.flush();
    this.segments.push(LogSegment.create(dir, baseOffset, indexIntervalBytes));
    return old;
  }

  /**
   * Deletes the `count` oldest segments (Kafka's `LocalLog.removeAndDeleteSegments`): out of the
   * list, their files renamed `*.deleted` (which the next open removes), the directory fsynced,
   * then the files removed. The caller checkpoints the new log start offset first.
   *
   * @param dir the partition directory
   * @param count how many segments, fewer than there are
   * @throws {Error} the I/O error when a file cannot be renamed or the directory fsynced
   */
  deleteOldest(dir: string, count: number): void {
    const gone = this.segments.slice(0, count);
    this.segments = this.segments.slice(count);
    for (const segment of gone) segment.renameForDeletion();
    syncDirectory(dir);
    for (const segment of gone) segment.removeDeleted();
  }

  /**
   * Drops from view the segments wholly below `logStartOffset` (another process's retention
   * deleted them), closing their file handles. The active segment stays.
   *
   * @param logStartOffset the log start offset
   */
  dropBelow(logStartOffset: number): void {
    while (this.segments.length > 1 && this.segments[1].baseOffset <= logStartOffset) {
      this.segments.shift()!.closeHandle();
    }
  }

  readonly #unflushed = new UnflushedSegments();
  /** The segments that may need a write or an fsync, oldest first, the active one last (never changed). */
  get unflushed(): readonly LogSegment[] {
    return this.#unflushed.of(this.segments);
  }

  /** Whether a segment holds batches back for a write, or has an fsync running. */
  get busy(): boolean {
    for (const segment of this.unflushed) if (segment.syncing || segment.pendingBytes > 0) return true;
    return false;
  }

  /**
   * Fdatasyncs every dirty segment now, on this thread (see `GroupCommitHost.syncDirtyNow`).
   *
   * @returns `false`, having done nothing, when an fsync is running (a roll's)
   * @throws {Error} the I/O error when an fdatasync fails
   */
  datasyncNow(): boolean {
    for (const segment of this.unflushed) if (segment.syncing) return false;
    for (const segment of this.unflushed) if (segment.dirty && !segment.datasyncNow()) return false;
    return true;
  }

  /**
   * Writes out and fsyncs every segment this process writes, indexes too, each sealed (for a
   * close or a hand-over). Every segment is tried.
   *
   * @returns the first failure, or `undefined` when every byte reached the disk
   */
  flushAll(): unknown {
    let failure: unknown;
    for (const segment of this.segments) {
      if (segment.readOnly) continue;
      try {
        segment.flushSync(true);
      } catch (err) {
        failure ??= err;
      }
      try {
        segment.onBecomeInactiveSegment();
        segment.flushSync(true); // the indexes with the final entry; a preallocated file's cut
      } catch (err) {
        failure ??= err;
      }
    }
    return failure;
  }

  /** Closes every segment's file handles (they reopen on the next read). */
  closeHandles(): void {
    for (const segment of this.segments) segment.closeHandle();
  }

  /**
   * Reads whole record batches from the one holding `offset` on, up to about `maxBytes` (at
   * least one whole batch, as KIP-74 asks of Fetch), never at or past `highWatermark`. The batch
   * holding `offset` is found by an index lookup and a short forward scan, or directly from
   * `cursor` when the caller continues a previous read. The caller checks `offset` against the
   * log start and end offsets first.
   *
   * @param offset the first offset wanted
   * @param maxBytes a soft limit on the bytes returned
   * @param highWatermark the end of what may be read
   * @param cursor the `next` of the previous read, if any
   * @returns the batches, or `null` when nothing below `highWatermark` is left to read
   * @throws {CorruptRecordError} when the segment that should hold `offset` has no valid batch
   *   holding it
   */
  read(offset: number, maxBytes: number, highWatermark: number, cursor?: ReadCursor): FetchData | null {
    let index: number;
    let position: number | undefined;
    if (cursor && cursor.offset === offset && (cursor.generation ?? 0) === this.generation) {
      index = this.segmentFor(cursor.segmentBaseOffset);
      if (this.segments[index].baseOffset === cursor.segmentBaseOffset) position = cursor.position;
      else index = this.segmentFor(offset);
    } else index = this.segmentFor(offset);
    for (; index < this.segments.length; index++, position = 0) {
      const segment = this.segments[index];
      const segmentEnd = index + 1 < this.segments.length
        ? this.segments[index + 1].baseOffset
        : highWatermark;
      if (offset >= segmentEnd) continue;
      const batch = segment.translateOffset(offset, position);
      if (segment.indexFilesStale) writeRebuiltIndexes(segment);
      // In a compacted log the rest of a segment may have been cleaned away: go on to the next.
      if (!batch && this.offsetGaps && index + 1 < this.segments.length) continue;
      // Offsets are dense: the segment that should hold `offset` must have a batch holding it.
      // Anything else is damage to the bytes outside the CRC (baseOffset, batchLength) or to the
      // index, and must not be read past silently.
      if (!batch || (batch.baseOffset > offset && !this.offsetGaps)) {
        throw new CorruptRecordError(
          batch
            ? `expected the batch holding offset ${offset}, found one starting at offset ${batch.baseOffset}`
            : `no valid batch holds offset ${offset}`,
          {
            topic: this.topic,
            partition: this.partition,
            segment: segment.logPath,
            position: batch?.position ?? position ?? segment.offsetIndex.lookup(offset).position,
          },
        );
      }
      if (batch.baseOffset >= highWatermark) return null;
      const first = Math.max(batch.size, Math.min(maxBytes, segment.size - batch.position));
      const bytes = segment.read(batch.position, first);
      // Keep whole batches only.
      let end = 0;
      let nextOffset = offset;
      const batches = batchesFrom(bytes, 0, bytes.length);
      while (batches.nextBatch()) {
        const base = batches.baseOffset;
        if (base >= highWatermark) break;
        // A batch that does not follow on is left for the next read, which reports it.
        if (end > 0 && (this.offsetGaps ? base < nextOffset : base !== nextOffset)) break;
        nextOffset = batches.lastOffset + 1;
        end = batches.nextPosition;
      }
      if (end === 0 && (batches.stop === "size" || batches.stop === "cut")) {
        throw new CorruptRecordError(`batch size ${batches.size} runs past the end of the segment`, {
          topic: this.topic,
          partition: this.partition,
          segment: segment.logPath,
          position: batch.position,
        });
      }
      if (end === 0) return null;
      let next: ReadCursor = {
        offset: nextOffset,
        segmentBaseOffset: segment.baseOffset,
        position: batch.position + end,
        generation: this.generation,
      };
      if (next.position >= segment.size && index + 1 < this.segments.length) {
        next = {
          offset: nextOffset,
          segmentBaseOffset: this.segments[index + 1].baseOffset,
          position: 0,
          generation: this.generation,
        };
      }
      return {
        bytes: bytes.subarray(0, end),
        segment: segment.logPath,
        segmentBaseOffset: segment.baseOffset,
        position: batch.position,
        next,
      };
    }
    return null;
  }

  /**
   * Decodes the batches of a {@linkcode FetchData}, checking each CRC-32C, and returns the
   * records at or after `fromOffset` and below both `toOffset` and `highWatermark`; control
   * records are left out. Records before a bad batch are returned first: then `data.next` is
   * moved to the bad batch, so that the next read from there throws.
   *
   * @param data what {@linkcode LocalLog.read} returned
   * @param fromOffset the first offset wanted
   * @param toOffset the first offset not wanted
   * @param highWatermark the end of what may be read
   * @param options decode options (e.g. stamping topic and partition on each record)
   * @returns the records, in offset order
   * @throws {CorruptRecordError} naming the topic, partition, segment file and position of a bad
   *   batch (a CRC-32C mismatch, a malformed record, or a batch that does not follow on)
   */
  decode(
    data: FetchData,
    fromOffset: number,
    toOffset: number,
    highWatermark: number,
    options: DecodeOptions | undefined,
  ): Record[] {
    // Each batch is decoded straight into `out`, then cut back where needed.
    const out: Record[] = [], into: DecodeOptions = { ...options, into: out };
    const limit = Math.min(toOffset, highWatermark);
    const bytes = data.bytes;
    let position = 0, expected = -1;
    while (position < bytes.length) {
      let header;
      const before = out.length;
      try {
        header = decodeRecordBatch(bytes, position, into).header;
        const base = header.baseOffset;
        const wrong = this.offsetGaps
          ? expected >= 0 && base < expected
          : expected >= 0
          ? base !== expected
          : base > fromOffset;
        if (wrong) {
          throw new CorruptRecordError(
            `batch starts at offset ${base}, expected ${expected >= 0 ? expected : `at most ${fromOffset}`}`,
          );
        }
        expected = base + header.lastOffsetDelta + 1;
      } catch (err) {
        out.length = before;
        if (err instanceof CorruptRecordError || (err as Error).name === "InvalidRecordError") {
          if (out.length > 0) {
            data.next = {
              offset: expected,
              segmentBaseOffset: data.segmentBaseOffset,
              position: data.position + position,
              generation: data.next.generation,
            };
            return out;
          }
          throw new CorruptRecordError((err as Error).message, {
            topic: this.topic,
            partition: this.partition,
            segment: data.segment,
            position: data.position + position,
          }, { cause: err });
        }
        throw err;
      }
      position += header.batchLength + LOG_OVERHEAD;
      if (header.isControl) out.length = before;
      else if (header.baseOffset < fromOffset || header.baseOffset + header.lastOffsetDelta >= limit) {
        // The first or the last batch: only its records in [fromOffset, limit) are kept.
        let kept = before, i = before;
        for (; i < out.length && out[i].offset < limit; i++) {
          if (out[i].offset >= fromOffset) out[kept++] = out[i];
        }
        const past = i < out.length;
        out.length = kept;
        if (past) return out;
      }
    }
    return out;
  }

  /**
   * Finds the first offset at or past `logStartOffset` and below `highWatermark` whose record
   * timestamp is at or after `timestamp` (Kafka's ListOffsets by time): the first segment whose
   * largest timestamp reaches it, a time index lookup, a scan of batch headers, and a decode of
   * the batch found.
   *
   * @param timestamp ms since the epoch
   * @param logStartOffset the first offset still in the log
   * @param highWatermark the end of what may be read
   * @returns the offset and that record's timestamp, or `null` when every record is older
   */
  offsetForTimestamp(
    timestamp: number,
    logStartOffset: number,
    highWatermark: number,
  ): { offset: number; timestamp: number } | null {
    for (const segment of this.segments) {
      if (segment.maxTimestampSoFar < timestamp) continue;
      let batch = segment.findBatchByTimestamp(timestamp);
      if (segment.indexFilesStale) writeRebuiltIndexes(segment);
      while (batch && batch.baseOffset < highWatermark) {
        const bytes = segment.read(batch.position, batch.size);
        const { records } = decodeRecordBatch(bytes, 0);
        for (const record of records) {
          if (record.offset >= highWatermark) return null;
          if (record.offset >= logStartOffset && record.timestamp >= timestamp) {
            return { offset: record.offset, timestamp: record.timestamp };
          }
        }
        batch = segment.translateOffset(batch.lastOffset + 1, batch.position + batch.size);
      }
    }
    return null;
  }
}
