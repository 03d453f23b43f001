/**
 * `reel verify`: checks every record batch and every index of a log directory, read-only, and
 * reports per partition. Nothing is repaired: opening the directory does that (it cuts a torn
 * tail and rebuilds damaged indexes); verify says what an open would find, and also what an
 * open would not look at (a sealed segment is never scanned after a clean shutdown).
 *
 * What is checked, per partition directory `<topic>-<partition>/`:
 *
 * ```
 * .log        every batch: a whole header, magic 2, batchLength >= 49, inside the file,
 *             CRC-32C, records that decode, recordsCount = lastOffsetDelta + 1, record offsets
 *             dense, maxTimestamp = the largest record timestamp (CreateTime); batch offsets
 *             dense and increasing, within and across segments; each segment named by the base
 *             offset of its first batch; no bytes after the last whole batch (a torn tail)
 * .index      a whole number of 8-byte entries; offsets and positions strictly increasing;
 *             each position the start of a batch that holds the entry's offset
 * .timeindex  a whole number of 12-byte entries; timestamps and offsets never going down; each
 *             offset inside the segment, its timestamp the largest one up to that offset's batch
 * checkpoints the recovery point and log start offset at or below the log end offset; a
 *             clean-shutdown marker that matches the active segment and the log end offset
 * ```
 *
 * A compacted partition (one with a `cleaner-offset-checkpoint`, or named in the log directory's, as
 * Kafka keeps it; see `log_cleaner.ts`) may have
 * offset gaps: there offsets must only increase, within batches, across batches and segments, and
 * a batch may hold fewer records than its offsets span (even none).
 *
 * A missing index file is a problem; an index with fewer entries than it could have (its last
 * entries not yet written when a process died) is not.
 *
 * @module
 */
import { UnknownTopicOrPartitionError } from "../../../mod.ts";
import {
  decodeRecordBatch,
  readRecordBatchHeader,
  RECORD_BATCH_OVERHEAD,
  type RecordBatchHeader,
  validateRecordBatch,
} from "../../record/mod.ts";
import { parsePartitionDirName } from "../../runtime/log_paths.ts";
import {
  CLEAN_SHUTDOWN_FILE,
  LOG_START_OFFSET_CHECKPOINT,
  readCheckpoint,
  readCleanShutdown,
  RECOVERY_POINT_CHECKPOINT,
} from "../../log/checkpoint.ts";
import { batchesFrom } from "../../log/file_records.ts";
import { hasOffsetGaps } from "../../log/log_loader.ts";
import { optionalString, type OptionValues, requireString } from "../args.ts";
import type { Command } from "../command.ts";
import { StdoutWriter } from "../stdio.ts";
import { fs, openFileAndSize } from "../../runtime/file_system.ts";
import { type ScannedBatch, verifyOffsetIndex, verifyTimeIndex } from "./_verify_indexes.ts";

/** What {@linkcode verifyPartition} found in one partition directory. */
export interface PartitionVerifyReport {
  /** The topic name. */
  topic: string;
  /** The partition number. */
  partition: number;
  /** The partition directory. */
  dir: string;
  /** How many `.log` files. */
  segments: number;
  /** Batches read whole (valid or not). */
  batches: number;
  /** Records in the batches that decoded. */
  records: number;
  /** The base offset of the first segment. */
  firstOffset: number;
  /** The offset after the last batch read (the log end offset an open would find). */
  nextOffset: number;
  /** Total size of the `.log` files, bytes. */
  bytes: number;
  /** Each problem found: `<file> position N: what is wrong`; empty when all is well. */
  problems: string[];
}

const SEGMENT_LOG = /^(\d{20})\.log$/;
const SEGMENT_INDEX = /^(\d{20})\.(index|timeindex)$/;

/**
 * Checks one partition directory without changing anything in it.
 *
 * @param dir the partition directory, `<log dir>/<topic>-<partition>`
 * @param topic the topic name (checkpoints are keyed by it)
 * @param partition the partition number
 * @returns what was found; `problems` is empty when every check passed
 * @throws {Error} when the directory cannot be read
 * @example A healthy partition, then one byte flipped
 * ```ts
 * import assert from "node:assert/strict";
 * import * as fs from "node:fs";
 * import { open } from "../../../mod.ts";
 * import { verifyPartition } from "./verify.ts";
 * const dir = Deno.makeTempDirSync();
 * const log = await open(dir);
 * const topic = await log.createTopic("events");
 * await topic.append([{ value: "a" }, { value: "b" }]);
 * await log.close();
 * const healthy = verifyPartition(`${dir}/events-0`, "events", 0);
 * assert.deepEqual([healthy.records, healthy.problems], [2, []]);
 * const segment = `${dir}/events-0/00000000000000000000.log`;
 * const bytes = fs.readFileSync(segment);
 * bytes[bytes.length - 1] ^= 0xff; // inside the record batch: its CRC no longer matches
 * fs.writeFileSync(segment, bytes);
 * assert.ok(verifyPartition(`${dir}/events-0`, "events", 0).problems.length > 0);
 * ```
 */
export function verifyPartition(dir: string, topic: string, partition: number): PartitionVerifyReport {
  const names = fs.readdirSync(dir).sort();
  const bases = names.flatMap((n) => {
    const m = SEGMENT_LOG.exec(n);
    return m ? [m[1]] : [];
  });
  const report: PartitionVerifyReport = {
    topic,
    partition,
    dir,
    segments: bases.length,
    batches: 0,
    records: 0,
    firstOffset: bases.length ? Number(bases[0]) : 0,
    nextOffset: bases.length ? Number(bases[0]) : 0,
    bytes: 0,
    problems: [],
  };
  const problem = (text: string) => report.problems.push(text);
  const known = new Set(bases);
  for (const name of names) {
    const m = SEGMENT_INDEX.exec(name);
    if (m && !known.has(m[1])) problem(`${name}: an index without its .log file`);
  }
  if (bases.length === 0) problem("no .log file: a partition has at least one segment");

  const compacted = hasOffsetGaps(dir, topic, partition);
  let expected = report.firstOffset;
  let activeSize = 0;
  for (let s = 0; s < bases.length; s++) {
    const base = Number(bases[s]);
    const logName = `${bases[s]}.log`;
    if (compacted ? base < expected : base !== expected) {
      problem(
        `${logName}: the segment starts at offset ${base}, but the previous one ends at offset ${expected}`,
      );
    }
    const batches = verifySegmentLog(`${dir}/${logName}`, logName, base, report, problem, compacted);
    activeSize = batches.size;
    report.bytes += batches.size;
    const last = batches.list.at(-1);
    expected = last ? last.lastOffset + 1 : Math.max(expected, base);
    verifyOffsetIndex(`${dir}/${bases[s]}.index`, base, batches.list, problem);
    verifyTimeIndex(`${dir}/${bases[s]}.timeindex`, base, batches.list, problem);
  }
  report.nextOffset = expected;

  const recoveryPoint = readCheckpoint(`${dir}/${RECOVERY_POINT_CHECKPOINT}`, topic, partition);
  if (recoveryPoint !== undefined && recoveryPoint > report.nextOffset) {
    problem(
      `${RECOVERY_POINT_CHECKPOINT}: the recovery point ${recoveryPoint} is past the log end offset ${report.nextOffset} (records known to be on disk are gone)`,
    );
  }
  const logStart = readCheckpoint(`${dir}/${LOG_START_OFFSET_CHECKPOINT}`, topic, partition);
  if (logStart !== undefined && logStart > report.nextOffset) {
    problem(
      `${LOG_START_OFFSET_CHECKPOINT}: the log start offset ${logStart} is past the log end offset ${report.nextOffset}`,
    );
  }
  if (fs.existsSync(`${dir}/${CLEAN_SHUTDOWN_FILE}`)) {
    const marker = readCleanShutdown(`${dir}/${CLEAN_SHUTDOWN_FILE}`);
    const active = bases.at(-1);
    if (marker === undefined) problem(`${CLEAN_SHUTDOWN_FILE}: unreadable`);
    else if (active !== undefined) {
      if (marker.activeBaseOffset !== Number(active) || marker.activeSize !== activeSize) {
        problem(
          `${CLEAN_SHUTDOWN_FILE}: it records active segment ${marker.activeBaseOffset} of ${marker.activeSize} bytes, the directory has ${active}.log of ${activeSize} bytes`,
        );
      } else if (marker.logEndOffset !== report.nextOffset) {
        problem(
          `${CLEAN_SHUTDOWN_FILE}: it records log end offset ${marker.logEndOffset}, the batches end at ${report.nextOffset}`,
        );
      }
    }
  }
  return report;
}

/** Scans one `.log` file batch by batch; returns the batches read whole and the file size. */
function verifySegmentLog(
  path: string,
  name: string,
  base: number,
  report: PartitionVerifyReport,
  problem: (text: string) => void,
  compacted = false,
): { list: ScannedBatch[]; size: number } {
  const { fd, size } = openFileAndSize(path, "r");
  const list: ScannedBatch[] = [];
  try {
    const batches = batchesFrom(fd, 0, size, { whole: true });
    let expected = base;
    let maxTimestampSoFar = -1;
    for (;;) {
      const whole = batches.nextBatch();
      if (batches.stop === "end") break;
      const position = batches.position;
      const left = size - position;
      const at = `${name} position ${position}`;
      if (batches.stop === "short") {
        problem(`${at}: a torn tail of ${left} bytes, too short for a batch header (an open cuts it)`);
        break;
      }
      const at0 = batches.at;
      const bytes = batches.bytes.subarray(at0, at0 + (whole ? batches.size : RECORD_BATCH_OVERHEAD));
      let header: RecordBatchHeader;
      try {
        header = readRecordBatchHeader(bytes, 0);
      } catch (err) {
        const detail = (err as Error).message.replace(/^Corrupt record batch: /, "");
        problem(`${at}: ${detail}; the ${left} bytes from here cannot be read as batches`);
        break;
      }
      const batchBytes = batches.size;
      if (!whole) {
        problem(
          `${at}: a torn tail: the batch needs ${batchBytes} bytes, ${left} are left (an open cuts it)`,
        );
        break;
      }
      const lastOffset = header.baseOffset + header.lastOffsetDelta;
      report.batches++;
      try {
        validateRecordBatch(bytes, 0);
      } catch (err) {
        problem(`${at}: ${(err as Error).message.replace(/^Corrupt record batch: /, "")}`);
      }
      if (compacted ? header.baseOffset < expected : header.baseOffset !== expected) {
        problem(
          compacted
            ? `${at}: the batch starts at offset ${header.baseOffset}, expected ${expected} or later (offsets must increase)`
            : `${at}: the batch starts at offset ${header.baseOffset}, expected ${expected} (offsets must be dense)`,
        );
      }
      if (header.lastOffsetDelta < 0) problem(`${at}: lastOffsetDelta is ${header.lastOffsetDelta}`);
      try {
        const { records } = decodeRecordBatch(bytes, 0, { verify: false });
        report.records += records.length;
        const spanned = header.lastOffsetDelta + 1;
        if (
          !header.isControl && (compacted ? header.recordsCount > spanned : header.recordsCount !== spanned)
        ) {
          problem(`${at}: ${header.recordsCount} records, but lastOffsetDelta is ${header.lastOffsetDelta}`);
        }
        let max = -1;
        for (let i = 0; i < records.length; i++) {
          if (compacted) {
            const previous = i > 0 ? records[i - 1].offset : header.baseOffset - 1;
            if (records[i].offset <= previous || records[i].offset > lastOffset) {
              problem(
                `${at}: record ${i} has offset ${records[i].offset}, out of order or outside the batch`,
              );
              break;
            }
          } else if (records[i].offset !== header.baseOffset + i) {
            problem(`${at}: record ${i} has offset ${records[i].offset}, expected ${header.baseOffset + i}`);
            break;
          }
          if (records[i].timestamp > max) max = records[i].timestamp;
        }
        if (header.timestampType === 0 && records.length > 0 && max !== header.maxTimestamp) {
          problem(`${at}: maxTimestamp is ${header.maxTimestamp}, the records' largest timestamp is ${max}`);
        }
      } catch (err) {
        problem(`${at}: ${(err as Error).message.replace(/^Corrupt record batch: /, "")}`);
      }
      if (header.maxTimestamp > maxTimestampSoFar) maxTimestampSoFar = header.maxTimestamp;
      list.push({ position, size: batchBytes, baseOffset: header.baseOffset, lastOffset, maxTimestampSoFar });
      expected = lastOffset + 1;
    }
    if (list.length > 0 && (compacted ? list[0].baseOffset < base : list[0].baseOffset !== base)) {
      problem(
        `${name}: named for offset ${base}, but its first batch starts at offset ${list[0].baseOffset}`,
      );
    }
    return { list, size };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Checks every partition of a log directory (or of one topic in it), read-only.
 *
 * @param dir the log directory
 * @param topic only this topic's partitions
 * @returns one report per partition directory, sorted by topic and partition
 * @throws {Error} when `dir` cannot be read
 * @throws {UnknownTopicOrPartitionError} when `topic` has no partition directory in `dir`
 * @example One report per partition
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../../mod.ts";
 * import { verifyLogDirectory } from "./verify.ts";
 * const dir = Deno.makeTempDirSync();
 * assert.deepEqual(verifyLogDirectory(dir), []);
 * const log = await open(dir);
 * await log.createTopic("events", { partitions: 3 });
 * await log.close();
 * assert.equal(verifyLogDirectory(dir).length, 3);
 * assert.ok(verifyLogDirectory(dir).every((r) => r.problems.length === 0));
 * ```
 */
export function verifyLogDirectory(dir: string, topic?: string): PartitionVerifyReport[] {
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    throw new Error(`Cannot verify log directory ${dir}: ${(err as Error).message}`, { cause: err });
  }
  const found: { topic: string; partition: number }[] = [];
  for (const entry of entries) {
    const p = entry.isDirectory() ? parsePartitionDirName(entry.name) : undefined;
    if (p && (topic === undefined || p.topic === topic)) found.push(p);
  }
  if (topic !== undefined && found.length === 0) throw new UnknownTopicOrPartitionError(topic);
  found.sort((a, b) => a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition);
  return found.map((p) => verifyPartition(`${dir}/${p.topic}-${p.partition}`, p.topic, p.partition));
}

/** At most this many problems are printed per partition. */
const MAX_PROBLEMS_SHOWN = 20;

/** `reel verify`. */
export const verify: Command = {
  name: "verify",
  summary: "Check every batch (CRC, offsets, sizes) and index of a log directory",
  help: `Usage: reel verify --dir D [--topic T]

Reads every segment of every partition without changing anything, and checks
each record batch (a whole header, CRC-32C, records that decode, offsets dense
and increasing within and across segments, sizes inside the file) and each
index (.index entries at batch starts that hold their offsets, .timeindex
entries in order, both strictly growing), and the checkpoint files. Prints one
line per partition, then each problem found under it, then a summary.

A torn tail (a batch cut off by a crash) is reported: the next open cuts it.
A damaged or missing index is reported: the next open rebuilds it. A CRC error
in a sealed segment is not repaired by an open: reads of it fail with
CORRUPT_MESSAGE. Run it on a directory no process is writing: a batch being
appended looks like a torn tail.

Exit status: 0 when every partition is fine, 1 when anything is wrong.

Options:
  --dir D                 the log directory
  --topic T               check only this topic
  --verbose               print the stack of an error
  -h, --help              show this help
`,
  options: { dir: { type: "string" }, topic: { type: "string" } },
  async run(values: OptionValues): Promise<number> {
    const dir = requireString(values, "dir");
    if (!fs.existsSync(dir)) throw new Error(`Cannot verify log directory ${dir}: it does not exist`);
    if (!fs.statSync(dir).isDirectory()) {
      throw new Error(`Cannot verify log directory ${dir}: it is not a directory`);
    }
    const reports = verifyLogDirectory(dir, optionalString(values, "topic"));
    const out = new StdoutWriter();
    let bad = 0;
    for (const r of reports) {
      const offsets = r.nextOffset > r.firstOffset
        ? `offsets ${r.firstOffset} to ${r.nextOffset - 1}`
        : `empty, next offset ${r.nextOffset}`;
      const facts =
        `${r.segments} segments, ${r.batches} batches, ${r.records} records, ${offsets}, ${r.bytes} bytes`;
      if (r.problems.length === 0) out.writeText(`${r.topic}-${r.partition}: ok (${facts})\n`);
      else {
        bad++;
        const n = r.problems.length;
        out.writeText(`${r.topic}-${r.partition}: ${n} problem${n === 1 ? "" : "s"} (${facts})\n`);
        for (const p of r.problems.slice(0, MAX_PROBLEMS_SHOWN)) out.writeText(`  ${p}\n`);
        if (n > MAX_PROBLEMS_SHOWN) out.writeText(`  … and ${n - MAX_PROBLEMS_SHOWN} more\n`);
      }
      await out.flush();
    }
    out.writeText(
      `verified ${reports.length} partition${reports.length === 1 ? "" : "s"}: ${
        reports.length - bad
      } ok, ${bad} with problems\n`,
    );
    await out.end();
    return bad === 0 ? 0 : 1;
  },
};
