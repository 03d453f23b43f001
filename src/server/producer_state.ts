/**
 * Idempotent producers, as the broker sees them (KIP-98; Kafka's `ProducerStateManager`,
 * `ProducerAppendInfo.checkSequence`, `ProducerStateEntry`): per partition and producer ID, the
 * epoch and the last five batches' sequence ranges and offsets. A batch that repeats one of them
 * is a retry and is answered with the original offsets without being appended again; a batch
 * whose first sequence does not follow the last one is refused with OUT_OF_ORDER_SEQUENCE_NUMBER;
 * an older epoch with INVALID_PRODUCER_EPOCH.
 *
 * The state lives in the broker's memory. The first idempotent batch for a partition after the
 * broker starts rebuilds it from the batch headers of the partition's last segment, so a retry of
 * a batch appended before a restart is still recognised.
 *
 * @module
 */
import type { PartitionLog } from "../log/partition_log.ts";
import { readRecordBatchHeader } from "../record/record_batch.ts";
import { ErrorCode } from "./broker_context.ts";

/** How many batches per producer are remembered for deduplication (Kafka's `NUM_BATCHES_TO_RETAIN`). */
const BATCHES_TO_RETAIN = 5;

interface BatchEntry {
  firstSeq: number;
  lastSeq: number;
  baseOffset: number;
  /** Resolves once the batch is acknowledged under the topic's fsync policy. */
  acknowledged: Promise<unknown>;
}

interface ProducerEntry {
  epoch: number;
  batches: BatchEntry[];
}

/** What {@linkcode ProducerStateManager.check} decided about a batch. */
export type SequenceCheck =
  | { kind: "append" }
  | { kind: "duplicate"; baseOffset: number; acknowledged: Promise<unknown> }
  | { kind: "error"; errorCode: number; message: string };

const nextSeq = (seq: number) => (seq === 0x7fffffff ? 0 : seq + 1);

/**
 * The idempotent producers' state of every partition a broker serves.
 *
 * @example A retry is recognised
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../mod.ts";
 * import { crc32c, encodeRecordBatch } from "../record/mod.ts";
 * import { ProducerStateManager } from "./producer_state.ts";
 * const log = await open(Deno.makeTempDirSync());
 * const partition = (await log.createTopic("t")).partition(0);
 * const batch = () => { // producer ID 7, epoch 0, base sequence 0
 *   const b = encodeRecordBatch([{ value: new Uint8Array([1]) }]);
 *   const view = new DataView(b.buffer, b.byteOffset);
 *   view.setBigInt64(43, 7n);
 *   view.setInt16(51, 0);
 *   view.setInt32(53, 0);
 *   view.setUint32(17, crc32c(b, 21));
 *   return b;
 * };
 * const producers = new ProducerStateManager();
 * assert.deepEqual(producers.check(partition, batch()), { kind: "append" });
 * const first = batch();
 * producers.recordAppend(partition, first, 0, partition.append(first));
 * assert.equal(producers.check(partition, batch()).kind, "duplicate");
 * await log.close();
 * ```
 */
export class ProducerStateManager {
  readonly #partitions = new WeakMap<PartitionLog, Map<number, ProducerEntry>>();

  #state(log: PartitionLog): Map<number, ProducerEntry> {
    let state = this.#partitions.get(log);
    if (!state) {
      state = this.#rebuild(log);
      this.#partitions.set(log, state);
    }
    return state;
  }

  /** Reads the batch headers of the last segment: the producers that wrote it, with their last batches. */
  #rebuild(log: PartitionLog): Map<number, ProducerEntry> {
    const state = new Map<number, ProducerEntry>();
    const segments = log.segments;
    let offset = Math.max(log.logStartOffset, segments[segments.length - 1]?.baseOffset ?? 0);
    try {
      for (let data = offset < log.highWatermark ? log.read(offset, 1 << 20) : null; data;) {
        for (let at = 0; at < data.bytes.length;) {
          const h = readRecordBatchHeader(data.bytes, at);
          if (h.producerId >= 0 && !h.isControl) {
            let entry = state.get(h.producerId);
            if (!entry || entry.epoch !== h.producerEpoch) {
              state.set(h.producerId, entry = { epoch: h.producerEpoch, batches: [] });
            }
            entry.batches.push({
              firstSeq: h.baseSequence,
              lastSeq: (h.baseSequence + h.lastOffsetDelta) % 0x80000000,
              baseOffset: h.baseOffset,
              acknowledged: Promise.resolve(),
            });
            if (entry.batches.length > BATCHES_TO_RETAIN) entry.batches.shift();
          }
          at += h.batchLength + 12;
        }
        offset = data.next.offset;
        data = offset < log.highWatermark ? log.read(offset, 1 << 20, data.next) : null;
      }
    } catch { /* a damaged tail: the state from the batches before it */ }
    return state;
  }

  /**
   * Checks an idempotent batch against its producer's state.
   *
   * @param log the partition
   * @param batch one record batch with a producer ID
   * @returns append it, answer it as a duplicate, or refuse it
   */
  check(log: PartitionLog, batch: Uint8Array): SequenceCheck {
    const h = readRecordBatchHeader(batch, 0);
    const entry = this.#state(log).get(h.producerId);
    if (!entry) return { kind: "append" }; // unknown producer: any sequence (as Kafka after KIP-360)
    const firstSeq = h.baseSequence;
    const lastSeq = (firstSeq + h.lastOffsetDelta) % 0x80000000;
    if (h.producerEpoch < entry.epoch) {
      return {
        kind: "error",
        errorCode: ErrorCode.INVALID_PRODUCER_EPOCH,
        message: `Producer ${h.producerId}'s epoch ${h.producerEpoch} is older than ${entry.epoch}`,
      };
    }
    if (h.producerEpoch > entry.epoch) {
      return firstSeq === 0 ? { kind: "append" } : {
        kind: "error",
        errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
        message: `A new epoch of producer ${h.producerId} must start at sequence 0, not ${firstSeq}`,
      };
    }
    const dup = entry.batches.find((b) => b.firstSeq === firstSeq && b.lastSeq === lastSeq);
    if (dup) return { kind: "duplicate", baseOffset: dup.baseOffset, acknowledged: dup.acknowledged };
    const last = entry.batches[entry.batches.length - 1];
    if (last && firstSeq !== nextSeq(last.lastSeq)) {
      return {
        kind: "error",
        errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
        message: `Out of order sequence number for producer ${h.producerId}: expected ${
          nextSeq(last.lastSeq)
        }, got ${firstSeq}`,
      };
    }
    return { kind: "append" };
  }

  /**
   * Records an appended idempotent batch.
   *
   * @param log the partition
   * @param batch the batch as appended
   * @param baseOffset its base offset
   * @param acknowledged resolves when it is acknowledged
   */
  recordAppend(
    log: PartitionLog,
    batch: Uint8Array,
    baseOffset: number,
    acknowledged: Promise<unknown>,
  ): void {
    const h = readRecordBatchHeader(batch, 0);
    const state = this.#state(log);
    let entry = state.get(h.producerId);
    if (!entry || entry.epoch !== h.producerEpoch) {
      state.set(h.producerId, entry = { epoch: h.producerEpoch, batches: [] });
    }
    const appended: BatchEntry = {
      firstSeq: h.baseSequence,
      lastSeq: (h.baseSequence + h.lastOffsetDelta) % 0x80000000,
      baseOffset,
      acknowledged,
    };
    entry.batches.push(appended);
    if (entry.batches.length > BATCHES_TO_RETAIN) entry.batches.shift();
    // A batch that is never acknowledged (its write or fsync failed) is no original to answer retries with.
    const batches = entry.batches;
    acknowledged.catch(() => {
      const i = batches.indexOf(appended);
      if (i >= 0) batches.splice(i, 1);
    });
  }
}
