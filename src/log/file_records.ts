/**
 * The one walk over the record batches of a segment file (Kafka's `FileRecords.batchesFrom` and
 * `FileLogInputStream`): recovery, reads, the log cleaner, the loader, `reel verify` and
 * `reel dump` all step from batch to batch through {@linkcode batchesFrom}, and nothing else
 * reads a batch header's fields by their byte positions (those live in `record/record_batch.ts`).
 *
 * A walk reads the file in chunks (1 MiB by default) and frames one batch at a time: a whole
 * header (61 bytes), a batchLength that is possible, a batch that ends inside the range. It stops
 * at the first batch that fails and says why ({@linkcode BatchStop}); with `validate` it also
 * checks each batch as Kafka's `DefaultRecordBatch.ensureValid()` does (magic, CRC-32C). The
 * walker is one object, its fields describe the current batch, and stepping allocates nothing
 * but the chunks it reads: scans of large segments and the read path stay allocation-free per
 * batch.
 *
 * @example Walk two batches in memory, then a torn tail
 * ```ts
 * import assert from "node:assert/strict";
 * import { batchesFrom } from "./file_records.ts";
 * import { encodeRecordBatch } from "../record/record_batch_encoder.ts";
 * const a = encodeRecordBatch([{ value: null }, { value: null }], { baseOffset: 0 });
 * const b = encodeRecordBatch([{ value: null }], { baseOffset: 2 });
 * const file = new Uint8Array([...a, ...b, 1, 2, 3]);
 * const batches = batchesFrom(file, 0, file.length);
 * const seen = [];
 * while (batches.nextBatch()) seen.push([batches.position, batches.baseOffset, batches.lastOffset]);
 * assert.deepEqual(seen, [[0, 0, 1], [a.length, 2, 2]]);
 * assert.equal(batches.stop, "short");
 * assert.equal(batches.detail, "a torn tail: 3 bytes after the last whole batch");
 * ```
 *
 * @module
 */
import { CorruptRecordError } from "../errors.ts";
import { readInt32BE, readInt64BE } from "../record/big_endian.ts";
import {
  BATCH_LENGTH_OFFSET,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  RECORD_BATCH_OVERHEAD,
  type RecordBatchHeader,
  validateRecordBatch,
} from "../record/record_batch.ts";
import { readFully } from "../runtime/file_system.ts";

/** How much a walk reads at once by default, in bytes. */
export const DEFAULT_CHUNK_BYTES = 1 << 20;

const EMPTY = new Uint8Array(0);

/** Up to `length` bytes of `source` from `position` (fewer at its end). */
function readFrom(source: BatchSource, position: number, length: number): Uint8Array {
  if (source instanceof Uint8Array) return source.subarray(position, position + length);
  return typeof source === "number" ? readFully(source, position, length) : source.read(position, length);
}

/**
 * Where a walk reads a file's bytes: an object with `read(position, length)` (a `LogSegment`), a
 * file descriptor, or the bytes themselves (already in memory: nothing is read or copied).
 */
export type BatchSource = { read(position: number, length: number): Uint8Array } | number | Uint8Array;

/**
 * Why a walk stopped:
 * - `""`: it has not (the current batch is whole and framed);
 * - `"end"`: it reached the end of its range exactly;
 * - `"short"`: fewer bytes than a batch header are left (a torn tail);
 * - `"size"`: the batch's batchLength is impossible (below 49, or above `maxBatchBytes`);
 * - `"cut"`: the batch runs past the end of the range (a torn tail);
 * - `"invalid"`: with `validate`, the batch failed its check (magic, CRC-32C).
 */
export type BatchStop = "" | "end" | "short" | "size" | "cut" | "invalid";

/** Options of {@linkcode batchesFrom}. */
export interface BatchesOptions {
  /**
   * Bytes read at once, at least a batch header; a batch larger than this is read whole.
   * @default {1048576}
   */
  chunkBytes?: number;
  /**
   * Load every batch whole (its bytes at `bytes[at, at + size)`), not only its header.
   * @default {false}
   */
  whole?: boolean;
  /**
   * Check every batch as Kafka's `ensureValid()` does (magic 2, CRC-32C; see
   * `validateRecordBatch`); implies `whole`. The decoded header is then in `header`.
   * @default {false}
   */
  validate?: boolean;
  /**
   * Batches claiming more bytes than this after their length field stop the walk (`"size"`).
   * @default {Infinity}
   */
  maxBatchBytes?: number;
}

/**
 * A walk over the record batches of a byte range of a file. {@linkcode FileBatches.nextBatch}
 * steps to the next batch and fills in the fields below; it returns `false` where the walk stops,
 * and `stop`, `detail` and `position` say why and where.
 *
 * @example Stop at a batch whose length is impossible
 * ```ts
 * import assert from "node:assert/strict";
 * import { batchesFrom } from "./file_records.ts";
 * import { encodeRecordBatch } from "../record/record_batch_encoder.ts";
 * const file = encodeRecordBatch([{ value: new Uint8Array(100) }]);
 * const batches = batchesFrom(file, 0, file.length, { maxBatchBytes: 64 });
 * assert.equal(batches.nextBatch(), false);
 * assert.equal(batches.stop, "size");
 * assert.equal(batches.position, 0);
 * assert.equal(batches.size, file.length);
 * ```
 */
export class FileBatches {
  /** The byte position of the current batch in the file (where the walk stopped, once it has). */
  position = 0;
  /** The current batch's size in bytes (batchLength + 12). */
  size = 0;
  /** The current batch's base offset. */
  baseOffset = 0;
  /** The current batch's lastOffsetDelta. */
  lastOffsetDelta = 0;
  /** The current batch's last offset (baseOffset + lastOffsetDelta). */
  lastOffset = 0;
  /** The current batch's maxTimestamp, ms. */
  maxTimestamp = -1;
  /** The current batch's magic byte (not checked unless `validate`). */
  magic = 0;
  /**
   * The chunk that holds the current batch from `bytes[at]`: its header always (also where a
   * walk stopped with `"size"`, `"cut"` or `"invalid"`), and the whole batch with `whole`.
   */
  bytes: Uint8Array = EMPTY;
  /** Where the current batch starts in `bytes`. */
  at = 0;
  /** With `validate`: the current batch's header, checked. */
  header: RecordBatchHeader | undefined;
  /** Why the walk stopped (`""` while it has not). */
  stop: BatchStop = "";
  /** What is wrong where the walk stopped, in words (`""` at the end of the range). */
  detail = "";

  readonly #source: BatchSource;
  readonly #to: number;
  readonly #chunkBytes: number;
  readonly #whole: boolean;
  readonly #validate: boolean;
  readonly #maxSize: number;
  #chunkStart = 0;
  #next: number;

  /**
   * @param source where the bytes are read from
   * @param from the byte position of the first batch
   * @param to the end of the range, bytes (a batch must end at or before it)
   * @param options chunk size, whole batches, validation, the largest batch
   */
  constructor(source: BatchSource, from: number, to: number, options: BatchesOptions = {}) {
    this.#source = source;
    this.#next = from;
    this.#to = to;
    this.#chunkBytes = Math.max(RECORD_BATCH_OVERHEAD, options.chunkBytes ?? DEFAULT_CHUNK_BYTES);
    this.#validate = options.validate === true;
    this.#whole = this.#validate || options.whole === true;
    this.#maxSize = (options.maxBatchBytes ?? Infinity) + LOG_OVERHEAD;
    if (source instanceof Uint8Array) this.bytes = source;
  }

  /** The byte position after the last batch returned: where the next one starts. */
  get nextPosition(): number {
    return this.#next;
  }

  /**
   * Steps to the next batch.
   *
   * @returns `true` with the fields set to the next batch; `false` where the walk stops (see
   *   `stop`, `detail`, `position`)
   */
  nextBatch(): boolean {
    const position = this.#next;
    const to = this.#to;
    this.position = position;
    this.header = undefined;
    if (position >= to) return this.#stop("end", "");
    if (position + RECORD_BATCH_OVERHEAD > to || !this.#load(position, RECORD_BATCH_OVERHEAD)) {
      return this.#stop("short", `a torn tail: ${to - position} bytes after the last whole batch`);
    }
    const bytes = this.bytes;
    const at = this.at;
    const size = readInt32BE(bytes, at + BATCH_LENGTH_OFFSET) + LOG_OVERHEAD;
    this.size = size;
    if (size < RECORD_BATCH_OVERHEAD || size > this.#maxSize) {
      return this.#stop("size", `batch length ${size - LOG_OVERHEAD} is impossible`);
    }
    if (position + size > to) {
      return this.#stop("cut", `a torn tail: the batch needs ${size} bytes, ${to - position} remain`);
    }
    if (this.#whole && !this.#load(position, size)) {
      return this.#stop("cut", `a torn tail: the batch needs ${size} bytes, fewer could be read`);
    }
    const from = this.at; // the chunk may have moved
    const chunk = this.bytes;
    this.baseOffset = readInt64BE(chunk, from);
    this.lastOffsetDelta = readInt32BE(chunk, from + LAST_OFFSET_DELTA_OFFSET);
    this.lastOffset = this.baseOffset + this.lastOffsetDelta;
    this.maxTimestamp = readInt64BE(chunk, from + MAX_TIMESTAMP_OFFSET);
    this.magic = (chunk[from + MAGIC_OFFSET] << 24) >> 24;
    if (this.#validate) {
      try {
        this.header = validateRecordBatch(chunk, from);
      } catch (err) {
        if (!(err instanceof CorruptRecordError)) throw err;
        return this.#stop("invalid", err.message);
      }
    }
    this.stop = "";
    this.#next = position + size;
    return true;
  }

  #stop(stop: BatchStop, detail: string): false {
    this.stop = stop;
    this.detail = detail;
    return false;
  }

  /** Makes `bytes[at, at + length)` hold the file's bytes from `position`; false if the file is shorter. */
  #load(position: number, length: number): boolean {
    const source = this.#source;
    if (source instanceof Uint8Array) {
      this.at = position;
      return position + length <= source.length;
    }
    const at = position - this.#chunkStart;
    if (at >= 0 && at + length <= this.bytes.length) {
      this.at = at;
      return true;
    }
    const want = Math.max(length, Math.min(this.#chunkBytes, this.#to - position));
    this.bytes = readFrom(source, position, want);
    this.#chunkStart = position;
    this.at = 0;
    return this.bytes.length >= length;
  }
}

/**
 * Starts a walk over the record batches of a file between two byte positions (Kafka's
 * `FileRecords.batchesFrom`).
 *
 * @param source a `LogSegment` (or anything with `read(position, length)`), a file descriptor,
 *   or bytes in memory
 * @param from the byte position of the first batch
 * @param to the end of the range, bytes
 * @param options chunk size, whole batches, validation, the largest batch
 * @returns the walk: call `nextBatch()` until it returns `false`
 * @example Validate the batches of a file, stopping at a flipped bit
 * ```ts
 * import assert from "node:assert/strict";
 * import * as fs from "node:fs";
 * import { batchesFrom } from "./file_records.ts";
 * import { encodeRecordBatch } from "../record/record_batch_encoder.ts";
 * const a = encodeRecordBatch([{ value: new Uint8Array([1]) }], { baseOffset: 0 });
 * const b = encodeRecordBatch([{ value: new Uint8Array([2]) }], { baseOffset: 1 });
 * b[b.length - 1] ^= 1;
 * const path = `${Deno.makeTempDirSync()}/00000000000000000000.log`;
 * fs.writeFileSync(path, new Uint8Array([...a, ...b]));
 * const fd = fs.openSync(path, "r");
 * const batches = batchesFrom(fd, 0, a.length + b.length, { validate: true });
 * assert.equal(batches.nextBatch(), true);
 * assert.equal(batches.header?.recordsCount, 1);
 * assert.equal(batches.nextBatch(), false);
 * assert.equal(batches.stop, "invalid");
 * assert.equal(batches.position, a.length);
 * assert.match(batches.detail, /CRC-32C mismatch/);
 * fs.closeSync(fd);
 * ```
 */
export function batchesFrom(
  source: BatchSource,
  from: number,
  to: number,
  options?: BatchesOptions,
): FileBatches {
  return new FileBatches(source, from, to, options);
}

/**
 * Looks for a whole, CRC-valid batch starting anywhere from byte `from` on (one byte at a time):
 * whether damage in a segment is a torn tail (nothing valid after it) or lies in its middle.
 * Reads the range once, in chunks; only the recovery of damaged bytes calls it.
 *
 * @param source where the bytes are read from
 * @param from the first byte position tried
 * @param to the end of the range, bytes
 * @param maxBatchBytes batches claiming more bytes than this after their length field are skipped
 * @param minBaseOffset batches starting below this offset are skipped (the segment's base offset)
 * @returns the first such batch's position, size and offsets, or `undefined` when there is none
 * @example Find the batch after some garbage
 * ```ts
 * import assert from "node:assert/strict";
 * import { findValidBatch } from "./file_records.ts";
 * import { encodeRecordBatch } from "../record/record_batch_encoder.ts";
 * const batch = encodeRecordBatch([{ value: null }], { baseOffset: 5 });
 * const file = new Uint8Array([7, 7, 7, ...batch]);
 * assert.deepEqual(findValidBatch(file, 0, file.length, 1 << 20, 0), {
 *   baseOffset: 5,
 *   lastOffset: 5,
 *   position: 3,
 *   size: batch.length,
 * });
 * ```
 */
export function findValidBatch(
  source: BatchSource,
  from: number,
  to: number,
  maxBatchBytes: number,
  minBaseOffset: number,
): { baseOffset: number; lastOffset: number; position: number; size: number } | undefined {
  let chunk: Uint8Array = EMPTY;
  let chunkStart = from;
  for (let q = from; q + RECORD_BATCH_OVERHEAD <= to; q++) {
    let at = q - chunkStart;
    if (at + RECORD_BATCH_OVERHEAD > chunk.length) {
      chunk = readFrom(source, q, Math.min(DEFAULT_CHUNK_BYTES, to - q));
      chunkStart = q;
      at = 0;
    }
    if (chunk[at + MAGIC_OFFSET] !== MAGIC) continue;
    const size = readInt32BE(chunk, at + BATCH_LENGTH_OFFSET) + LOG_OVERHEAD;
    if (size < RECORD_BATCH_OVERHEAD || size > maxBatchBytes + LOG_OVERHEAD || q + size > to) continue;
    const bytes = at + size <= chunk.length ? chunk : readFrom(source, q, size);
    const start = bytes === chunk ? at : 0;
    let header;
    try {
      header = validateRecordBatch(bytes, start);
    } catch {
      continue; // not a batch here: try the next byte
    }
    if (header.lastOffsetDelta < 0 || header.baseOffset < minBaseOffset) continue;
    return {
      baseOffset: header.baseOffset,
      lastOffset: header.baseOffset + header.lastOffsetDelta,
      position: q,
      size,
    };
  }
  return undefined;
}
