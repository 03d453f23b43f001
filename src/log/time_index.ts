/**
 * The sparse time index of one segment (`<baseOffset>.timeindex`).
 *
 * ```
 * TimeIndexEntry => timestamp: int64, relativeOffset: int32     (12 bytes, big-endian)
 * ```
 * An entry means "the largest timestamp seen before this offset's batch ends is `timestamp`", so
 * the timestamps in the index never go down even when the records' timestamps do. Entries are
 * added together with offset-index entries, only when the timestamp is larger than the last
 * entry's, and once more when the segment becomes inactive (rolled or closed). Source: Kafka
 * `TimeIndex.java`, `LogSegment.append` and `LogSegment.onBecomeInactiveSegment`.
 *
 * @module
 */
import { readInt32BE, readInt64BE } from "../record/big_endian.ts";
import { readIndexFile, truncateIndexFile, writeIndexEntries } from "./index_file.ts";

/** Size of one `.timeindex` entry in bytes. */
export const TIME_INDEX_ENTRY_SIZE = 12;

/** The arrays of an index without entries (never written: the first entry grows them). */
const NO_TIMESTAMPS = new Float64Array(0);
const NO_OFFSETS = new Int32Array(0);

/**
 * One segment's time index: timestamp (ms) → offset to start a time search from.
 *
 * @example Look up the offset of the last indexed timestamp at or below a target
 * ```ts
 * import assert from "node:assert/strict";
 * import { TimeIndex } from "./time_index.ts";
 * const index = new TimeIndex(`${Deno.makeTempDirSync()}/00000000000000000000.timeindex`, 0);
 * index.maybeAppend(1_700_000_000_000, 99);
 * assert.deepEqual(index.lookup(1_800_000_000_000), { timestamp: 1_700_000_000_000, offset: 99 });
 * ```
 */
export class TimeIndex {
  // No memory until the first entry (see `OffsetIndex`).
  #timestamps = NO_TIMESTAMPS;
  #relativeOffsets = NO_OFFSETS;
  #count = 0;
  #flushed = 0;
  /** Whether this object wrote the file, or loaded it: then a flush with nothing new does nothing. */
  #onDisk = false;

  /**
   * @param path the `.timeindex` file path
   * @param baseOffset the segment's base offset
   */
  constructor(readonly path: string, readonly baseOffset: number) {}

  /** How many entries the index holds. */
  get entries(): number {
    return this.#count;
  }

  /** The last entry, or `undefined` when the index is empty. */
  get lastEntry(): { timestamp: number; offset: number } | undefined {
    if (this.#count === 0) return undefined;
    const i = this.#count - 1;
    return { timestamp: this.#timestamps[i], offset: this.baseOffset + this.#relativeOffsets[i] };
  }

  /**
   * Adds `(timestamp, offset)` if `timestamp` is larger than the last entry's and `offset` is
   * past it; otherwise does nothing.
   *
   * @param timestamp ms since the epoch: the largest timestamp seen so far in the segment
   * @param offset the offset of the record that carries it
   * @returns whether the entry was added
   */
  maybeAppend(timestamp: number, offset: number): boolean {
    const rel = offset - this.baseOffset;
    if (this.#count > 0) {
      const i = this.#count - 1;
      if (timestamp <= this.#timestamps[i] || rel < this.#relativeOffsets[i]) return false;
    }
    if (this.#count === this.#timestamps.length) {
      const t = new Float64Array(Math.max(64, this.#count * 2));
      t.set(this.#timestamps);
      this.#timestamps = t;
      const r = new Int32Array(Math.max(64, this.#count * 2));
      r.set(this.#relativeOffsets);
      this.#relativeOffsets = r;
    }
    this.#timestamps[this.#count] = timestamp;
    this.#relativeOffsets[this.#count] = rel;
    this.#count++;
    return true;
  }

  /**
   * Finds the entry with the largest timestamp at or below `timestamp` (binary search): the
   * point from which to scan forward for the first record at or after `timestamp`.
   *
   * @param timestamp ms since the epoch
   * @returns that entry, or `{ timestamp: -1, offset: baseOffset }` when there is none
   */
  lookup(timestamp: number): { timestamp: number; offset: number } {
    let lo = 0, hi = this.#count - 1, found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#timestamps[mid] <= timestamp) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found < 0) return { timestamp: -1, offset: this.baseOffset };
    return { timestamp: this.#timestamps[found], offset: this.baseOffset + this.#relativeOffsets[found] };
  }

  /**
   * Drops every entry at or past `offset` (used when the log is truncated).
   *
   * @param offset the first offset no longer in the log
   */
  truncateToOffset(offset: number): void {
    const rel = offset - this.baseOffset;
    while (this.#count > 0 && this.#relativeOffsets[this.#count - 1] >= rel) this.#count--;
    if (this.#flushed > this.#count) {
      this.#flushed = this.#count;
      truncateIndexFile(this.path, this.#flushed * TIME_INDEX_ENTRY_SIZE);
    }
  }

  /** Entries added since the last flush. */
  get unflushed(): number {
    return this.#count - this.#flushed;
  }

  /** Drops every entry and empties the file. */
  reset(): void {
    this.#count = 0;
    this.truncateToOffset(this.baseOffset);
    this.#flushed = 0;
    this.#onDisk = false; // the next flush writes the (empty) file, whether or not it was there
    truncateIndexFile(this.path, 0);
  }

  /**
   * Writes the entries added since the last flush to the file (creating it if needed).
   *
   * @param sync also fsync the file
   */
  flush(sync = false): void {
    // Nothing new, and the file was written (or read) by this object: no system call at all.
    if (this.#flushed === this.#count && !sync && this.#onDisk) return;
    const n = this.#count - this.#flushed;
    const bytes = new Uint8Array(n * TIME_INDEX_ENTRY_SIZE);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < n; i++) {
      const ts = this.#timestamps[this.#flushed + i];
      view.setInt32(i * 12, Math.floor(ts / 2 ** 32));
      view.setUint32(i * 12 + 4, ts >>> 0);
      view.setInt32(i * 12 + 8, this.#relativeOffsets[this.#flushed + i]);
    }
    writeIndexEntries(this.path, this.#flushed * TIME_INDEX_ENTRY_SIZE, bytes, sync);
    this.#onDisk = true;
    this.#flushed = this.#count;
  }

  /**
   * The entries of a `.timeindex` file's bytes, decoded as they lie, checked for nothing (what
   * `reel verify` and `reel dump` walk): the bytes after the last whole entry are left out.
   *
   * @param bytes the file's bytes
   * @param baseOffset the segment's base offset
   * @returns the entries in file order: timestamp (ms) and absolute offset
   * @example Decode one entry
   * ```ts
   * import assert from "node:assert/strict";
   * import { TimeIndex } from "./time_index.ts";
   * const bytes = new Uint8Array([0, 0, 0, 0, 0, 0, 3, 232, 0, 0, 0, 7]);
   * assert.deepEqual(TimeIndex.entries(bytes, 100), [{ timestamp: 1000, offset: 107 }]);
   * ```
   */
  static entries(bytes: Uint8Array, baseOffset: number): { timestamp: number; offset: number }[] {
    const out = [];
    for (let i = 0; i + TIME_INDEX_ENTRY_SIZE <= bytes.length; i += TIME_INDEX_ENTRY_SIZE) {
      out.push({ timestamp: readInt64BE(bytes, i), offset: baseOffset + readInt32BE(bytes, i + 8) });
    }
    return out;
  }

  /**
   * Loads a time index file and checks it: a whole number of entries, timestamps and offsets
   * that never go down, offsets at or below `lastOffset`.
   *
   * @param path the `.timeindex` file path
   * @param baseOffset the segment's base offset
   * @param lastOffset the segment's last offset (base offset − 1 when empty)
   * @returns the index, or `null` when the file is missing or fails a check (then rebuild it)
   */
  static load(path: string, baseOffset: number, lastOffset: number): TimeIndex | null {
    const view = readIndexFile(path, TIME_INDEX_ENTRY_SIZE);
    if (!view) return null;
    const index = new TimeIndex(path, baseOffset);
    for (let i = 0; i < view.byteLength; i += TIME_INDEX_ENTRY_SIZE) {
      const ts = view.getInt32(i) * 2 ** 32 + view.getUint32(i + 4);
      const offset = baseOffset + view.getInt32(i + 8);
      if (offset < baseOffset || offset > lastOffset) return null;
      const last = index.lastEntry;
      if (last && (ts < last.timestamp || offset < last.offset)) return null;
      if (!index.maybeAppend(ts, offset) && !(last && ts === last.timestamp)) return null;
    }
    index.#flushed = index.#count;
    index.#onDisk = true;
    return index;
  }
}
