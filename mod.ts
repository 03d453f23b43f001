/**
 * reel: Kafka-style partitioned logs for Deno, Bun and Node, as Web Streams.
 *
 * A log directory holds topics; a topic is split into partitions; each partition is an
 * append-only log of segment files in Apache Kafka's own on-disk format (RecordBatch v2 with
 * CRC-32C, 20-digit segment names, `.index` and `.timeindex`). Produce by piping records into
 * `topic.writable()` or calling `topic.append()`; consume with `for await` over
 * `topic.readable()`, or with a {@linkcode Consumer} in a consumer group. Codecs are
 * `TransformStream`s.
 *
 * This module is the application's API. Tools reach the layers below through subpath exports:
 * `./record` (the record format: record batches, varints, CRC-32C, compression), `./log`
 * (`PartitionLog`, one partition's log), `./producer` (partitioner, accumulator, sinks),
 * `./consumer` (assignors, the fetch source, group internals), `./streams` (every codec and the
 * record field helpers) and `./cli`.
 *
 * @example Ingest gzipped JSON lines and read them back
 * ```ts
 * import assert from "node:assert/strict";
 * import { JsonLineRecordStream, LineStream, open } from "./mod.ts";
 *
 * const dir = Deno.makeTempDirSync();
 * const log = await open(dir);
 * const topic = await log.createTopic("edits", { partitions: 4 });
 * const file = await Deno.open(new URL("./data/wikiticker/wikiticker-2015-09-12-sampled.json.gz", import.meta.url));
 * await file.readable
 *   .pipeThrough(new DecompressionStream("gzip"))
 *   .pipeThrough(new LineStream())
 *   .pipeThrough(new JsonLineRecordStream({ key: "channel", timestamp: "time" }))
 *   .pipeTo(topic.writable());
 *
 * let n = 0;
 * const partitionOf = new Map<string, number>();
 * for await (const record of topic.readable({ from: "earliest" })) {
 *   n++;
 *   const channel = new TextDecoder().decode(record.key!);
 *   assert.equal(partitionOf.get(channel) ?? record.partition, record.partition); // a key keeps its partition
 *   partitionOf.set(channel, record.partition);
 * }
 * assert.equal(n, 39244); // every line of the file
 * await log.close();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 *
 * @module
 */
export { LogDirectory, open } from "./src/topic/log_directory.ts";
export type { CreateTopicOptions, OpenOptions, TopicConfig } from "./src/topic/log_directory.ts";
export { Topic } from "./src/topic/topic.ts";
export type { AppendOptions, PartitionDescription, RecordMetadata } from "./src/topic/topic.ts";
export { MAX_PARTITIONS, MAX_TOPIC_NAME_LENGTH, validateTopicName } from "./src/runtime/log_paths.ts";
export { DEFAULT_LOG_CONFIG } from "./src/log/log_config.ts";
export { setMaxWriters } from "./src/log/writer_roles.ts";
export { setMaxOpenFiles } from "./src/runtime/file_handle_cache.ts";
export type { CleanupPolicy, FsyncPolicy, LogConfig } from "./src/log/log_config.ts";
export type { CleanerStats, CleanOptions } from "./src/log/log_cleaner.ts";
// The types `topic.partition(n)` hands out; the class itself is a tool (the `./log` subpath export).
export type {
  AppendInfo,
  FetchData,
  LoadReport,
  PartitionLog,
  ReadCursor,
  SegmentInfo,
} from "./src/log/partition_log.ts";
export type { ReadableOptions, StartPosition } from "./src/consumer/fetch_source.ts";
export type { IsolationLevel } from "./src/log/transaction_index.ts";
export type { WriterRole } from "./src/log/writer_roles.ts";
export type { WritableBatchesOptions, WritableOptions } from "./src/producer/produce_sink.ts";
export type { ConsumedRecord } from "./src/record/consumed_record.ts";
export type { ProducerRecord } from "./src/record/producer_record.ts";
export type { Record, RecordHeader } from "./src/record/record.ts";
export { type Compression, type CompressionName, CompressionType } from "./src/record/compression.ts";
export {
  ByteLineStream,
  type ByteLineStreamOptions,
  bytesCodec,
  jsonCodec,
  JsonLineRecordStream,
  type JsonLineRecordStreamOptions,
  JsonParseStream,
  LengthPrefixedFrameDecoderStream,
  type LengthPrefixedFrameDecoderStreamOptions,
  LengthPrefixedFrameEncoderStream,
  LineStream,
  type LineStreamOptions,
  textCodec,
  type ValueCodec,
  ValueDecoderStream,
  ValueEncoderStream,
  type ValueEncoderStreamOptions,
} from "./src/streams/mod.ts";
export * from "./src/errors.ts";
export type {
  AutoOffsetReset,
  ConsumerGroupMetadata,
  ConsumerOptions,
  PollOptions,
} from "./src/consumer/consumer.ts";
export type { LogDirectoryView, TopicView } from "./src/consumer/log_directory_view.ts";
export { deleteGroup, describeGroup, listGroups } from "./src/consumer/group_admin.ts";
export type {
  GroupDescription,
  GroupMemberDescription,
  GroupPartitionOffset,
  GroupStateName,
} from "./src/consumer/group_admin.ts";
export type { MemberSubscription, PartitionAssignor } from "./src/consumer/partition_assignor.ts";
export type {
  CommittedOffset,
  ConsumerRebalanceListener,
  OffsetToCommit,
  TopicPartition,
} from "./src/consumer/types.ts";
export { serve } from "./src/server/broker.ts";
export type { Broker, ServeOptions } from "./src/server/broker.ts";
export * from "./src/cluster/mod.ts";
