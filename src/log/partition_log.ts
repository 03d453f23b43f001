/**
 * One partition's log (Kafka's `UnifiedLog`, for one node): offsets, appends, reads, rolling,
 * retention, listeners, open and close. This file is the face; its parts (`_log_appender.ts`,
 * `_log_reader.ts`, `_log_retention.ts`, `_log_lifecycle.ts`) work on the state they share
 * (`_log_state.ts`).
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
import { type AppendInfo, LogAppender } from "./_log_appender.ts";
import { LogLifecycle, openLog, type PartitionLogOptions } from "./_log_lifecycle.ts";
import { LogReader } from "./_log_reader.ts";
import { LogRetention } from "./_log_retention.ts";
import { LogState, type OpenedLog } from "./_log_state.ts";

export { WRITER_WANTED_FILE } from "./writer_lease.ts";
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
    const s = this.#s = new LogState(dir, topic, partition, config, options.topicId, opened);
    this.#appender = new LogAppender(s);
    this.#reader = new LogReader(s);
    this.#retention = new LogRetention(s);
    this.#lifecycle = new LogLifecycle(s, this.#appender, this.#reader, opened, options);
  }

  /**
   * Opens (creating if needed) the partition directory and loads its segments, recovering them
   * after an unclean close (`log_loader.ts`). As a writer (the default) it takes the partition's
   * writer lock; with `{ writer: false }` see {@linkcode PartitionLogOptions}.
   *
   * @param dir the partition directory, `<log dir>/<topic>-<partition>`
   * @param topic the topic name (for errors and checkpoints)
   * @param partition the partition number
   * @param config the topic's log settings
   * @param options whether to keep the writer lock
   * @returns the open log; `loadReport` says what recovery did
   * @throws {PartitionLockedError} as a writer, when another live writer (any process) holds the lock
   * @throws {StorageError} when the directory cannot be read or written
   */
  static open(
    dir: string,
    topic: string,
    partition: number,
    config: LogConfig,
    options: PartitionLogOptions = {},
  ): PartitionLog {
    const opened = openLog(dir, topic, partition, config, options);
    return new PartitionLog(dir, topic, partition, config, options, opened);
  }

  /** The topic's log settings (see {@linkcode PartitionLog.setConfig}). */
  get config(): LogConfig {
    return this.#s.config;
  }

  set config(config: LogConfig) {
    this.#s.config = config;
  }

  /**
   * Changes the log's settings (`alterTopicConfig`, here or in another process): the next append,
   * roll and retention check use them, and the fsync timer follows the new policy.
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
   * Whether the topic was found deleted (or created again): its directory is gone or names another
   * topic ID in `partition.metadata`. Such a log only throws {@linkcode UnknownTopicOrPartitionError}.
   */
  get topicDeleted(): boolean {
    return this.#s.topicDeleted;
  }

  /** What the open found and did (beside another process's writer: nothing recovered). */
  get loadReport(): LoadReport {
    return this.#s.loadReport;
  }

  /**
   * Damage the last load found and left in place, as it lies among durable records: a batch that
   * fails its CRC-32C in a sealed segment, or in the middle of the active one. Reading it throws
   * the same {@linkcode CorruptRecordError}. Empty for a log opened beside another process's writer.
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
   * Takes the partition's writer lock if not held yet, reloads the log under it (recovering what a
   * crashed writer left), and keeps it until `close()`. Appends, rolls and retention take the role
   * themselves and give it back once idle: call this to fail early, or to keep others from writing.
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

  /** {@linkcode WriterRole.releaseIfIdle}: the log is left as `close()` leaves it, and goes on as a reader. */
  releaseIfIdle(): boolean {
    return this.#s.lease.releaseIfIdle();
  }

  /** {@linkcode WriterRole.check}: the role goes once idle for `writerIdleMs`, or wanted (`writer.wanted`). */
  check(now: number): void {
    this.#s.lease.check(now);
  }

  /** {@linkcode WriterRole.yieldTurn}: appends queue until the role is back; not for a role kept until close. */
  yieldTurn(until: number): void {
    this.#s.lease.yieldTurn(until);
  }

  /**
   * For a log this process only reads: picks up what the writing process did since the last
   * look (appends, rolls, retention, a recovery), waking followers if the log moved. Reads at the
   * end of the log call it; a writer's log is always current.
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
   * offset) and partition leader epoch (0) in place, and writes it to the active segment, rolling
   * first if needed. Not yet acknowledged: {@linkcode PartitionLog.append} waits for that.
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
   * Appends one record batch (see {@linkcode PartitionLog.appendBatch}, whose errors it rejects
   * with) and resolves once it is acknowledged: at once under `"never"` and `"interval"`, after
   * an fdatasync that covers it under `"always"` (one serves every append that came meanwhile).
   *
   * @param batch exactly one RecordBatch v2 (modified in place)
   * @param verify check the CRC-32C
   * @returns the offsets and timestamp assigned
   * @throws {StorageError} also when the fsync fails
   */
  append(batch: Uint8Array, verify = true): Promise<AppendInfo> {
    return this.#appender.append(batch, verify);
  }

  /**
   * Like {@linkcode PartitionLog.append}, but under `"never"` and `"interval"` the batch is only
   * held back, to be written with every batch held back before it in one write by the next
   * {@linkcode PartitionLog.writeDeferred} (or any append that writes, a roll, a flush, the
   * close), and acknowledged then: one write per group of batches. Under `"always"` it is `append`.
   *
   * @param batch exactly one RecordBatch v2 (modified in place, copied unless `lent`)
   * @param verify check the CRC-32C
   * @param lent the log may keep `batch` until it is written rather than copy it: the caller must
   *   not change those bytes until its next `writeDeferred()` returns (or the append settles)
   * @returns the offsets and timestamp assigned, once written
   * @throws {StorageError} also when the write fails (then every batch of that write fails)
   */
  appendDeferred(batch: Uint8Array, verify = true, lent = false): Promise<AppendInfo> {
    return this.#appender.appendDeferred(batch, verify, lent);
  }

  /**
   * Writes the batches held back by {@linkcode PartitionLog.appendDeferred} in one write, and
   * acknowledges them; a failed write fails them all, and the log carries on where they began.
   */
  writeDeferred(): void {
    this.#appender.writeDeferred();
  }

  /**
   * Starts a new active segment at the log end offset. The old one is fsynced in the background,
   * then the recovery point moves past it, so that recovery never needs to scan it.
   *
   * @returns the new segment's base offset
   * @throws {PartitionLockedError} when another process writes the partition
   */
  roll(): number {
    return this.#appender.roll();
  }

  /** Forces everything appended so far to stable storage; throws a `StorageError` when an fsync fails. */
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
   * least one whole batch, as KIP-74 asks of Fetch), below the high watermark (`local_log.ts`).
   * A log this process only reads is first brought up to date (see `refresh`).
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
   * records are left out. Records before a bad batch are returned first, and `data.next` moved to
   * it, so that the next read from there throws.
   *
   * @param data what {@linkcode PartitionLog.read} returned
   * @param fromOffset the first offset wanted
   * @param toOffset the first offset not wanted
   * @returns the records, in offset order
   * @throws {CorruptRecordError} naming the topic, partition, segment file and position of a bad
   *   batch (a CRC-32C mismatch, a malformed record, or a batch that does not follow on)
   */
  decode(data: FetchData, fromOffset: number, toOffset = Infinity): Record[] {
    return this.#reader.decode(data, fromOffset, toOffset);
  }

  /**
   * {@linkcode PartitionLog.decode}, with this log's `topic` and `partition` on every record: a
   * consumer's record, made in one allocation.
   *
   * @param data what {@linkcode PartitionLog.read} returned
   * @param fromOffset the first offset wanted
   * @param toOffset the first offset not wanted
   * @returns the records, in offset order
   */
  decodeWithSource(
    data: FetchData,
    fromOffset: number,
    toOffset = Infinity,
  ): (Record & { topic: string; partition: number })[] {
    return this.#reader.decodeWithSource(data, fromOffset, toOffset);
  }

  /**
   * Finds the first offset whose record timestamp is at or after `timestamp` (Kafka's ListOffsets
   * by time), through the time indexes.
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
   * while listeners are registered, so that they hear of its appends within milliseconds.
   *
   * @param listener called with no arguments
   * @returns a function that removes the listener
   */
  onAppend(listener: () => void): () => void {
    return this.#reader.onAppend(listener);
  }

  /**
   * Deletes the records before `offset` (Kafka's DeleteRecords, KIP-107): the log start offset
   * moves there (checkpointed first), and the segments wholly below it go. Takes the writer role.
   *
   * @param offset the new log start offset, at most the high watermark; -1 for the high watermark
   * @returns the log start offset afterwards (Kafka's low watermark)
   * @throws {OffsetOutOfRangeError} for an offset past the high watermark
   * @throws {RangeError} for an offset that is not a whole number (or -1)
   * @throws {PartitionLockedError} {StorageError} as {@linkcode PartitionLog.deleteOldSegments}
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
   * Retention (`cleanup.policy=delete`): deletes whole segments from the oldest on while their
   * records are all older than `retentionMs`, the partition would still hold `retentionBytes`
   * without them, or they lie below the log start offset; never the active segment, nor past the
   * high watermark (see `_log_retention.ts`). Takes the writer role.
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
   * Runs one round of the log cleaner (Kafka's log compaction, `log_cleaner.ts`): keeps the last
   * record of each key below the active segment; appends go on meanwhile. Takes the writer role.
   * Without `force`, runs only when the topic compacts and the log is dirty enough.
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
   * Closes the log cleanly: as the writer, fsyncs every segment and writes the recovery point and
   * the clean-shutdown marker (so the next open scans nothing); then releases every file handle,
   * timer and the writer lock. Listeners are called once more, so that followers notice.
   */
  close(): Promise<void> {
    return this.#lifecycle.close();
  }

  /**
   * Closes the log of a topic being deleted, after its directory was renamed away, writing
   * nothing; reads and followers of it end with {@linkcode UnknownTopicOrPartitionError}.
   */
  closeDeleted(): void {
    this.#lifecycle.closeDeleted();
  }

  /**
   * Abandons the log as a crash would: no marker written, held-back appends never acknowledged,
   * the writer lock dropped; the next open recovers. Tests use it to check recovery.
   */
  abandon(): void {
    this.#lifecycle.abandon();
  }
}
