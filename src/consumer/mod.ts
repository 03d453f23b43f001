/**
 * The consumer side (the `./consumer` subpath export): Kafka's `KafkaConsumer` over a log
 * directory, consumer groups whose members share partitions across processes, durable committed
 * offsets, the assignors, and the fetch source behind `topic.readable()`.
 *
 * @example Two members of one group split a topic's partitions
 * ```ts
 * import assert from "node:assert/strict";
 * import { Consumer, describeGroup, open } from "../../mod.ts";
 * const log = await open(Deno.makeTempDirSync());
 * const topic = await log.createTopic("orders", { partitions: 4 });
 * await topic.append([{ key: "a", value: "1" }, { key: "b", value: "2" }]);
 * const a = new Consumer(log, { groupId: "billing", autoOffsetReset: "earliest" });
 * a.subscribe(["orders"]);
 * assert.equal((await a.poll({ timeoutMs: 1000 })).length, 2);
 * assert.equal(describeGroup(log, "billing").members.length, 1);
 * await a.close();
 * await log.close();
 * ```
 *
 * @module
 */
export { Consumer } from "./consumer.ts";
export type { AutoOffsetReset, ConsumerGroupMetadata, ConsumerOptions, PollOptions } from "./consumer.ts";
export { deleteGroup, describeGroup, listGroups } from "./group_admin.ts";
export type {
  GroupDescription,
  GroupMemberDescription,
  GroupPartitionOffset,
  GroupStateName,
} from "./group_admin.ts";
export { BUILT_IN_ASSIGNORS, selectProtocol } from "./partition_assignor.ts";
export type { MemberSubscription, PartitionAssignor } from "./partition_assignor.ts";
export { RangeAssignor } from "./range_assignor.ts";
export { RoundRobinAssignor } from "./round_robin_assignor.ts";
export { StickyAssignor } from "./sticky_assignor.ts";
export type { CommittedOffset, ConsumerRebalanceListener, OffsetToCommit, TopicPartition } from "./types.ts";
export { FetchSource } from "./fetch_source.ts";
export { RecordStream } from "./record_stream.ts";
export type { RecordStreamIterator, RecordStreamIteratorOptions } from "./record_stream.ts";
export type { ReadableOptions, StartPosition } from "./fetch_source.ts";
export type { IsolationLevel } from "../log/transaction_index.ts";
export type { LogDirectoryView, TopicView } from "./log_directory_view.ts";
export type { ConsumedRecord } from "../record/consumed_record.ts";
// The types the consumer's API hands out (a partition's log, record shapes).
export type * from "../log/mod.ts";
