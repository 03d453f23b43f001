/**
 * A partition's idempotent producers (KIP-98; Kafka's `ProducerStateManager`,
 * `ProducerStateEntry`, `ProducerAppendInfo.checkSequence`): per producer ID, the epoch and the
 * last five batches' sequence ranges and offsets. A batch that repeats one of them is a retry,
 * answered with the original offsets without being appended again; a batch whose first sequence
 * does not follow the last one is refused with OUT_OF_ORDER_SEQUENCE_NUMBER, an older epoch with
 * INVALID_PRODUCER_EPOCH. Every append goes through it, whoever makes it (`reel serve`'s Produce,
 * `topic.append()`, another process that holds the writer role next).
 *
 * It is kept on disk as Kafka keeps it: a `<offset>.snapshot` file (Kafka's `ProducerSnapshot`
 * message, version 1, with its CRC-32C) written when a segment rolls and when the writer leaves the
 * log clean, holding the state of every offset below `<offset>`; opening the state reads the latest
 * snapshot not past the log end offset and replays the batch headers after it.
 *
 * ```
 * ProducerSnapshot => version int16 (1), crc uint32 (CRC-32C of what follows), producer_entries
 *   [producer_id int64, epoch int16, last_sequence int32, last_offset int64, offset_delta int32,
 *    timestamp int64, coordinator_epoch int32, current_txn_first_offset int64]   (int32 count first)
 * ```
 *
 * @module
 */
import type { RecordBatchHeader } from "../record/record_batch.ts";
import { crc32c } from "../record/crc32c.ts";
import { fs, readRegularFile, removeFile, writeFileAtomic } from "../runtime/file_system.ts";

/** How many batches per producer are remembered for deduplication (Kafka's `NUM_BATCHES_TO_RETAIN`). */
export const BATCHES_TO_RETAIN = 5;

/** The suffix of producer state snapshot files (Kafka's `PRODUCER_SNAPSHOT_FILE_SUFFIX`). */
export const SNAPSHOT_SUFFIX = ".snapshot";

const SNAPSHOT_VERSION = 1;
/** Bytes of one producer entry in a snapshot. */
const ENTRY_BYTES = 8 + 2 + 4 + 8 + 4 + 8 + 4 + 8;
/** Where the CRC-32C's coverage starts: after version and crc. */
const ENTRIES_OFFSET = 6;

/** One batch a producer appended. */
export interface ProducerBatch {
  /** Its first sequence. */
  firstSeq: number;
  /** Its last sequence. */
  lastSeq: number;
  /** Its base offset. */
  baseOffset: number;
  /** Its last offset minus its base offset. */
  offsetDelta: number;
  /** Its largest timestamp, ms. */
  maxTimestamp: number;
}

/** One producer's state. */
export interface ProducerEntry {
  /** The producer's epoch. */
  epoch: number;
  /** Its last batches, oldest first (at most {@linkcode BATCHES_TO_RETAIN}). */
  batches: ProducerBatch[];
}

/** What {@linkcode ProducerState.check} decided about a batch. */
export type SequenceCheck =
  | { kind: "append" }
  | { kind: "duplicate"; batch: ProducerBatch }
  | { kind: "error"; code: "OUT_OF_ORDER_SEQUENCE_NUMBER" | "INVALID_PRODUCER_EPOCH"; detail: string };

const nextSeq = (seq: number) => (seq === 0x7fffffff ? 0 : seq + 1);

/**
 * The idempotent producers of one partition.
 *
 * @example A retry is recognised, a gap refused
 * ```ts
 * import assert from "node:assert/strict";
 * import { ProducerState } from "./producer_state.ts";
 * const state = new ProducerState();
 * const header = (baseSequence: number) => ({ producerId: 7, producerEpoch: 0, baseSequence, lastOffsetDelta: 1, maxTimestamp: 0, isControl: false });
 * assert.equal(state.check(header(0)).kind, "append");
 * state.record(header(0), 10);
 * assert.deepEqual(state.check(header(0)), { kind: "duplicate", batch: { firstSeq: 0, lastSeq: 1, baseOffset: 10, offsetDelta: 1, maxTimestamp: 0 } });
 * assert.equal(state.check(header(5)).kind, "error");
 * assert.equal(state.check(header(2)).kind, "append");
 * ```
 */
export class ProducerState {
  /** The producers, by producer ID. */
  readonly producers: Map<number, ProducerEntry> = new Map();

  /**
   * Checks an idempotent batch against its producer's state.
   *
   * @param h the batch's header (a producer ID of 0 or more)
   * @returns append it, answer it as a duplicate, or refuse it
   */
  check(
    h: Pick<RecordBatchHeader, "producerId" | "producerEpoch" | "baseSequence" | "lastOffsetDelta">,
  ): SequenceCheck {
    const entry = this.producers.get(h.producerId);
    if (!entry) return { kind: "append" }; // unknown producer: any sequence (as Kafka after KIP-360)
    const firstSeq = h.baseSequence;
    const lastSeq = (firstSeq + h.lastOffsetDelta) % 0x80000000;
    if (h.producerEpoch < entry.epoch) {
      return {
        kind: "error",
        code: "INVALID_PRODUCER_EPOCH",
        detail: `producer ${h.producerId}'s epoch ${h.producerEpoch} is older than ${entry.epoch}`,
      };
    }
    if (h.producerEpoch > entry.epoch) {
      return firstSeq === 0 ? { kind: "append" } : {
        kind: "error",
        code: "OUT_OF_ORDER_SEQUENCE_NUMBER",
        detail: `a new epoch of producer ${h.producerId} must start at sequence 0, not ${firstSeq}`,
      };
    }
    const dup = entry.batches.find((b) => b.firstSeq === firstSeq && b.lastSeq === lastSeq);
    if (dup) return { kind: "duplicate", batch: dup };
    const last = entry.batches[entry.batches.length - 1];
    if (last && firstSeq !== nextSeq(last.lastSeq)) {
      return {
        kind: "error",
        code: "OUT_OF_ORDER_SEQUENCE_NUMBER",
        detail: `out of order sequence number for producer ${h.producerId}: expected ${
          nextSeq(last.lastSeq)
        }, got ${firstSeq}`,
      };
    }
    return { kind: "append" };
  }

  /**
   * Records an appended batch (one with a producer ID; others are ignored).
   *
   * @param h the batch's header
   * @param baseOffset the offset it was given
   */
  record(
    h: Pick<
      RecordBatchHeader,
      "producerId" | "producerEpoch" | "baseSequence" | "lastOffsetDelta" | "maxTimestamp" | "isControl"
    >,
    baseOffset: number,
  ): void {
    if (h.producerId < 0 || h.isControl) return;
    let entry = this.producers.get(h.producerId);
    if (!entry || entry.epoch !== h.producerEpoch) {
      this.producers.set(h.producerId, entry = { epoch: h.producerEpoch, batches: [] });
    }
    entry.batches.push({
      firstSeq: h.baseSequence,
      lastSeq: (h.baseSequence + h.lastOffsetDelta) % 0x80000000,
      baseOffset,
      offsetDelta: h.lastOffsetDelta,
      maxTimestamp: h.maxTimestamp,
    });
    if (entry.batches.length > BATCHES_TO_RETAIN) entry.batches.shift();
  }

  /**
   * The state as Kafka's `ProducerSnapshot` bytes (each producer's last batch).
   *
   * @returns the snapshot file's bytes
   */
  toSnapshot(): Uint8Array {
    const producers = [...this.producers].filter(([, e]) => e.batches.length > 0);
    const bytes = new Uint8Array(ENTRIES_OFFSET + 4 + producers.length * ENTRY_BYTES);
    const view = new DataView(bytes.buffer);
    view.setInt16(0, SNAPSHOT_VERSION);
    view.setInt32(ENTRIES_OFFSET, producers.length);
    let at = ENTRIES_OFFSET + 4;
    for (const [producerId, entry] of producers) {
      const last = entry.batches[entry.batches.length - 1];
      view.setBigInt64(at, BigInt(producerId));
      view.setInt16(at + 8, entry.epoch);
      view.setInt32(at + 10, last.lastSeq);
      view.setBigInt64(at + 14, BigInt(last.baseOffset + last.offsetDelta));
      view.setInt32(at + 22, last.offsetDelta);
      view.setBigInt64(at + 26, BigInt(last.maxTimestamp));
      view.setInt32(at + 34, -1); // coordinator epoch: no transactions
      view.setBigInt64(at + 38, -1n); // no ongoing transaction
      at += ENTRY_BYTES;
    }
    view.setUint32(2, crc32c(bytes, ENTRIES_OFFSET));
    return bytes;
  }

  /**
   * Reads Kafka's `ProducerSnapshot` bytes.
   *
   * @param bytes a snapshot file's bytes
   * @returns the state, or `undefined` when the bytes are not a valid version-1 snapshot (its CRC,
   *   its length), which Kafka also skips
   */
  static fromSnapshot(bytes: Uint8Array): ProducerState | undefined {
    if (bytes.length < ENTRIES_OFFSET + 4) return undefined;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (view.getInt16(0) !== SNAPSHOT_VERSION) return undefined;
    if (view.getUint32(2) !== crc32c(bytes, ENTRIES_OFFSET)) return undefined;
    const count = view.getInt32(ENTRIES_OFFSET);
    if (count < 0 || bytes.length !== ENTRIES_OFFSET + 4 + count * ENTRY_BYTES) return undefined;
    const state = new ProducerState();
    let at = ENTRIES_OFFSET + 4;
    for (let i = 0; i < count; i++, at += ENTRY_BYTES) {
      const lastSeq = view.getInt32(at + 10);
      const lastOffset = Number(view.getBigInt64(at + 14));
      const offsetDelta = view.getInt32(at + 22);
      if (lastOffset < 0) continue;
      state.producers.set(Number(view.getBigInt64(at)), {
        epoch: view.getInt16(at + 8),
        batches: [{
          firstSeq: (lastSeq - offsetDelta + 0x80000000) % 0x80000000,
          lastSeq,
          baseOffset: lastOffset - offsetDelta,
          offsetDelta,
          maxTimestamp: Number(view.getBigInt64(at + 26)),
        }],
      });
    }
    return state;
  }
}

/**
 * The snapshot files of a partition directory, by offset, ascending.
 *
 * @param dir the partition directory
 * @param listed its entries, when the caller has just listed them (then it is not listed again)
 * @returns the offsets of its `<20 digits>.snapshot` files
 */
export function snapshotOffsets(dir: string, listed?: readonly string[]): number[] {
  let names = listed;
  try {
    names ??= fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names.map((n) => /^(\d{20})\.snapshot$/.exec(n)).filter((m) => m !== null).map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

/** The path of the snapshot for `offset`. */
function snapshotPath(dir: string, offset: number): string {
  return `${dir}/${String(offset).padStart(20, "0")}${SNAPSHOT_SUFFIX}`;
}

/**
 * Writes the state as the snapshot for `offset` (the log end offset it covers), atomically, and
 * removes older snapshots beyond the last two, and those below `logStartOffset`.
 *
 * @param dir the partition directory
 * @param state the state
 * @param offset the offset the state covers everything below
 * @param logStartOffset the log start offset
 * @param sync fsync the file
 */
export function writeSnapshot(
  dir: string,
  state: ProducerState,
  offset: number,
  logStartOffset: number,
  sync: boolean,
): void {
  writeFileAtomic(snapshotPath(dir, offset), state.toSnapshot(), { sync });
  const offsets = snapshotOffsets(dir);
  for (let i = 0; i < offsets.length; i++) {
    const keep = offsets[i] === offset || (i >= offsets.length - 2 && offsets[i] >= logStartOffset);
    if (!keep && offsets[i] < offset) {
      try {
        removeFile(snapshotPath(dir, offsets[i]));
      } catch { /* removed by the next snapshot */ }
    }
  }
}

/**
 * Reads the latest valid snapshot at or below `maxOffset` (and not below `minOffset`).
 *
 * @param dir the partition directory
 * @param minOffset the lowest offset a usable snapshot may have (the log start offset)
 * @param maxOffset the highest (the log end offset)
 * @returns the state and its offset, or `undefined`
 */
export function readLatestSnapshot(
  dir: string,
  minOffset: number,
  maxOffset: number,
): { state: ProducerState; offset: number } | undefined {
  const offsets = snapshotOffsets(dir).filter((o) => o >= minOffset && o <= maxOffset);
  for (let i = offsets.length - 1; i >= 0; i--) {
    let state: ProducerState | undefined;
    try {
      state = ProducerState.fromSnapshot(readRegularFile(snapshotPath(dir, offsets[i])));
    } catch { /* unreadable: try an older one */ }
    if (state) return { state, offset: offsets[i] };
  }
  return undefined;
}
