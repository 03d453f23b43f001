/**
 * Following a partition's log that another process writes: what this process sees of the
 * writer's appends, rolls, retention and recovery, read from the files alone (the writer's lock
 * file, the active segment's size, new segment files, `log-start-offset-checkpoint` and, under
 * `fsync: "always"`, the published `.high-watermark`), the log's offsets and segments brought up
 * to date from them (a refresh at the end of the log, the log start offset on every read, a load
 * afresh after a new writer's recovery or a cleaner's swap), and a watch on the partition
 * directory so that followers hear of appends within milliseconds. {@linkcode PartitionLog} uses
 * one while it does not hold the writer lock.
 *
 * @module
 */
import { StorageError } from "../errors.ts";
import { fileIdentity, fileSize } from "../runtime/file_system.ts";
import { readLockOwner } from "../runtime/lock_file.ts";
import { watchDirectory } from "../runtime/watch.ts";
import {
  CLEANER_OFFSET_CHECKPOINT,
  HIGH_WATERMARK_FILE,
  LOG_START_OFFSET_CHECKPOINT,
  readCheckpoint,
  readHighWatermark,
} from "./checkpoint.ts";
import { type LocalLog, WRITER_LOCK_FILE } from "./local_log.ts";
import type { LogConfig } from "./log_config.ts";
import { type Loaded, loadForReading } from "./log_loader.ts";
import { filenamePrefixFromOffset, LogSegment } from "./log_segment.ts";
import { loadReadOnlySegment, refreshReadOnlySegment } from "./read_only_segment.ts";

/**
 * What a {@linkcode LogFollower} keeps up to date in the log it follows (the `LogState` of
 * `_log_state.ts`, {@linkcode PartitionLog}'s side): its segments and offsets.
 */
export interface FollowedLog {
  /** The log's segments. */
  readonly local: LocalLog;
  /** The log start offset. */
  logStartOffset: number;
  /** The log end offset: the end of the whole batches in the files. */
  logEndOffset: number;
  /** The high watermark: the end of what readers may see. */
  highWatermark: number;
  /**
   * Checks that the partition directory still belongs to the log's topic.
   *
   * @throws {UnknownTopicOrPartitionError} when the topic was deleted
   */
  checkTopicId(): void;
  /**
   * Swaps in a freshly loaded log (segments and offsets), waking followers if it moved.
   *
   * @param loaded what the load found
   * @returns whether the log's offsets moved
   */
  install(loaded: Loaded): boolean;
  /** Wakes the log's listeners. */
  notify(): void;
}

/**
 * A reader's view of what another process's writer does to one partition's log.
 *
 * @example Nothing published yet: the high watermark is the end of the whole batches
 * ```ts
 * import assert from "node:assert/strict";
 * import { type FollowedLog, LogFollower } from "./log_follower.ts";
 * import { resolveLogConfig } from "./log_config.ts";
 * const dir = Deno.makeTempDirSync();
 * const log = { logStartOffset: 0, logEndOffset: 7, highWatermark: 7 } as FollowedLog;
 * const follower = new LogFollower(dir, "events", 0, resolveLogConfig({ fsync: "always" }), undefined, log);
 * assert.equal(follower.visibleEnd(7), 7);
 * assert.equal(follower.logStartOffsetCheckpoint(), undefined);
 * follower.followRetention(); // no checkpoint: the log start offset stays
 * assert.equal(log.logStartOffset, 0);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export class LogFollower {
  /** The log kept up to date. */
  readonly #log: FollowedLog;
  /** The lock token of the writer whose log this view shows. */
  #writerToken: string | undefined;
  #stopWatching: (() => void) | undefined;
  /** The cleaner checkpoint's identity when the segments this view holds were loaded. */
  #cleanerStamp: string | undefined;

  /**
   * @param dir the partition directory
   * @param topic the topic name
   * @param partition the partition number
   * @param config the topic's log settings
   * @param writerToken the lock token of the writer seen at load, if any
   * @param log the log kept up to date
   */
  constructor(
    readonly dir: string,
    readonly topic: string,
    readonly partition: number,
    public config: LogConfig,
    writerToken: string | undefined,
    log: FollowedLog,
  ) {
    this.#writerToken = writerToken;
    this.#log = log;
  }

  /**
   * The high watermark a reader may show for a log that ends at `logEndOffset`: under
   * `fsync: "always"`, no more than the writer has published (what it has fdatasynced), so that
   * no reader sees a record a power loss could take back; `logEndOffset` otherwise, or when
   * nothing is published.
   *
   * @param logEndOffset the end of the whole batches in the files
   * @returns the offset below which records may be read
   */
  visibleEnd(logEndOffset: number): number {
    if (this.config.fsync !== "always") return logEndOffset;
    const published = readHighWatermark(`${this.dir}/${HIGH_WATERMARK_FILE}`);
    return published === undefined ? logEndOffset : Math.min(logEndOffset, published);
  }

  /**
   * Records the identity of the cleaner checkpoint that the segments now held were loaded under
   * (`Loaded.cleanerStamp`).
   *
   * @param stamp the identity, or `undefined` when there was no cleaner checkpoint
   */
  noteCleaner(stamp: string | undefined): void {
    this.#cleanerStamp = stamp;
  }

  /**
   * Whether the writer's log cleaner swapped segments in since {@linkcode LogFollower.noteCleaner}:
   * it rewrites the cleaner checkpoint after every swap (one `lstat`). The segments this view
   * holds are then stale (their files renamed away, or replaced under the same name), and the
   * caller loads the log afresh.
   *
   * @returns true when the checkpoint is another file than the one noted
   */
  cleanerMoved(): boolean {
    return fileIdentity(`${this.dir}/${CLEANER_OFFSET_CHECKPOINT}`) !== this.#cleanerStamp;
  }

  /**
   * The log start offset the writer's retention wrote (before it removes any file).
   *
   * @returns the checkpointed log start offset, or `undefined` when there is none
   */
  logStartOffsetCheckpoint(): number | undefined {
    return readCheckpoint(`${this.dir}/${LOG_START_OFFSET_CHECKPOINT}`, this.topic, this.partition);
  }

  /**
   * Brings `local` up to date with the writer's appends and rolls. Returns `"reload"` when the
   * view cannot be brought up to date in place (a new writer may have recovered the log, cutting
   * a tail or deleting segments; the active segment shrank; no segment was there at load; the
   * log cleaner swapped segments in), and the caller loads the log afresh.
   *
   * @param local the segments this process sees
   * @returns `"reload"`, or `"current"` once `local` holds the writer's new batches and segments
   */
  catchUp(local: LocalLog): "reload" | "current" {
    const owner = readLockOwner(`${this.dir}/${WRITER_LOCK_FILE}`);
    const token = owner?.token;
    let active = local.active;
    if ((token !== undefined && token !== this.#writerToken) || active.placeholder) {
      if (token !== undefined) this.#writerToken = token;
      return "reload";
    }
    if (this.cleanerMoved() || refreshReadOnlySegment(active) < 0) return "reload";
    // Rolled: the writer names the new segment after the log end offset.
    for (;;) {
      const name = `${this.dir}/${filenamePrefixFromOffset(active.nextOffset)}.log`;
      if (active.size === 0 || fileSize(name) < 0) break;
      let next: LogSegment;
      try {
        next = LogSegment.openReadOnly(this.dir, active.nextOffset, this.config.indexIntervalBytes);
      } catch {
        break; // not there yet, or already deleted: the next look finds out
      }
      loadReadOnlySegment(next, active.nextOffset);
      local.segments.push(next);
      active = next;
    }
    return "current";
  }

  /**
   * Picks up what the writing process did since the last look: batches appended, segments
   * rolled, the log start offset moved by retention, a log recovered by a new writer (then loaded
   * afresh). Followers are woken if the log moved.
   *
   * @returns whether the log's offsets moved
   * @throws {UnknownTopicOrPartitionError} when the topic was deleted
   * @throws {StorageError} when the files cannot be read
   */
  refresh(): boolean {
    const log = this.#log;
    log.checkTopicId();
    try {
      const before = [log.logStartOffset, log.highWatermark];
      if (this.catchUp(log.local) === "reload") {
        return log.install(loadForReading(this.dir, this.topic, this.partition, this.config));
      }
      log.logEndOffset = log.local.active.nextOffset;
      log.highWatermark = Math.max(log.highWatermark, this.visibleEnd(log.logEndOffset));
      this.followRetention();
      const changed = before[0] !== log.logStartOffset || before[1] !== log.highWatermark;
      if (changed) log.notify();
      return changed;
    } catch (err) {
      if (err instanceof StorageError) throw err;
      throw new StorageError(
        `Cannot refresh "${this.topic}-${this.partition}": ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  /**
   * Follows the writer's retention, which writes the new log start offset to its checkpoint
   * before it removes any file: the log start offset moves there, and segments wholly below it
   * are dropped from view.
   *
   * @throws {UnknownTopicOrPartitionError} when the topic was deleted (the checkpoint is another
   *   incarnation's)
   */
  followRetention(): void {
    const log = this.#log;
    const checkpoint = this.logStartOffsetCheckpoint();
    if (checkpoint === undefined || checkpoint <= log.logStartOffset) return;
    log.checkTopicId(); // not another incarnation's checkpoint
    log.logStartOffset = Math.min(checkpoint, log.logEndOffset);
    log.local.dropBelow(log.logStartOffset);
  }

  /**
   * Brings the log up to date before a read at `offset`: at the high watermark, a whole
   * {@linkcode LogFollower.refresh}; below it, a load afresh if the writer's log cleaner swapped
   * segments in (one `lstat`), and the writer's retention (a reader must not go on reading
   * segments retention has deleted).
   *
   * @param offset the offset about to be read
   * @throws {UnknownTopicOrPartitionError} when the topic was deleted
   * @throws {StorageError} when the files cannot be read
   */
  beforeRead(offset: number): void {
    if (offset >= this.#log.highWatermark) this.refresh();
    else {
      if (this.cleanerMoved()) this.reload();
      this.followRetention();
    }
  }

  /**
   * Loads the log afresh (after a swap or a deletion by the writer).
   *
   * @throws {StorageError} when the files cannot be read
   */
  reload(): void {
    try {
      this.#log.install(loadForReading(this.dir, this.topic, this.partition, this.config));
    } catch (err) {
      throw new StorageError(
        `Cannot reload "${this.topic}-${this.partition}": ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  /**
   * Watches the partition directory (`fs.watch`, backed by a timer) and calls `onChange` on each
   * change, until {@linkcode LogFollower.unwatch}. Does nothing while already watching.
   *
   * @param onChange called with no arguments
   */
  watch(onChange: () => void): void {
    this.#stopWatching ??= watchDirectory(this.dir, onChange);
  }

  /** Stops the watch {@linkcode LogFollower.watch} started, if any. */
  unwatch(): void {
    this.#stopWatching?.();
    this.#stopWatching = undefined;
  }
}
