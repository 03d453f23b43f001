/**
 * The index checks of `reel verify` (`verify.ts`): a segment's `.index` and `.timeindex` checked
 * against the batches its `.log` file holds, read-only. Each problem found is reported in words
 * through a callback, as `verify.ts` reports the `.log` file's own.
 *
 * @module
 */
import { OFFSET_INDEX_ENTRY_SIZE, OffsetIndex } from "../../log/offset_index.ts";
import { TIME_INDEX_ENTRY_SIZE, TimeIndex } from "../../log/time_index.ts";
import { readRegularFile } from "../../runtime/file_system.ts";

/** A batch as a scan finds it. */
export interface ScannedBatch {
  position: number;
  size: number;
  baseOffset: number;
  lastOffset: number;
  /** The running largest timestamp in the segment, up to the end of this batch. */
  maxTimestampSoFar: number;
}

/**
 * An index file's name and bytes; `undefined` when it cannot be read (missing, or not a regular
 * file), which is reported, as is a size that is not a whole number of entries.
 */
function readIndexFile(
  path: string,
  entrySize: number,
  problem: (text: string) => void,
): { name: string; bytes: Uint8Array } | undefined {
  const name = path.slice(path.lastIndexOf("/") + 1);
  let bytes: Uint8Array;
  try {
    bytes = readRegularFile(path);
  } catch {
    problem(`${name}: missing (an open rebuilds it)`);
    return undefined;
  }
  if (bytes.length % entrySize !== 0) {
    problem(`${name}: ${bytes.length} bytes is not a whole number of ${entrySize}-byte entries`);
  }
  return { name, bytes };
}

/** The batch holding `offset`, by binary search over batches sorted by offset. */
function batchHolding(batches: ScannedBatch[], offset: number): ScannedBatch | undefined {
  let lo = 0, hi = batches.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const b = batches[mid];
    if (offset < b.baseOffset) hi = mid - 1;
    else if (offset > b.lastOffset) lo = mid + 1;
    else return b;
  }
  return undefined;
}

/** Checks a segment's `.index` file against its batches (`batches`: as the `.log` scan found them). */
export function verifyOffsetIndex(
  path: string,
  base: number,
  batches: ScannedBatch[],
  problem: (text: string) => void,
): void {
  const file = readIndexFile(path, OFFSET_INDEX_ENTRY_SIZE, problem);
  if (file === undefined) return;
  const { name, bytes } = file;
  const byPosition = new Map(batches.map((b) => [b.position, b]));
  let lastOffset = -1, lastPosition = -1, entry = -1;
  for (const { offset, position } of OffsetIndex.entries(bytes, base)) {
    entry++;
    if (offset < base || offset <= lastOffset || position <= lastPosition) {
      problem(
        `${name} entry ${entry}: (offset ${offset}, position ${position}) does not follow the entry before it`,
      );
      return;
    }
    lastOffset = offset;
    lastPosition = position;
    const batch = byPosition.get(position);
    if (batch === undefined) {
      problem(`${name} entry ${entry}: position ${position} is not the start of a batch`);
      return;
    }
    if (offset < batch.baseOffset || offset > batch.lastOffset) {
      problem(
        `${name} entry ${entry}: offset ${offset} is not in the batch at position ${position} (offsets ${batch.baseOffset} to ${batch.lastOffset})`,
      );
      return;
    }
  }
}

/** Checks a segment's `.timeindex` file against its batches (`batches`: as the `.log` scan found them). */
export function verifyTimeIndex(
  path: string,
  base: number,
  batches: ScannedBatch[],
  problem: (text: string) => void,
): void {
  const file = readIndexFile(path, TIME_INDEX_ENTRY_SIZE, problem);
  if (file === undefined) return;
  const { name, bytes } = file;
  let lastTimestamp = -Infinity, lastOffset = -1, entry = -1;
  for (const { timestamp, offset } of TimeIndex.entries(bytes, base)) {
    entry++;
    if (timestamp < lastTimestamp || offset < lastOffset) {
      problem(
        `${name} entry ${entry}: (timestamp ${timestamp}, offset ${offset}) goes back from the entry before it`,
      );
      return;
    }
    lastTimestamp = timestamp;
    lastOffset = offset;
    const batch = batchHolding(batches, offset);
    if (batch === undefined) {
      problem(`${name} entry ${entry}: offset ${offset} is not in the segment`);
      return;
    }
    if (timestamp !== batch.maxTimestampSoFar) {
      problem(
        `${name} entry ${entry}: timestamp ${timestamp} is not the largest timestamp up to offset ${offset} (${batch.maxTimestampSoFar})`,
      );
      return;
    }
  }
}
