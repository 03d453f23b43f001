/**
 * The producer's internals, for tools (the `./producer` subpath export): Kafka's default
 * partitioner (murmur2 for keyed records, uniform sticky for the rest, KIP-794), the record
 * accumulator that groups records into per-partition record batches, and the sinks behind
 * `topic.writable()` and `topic.writableBatches()`.
 *
 * @example The partition Kafka's Java producer picks for a key
 * ```ts
 * import assert from "node:assert/strict";
 * import { partitionForKey } from "./mod.ts";
 * assert.equal(partitionForKey(new TextEncoder().encode("foobar"), 10), 6);
 * ```
 *
 * @module
 */
export { murmur2, partitionForKey, StickyPartitioner, toPositive } from "./partitioner.ts";
export { RecordAccumulator } from "./record_accumulator.ts";
export type { AccumulatorOptions, EncodedBatch, SentBatch, TopicLogs } from "./record_accumulator.ts";
export { BatchProduceSink, ProduceSink } from "./produce_sink.ts";
export type { WritableBatchesOptions, WritableOptions } from "./produce_sink.ts";
export type { ProducerRecord } from "../record/producer_record.ts";
export type { CompressionType } from "../record/compression.ts";
// The types the producer's API hands out or takes (a partition's log, record shapes).
export type * from "../log/mod.ts";
export type { Compression, CompressionName } from "../record/compression.ts";
