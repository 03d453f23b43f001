/**
 * The state one partition's log shares among its parts: its identity and settings, the offsets
 * that bound it (log start offset, high watermark, log end offset), what its last load found, its
 * listeners, and the collaborators every part uses (the segments, the producers' state, the writer
 * role, the follower of another process's writer, the group commit). {@linkcode PartitionLog} is
 * its face; `_log_appender.ts`, `_log_reader.ts`, `_log_retention.ts` and `_log_lifecycle.ts` do
 * the work on it.
 *
 * @module
 */
import { type CorruptRecordError, StorageError, UnknownTopicOrPartitionError } from "../errors.ts";
import type { GroupCommit } from "./group_commit.ts";
import { HighWatermarkPublisher } from "./high_watermark_publisher.ts";
import { LocalLog } from "./local_log.ts";
import type { LockFile } from "../runtime/lock_file.ts";
import type { LogConfig } from "./log_config.ts";
import { type FollowedLog, LogFollower } from "./log_follower.ts";
import type { Loaded, LoadReport } from "./log_loader.ts";
import { readPartitionMetadata } from "./partition_metadata_file.ts";
import { ProducerStateManager } from "./producer_state_manager.ts";
import type { WriterLease } from "./writer_lease.ts";

/** What the open of a partition's log found (`openLog` in `_log_lifecycle.ts`). */
export interface OpenedLog {
  /** The segments and offsets loaded. */
  loaded: Loaded;
  /** The writer lock, when the log was opened as the writer. */
  lock?: LockFile;
  /** The lock token of another process's writer seen at open, if any. */
  writerToken?: string;
}

/**
 * One partition's log as its parts see it (see the module doc). It is the {@linkcode FollowedLog}
 * its {@linkcode LogFollower} keeps up to date.
 *
 * @example The offsets of a freshly loaded, empty log
 * ```ts
 * import assert from "node:assert/strict";
 * import { LogState } from "./_log_state.ts";
 * import { resolveLogConfig } from "./log_config.ts";
 * import { loadForReading } from "./log_loader.ts";
 * const dir = Deno.makeTempDirSync();
 * const config = resolveLogConfig();
 * const state = new LogState(dir, "events", 0, config, undefined, { loaded: loadForReading(dir, "events", 0, config) });
 * assert.deepEqual([state.logStartOffset, state.highWatermark, state.logEndOffset], [0, 0, 0]);
 * let woken = 0;
 * state.listeners.add(() => woken++);
 * state.advanceHighWatermark(0); // not a move
 * assert.equal(woken, 0);
 * state.local.closeHandles();
 * ```
 */
export class LogState implements FollowedLog {
  /** `"<topic>-<partition>"`, for errors. */
  readonly name: string;
  /** The segments and the reads over them. */
  readonly local: LocalLog;
  /** The idempotent producers' state, built on first use. */
  readonly producers: ProducerStateManager;
  /** What this process sees of another process's writer, while it does not hold the lock. */
  readonly follower: LogFollower;
  /** The writer's published high watermark, for readers in other processes (`fsync: "always"` only). */
  readonly highWatermarkFile: HighWatermarkPublisher;
  /** The writer role: set by `LogLifecycle`, which serves it. */
  lease!: WriterLease;
  /** Appends waiting for a write or an fdatasync: set by `LogAppender`, which serves it. */
  commit!: GroupCommit;
  /** The first offset still in the log. */
  logStartOffset: number;
  /** The next offset to be assigned. */
  logEndOffset: number;
  /** The end of what readers may see. */
  highWatermark: number;
  /** Whether the log is closed (or abandoned). */
  closed = false;
  /** Set once the topic is found deleted (its directory gone or holding another topic ID). */
  topicDeleted = false;
  /** What the last load found and did. */
  loadReport: LoadReport;
  /** Damage the last load found and left in place. */
  damage: CorruptRecordError[];
  /** Set when the active segment is damaged in the middle: every write fails with it. */
  writeRefused: CorruptRecordError | undefined;
  /** Called each time the high watermark moves, and at close. */
  readonly listeners = new Set<() => void>();
  /** Background work that `close()` waits for. */
  readonly pending = new Set<Promise<unknown>>();

  /**
   * @param dir the partition directory
   * @param topic the topic name
   * @param partition the partition number
   * @param config the topic's log settings
   * @param topicId the topic's ID (KIP-516), when it has one
   * @param opened what the open loaded, and the lock token of another process's writer seen then
   */
  constructor(
    readonly dir: string,
    readonly topic: string,
    readonly partition: number,
    public config: LogConfig,
    readonly topicId: string | undefined,
    { loaded, writerToken }: OpenedLog,
  ) {
    this.name = `${topic}-${partition}`;
    this.local = new LocalLog(topic, partition, loaded.segments);
    this.local.offsetGaps = loaded.offsetGaps ?? false;
    this.producers = new ProducerStateManager(dir, this.local);
    this.logStartOffset = loaded.logStartOffset;
    this.logEndOffset = loaded.segments[loaded.segments.length - 1].nextOffset;
    this.highWatermark = this.logEndOffset;
    this.loadReport = loaded.report;
    this.damage = loaded.damage;
    this.writeRefused = loaded.writeRefused;
    this.highWatermarkFile = new HighWatermarkPublisher(dir);
    this.follower = new LogFollower(dir, topic, partition, config, writerToken, this);
    this.follower.noteCleaner(loaded.cleanerStamp);
  }

  /**
   * The error of an operation on a closed log.
   *
   * @param action what could not be done, e.g. `"append to"`
   */
  closedError(action: string): StorageError {
    return new StorageError(`Cannot ${action} "${this.name}": the log is closed`);
  }

  /** Takes the writer role if this process does not hold it (see `WriterLease.take`). */
  takeRole(): void {
    if (!this.lease.held) this.lease.take();
  }

  /** Wakes the listeners. */
  notify(): void {
    if (this.listeners.size === 0) return;
    for (const listener of [...this.listeners]) listener();
  }

  /** Moves the high watermark up to `offset` (never down), waking the listeners. */
  advanceHighWatermark(offset: number): void {
    if (offset <= this.highWatermark) return;
    this.highWatermark = offset;
    this.notify();
  }

  /** Registers background work that `close()` waits for. */
  track<T>(p: Promise<T>): Promise<T> {
    this.pending.add(p);
    p.finally(() => this.pending.delete(p)).catch(() => {/* `p`'s error is for whoever awaits `p` */});
    return p;
  }

  /**
   * Checks that the partition directory still belongs to this log's topic (its topic ID).
   *
   * @throws {UnknownTopicOrPartitionError} when it does not: the topic was deleted
   */
  checkTopicId(): void {
    if (!this.topicDeleted && this.topicId !== undefined) {
      let found: string | undefined;
      try {
        found = readPartitionMetadata(this.dir);
      } catch { /* unreadable: not this topic's */ }
      if (found === this.topicId) return;
      this.topicDeleted = true;
      this.notify();
    }
    if (this.topicDeleted) throw new UnknownTopicOrPartitionError(this.topic, this.partition);
  }

  /**
   * The high watermark a log this process only reads may show: under `fsync: "always"`, no more
   * than the writer has published (what it has fdatasynced), so that no reader sees a record a
   * power loss could take back; the end of the whole batches in the files otherwise, or when
   * nothing is published.
   */
  visibleEnd(): number {
    return this.lease.held ? this.logEndOffset : this.follower.visibleEnd(this.logEndOffset);
  }

  /**
   * As the writer under `fsync: "always"`: publishes the high watermark (or `offset`, at close)
   * for other processes.
   */
  publishHighWatermark(offset = this.highWatermark): void {
    if (this.lease.held && this.config.fsync === "always") this.highWatermarkFile.publish(offset);
  }

  /** Swaps in freshly loaded segments and offsets, and wakes the listeners if the log moved. */
  install(loaded: Loaded): boolean {
    const before = [this.logStartOffset, this.highWatermark, this.logEndOffset];
    // Cursors into the old segments' files are not used again (their positions may point into
    // files the log cleaner replaced).
    this.local.replaceAll(loaded.segments, loaded.offsetGaps ?? false);
    this.logStartOffset = loaded.logStartOffset;
    this.damage = loaded.damage;
    this.writeRefused = loaded.writeRefused;
    this.logEndOffset = loaded.segments[loaded.segments.length - 1].nextOffset;
    this.highWatermark = this.visibleEnd();
    this.commit.syncedOffset = this.logEndOffset;
    this.producers.reset(); // rebuilt from the files on next use
    this.follower.noteCleaner(loaded.cleanerStamp);
    const changed = before[0] !== this.logStartOffset || before[1] !== this.highWatermark ||
      before[2] !== this.logEndOffset;
    if (changed) this.notify();
    return changed;
  }
}
