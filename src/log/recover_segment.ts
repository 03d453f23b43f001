/**
 * A segment as the loader opens it (Kafka's `LogLoader.recoverSegment`, `LogSegment.recover` and
 * `LogSegment.sanityCheck`): after a clean shutdown its index files loaded and checked
 * ({@linkcode loadSegmentIndexes}) and the active segment's tail checked before a writer appends
 * after it ({@linkcode checkSegmentTail}); otherwise, or when a check fails, every batch validated,
 * both indexes rebuilt and a torn tail cut ({@linkcode recoverSegment}). `log_loader.ts` decides
 * which segment gets which; the log cleaner recovers the segment it has written.
 *
 * @module
 */
import { readInt32BE } from "../record/big_endian.ts";
import {
  BATCH_LENGTH_OFFSET,
  LOG_OVERHEAD,
  MAGIC,
  MAGIC_OFFSET,
  RECORD_BATCH_OVERHEAD,
  validateRecordBatch,
} from "../record/record_batch.ts";
import {
  batchesFrom,
  type BatchLocation,
  type BatchSource,
  DEFAULT_CHUNK_BYTES,
  readFrom,
} from "./file_records.ts";
import type { LogSegment } from "./log_segment.ts";
import { OffsetIndex } from "./offset_index.ts";
import { TimeIndex } from "./time_index.ts";

/** The result of {@linkcode recoverSegment}. */
export interface RecoveryResult {
  /** Bytes of valid batches kept. */
  validBytes: number;
  /** Bytes cut from the tail (a torn or corrupt batch and everything after it). */
  truncatedBytes: number;
  /** The offset after the segment's last valid batch. */
  nextOffset: number;
  /**
   * Damage that was found and not cut (below the durable offset): the byte position and offset of
   * the first invalid batch, and what is wrong with it.
   */
  damage?: { position: number; offset: number; detail: string };
}

/**
 * Loads a segment's two index files and checks them against its `.log` file; the segment's next
 * offset must be known (`nextOffset`).
 *
 * @param segment a segment just opened (`LogSegment.open`)
 * @returns `false` when an index is missing or fails its check: recover the segment then
 */
export function loadSegmentIndexes(segment: LogSegment): boolean {
  const offsetIndex = OffsetIndex.load(segment.offsetIndex.path, segment.baseOffset, segment.size);
  const timeIndex = TimeIndex.load(segment.timeIndex.path, segment.baseOffset, segment.nextOffset - 1);
  if (!offsetIndex || !timeIndex) return false;
  if (offsetIndex.lastEntry && offsetIndex.lastEntry.offset >= segment.nextOffset) return false;
  // An inactive segment always ends with its final time index entry (onBecomeInactiveSegment):
  // a segment with records and an empty time index lost it.
  if (segment.size > 0 && timeIndex.entries === 0) return false;
  segment.offsetIndex = offsetIndex;
  segment.timeIndex = timeIndex;
  const lastTime = timeIndex.lastEntry;
  if (lastTime) {
    segment.maxTimestampSoFar = lastTime.timestamp;
    segment.offsetOfMaxTimestampSoFar = lastTime.offset;
  }
  const lastIndexed = offsetIndex.lastEntry;
  segment.bytesSinceLastIndexEntry = segment.size - (lastIndexed ? lastIndexed.position : 0);
  if (segment.size > 0) segment.rollingBasedTimestamp = segment.firstMaxTimestamp();
  return true;
}

/**
 * Validates every batch of a segment from the start (size, magic, CRC-32C, offsets dense),
 * rebuilds both indexes (over the valid batches: none points into damage), and decides what to do
 * with the bytes from the first invalid batch on (Kafka's `LogSegment.recover`, with one rule
 * Kafka does not have: bytes known to be durable are never cut to make room for new offsets):
 *
 * - nothing invalid: nothing to do;
 * - the first invalid batch starts at or past `durableOffset` (what a crash can leave: bytes
 *   written after the last recovery point): the file is cut there, as Kafka does;
 * - below `durableOffset`, with `cutTornTail` (the active segment after a crash), a torn tail
 *   (no valid batch anywhere after the damage) is cut too;
 * - otherwise the file is left whole: `damage` says where the first invalid batch is, and
 *   `nextOffset` is the offset after the last valid batch found past the damage.
 *
 * @param segment a segment opened for writing (`LogSegment.open`)
 * @param maxBatchBytes batches claiming to be larger than this are treated as corrupt
 * @param expectedBaseOffset the offset the first batch must start at
 * @param options `durableOffset`: offsets below it were fsynced and checkpointed (the recovery
 *   point, or the log end offset of a clean close), default 0; `cutTornTail`: below it, cut a
 *   tail that nothing valid follows
 * @returns what was kept, cut, and found damaged
 * @example A torn tail is cut, the batch before it kept
 * ```ts
 * import assert from "node:assert/strict";
 * import * as fs from "node:fs";
 * import { LogSegment } from "./log_segment.ts";
 * import { recoverSegment } from "./recover_segment.ts";
 * import { encodeRecordBatch } from "../record/record_batch_encoder.ts";
 * const dir = Deno.makeTempDirSync();
 * const batch = encodeRecordBatch([{ value: null }], { baseOffset: 0 });
 * fs.writeFileSync(`${dir}/00000000000000000000.log`, new Uint8Array([...batch, 0, 0, 0]));
 * const segment = LogSegment.open(dir, 0, 4096);
 * const result = recoverSegment(segment, 1 << 20);
 * assert.deepEqual([result.validBytes, result.truncatedBytes, result.nextOffset], [batch.length, 3, 1]);
 * assert.equal(fs.statSync(segment.logPath).size, batch.length);
 * segment.close();
 * ```
 */
export function recoverSegment(
  segment: LogSegment,
  maxBatchBytes: number,
  expectedBaseOffset: number = segment.baseOffset,
  options: { durableOffset?: number; cutTornTail?: boolean } = {},
): RecoveryResult {
  segment.offsetIndex.reset();
  segment.timeIndex.reset();
  segment.maxTimestampSoFar = -1;
  segment.offsetOfMaxTimestampSoFar = segment.baseOffset;
  segment.rollingBasedTimestamp = -1;
  segment.bytesSinceLastIndexEntry = 0;
  const fileBytes = segment.log.sizeInBytes();
  const valid = validateBatches(segment, 0, fileBytes, maxBatchBytes, expectedBaseOffset, true);
  const position = valid.position;
  let nextOffset = valid.nextOffset;
  let truncatedBytes = 0;
  let damage: RecoveryResult["damage"];
  if (position < fileBytes) {
    let cut = nextOffset >= (options.durableOffset ?? 0);
    const after = cut
      ? undefined
      : findValidBatch(segment.log, position + 1, fileBytes, maxBatchBytes, segment.baseOffset);
    if (!cut && options.cutTornTail && after === undefined) cut = true; // a torn tail: nothing valid follows
    if (cut) {
      truncatedBytes = fileBytes - position;
      segment.log.truncateTo(position);
    } else {
      damage = { position, offset: nextOffset, detail: valid.detail };
      const last = segment.offsetIndex.lastEntry;
      if (after && (last === undefined || after.baseOffset > last.offset)) {
        // The valid batches after the damage stay readable: an entry points at the first of
        // them (an entry may name any offset of the batch it points at), so no read of them
        // starts before the damage.
        segment.offsetIndex.append(after.baseOffset, after.position);
        segment.bytesSinceLastIndexEntry = 0;
        const rest = validateBatches(
          segment,
          after.position,
          fileBytes,
          maxBatchBytes,
          after.baseOffset,
          true,
        );
        nextOffset = Math.max(nextOffset, rest.nextOffset);
      }
    }
  }
  segment.size = position + (damage ? fileBytes - position : 0);
  segment.nextOffset = nextOffset;
  segment.offsetIndex.flush();
  segment.timeIndex.flush();
  return { validBytes: position, truncatedBytes, nextOffset, damage };
}

/**
 * Validates a segment's batches from `position` on, each whole, CRC-32C checked and starting where
 * the last ended, and (with `index`) indexes each; stops at the first that fails.
 *
 * @returns where the valid batches end, the offset after them, and why the scan stopped
 */
function validateBatches(
  segment: LogSegment,
  position: number,
  fileBytes: number,
  maxBatchBytes: number,
  expectedBaseOffset: number,
  index: boolean,
): { position: number; nextOffset: number; detail: string } {
  let nextOffset = expectedBaseOffset;
  const batches = batchesFrom(segment.log, position, fileBytes, { validate: true, maxBatchBytes });
  while (batches.nextBatch()) {
    const baseOffset = batches.baseOffset;
    // Offsets are dense: a batch must start exactly where the previous one ended (its baseOffset
    // lies outside the CRC, so a damaged one is caught only here).
    const follows = segment.offsetGaps ? baseOffset >= nextOffset : baseOffset === nextOffset;
    if (!follows || batches.lastOffsetDelta < 0) {
      return {
        position: batches.position,
        nextOffset,
        detail: `the batch starts at offset ${baseOffset}, expected ${nextOffset}`,
      };
    }
    const lastOffset = batches.lastOffset;
    if (index) {
      if (segment.rollingBasedTimestamp < 0) segment.rollingBasedTimestamp = batches.maxTimestamp;
      segment.indexBatch(lastOffset, batches.maxTimestamp, lastOffset, batches.position, batches.size);
    }
    nextOffset = lastOffset + 1;
  }
  return { position: batches.position, nextOffset, detail: batches.detail };
}

/**
 * After a clean close: checks a segment's batches from its last offset index entry to the end of
 * the file (CRC-32C, dense offsets ending at `nextOffset`), the part of the active segment a
 * writer appends after. Cheap: at most `indexIntervalBytes` and a batch.
 *
 * @param segment a segment whose indexes {@linkcode loadSegmentIndexes} loaded
 * @param maxBatchBytes batches claiming to be larger than this are treated as corrupt
 * @returns whether the tail is sound; when not, recover the segment
 */
export function checkSegmentTail(segment: LogSegment, maxBatchBytes: number): boolean {
  const fileBytes = segment.log.sizeInBytes();
  if (fileBytes !== segment.size) return false;
  const last = segment.offsetIndex.lastEntry;
  let position = 0;
  let expected = segment.baseOffset;
  if (last) {
    const batch = segment.headers(last.position);
    if (!batch.nextBatch()) return false;
    position = last.position;
    expected = batch.baseOffset;
  }
  const valid = validateBatches(segment, position, fileBytes, maxBatchBytes, expected, false);
  return valid.position === fileBytes && valid.nextOffset === segment.nextOffset;
}

/**
 * Looks for a whole, CRC-valid batch starting anywhere from byte `from` on (one byte at a time):
 * whether damage in a segment is a torn tail (nothing valid after it) or lies in its middle.
 * Reads the range once, in chunks; only the recovery of damaged bytes calls it.
 *
 * @param source where the bytes are read from
 * @param from the first byte position tried
 * @param to the end of the range, bytes
 * @param maxBatchBytes batches claiming more bytes than this after their length field are skipped
 * @param minBaseOffset batches starting below this offset are skipped (the segment's base offset)
 * @returns the first such batch's position, size and offsets, or `undefined` when there is none
 * @example Find the batch after some garbage
 * ```ts
 * import assert from "node:assert/strict";
 * import { findValidBatch } from "./recover_segment.ts";
 * import { encodeRecordBatch } from "../record/record_batch_encoder.ts";
 * const batch = encodeRecordBatch([{ value: null }], { baseOffset: 5 });
 * const file = new Uint8Array([7, 7, 7, ...batch]);
 * assert.deepEqual(findValidBatch(file, 0, file.length, 1 << 20, 0), {
 *   baseOffset: 5,
 *   lastOffset: 5,
 *   position: 3,
 *   size: batch.length,
 * });
 * ```
 */
export function findValidBatch(
  source: BatchSource,
  from: number,
  to: number,
  maxBatchBytes: number,
  minBaseOffset: number,
): BatchLocation | undefined {
  let chunk: Uint8Array = new Uint8Array(0);
  let chunkStart = from;
  for (let q = from; q + RECORD_BATCH_OVERHEAD <= to; q++) {
    let at = q - chunkStart;
    if (at + RECORD_BATCH_OVERHEAD > chunk.length) {
      chunk = readFrom(source, q, Math.min(DEFAULT_CHUNK_BYTES, to - q));
      chunkStart = q;
      at = 0;
    }
    if (chunk[at + MAGIC_OFFSET] !== MAGIC) continue;
    const size = readInt32BE(chunk, at + BATCH_LENGTH_OFFSET) + LOG_OVERHEAD;
    if (size < RECORD_BATCH_OVERHEAD || size > maxBatchBytes + LOG_OVERHEAD || q + size > to) continue;
    const bytes = at + size <= chunk.length ? chunk : readFrom(source, q, size);
    const start = bytes === chunk ? at : 0;
    let header;
    try {
      header = validateRecordBatch(bytes, start);
    } catch {
      continue; // not a batch here: try the next byte
    }
    if (header.lastOffsetDelta < 0 || header.baseOffset < minBaseOffset) continue;
    return {
      baseOffset: header.baseOffset,
      lastOffset: header.baseOffset + header.lastOffsetDelta,
      position: q,
      size,
    };
  }
  return undefined;
}
