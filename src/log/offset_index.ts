/**
 * The sparse offset index of one segment (`<baseOffset>.index`).
 *
 * ```
 * OffsetIndexEntry => relativeOffset: int32, position: int32     (8 bytes, big-endian)
 * ```
 * `relativeOffset` is the offset minus the segment's base offset, `position` the byte position in
 * the `.log` file where the batch holding that offset starts. Entries are added once more than
 * `indexIntervalBytes` bytes have been appended since the last entry; the entry names the batch's
 * last offset and the batch's start position. Source: Kafka `OffsetIndex.java`, `LogSegment.append`
 * (storage/src/main/java/org/apache/kafka/storage/internals/log/).
 *
 * The entries live in memory; the file is written by {@linkcode OffsetIndex.flush}, which appends
 * the entries added since the last flush. The file has no checksum: after a crash it is rebuilt.
 *
 * @module
 */
import { readInt32BE } from "../record/big_endian.ts";
import { readIndexFile, truncateIndexFile, writeIndexEntries } from "./index_file.ts";

/** Size of one `.index` entry in bytes. */
export const OFFSET_INDEX_ENTRY_SIZE = 8;

/** The arrays of an index without entries (never written: the first entry grows them). */
const NO_ENTRIES = new Int32Array(0);

/**
 * One segment's offset index: offset → byte position of the batch to start scanning from.
 *
 * @example Look up the position of the last indexed offset at or below a target
 * ```ts
 * import assert from "node:assert/strict";
 * import { OffsetIndex } from "./offset_index.ts";
 * const index = new OffsetIndex(`${Deno.makeTempDirSync()}/00000000000000000000.index`, 0);
 * index.append(99, 4100);
 * index.append(199, 8200);
 * assert.deepEqual(index.lookup(150), { offset: 99, position: 4100 });
 * assert.deepEqual(index.lookup(10), { offset: 0, position: 0 }); // before the first entry: the start
 * ```
 */
export class OffsetIndex {
  // No memory until the first entry: a reader's load makes four indexes per segment, most of
  // them replaced at once (a typed array of 64 costs about 0.6 µs to make on Deno, 0.1 on Bun).
  #relativeOffsets = NO_ENTRIES;
  #positions = NO_ENTRIES;
  #count = 0;
  #flushed = 0;
  /** Whether this object wrote the file, or loaded it: then a flush with nothing new does nothing. */
  #onDisk = false;

  /**
   * @param path the `.index` file path
   * @param baseOffset the segment's base offset
   */
  constructor(readonly path: string, readonly baseOffset: number) {}

  /** How many entries the index holds. */
  get entries(): number {
    return this.#count;
  }

  /** The last entry, or `undefined` when the index is empty. */
  get lastEntry(): { offset: number; position: number } | undefined {
    if (this.#count === 0) return undefined;
    const i = this.#count - 1;
    return { offset: this.baseOffset + this.#relativeOffsets[i], position: this.#positions[i] };
  }

  /**
   * Adds an entry. Offsets and positions must grow strictly.
   *
   * @param offset the absolute offset (the batch's last offset)
   * @param position the byte position where that batch starts
   * @throws {RangeError} when the entry does not follow the last one
   */
  append(offset: number, position: number): void {
    const rel = offset - this.baseOffset;
    if (this.#count > 0) {
      const i = this.#count - 1;
      if (rel <= this.#relativeOffsets[i] || position <= this.#positions[i]) {
        throw new RangeError(
          `Cannot add index entry (${offset}, ${position}) after (${
            this.baseOffset + this.#relativeOffsets[i]
          }, ${this.#positions[i]})`,
        );
      }
    }
    if (this.#count === this.#relativeOffsets.length) {
      const grow = (a: Int32Array) => {
        const b = new Int32Array(Math.max(64, a.length * 2));
        b.set(a);
        return b;
      };
      this.#relativeOffsets = grow(this.#relativeOffsets);
      this.#positions = grow(this.#positions);
    }
    this.#relativeOffsets[this.#count] = rel;
    this.#positions[this.#count] = position;
    this.#count++;
  }

  /**
   * Finds the entry with the largest offset at or below `offset` (binary search).
   *
   * @param offset the absolute offset looked for
   * @returns that entry, or `{ offset: baseOffset, position: 0 }` when there is none
   */
  lookup(offset: number): { offset: number; position: number } {
    const rel = offset - this.baseOffset;
    let lo = 0, hi = this.#count - 1, found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#relativeOffsets[mid] <= rel) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found < 0) return { offset: this.baseOffset, position: 0 };
    return { offset: this.baseOffset + this.#relativeOffsets[found], position: this.#positions[found] };
  }

  /**
   * Drops every entry whose position is at or past `position` (used when the log is truncated).
   *
   * @param position the byte position the `.log` file is cut at
   */
  truncateToPosition(position: number): void {
    while (this.#count > 0 && this.#positions[this.#count - 1] >= position) this.#count--;
    if (this.#flushed > this.#count) {
      this.#flushed = this.#count;
      this.#truncateFile();
    }
  }

  /** Entries added since the last flush. */
  get unflushed(): number {
    return this.#count - this.#flushed;
  }

  /** Drops every entry and empties the file. */
  reset(): void {
    this.#count = 0;
    this.#flushed = 0;
    this.#onDisk = false; // the next flush writes the (empty) file, whether or not it was there
    this.#truncateFile();
  }

  #truncateFile(): void {
    truncateIndexFile(this.path, this.#flushed * OFFSET_INDEX_ENTRY_SIZE);
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
    const bytes = new Uint8Array(n * OFFSET_INDEX_ENTRY_SIZE);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < n; i++) {
      view.setInt32(i * 8, this.#relativeOffsets[this.#flushed + i]);
      view.setInt32(i * 8 + 4, this.#positions[this.#flushed + i]);
    }
    writeIndexEntries(this.path, this.#flushed * OFFSET_INDEX_ENTRY_SIZE, bytes, sync);
    this.#onDisk = true;
    this.#flushed = this.#count;
  }

  /**
   * The entries of an `.index` file's bytes, decoded as they lie, checked for nothing (what
   * `reel verify` and `reel dump` walk): the bytes after the last whole entry are left out.
   *
   * @param bytes the file's bytes
   * @param baseOffset the segment's base offset
   * @returns the entries in file order: absolute offset and byte position
   * @example Decode two entries and a torn third
   * ```ts
   * import assert from "node:assert/strict";
   * import { OffsetIndex } from "./offset_index.ts";
   * const bytes = new Uint8Array([0, 0, 0, 9, 0, 0, 16, 4, 0, 0, 0, 19, 0, 0, 32, 8, 1, 2]);
   * assert.deepEqual(OffsetIndex.entries(bytes, 100), [
   *   { offset: 109, position: 4100 },
   *   { offset: 119, position: 8200 },
   * ]);
   * ```
   */
  static entries(bytes: Uint8Array, baseOffset: number): { offset: number; position: number }[] {
    const out = [];
    for (let i = 0; i + OFFSET_INDEX_ENTRY_SIZE <= bytes.length; i += OFFSET_INDEX_ENTRY_SIZE) {
      out.push({ offset: baseOffset + readInt32BE(bytes, i), position: readInt32BE(bytes, i + 4) });
    }
    return out;
  }

  /**
   * Loads an index file and checks it against its segment, as Kafka's `sanityCheck` does and
   * more: the length is a whole number of entries, offsets and positions grow strictly, every
   * position lies inside the `.log` file.
   *
   * @param path the `.index` file path
   * @param baseOffset the segment's base offset
   * @param logSize the size of the segment's `.log` file in bytes
   * @returns the index, or `null` when the file is missing or fails a check (then rebuild it)
   */
  static load(path: string, baseOffset: number, logSize: number): OffsetIndex | null {
    const view = readIndexFile(path, OFFSET_INDEX_ENTRY_SIZE);
    if (!view) return null;
    const index = new OffsetIndex(path, baseOffset);
    for (let i = 0; i < view.byteLength; i += OFFSET_INDEX_ENTRY_SIZE) {
      const rel = view.getInt32(i), position = view.getInt32(i + 4);
      if (rel < 0 || position < 0 || position >= logSize) return null;
      const last = index.lastEntry;
      if (last && (baseOffset + rel <= last.offset || position <= last.position)) return null;
      index.append(baseOffset + rel, position);
    }
    index.#flushed = index.#count;
    index.#onDisk = true;
    return index;
  }
}
