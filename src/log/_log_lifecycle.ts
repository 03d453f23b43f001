/**
 * Opening and closing one partition's log, and the writer role's turns in between: the open (the
 * partition directory, its topic ID, the writer lock taken or tried, the load of `log_loader.ts`),
 * taking the role later (a reload under the lock) and giving it back (the log left as a clean
 * close leaves it), the clean close (every segment fsynced, the recovery point, the log start
 * offset and the clean-shutdown marker written, the high watermark published), and the ends
 * without one (a deleted topic's log, an abandoned log). Kafka's `UnifiedLog.close` and the open
 * of `LogManager.loadLog`. Internal to {@linkcode PartitionLog}.
 *
 * @module
 */
import { PartitionLockedError, ReelError, StorageError, UnknownTopicOrPartitionError } from "../errors.ts";
import { fs } from "../runtime/file_system.ts";
import { LockFile, type LockOwner, takeLock, tryLock } from "../runtime/lock_file.ts";
import {
  CLEAN_SHUTDOWN_FILE,
  LOG_START_OFFSET_CHECKPOINT,
  RECOVERY_POINT_CHECKPOINT,
  writeCheckpoint,
  writeCleanShutdown,
} from "./checkpoint.ts";
import { WRITER_LOCK_FILE } from "./local_log.ts";
import type { LogConfig } from "./log_config.ts";
import {
  isUnwritable,
  leaveClean,
  type Loaded,
  loadForReading,
  loadForWriting,
  removeCleanShutdownMarker,
} from "./log_loader.ts";
import { readPartitionMetadata, writePartitionMetadata } from "./partition_metadata_file.ts";
import { WriterLease, type WriterLeaseHost } from "./writer_lease.ts";
import { makeRoomForWriter, type WriterGroup } from "./writer_roles.ts";
import type { LogAppender } from "./_log_appender.ts";
import type { LogReader } from "./_log_reader.ts";
import type { LogState, OpenedLog } from "./_log_state.ts";

/**
 * Runs one step of a close that tries every step.
 *
 * @param failure the first failure so far, if any
 * @param step the step
 * @returns `failure`, or the step's error when it failed first
 */
function attempt(failure: unknown, step: () => void): unknown {
  try {
    step();
  } catch (err) {
    return failure ?? err;
  }
  return failure;
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
  /**
   * With `writer: false`, for the open of a log about to be written (its first append): take the
   * writer role at open when no other process holds the lock, as that append would, instead of
   * recovering under the lock, releasing it, and loading the log again at the append. The role is
   * then one an append took, given back when idle (`writerIdleMs`). When another process holds
   * the lock, or this process holds as many writer roles as it may and every one is busy, the log
   * opens for reading as without it.
   * @default false
   */
  takeRole?: boolean;
}

/**
 * Opens the partition directory and loads the log (see `PartitionLog.open`).
 *
 * @param dir the partition directory
 * @param topic the topic name
 * @param partition the partition number
 * @param config the topic's log settings
 * @param options see {@linkcode PartitionLogOptions}
 * @returns the load, and the writer lock when it is kept
 * @throws {PartitionLockedError} as a writer, when another writer holds the lock
 * @throws {UnknownTopicOrPartitionError} when the directory is missing (without
 *   `createDirectory`) or belongs to another topic ID
 */
export function openLog(
  dir: string,
  topic: string,
  partition: number,
  config: LogConfig,
  options: PartitionLogOptions,
): OpenedLog {
  const writer = options.writer ?? true;
  // A reader about to write takes the role now, if this process may take one more.
  const role = !writer && options.takeRole === true && makeRoomForWriter(undefined);
  const topicId = options.topicId;
  if (options.createDirectory ?? true) fs.mkdirSync(dir, { recursive: true });
  else if (!fs.existsSync(dir)) throw new UnknownTopicOrPartitionError(topic, partition);
  if (topicId !== undefined) {
    // A reader only compares (it never needs to write: a read-only or full file system still
    // serves reads); a writer records the ID when the file is missing, as Kafka does.
    // A reader that takes the role checks as the append's role taking does: no ID, no topic.
    const stored = readPartitionMetadata(dir) ??
      (writer ? writePartitionMetadata(dir, topicId) : role ? undefined : topicId);
    if (stored !== topicId) throw new UnknownTopicOrPartitionError(topic, partition);
  }
  // A writer waits out another opener's moment of recovery; a reader never waits.
  const lockPath = `${dir}/${WRITER_LOCK_FILE}`;
  let got: LockFile | LockOwner;
  try {
    got = writer || role ? takeLock(lockPath) : tryLock(lockPath, { transient: true });
  } catch (err) {
    // The topic was deleted under a reader's open (its directory is gone): the topic is unknown.
    if (!writer && !fs.existsSync(dir)) throw new UnknownTopicOrPartitionError(topic, partition);
    // A reader that cannot write the lock file (a read-only or full file system) reads as it
    // would beside a writer: without recovering or changing any file.
    if (writer || !isUnwritable(err)) throw err;
    return { loaded: loadForReading(dir, topic, partition, config) };
  }
  if (got instanceof LockFile) {
    let loaded: Loaded;
    try {
      loaded = loadForWriting(dir, topic, partition, config);
      if (!writer && !role) leaveClean(dir, topic, partition, loaded, config.fsync === "always");
      else if (loaded.markerPresent) removeCleanShutdownMarker(dir);
    } catch (err) {
      got.release();
      throw err;
    }
    // Opened as the writer: the role is kept until close (or, taken for an append, until idle).
    if (writer || role) return { loaded, lock: got };
    got.release();
    return { loaded };
  }
  if (writer) throw new PartitionLockedError(topic, partition, got);
  return { loaded: loadForReading(dir, topic, partition, config), writerToken: got.token };
}

/**
 * The open log's writer role and its end (see the module doc): it makes the log's
 * {@linkcode WriterLease} and serves it as its {@linkcode WriterLeaseHost}.
 *
 * @example A writer role given back leaves the log marked clean
 * ```ts
 * import assert from "node:assert/strict";
 * import { PartitionLog } from "./partition_log.ts";
 * import { resolveLogConfig } from "./log_config.ts";
 * import { encodeRecordBatch } from "../record/record_batch_encoder.ts";
 * const dir = Deno.makeTempDirSync() + "/events-0";
 * const log = PartitionLog.open(dir, "events", 0, resolveLogConfig(), { writer: false, writerIdleMs: 1000 });
 * await log.append(encodeRecordBatch([{ value: new Uint8Array([1]) }]));
 * assert.equal(log.isWriter, true);
 * assert.equal(log.releaseIfIdle(), true);
 * assert.equal(log.isWriter, false);
 * assert.equal(Deno.statSync(`${dir}/.kafka_cleanshutdown`).isFile, true);
 * await log.close();
 * ```
 */
export class LogLifecycle implements WriterLeaseHost {
  /** The partition directory. */
  readonly dir: string;
  /** The topic name. */
  readonly topic: string;
  /** The partition number. */
  readonly partition: number;
  readonly #s: LogState;
  readonly #appender: LogAppender;
  readonly #reader: LogReader;

  /**
   * Makes the log's writer lease and starts the log as the writer (with `lock`) or a reader.
   *
   * @param state the log's state; its `lease` is made here
   * @param appender the log's append path (its fsync timer)
   * @param reader the log's read path (its directory watch)
   * @param opened what the open loaded, and the writer lock when the log was opened as the writer
   * @param options the writer role's timings and group
   */
  constructor(
    state: LogState,
    appender: LogAppender,
    reader: LogReader,
    { loaded, lock }: OpenedLog,
    options: PartitionLogOptions,
  ) {
    this.#s = state;
    ({ dir: this.dir, topic: this.topic, partition: this.partition } = state);
    this.#appender = appender;
    this.#reader = reader;
    state.lease = new WriterLease(this, lock, options);
    state.highWatermark = state.visibleEnd();
    if (lock) {
      // A role taken at a reader's open starts as `startWriting` starts one an append takes.
      if (options.takeRole) state.producers.removeSnapshotsPast(state.logEndOffset, loaded.snapshotOffsets);
      appender.startFsyncTimer();
      state.publishHighWatermark();
    }
  }

  /** Whether the log is closed. */
  get closed(): boolean {
    return this.#s.closed;
  }

  /** See `LogState.checkTopicId`. */
  checkTopicId(): void {
    this.#s.checkTopicId();
  }

  /** Loads the log under the writer lock just taken; the topic may have been deleted before. */
  loadForWriting(): Loaded {
    const s = this.#s;
    s.checkTopicId();
    const loaded = loadForWriting(s.dir, s.topic, s.partition, s.config);
    if (loaded.markerPresent) removeCleanShutdownMarker(s.dir);
    return loaded;
  }

  /** Starts writing with the log loaded under the writer lock just taken. */
  startWriting(loaded: Loaded): void {
    const s = this.#s;
    s.follower.unwatch();
    s.install(loaded);
    s.producers.removeSnapshotsPast(s.logEndOffset, loaded.snapshotOffsets);
    this.#appender.startFsyncTimer();
    s.publishHighWatermark();
  }

  /** Writes what is held back for a deferred write, then says whether nothing is in flight. */
  idle(): boolean {
    const s = this.#s;
    if (s.config.fsync !== "always") {
      // Batches held back for a deferred write are written (and acknowledged) now.
      try {
        s.commit.writePending();
      } catch {
        return false;
      }
    }
    return !s.commit.busy && s.pending.size === 0 && !s.local.busy;
  }

  /** Leaves the log as `close()` does, before the writer lock is released. */
  handOver(): void {
    this.#appender.stopFsyncTimer();
    this.#leaveClean(true);
    this.#s.highWatermarkFile.close();
  }

  /** Goes on as a reader, after the writer lock was released. */
  startReading(): void {
    for (const segment of this.#s.local.segments) segment.readOnly = true;
    if (this.#s.listeners.size > 0) this.#reader.watch();
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
    const s = this.#s;
    let failure = s.local.flushAll();
    if (failure !== undefined) return failure; // marked clean only when every byte reached the disk
    const active = s.local.active;
    s.producers.takeSnapshot(s.logEndOffset, s.logStartOffset, !handOver);
    if (!handOver) {
      failure = attempt(
        failure,
        () => writeCheckpoint(`${s.dir}/${RECOVERY_POINT_CHECKPOINT}`, s.topic, s.partition, s.logEndOffset),
      );
      failure = attempt(
        failure,
        () =>
          writeCheckpoint(`${s.dir}/${LOG_START_OFFSET_CHECKPOINT}`, s.topic, s.partition, s.logStartOffset),
      );
    }
    if (failure === undefined) {
      failure = attempt(failure, () =>
        writeCleanShutdown(`${s.dir}/${CLEAN_SHUTDOWN_FILE}`, {
          version: 0,
          logEndOffset: s.logEndOffset,
          activeBaseOffset: active.baseOffset,
          activeSize: active.size,
        }, !handOver));
    }
    return attempt(failure, () => s.publishHighWatermark(s.logEndOffset)); // everything is fsynced now
  }

  /** See `PartitionLog.close`. */
  async close(): Promise<void> {
    const s = this.#s;
    if (s.closed) return;
    s.follower.unwatch();
    if (!s.lease.held) {
      // A reader: nothing of its own to write.
      s.closed = true;
      s.local.closeHandles();
      this.#end();
      return;
    }
    this.#appender.stopFsyncTimer();
    // Failed appends were told so; the clean close below syncs again and reports a failure.
    await s.commit.syncTo(s.logEndOffset).catch(() => {});
    await Promise.allSettled([...s.pending]);
    s.closed = true;
    // Every step is tried and the lock is always released, so that an I/O error (a full disk) never
    // leaves this process locked out of its own partition; the first error is reported.
    let failure = this.#leaveClean();
    s.local.closeHandles();
    failure = attempt(failure, () => s.highWatermarkFile.close());
    failure = attempt(failure, () => s.lease.release());
    this.#end();
    if (failure === undefined) return;
    if (failure instanceof ReelError) throw failure;
    throw new StorageError(
      `Cannot close "${s.name}" cleanly: ${(failure as Error).message}; the lock is ` +
        "released and the next open recovers the log",
      { cause: failure },
    );
  }

  /**
   * Closes the log of a topic being deleted, after its directory was renamed away: writes
   * nothing (no checkpoint, no marker), closes the file handles, drops the writer lock, and marks
   * the topic deleted, so that reads and followers of it in this process end with
   * `UnknownTopicOrPartitionError`. Appends held back are never acknowledged.
   */
  closeDeleted(): void {
    this.#s.topicDeleted = true;
    this.abandon();
    this.#end();
  }

  /**
   * Abandons the log without a clean close, as a crash would: closes the file handles and stops
   * the timer, writes no marker, and drops the writer lock; for a log this process only read, it
   * removes the clean-shutdown marker (if no other process writes the log) so that the next open
   * recovers as after a writer's crash.
   */
  abandon(): void {
    const s = this.#s;
    if (s.closed) return;
    s.closed = true;
    // A crash: batches held back are never written, and their appends never acknowledged.
    s.commit.abandon(new StorageError(`Cannot append to "${s.name}": the log was abandoned`));
    this.#appender.stopFsyncTimer();
    s.follower.unwatch();
    s.local.closeHandles();
    s.highWatermarkFile.close();
    if (s.lease.held) {
      // A crashed process's lock is stale because the process is gone; this one lives on, so the
      // lock is removed as the next opener would take it over.
      s.lease.release();
    } else {
      // A log this process only read: make the next open recover, as after a writer's crash
      // (unless another process is writing it).
      const got = tryLock(`${s.dir}/${WRITER_LOCK_FILE}`, { transient: true });
      if (got instanceof LockFile) {
        try {
          removeCleanShutdownMarker(s.dir);
        } finally {
          got.release();
        }
      }
    }
    this.#end();
  }

  /** The listeners hear of the end once more, then are dropped. */
  #end(): void {
    this.#s.notify();
    this.#s.listeners.clear();
  }
}
