/**
 * Kafka's offset checkpoint files and reel's clean-shutdown marker, kept in each partition
 * directory.
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
import { fs, writeFileAtomic } from "../runtime/file_system.ts";

/** Name of the recovery point checkpoint file: offsets below it are known to be on disk. */
export const RECOVERY_POINT_CHECKPOINT = "recovery-point-offset-checkpoint";
/** Name of the log start offset checkpoint file. */
export const LOG_START_OFFSET_CHECKPOINT = "log-start-offset-checkpoint";
/** Name of the clean-shutdown marker, written by `close()` and removed by the next open. */
export const CLEAN_SHUTDOWN_FILE = ".kafka_cleanshutdown";

/**
 * Writes a one-entry checkpoint file atomically.
 *
 * @param path the file path
 * @param topic the topic name
 * @param partition the partition number
 * @param offset the offset to record
 * @example
 * ```ts
 * import { readCheckpoint, writeCheckpoint } from "./checkpoint.ts";
 * writeCheckpoint("/tmp/recovery-point-offset-checkpoint", "events", 0, 42);
 * console.log(readCheckpoint("/tmp/recovery-point-offset-checkpoint", "events", 0)); // 42
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
  let text: string;
  try {
    text = fs.readFileSync(path, "utf8");
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
  try {
    const value = JSON.parse(fs.readFileSync(path, "utf8"));
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
 * @param path the marker's path
 * @param marker what to record
 */
export function writeCleanShutdown(path: string, marker: CleanShutdown): void {
  writeFileAtomic(path, JSON.stringify(marker) + "\n");
}
