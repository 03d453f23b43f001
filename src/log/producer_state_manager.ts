/**
 * The idempotent producers' state of one partition's log, as the writer keeps it (Kafka's
 * `ProducerStateManager`): built on first use from the latest snapshot not past the log end
 * offset and the batch headers after it, updated by each idempotent append, snapshotted at each
 * roll and when the writer leaves the log clean, and dropped when the log is loaded afresh or a
 * failed write takes batches back. The state itself and its snapshot files are `producer_state.ts`.
 *
 * @module
 */
import { readRecordBatchHeader, type RecordBatchHeader } from "../record/record_batch.ts";
import { removeFile } from "../runtime/file_system.ts";
import { batchesFrom } from "./file_records.ts";
import type { LocalLog, ReadCursor } from "./local_log.ts";
import { ProducerState, readLatestSnapshot, snapshotOffsets, writeSnapshot } from "./producer_state.ts";

/**
 * The producers' state of one partition's log, loaded lazily from its snapshot and segments.
 *
 * @example An empty log has no producers, and writes no snapshot
 * ```ts
 * import assert from "node:assert/strict";
 * import { ProducerStateManager } from "./producer_state_manager.ts";
 * import { LocalLog } from "./local_log.ts";
 * import { LogSegment } from "./log_segment.ts";
 * import { snapshotOffsets } from "./producer_state.ts";
 * const dir = Deno.makeTempDirSync();
 * const local = new LocalLog("events", 0, [LogSegment.create(dir, 0, 4096)]);
 * const producers = new ProducerStateManager(dir, local);
 * assert.equal(producers.state(0, 0).producers.size, 0);
 * producers.takeSnapshot(0, 0, false);
 * assert.deepEqual(snapshotOffsets(dir), []);
 * local.active.close();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export class ProducerStateManager {
  /** The state, once built (see {@linkcode ProducerStateManager.state}). */
  #state: ProducerState | undefined;

  /**
   * @param dir the partition directory (where the snapshots are)
   * @param local the log's segments (whose batch headers are replayed)
   */
  constructor(readonly dir: string, readonly local: LocalLog) {}

  /**
   * The idempotent producers' state: the latest snapshot not past the log end offset, then the
   * batch headers after it (without a snapshot, those of the active segment), as Kafka's
   * `ProducerStateManager` loads it. Built on first use, then kept up to date by
   * {@linkcode ProducerStateManager.record}.
   *
   * @param logStartOffset the log start offset (no older snapshot is used)
   * @param logEndOffset the log end offset (no newer snapshot is used, no batch past it replayed)
   * @returns the state
   */
  state(logStartOffset: number, logEndOffset: number): ProducerState {
    if (this.#state) return this.#state;
    const end = logEndOffset;
    const snapshot = readLatestSnapshot(this.dir, logStartOffset, end);
    const state = snapshot?.state ?? new ProducerState();
    let offset = snapshot?.offset ?? Math.max(logStartOffset, this.local.active.baseOffset);
    try {
      let cursor: ReadCursor | undefined;
      while (offset < end) {
        const data = this.local.read(offset, 1 << 20, end, cursor);
        if (!data) break;
        const batches = batchesFrom(data.bytes, 0, data.bytes.length);
        while (batches.nextBatch()) {
          if (batches.baseOffset >= offset) {
            state.record(readRecordBatchHeader(batches.bytes, batches.at), batches.baseOffset);
          }
        }
        if (data.next.offset <= offset) break;
        offset = data.next.offset;
        cursor = data.next;
      }
    } catch { /* a damaged tail: the state from the batches before it */ }
    this.#state = state;
    return state;
  }

  /**
   * Records an idempotent producer's batch just appended, if the state is built (otherwise its
   * first use replays the batch from the segment).
   *
   * @param header the batch's header
   * @param baseOffset the base offset it was given
   */
  record(header: RecordBatchHeader, baseOffset: number): void {
    this.#state?.record(header, baseOffset);
  }

  /**
   * Drops the state, to be built again from the files on next use: the log was loaded afresh, or
   * a failed write took batches back.
   */
  reset(): void {
    this.#state = undefined;
  }

  /**
   * Writes the state as the snapshot for `offset`, when it is built and holds producers. A
   * failure is ignored: the next open replays more of the log.
   *
   * @param offset the offset the state covers everything below (a roll's new base offset, or
   *   the log end offset)
   * @param logStartOffset the log start offset (older snapshots are removed)
   * @param sync fsync the file
   */
  takeSnapshot(offset: number, logStartOffset: number, sync: boolean): void {
    if (!this.#state || this.#state.producers.size === 0) return;
    try {
      writeSnapshot(this.dir, this.#state, offset, logStartOffset, sync);
    } catch { /* the next open replays more of the log */ }
  }

  /**
   * Removes the snapshots past `logEndOffset`: they describe records a recovery cut, never to be
   * read again.
   *
   * @param logEndOffset the log end offset after recovery
   * @param offsets the snapshots' offsets, when the load under the writer lock listed them
   *   (`Loaded.snapshotOffsets`); else the directory is listed
   */
  removeSnapshotsPast(logEndOffset: number, offsets = snapshotOffsets(this.dir)): void {
    for (const offset of offsets) {
      if (offset > logEndOffset) {
        try {
          removeFile(`${this.dir}/${String(offset).padStart(20, "0")}.snapshot`);
        } catch { /* ignored as past the log end offset until removed */ }
      }
    }
  }

  /**
   * The last offset of each producer's last batch (what the log cleaner keeps of a producer).
   *
   * @param logStartOffset the log start offset
   * @param logEndOffset the log end offset
   * @returns producer ID → offset
   */
  lastOffsets(logStartOffset: number, logEndOffset: number): Map<number, number> {
    const out = new Map<number, number>();
    for (const [id, entry] of this.state(logStartOffset, logEndOffset).producers) {
      const last = entry.batches[entry.batches.length - 1];
      if (last) out.set(id, last.baseOffset + last.offsetDelta);
    }
    return out;
  }
}
