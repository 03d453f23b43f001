/**
 * The append path of one partition's log (Kafka's `UnifiedLog.append` and `maybeRoll`): a batch
 * checked (size, CRC-32C, framing, keys on a compacted topic, the idempotent producer's
 * sequence), stamped with its base offset and partition leader epoch, and handed to the active
 * segment, rolling first when the segment is full or old; the writes and fdatasyncs of the group
 * commit it serves (`group_commit.ts`), and the fsync timer of `fsync: "interval"`. Internal to
 * {@linkcode PartitionLog}.
 *
 * @module
 */
import { CorruptRecordError, ProducerSequenceError, RecordTooLargeError, StorageError } from "../errors.ts";
import {
  LOG_OVERHEAD,
  readRecordBatchHeader,
  setBaseOffset,
  setPartitionLeaderEpoch,
  validateRecordBatch,
} from "../record/record_batch.ts";
import { syncDirectory } from "../runtime/file_system.ts";
import { RECOVERY_POINT_CHECKPOINT, writeCheckpoint } from "./checkpoint.ts";
import { GroupCommit, type GroupCommitHost } from "./group_commit.ts";
import { compacts, type LogConfig } from "./log_config.ts";
import { validateRecordKeys } from "./log_validator.ts";
import type { LogState } from "./_log_state.ts";

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

/**
 * How far ahead of its data a preallocated active segment is filled with zeros, bytes: one
 * fdatasync in this many bytes of appends records a new file size (and writes the zeros).
 */
const PREALLOCATE_STEP_BYTES = 4 << 20;
/**
 * A write of this many bytes or more is not preceded by zeros: it grows the file itself, as the
 * new size costs an fdatasync little beside the write's own bytes (and zeros would double them).
 */
const PREALLOCATE_LARGE_WRITE_BYTES = 32 << 10;

/**
 * The append path of one partition's log (see the module doc): it makes the log's
 * {@linkcode GroupCommit} and serves it as its {@linkcode GroupCommitHost}.
 *
 * @example Appends through the log's appender
 * ```ts
 * import assert from "node:assert/strict";
 * import { PartitionLog } from "./partition_log.ts";
 * import { resolveLogConfig } from "./log_config.ts";
 * import { encodeRecordBatch } from "../record/record_batch_encoder.ts";
 * const log = PartitionLog.open(Deno.makeTempDirSync() + "/events-0", "events", 0, resolveLogConfig());
 * const deferred = log.appendDeferred(encodeRecordBatch([{ value: new Uint8Array([1]) }]));
 * assert.equal(log.highWatermark, 0); // held back until written
 * log.writeDeferred();
 * assert.equal((await deferred).baseOffset, 0);
 * assert.equal(log.highWatermark, 1);
 * await log.close();
 * ```
 */
export class LogAppender implements GroupCommitHost {
  /** `"<topic>-<partition>"`, for the group commit's errors. */
  readonly name: string;
  readonly #s: LogState;
  #timer: ReturnType<typeof setInterval> | undefined;

  /** @param state the log's state; its `commit` is made here */
  constructor(state: LogState) {
    this.#s = state;
    this.name = state.name;
    state.commit = new GroupCommit(this, state.logEndOffset);
  }

  /** The log end offset; after a failed write, where the batches taken back began. */
  get logEndOffset(): number {
    return this.#s.logEndOffset;
  }

  /**
   * Appends one batch (see `PartitionLog.appendBatch`); with `defer` its write waits for the next
   * `writeDeferred` (or group commit, or any append that writes), and the high watermark moves
   * only then.
   *
   * @param lent the caller keeps `batch` unchanged until it is written (see `appendDeferred`)
   */
  appendBatch(batch: Uint8Array, verify: boolean, defer: boolean, lent = false): AppendInfo {
    const s = this.#s;
    if (s.closed) throw s.closedError("append to");
    s.takeRole();
    this.#checkWritable();
    s.lease.lastWriteAt = Date.now();
    if (batch.length > s.config.maxMessageBytes) {
      throw new RecordTooLargeError(batch.length, s.config.maxMessageBytes);
    }
    const header = verify ? validateRecordBatch(batch, 0) : readRecordBatchHeader(batch, 0);
    if (header.batchLength + LOG_OVERHEAD !== batch.length) {
      throw new CorruptRecordError(
        `expected one batch of ${header.batchLength + LOG_OVERHEAD} bytes, got ${batch.length} bytes`,
        { topic: s.topic, partition: s.partition },
      );
    }
    // Kafka's LogValidator runs before the producer state is consulted: a keyless record fails
    // its batch on a compacted topic, a retry included.
    if (compacts(s.config.cleanupPolicy)) validateRecordKeys(batch, 0, s.name);
    const idempotent = header.producerId >= 0 && !header.isControl;
    if (idempotent) {
      const decision = s.producers.state(s.logStartOffset, s.logEndOffset).check(header);
      if (decision.kind === "error") {
        throw new ProducerSequenceError(decision.code, s.topic, s.partition, decision.detail);
      }
      if (decision.kind === "duplicate") {
        const { baseOffset, offsetDelta, maxTimestamp } = decision.batch;
        return { baseOffset, lastOffset: baseOffset + offsetDelta, maxTimestamp, duplicate: true };
      }
    }
    const baseOffset = s.logEndOffset;
    const lastOffset = baseOffset + header.lastOffsetDelta;
    setBaseOffset(batch, 0, baseOffset);
    setPartitionLeaderEpoch(batch, 0, 0);
    this.#maybeRoll(batch.length, header.maxTimestamp, lastOffset);
    if (s.config.preallocate) {
      s.local.active.log.preallocate(
        PREALLOCATE_STEP_BYTES,
        s.config.segmentBytes,
        PREALLOCATE_LARGE_WRITE_BYTES,
      );
    }
    // A write of its own goes after the batches held back (taken back, with their appends
    // failed, if that write fails).
    if (!defer) s.commit.writePending();
    // Under "always" the write waits for the next group commit, which writes every batch
    // appended since the last one at once, then fdatasyncs.
    s.local.active.append(
      batch,
      { baseOffset, lastOffset, maxTimestamp: header.maxTimestamp, offsetOfMaxTimestamp: lastOffset },
      defer,
      lent,
    );
    s.logEndOffset = lastOffset + 1;
    if (idempotent) s.producers.record(header, baseOffset);
    if (!defer) s.advanceHighWatermark(s.logEndOffset);
    return { baseOffset, lastOffset, maxTimestamp: header.maxTimestamp };
  }

  /**
   * Throws when the active segment is damaged in the middle (see `PartitionLog.damage`): no
   * offset is handed out after bytes that a later recovery could neither keep nor cut.
   */
  #checkWritable(): void {
    const refused = this.#s.writeRefused;
    if (refused === undefined) return;
    throw new CorruptRecordError(
      "the active segment is damaged before its end, so the partition refuses writes until the segment is repaired (reel verify shows the damage)",
      {
        topic: this.#s.topic,
        partition: this.#s.partition,
        segment: refused.segment,
        position: refused.position,
      },
      { cause: refused },
    );
  }

  /** See `PartitionLog.append`. */
  append(batch: Uint8Array, verify: boolean): Promise<AppendInfo> {
    const lease = this.#s.lease;
    if (!lease.ready()) return lease.whenWriter(batch, (b) => this.#appendNow(b, verify));
    return this.#appendNow(batch, verify);
  }

  #appendNow(batch: Uint8Array, verify: boolean): Promise<AppendInfo> {
    let info: AppendInfo;
    try {
      info = this.appendBatch(batch, verify, this.#s.config.fsync === "always");
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.#s.config.fsync !== "always") return Promise.resolve(info);
    return this.#s.commit.syncTo(info.lastOffset + 1, info);
  }

  /** See `PartitionLog.appendDeferred`. */
  appendDeferred(batch: Uint8Array, verify: boolean, lent: boolean): Promise<AppendInfo> {
    if (this.#s.config.fsync === "always") return this.append(batch, verify);
    const lease = this.#s.lease;
    if (!lease.ready()) return lease.whenWriter(batch, (b) => this.#appendDeferredNow(b, verify, lent));
    return this.#appendDeferredNow(batch, verify, lent);
  }

  #appendDeferredNow(batch: Uint8Array, verify: boolean, lent: boolean): Promise<AppendInfo> {
    let info: AppendInfo;
    try {
      info = this.appendBatch(batch, verify, true, lent);
      if (info.duplicate) {
        // The original may be held back still: written now, and then it is acknowledged.
        this.#s.commit.writePending();
        return Promise.resolve(info);
      }
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#s.commit.waitForWrite(info.lastOffset + 1, info);
  }

  /** See `PartitionLog.writeDeferred`. */
  writeDeferred(): void {
    if (this.#s.config.fsync === "always" || this.#s.closed) return;
    try {
      this.#s.commit.writePending();
    } catch { /* the appends it held are rejected */ }
  }

  /**
   * Writes the batches the active segment holds back for the group commit (only the active
   * segment can hold any: a roll writes them first). When the write fails the segment takes them
   * back, and the log end offset returns to where they began.
   */
  writeHeld(): boolean {
    const active = this.#s.local.active;
    if (active.pendingBytes === 0) return false;
    try {
      active.writePending();
    } catch (err) {
      this.#s.logEndOffset = active.nextOffset;
      this.#s.producers.reset(); // it may hold batches taken back: rebuilt from the files
      throw err;
    }
    return true;
  }

  /**
   * Fdatasyncs every dirty segment now, on this thread (see `GroupCommitHost.syncDirtyNow`).
   *
   * @returns `false`, having done nothing, when an fsync is running (a roll's)
   */
  syncDirtyNow(): boolean {
    return !this.#s.closed && this.#s.local.datasyncNow();
  }

  /** Writes what is held back and fdatasyncs every dirty segment. */
  async syncDirty(): Promise<void> {
    const s = this.#s;
    s.commit.writePending();
    for (const segment of s.local.unflushed) {
      if (s.closed) {
        // Abandoned: a crash writes nothing more, and acknowledges nothing more.
        throw new StorageError(`Cannot fsync "${s.name}": the log was abandoned`);
      }
      // A segment with an fsync still running (started by a roll) is waited for too.
      if (segment.dirty || segment.syncing) await segment.flush(true);
    }
  }

  /** After a write: under `"never"` and `"interval"` the high watermark follows the log end offset. */
  written(): void {
    if (this.#s.config.fsync !== "always") this.#s.advanceHighWatermark(this.#s.logEndOffset);
  }

  /** After an fdatasync that covered every offset below `offset`. */
  synced(offset: number): void {
    this.#s.advanceHighWatermark(offset);
    this.#s.publishHighWatermark();
  }

  /** Registers background work that `close()` waits for. */
  track<T>(promise: Promise<T>): Promise<T> {
    return this.#s.track(promise);
  }

  /** Rolls first when the batch would overfill the active segment, age it past `segmentMs`, or not fit its index. */
  #maybeRoll(incomingBytes: number, maxTimestamp: number, lastOffset: number): void {
    const active = this.#s.local.active;
    if (active.size === 0) return;
    const { segmentBytes, segmentMs } = this.#s.config;
    if (
      active.size + incomingBytes > segmentBytes ||
      (active.rollingBasedTimestamp >= 0 && maxTimestamp - active.rollingBasedTimestamp > segmentMs) ||
      !active.canHold(lastOffset)
    ) this.roll();
  }

  /** See `PartitionLog.roll`. */
  roll(): number {
    const s = this.#s;
    s.takeRole();
    this.#checkWritable();
    const old = s.local.active;
    if (old.size === 0) return old.baseOffset;
    s.commit.writePending();
    const base = s.logEndOffset;
    s.local.roll(s.dir, base, s.config.indexIntervalBytes);
    s.producers.takeSnapshot(base, s.logStartOffset, false); // as Kafka, at each roll: the state below the new segment
    syncDirectory(s.dir);
    s.track(
      old.flush(true).then(() => {
        if (!s.closed) writeCheckpoint(`${s.dir}/${RECOVERY_POINT_CHECKPOINT}`, s.topic, s.partition, base);
      }).catch(() => {/* the next open recovers from the older recovery point */}),
    );
    return base;
  }

  /** See `PartitionLog.flush`. */
  async flush(): Promise<void> {
    if (this.#s.closed || !this.#s.lease.held) return;
    await this.#s.commit.syncTo(this.#s.logEndOffset);
    await this.syncDirty();
  }

  /** See `PartitionLog.setConfig`: the fsync timer follows the new policy. */
  setConfig(config: LogConfig): void {
    const before = this.#s.config;
    this.#s.config = config;
    this.#s.follower.config = config;
    if (before.fsync !== config.fsync || before.fsyncIntervalMs !== config.fsyncIntervalMs) {
      this.stopFsyncTimer();
      if (this.#s.lease.held) this.startFsyncTimer();
    }
  }

  /** Under `fsync: "interval"`, starts the periodic fdatasync of the dirty segments. */
  startFsyncTimer(): void {
    if (this.#s.config.fsync === "interval" && this.#timer === undefined) {
      // A failed periodic fdatasync leaves its segment dirty: the next tick, flush() or close()
      // syncs it again, and flush() and close() report a failure to their callers.
      this.#timer = setInterval(
        () => this.#s.track(this.syncDirty().catch(() => {})),
        this.#s.config.fsyncIntervalMs,
      );
      // Node, Deno and Bun timers all have unref(): a periodic fsync must not keep a process alive.
      (this.#timer as unknown as { unref?: () => void }).unref?.();
    }
  }

  /** Stops the fsync timer, if it runs. */
  stopFsyncTimer(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
