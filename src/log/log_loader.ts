/**
 * Opening a partition's log (Kafka's `LogLoader`): the segments found on disk, checked and, for a
 * writer, recovered (a torn tail cut, damage below the recovery point reported and never cut,
 * indexes rebuilt), the clean-shutdown marker read and removed, and the files a reader must not
 * change left alone.
 *
 * @module
 */
import { CorruptRecordError } from "../errors.ts";
import {
  assertRegularFiles,
  entryStatus,
  fileIdentity,
  fileSize,
  fs,
  listDirectory,
  removeFile,
  syncDirectory,
} from "../runtime/file_system.ts";
import {
  CLEAN_SHUTDOWN_FILE,
  CLEANER_OFFSET_CHECKPOINT,
  HIGH_WATERMARK_FILE,
  LOG_START_OFFSET_CHECKPOINT,
  openHighWatermark,
  readCheckpoint,
  readCleanShutdown,
  RECOVERY_POINT_CHECKPOINT,
  writeCheckpoint,
  writeCleanShutdown,
  writeHighWatermark,
} from "./checkpoint.ts";
import { completeInterruptedSwaps } from "./_complete_interrupted_swaps.ts";
import type { LogConfig } from "./log_config.ts";
import { WRITER_LOCK_FILE } from "./local_log.ts";
import { LogSegment } from "./log_segment.ts";
import { checkSegmentTail, loadSegmentIndexes, recoverSegment } from "./recover_segment.ts";
import { loadReadOnlySegment } from "./read_only_segment.ts";
import { PARTITION_METADATA_FILE } from "./partition_metadata_file.ts";
import { snapshotOffsets } from "./producer_state.ts";

/** What opening a partition found and did (`PartitionLog.loadReport`). */
export interface LoadReport {
  /** Whether the clean-shutdown marker let the open skip every scan. */
  clean: boolean;
  /** Segments validated batch by batch. */
  segmentsRecovered: number;
  /** Bytes cut from torn or corrupt tails (including segments deleted after them). */
  truncatedBytes: number;
}

/** Whether an error says the file system takes no writes: read-only, full, or not permitted. */
export function isUnwritable(err: unknown): boolean {
  const code = ((err as { cause?: { code?: string } }).cause ?? (err as { code?: string }))?.code;
  return code === "EROFS" || code === "ENOSPC" || code === "EDQUOT" || code === "EACCES" || code === "EPERM";
}

/**
 * Whether a partition directory's entry is one of the files reel reads or writes there: segments
 * and their indexes, checkpoints, the clean-shutdown marker, the published high watermark, the
 * writer lock and `partition.metadata`. Each must be a regular file.
 */
function isLogFileName(name: string): boolean {
  return /^\d{20}\.(log|index|timeindex|txnindex|snapshot)$/.test(name) ||
    [
      RECOVERY_POINT_CHECKPOINT,
      LOG_START_OFFSET_CHECKPOINT,
      CLEANER_OFFSET_CHECKPOINT,
      CLEAN_SHUTDOWN_FILE,
      HIGH_WATERMARK_FILE,
      WRITER_LOCK_FILE,
      PARTITION_METADATA_FILE,
    ].includes(name);
}

export interface Loaded {
  segments: LogSegment[];
  logStartOffset: number;
  report: LoadReport;
  markerPresent: boolean;
  /** Damage found and left in place (never cut: it holds durable records). */
  damage: CorruptRecordError[];
  /** For a load for writing: the offsets of the producer-state snapshots its listing found. */
  snapshotOffsets?: number[];
  /** Set when the active segment is damaged in the middle: every write fails with it. */
  writeRefused?: CorruptRecordError;
  /** Whether the log has been compacted (it has a cleaner checkpoint): offsets may have gaps. */
  offsetGaps?: boolean;
  /**
   * The identity (`fileIdentity`) of the partition's cleaner checkpoint, `undefined` when there
   * is none: for a load for reading, as it was before the directory was listed. The writer's
   * cleaner rewrites it after every swap, so a reader whose stamp differs reloads.
   */
  cleanerStamp: string | undefined;
}

/** Blocks this thread for `ms` (a reader waiting out another process's segment swap). */
function pauseSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Whether a partition may have been compacted: it has its own cleaner checkpoint (reel's), or the
 * log directory's checkpoint names it (Kafka's: one `cleaner-offset-checkpoint` per log directory).
 *
 * @param dir the partition directory
 * @param topic the topic name
 * @param partition the partition number
 * @param names the partition directory's entries, when the caller has just listed them (under the
 *   writer lock, where no other process adds or removes the checkpoint): no `stat` then
 * @returns whether readers must accept offset gaps
 * @example A partition never compacted has no gaps
 * ```ts
 * import assert from "node:assert/strict";
 * import { hasOffsetGaps } from "./log_loader.ts";
 * assert.equal(hasOffsetGaps(Deno.makeTempDirSync() + "/events-0", "events", 0), false);
 * ```
 */
export function hasOffsetGaps(
  dir: string,
  topic: string,
  partition: number,
  names?: readonly string[],
): boolean {
  if (
    names ? names.includes(CLEANER_OFFSET_CHECKPOINT) : fileSize(`${dir}/${CLEANER_OFFSET_CHECKPOINT}`) >= 0
  ) {
    return true;
  }
  const parent = dir.slice(0, Math.max(0, dir.lastIndexOf("/"))) || ".";
  return readCheckpoint(`${parent}/${CLEANER_OFFSET_CHECKPOINT}`, topic, partition) !== undefined;
}

/**
 * Whether opening a partition would recover or repair something: no clean-shutdown marker, or
 * one that does not match the active segment, a segment without its indexes, or files a crash
 * left (`.deleted`, `.cleaned`, `.swap`, `.tmp`). A quick look (one directory listing, one small
 * read, one stat) that `open()` uses to recover such partitions at once, as Kafka's broker does
 * at startup, and leave the others to their first use. Something that is not a directory gives
 * `false`: its first use reports it.
 *
 * @param dir the partition directory
 * @returns whether the partition should be opened now
 * @example A partition closed cleanly needs nothing; one whose active segment changed does
 * ```ts
 * import assert from "node:assert/strict";
 * import * as fs from "node:fs";
 * import { PartitionLog } from "./partition_log.ts";
 * import { resolveLogConfig } from "./log_config.ts";
 * import { encodeRecordBatch } from "../record/record_batch_encoder.ts";
 * import { needsRecovery } from "./log_loader.ts";
 * const dir = Deno.makeTempDirSync() + "/events-0";
 * const log = PartitionLog.open(dir, "events", 0, resolveLogConfig());
 * await log.append(encodeRecordBatch([{ value: new Uint8Array(10) }]));
 * await log.close();
 * assert.equal(needsRecovery(dir), false);
 * fs.truncateSync(`${dir}/00000000000000000000.log`, 5); // a torn tail
 * assert.equal(needsRecovery(dir), true);
 * ```
 */
export function needsRecovery(dir: string): boolean {
  let names: string[];
  try {
    if (entryStatus(dir).kind !== "directory") return false;
    names = listDirectory(dir).names;
  } catch {
    return true;
  }
  const present = new Set(names);
  let active = -1, segments = 0;
  for (const name of names) {
    if (/\.(deleted|cleaned|swap|tmp)$/.test(name)) return true;
    const m = /^(\d{20})\.log$/.exec(name);
    if (!m) continue;
    if (!present.has(`${m[1]}.index`) || !present.has(`${m[1]}.timeindex`)) return true;
    active = Math.max(active, Number(m[1]));
    segments++;
  }
  if (active < 0) return true;
  const activeSize = fileSize(`${dir}/${String(active).padStart(20, "0")}.log`);
  const marker = readCleanShutdown(`${dir}/${CLEAN_SHUTDOWN_FILE}`);
  // A new partition (one empty segment at 0, as createTopic makes it) has nothing to recover.
  if (marker === undefined) return !(segments === 1 && active === 0 && activeSize === 0);
  return marker.activeBaseOffset !== active || activeSize !== marker.activeSize;
}

/**
 * Kafka's `LogLoader`: loads a partition's segments for writing, recovering what the last writer
 * left unclean. Call only with the writer lock held: it may cut files and rebuild indexes.
 */
export function loadForWriting(dir: string, topic: string, partition: number, config: LogConfig): Loaded {
  // Under the writer lock the listing is what there is: no other process adds or removes the
  // files a writer owns, so a file it does not name is not looked for (see `hasOffsetGaps`).
  const listing = listDirectory(dir);
  assertRegularFiles(dir, listing.names.filter(isLogFileName), listing.regularFiles);
  const names = completeInterruptedSwaps(dir, listing.names);
  const offsetGaps = hasOffsetGaps(dir, topic, partition, names);
  const bases: number[] = [];
  for (const name of names) {
    const m = /^(\d{20})\.log$/.exec(name);
    if (m) bases.push(Number(m[1]));
  }
  bases.sort((a, b) => a - b);
  const known = new Set(bases.map((b) => String(b).padStart(20, "0")));
  for (const name of names) {
    const m = /^(\d{20})\.(index|timeindex)$/.exec(name);
    if (m && !known.has(m[1])) removeFile(`${dir}/${name}`);
  }

  const report: LoadReport = { clean: false, segmentsRecovered: 0, truncatedBytes: 0 };
  const markerPath = `${dir}/${CLEAN_SHUTDOWN_FILE}`;
  let marker = readCleanShutdown(markerPath);
  const recoveryPoint = readCheckpoint(`${dir}/${RECOVERY_POINT_CHECKPOINT}`, topic, partition) ?? 0;
  let logStartOffset = readCheckpoint(`${dir}/${LOG_START_OFFSET_CHECKPOINT}`, topic, partition);
  const segments: LogSegment[] = [];
  const maxBatch = Math.max(config.maxMessageBytes, 1 << 20) * 2;
  const damage: CorruptRecordError[] = [];
  let writeRefused: CorruptRecordError | undefined;

  if (bases.length === 0) {
    const base = logStartOffset ?? 0;
    segments.push(LogSegment.create(dir, base, config.indexIntervalBytes));
    report.clean = true;
  } else {
    for (const base of bases) segments.push(LogSegment.open(dir, base, config.indexIntervalBytes));
    for (const segment of segments) segment.offsetGaps = offsetGaps;
    const active = segments[segments.length - 1];
    if (marker === undefined && isNewLog(segments)) {
      marker = { version: 0, logEndOffset: 0, activeBaseOffset: 0, activeSize: 0 };
    }
    const clean = marker !== undefined && marker.activeBaseOffset === active.baseOffset &&
      marker.activeSize === active.size && marker.logEndOffset >= active.baseOffset;
    report.clean = clean;
    // Offsets below this were fsynced and checkpointed: bytes holding them are never cut to make
    // room for new offsets, unless they are a torn tail (nothing valid after them).
    const durableOffset = clean ? Math.max(recoveryPoint, marker!.logEndOffset) : recoveryPoint;
    let expected = segments[0].baseOffset;
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i];
      const next = segments[i + 1];
      const trusted = clean || (next !== undefined && next.baseOffset <= recoveryPoint);
      if (trusted) {
        segment.nextOffset = next ? next.baseOffset : marker!.logEndOffset;
        // The active segment is where the next append goes: its tail is checked even after a
        // clean close, so that no append ever lands after bytes nobody validated.
        if (loadSegmentIndexes(segment) && (next !== undefined || checkSegmentTail(segment, maxBatch))) {
          expected = segment.nextOffset;
          continue;
        }
      }
      // Damage below the durable offset is never cut, except a torn tail of the active segment
      // after a crash (a file cut short: nothing valid after it): the index is rebuilt over the
      // valid batches, and the damage reported. After a clean close the active segment's size
      // matched the marker, so invalid bytes there are damage, not a torn write.
      const result = recoverSegment(segment, maxBatch, Math.max(expected, segment.baseOffset), {
        durableOffset,
        cutTornTail: next === undefined && !clean,
      });
      report.segmentsRecovered++;
      report.truncatedBytes += result.truncatedBytes;
      expected = result.nextOffset;
      let found = result.damage;
      // A compacted segment may end before the next begins: its last records were cleaned away.
      if (offsetGaps && next && !found && result.truncatedBytes === 0 && expected <= next.baseOffset) {
        segment.nextOffset = expected = next.baseOffset;
        continue;
      }
      if (!found && next && expected < next.baseOffset && expected < durableOffset) {
        // A sealed segment that ends early below the recovery point lost durable records: report
        // it rather than delete the segments after it.
        found = {
          position: result.validBytes,
          offset: expected,
          detail:
            `the segment ends at offset ${expected}, the next segment begins at offset ${next.baseOffset}`,
        };
      }
      if (found) {
        const error = new CorruptRecordError(found.detail, {
          topic,
          partition,
          segment: segment.logPath,
          position: found.position,
        });
        damage.push(error);
        if (next !== undefined) {
          segment.nextOffset = expected = next.baseOffset;
          continue;
        }
        // Damage in the middle of the active segment: appending after it would hand out offsets a
        // later recovery could take back, and cutting it would lose durable records. The
        // partition refuses writes; reads up to the damage work.
        segment.nextOffset = expected = Math.max(expected, clean ? marker!.logEndOffset : 0);
        writeRefused = error;
        break;
      }
      // A cut tail, or a segment that does not end where the next begins (a power loss emptied
      // part of it): everything after it goes, so offsets stay dense.
      if (result.truncatedBytes > 0 || (next && result.nextOffset !== next.baseOffset)) {
        for (const later of segments.splice(i + 1)) {
          report.truncatedBytes += later.size;
          later.delete();
        }
        break;
      }
    }
    // An empty active segment whose name does not match the log end offset (its predecessor
    // lost its tail) is replaced, so that segment names stay true base offsets.
    const last = segments[segments.length - 1];
    if (
      segments.length > 1 && last.size === 0 &&
      last.baseOffset !== segments[segments.length - 2].nextOffset &&
      !offsetGaps
    ) {
      segments.pop()!.delete();
    }
    for (const segment of segments.slice(0, -1)) segment.onBecomeInactiveSegment();
  }
  if (logStartOffset === undefined || logStartOffset < segments[0].baseOffset) {
    logStartOffset = segments[0].baseOffset;
  }
  const logEnd = segments[segments.length - 1].nextOffset;
  if (logStartOffset > logEnd) logStartOffset = logEnd;
  return {
    segments,
    logStartOffset,
    report,
    markerPresent: names.includes(CLEAN_SHUTDOWN_FILE),
    damage,
    writeRefused,
    offsetGaps,
    snapshotOffsets: snapshotOffsets(dir, names),
    cleanerStamp: names.includes(CLEANER_OFFSET_CHECKPOINT)
      ? fileIdentity(`${dir}/${CLEANER_OFFSET_CHECKPOINT}`)
      : undefined,
  };
}

/**
 * Loads a partition's segments for reading while another process may be writing it: changes no
 * file, trusts no marker, and ends the log at the last whole batch of the active segment. While
 * the writer's log cleaner swaps segments in (a `.swap` file is there) it waits for the swap to
 * end, up to about a second.
 */
export function loadForReading(dir: string, topic: string, partition: number, config: LogConfig): Loaded {
  let swapWaits = 0;
  for (let attempt = 0;; attempt++) {
    const cleanerStamp = fileIdentity(`${dir}/${CLEANER_OFFSET_CHECKPOINT}`);
    let names: string[], regularFiles: Set<string> | undefined;
    try {
      ({ names, regularFiles } = listDirectory(dir));
    } catch (err) {
      if ((err as { code?: string }).code !== "ENOENT") throw err;
      names = [];
    }
    // The writer's log cleaner is swapping segments in (`.swap` present: the old segments may be
    // half renamed away): a few file renames, done in milliseconds. Wait for them (at most about
    // a second: a writer that died mid-swap leaves the `.swap` to the next writer's loader).
    if (swapWaits < 200 && names.some((n) => n.endsWith(".swap"))) {
      swapWaits++;
      attempt--;
      pauseSync(5);
      continue;
    }
    assertRegularFiles(dir, names.filter(isLogFileName), regularFiles);
    const bases = names.map((n) => /^(\d{20})\.log$/.exec(n)).filter((m) => m !== null)
      .map((m) => Number(m[1])).sort((a, b) => a - b);
    const checkpoint = readCheckpoint(`${dir}/${LOG_START_OFFSET_CHECKPOINT}`, topic, partition);
    const marker = readCleanShutdown(`${dir}/${CLEAN_SHUTDOWN_FILE}`);
    const segments: LogSegment[] = [];
    const offsetGaps = hasOffsetGaps(dir, topic, partition, names);
    try {
      for (const base of bases) segments.push(LogSegment.openReadOnly(dir, base, config.indexIntervalBytes));
    } catch (err) {
      // A segment deleted (retention, recovery) between the listing and the open: look again.
      for (const s of segments) s.closeHandle();
      if ((err as { code?: string }).code === "ENOENT" && attempt < 10) continue;
      throw err;
    }
    if (segments.length === 0) {
      segments.push(new LogSegment(dir, checkpoint ?? 0, config.indexIntervalBytes));
    }
    for (const segment of segments) {
      segment.offsetGaps = offsetGaps;
      loadReadOnlySegment(segment);
    }
    for (let i = 0; i + 1 < segments.length; i++) {
      // A sealed segment ends where the next begins, whatever a half-flushed index says.
      segments[i].nextOffset = Math.max(segments[i].nextOffset, segments[i + 1].baseOffset);
    }
    const active = segments[segments.length - 1];
    let logStartOffset = Math.max(checkpoint ?? 0, segments[0].baseOffset);
    if (logStartOffset > active.nextOffset) logStartOffset = active.nextOffset;
    const clean = (marker !== undefined && marker.activeBaseOffset === active.baseOffset &&
      marker.activeSize === active.size && marker.logEndOffset === active.nextOffset) ||
      (marker === undefined && isNewLog(segments));
    return {
      segments,
      logStartOffset,
      report: { clean, segmentsRecovered: 0, truncatedBytes: 0 },
      markerPresent: marker !== undefined,
      damage: [],
      offsetGaps,
      cleanerStamp,
    };
  }
}

/** A new partition's segments (one empty at 0, as createTopic makes them): clean without a marker. */
const isNewLog = (s: readonly LogSegment[]) => s.length === 1 && s[0].baseOffset === 0 && s[0].size === 0;

export function removeCleanShutdownMarker(dir: string): void {
  const markerPath = `${dir}/${CLEAN_SHUTDOWN_FILE}`;
  if (fileSize(markerPath) >= 0) {
    removeFile(markerPath);
    syncDirectory(dir);
  }
}

/**
 * After a load under a lock that is about to be released: make the log clean (indexes written,
 * segments fsynced, checkpoints, the clean-shutdown marker and, with `publish`, the high watermark
 * written) unless it is already, so that the next writer scans nothing; then mark the segments
 * read-only. A new partition is left as it is: writing its marker would cost six fsyncs.
 */
export function leaveClean(
  dir: string,
  topic: string,
  partition: number,
  loaded: Loaded,
  publish: boolean,
): void {
  const { segments } = loaded;
  const active = segments[segments.length - 1];
  if (!loaded.report.clean || !(loaded.markerPresent || isNewLog(segments))) {
    for (const segment of segments) {
      segment.onBecomeInactiveSegment();
      segment.flushSync(true);
    }
    if (publish) {
      // Everything recovered is fsynced now: readers may see it all (a writer that died between
      // an fdatasync and publishing it left the published high watermark behind).
      const fd = openHighWatermark(`${dir}/${HIGH_WATERMARK_FILE}`);
      try {
        writeHighWatermark(fd, active.nextOffset);
      } finally {
        fs.closeSync(fd);
      }
    }
    writeCheckpoint(`${dir}/${RECOVERY_POINT_CHECKPOINT}`, topic, partition, active.nextOffset);
    writeCheckpoint(`${dir}/${LOG_START_OFFSET_CHECKPOINT}`, topic, partition, loaded.logStartOffset);
    writeCleanShutdown(`${dir}/${CLEAN_SHUTDOWN_FILE}`, {
      version: 0,
      logEndOffset: active.nextOffset,
      activeBaseOffset: active.baseOffset,
      activeSize: active.size,
    });
  }
  for (const segment of segments) segment.readOnly = true;
}
