/**
 * What one round of the log cleaner covers (Kafka's `LogCleanerManager.cleanableOffsets` and
 * `Cleaner.groupSegmentsBySize`): the cleanable range of a partition's log, from the cleaner
 * checkpoint to the first uncleanable offset, and the groups of segments cleaned into one each.
 * Internal to `log_cleaner.ts`.
 *
 * @module
 */
import { CLEANER_OFFSET_CHECKPOINT, readCheckpoint } from "./checkpoint.ts";
import type { LogConfig } from "./log_config.ts";
import type { LogSegment } from "./log_segment.ts";

/** What the range needs of a partition's log (the cleaner's `CleanableLog` has it). */
export interface RangeLog {
  /** The partition directory (where the cleaner checkpoint is). */
  readonly dir: string;
  /** The topic name. */
  readonly topic: string;
  /** The partition number. */
  readonly partition: number;
  /** The log's settings (`minCompactionLagMs`). */
  readonly config: LogConfig;
  /** The first offset still in the log. */
  readonly logStartOffset: number;
  /** The end of what readers may see: never cleaned past. */
  readonly highWatermark: number;
}

/**
 * Which segments one round cleans and from where (Kafka's `LogCleanerManager.cleanableOffsets`):
 * `undefined` when nothing is cleanable.
 *
 * @param log the partition's log
 * @param segments its segments, oldest first (the last is the active one)
 * @param now the round's time, ms since the epoch (for `minCompactionLagMs`)
 * @returns the first dirty offset (the checkpoint, or the log start offset), the first uncleanable
 *   offset, and the bytes of the dirty and clean segments below it
 */
export function cleanableRange(
  log: RangeLog,
  segments: readonly LogSegment[],
  now: number,
): { firstDirty: number; firstUncleanable: number; dirtyBytes: number; cleanBytes: number } | undefined {
  const active = segments[segments.length - 1];
  const checkpoint = readCheckpoint(`${log.dir}/${CLEANER_OFFSET_CHECKPOINT}`, log.topic, log.partition);
  // A checkpoint outside the log (retention moved the start past it, or it was lost) restarts
  // from the log start offset, as Kafka does.
  const firstDirty =
    checkpoint === undefined || checkpoint < log.logStartOffset || checkpoint > active.baseOffset
      ? log.logStartOffset
      : checkpoint;
  let firstUncleanable = active.baseOffset;
  for (const segment of segments) {
    if (segment === active || segment.baseOffset >= firstUncleanable) break;
    const end = segment.nextOffset;
    // Never clean past the high watermark, nor records younger than minCompactionLagMs.
    if (end > log.highWatermark) {
      firstUncleanable = segment.baseOffset;
      break;
    }
    if (
      segment.baseOffset >= firstDirty && log.config.minCompactionLagMs > 0 &&
      segment.largestTimestamp > now - log.config.minCompactionLagMs
    ) {
      firstUncleanable = segment.baseOffset;
      break;
    }
  }
  if (firstUncleanable <= firstDirty) return undefined;
  let dirtyBytes = 0, cleanBytes = 0;
  for (const segment of segments) {
    if (segment.baseOffset >= firstUncleanable) break;
    if (segment.baseOffset >= firstDirty) dirtyBytes += segment.size;
    else cleanBytes += segment.size;
  }
  return { firstDirty, firstUncleanable, dirtyBytes, cleanBytes };
}

/**
 * Groups the segments below `end` so that each group's bytes fit in one segment of `maxBytes`
 * and its offsets in an index's int32 relative offsets (Kafka's `Cleaner.groupSegmentsBySize`).
 *
 * @param segments the log's segments, oldest first
 * @param end the first uncleanable offset: segments from it on are left out
 * @param maxBytes the most bytes of one group (`segmentBytes`)
 * @returns the groups, in order
 */
export function groupSegmentsBySize(
  segments: readonly LogSegment[],
  end: number,
  maxBytes: number,
): LogSegment[][] {
  const groups: LogSegment[][] = [];
  let group: LogSegment[] = [];
  let bytes = 0;
  for (const segment of segments) {
    if (segment.baseOffset >= end) break;
    const fits = group.length > 0 && bytes + segment.size <= maxBytes &&
      segment.nextOffset - 1 - group[0].baseOffset <= 0x7fffffff;
    if (group.length > 0 && !fits) {
      groups.push(group);
      group = [];
      bytes = 0;
    }
    group.push(segment);
    bytes += segment.size;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}
