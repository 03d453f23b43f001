/**
 * The read path of one partition's log (Kafka's `UnifiedLog.read` and `fetchOffsetByTimestamp`):
 * offsets checked against the log's bounds, whole batches read below the high watermark and
 * decoded, and, for a log another process writes, the follower brought up to date first (a refresh
 * at the end of the log, a load afresh when the writer swapped or deleted a file being read) and
 * the directory watched while listeners wait. Internal to {@linkcode PartitionLog}.
 *
 * @module
 */
import { OffsetOutOfRangeError } from "../errors.ts";
import type { Record } from "../record/record.ts";
import type { DecodeOptions } from "../record/record_batch_decoder.ts";
import type { FetchData, ReadCursor } from "./local_log.ts";
import type { LogState } from "./_log_state.ts";

/** What {@linkcode LogReader.decodeWithSource} adds to each record. */
interface SourcedRecord {
  topic: string;
  partition: number;
}

/**
 * The read path of one partition's log (see the module doc).
 *
 * @example Offsets outside the log are refused
 * ```ts
 * import assert from "node:assert/strict";
 * import { PartitionLog } from "./partition_log.ts";
 * import { resolveLogConfig } from "./log_config.ts";
 * import { encodeRecordBatch } from "../record/record_batch_encoder.ts";
 * const log = PartitionLog.open(Deno.makeTempDirSync() + "/events-0", "events", 0, resolveLogConfig());
 * await log.append(encodeRecordBatch([{ value: new Uint8Array([7]) }]));
 * assert.deepEqual(log.decode(log.read(0, 1024)!, 0).map((r) => r.value), [new Uint8Array([7])]);
 * assert.equal(log.read(1, 1024), null); // at the high watermark
 * assert.throws(() => log.read(2, 1024), { name: "OffsetOutOfRangeError" });
 * await log.close();
 * ```
 */
export class LogReader {
  readonly #s: LogState;
  /** Decode options that stamp this log's topic and partition on every record. */
  readonly #withSource: DecodeOptions;

  /** @param state the log's state */
  constructor(state: LogState) {
    this.#s = state;
    this.#withSource = { from: { topic: state.topic, partition: state.partition } };
  }

  /** See `PartitionLog.checkOffset`. */
  checkOffset(offset: number): void {
    if (!Number.isSafeInteger(offset)) {
      throw new RangeError(`Invalid offset ${offset}: expected a whole number`);
    }
    const s = this.#s;
    if (offset < s.logStartOffset || offset > s.logEndOffset) {
      throw new OffsetOutOfRangeError(s.topic, s.partition, offset, s.logStartOffset, s.logEndOffset);
    }
  }

  /** See `PartitionLog.read`. */
  read(offset: number, maxBytes: number, cursor?: ReadCursor): FetchData | null {
    const s = this.#s;
    if (s.closed) throw s.closedError("read from");
    // Another process writes: look for its appends at the end, for its retention always, and
    // for its log cleaner's swaps.
    if (!s.lease.held) s.follower.beforeRead(offset);
    this.checkOffset(offset);
    if (offset >= s.highWatermark) return null;
    try {
      return s.local.read(offset, maxBytes, s.highWatermark, cursor);
    } catch (err) {
      // A segment file this view holds was swapped or deleted by the writer since the view was
      // loaded (a closed descriptor reopened by name finds another file, or none): load the log
      // afresh and read again, once.
      const code = (err as { code?: string }).code;
      if (s.lease.held || (code !== "ESTALE" && code !== "ENOENT")) throw err;
      s.follower.reload();
      this.checkOffset(offset);
      if (offset >= s.highWatermark) return null;
      return s.local.read(offset, maxBytes, s.highWatermark, undefined);
    }
  }

  /** See `PartitionLog.decode`. */
  decode(data: FetchData, fromOffset: number, toOffset: number): Record[] {
    return this.#s.local.decode(data, fromOffset, toOffset, this.#s.highWatermark, undefined);
  }

  /** See `PartitionLog.decodeWithSource`. */
  decodeWithSource(data: FetchData, fromOffset: number, toOffset: number): (Record & SourcedRecord)[] {
    const s = this.#s;
    return s.local.decode(
      data,
      fromOffset,
      toOffset,
      s.highWatermark,
      this.#withSource,
    ) as (Record & SourcedRecord)[];
  }

  /** See `PartitionLog.offsetForTimestamp`. */
  offsetForTimestamp(timestamp: number): { offset: number; timestamp: number } | null {
    const s = this.#s;
    if (!s.lease.held) this.refresh();
    return s.local.offsetForTimestamp(timestamp, s.logStartOffset, s.highWatermark);
  }

  /** See `PartitionLog.refresh`. */
  refresh(): boolean {
    if (this.#s.lease.held || this.#s.closed) return false;
    return this.#s.follower.refresh();
  }

  /** Watches the partition directory for another process's appends, refreshing the log on each. */
  watch(): void {
    this.#s.follower.watch(() => {
      try {
        this.refresh();
      } catch { /* the next read reports it */ }
    });
  }

  /** See `PartitionLog.onAppend`. */
  onAppend(listener: () => void): () => void {
    const s = this.#s;
    s.listeners.add(listener);
    if (!s.lease.held && !s.closed) this.watch();
    return () => {
      s.listeners.delete(listener);
      if (s.listeners.size === 0) s.follower.unwatch();
    };
  }
}
