/**
 * A segment's `.log` file ({@linkcode FileRecords}: its handle, writes, cuts and fdatasyncs) and
 * the one walk over its record batches (Kafka's `FileRecords.batchesFrom` and
 * `FileLogInputStream`): recovery, reads, the log cleaner, the loader, `reel verify` and
 * `reel dump` all step from batch to batch through {@linkcode batchesFrom}, and nothing else
 * reads a batch header's fields by their byte positions (those live in `record/record_batch.ts`).
 *
 * A walk reads the file in chunks (1 MiB by default) and frames one batch at a time: a whole
 * header (61 bytes), a batchLength that is possible, a batch that ends inside the range. It stops
 * at the first batch that fails and says why ({@linkcode BatchStop}); with `validate` it also
 * checks each batch as Kafka's `DefaultRecordBatch.ensureValid()` does (magic, CRC-32C). The
 * walker is one object whose fields describe the current batch: a step allocates only the chunks.
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
import { CorruptRecordError, StorageError } from "../errors.ts";
import { readInt32BE, readInt64BE } from "../record/big_endian.ts";
import {
  BATCH_LENGTH_OFFSET,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  RECORD_BATCH_OVERHEAD,
  type RecordBatchHeader,
  validateRecordBatch,
} from "../record/record_batch.ts";
import { CachedFile } from "../runtime/file_handle_cache.ts";
import {
  datasync,
  datasyncSync,
  fileStatus,
  readFully,
  truncateFile,
  writeFully,
  zeroFill,
} from "../runtime/file_system.ts";

/** How much a walk reads at once by default, in bytes. */
export const DEFAULT_CHUNK_BYTES = 1 << 20;

const EMPTY = new Uint8Array(0);

/**
 * Up to `length` bytes of `source` from `position` (fewer at its end).
 *
 * @param source where the bytes are read from
 * @param position the first byte's position
 * @param length bytes wanted
 * @returns the bytes (a view of `source` when it is bytes in memory)
 */
export function readFrom(source: BatchSource, position: number, length: number): Uint8Array {
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
  /** Bytes read at once, at least a batch header; a larger batch is read whole. @default {1048576} */
  chunkBytes?: number;
  /** Load every batch whole (its bytes at `bytes[at, at + size)`), not only its header. @default {false} */
  whole?: boolean;
  /**
   * Check every batch as Kafka's `ensureValid()` does (magic 2, CRC-32C; see
   * `validateRecordBatch`); implies `whole`. The decoded header is then in `header`.
   * @default {false}
   */
  validate?: boolean;
  /** Batches longer than this after their length field stop the walk (`"size"`). @default {Infinity} */
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

/** Where a batch lies in a segment file, as found by a scan. */
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

/**
 * A segment's `.log` file (Kafka's `FileRecords`): its handle, opened on demand (the process-wide
 * cache closes it when unused, see `setMaxOpenFiles`), writes that leave no partial batch behind,
 * cuts, and the fdatasyncs that make written bytes durable. Its reads see every byte of the file,
 * so it is a {@linkcode BatchSource}.
 *
 * @example Write, sync, cut and read back a file
 * ```ts
 * import assert from "node:assert/strict";
 * import * as fs from "node:fs";
 * import { FileRecords } from "./file_records.ts";
 * const path = `${Deno.makeTempDirSync()}/00000000000000000000.log`;
 * const log = new FileRecords(path, "r+", fs.openSync(path, "w+"));
 * log.write(new Uint8Array([1, 2, 3]), 0);
 * log.dirty = true;
 * assert.equal(await log.datasync(), true);
 * assert.equal(log.dirty, false);
 * log.truncateTo(2);
 * assert.deepEqual([...log.read(0, 10)], [1, 2]);
 * assert.equal(log.sizeInBytes(), 2);
 * log.close();
 * assert.equal(log.closed, true);
 * ```
 */
export class FileRecords {
  /** Whether the file holds bytes not yet fsynced (its owner sets it when it appends). */
  dirty = false;
  /** The file, or `undefined` once closed (or for a segment whose file does not exist yet). */
  #file: CachedFile | undefined;
  /** The fsync running now, if any (a roll starts one that later appends must wait for). */
  #inFlightSync: Promise<void> | undefined;
  /** Preallocation (see `preallocate`): the allocated size, step, cap and large write, bytes; or off. */
  #pre: { allocated: number; step: number; limit: number; largeWrite: number } | undefined;

  /**
   * @param path the file's path
   * @param mode how the file is opened again after the cache closed it
   * @param fd a descriptor open on it, which this takes over; -1 for no file (closed from the start)
   */
  constructor(readonly path: string, mode: "r" | "r+", fd: number) {
    this.#file = fd < 0 ? undefined : new CachedFile(path, mode, fd);
  }

  /** Whether the file is closed for good (or there was none). */
  get closed(): boolean {
    return this.#file === undefined;
  }

  /** The file's descriptor (opened again if the cache closed it). */
  fd(): number {
    if (this.#file === undefined) throw new StorageError(`Cannot use ${this.path}: the segment is closed`);
    return this.#file.fd();
  }

  /** Up to `length` bytes of the file from byte `position` (fewer at its end). */
  read(position: number, length: number): Uint8Array {
    return readFully(this.fd(), position, length);
  }

  /** The file's size now, bytes, as the file system has it. */
  sizeInBytes(): number {
    return fileStatus(this.fd()).size;
  }

  /** The file's modification time, ms (now when it cannot be had). */
  lastModified(): number {
    try {
      return fileStatus(this.fd()).mtimeMs;
    } catch {
      return Date.now();
    }
  }

  /**
   * Writes `bytes` at `position`; on failure cuts the file back to `position`, so that no partial
   * batch stays in it.
   *
   * @throws {StorageError} when the write fails (disk full, I/O error)
   */
  write(bytes: Uint8Array, position: number): void {
    try {
      const pre = this.#pre, end = position + bytes.length;
      if (pre !== undefined && end > pre.allocated) {
        // A large write grows the file itself.
        const step = bytes.length < pre.largeWrite ? pre.step : 0;
        const to = Math.max(end, Math.min(pre.allocated + step, pre.limit));
        pre.allocated = to === end || zeroFill(this.fd(), pre.allocated, to) ? to : end; // no room: grows
      }
      writeFully(this.fd(), bytes, position);
    } catch (err) {
      if (this.#pre !== undefined) this.#pre.allocated = position;
      try {
        truncateFile(this.fd(), position);
      } catch { /* the truncation at the next open will cut the torn tail */ }
      throw new StorageError(`Cannot append to ${this.path}: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * Turns preallocation on (Kafka's `preallocate`): a write past the bytes allocated so far first
   * writes zeros over the next `stepBytes` (up to `limitBytes`), so that appends overwrite blocks
   * the file has and their fdatasync records no new size; a write of `largeWriteBytes` or more
   * grows the file itself (zeros would double its bytes). `endPreallocation` cuts the zeros off.
   */
  preallocate(stepBytes: number, limitBytes: number, largeWriteBytes = Infinity): void {
    this.#pre ??= {
      allocated: this.sizeInBytes(),
      step: stepBytes,
      limit: limitBytes,
      largeWrite: largeWriteBytes,
    };
  }

  /** Turns preallocation off, cutting the zeros past `dataBytes` (rolled, closed, handed over). */
  endPreallocation(dataBytes: number): void {
    if (this.#pre === undefined) return;
    this.#pre = undefined;
    if (this.#file !== undefined && this.sizeInBytes() > dataBytes) this.truncateTo(dataBytes);
  }

  /** Cuts the file to `size` bytes (Kafka's `FileRecords.truncateTo`). */
  truncateTo(size: number): void {
    if (this.#pre !== undefined && this.#pre.allocated > size) this.#pre.allocated = size;
    truncateFile(this.fd(), size);
    this.dirty = true;
  }

  /** Whether an fsync started by {@linkcode FileRecords.datasync} is still running. */
  get syncing(): boolean {
    return this.#inFlightSync !== undefined;
  }

  /**
   * Fdatasyncs the file if it is dirty, without blocking the event loop, and resolves only once
   * every fsync started before it has finished too, so that bytes whose fsync is still running
   * (started by a roll) are never taken as durable.
   *
   * @returns `false` when it waited for another's fsync and that failed: the file is dirty again,
   *   and the caller syncs once more
   */
  async datasync(): Promise<boolean> {
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
      // False: someone else's fsync failed and marked the file dirty again.
      return await this.#inFlightSync.then(() => true, () => false);
    }
    return true;
  }

  /** Fdatasyncs the file now, on this thread (the caller checked that no fsync is running). */
  datasyncNow(): void {
    this.dirty = false;
    try {
      datasyncSync(this.fd()); // synchronous: the cache cannot close the file meanwhile
    } catch (err) {
      this.dirty = true; // not known to be on disk: the next flush tries again
      throw err;
    }
  }

  /** Fdatasyncs the file now if it is dirty (at roll, close and hand-over). */
  flushSync(): void {
    if (this.dirty) {
      datasyncSync(this.fd());
      this.dirty = false;
    }
  }

  /** Closes the file's handle for good. */
  close(): void {
    this.#file?.release();
    this.#file = undefined;
  }
}
