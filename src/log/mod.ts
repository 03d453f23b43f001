/**
 * One partition's log, for tools (the `./log` subpath export): {@linkcode PartitionLog} (Kafka's
 * `UnifiedLog`: open and recover, append record batches, read by offset, retention) and its config.
 * Applications use a topic's streams instead (`open()` in the main module).
 *
 * @example Append a record batch to a partition's log and read it back
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeRecordBatch } from "../record/mod.ts";
 * import { DEFAULT_LOG_CONFIG, PartitionLog } from "./mod.ts";
 * const dir = Deno.makeTempDirSync();
 * const log = PartitionLog.open(`${dir}/events-0`, "events", 0, DEFAULT_LOG_CONFIG);
 * const info = await log.append(encodeRecordBatch([{ value: new TextEncoder().encode("a") }]));
 * assert.equal(info.baseOffset, 0);
 * assert.equal(log.logEndOffset, 1);
 * await log.close();
 * ```
 *
 * @module
 */
export { PartitionLog, WRITER_WANTED_FILE } from "./partition_log.ts";
export { WRITER_LOCK_FILE } from "./local_log.ts";
export {
  DEFAULT_MAX_WRITERS,
  setMaxWriters,
  writerCount,
  WriterGroup,
  type WriterRole,
} from "./writer_roles.ts";
export { DEFAULT_MAX_OPEN_FILES, openFileCount, setMaxOpenFiles } from "../runtime/file_handle_cache.ts";
export type {
  AppendInfo,
  FetchData,
  LoadReport,
  PartitionLogOptions,
  ReadCursor,
  SegmentInfo,
} from "./partition_log.ts";
export type { Record } from "../record/record.ts";
export { checkIsolationLevel, TransactionIndex } from "./transaction_index.ts";
export type { IsolationLevel } from "./transaction_index.ts";
export { DEFAULT_LOG_CONFIG } from "./log_config.ts";
export type { CleanupPolicy, FsyncPolicy, LogConfig } from "./log_config.ts";
export type { CleanerStats, CleanOptions } from "./log_cleaner.ts";
export type { RecordHeader } from "../record/record.ts";
export { CorruptRecordError, KAFKA_ERROR_CODES, type KafkaErrorName, ReelError } from "../errors.ts";
