/**
 * Log compaction (Kafka's `LogCleaner`, `Cleaner` and `LogCleanerManager`, for one partition):
 * keeps at least the last record of every key, in offset order, with offsets unchanged.
 *
 * One cleaning round:
 * 1. The cleanable range: from the cleaner checkpoint (`cleaner-offset-checkpoint`, the first
 *    dirty offset) to the first uncleanable offset: the active segment's base offset, or the base
 *    of the first segment holding the high watermark or records younger than `minCompactionLagMs`.
 *    The round runs when the dirty part is at least `minCleanableDirtyRatio` of the cleanable log,
 *    when a dirty record is older than `maxCompactionLagMs`, or when forced (`topic.compact()`).
 * 2. The offset map: each key's last offset in the dirty part.
 * 3. The segments below the first uncleanable offset, in groups of at most `segmentBytes`, are
 *    copied into one `.cleaned` segment per group, keeping a record when no later record of its
 *    key lies in the dirty part. Dropped as well: records without a key (as Kafka's cleaner drops
 *    them) and tombstones (null values) whose batch's delete horizon has passed (KIP-534, as
 *    Kafka's `Cleaner.shouldRetainRecord`): the first round that keeps a batch holding a tombstone
 *    writes it with the horizon = the round's time + `deleteRetentionMs` (attributes bit 6, the
 *    horizon in baseTimestamp, records keeping their own timestamps: Kafka's
 *    `MemoryRecords.filterTo`), and a later round drops its tombstones once its time is at or past
 *    the horizon. A batch re-encoded later keeps its horizon. A batch keeps its base
 *    offset, last offset delta, producer id, epoch and base sequence; a batch left with no record
 *    goes, except an idempotent producer's last batch (kept empty, as Kafka keeps it) and the
 *    group's last batch (kept empty so that the cleaned segment still ends where the group ended).
 *    Transactional and control batches are kept whole, and their records do not count as later
 *    records of a key.
 * 4. The swap, crash-safe as Kafka's `LocalLog.replaceSegments`: `.cleaned` is fsynced and renamed
 *    `.swap`; the old segments' files are renamed `.deleted`; `.swap` is renamed `.log`, its
 *    indexes built; the `.deleted` files are removed. A crash before the `.swap` rename reopens to
 *    the old segments (the loader removes `.cleaned`); after it, to the new (the loader deletes the
 *    old segments the swap covers and completes the rename).
 * 5. After each swap the checkpoint is rewritten (its offset unchanged): a reader in another
 *    process sees the file change and loads its segments afresh; one that reads a segment
 *    through a descriptor closed meanwhile finds the file replaced (`ESTALE`) or gone and does
 *    the same. After the last group, the checkpoint moves to the first uncleanable offset.
 *
 * @module
 */
import { CorruptRecordError, StorageError } from "../errors.ts";
import type { Record } from "../record/record.ts";
import {
  DELETE_HORIZON_MASK,
  readRecordBatchHeader,
  type RecordBatchHeader,
} from "../record/record_batch.ts";
import { decodeRecordBatch } from "../record/record_batch_decoder.ts";
import { encodeRetainedRecordBatch } from "../record/record_batch_encoder.ts";
import {
  datasync,
  fileSize,
  fs,
  openFile,
  removeFile,
  renameFile,
  syncDirectory,
  writeFully,
} from "../runtime/file_system.ts";
import { CLEANER_OFFSET_CHECKPOINT, writeCheckpoint } from "./checkpoint.ts";
import { cleanableRange, groupSegmentsBySize, type RangeLog } from "./_cleanable_range.ts";
import { batchesFrom } from "./file_records.ts";
import { compacts, type LogConfig } from "./log_config.ts";
import { filenamePrefixFromOffset, LogSegment } from "./log_segment.ts";
import { recoverSegment } from "./recover_segment.ts";

/**
 * What the cleaner needs of a partition's log ({@linkcode PartitionLog} gives it): what the cleanable
 * range needs, and the segments to clean and swap.
 */
export interface CleanableLog extends RangeLog {
  /** The segments now, oldest first (the last is the active one). */
  readonly segments: readonly LogSegment[];
  /** Whether the log was closed (the round stops). */
  readonly closed: boolean;
  /** Puts `cleaned` in place of `old` (consecutive segments still in the log). */
  replaceSegments(cleaned: LogSegment, old: readonly LogSegment[]): void;
  /** Makes every reader of the log accept offset gaps (before the first swap). */
  allowOffsetGaps(): void;
  /** Each idempotent producer's last batch's last offset. */
  lastProducerOffsets(): ReadonlyMap<number, number>;
}

/** What one cleaning round did (Kafka's `CleanerStats`). */
export interface CleanerStats {
  /** Whether the round ran (false: nothing cleanable, or not dirty enough). */
  cleaned: boolean;
  /** The first dirty offset the round started from. */
  firstDirtyOffset: number;
  /** The first offset not cleaned: the cleaner checkpoint after the round. */
  firstUncleanableOffset: number;
  /** Segments read. */
  segmentsCleaned: number;
  /** Segments written (one per group). */
  segmentsWritten: number;
  /** Bytes read from the old segments. */
  bytesRead: number;
  /** Bytes written to the cleaned segments. */
  bytesWritten: number;
  /** Records read. */
  recordsRead: number;
  /** Records kept. */
  recordsKept: number;
  /** Distinct keys in the dirty part. */
  keys: number;
  /** Wall time of the round, ms. */
  durationMs: number;
}

/** Options of {@linkcode cleanLog}. */
export interface CleanOptions {
  /** The time the round takes as now, ms since the epoch. @default Date.now() */
  now?: number;
  /** Clean whatever the dirty ratio (`topic.compact()`). @default false */
  force?: boolean;
  /**
   * Called between steps of about `stepBytes`: the round gives the event loop back there, so that
   * appends are never held up for long. @default a macrotask (`setTimeout(0)`)
   */
  pause?: () => Promise<void>;
  /** Bytes read between two pauses. @default 1048576 */
  stepBytes?: number;
}

/** Thrown inside a round when the log changed under it (closed, segments deleted): the round stops. */
class CleaningAborted extends Error {}

const macrotask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** The logs whose round {@linkcode compactInBackground} started and that still runs. */
const inBackground = new WeakSet<object>();

/**
 * Starts a cleaning round in the background (not forced: only when dirty enough) for a log whose
 * cleanup policy compacts, unless the one it started before still runs: the retention check
 * calls it at every tick, and a round may outlast the interval. A failed round is dropped (the
 * next tick tries again).
 *
 * @param log the partition's log (`PartitionLog`)
 * @returns whether a round was started
 * @example One round at a time
 * ```ts
 * import assert from "node:assert/strict";
 * import { PartitionLog } from "./partition_log.ts";
 * import { resolveLogConfig } from "./log_config.ts";
 * import { compactInBackground } from "./log_cleaner.ts";
 * const log = PartitionLog.open(Deno.makeTempDirSync() + "/t-0", "t", 0, resolveLogConfig({ cleanupPolicy: "compact" }));
 * assert.equal(compactInBackground(log), true);
 * assert.equal(compactInBackground(log), false); // the first still runs
 * await log.close();
 * ```
 */
export function compactInBackground(
  log: { readonly config: LogConfig; compact(options: CleanOptions): Promise<CleanerStats> },
): boolean {
  if (!compacts(log.config.cleanupPolicy) || inBackground.has(log)) return false;
  inBackground.add(log);
  // A background round that fails leaves the log as it was (the swap is all or nothing) and the
  // next retention check tries again; a caller who wants the error calls compact() itself.
  log.compact({ force: false }).catch(() => {}).finally(() => inBackground.delete(log));
  return true;
}

/** The latin-1 string of a key's bytes (one char per byte: distinct keys stay distinct). */
function keyString(key: Uint8Array): string {
  let s = "";
  for (let i = 0; i < key.length; i += 4096) {
    s += String.fromCharCode.apply(null, key.subarray(i, i + 4096) as unknown as number[]);
  }
  return s;
}

/**
 * The whole batches of a segment, read in chunks of about `chunkBytes`: each is the chunk, the
 * batch's byte position in it and its size.
 */
function* batchesOf(segment: LogSegment, chunkBytes: number): Generator<[Uint8Array, number, number]> {
  const batches = batchesFrom(segment, 0, segment.size, { chunkBytes, whole: true });
  while (batches.nextBatch()) yield [batches.bytes, batches.at, batches.size];
  if (batches.stop === "size") {
    throw new CorruptRecordError(batches.detail, { segment: segment.logPath, position: batches.position });
  }
  if (batches.stop === "cut") {
    throw new CorruptRecordError(
      `the batch needs ${batches.size} bytes, ${segment.size - batches.position} remain`,
      { segment: segment.logPath, position: batches.position },
    );
  }
}

/**
 * Runs one cleaning round over a log whose cleanup policy compacts (see the module doc).
 *
 * @param log the partition's log, as {@linkcode CleanableLog}
 * @param options now, force, pause, stepBytes
 * @returns what the round did
 * @throws {StorageError} when a file cannot be read, written or renamed; the `.cleaned` file is
 *   removed, and what was swapped in before stays (each swap is whole)
 * @throws {CorruptRecordError} when a batch in the range being cleaned is damaged
 * @example Compact a log of three values of one key
 * ```ts
 * import assert from "node:assert/strict";
 * import { PartitionLog } from "./partition_log.ts";
 * import { resolveLogConfig } from "./log_config.ts";
 * import { encodeRecordBatch } from "../record/record_batch_encoder.ts";
 * const config = resolveLogConfig({ cleanupPolicy: "compact" });
 * const log = PartitionLog.open(Deno.makeTempDirSync() + "/users-0", "users", 0, config);
 * const key = new TextEncoder().encode("user-1");
 * for (const v of [1, 2, 3]) {
 *   await log.append(encodeRecordBatch([{ key, value: new Uint8Array([v]) }]));
 *   log.roll();
 * }
 * const stats = await log.compact();
 * assert.equal(stats.recordsKept, 1); // offsets 0 and 1 are superseded by offset 2
 * const data = log.read(0, 1 << 20)!;
 * assert.deepEqual(log.decode(data, 0).map((r) => [r.offset, r.value![0]]), [[2, 3]]);
 * await log.close();
 * ```
 */
export async function cleanLog(log: CleanableLog, options: CleanOptions = {}): Promise<CleanerStats> {
  const started = performance.now();
  const now = options.now ?? Date.now();
  const pause = options.pause ?? macrotask;
  const stepBytes = options.stepBytes ?? 1 << 20;
  const segments = [...log.segments];
  const stats: CleanerStats = {
    cleaned: false,
    firstDirtyOffset: log.logStartOffset,
    firstUncleanableOffset: log.logStartOffset,
    segmentsCleaned: 0,
    segmentsWritten: 0,
    bytesRead: 0,
    bytesWritten: 0,
    recordsRead: 0,
    recordsKept: 0,
    keys: 0,
    durationMs: 0,
  };
  const done = () => {
    stats.durationMs = performance.now() - started;
    return stats;
  };
  if (!compacts(log.config.cleanupPolicy) && !options.force) return done();
  const range = cleanableRange(log, segments, now);
  if (range === undefined) return done();
  const { firstDirty, firstUncleanable } = range;
  stats.firstDirtyOffset = firstDirty;
  stats.firstUncleanableOffset = firstUncleanable;
  if (!options.force) {
    const ratio = range.dirtyBytes / Math.max(1, range.dirtyBytes + range.cleanBytes);
    const firstDirtySegment = segments.find((s) => s.baseOffset >= firstDirty);
    const overdue = firstDirtySegment !== undefined && firstDirtySegment.rollingBasedTimestamp >= 0 &&
      now - firstDirtySegment.rollingBasedTimestamp > log.config.maxCompactionLagMs;
    if (ratio < log.config.minCleanableDirtyRatio && !overdue) return done();
  }

  // Readers must accept gaps before the first swap makes any; the checkpoint file says so to the
  // next open (and to other processes).
  const checkpointPath = `${log.dir}/${CLEANER_OFFSET_CHECKPOINT}`;
  if (fileSize(checkpointPath) < 0) writeCheckpoint(checkpointPath, log.topic, log.partition, firstDirty);
  log.allowOffsetGaps();

  let sinceLastPause = 0;
  const step = async (bytes: number) => {
    sinceLastPause += bytes;
    if (sinceLastPause < stepBytes) return;
    sinceLastPause = 0;
    await pause();
    if (log.closed) throw new CleaningAborted();
  };

  try {
    // 2. The offset map: each key's last offset in the dirty part.
    const map = new Map<string, number>();
    for (const segment of segments) {
      if (segment.baseOffset >= firstUncleanable) break;
      if (segment.nextOffset <= firstDirty) continue;
      for (const [bytes, at, size] of batchesOf(segment, stepBytes)) {
        const header = readRecordBatchHeader(bytes, at);
        if (header.baseOffset + header.lastOffsetDelta < firstDirty) continue;
        if (header.isControl || header.isTransactional) continue;
        const { records } = decodeRecordBatch(bytes, at);
        for (const r of records) {
          if (r.key !== null && r.offset >= firstDirty) map.set(keyString(r.key), r.offset);
        }
        await step(size);
      }
    }
    stats.keys = map.size;

    // 3 and 4. Each group into one cleaned segment, swapped in.
    const producers = log.lastProducerOffsets();
    const filter: RecordFilter = {
      keep: (r, deleteHorizonMs) => {
        if (r.key === null) return false;
        const latest = map.get(keyString(r.key));
        if (latest !== undefined && r.offset < latest) return false;
        // A tombstone goes only once its batch's delete horizon has passed (Kafka keeps it while
        // currentTime < deleteHorizonMs); without a horizon it is being cleaned for the first time.
        if (r.value === null && deleteHorizonMs !== undefined && now >= deleteHorizonMs) return false;
        return true;
      },
      // Kafka adds currentTime + deleteRetentionMs in a long; an int64 beyond 2^53 is not needed.
      newDeleteHorizonMs: Math.min(now + log.config.deleteRetentionMs, Number.MAX_SAFE_INTEGER),
    };
    // After each swap the checkpoint is rewritten (same offset, a new file): readers in other
    // processes see its identity change and reload their segments.
    const swapped = () => writeCheckpoint(checkpointPath, log.topic, log.partition, firstDirty);
    for (const group of groupSegmentsBySize(segments, firstUncleanable, log.config.segmentBytes)) {
      await cleanGroup(log, group, filter, producers, stats, step, swapped);
    }
    writeCheckpoint(checkpointPath, log.topic, log.partition, firstUncleanable);
    stats.cleaned = true;
  } catch (err) {
    if (!(err instanceof CleaningAborted)) throw err;
  }
  return done();
}

/** What a round keeps of a batch's records (Kafka's `RecordFilter` of the cleaner). */
interface RecordFilter {
  /** Whether `r` stays, given its batch's delete horizon (ms, `undefined` for none). */
  keep(r: Record, deleteHorizonMs: number | undefined): boolean;
  /** The delete horizon given to a batch kept with tombstones and none yet: now + deleteRetentionMs. */
  newDeleteHorizonMs: number;
}

/** Copies one group of segments into a `.cleaned` segment and swaps it in. */
async function cleanGroup(
  log: CleanableLog,
  group: readonly LogSegment[],
  filter: RecordFilter,
  producers: ReadonlyMap<number, number>,
  stats: CleanerStats,
  step: (bytes: number) => Promise<void>,
  swapped: () => void,
): Promise<void> {
  const base = group[0].baseOffset;
  const prefix = `${log.dir}/${filenamePrefixFromOffset(base)}`;
  const cleanedPath = `${prefix}.log.cleaned`;
  const swapPath = `${prefix}.log.swap`;
  let fd: number | undefined = openFile(cleanedPath, "w+");
  let written = 0;
  let out: Uint8Array[] = [];
  let outBytes = 0;
  const flushOut = () => {
    if (outBytes === 0) return;
    const all = new Uint8Array(outBytes);
    let at = 0;
    for (const b of out) {
      all.set(b, at);
      at += b.length;
    }
    writeFully(fd!, all, written);
    written += outBytes;
    out = [];
    outBytes = 0;
  };
  const emit = (bytes: Uint8Array) => {
    out.push(bytes);
    outBytes += bytes.length;
    if (outBytes >= 1 << 20) flushOut();
  };
  try {
    let lastOriginal: RecordBatchHeader | undefined;
    let lastKeptOffset = -1;
    for (const segment of group) {
      for (const [bytes, at, size] of batchesOf(segment, 1 << 20)) {
        const batch = bytes.subarray(at, at + size);
        const header = readRecordBatchHeader(batch, 0);
        const lastOffset = header.baseOffset + header.lastOffsetDelta;
        lastOriginal = header;
        stats.bytesRead += size;
        if (header.isControl || header.isTransactional) {
          emit(batch);
          lastKeptOffset = lastOffset;
          stats.recordsRead += header.recordsCount;
          stats.recordsKept += header.recordsCount;
          await step(size);
          continue;
        }
        const { records } = decodeRecordBatch(batch, 0);
        stats.recordsRead += records.length;
        const horizon = header.attributes & DELETE_HORIZON_MASK ? header.baseTimestamp : undefined;
        const kept = records.filter((r) => filter.keep(r, horizon));
        stats.recordsKept += kept.length;
        // Kafka's filterTo: a batch kept with tombstones and no horizon yet is given one.
        const setHorizon = horizon === undefined && kept.some((r) => r.value === null);
        if (kept.length === records.length && !setHorizon) {
          emit(batch);
          lastKeptOffset = lastOffset;
        } else if (
          kept.length > 0 || (header.producerId >= 0 && producers.get(header.producerId) === lastOffset)
        ) {
          emit(encodeRetainedRecordBatch(header, kept, setHorizon ? filter.newDeleteHorizonMs : horizon));
          lastKeptOffset = lastOffset;
        }
        await step(size);
      }
    }
    // The cleaned segment ends where the group ended: an empty batch keeps the last offset (and
    // with it the offsets a swap covers when the loader completes it after a crash).
    if (lastOriginal && lastKeptOffset < lastOriginal.baseOffset + lastOriginal.lastOffsetDelta) {
      emit(
        encodeRetainedRecordBatch(
          { ...lastOriginal, producerId: -1, producerEpoch: -1, baseSequence: -1 },
          [],
        ),
      );
    }
    flushOut();
    await datasync(fd);
    fs.closeSync(fd);
    fd = undefined;
    // The log may have changed while the group was copied: retention or deleteRecordsBefore
    // deleted its segments, or the log closed. Then the copy is thrown away.
    const live = log.segments;
    const at = live.indexOf(group[0]);
    if (log.closed || at < 0 || group.some((s, i) => live[at + i] !== s)) throw new CleaningAborted();

    // The swap. Everything from here to the in-memory replacement runs without a pause.
    renameFile(cleanedPath, swapPath);
    syncDirectory(log.dir);
    for (const old of group) {
      old.closeHandle();
      for (const path of [old.logPath, old.offsetIndex.path, old.timeIndex.path]) {
        if (fileSize(path) >= 0) renameFile(path, `${path}.deleted`);
      }
    }
    renameFile(swapPath, `${prefix}.log`);
    syncDirectory(log.dir);
    const cleaned = LogSegment.open(log.dir, base, log.config.indexIntervalBytes);
    cleaned.offsetGaps = true;
    recoverSegment(cleaned, Math.max(log.config.maxMessageBytes, 1 << 20) * 2);
    cleaned.onBecomeInactiveSegment();
    cleaned.flushSync(true);
    log.replaceSegments(cleaned, group);
    stats.segmentsCleaned += group.length;
    stats.segmentsWritten++;
    stats.bytesWritten += written;
    for (const old of group) {
      for (const path of [old.logPath, old.offsetIndex.path, old.timeIndex.path]) {
        removeFile(`${path}.deleted`);
      }
    }
    swapped();
  } catch (err) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch { /* already closed */ }
    }
    if (fileSize(cleanedPath) >= 0) {
      try {
        removeFile(cleanedPath);
      } catch { /* the next open removes it */ }
    }
    if (err instanceof CleaningAborted || err instanceof CorruptRecordError) throw err;
    throw new StorageError(
      `Cannot compact "${log.topic}-${log.partition}" at offset ${base}: ${(err as Error).message}`,
      { cause: err },
    );
  }
}
