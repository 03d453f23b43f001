/**
 * A segment as a process that does not write it sees it (another process may be appending to
 * it): its index files loaded when they pass their checks, the batch headers after the last
 * indexed batch scanned up to the end of the last whole batch ({@linkcode loadReadOnlySegment}),
 * and the writer's later appends picked up ({@linkcode refreshReadOnlySegment}). For any segment,
 * a lookup that finds its `.index` wrong has both indexes rebuilt from the batch headers
 * ({@linkcode rebuildSegmentIndexes}). Nothing here writes a file: a torn or half-written tail is
 * only where the segment ends for now.
 *
 * @module
 */
import { MAGIC } from "../record/record_batch.ts";
import { batchesFrom } from "./file_records.ts";
import type { LogSegment } from "./log_segment.ts";
import { OffsetIndex } from "./offset_index.ts";
import { restoreSegmentState, saveSegmentState } from "./pending_writes.ts";
import { TimeIndex } from "./time_index.ts";

/**
 * Loads a segment that another process may be writing, changing no file: reads the index files
 * if they pass their checks (else starts from empty in-memory indexes), then scans batch headers
 * from the last indexed batch to the end of the last whole batch in the file. Offsets must be
 * dense from `expectedBaseOffset` (when given).
 *
 * @param segment a segment just opened with `LogSegment.openReadOnly` (its size: the file's at
 *   that open, scanned up to); a placeholder is left as it is
 * @param expectedBaseOffset the offset the first batch must start at, when known
 * @example A reader's view of a segment, and of what is appended after
 * ```ts
 * import assert from "node:assert/strict";
 * import * as fs from "node:fs";
 * import { LogSegment } from "./log_segment.ts";
 * import { loadReadOnlySegment, refreshReadOnlySegment } from "./read_only_segment.ts";
 * import { encodeRecordBatch } from "../record/record_batch_encoder.ts";
 * const dir = Deno.makeTempDirSync();
 * const first = encodeRecordBatch([{ value: null }, { value: null }], { baseOffset: 0 });
 * const path = `${dir}/00000000000000000000.log`;
 * fs.writeFileSync(path, first);
 * const segment = LogSegment.openReadOnly(dir, 0, 4096);
 * loadReadOnlySegment(segment, 0);
 * assert.deepEqual([segment.size, segment.nextOffset], [first.length, 2]);
 * const second = encodeRecordBatch([{ value: null }], { baseOffset: 2 });
 * fs.appendFileSync(path, new Uint8Array([...second, 1, 2])); // and the start of a torn batch
 * assert.equal(refreshReadOnlySegment(segment), second.length);
 * assert.equal(segment.nextOffset, 3);
 * segment.close();
 * ```
 */
export function loadReadOnlySegment(segment: LogSegment, expectedBaseOffset?: number): void {
  if (segment.placeholder) return;
  const fileBytes = segment.size; // the file's size when `openReadOnly` opened it
  const offsetIndex = OffsetIndex.load(segment.offsetIndex.path, segment.baseOffset, fileBytes);
  const timeIndex = TimeIndex.load(segment.timeIndex.path, segment.baseOffset, Number.MAX_SAFE_INTEGER);
  segment.maxTimestampSoFar = -1;
  segment.offsetOfMaxTimestampSoFar = segment.baseOffset;
  segment.rollingBasedTimestamp = -1;
  let from = 0;
  let expected = expectedBaseOffset;
  if (offsetIndex && timeIndex && offsetIndex.lastEntry) {
    segment.offsetIndex = offsetIndex;
    segment.timeIndex = timeIndex;
    from = offsetIndex.lastEntry.position;
    expected = undefined;
    const lastTime = timeIndex.lastEntry;
    if (lastTime) {
      segment.maxTimestampSoFar = lastTime.timestamp;
      segment.offsetOfMaxTimestampSoFar = lastTime.offset;
    }
  } else {
    segment.offsetIndex = new OffsetIndex(segment.offsetIndex.path, segment.baseOffset);
    segment.timeIndex = new TimeIndex(segment.timeIndex.path, segment.baseOffset);
  }
  segment.size = from;
  segment.nextOffset = segment.baseOffset;
  segment.bytesSinceLastIndexEntry = 0;
  indexBatchesUpTo(segment, fileBytes, expected);
  if (segment.size > 0) segment.rollingBasedTimestamp = segment.firstMaxTimestamp();
}

/**
 * For a read-only segment: picks up the whole batches appended since the last look.
 *
 * @param segment a segment loaded with {@linkcode loadReadOnlySegment}
 * @returns bytes added, or -1 when the file shrank (another process recovered it: reload it)
 */
export function refreshReadOnlySegment(segment: LogSegment): number {
  if (segment.placeholder) return 0;
  const fileBytes = segment.log.sizeInBytes();
  if (fileBytes < segment.size) return -1;
  if (fileBytes === segment.size) return 0;
  const before = segment.size;
  indexBatchesUpTo(segment, fileBytes, segment.size === 0 ? undefined : segment.nextOffset);
  return segment.size - before;
}

/**
 * Where a scan of a segment for `offset` may start: the offset index's entry for it, checked. An
 * entry names a batch's last offset and that batch's start; one that does not (a damaged `.index`,
 * which has no checksum) makes the segment rebuild both indexes from its batch headers, so a
 * damaged index costs a scan, never a wrong answer. The rebuilt indexes are written to their files
 * at once, except by a read-only segment: it leaves them to its owner, who may write them only
 * while no writer holds the partition (`LocalLog`, through `indexFilesStale`).
 *
 * @param segment the segment looked in
 * @param offset the offset looked for
 * @returns a byte position at or before the batch holding `offset` (0: the start)
 */
export function indexedPosition(segment: LogSegment, offset: number): number {
  for (let attempt = 0;; attempt++) {
    const entry = segment.offsetIndex.lookup(offset);
    if (entry.position === 0) return 0;
    const batch = segment.headers(entry.position);
    if (
      batch.nextBatch() && segment.plausible(batch) && batch.baseOffset <= entry.offset &&
      batch.lastOffset >= entry.offset
    ) {
      return entry.position;
    }
    if (attempt > 0) return 0;
    rebuildSegmentIndexes(segment);
    if (segment.log.closed) continue;
    if (segment.readOnly) segment.indexFilesStale = true;
    else segment.flushIndexes();
  }
}

/**
 * Rebuilds both indexes in memory from the batch headers of the written part of a segment's file,
 * as they would have been written (ending with the largest timestamp's entry, as a rolled
 * segment's time index does, and harmless in the active one). What the segment knows of itself
 * (size, next offset, timestamps, pending batches) stays as it is; the caller decides whether the
 * index files may be written.
 *
 * @param segment any segment whose file is open
 */
export function rebuildSegmentIndexes(segment: LogSegment): void {
  const kept = saveSegmentState(segment);
  const written = segment.writtenSize;
  segment.offsetIndex = new OffsetIndex(segment.offsetIndex.path, segment.baseOffset);
  segment.timeIndex = new TimeIndex(segment.timeIndex.path, segment.baseOffset);
  segment.size = 0;
  segment.nextOffset = segment.baseOffset;
  segment.maxTimestampSoFar = -1;
  segment.offsetOfMaxTimestampSoFar = segment.baseOffset;
  segment.bytesSinceLastIndexEntry = 0;
  indexBatchesUpTo(segment, written, segment.baseOffset);
  if (segment.maxTimestampSoFar >= 0) {
    segment.timeIndex.maybeAppend(segment.maxTimestampSoFar, segment.offsetOfMaxTimestampSoFar);
  }
  restoreSegmentState(segment, kept);
}

/**
 * Scans batch headers from the segment's `size` to `fileBytes`, indexing each whole batch in
 * memory, and stops at the first incomplete or implausible one. Reads in chunks, never a batch's
 * records.
 */
function indexBatchesUpTo(segment: LogSegment, fileBytes: number, expected: number | undefined): void {
  const batches = batchesFrom(segment.log, segment.size, fileBytes);
  while (batches.nextBatch()) {
    const baseOffset = batches.baseOffset;
    if (batches.magic !== MAGIC || batches.lastOffsetDelta < 0 || baseOffset < segment.baseOffset) break;
    if (expected !== undefined && (segment.offsetGaps ? baseOffset < expected : baseOffset !== expected)) {
      break;
    }
    const lastOffset = batches.lastOffset;
    const maxTimestamp = batches.maxTimestamp;
    if (segment.rollingBasedTimestamp < 0) segment.rollingBasedTimestamp = maxTimestamp;
    // As in append: an entry only once indexIntervalBytes have passed since the last one (so
    // neither a segment's first batch nor the already indexed batch a load starts from gets one).
    segment.indexBatch(lastOffset, maxTimestamp, lastOffset, batches.position, batches.size);
    expected = lastOffset + 1;
    segment.nextOffset = expected;
    segment.size = batches.nextPosition;
  }
}
