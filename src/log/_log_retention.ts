/**
 * What one partition's log lets go of (Kafka's `UnifiedLog.deleteOldSegments`, with
 * `deleteRetentionMsBreachedSegments`, `deleteRetentionSizeBreachedSegments` and
 * `deleteLogStartOffsetBreachedSegments`; `deleteRecords` for KIP-107): whole segments older than
 * `retentionMs`, beyond `retentionBytes`, or below the log start offset, and the log start offset
 * moved by DeleteRecords, each checkpointed before a file goes; and the rounds of the log cleaner,
 * compaction being retention by key (`log_cleaner.ts`). Internal to {@linkcode PartitionLog}.
 *
 * @module
 */
import { OffsetOutOfRangeError, StorageError } from "../errors.ts";
import { LOG_START_OFFSET_CHECKPOINT, writeCheckpoint } from "./checkpoint.ts";
import { type CleanerStats, cleanLog, type CleanOptions } from "./log_cleaner.ts";
import { deletes } from "./log_config.ts";
import type { LogSegment } from "./log_segment.ts";
import type { LogState } from "./_log_state.ts";

/**
 * Retention and compaction of one partition's log (see the module doc).
 *
 * @example Retention by size keeps at least `retentionBytes`
 * ```ts
 * import assert from "node:assert/strict";
 * import { PartitionLog } from "./partition_log.ts";
 * import { resolveLogConfig } from "./log_config.ts";
 * import { encodeRecordBatch } from "../record/record_batch_encoder.ts";
 * const config = resolveLogConfig({ segmentBytes: 1024, retentionBytes: 1024 });
 * const log = PartitionLog.open(Deno.makeTempDirSync() + "/events-0", "events", 0, config);
 * for (let i = 0; i < 4; i++) await log.append(encodeRecordBatch([{ value: new Uint8Array(600) }]));
 * assert.equal(log.deleteOldSegments(), 2); // two full segments go, two remain
 * assert.equal(log.logStartOffset, 2);
 * await log.close();
 * ```
 */
export class LogRetention {
  readonly #s: LogState;
  /** The log cleaner's round now running, if any. */
  #cleaning: Promise<CleanerStats> | undefined;

  /** @param state the log's state */
  constructor(state: LogState) {
    this.#s = state;
  }

  /**
   * See `PartitionLog.deleteRecordsBefore`: readers of an earlier offset then get
   * `OffsetOutOfRangeError`, and consumers move as their `autoOffsetReset` says.
   */
  deleteRecordsBefore(offset: number): number {
    if (offset !== -1 && (!Number.isSafeInteger(offset) || offset < 0)) {
      throw new RangeError(
        `Invalid offset ${offset}: must be a whole number, 0 or more, or -1 (the high watermark)`,
      );
    }
    const s = this.#s;
    if (s.closed) throw s.closedError("delete records of");
    s.takeRole();
    s.commit.writePending();
    const target = offset === -1 ? s.highWatermark : offset;
    if (target > s.highWatermark) {
      throw new OffsetOutOfRangeError(s.topic, s.partition, target, s.logStartOffset, s.highWatermark);
    }
    if (target <= s.logStartOffset) return s.logStartOffset;
    try {
      writeCheckpoint(`${s.dir}/${LOG_START_OFFSET_CHECKPOINT}`, s.topic, s.partition, target);
    } catch (err) {
      throw new StorageError(`Cannot delete records of "${s.name}": ${(err as Error).message}`, {
        cause: err,
      });
    }
    s.logStartOffset = target;
    s.lease.lastWriteAt = Date.now();
    this.#deleteSegments(() => false);
    s.notify();
    return s.logStartOffset;
  }

  /**
   * See `PartitionLog.deleteOldSegments`: segments wholly below the log start offset go whatever
   * their age and size; under `cleanup.policy=compact` only those. Crash-safe: the new log start
   * offset is written to `log-start-offset-checkpoint` first, then each segment's files are
   * renamed `*.deleted` (which the next open removes) and removed. Readers positioned before the
   * new log start offset get `OffsetOutOfRangeError` on their next read.
   */
  deleteOldSegments(now: number): number {
    const s = this.#s;
    if (s.closed) throw s.closedError("delete segments of");
    s.takeRole();
    const { retentionMs, retentionBytes } = s.config;
    const segments = s.local.segments;
    let remaining = s.local.size;
    for (let i = 0; i + 1 < segments.length && segments[i + 1].baseOffset <= s.logStartOffset; i++) {
      remaining -= segments[i].size;
    }
    return this.#deleteSegments((segment) => {
      const retained = !deletes(s.config.cleanupPolicy);
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
    const s = this.#s;
    const segments = s.local.segments;
    let count = 0;
    for (let i = 0; i + 1 < segments.length; i++) {
      const next = segments[i + 1];
      if (next.baseOffset > s.highWatermark) break;
      if (next.baseOffset > s.logStartOffset && !doomed(segments[i])) break;
      count++;
    }
    if (count === 0) return 0;
    const newStart = Math.max(s.logStartOffset, segments[count].baseOffset);
    try {
      writeCheckpoint(`${s.dir}/${LOG_START_OFFSET_CHECKPOINT}`, s.topic, s.partition, newStart);
      s.logStartOffset = newStart;
      s.local.deleteOldest(s.dir, count);
    } catch (err) {
      throw new StorageError(`Cannot delete old segments of "${s.name}": ${(err as Error).message}`, {
        cause: err,
      });
    }
    return count;
  }

  /** See `PartitionLog.compact`: a second call while a round runs waits for it, then runs another. */
  compact(options: CleanOptions): Promise<CleanerStats> {
    const s = this.#s;
    if (s.closed) return Promise.reject(s.closedError("compact"));
    s.takeRole();
    const run = () =>
      cleanLog({
        dir: s.dir,
        topic: s.topic,
        partition: s.partition,
        get config() {
          return s.config;
        },
        get logStartOffset() {
          return s.logStartOffset;
        },
        get highWatermark() {
          return s.highWatermark;
        },
        get segments() {
          return s.local.segments;
        },
        get closed() {
          return s.closed || !s.lease.held;
        },
        replaceSegments: (cleaned, old) => s.local.replaceSegments(cleaned, old),
        allowOffsetGaps: () => s.local.allowOffsetGaps(),
        lastProducerOffsets: () => s.producers.lastOffsets(s.logStartOffset, s.logEndOffset),
      }, { force: true, ...options });
    const previous = this.#cleaning;
    // Rounds never overlap: this one runs after the previous, which failed or not (its error is
    // its own caller's).
    const round: Promise<CleanerStats> = (previous ? previous.catch(() => {}).then(run) : run()).finally(
      () => {
        if (this.#cleaning === round) this.#cleaning = undefined;
      },
    );
    this.#cleaning = round;
    return s.track(round);
  }
}
