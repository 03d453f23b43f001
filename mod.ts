/**
 * reel: Kafka-style partitioned logs for Deno and Bun, as Web Streams.
 *
 * A log directory holds topics; a topic is split into partitions; each partition is an
 * append-only log of segment files in Apache Kafka's own on-disk format (RecordBatch v2 with
 * CRC-32C, 20-digit segment names, `.index` and `.timeindex`). Produce by piping records into
 * `topic.writable()` or calling `topic.append()`; consume with `for await` over
 * `topic.readable()`. Codecs are `TransformStream`s.
 *
 * @example Ingest gzipped JSON lines and read them back
 * ```ts
 * import { JsonLineRecordStream, LineStream, open } from "./mod.ts";
 *
 * const log = await open(Deno.makeTempDirSync());
 * const topic = log.hasTopic("edits") ? log.topic("edits") : await log.createTopic("edits", { partitions: 4 });
 * const file = await Deno.open(new URL("./data/wikiticker/wikiticker-2015-09-12-sampled.json.gz", import.meta.url));
 * await file.readable
 *   .pipeThrough(new DecompressionStream("gzip"))
 *   .pipeThrough(new LineStream())
 *   .pipeThrough(new JsonLineRecordStream({ key: "channel", timestamp: "time" }))
 *   .pipeTo(topic.writable());
 * let n = 0;
 * for await (const _ of topic.readable({ from: "earliest" })) n++;
 * console.log(n); // 39244
 * await log.close();
 * ```
 *
 * @module
 */
export { LogDirectory, open } from "./src/topic/log_directory.ts";
export type { CreateTopicOptions, OpenOptions, TopicConfig } from "./src/topic/log_directory.ts";
export { Topic } from "./src/topic/topic.ts";
export type { AppendOptions, PartitionDescription, RecordMetadata } from "./src/topic/topic.ts";
export { MAX_TOPIC_NAME_LENGTH, validateTopicName } from "./src/runtime/log_paths.ts";
export { murmur2, partitionForKey, StickyPartitioner, toPositive } from "./src/topic/partitioner.ts";
export { DEFAULT_LOG_CONFIG } from "./src/log/log_config.ts";
export type { FsyncPolicy, LogConfig } from "./src/log/log_config.ts";
export { PartitionLog, WRITER_LOCK_FILE } from "./src/log/partition_log.ts";
export type { AppendInfo, FetchData, LoadReport, ReadCursor } from "./src/log/partition_log.ts";
export type { PartitionLogOptions } from "./src/log/partition_log.ts";
export type { ReadableOptions, StartPosition } from "./src/streams/fetch_source.ts";
export type { WritableBatchesOptions, WritableOptions } from "./src/streams/produce_sink.ts";
export type { ConsumedRecord, ProducerRecord } from "./src/streams/types.ts";
export * from "./src/streams/mod.ts";
export * from "./src/record/mod.ts";
export * from "./src/errors.ts";
export * from "./src/consumer/mod.ts";
export { serve } from "./src/server/broker.ts";
export type { Broker, ServeOptions } from "./src/server/broker.ts";
