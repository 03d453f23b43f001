/**
 * One partition's log: an ordered list of segments, the offsets that bound it (log start offset,
 * high watermark, log end offset), appends with the topic's fsync policy, reads by offset and by
 * timestamp, rolling, retention, listeners and open/close. Kafka's `UnifiedLog`, for one node. Its
 * parts: the segments and the reads over them are `local_log.ts` (Kafka's `LocalLog`), opening and
 * recovery `log_loader.ts` (`LogLoader`), the idempotent producers `producer_state_manager.ts`
 * (`ProducerStateManager`), the waits for a write or an fdatasync `group_commit.ts`, the writer
 * role `writer_lease.ts`, and following another process's writer `log_follower.ts`.
 *
 * @module
 */
import {
  CorruptRecordError,
  OffsetOutOfRangeError,
  PartitionLockedError,
  ProducerSequenceError,
  RecordTooLargeError,
  ReelError,
  StorageError,
  UnknownTopicOrPartitionError,
} from "../errors.ts";
import type { Record } from "../record/record.ts";
import {
  LOG_OVERHEAD,
  readRecordBatchHeader,
  setBaseOffset,
  setPartitionLeaderEpoch,
  validateRecordBatch,
} from "../record/record_batch.ts";
import type { DecodeOptions } from "../record/record_batch_decoder.ts";
import { fs, syncDirectory } from "../runtime/file_system.ts";
import { LockFile, type LockOwner, takeLock, tryLock } from "../runtime/lock_file.ts";
import {
  CLEAN_SHUTDOWN_FILE,
  LOG_START_OFFSET_CHECKPOINT,
  RECOVERY_POINT_CHECKPOINT,
  writeCheckpoint,
  writeCleanShutdown,
} from "./checkpoint.ts";
import { compacts, deletes, type LogConfig } from "./log_config.ts";
import { validateRecordKeys } from "./log_validator.ts";
import { type CleanerStats, cleanLog, type CleanOptions } from "./log_cleaner.ts";
import { GroupCommit } from "./group_commit.ts";
import { HighWatermarkPublisher } from "./high_watermark_publisher.ts";
import { LogFollower } from "./log_follower.ts";
import { type FetchData, LocalLog, type ReadCursor, type SegmentInfo } from "./local_log.ts";
import { WRITER_LOCK_FILE } from "./local_log.ts";
import type { LogSegment } from "./log_segment.ts";
import {
  isUnwritable,
  leaveClean,
  type Loaded,
  loadForReading,
  loadForWriting,
  type LoadReport,
  removeCleanShutdownMarker,
} from "./log_loader.ts";
import { readPartitionMetadata, writePartitionMetadata } from "./partition_metadata_file.ts";
import { ProducerStateManager } from "./producer_state_manager.ts";
import type { WriterGroup, WriterRole } from "./writer_roles.ts";
import { WRITER_WANTED_FILE, WriterLease } from "./writer_lease.ts";

export { WRITER_WANTED_FILE };
export type { LoadReport };
export type { FetchData, ReadCursor, SegmentInfo };

/** What an append assigned. */
export interface AppendInfo {
  /** The first offset of the appended batch. */
  baseOffset: number;
  /** The last offset of the appended batch. */
  lastOffset: number;
  /** The batch's largest timestamp, ms. */
  maxTimestamp: number;
  /**
   * Set when the batch was an idempotent producer's retry of a batch already in the log: nothing
   * was appended, and the offsets are the original's.
   */
  duplicate?: boolean;
}

/** Options of {@linkcode PartitionLog.open}. */
export interface PartitionLogOptions {
  /**
   * Take the partition's writer lock at open and keep it until `close()`. With `false` the log
   * opens for reading: if no other process holds the lock, it is taken just long enough to
   * recover the log (and leave it marked clean), then released; if another process holds it,
   * nothing is changed on disk and a torn tail is simply where the log ends for now. Either way
   * the first write (`append`, `roll`, `deleteOldSegments`) takes the lock then.
   * @default true
   */
  writer?: boolean;
  /**
   * The topic's ID (KIP-516), recorded in the directory's `partition.metadata` at open if it
   * holds none. With it, the log checks that its directory still belongs to this topic whenever
   * it looks at what another process did (and before it takes the writer lock): once the topic is
   * deleted, or deleted and created again (a new ID), reads and writes end with
   * {@linkcode UnknownTopicOrPartitionError}.
   */
  topicId?: string;
  /**
   * Create the partition directory if it is missing. With `false`, a missing directory throws
   * {@linkcode UnknownTopicOrPartitionError} (the topic was deleted): a reader never makes the
   * directory of a topic another process is deleting.
   * @default true
   */
  createDirectory?: boolean;
  /**
   * Give the writer role back (flushing and marking the log clean, as `close()` does, then going
   * on as a reader) once no append has come for this long, ms; sooner when another process waits
   * for it. Without it the role is kept until `close()`, as `writer: true` does. `LogDirectory`
   * passes its own (1000 by default).
   */
  writerIdleMs?: number;
  /**
   * How long an append waits for the writer role while another process holds it, ms, before it
   * fails with {@linkcode PartitionLockedError}. 0 fails at once.
   * @default 30000
   */
  lockTimeoutMs?: number;
  /**
   * The logs of the same topic in this process (`LogDirectory` makes one per topic): when another
   * process waits for one partition's writer role, every log of the group gives its role back.
   */
  writerGroup?: WriterGroup;
}

/**
 * One partition's log on disk.
 *
 * @example Append a batch and read it back
 * ```ts
 * import assert from "node:assert/strict";
 * import { PartitionLog } from "./partition_log.ts";
 * import { resolveLogConfig } from "./log_config.ts";
 * import { encodeRecordBatch } from "../record/record_batch_encoder.ts";
 * const dir = Deno.makeTempDirSync() + "/events-0";
 * const log = PartitionLog.open(dir, "events", 0, resolveLogConfig());
 * const info = await log.append(encodeRecordBatch([{ value: new TextEncoder().encode("hi") }]));
 * assert.deepEqual([info.baseOffset, log.logEndOffset], [0, 1]);
 * await log.close();
 * ```
 */
export class PartitionLog implements WriterRole {
  /** The partition's log start offset: the first offset still in the log. */
  logStartOffset: number;
  #loadReport: LoadReport;
  #damage: CorruptRecordError[];
  #writeRefused: CorruptRecordError | undefined;
  /** The segments and the reads over them. */
  readonly #local: LocalLog;
  get #segments(): LogSegment[] {
    return this.#local.segments;
  }
  /** The writer role: the writer lock while this process holds it, and the turns taken with others. */
  readonly #lease: WriterLease;
  /** What this process sees of another process's writer, while it does not hold the lock. */
  readonly #follower: LogFollower;
  #logEndOffset: number;
  #highWatermark: number;
  #closed = false;
  #listeners = new Set<() => void>();
  /** Appends waiting for a write or an fdatasync, and the rounds that do them. */
  readonly #commit: GroupCommit;
  /** Decode options that stamp this log's topic and partition on every record. */
  readonly #withSource: DecodeOptions;
  /** The writer's published high watermark, for readers in other processes (`fsync: "always"` only). */
  readonly #highWatermarkFile: HighWatermarkPublisher;
  #timer: ReturnType<typeof setInterval> | undefined;
  #pending = new Set<Promise<unknown>>();
  /** The topic's ID (KIP-516), when it has one. */
  readonly topicId: string | undefined;
  /** Set once the topic is found deleted (its directory gone or holding another topic ID). */
  #topicDeleted = false;
  /** The idempotent producers' state, built on first use. */
  readonly #producers: ProducerStateManager;
  /** The log cleaner's round now running, if any. */
  #cleaning: Promise<CleanerStats> | undefined;

  private constructor(
    readonly dir: string,
    readonly topic: string,
    readonly partition: number,
    public config: LogConfig,
    loaded: Loaded,
    lock: LockFile | undefined,
    writerToken?: string,
    topicId?: string,
    roles: { writerIdleMs?: number; lockTimeoutMs?: number; writerGroup?: WriterGroup } = {},
  ) {
    this.topicId = topicId;
    // deno-lint-ignore no-this-alias
    const log = this;
    this.#lease = new WriterLease(
      {
        dir,
        topic,
        partition,
        get closed() {
          return log.#closed;
        },
        checkTopicId: () => this.#checkTopicId(),
        loadForWriting: () => {
          // The topic may have been deleted (and created again) before the lock was ours.
          this.#checkTopicId();
          const loaded = loadForWriting(this.dir, this.topic, this.partition, this.config);
          removeCleanShutdownMarker(this.dir);
          return loaded;
        },
        startWriting: (loaded) => this.#startWriting(loaded),
        idle: () => {
          if (this.config.fsync !== "always") {
            // Batches held back for a deferred write are written (and acknowledged) now.
            try {
              this.#commit.writePending();
            } catch {
              return false;
            }
          }
          return this.#idle();
        },
        handOver: () => {
          if (this.#timer !== undefined) {
            clearInterval(this.#timer);
            this.#timer = undefined;
          }
          this.#leaveClean(true);
          this.#highWatermarkFile.close();
        },
        startReading: () => {
          for (const segment of this.#segments) segment.readOnly = true;
          if (this.#listeners.size > 0) this.#watch();
        },
      },
      lock,
      roles,
    );
    this.#local = new LocalLog(topic, partition, loaded.segments);
    this.#local.offsetGaps = loaded.offsetGaps ?? false;
    this.#producers = new ProducerStateManager(dir, this.#local);
    this.logStartOffset = loaded.logStartOffset;
    this.#logEndOffset = loaded.segments[loaded.segments.length - 1].nextOffset;
    this.#highWatermark = this.#logEndOffset;
    this.#commit = new GroupCommit({
      name: `${topic}-${partition}`,
      get logEndOffset() {
        return log.#logEndOffset;
      },
      writeHeld: () => this.#writeHeld(),
      syncDirty: () => this.#syncDirty(),
      syncDirtyNow: () => this.#syncDirtyNow(),
      written: () => {
        if (this.config.fsync !== "always") this.#advanceHighWatermark(this.#logEndOffset);
      },
      synced: (offset) => {
        this.#advanceHighWatermark(offset);
        this.#publishHighWatermark();
      },
      track: (p) => this.#track(p),
    }, this.#logEndOffset);
    this.#withSource = { from: { topic, partition } };
    this.#loadReport = loaded.report;
    this.#damage = loaded.damage;
    this.#writeRefused = loaded.writeRefused;
    this.#highWatermarkFile = new HighWatermarkPublisher(dir);
    this.#follower = new LogFollower(dir, topic, partition, config, writerToken, {
      local: this.#local,
      get logStartOffset() {
        return log.logStartOffset;
      },
      set logStartOffset(offset) {
        log.logStartOffset = offset;
      },
      get logEndOffset() {
        return log.#logEndOffset;
      },
      set logEndOffset(offset) {
        log.#logEndOffset = offset;
      },
      get highWatermark() {
        return log.#highWatermark;
      },
      set highWatermark(offset) {
        log.#highWatermark = offset;
      },
      checkTopicId: () => this.#checkTopicId(),
      install: (loaded) => this.#install(loaded),
      notify: () => this.#notify(),
    });
    this.#follower.noteCleaner(loaded.cleanerStamp);
    this.#highWatermark = this.#visibleEnd();
    if (lock) {
      this.#startFsyncTimer();
      this.#publishHighWatermark();
    }
  }

  /**
   * Changes the log's settings (a topic's config altered by `alterTopicConfig`, here or in
   * another process): the next append, roll and retention check use them, and the fsync timer
   * follows the new policy.
   *
   * @param config the new settings
   * @example A new segment size takes effect at the next append
   * ```ts
   * import assert from "node:assert/strict";
   * import { PartitionLog } from "./partition_log.ts";
   * import { resolveLogConfig } from "./log_config.ts";
   * import { encodeRecordBatch } from "../record/record_batch_encoder.ts";
   * const log = PartitionLog.open(Deno.makeTempDirSync() + "/events-0", "events", 0, resolveLogConfig());
   * log.setConfig(resolveLogConfig({ segmentBytes: 1024 }));
   * for (let i = 0; i < 3; i++) await log.append(encodeRecordBatch([{ value: new Uint8Array(600) }]));
   * assert.equal(log.segments.length, 3); // each 600-byte record fills a 1 KiB segment
   * await log.close();
   * ```
   */
  setConfig(config: LogConfig): void {
    const before = this.config;
    this.config = config;
    this.#follower.config = config;
    if (before.fsync !== config.fsync || before.fsyncIntervalMs !== config.fsyncIntervalMs) {
      if (this.#timer !== undefined) clearInterval(this.#timer);
      this.#timer = undefined;
      if (this.#lease.held) this.#startFsyncTimer();
    }
  }

  /**
   * Deletes the records before `offset` (Kafka's DeleteRecords, KIP-107): the log start offset
   * moves there (checkpointed first, so a crash keeps it), and the segments wholly below it are
   * deleted; readers of an earlier offset get {@linkcode OffsetOutOfRangeError}, and consumers
   * move as their `autoOffsetReset` says. Takes the writer role.
   *
   * @param offset the new log start offset, at most the high watermark; -1 for the high watermark
   * @returns the log start offset afterwards (Kafka's low watermark)
   * @throws {OffsetOutOfRangeError} for an offset past the high watermark
   * @throws {RangeError} for an offset that is not a whole number (or -1)
   * @throws {PartitionLockedError} when another writer keeps the partition
   * @throws {StorageError} when the log is closed or a file cannot be written
   * @example Delete the first two records
   * ```ts
   * import assert from "node:assert/strict";
   * import { PartitionLog } from "./partition_log.ts";
   * import { resolveLogConfig } from "./log_config.ts";
   * import { encodeRecordBatch } from "../record/record_batch_encoder.ts";
   * const log = PartitionLog.open(Deno.makeTempDirSync() + "/events-0", "events", 0, resolveLogConfig());
   * for (let i = 0; i < 3; i++) await log.append(encodeRecordBatch([{ value: new Uint8Array([i]) }]));
   * assert.equal(log.deleteRecordsBefore(2), 2);
   * assert.equal(log.logStartOffset, 2);
   * await log.close();
   * ```
   */
  deleteRecordsBefore(offset: number): number {
    if (offset !== -1 && (!Number.isSafeInteger(offset) || offset < 0)) {
      throw new RangeError(
        `Invalid offset ${offset}: must be a whole number, 0 or more, or -1 (the high watermark)`,
      );
    }
    if (this.#closed) {
      throw new StorageError(`Cannot delete records of "${this.topic}-${this.partition}": the log is closed`);
    }
    if (!this.#lease.held) this.#lease.take();
    this.#commit.writePending();
    const target = offset === -1 ? this.#highWatermark : offset;
    if (target > this.#highWatermark) {
      throw new OffsetOutOfRangeError(
        this.topic,
        this.partition,
        target,
        this.logStartOffset,
        this.#highWatermark,
      );
    }
    if (target <= this.logStartOffset) return this.logStartOffset;
    try {
      writeCheckpoint(`${this.dir}/${LOG_START_OFFSET_CHECKPOINT}`, this.topic, this.partition, target);
    } catch (err) {
      throw new StorageError(
        `Cannot delete records of "${this.topic}-${this.partition}": ${(err as Error).message}`,
        { cause: err },
      );
    }
    this.logStartOffset = target;
    this.#lease.lastWriteAt = Date.now();
    this.#deleteSegments(() => false);
    this.#notify();
    return this.logStartOffset;
  }

  /** When an append last used the writer role, ms since the epoch. */
  get lastWriteAt(): number {
    return this.#lease.lastWriteAt;
  }

  /**
   * The high watermark a log this process only reads may show: under `fsync: "always"`, no more
   * than the writer has published (what it has fdatasynced), so that no reader sees a record a
   * power loss could take back; the end of the whole batches in the files otherwise, or when
   * nothing is published.
   */
  #visibleEnd(): number {
    return this.#lease.held ? this.#logEndOffset : this.#follower.visibleEnd(this.#logEndOffset);
  }

  /**
   * As the writer under `fsync: "always"`: publishes the high watermark (or `offset`, at close)
   * for other processes.
   */
  #publishHighWatermark(offset = this.#highWatermark): void {
    if (this.#lease.held && this.config.fsync === "always") this.#highWatermarkFile.publish(offset);
  }

  #startFsyncTimer(): void {
    if (this.config.fsync === "interval" && this.#timer === undefined) {
      this.#timer = setInterval(
        () => this.#track(this.#syncDirty().catch(() => {})),
        this.config.fsyncIntervalMs,
      );
      // Node, Deno and Bun timers all have unref(): a periodic fsync must not keep a process alive.
      (this.#timer as unknown as { unref?: () => void }).unref?.();
    }
  }

  /**
   * Opens (creating if needed) the partition directory and loads its segments. As a writer (the
   * default) it takes the partition's writer lock, then, after a clean close, scans nothing; after
   * an unclean one it validates only the segments from the recovery point on, cuts a torn or
   * corrupt tail at the last valid batch, deletes later segments, and rebuilds missing or damaged
   * indexes (Kafka's `LogLoader`). With `{ writer: false }` see {@linkcode PartitionLogOptions}.
   *
   * @param dir the partition directory, `<log dir>/<topic>-<partition>`
   * @param topic the topic name (for errors and checkpoints)
   * @param partition the partition number
   * @param config the topic's log settings
   * @param options whether to keep the writer lock
   * @returns the open log; `loadReport` says what recovery did
   * @throws {PartitionLockedError} as a writer, when another live process (or another open log in
   *   this process) holds the partition's writer lock
   * @throws {StorageError} when the directory cannot be read or written
   */
  static open(
    dir: string,
    topic: string,
    partition: number,
    config: LogConfig,
    options: PartitionLogOptions = {},
  ): PartitionLog {
    const writer = options.writer ?? true;
    const topicId = options.topicId;
    const roles = {
      writerIdleMs: options.writerIdleMs,
      lockTimeoutMs: options.lockTimeoutMs,
      writerGroup: options.writerGroup,
    };
    if (options.createDirectory ?? true) fs.mkdirSync(dir, { recursive: true });
    else if (!fs.existsSync(dir)) throw new UnknownTopicOrPartitionError(topic, partition);
    if (topicId !== undefined) {
      // A reader only compares (it never needs to write: a read-only or full file system still
      // serves reads); a writer records the ID when the file is missing, as Kafka does.
      const stored = readPartitionMetadata(dir) ?? (writer ? writePartitionMetadata(dir, topicId) : topicId);
      if (stored !== topicId) throw new UnknownTopicOrPartitionError(topic, partition);
    }
    // A writer waits out another opener's moment of recovery; a reader never waits.
    const lockPath = `${dir}/${WRITER_LOCK_FILE}`;
    let got: LockFile | LockOwner;
    try {
      got = writer ? takeLock(lockPath) : tryLock(lockPath, { transient: true });
    } catch (err) {
      // A reader that cannot write the lock file (a read-only or full file system) reads as it
      // would beside a writer: without recovering or changing any file.
      if (writer || !isUnwritable(err)) throw err;
      const loaded = loadForReading(dir, topic, partition, config);
      return new PartitionLog(dir, topic, partition, config, loaded, undefined, undefined, topicId, roles);
    }
    if (got instanceof LockFile) {
      let loaded: Loaded;
      try {
        loaded = loadForWriting(dir, topic, partition, config);
        if (writer) removeCleanShutdownMarker(dir);
        else leaveClean(dir, topic, partition, loaded, config.fsync === "always");
      } catch (err) {
        got.release();
        throw err;
      }
      // Opened as the writer: the role is kept until close.
      if (writer) {
        return new PartitionLog(dir, topic, partition, config, loaded, got, undefined, topicId, roles);
      }
      got.release();
      return new PartitionLog(dir, topic, partition, config, loaded, undefined, undefined, topicId, roles);
    }
    if (writer) throw new PartitionLockedError(topic, partition, got);
    return new PartitionLog(
      dir,
      topic,
      partition,
      config,
      loadForReading(dir, topic, partition, config),
      undefined,
      got.token,
      topicId,
      roles,
    );
  }

  /**
   * Whether the topic was found deleted (or deleted and created again): the partition directory
   * is gone or its `partition.metadata` names another topic ID. Such a log only throws
   * {@linkcode UnknownTopicOrPartitionError}.
   */
  get topicDeleted(): boolean {
    return this.#topicDeleted;
  }

  /**
   * Checks that the partition directory still belongs to this log's topic (its topic ID).
   *
   * @throws {UnknownTopicOrPartitionError} when it does not: the topic was deleted
   */
  #checkTopicId(): void {
    if (!this.#topicDeleted && this.topicId !== undefined) {
      let found: string | undefined;
      try {
        found = readPartitionMetadata(this.dir);
      } catch { /* unreadable: not this topic's */ }
      if (found === this.topicId) return;
      this.#topicDeleted = true;
      this.#notify();
    }
    if (this.#topicDeleted) throw new UnknownTopicOrPartitionError(this.topic, this.partition);
  }

  /**
   * What the open found and did (for a log opened for reading while another process wrote it:
   * nothing recovered, `clean` as the marker says).
   */
  get loadReport(): LoadReport {
    return this.#loadReport;
  }

  /**
   * Damage the last load found in segments and left in place, because the bytes hold records
   * known to be durable: a batch that fails its CRC-32C in a sealed segment, or in the middle of
   * the active segment. Reading the damaged batch throws the same {@linkcode CorruptRecordError};
   * `reel verify` reports it too. Empty for a log opened for reading while another process writes.
   */
  get damage(): readonly CorruptRecordError[] {
    return this.#damage;
  }

  /** Whether this object holds the partition's writer lock (it may append without waiting for one). */
  get isWriter(): boolean {
    return this.#lease.held;
  }

  /**
   * Takes the partition's writer lock, if this log does not hold it yet, reloads the log under it
   * (recovering what a crashed writer left), and keeps it until `close()`: other processes'
   * appends wait for it and fail after their `lockTimeoutMs`. Appends, rolls and retention take
   * the writer role themselves, and give it back once idle (see `writerIdleMs`); call this to
   * fail early, or to keep other processes from writing.
   *
   * @throws {PartitionLockedError} when another live writer holds the lock
   * @throws {StorageError} when the log is closed, or the files cannot be read or written
   * @example A reader becomes the writer
   * ```ts
   * import assert from "node:assert/strict";
   * import { PartitionLog } from "./partition_log.ts";
   * import { resolveLogConfig } from "./log_config.ts";
   * const log = PartitionLog.open(Deno.makeTempDirSync() + "/events-0", "events", 0, resolveLogConfig(), { writer: false });
   * assert.equal(log.isWriter, false);
   * log.acquireWriterLock();
   * assert.equal(log.isWriter, true);
   * await log.close();
   * ```
   */
  acquireWriterLock(): void {
    this.#lease.pin();
  }

  /** Whether nothing is in flight: no append waits for a write or an fdatasync. */
  #idle(): boolean {
    return !this.#commit.busy && this.#pending.size === 0 && !this.#local.busy;
  }

  /**
   * Gives the writer role back if nothing is in flight (see `writer_roles.ts`): the log is left
   * as `close()` leaves it (fsynced, recovery point and clean-shutdown marker written, high
   * watermark published) and goes on as a reader.
   *
   * @returns whether the role was given back
   */
  releaseIfIdle(): boolean {
    return this.#lease.releaseIfIdle();
  }

  /**
   * The periodic check of a writer role: given back once idle for `writerIdleMs`, or when
   * another process left the `writer.wanted` marker (looked for at each check, every 20 ms).
   *
   * @param now ms since the epoch
   */
  check(now: number): void {
    this.#lease.check(now);
  }

  /**
   * Gives the writer role to another writer: appends from here on queue until this process has
   * the role again (not before `until`), and the role goes as soon as what is in flight is done.
   * Does nothing for a role kept until close, or one not held.
   *
   * @param until ms since the epoch before which this process does not take the role again
   */
  yieldTurn(until: number): void {
    this.#lease.yieldTurn(until);
  }

  /**
   * Starts writing with the log loaded under the writer lock just taken (see
   * `WriterLeaseHost.startWriting`).
   */
  #startWriting(loaded: Loaded): void {
    this.#follower.unwatch();
    this.#install(loaded);
    this.#producers.removeSnapshotsPast(this.#logEndOffset);
    this.#startFsyncTimer();
    this.#publishHighWatermark();
  }

  /** Watches the partition directory for another process's appends, refreshing the log on each. */
  #watch(): void {
    this.#follower.watch(() => {
      try {
        this.refresh();
      } catch { /* the next read reports it */ }
    });
  }

  /** Swaps in freshly loaded segments and offsets, and wakes followers if the log moved. */
  #install(loaded: Loaded): boolean {
    const before = [this.logStartOffset, this.#highWatermark, this.#logEndOffset];
    // Cursors into the old segments' files are not used again (their positions may point into
    // files the log cleaner replaced).
    this.#local.replaceAll(loaded.segments, loaded.offsetGaps ?? false);
    this.logStartOffset = loaded.logStartOffset;
    this.#damage = loaded.damage;
    this.#writeRefused = loaded.writeRefused;
    this.#logEndOffset = loaded.segments[loaded.segments.length - 1].nextOffset;
    this.#highWatermark = this.#visibleEnd();
    this.#commit.syncedOffset = this.#logEndOffset;
    this.#producers.reset(); // rebuilt from the files on next use
    this.#follower.noteCleaner(loaded.cleanerStamp);
    const changed = before[0] !== this.logStartOffset || before[1] !== this.#highWatermark ||
      before[2] !== this.#logEndOffset;
    if (changed) this.#notify();
    return changed;
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }

  /**
   * For a log this process only reads: picks up what the writing process did since the last
   * look: batches appended, segments rolled, the log start offset moved by retention, a log
   * recovered by a new writer. Followers are woken if the log moved. Reads at the end of the log
   * call it; a writer's log is always current, so there it does nothing.
   *
   * @returns whether the log's offsets moved
   * @throws {UnknownTopicOrPartitionError} when the topic was deleted (see `topicId`)
   * @throws {StorageError} when the files cannot be read
   */
  refresh(): boolean {
    if (this.#lease.held || this.#closed) return false;
    return this.#follower.refresh();
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
    return this.#local.segmentInfos;
  }

  /** The total size of the `.log` files, bytes. */
  get size(): number {
    return this.#local.size;
  }

  #active(): LogSegment {
    return this.#local.active;
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
   * @throws {InvalidRecordError} when the topic compacts and a record has no key (code 87)
   * @throws {CorruptRecordError} when the bytes are not exactly one valid batch, or when the
   *   active segment is damaged before its end (see {@linkcode PartitionLog.damage})
   * @throws {PartitionLockedError} when another process writes the partition
   * @throws {StorageError} when the log is closed or the write fails
   */
  appendBatch(batch: Uint8Array, verify = true): AppendInfo {
    return this.#appendBatch(batch, verify, this.config.fsync === "always");
  }

  /**
   * Appends one batch; with `defer` its write waits for the next {@linkcode PartitionLog.writeDeferred}
   * (or group commit, or any append that writes), and the high watermark moves only then.
   */
  #appendBatch(batch: Uint8Array, verify: boolean, defer: boolean, lent = false): AppendInfo {
    if (this.#closed) {
      throw new StorageError(`Cannot append to "${this.topic}-${this.partition}": the log is closed`);
    }
    if (!this.#lease.held) this.#lease.take();
    this.#checkWritable();
    this.#lease.lastWriteAt = Date.now();
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
    // Kafka's LogValidator runs before the producer state is consulted: a keyless record fails
    // its batch on a compacted topic, a retry included.
    if (compacts(this.config.cleanupPolicy)) validateRecordKeys(batch, 0, `${this.topic}-${this.partition}`);
    const idempotent = header.producerId >= 0 && !header.isControl;
    if (idempotent) {
      const decision = this.#producers.state(this.logStartOffset, this.#logEndOffset).check(header);
      if (decision.kind === "error") {
        throw new ProducerSequenceError(decision.code, this.topic, this.partition, decision.detail);
      }
      if (decision.kind === "duplicate") {
        const { baseOffset, offsetDelta, maxTimestamp } = decision.batch;
        return { baseOffset, lastOffset: baseOffset + offsetDelta, maxTimestamp, duplicate: true };
      }
    }
    const baseOffset = this.#logEndOffset;
    const lastOffset = baseOffset + header.lastOffsetDelta;
    setBaseOffset(batch, 0, baseOffset);
    setPartitionLeaderEpoch(batch, 0, 0);
    this.#maybeRoll(batch.length, header.maxTimestamp, lastOffset);
    // A write of its own goes after the batches held back (taken back, with their appends
    // failed, if that write fails).
    if (!defer) this.#commit.writePending();
    // Under "always" the write waits for the next group commit, which writes every batch
    // appended since the last one at once, then fdatasyncs.
    this.#active().append(
      batch,
      {
        baseOffset,
        lastOffset,
        maxTimestamp: header.maxTimestamp,
        offsetOfMaxTimestamp: lastOffset,
      },
      defer,
      lent,
    );
    this.#logEndOffset = lastOffset + 1;
    if (idempotent) this.#producers.record(header, baseOffset);
    if (!defer) this.#advanceHighWatermark(this.#logEndOffset);
    return { baseOffset, lastOffset, maxTimestamp: header.maxTimestamp };
  }

  /**
   * Throws when the active segment is damaged in the middle (see {@linkcode PartitionLog.damage}):
   * no offset is handed out after bytes that a later recovery could neither keep nor cut.
   */
  #checkWritable(): void {
    const refused = this.#writeRefused;
    if (refused === undefined) return;
    throw new CorruptRecordError(
      "the active segment is damaged before its end, so the partition refuses writes until the segment is repaired (reel verify shows the damage)",
      { topic: this.topic, partition: this.partition, segment: refused.segment, position: refused.position },
      { cause: refused },
    );
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
   * @throws {InvalidRecordError} when the topic compacts and a record has no key (code 87)
   * @throws {CorruptRecordError} when the bytes are not exactly one valid batch, or when the
   *   active segment is damaged before its end (see {@linkcode PartitionLog.damage})
   * @throws {StorageError} when the log is closed, the write or the fsync fails
   */
  append(batch: Uint8Array, verify = true): Promise<AppendInfo> {
    if (!this.#lease.ready()) return this.#lease.whenWriter(batch, (b) => this.#appendNow(b, verify));
    return this.#appendNow(batch, verify);
  }

  #appendNow(batch: Uint8Array, verify: boolean): Promise<AppendInfo> {
    let info: AppendInfo;
    try {
      info = this.appendBatch(batch, verify);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.config.fsync !== "always") return Promise.resolve(info);
    return this.#commit.syncTo(info.lastOffset + 1).then(() => info);
  }

  /**
   * Like {@linkcode PartitionLog.append}, but under `"never"` and `"interval"` the batch is only
   * held back: it is written, with every batch held back before it, in one write by the next
   * {@linkcode PartitionLog.writeDeferred} (or by any append that writes, a roll, a flush or the
   * close), and acknowledged then. Under `"always"` it is `append` (the group commit writes held
   * back batches already). A producer that sends many batches calls `writeDeferred` when it
   * would wait, and so pays for one write per group, not per batch.
   *
   * @param batch exactly one RecordBatch v2 (modified in place, copied before this returns unless
   *   `lent`)
   * @param verify check the CRC-32C
   * @param lent under `"never"` and `"interval"`, the log may keep `batch` until it is written
   *   rather than copy it (batches lent one after another in one buffer are written from there
   *   in one write): the caller must not change those bytes until its next `writeDeferred()` on
   *   this log returns (or the append settles)
   * @returns the offsets and timestamp assigned, once written
   * @throws {RecordTooLargeError} when the batch is larger than `maxMessageBytes`
   * @throws {InvalidRecordError} when the topic compacts and a record has no key (code 87)
   * @throws {CorruptRecordError} when the bytes are not exactly one valid batch, or when the
   *   active segment is damaged before its end (see {@linkcode PartitionLog.damage})
   * @throws {StorageError} when the log is closed or the write fails (then every batch of that
   *   write fails)
   */
  appendDeferred(batch: Uint8Array, verify = true, lent = false): Promise<AppendInfo> {
    if (this.config.fsync === "always") return this.append(batch, verify);
    if (!this.#lease.ready()) {
      return this.#lease.whenWriter(batch, (b) => this.#appendDeferredNow(b, verify, lent));
    }
    return this.#appendDeferredNow(batch, verify, lent);
  }

  #appendDeferredNow(batch: Uint8Array, verify: boolean, lent: boolean): Promise<AppendInfo> {
    let info: AppendInfo;
    try {
      info = this.#appendBatch(batch, verify, true, lent);
      if (info.duplicate) {
        // The original may be held back still: written now, and then it is acknowledged.
        this.#commit.writePending();
        return Promise.resolve(info);
      }
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#commit.waitForWrite(info.lastOffset + 1).then(() => info);
  }

  /**
   * Writes the batches held back by {@linkcode PartitionLog.appendDeferred}, in one write, and
   * acknowledges them; a failed write fails them all (their appends reject) and the log carries on
   * where they began. Nothing to do under `"always"`, whose group commit writes them.
   */
  writeDeferred(): void {
    if (this.config.fsync === "always" || this.#closed) return;
    try {
      this.#commit.writePending();
    } catch { /* the appends it held are rejected */ }
  }

  /**
   * Writes the batches the active segment holds back for the group commit (only the active
   * segment can hold any: a roll writes them first). When the write fails the segment takes them
   * back, and the log end offset returns to where they began.
   */
  #writeHeld(): boolean {
    const active = this.#active();
    if (active.pendingBytes === 0) return false;
    try {
      active.writePending();
    } catch (err) {
      this.#logEndOffset = active.nextOffset;
      this.#producers.reset(); // it may hold batches taken back: rebuilt from the files
      throw err;
    }
    return true;
  }

  /**
   * Fdatasyncs every dirty segment now, on this thread (see `GroupCommitHost.syncDirtyNow`).
   *
   * @returns `false`, having done nothing, when an fsync is running (a roll's)
   */
  #syncDirtyNow(): boolean {
    return !this.#closed && this.#local.datasyncNow();
  }

  async #syncDirty(): Promise<void> {
    this.#commit.writePending();
    for (const segment of this.#segments) {
      if (this.#closed) {
        // Abandoned: a crash writes nothing more, and acknowledges nothing more.
        throw new StorageError(`Cannot fsync "${this.topic}-${this.partition}": the log was abandoned`);
      }
      // A segment with an fsync still running (started by a roll) is waited for too.
      if (segment.dirty || segment.syncing) await segment.flush(true);
    }
  }

  #advanceHighWatermark(offset: number): void {
    if (offset <= this.#highWatermark) return;
    this.#highWatermark = offset;
    this.#notify();
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
   * @throws {PartitionLockedError} when another process writes the partition
   */
  roll(): number {
    if (!this.#lease.held) this.#lease.take();
    this.#checkWritable();
    const old = this.#active();
    if (old.size === 0) return old.baseOffset;
    this.#commit.writePending();
    const base = this.#logEndOffset;
    this.#local.roll(this.dir, base, this.config.indexIntervalBytes);
    this.#producers.takeSnapshot(base, this.logStartOffset, false); // as Kafka, at each roll: the state below the new segment
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

  /**
   * Checks that `offset` lies in `[logStartOffset, logEndOffset]`.
   *
   * @throws {OffsetOutOfRangeError} when it does not
   * @throws {RangeError} when `offset` is not a whole number
   */
  checkOffset(offset: number): void {
    if (!Number.isSafeInteger(offset)) {
      throw new RangeError(`Invalid offset ${offset}: expected a whole number`);
    }
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
   * A log this process only reads is refreshed first when `offset` is at its known end, and its
   * log start offset is checked on every read.
   *
   * @returns the batches, or `null` when `offset` is at the high watermark (nothing to read yet)
   * @throws {OffsetOutOfRangeError} when `offset` is outside `[logStartOffset, logEndOffset]`
   * @throws {StorageError} when the log is closed
   */
  read(offset: number, maxBytes: number, cursor?: ReadCursor): FetchData | null {
    if (this.#closed) {
      throw new StorageError(`Cannot read from "${this.topic}-${this.partition}": the log is closed`);
    }
    // Another process writes: look for its appends at the end, for its retention always, and
    // for its log cleaner's swaps.
    if (!this.#lease.held) this.#follower.beforeRead(offset);
    this.checkOffset(offset);
    if (offset >= this.#highWatermark) return null;
    try {
      return this.#local.read(offset, maxBytes, this.#highWatermark, cursor);
    } catch (err) {
      // A segment file this view holds was swapped or deleted by the writer since the view was
      // loaded (a closed descriptor reopened by name finds another file, or none): load the log
      // afresh and read again, once.
      const code = (err as { code?: string }).code;
      if (this.#lease.held || (code !== "ESTALE" && code !== "ENOENT")) throw err;
      this.#follower.reload();
      this.checkOffset(offset);
      if (offset >= this.#highWatermark) return null;
      return this.#local.read(offset, maxBytes, this.#highWatermark, undefined);
    }
  }

  /**
   * Decodes the batches of a {@linkcode FetchData}, checking each CRC-32C, and returns the
   * records at or after `fromOffset` and below both `toOffset` and the high watermark; control
   * records are left out.
   *
   * @param data what {@linkcode PartitionLog.read} returned
   * @param fromOffset the first offset wanted
   * @param toOffset the first offset not wanted
   * Records before a bad batch are returned first: then `data.next` is moved to the bad batch,
   * so that the next read from there throws.
   *
   * @returns the records, in offset order
   * @throws {CorruptRecordError} naming the topic, partition, segment file and position of a bad
   *   batch (a CRC-32C mismatch, a malformed record, or a batch that does not follow on)
   */
  decode(data: FetchData, fromOffset: number, toOffset = Infinity): Record[] {
    return this.#local.decode(data, fromOffset, toOffset, this.#highWatermark, undefined);
  }

  /**
   * Like {@linkcode PartitionLog.decode}, but every record also carries this log's `topic` and
   * `partition`: a consumer's record, made in one allocation.
   *
   * @param data what {@linkcode PartitionLog.read} returned
   * @param fromOffset the first offset wanted
   * @param toOffset the first offset not wanted
   * @returns the records, in offset order
   * @throws {CorruptRecordError} as {@linkcode PartitionLog.decode} does
   */
  decodeWithSource(
    data: FetchData,
    fromOffset: number,
    toOffset = Infinity,
  ): (Record & { topic: string; partition: number })[] {
    return this.#local.decode(
      data,
      fromOffset,
      toOffset,
      this.#highWatermark,
      this.#withSource,
    ) as (Record & {
      topic: string;
      partition: number;
    })[];
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
    if (!this.#lease.held) this.refresh();
    return this.#local.offsetForTimestamp(timestamp, this.logStartOffset, this.#highWatermark);
  }

  /**
   * Retention (Kafka's `cleanup.policy=delete`, `UnifiedLog.deleteOldSegments`): deletes whole
   * segments from the oldest on while one of these holds, stopping at the first that does not:
   * its records are all older than `retentionMs` (by its largest timestamp), the partition would
   * still hold at least `retentionBytes` without it, or it lies wholly below the log start offset.
   * The active segment and anything at or past the high watermark are never deleted. Crash-safe:
   * the new log start offset is written to `log-start-offset-checkpoint` first, then each
   * segment's files are renamed `*.deleted` (which the next open removes) and removed. Readers
   * positioned before the new log start offset get {@linkcode OffsetOutOfRangeError} on their
   * next read. Takes the writer lock if this log does not hold it.
   *
   * @param now the current time, ms since the epoch
   * @returns how many segments were deleted
   * @throws {PartitionLockedError} when another process writes the partition
   * @throws {StorageError} when the log is closed or a file cannot be renamed
   * @example The active segment is never deleted
   * ```ts
   * import assert from "node:assert/strict";
   * import { PartitionLog } from "./partition_log.ts";
   * import { resolveLogConfig } from "./log_config.ts";
   * const log = PartitionLog.open(Deno.makeTempDirSync() + "/events-0", "events", 0, resolveLogConfig({ retentionMs: 60_000 }));
   * assert.equal(log.deleteOldSegments(Date.now() + 3_600_000), 0); // one (active) segment
   * await log.close();
   * ```
   */
  deleteOldSegments(now: number = Date.now()): number {
    if (this.#closed) {
      throw new StorageError(
        `Cannot delete segments of "${this.topic}-${this.partition}": the log is closed`,
      );
    }
    if (!this.#lease.held) this.#lease.take();
    const { retentionMs, retentionBytes } = this.config;
    let remaining = this.size;
    // Segments wholly below the log start offset go first, whatever their age and size.
    for (
      let i = 0;
      i + 1 < this.#segments.length && this.#segments[i + 1].baseOffset <= this.logStartOffset;
      i++
    ) {
      remaining -= this.#segments[i].size;
    }
    return this.#deleteSegments((segment) => {
      // Under cleanup.policy=compact only segments below the log start offset go.
      const retained = !deletes(this.config.cleanupPolicy);
      const tooOld = !retained && retentionMs >= 0 && now - segment.largestTimestamp > retentionMs;
      const tooBig = !retained && retentionBytes >= 0 && remaining - segment.size >= retentionBytes;
      if (tooOld || tooBig) remaining -= segment.size;
      return tooOld || tooBig;
    });
  }

  /**
   * Deletes the oldest segments, never the active one nor one holding the high watermark: those
   * wholly below the log start offset, and then as long as `doomed` says so. The new log start
   * offset is checkpointed before any file is renamed `.deleted`.
   *
   * @returns how many segments were deleted
   */
  #deleteSegments(doomed: (segment: LogSegment) => boolean): number {
    let count = 0;
    for (let i = 0; i + 1 < this.#segments.length; i++) {
      const segment = this.#segments[i];
      const next = this.#segments[i + 1];
      if (next.baseOffset > this.#highWatermark) break;
      if (next.baseOffset > this.logStartOffset && !doomed(segment)) break;
      count++;
    }
    if (count === 0) return 0;
    const newStart = Math.max(this.logStartOffset, this.#segments[count].baseOffset);
    try {
      writeCheckpoint(`${this.dir}/${LOG_START_OFFSET_CHECKPOINT}`, this.topic, this.partition, newStart);
      this.logStartOffset = newStart;
      this.#local.deleteOldest(this.dir, count);
    } catch (err) {
      throw new StorageError(
        `Cannot delete old segments of "${this.topic}-${this.partition}": ${(err as Error).message}`,
        { cause: err },
      );
    }
    return count;
  }

  /**
   * Runs one round of the log cleaner (Kafka's log compaction, see `log_cleaner.ts`): keeps the
   * last record of each key below the active segment, in `.cleaned` segments swapped in
   * crash-safely. The round works in steps and gives the event loop back between them, so appends
   * go on meanwhile; a second call while a round runs waits for it and runs another. Takes the
   * writer role if this process does not hold it. Without `force`, the round runs only when the
   * topic's cleanup policy compacts and the log is dirty enough (`minCleanableDirtyRatio`,
   * `maxCompactionLagMs`).
   *
   * @param options `force` (default true here: run whatever the dirty ratio), `now`, `pause`, `stepBytes`
   * @returns what the round did
   * @throws {StorageError} when the log is closed or a file operation fails
   * @example Compact away the older value of a key
   * ```ts
   * import assert from "node:assert/strict";
   * import { PartitionLog } from "./partition_log.ts";
   * import { resolveLogConfig } from "./log_config.ts";
   * import { encodeRecordBatch } from "../record/record_batch_encoder.ts";
   * const log = PartitionLog.open(Deno.makeTempDirSync() + "/t-0", "t", 0, resolveLogConfig({ cleanupPolicy: "compact" }));
   * const key = new TextEncoder().encode("k");
   * await log.append(encodeRecordBatch([{ key, value: new Uint8Array([1]) }, { key, value: new Uint8Array([2]) }]));
   * log.roll();
   * assert.equal((await log.compact()).recordsKept, 1);
   * assert.deepEqual(log.decode(log.read(0, 1 << 20)!, 0).map((r) => r.offset), [1]);
   * await log.close();
   * ```
   */
  compact(options: CleanOptions = {}): Promise<CleanerStats> {
    if (this.#closed) {
      return Promise.reject(
        new StorageError(`Cannot compact "${this.topic}-${this.partition}": the log is closed`),
      );
    }
    if (!this.#lease.held) this.#lease.take();
    // deno-lint-ignore no-this-alias
    const log = this;
    const run = () =>
      cleanLog({
        dir: this.dir,
        topic: this.topic,
        partition: this.partition,
        get config() {
          return log.config;
        },
        get logStartOffset() {
          return log.logStartOffset;
        },
        get highWatermark() {
          return log.#highWatermark;
        },
        get segments() {
          return log.#segments;
        },
        get closed() {
          return log.#closed || !log.#lease.held;
        },
        replaceSegments: (cleaned, old) => this.#local.replaceSegments(cleaned, old),
        allowOffsetGaps: () => this.#local.allowOffsetGaps(),
        lastProducerOffsets: () => this.#producers.lastOffsets(this.logStartOffset, this.#logEndOffset),
      }, { force: true, ...options });
    const previous = this.#cleaning;
    const round: Promise<CleanerStats> = (previous ? previous.catch(() => {}).then(run) : run()).finally(
      () => {
        if (this.#cleaning === round) this.#cleaning = undefined;
      },
    );
    this.#cleaning = round;
    return this.#track(round);
  }

  /**
   * Calls `listener` each time the high watermark moves (after an append is acknowledged) and
   * when the log closes. For a log another process writes, the partition directory is watched
   * (`fs.watch`, backed by a timer) while listeners are registered, and each change refreshes the
   * log: followers in this process hear of that process's appends within milliseconds.
   *
   * @param listener called with no arguments
   * @returns a function that removes the listener
   */
  onAppend(listener: () => void): () => void {
    this.#listeners.add(listener);
    if (!this.#lease.held && !this.#closed) this.#watch();
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) {
        this.#follower.unwatch();
      }
    };
  }

  /**
   * Forces everything appended so far to stable storage (fdatasync of every dirty segment).
   *
   * @throws {StorageError} when an fsync fails
   */
  async flush(): Promise<void> {
    if (this.#closed || !this.#lease.held) return;
    await this.#commit.syncTo(this.#logEndOffset);
    await this.#syncDirty();
  }

  /**
   * As the writer: flushes and fsyncs every segment (indexes too), then, if all of that worked,
   * writes the recovery point, the log start offset and the clean-shutdown marker (so the next
   * open scans nothing) and publishes the high watermark. Every step is tried.
   *
   * For a writer role given back (`handOver`), the recovery point is not written (the marker's log
   * end offset stands for it) and the marker is not fsynced (see `writeCleanShutdown`): a hand-over
   * costs at most the segments' fdatasync.
   *
   * @returns the first failure, or `undefined`
   */
  #leaveClean(handOver = false): unknown {
    let failure = this.#local.flushAll();
    if (failure !== undefined) return failure; // marked clean only when every byte reached the disk
    const attempt = (step: () => void) => {
      try {
        step();
      } catch (err) {
        failure ??= err;
      }
    };
    const active = this.#active();
    this.#producers.takeSnapshot(this.#logEndOffset, this.logStartOffset, !handOver);
    if (!handOver) {
      attempt(() =>
        writeCheckpoint(
          `${this.dir}/${RECOVERY_POINT_CHECKPOINT}`,
          this.topic,
          this.partition,
          this.#logEndOffset,
        )
      );
      attempt(() =>
        writeCheckpoint(
          `${this.dir}/${LOG_START_OFFSET_CHECKPOINT}`,
          this.topic,
          this.partition,
          this.logStartOffset,
        )
      );
    }
    if (failure === undefined) {
      attempt(() =>
        writeCleanShutdown(`${this.dir}/${CLEAN_SHUTDOWN_FILE}`, {
          version: 0,
          logEndOffset: this.#logEndOffset,
          activeBaseOffset: active.baseOffset,
          activeSize: active.size,
        }, !handOver)
      );
    }
    attempt(() => this.#publishHighWatermark(this.#logEndOffset)); // everything is fsynced now
    return failure;
  }

  /**
   * Closes the log cleanly: flushes and fsyncs every segment, writes the recovery point and the
   * clean-shutdown marker (so the next open scans nothing), and releases every file handle, timer
   * and the writer lock. A log that only reads writes nothing. Listeners are called once more so
   * that followers notice.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#follower.unwatch();
    if (!this.#lease.held) {
      // A reader: nothing of its own to write.
      this.#closed = true;
      this.#local.closeHandles();
      this.#notify();
      this.#listeners.clear();
      return;
    }
    if (this.#timer !== undefined) clearInterval(this.#timer);
    await this.#commit.syncTo(this.#logEndOffset).catch(() => {});
    await Promise.allSettled([...this.#pending]);
    this.#closed = true;
    // Every step is tried and the lock is always released, so that an I/O error (a full disk) never
    // leaves this process locked out of its own partition; the first error is reported.
    let failure = this.#leaveClean();
    this.#local.closeHandles();
    const attempt = (step: () => void) => {
      try {
        step();
      } catch (err) {
        failure ??= err;
      }
    };
    attempt(() => this.#highWatermarkFile.close());
    attempt(() => this.#lease.release());
    this.#notify();
    this.#listeners.clear();
    if (failure !== undefined) {
      if (failure instanceof ReelError) throw failure;
      throw new StorageError(
        `Cannot close "${this.topic}-${this.partition}" cleanly: ${
          (failure as Error).message
        }; the lock is ` +
          "released and the next open recovers the log",
        { cause: failure },
      );
    }
  }

  /**
   * Closes the log of a topic being deleted, after its directory was renamed away: writes
   * nothing (no checkpoint, no marker), closes the file handles, drops the writer lock, and marks
   * the topic deleted, so that reads and followers of it in this process end with
   * {@linkcode UnknownTopicOrPartitionError}. Appends held back are never acknowledged.
   */
  closeDeleted(): void {
    this.#topicDeleted = true;
    this.abandon();
    this.#notify();
    this.#listeners.clear();
  }

  /**
   * Abandons the log without a clean close, as a crash would: closes the file handles and stops
   * the timer, writes no marker, and drops the writer lock; for a log this process only read, it
   * removes the clean-shutdown marker (if no other process writes the log) so that the next open
   * recovers as after a writer's crash. Tests use it to check recovery.
   */
  abandon(): void {
    if (this.#closed) return;
    this.#closed = true;
    // A crash: batches held back are never written, and their appends never acknowledged.
    const lost = new StorageError(
      `Cannot append to "${this.topic}-${this.partition}": the log was abandoned`,
    );
    this.#commit.abandon(lost);
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#follower.unwatch();
    this.#local.closeHandles();
    this.#highWatermarkFile.close();
    if (this.#lease.held) {
      // A crashed process's lock is stale because the process is gone; this one lives on, so the
      // lock is removed as the next opener would take it over.
      this.#lease.release();
    } else {
      // A log this process only read: make the next open recover, as after a writer's crash
      // (unless another process is writing it).
      const got = tryLock(`${this.dir}/${WRITER_LOCK_FILE}`, { transient: true });
      if (got instanceof LockFile) {
        try {
          removeCleanShutdownMarker(this.dir);
        } finally {
          got.release();
        }
      }
    }
    this.#notify();
    this.#listeners.clear();
  }
}
