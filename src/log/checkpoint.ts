/**
 * Kafka's offset checkpoint files, reel's clean-shutdown marker and its published high
 * watermark, kept in each partition directory.
 *
 * ```
 * OffsetCheckpointFile => version: "0" LF, count LF, (topic SP partition SP offset LF)*
 * ```
 * Source: Kafka `OffsetCheckpointFile.java` / `CheckpointFile.java` (`recovery-point-offset-checkpoint`,
 * `log-start-offset-checkpoint`), and `LogManager` for `.kafka_cleanshutdown`. Kafka keeps these per
 * log directory; reel keeps them per partition directory, so that writers of different partitions
 * in different processes never share a file.
 *
 * @module
 */
import { fs, openFile, readRegularFile, writeFileAtomic, writeFully } from "../runtime/file_system.ts";

/** Name of the recovery point checkpoint file: offsets below it are known to be on disk. */
export const RECOVERY_POINT_CHECKPOINT = "recovery-point-offset-checkpoint";
/** Name of the log start offset checkpoint file. */
export const LOG_START_OFFSET_CHECKPOINT = "log-start-offset-checkpoint";
/**
 * Name of the log cleaner's checkpoint (Kafka's `cleaner-offset-checkpoint`): offsets below it
 * have been compacted at least once. Its presence also says that the log may have offset gaps.
 */
export const CLEANER_OFFSET_CHECKPOINT = "cleaner-offset-checkpoint";
/** Name of the clean-shutdown marker, written by `close()` and removed by the next open. */
export const CLEAN_SHUTDOWN_FILE = ".kafka_cleanshutdown";

/**
 * Writes a one-entry checkpoint file atomically.
 *
 * @param path the file path
 * @param topic the topic name
 * @param partition the partition number
 * @param offset the offset to record
 * @example Write a checkpoint and read it back
 * ```ts
 * import assert from "node:assert/strict";
 * import { readCheckpoint, writeCheckpoint } from "./checkpoint.ts";
 * const path = `${Deno.makeTempDirSync()}/recovery-point-offset-checkpoint`;
 * writeCheckpoint(path, "events", 0, 42);
 * assert.equal(readCheckpoint(path, "events", 0), 42);
 * assert.equal(readCheckpoint(path, "events", 1), undefined); // no entry for that partition
 * ```
 */
export function writeCheckpoint(path: string, topic: string, partition: number, offset: number): void {
  writeFileAtomic(path, `0\n1\n${topic} ${partition} ${offset}\n`);
}

/**
 * Reads the offset recorded for `topic`/`partition` in a checkpoint file.
 *
 * @returns the offset, or `undefined` when the file is missing, malformed or has no entry for it
 */
export function readCheckpoint(path: string, topic: string, partition: number): number | undefined {
  // Looked for before it is read: a read that fails costs tens of µs on Deno, a look one.
  if (!fs.existsSync(path)) return undefined;
  let text: string;
  try {
    text = new TextDecoder().decode(readRegularFile(path));
  } catch {
    return undefined;
  }
  const lines = text.split("\n");
  if (lines[0] !== "0") return undefined;
  const count = Number(lines[1]);
  if (!Number.isInteger(count) || count < 0) return undefined;
  for (let i = 0; i < count; i++) {
    const parts = (lines[2 + i] ?? "").split(" ");
    if (parts.length !== 3) return undefined;
    const offset = Number(parts[2]);
    if (parts[0] === topic && Number(parts[1]) === partition && Number.isSafeInteger(offset) && offset >= 0) {
      return offset;
    }
  }
  return undefined;
}

/** What the clean-shutdown marker records: enough to reopen without scanning anything. */
export interface CleanShutdown {
  /** Marker format version (0). */
  version: number;
  /** The log end offset at close. */
  logEndOffset: number;
  /** The base offset of the active segment at close. */
  activeBaseOffset: number;
  /** The size of the active segment's `.log` file at close, bytes. */
  activeSize: number;
}

/**
 * Reads and checks the clean-shutdown marker.
 *
 * @param path the marker's path
 * @returns its contents, or `undefined` when missing or malformed (then the log is recovered)
 */
export function readCleanShutdown(path: string): CleanShutdown | undefined {
  if (!fs.existsSync(path)) return undefined; // looked for first, as by readCheckpoint
  try {
    const value = JSON.parse(new TextDecoder().decode(readRegularFile(path)));
    if (
      value?.version === 0 && Number.isSafeInteger(value.logEndOffset) &&
      Number.isSafeInteger(value.activeBaseOffset) && Number.isSafeInteger(value.activeSize)
    ) return value as CleanShutdown;
  } catch { /* missing or malformed: not clean */ }
  return undefined;
}

/**
 * Writes the clean-shutdown marker atomically.
 *
 * With `sync: false` the marker is not fsynced: safe when the segments it describes are fsynced
 * already, because a marker lost in a machine crash only makes the next open recover, and one
 * that survives is checked against the active segment's size.
 *
 * @param path the marker's path
 * @param marker what to record
 * @param sync fsync the marker (and its directory)
 */
export function writeCleanShutdown(path: string, marker: CleanShutdown, sync = true): void {
  writeFileAtomic(path, JSON.stringify(marker) + "\n", { sync });
}

/**
 * Name of the file where a writer under `fsync: "always"` publishes its high watermark (the end of
 * what it has fdatasynced), so that readers in other processes see no record before it is durable.
 * Kafka keeps the high watermark in `replication-offset-checkpoint`, written every few seconds; a
 * reader here needs it after every group commit, so it is one int64 (big-endian) rewritten in
 * place, never fsynced: it is only ever written after the log bytes it covers are on disk.
 */
export const HIGH_WATERMARK_FILE = ".high-watermark";

/**
 * Opens (creating if needed) the high watermark file for writing in place.
 *
 * @param path the file path
 * @returns the file descriptor
 * @throws {Error} the I/O error when the file cannot be opened
 * @example Publish a high watermark for readers in other processes
 * ```ts
 * import assert from "node:assert/strict";
 * import * as fs from "node:fs";
 * import { openHighWatermark, readHighWatermark, writeHighWatermark } from "./checkpoint.ts";
 * const path = `${Deno.makeTempDirSync()}/.high-watermark`;
 * const fd = openHighWatermark(path);
 * writeHighWatermark(fd, 42);
 * assert.equal(readHighWatermark(path), 42);
 * fs.closeSync(fd);
 * ```
 */
export function openHighWatermark(path: string): number {
  // A new partition has none yet: created without first failing to open it (tens of µs on Deno).
  if (!fs.existsSync(path)) return openFile(path, "w+");
  try {
    return openFile(path, "r+");
  } catch {
    return openFile(path, "w+");
  }
}

/**
 * Rewrites the published high watermark in place (8 bytes at position 0).
 *
 * @param fd a descriptor from {@linkcode openHighWatermark}
 * @param offset the high watermark
 * @throws {Error} the I/O error when the write fails
 * @example Rewrite it in place: always 8 bytes
 * ```ts
 * import assert from "node:assert/strict";
 * import * as fs from "node:fs";
 * import { openHighWatermark, readHighWatermark, writeHighWatermark } from "./checkpoint.ts";
 * const path = `${Deno.makeTempDirSync()}/.high-watermark`;
 * const fd = openHighWatermark(path);
 * writeHighWatermark(fd, 1_000_000);
 * writeHighWatermark(fd, 7);
 * assert.equal(readHighWatermark(path), 7);
 * assert.equal(fs.statSync(path).size, 8);
 * fs.closeSync(fd);
 * ```
 */
export function writeHighWatermark(fd: number, offset: number): void {
  // One buffer for every call: the write is synchronous, and this runs once per durable round.
  HIGH_WATERMARK_VIEW.setBigInt64(0, BigInt(offset));
  writeFully(fd, HIGH_WATERMARK_BYTES, 0);
}

const HIGH_WATERMARK_BYTES = new Uint8Array(8);
const HIGH_WATERMARK_VIEW = new DataView(HIGH_WATERMARK_BYTES.buffer);

/**
 * Reads a published high watermark.
 *
 * @param path the file path
 * @returns the offset, or `undefined` when the file is missing or not 8 bytes long
 * @example A missing file has none
 * ```ts
 * import assert from "node:assert/strict";
 * import { readHighWatermark } from "./checkpoint.ts";
 * assert.equal(readHighWatermark("/no/such/file"), undefined);
 * ```
 */
export function readHighWatermark(path: string): number | undefined {
  let fd: number;
  try {
    fd = openFile(path, "r");
  } catch {
    return undefined;
  }
  try {
    const bytes = new Uint8Array(8);
    if (fs.readSync(fd, bytes, 0, 8, 0) !== 8) return undefined;
    const offset = Number(new DataView(bytes.buffer).getBigInt64(0));
    return offset >= 0 ? offset : undefined;
  } catch {
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}
