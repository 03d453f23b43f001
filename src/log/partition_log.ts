/**
 * One partition's log: the offsets that bound it (log start offset, high watermark, log end
 * offset), appends with the topic's fsync policy, reads by offset and by timestamp, rolling,
 * retention, listeners and open/close. Kafka's `UnifiedLog`, for one node; this file is its face.
 * The work is done by its parts, over the state they share (`_log_state.ts`): appends and rolls
 * `_log_appender.ts`, reads `_log_reader.ts`, retention and compaction `_log_retention.ts`, open,
 * close and the writer role's turns `_log_lifecycle.ts`. Below them: the segments `local_log.ts`
 * (Kafka's `LocalLog`), loading and recovery `log_loader.ts` (`LogLoader`), the idempotent
 * producers `producer_state_manager.ts` (`ProducerStateManager`), the waits for a write or an
 * fdatasync `group_commit.ts`, the writer role `writer_lease.ts`, and following another process's
 * writer `log_follower.ts`.
 *
 * @module
 */
import type { CorruptRecordError } from "../errors.ts";
import type { Record } from "../record/record.ts";
import type { FetchData, ReadCursor, SegmentInfo } from "./local_log.ts";
import type { LogConfig } from "./log_config.ts";
import type { CleanerStats, CleanOptions } from "./log_cleaner.ts";
import type { LoadReport } from "./log_loader.ts";
import type { WriterRole } from "./writer_roles.ts";
import { WRITER_WANTED_FILE } from "./writer_lease.ts";
import { type AppendInfo, LogAppender } from "./_log_appender.ts";
import { LogLifecycle, type OpenedLog, openLog, type PartitionLogOptions } from "./_log_lifecycle.ts";
import { LogReader } from "./_log_reader.ts";
import { LogRetention } from "./_log_retention.ts";
import { LogState } from "./_log_state.ts";

export { WRITER_WANTED_FILE };
export type { AppendInfo, FetchData, LoadReport, PartitionLogOptions, ReadCursor, SegmentInfo };

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
  /** The topic's ID (KIP-516), when it has one. */
  readonly topicId: string | undefined;
  readonly #s: LogState;
  readonly #appender: LogAppender;
  readonly #reader: LogReader;
  readonly #retention: LogRetention;
  readonly #lifecycle: LogLifecycle;

  private constructor(
    readonly dir: string,
    readonly topic: string,
    readonly partition: number,
    config: LogConfig,
    options: PartitionLogOptions,
    opened: OpenedLog,
  ) {
    this.topicId = options.topicId;
    const s = new LogState(dir, topic, partition, config, options.topicId, opened.loaded, opened.writerToken);
    this.#s = s;
    this.#appender = new LogAppender(s);
    this.#reader = new LogReader(s);
    this.#retention = new LogRetention(s);
    this.#lifecycle = new LogLifecycle(s, this.#appender, this.#reader, opened.lock, options);
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
    return new PartitionLog(
      dir,
      topic,
      partition,
      config,
      options,
      openLog(dir, topic, partition, config, options),
    );
  }

  /** The topic's log settings (see {@linkcode PartitionLog.setConfig}). */
  get config(): LogConfig {
    return this.#s.config;
  }

  set config(config: LogConfig) {
    this.#s.config = config;
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
    this.#appender.setConfig(config);
  }

  /** The partition's log start offset: the first offset still in the log. */
  get logStartOffset(): number {
    return this.#s.logStartOffset;
  }

  set logStartOffset(offset: number) {
    this.#s.logStartOffset = offset;
  }

  /** The next offset to be assigned. */
  get logEndOffset(): number {
    return this.#s.logEndOffset;
  }

  /** The end of what readers may see: every offset below it is acknowledged under the fsync policy. */
  get highWatermark(): number {
    return this.#s.highWatermark;
  }

  /** Whether {@linkcode PartitionLog.close} has been called. */
  get closed(): boolean {
    return this.#s.closed;
  }

  /** The segments, oldest first. */
  get segments(): SegmentInfo[] {
    return this.#s.local.segmentInfos;
  }

  /** The total size of the `.log` files, bytes. */
  get size(): number {
    return this.#s.local.size;
  }

  /**
   * Whether the topic was found deleted (or deleted and created again): the partition directory
   * is gone or its `partition.metadata` names another topic ID. Such a log only throws
   * {@linkcode UnknownTopicOrPartitionError}.
   */
  get topicDeleted(): boolean {
    return this.#s.topicDeleted;
  }

  /**
   * What the open found and did (for a log opened for reading while another process wrote it:
   * nothing recovered, `clean` as the marker says).
   */
  get loadReport(): LoadReport {
    return this.#s.loadReport;
  }

  /**
   * Damage the last load found in segments and left in place, because the bytes hold records
   * known to be durable: a batch that fails its CRC-32C in a sealed segment, or in the middle of
   * the active segment. Reading the damaged batch throws the same {@linkcode CorruptRecordError};
   * `reel verify` reports it too. Empty for a log opened for reading while another process writes.
   */
  get damage(): readonly CorruptRecordError[] {
    return this.#s.damage;
  }

  /** Whether this object holds the partition's writer lock (it may append without waiting for one). */
  get isWriter(): boolean {
    return this.#s.lease.held;
  }

  /** When an append last used the writer role, ms since the epoch. */
  get lastWriteAt(): number {
    return this.#s.lease.lastWriteAt;
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
    this.#s.lease.pin();
  }

  /**
   * Gives the writer role back if nothing is in flight (see `writer_roles.ts`): the log is left
   * as `close()` leaves it (fsynced, recovery point and clean-shutdown marker written, high
   * watermark published) and goes on as a reader.
   *
   * @returns whether the role was given back
   */
  releaseIfIdle(): boolean {
    return this.#s.lease.releaseIfIdle();
  }

  /**
   * The periodic check of a writer role: given back once idle for `writerIdleMs`, or when
   * another process left the `writer.wanted` marker (looked for at each check, every 20 ms).
   *
   * @param now ms since the epoch
   */
  check(now: number): void {
    this.#s.lease.check(now);
  }

  /**
   * Gives the writer role to another writer: appends from here on queue until this process has
   * the role again (not before `until`), and the role goes as soon as what is in flight is done.
   * Does nothing for a role kept until close, or one not held.
   *
   * @param until ms since the epoch before which this process does not take the role again
   */
  yieldTurn(until: number): void {
    this.#s.lease.yieldTurn(until);
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
    return this.#reader.refresh();
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
    return this.#appender.appendBatch(batch, verify, this.#s.config.fsync === "always");
  }

  /**
   * Appends one record batch and resolves once it is acknowledged: at once under `"never"` and
   * `"interval"`, after an fdatasync that covers it under `"always"` (one fsync serves every
   * append that arrived while the previous one ran).
   *
   * @param batch exactly one RecordBatch v2 (modified in place)
   * @param verify check the CRC-32C
   * @returns the offsets and timestamp assigned
   * @throws {RecordTooLargeError} {InvalidRecordError} {CorruptRecordError} as
   *   {@linkcode PartitionLog.appendBatch} does
   * @throws {StorageError} when the log is closed, the write or the fsync fails
   */
  append(batch: Uint8Array, verify = true): Promise<AppendInfo> {
    return this.#appender.append(batch, verify);
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
   * @throws {RecordTooLargeError} {InvalidRecordError} {CorruptRecordError} as
   *   {@linkcode PartitionLog.appendBatch} does
   * @throws {StorageError} when the log is closed or the write fails (then every batch of that
   *   write fails)
   */
  appendDeferred(batch: Uint8Array, verify = true, lent = false): Promise<AppendInfo> {
    return this.#appender.appendDeferred(batch, verify, lent);
  }

  /**
   * Writes the batches held back by {@linkcode PartitionLog.appendDeferred}, in one write, and
   * acknowledges them; a failed write fails them all (their appends reject) and the log carries on
   * where they began. Nothing to do under `"always"`, whose group commit writes them.
   */
  writeDeferred(): void {
    this.#appender.writeDeferred();
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
    return this.#appender.roll();
  }

  /**
   * Forces everything appended so far to stable storage (fdatasync of every dirty segment).
   *
   * @throws {StorageError} when an fsync fails
   */
  flush(): Promise<void> {
    return this.#appender.flush();
  }

  /**
   * Checks that `offset` lies in `[logStartOffset, logEndOffset]`.
   *
   * @throws {OffsetOutOfRangeError} when it does not
   * @throws {RangeError} when `offset` is not a whole number
   */
  checkOffset(offset: number): void {
    this.#reader.checkOffset(offset);
  }

  /**
   * Reads whole record batches from the one holding `offset` on, up to about `maxBytes` (at
   * least one whole batch, as KIP-74 asks of Fetch), never past the high watermark's segment end.
   * The batch holding `offset` is found by an index lookup and a short forward scan, or directly
   * from `cursor` when the caller continues a previous read. A log this process only reads is
   * refreshed first when `offset` is at its known end, and its log start offset is checked on
   * every read.
   *
   * @param offset the first offset wanted
   * @param maxBytes a soft limit on the bytes returned
   * @param cursor the `next` of the previous read, if any
   * @returns the batches, or `null` when `offset` is at the high watermark (nothing to read yet)
   * @throws {OffsetOutOfRangeError} when `offset` is outside `[logStartOffset, logEndOffset]`
   * @throws {StorageError} when the log is closed
   */
  read(offset: number, maxBytes: number, cursor?: ReadCursor): FetchData | null {
    return this.#reader.read(offset, maxBytes, cursor);
  }

  /**
   * Decodes the batches of a {@linkcode FetchData}, checking each CRC-32C, and returns the
   * records at or after `fromOffset` and below both `toOffset` and the high watermark; control
   * records are left out. Records before a bad batch are returned first: then `data.next` is
   * moved to the bad batch, so that the next read from there throws.
   *
   * @param data what {@linkcode PartitionLog.read} returned
   * @param fromOffset the first offset wanted
   * @param toOffset the first offset not wanted
   * @returns the records, in offset order
   * @throws {CorruptRecordError} naming the topic, partition, segment file and position of a bad
   *   batch (a CRC-32C mismatch, a malformed record, or a batch that does not follow on)
   */
  decode(data: FetchData, fromOffset: number, toOffset = Infinity): Record[] {
    return this.#reader.decode(data, fromOffset, toOffset, false);
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
    return this.#reader.decode(
      data,
      fromOffset,
      toOffset,
      true,
    ) as (Record & { topic: string; partition: number })[];
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
    return this.#reader.offsetForTimestamp(timestamp);
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
    return this.#reader.onAppend(listener);
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
    return this.#retention.deleteRecordsBefore(offset);
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
    return this.#retention.deleteOldSegments(now);
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
    return this.#retention.compact(options);
  }

  /**
   * Closes the log cleanly: flushes and fsyncs every segment, writes the recovery point and the
   * clean-shutdown marker (so the next open scans nothing), and releases every file handle, timer
   * and the writer lock. A log that only reads writes nothing. Listeners are called once more so
   * that followers notice.
   */
  close(): Promise<void> {
    return this.#lifecycle.close();
  }

  /**
   * Closes the log of a topic being deleted, after its directory was renamed away: writes
   * nothing (no checkpoint, no marker), closes the file handles, drops the writer lock, and marks
   * the topic deleted, so that reads and followers of it in this process end with
   * {@linkcode UnknownTopicOrPartitionError}. Appends held back are never acknowledged.
   */
  closeDeleted(): void {
    this.#lifecycle.closeDeleted();
  }

  /**
   * Abandons the log without a clean close, as a crash would: closes the file handles and stops
   * the timer, writes no marker, and drops the writer lock; for a log this process only read, it
   * removes the clean-shutdown marker (if no other process writes the log) so that the next open
   * recovers as after a writer's crash. Tests use it to check recovery.
   */
  abandon(): void {
    this.#lifecycle.abandon();
  }
}
