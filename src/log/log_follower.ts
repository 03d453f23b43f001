/**
 * Following a partition's log that another process writes: what this process sees of the
 * writer's appends, rolls, retention and recovery, read from the files alone (the writer's lock
 * file, the active segment's size, new segment files, `log-start-offset-checkpoint` and, under
 * `fsync: "always"`, the published `.high-watermark`), and a watch on the partition directory so
 * that followers hear of appends within milliseconds. {@linkcode PartitionLog} uses one while it
 * does not hold the writer lock.
 *
 * @module
 */
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
import type { LocalLog } from "./local_log.ts";
import type { LogConfig } from "./log_config.ts";
import { filenamePrefixFromOffset, LogSegment, WRITER_LOCK_FILE } from "./log_segment.ts";

/**
 * A reader's view of what another process's writer does to one partition's log.
 *
 * @example Nothing published yet: the high watermark is the end of the whole batches
 * ```ts
 * import assert from "node:assert/strict";
 * import { LogFollower } from "./log_follower.ts";
 * import { resolveLogConfig } from "./log_config.ts";
 * const dir = Deno.makeTempDirSync();
 * const follower = new LogFollower(dir, "events", 0, resolveLogConfig({ fsync: "always" }), undefined);
 * assert.equal(follower.visibleEnd(7), 7);
 * assert.equal(follower.logStartOffsetCheckpoint(), undefined);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export class LogFollower {
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
   */
  constructor(
    readonly dir: string,
    readonly topic: string,
    readonly partition: number,
    public config: LogConfig,
    writerToken: string | undefined,
  ) {
    this.#writerToken = writerToken;
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
   * (`Loaded.cleanerStamp`, or the file as it is now).
   *
   * @param stamp the identity, or `undefined` to take the file's identity now
   */
  noteCleaner(stamp?: string): void {
    this.#cleanerStamp = stamp ?? fileIdentity(`${this.dir}/${CLEANER_OFFSET_CHECKPOINT}`);
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
    if (this.cleanerMoved() || active.refreshReadOnly() < 0) return "reload";
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
      next.loadReadOnly(active.nextOffset);
      local.segments.push(next);
      active = next;
    }
    return "current";
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
