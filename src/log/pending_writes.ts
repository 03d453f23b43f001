/**
 * The batches a segment holds back for its next write (group commit: `group_commit.ts` decides
 * when the write happens, `LogSegment.writePending` asks for it), and what the segment takes back
 * when that write fails. They are copied into one growing
 * buffer, except batches "lent" by their producer: while every pending batch is lent and each
 * follows the previous one in the same buffer (a producer encodes its batches one after another),
 * they are written from there and never copied.
 *
 * @module
 */
import type { LogSegment } from "./log_segment.ts";

/**
 * What a segment knows of itself besides its files: saved before the first pending batch (and
 * restored when their write fails) and around an index rebuild.
 */
export type SegmentState = Pick<
  LogSegment,
  | "size"
  | "nextOffset"
  | "maxTimestampSoFar"
  | "offsetOfMaxTimestampSoFar"
  | "rollingBasedTimestamp"
  | "bytesSinceLastIndexEntry"
>;

/**
 * What a segment knows of itself besides its files (see {@linkcode restoreSegmentState}).
 *
 * @param segment the segment
 * @returns its size, next offset, timestamps and bytes since its last index entry
 */
export function saveSegmentState(segment: LogSegment): SegmentState {
  const { size, nextOffset, maxTimestampSoFar, offsetOfMaxTimestampSoFar } = segment;
  const { rollingBasedTimestamp, bytesSinceLastIndexEntry } = segment;
  return {
    size,
    nextOffset,
    maxTimestampSoFar,
    offsetOfMaxTimestampSoFar,
    rollingBasedTimestamp,
    bytesSinceLastIndexEntry,
  };
}

/**
 * Puts back what {@linkcode saveSegmentState} returned (the index entries are not touched).
 *
 * @param segment the segment
 * @param state what it was
 */
export function restoreSegmentState(segment: LogSegment, state: SegmentState): void {
  Object.assign(segment, state);
}

/** A pending buffer larger than this (bytes) is dropped once written rather than kept for reuse. */
const MAX_KEPT_PENDING_BYTES = 4 << 20;
const EMPTY = new Uint8Array(0);

/**
 * Batches held back for one write, in order.
 *
 * @example Two lent batches side by side are written from their own buffer; a third is copied
 * ```ts
 * import assert from "node:assert/strict";
 * import { PendingWrites } from "./pending_writes.ts";
 * const producerBuffer = new Uint8Array([1, 2, 3, 4, 5]);
 * const pending = new PendingWrites();
 * pending.add(producerBuffer.subarray(0, 2), true);
 * pending.add(producerBuffer.subarray(2, 5), true);
 * assert.equal(pending.length, 5);
 * const lent = pending.take();
 * assert.equal(lent.buffer, producerBuffer.buffer); // not copied
 * pending.add(new Uint8Array([6]), false);
 * pending.add(new Uint8Array([7]), true); // not next to a lent batch: copied
 * assert.deepEqual([...pending.take()], [6, 7]);
 * assert.equal(pending.length, 0);
 * ```
 */
export class PendingWrites {
  #buffer: Uint8Array = EMPTY;
  #length = 0;
  /** The pending batches while all are lent and lie one after another: the caller's bytes. */
  #lent: Uint8Array | undefined;
  /** What the segment was before the first pending batch: put back when their write fails. */
  #before: SegmentState | undefined;

  /** Bytes held back. */
  get length(): number {
    return this.#length;
  }

  /**
   * Holds a batch back. A `lent` batch is kept as a view while the pending batches are all lent
   * and it follows the last one in the same buffer; the caller then must not change those bytes
   * until {@linkcode PendingWrites.take}. Anything else is copied.
   *
   * @param batch the batch's bytes
   * @param lent whether the bytes may be kept until written instead of copied
   * @param segment the segment whose batch it is, before it counts the batch in (its state is
   *   saved with the first pending batch, for {@linkcode PendingWrites.writeTo})
   */
  add(batch: Uint8Array, lent: boolean, segment?: LogSegment): void {
    if (this.#length === 0) this.#before = segment && saveSegmentState(segment);
    const lentSoFar = this.#lent;
    if (lent && this.#length === 0) {
      this.#lent = batch;
      this.#length = batch.length;
    } else if (
      lent && lentSoFar !== undefined && batch.buffer === lentSoFar.buffer &&
      batch.byteOffset === lentSoFar.byteOffset + lentSoFar.length
    ) {
      this.#lent = new Uint8Array(batch.buffer, lentSoFar.byteOffset, lentSoFar.length + batch.length);
      this.#length += batch.length;
    } else {
      if (lentSoFar !== undefined) {
        // The lent bytes move into the buffer, and this batch after them.
        this.#lent = undefined;
        this.#length = 0;
        this.#copy(lentSoFar);
      }
      this.#copy(batch);
    }
  }

  /** Copies `batch` to the end of the buffer. */
  #copy(batch: Uint8Array): void {
    const needed = this.#length + batch.length;
    if (needed > this.#buffer.length) {
      const grown = new Uint8Array(Math.max(needed, this.#buffer.length * 2, 64 * 1024));
      grown.set(this.#buffer.subarray(0, this.#length));
      this.#buffer = grown;
    }
    this.#buffer.set(batch, this.#length);
    this.#length = needed;
  }

  /**
   * Takes every pending batch, leaving none: the bytes to write, a view that stays valid until
   * the next {@linkcode PendingWrites.add}.
   *
   * @returns the pending batches, back to back
   */
  take(): Uint8Array {
    const bytes = this.#lent ?? this.#buffer.subarray(0, this.#length);
    this.#lent = undefined;
    this.#length = 0;
    if (this.#buffer.length > MAX_KEPT_PENDING_BYTES) this.#buffer = EMPTY;
    return bytes;
  }

  /**
   * Writes the pending batches to `segment`'s file in one write, where the written bytes end. When
   * the write fails (the file is cut back to where they began), every one of them is taken back:
   * the segment's `size`, `nextOffset`, index entries and timestamps are what they were before the
   * first of them, so the caller can fail their appends and carry on at that offset.
   *
   * @param segment the segment the batches were added for
   * @throws {StorageError} when the write fails; `nextOffset` is then the first offset taken back
   */
  writeTo(segment: LogSegment): void {
    if (this.#length === 0) return;
    const before = this.#before!;
    const position = segment.size - this.#length;
    const bytes = this.take();
    this.#before = undefined;
    try {
      segment.log.write(bytes, position);
    } catch (err) {
      restoreSegmentState(segment, before);
      segment.size = position;
      segment.offsetIndex.truncateToPosition(position);
      segment.timeIndex.truncateToOffset(before.nextOffset);
      throw err;
    }
  }

  /** Drops every pending batch unwritten (what a crash does) and the buffer. */
  clear(): void {
    this.#length = 0;
    this.#buffer = EMPTY;
    this.#lent = undefined;
  }
}
