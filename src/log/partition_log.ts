/**
 * One partition's log: an ordered list of segments, the offsets that bound it (log start offset,
 * high watermark, log end offset), appends with the topic's fsync policy, reads by offset and by
 * timestamp, rolling, and recovery on open. Kafka's `UnifiedLog` and `LogLoader`, for one node.
 *
 * @module
 */
import { CorruptRecordError, OffsetOutOfRangeError, RecordTooLargeError, StorageError } from "../errors.ts";
import type { Record } from "../record/record.ts";
import {
  decodeRecordBatch,
  LOG_OVERHEAD,
  readRecordBatchHeader,
  RECORD_BATCH_OVERHEAD,
  setBaseOffset,
  setPartitionLeaderEpoch,
  validateRecordBatch,
} from "../record/record_batch.ts";
import { fileSize, fs, syncDirectory } from "../runtime/file_system.ts";
import {
  CLEAN_SHUTDOWN_FILE,
  LOG_START_OFFSET_CHECKPOINT,
  readCheckpoint,
  readCleanShutdown,
  RECOVERY_POINT_CHECKPOINT,
  writeCheckpoint,
  writeCleanShutdown,
} from "./checkpoint.ts";
import type { LogConfig } from "./log_config.ts";
import { LogSegment } from "./log_segment.ts";

/** What an append assigned. */
export interface AppendInfo {
  /** The first offset of the appended batch. */
  baseOffset: number;
  /** The last offset of the appended batch. */
  lastOffset: number;
  /** The batch's largest timestamp, ms. */
  maxTimestamp: number;
}

/** A reader's place in the log, returned by {@linkcode PartitionLog.read} to make the next read cheap. */
export interface ReadCursor {
  /** The next offset the reader wants. */
  offset: number;
  /** The base offset of the segment that holds it. */
  segmentBaseOffset: number;
  /** The byte position of the batch holding `offset` in that segment. */
  position: number;
}

/** Whole record batches read from one segment, as Kafka's Fetch returns them. */
export interface FetchData {
  /** One or more whole record batches, back to back. */
  bytes: Uint8Array;
  /** The `.log` file they came from. */
  segment: string;
  /** The byte position of `bytes[0]` in that file. */
  position: number;
  /** Where the next read continues. */
  next: ReadCursor;
}

/** What {@linkcode PartitionLog.open} found and did. */
export interface LoadReport {
  /** Whether the clean-shutdown marker let the open skip every scan. */
  clean: boolean;
  /** Segments validated batch by batch. */
  segmentsRecovered: number;
  /** Bytes cut from torn or corrupt tails (including segments deleted after them). */
  truncatedBytes: number;
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
 * One partition's log on disk.
 *
 * @example Append a batch and read it back
 * ```ts
 * import { PartitionLog } from "./partition_log.ts";
 * import { resolveLogConfig } from "./log_config.ts";
 * import { encodeRecordBatch } from "../record/record_batch.ts";
 * const dir = Deno.makeTempDirSync() + "/events-0";
 * const log = PartitionLog.open(dir, "events", 0, resolveLogConfig());
 * const info = await log.append(encodeRecordBatch([{ value: new TextEncoder().encode("hi") }]));
 * console.log(info.baseOffset, log.logEndOffset); // 0 1
 * await log.close();
 * ```
 */
export class PartitionLog {
  /** The partition's log start offset: the first offset still in the log. */
  logStartOffset: number;
  /** What the open found and did. */
  readonly loadReport: LoadReport;
  #segments: LogSegment[];
  #logEndOffset: number;
  #highWatermark: number;
  #closed = false;
  #listeners = new Set<() => void>();
  #syncWaiters: { offset: number; resolve: () => void; reject: (err: unknown) => void }[] = [];
  #syncing = false;
  #syncedOffset: number;
  #timer: ReturnType<typeof setInterval> | undefined;
  #pending = new Set<Promise<unknown>>();

  private constructor(
    readonly dir: string,
    readonly topic: string,
    readonly partition: number,
    readonly config: LogConfig,
    segments: LogSegment[],
    logStartOffset: number,
    report: LoadReport,
  ) {
    this.#segments = segments;
    this.logStartOffset = logStartOffset;
    this.#logEndOffset = segments[segments.length - 1].nextOffset;
    this.#highWatermark = this.#logEndOffset;
    this.#syncedOffset = this.#logEndOffset;
    this.loadReport = report;
    if (config.fsync === "interval") {
      this.#timer = setInterval(() => this.#track(this.#syncDirty().catch(() => {})), config.fsyncIntervalMs);
      // Deno and Bun timers both have unref(): a periodic fsync must not keep a process alive.
      (this.#timer as unknown as { unref?: () => void }).unref?.();
    }
  }

  /**
   * Opens (creating if needed) the partition directory and loads its segments. After a clean
   * close it scans nothing; after an unclean one it validates only the segments from the recovery
   * point on, cuts a torn or corrupt tail at the last valid batch, deletes later segments, and
   * rebuilds missing or damaged indexes (Kafka's `LogLoader`).
   *
   * @param dir the partition directory, `<log dir>/<topic>-<partition>`
   * @param topic the topic name (for errors and checkpoints)
   * @param partition the partition number
   * @param config the topic's log settings
   * @returns the open log; `loadReport` says what recovery did
   * @throws {StorageError} when the directory cannot be read or written
   */
  static open(dir: string, topic: string, partition: number, config: LogConfig): PartitionLog {
    fs.mkdirSync(dir, { recursive: true });
    const names = fs.readdirSync(dir);
    const bases: number[] = [];
    for (const name of names) {
      if (/\.(deleted|cleaned|swap|tmp)$/.test(name)) {
        fs.rmSync(`${dir}/${name}`, { force: true, recursive: true });
        continue;
      }
      const m = /^(\d{20})\.log$/.exec(name);
      if (m) bases.push(Number(m[1]));
    }
    bases.sort((a, b) => a - b);
    const known = new Set(bases.map((b) => String(b).padStart(20, "0")));
    for (const name of names) {
      const m = /^(\d{20})\.(index|timeindex)$/.exec(name);
      if (m && !known.has(m[1])) fs.unlinkSync(`${dir}/${name}`);
    }

    const report: LoadReport = { clean: false, segmentsRecovered: 0, truncatedBytes: 0 };
    const markerPath = `${dir}/${CLEAN_SHUTDOWN_FILE}`;
    const marker = readCleanShutdown(markerPath);
    const recoveryPoint = readCheckpoint(`${dir}/${RECOVERY_POINT_CHECKPOINT}`, topic, partition) ?? 0;
    let logStartOffset = readCheckpoint(`${dir}/${LOG_START_OFFSET_CHECKPOINT}`, topic, partition);
    const segments: LogSegment[] = [];
    const maxBatch = Math.max(config.maxMessageBytes, 1 << 20) * 2;

    if (bases.length === 0) {
      const base = logStartOffset ?? 0;
      segments.push(LogSegment.create(dir, base, config.indexIntervalBytes));
      report.clean = true;
    } else {
      for (const base of bases) segments.push(LogSegment.open(dir, base, config.indexIntervalBytes));
      const active = segments[segments.length - 1];
      const clean = marker !== undefined && marker.activeBaseOffset === active.baseOffset &&
        marker.activeSize === active.size && marker.logEndOffset >= active.baseOffset;
      report.clean = clean;
      let expected = segments[0].baseOffset;
      for (let i = 0; i < segments.length; i++) {
        const segment = segments[i];
        const next = segments[i + 1];
        const trusted = clean || (next !== undefined && next.baseOffset <= recoveryPoint);
        if (trusted) {
          segment.nextOffset = next ? next.baseOffset : marker!.logEndOffset;
          if (segment.loadIndexes()) {
            expected = segment.nextOffset;
            continue;
          }
        }
        const result = segment.recover(maxBatch, Math.max(expected, segment.baseOffset));
        report.segmentsRecovered++;
        report.truncatedBytes += result.truncatedBytes;
        expected = result.nextOffset;
        if (result.truncatedBytes > 0 || (next && result.nextOffset > next.baseOffset)) {
          for (const later of segments.splice(i + 1)) {
            report.truncatedBytes += later.size;
            later.delete();
          }
          break;
        }
      }
      // An empty active segment whose name does not match the log end offset (its predecessor
      // lost its tail) is replaced, so that segment names stay true base offsets.
      const last = segments[segments.length - 1];
      if (
        segments.length > 1 && last.size === 0 && last.baseOffset !== segments[segments.length - 2].nextOffset
      ) {
        segments.pop()!.delete();
      }
      for (const segment of segments.slice(0, -1)) segment.onBecomeInactiveSegment();
    }
    if (logStartOffset === undefined || logStartOffset < segments[0].baseOffset) {
      logStartOffset = segments[0].baseOffset;
    }
    const logEnd = segments[segments.length - 1].nextOffset;
    if (logStartOffset > logEnd) logStartOffset = logEnd;
    if (fileSize(markerPath) >= 0) {
      fs.unlinkSync(markerPath);
      syncDirectory(dir);
    }
    return new PartitionLog(dir, topic, partition, config, segments, logStartOffset, report);
  }

  /** The next offset to be assigned. */
  get logEndOffset(): number {
    return this.#logEndOffset;
  }

  /** The end of what readers may see: every offset below it is acknowledged under the fsync policy. */
  get highWatermark(): number {
    return this.#highWatermark;
  }

  /** Whether {@linkcode PartitionLog.close} has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The segments, oldest first. */
  get segments(): SegmentInfo[] {
    return this.#segments.map((s) => ({ baseOffset: s.baseOffset, size: s.size, path: s.logPath }));
  }

  /** The total size of the `.log` files, bytes. */
  get size(): number {
    let n = 0;
    for (const s of this.#segments) n += s.size;
    return n;
  }

  #active(): LogSegment {
    return this.#segments[this.#segments.length - 1];
  }

  #track<T>(p: Promise<T>): Promise<T> {
    this.#pending.add(p);
    p.finally(() => this.#pending.delete(p)).catch(() => {});
    return p;
  }

  /**
   * Appends one record batch, synchronously: checks it, stamps its base offset (the log end
   * offset) and partition leader epoch (0), and writes it to the active segment, rolling first if
   * needed. The batch's bytes are modified in place. It is not yet acknowledged: use
   * {@linkcode PartitionLog.append} to wait for the fsync policy.
   *
   * @param batch exactly one RecordBatch v2
   * @param verify check the CRC-32C (off only for batches this process just encoded)
   * @returns the offsets and timestamp assigned
   * @throws {RecordTooLargeError} when the batch is larger than `maxMessageBytes`
   * @throws {CorruptRecordError} when the bytes are not exactly one valid batch
   * @throws {StorageError} when the log is closed or the write fails
   */
  appendBatch(batch: Uint8Array, verify = true): AppendInfo {
    if (this.#closed) {
      throw new StorageError(`Cannot append to "${this.topic}-${this.partition}": the log is closed`);
    }
    if (batch.length > this.config.maxMessageBytes) {
      throw new RecordTooLargeError(batch.length, this.config.maxMessageBytes);
    }
    const header = verify ? validateRecordBatch(batch, 0) : readRecordBatchHeader(batch, 0);
    if (header.batchLength + LOG_OVERHEAD !== batch.length) {
      throw new CorruptRecordError(
        `expected one batch of ${header.batchLength + LOG_OVERHEAD} bytes, got ${batch.length} bytes`,
        {
          topic: this.topic,
          partition: this.partition,
        },
      );
    }
    const baseOffset = this.#logEndOffset;
    const lastOffset = baseOffset + header.lastOffsetDelta;
    setBaseOffset(batch, 0, baseOffset);
    setPartitionLeaderEpoch(batch, 0, 0);
    this.#maybeRoll(batch.length, header.maxTimestamp, lastOffset);
    this.#active().append(batch, {
      baseOffset,
      lastOffset,
      maxTimestamp: header.maxTimestamp,
      offsetOfMaxTimestamp: lastOffset,
    });
    this.#logEndOffset = lastOffset + 1;
    if (this.config.fsync !== "always") this.#advanceHighWatermark(this.#logEndOffset);
    return { baseOffset, lastOffset, maxTimestamp: header.maxTimestamp };
  }

  /**
   * Appends one record batch and resolves once it is acknowledged: at once under `"never"` and
   * `"interval"`, after an fdatasync that covers it under `"always"` (one fsync serves every
   * append that arrived while the previous one ran).
   *
   * @param batch exactly one RecordBatch v2 (modified in place)
   * @param verify check the CRC-32C
   * @returns the offsets and timestamp assigned
   * @throws {RecordTooLargeError} when the batch is larger than `maxMessageBytes`
   * @throws {CorruptRecordError} when the bytes are not exactly one valid batch
   * @throws {StorageError} when the log is closed, the write or the fsync fails
   */
  append(batch: Uint8Array, verify = true): Promise<AppendInfo> {
    let info: AppendInfo;
    try {
      info = this.appendBatch(batch, verify);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.config.fsync !== "always") return Promise.resolve(info);
    return this.#syncTo(info.lastOffset + 1).then(() => info);
  }

  #syncTo(offset: number): Promise<void> {
    if (this.#syncedOffset >= offset) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#syncWaiters.push({ offset, resolve, reject });
      if (!this.#syncing) this.#track(this.#runSync());
    });
  }

  async #runSync(): Promise<void> {
    this.#syncing = true;
    try {
      while (this.#syncWaiters.length > 0) {
        const target = this.#logEndOffset;
        try {
          await this.#syncDirty();
        } catch (err) {
          const failed = this.#syncWaiters;
          this.#syncWaiters = [];
          const error = new StorageError(
            `Cannot fsync "${this.topic}-${this.partition}": ${(err as Error).message}`,
            { cause: err },
          );
          for (const w of failed) w.reject(error);
          continue;
        }
        this.#syncedOffset = Math.max(this.#syncedOffset, target);
        this.#advanceHighWatermark(this.#syncedOffset);
        const waiting = this.#syncWaiters;
        this.#syncWaiters = [];
        for (const w of waiting) {
          if (w.offset <= this.#syncedOffset) w.resolve();
          else this.#syncWaiters.push(w);
        }
      }
    } finally {
      this.#syncing = false;
    }
  }

  async #syncDirty(): Promise<void> {
    for (const segment of this.#segments) {
      // A segment with an fsync still running (started by a roll) is waited for too.
      if (segment.dirty || segment.syncing) await segment.flush(true);
    }
  }

  #advanceHighWatermark(offset: number): void {
    if (offset <= this.#highWatermark) return;
    this.#highWatermark = offset;
    for (const listener of this.#listeners) listener();
  }

  #maybeRoll(incomingBytes: number, maxTimestamp: number, lastOffset: number): void {
    const active = this.#active();
    if (active.size === 0) return;
    if (
      active.size + incomingBytes > this.config.segmentBytes ||
      (active.rollingBasedTimestamp >= 0 &&
        maxTimestamp - active.rollingBasedTimestamp > this.config.segmentMs) ||
      !active.canHold(lastOffset)
    ) this.roll();
  }

  /**
   * Starts a new active segment at the log end offset. The old segment gets its final time
   * index entry and is fsynced in the background; then the recovery point moves to the new base
   * offset, so that recovery after a crash never needs to scan it.
   *
   * @returns the new segment's base offset
   */
  roll(): number {
    const old = this.#active();
    if (old.size === 0) return old.baseOffset;
    old.onBecomeInactiveSegment();
    const base = this.#logEndOffset;
    this.#segments.push(LogSegment.create(this.dir, base, this.config.indexIntervalBytes));
    syncDirectory(this.dir);
    this.#track(
      old.flush(true).then(() => {
        if (!this.#closed) {
          writeCheckpoint(`${this.dir}/${RECOVERY_POINT_CHECKPOINT}`, this.topic, this.partition, base);
        }
      }).catch(() => {/* the next open recovers from the older recovery point */}),
    );
    return base;
  }

  #segmentFor(offset: number): number {
    let lo = 0, hi = this.#segments.length - 1, found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#segments[mid].baseOffset <= offset) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /**
   * Checks that `offset` lies in `[logStartOffset, logEndOffset]`.
   *
   * @throws {OffsetOutOfRangeError} when it does not
   */
  checkOffset(offset: number): void {
    if (offset < this.logStartOffset || offset > this.#logEndOffset) {
      throw new OffsetOutOfRangeError(
        this.topic,
        this.partition,
        offset,
        this.logStartOffset,
        this.#logEndOffset,
      );
    }
  }

  /**
   * Reads whole record batches from the one holding `offset` on, up to about `maxBytes` (at
   * least one whole batch, as KIP-74 asks of Fetch), never past the high watermark's segment end.
   * The batch holding `offset` is found by an index lookup and a short forward scan, or directly
   * from `cursor` when the caller continues a previous read.
   *
   * @param offset the first offset wanted
   * @param maxBytes a soft limit on the bytes returned
   * @param cursor the `next` of the previous read, if any
   * @returns the batches, or `null` when `offset` is at the high watermark (nothing to read yet)
   * @throws {OffsetOutOfRangeError} when `offset` is outside `[logStartOffset, logEndOffset]`
   * @throws {StorageError} when the log is closed
   */
  read(offset: number, maxBytes: number, cursor?: ReadCursor): FetchData | null {
    if (this.#closed) {
      throw new StorageError(`Cannot read from "${this.topic}-${this.partition}": the log is closed`);
    }
    this.checkOffset(offset);
    if (offset >= this.#highWatermark) return null;
    let index: number;
    let position: number | undefined;
    if (cursor && cursor.offset === offset) {
      index = this.#segmentFor(cursor.segmentBaseOffset);
      if (this.#segments[index].baseOffset === cursor.segmentBaseOffset) position = cursor.position;
      else index = this.#segmentFor(offset);
    } else index = this.#segmentFor(offset);
    for (; index < this.#segments.length; index++, position = 0) {
      const segment = this.#segments[index];
      const batch = segment.translateOffset(offset, position);
      if (!batch) continue;
      if (batch.baseOffset >= this.#highWatermark) return null;
      const first = Math.max(batch.size, Math.min(maxBytes, segment.size - batch.position));
      const bytes = segment.read(batch.position, first);
      // Keep whole batches only.
      let end = 0;
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      let nextOffset = offset;
      while (end + RECORD_BATCH_OVERHEAD <= bytes.length) {
        const size = view.getInt32(end + 8) + LOG_OVERHEAD;
        if (size < RECORD_BATCH_OVERHEAD || end + size > bytes.length) {
          if (end === 0) {
            throw new CorruptRecordError(`batch size ${size} runs past the end of the segment`, {
              topic: this.topic,
              partition: this.partition,
              segment: segment.logPath,
              position: batch.position,
            });
          }
          break;
        }
        const base = view.getInt32(end) * 2 ** 32 + view.getUint32(end + 4);
        if (base >= this.#highWatermark) break;
        nextOffset = base + view.getInt32(end + 23) + 1;
        end += size;
      }
      if (end === 0) return null;
      let next: ReadCursor = {
        offset: nextOffset,
        segmentBaseOffset: segment.baseOffset,
        position: batch.position + end,
      };
      if (next.position >= segment.size && index + 1 < this.#segments.length) {
        next = { offset: nextOffset, segmentBaseOffset: this.#segments[index + 1].baseOffset, position: 0 };
      }
      return { bytes: bytes.subarray(0, end), segment: segment.logPath, position: batch.position, next };
    }
    return null;
  }

  /**
   * Decodes the batches of a {@linkcode FetchData}, checking each CRC-32C, and returns the
   * records at or after `fromOffset` and below both `toOffset` and the high watermark; control
   * records are left out.
   *
   * @param data what {@linkcode PartitionLog.read} returned
   * @param fromOffset the first offset wanted
   * @param toOffset the first offset not wanted
   * @returns the records, in offset order
   * @throws {CorruptRecordError} naming the topic, partition, segment file and position of a bad batch
   */
  decode(data: FetchData, fromOffset: number, toOffset = Infinity): Record[] {
    const out: Record[] = [];
    const limit = Math.min(toOffset, this.#highWatermark);
    const bytes = data.bytes;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let position = 0;
    while (position < bytes.length) {
      const size = view.getInt32(position + 8) + LOG_OVERHEAD;
      let decoded;
      try {
        decoded = decodeRecordBatch(bytes, position);
      } catch (err) {
        if (err instanceof CorruptRecordError || (err as Error).name === "InvalidRecordError") {
          throw new CorruptRecordError((err as Error).message, {
            topic: this.topic,
            partition: this.partition,
            segment: data.segment,
            position: data.position + position,
          }, { cause: err });
        }
        throw err;
      }
      position += size;
      if (decoded.header.isControl) continue;
      for (const record of decoded.records) {
        if (record.offset >= limit) return out;
        if (record.offset >= fromOffset) out.push(record);
      }
    }
    return out;
  }

  /**
   * Finds the first offset whose record timestamp is at or after `timestamp` (Kafka's
   * ListOffsets by time): the first segment whose largest timestamp reaches it, a time index
   * lookup, a scan of batch headers, and a decode of the one batch found.
   *
   * @param timestamp ms since the epoch
   * @returns the offset and that record's timestamp, or `null` when every record is older
   */
  offsetForTimestamp(timestamp: number): { offset: number; timestamp: number } | null {
    for (const segment of this.#segments) {
      if (segment.maxTimestampSoFar < timestamp) continue;
      let batch = segment.findBatchByTimestamp(timestamp);
      while (batch && batch.baseOffset < this.#highWatermark) {
        const bytes = segment.read(batch.position, batch.size);
        const { records } = decodeRecordBatch(bytes, 0);
        for (const record of records) {
          if (record.offset >= this.#highWatermark) return null;
          if (record.offset >= this.logStartOffset && record.timestamp >= timestamp) {
            return { offset: record.offset, timestamp: record.timestamp };
          }
        }
        batch = segment.translateOffset(batch.lastOffset + 1, batch.position + batch.size);
      }
    }
    return null;
  }

  /**
   * Calls `listener` each time the high watermark moves (after an append is acknowledged) and
   * when the log closes.
   *
   * @param listener called with no arguments
   * @returns a function that removes the listener
   */
  onAppend(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Forces everything appended so far to stable storage (fdatasync of every dirty segment).
   *
   * @throws {StorageError} when an fsync fails
   */
  async flush(): Promise<void> {
    if (this.#closed) return;
    await this.#syncTo(this.#logEndOffset);
    await this.#syncDirty();
  }

  /**
   * Closes the log cleanly: flushes and fsyncs every segment, writes the recovery point and the
   * clean-shutdown marker (so the next open scans nothing), and releases every file handle and
   * timer. Listeners are called once more so that followers notice.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    await this.#syncTo(this.#logEndOffset).catch(() => {});
    await Promise.allSettled([...this.#pending]);
    this.#closed = true;
    for (const segment of this.#segments) {
      segment.flushSync(true);
      segment.close();
    }
    const active = this.#active();
    writeCheckpoint(
      `${this.dir}/${RECOVERY_POINT_CHECKPOINT}`,
      this.topic,
      this.partition,
      this.#logEndOffset,
    );
    writeCheckpoint(
      `${this.dir}/${LOG_START_OFFSET_CHECKPOINT}`,
      this.topic,
      this.partition,
      this.logStartOffset,
    );
    writeCleanShutdown(`${this.dir}/${CLEAN_SHUTDOWN_FILE}`, {
      version: 0,
      logEndOffset: this.#logEndOffset,
      activeBaseOffset: active.baseOffset,
      activeSize: active.size,
    });
    for (const listener of this.#listeners) listener();
    this.#listeners.clear();
  }

  /**
   * Abandons the log without a clean close, as a crash would: closes the file handles and stops
   * the timer, writes no marker. Tests use it to check recovery.
   */
  abandon(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    for (const segment of this.#segments) segment.closeHandle();
    for (const listener of this.#listeners) listener();
    this.#listeners.clear();
  }
}
