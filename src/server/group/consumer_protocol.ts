/**
 * The consumer protocol's subscription and assignment bytes (`ConsumerProtocolSubscription.json`
 * and `ConsumerProtocolAssignment.json`, version 0), which the broker writes only to describe
 * groups of in-process consumers to Kafka tools (DescribeGroups). For Kafka clients' groups the
 * bytes stay opaque: the leader writes them and the broker relays them.
 *
 * ```
 * Subscription v0 => version int16, topics [string], user_data NULLABLE_BYTES
 * Assignment v0   => version int16, assigned_partitions [topic string, partitions [int32]], user_data NULLABLE_BYTES
 * ```
 *
 * @module
 */
import { ByteWriter } from "../protocol/byte_writer.ts";

/**
 * Encodes a consumer protocol subscription, version 0.
 *
 * @param topics the topics subscribed to
 * @returns the bytes
 * @example The subscription of a consumer to topic "a", version 0
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeSubscription } from "./consumer_protocol.ts";
 * assert.deepEqual([...encodeSubscription(["a"])], [0, 0, 0, 0, 0, 1, 0, 1, 97, 255, 255, 255, 255]);
 * ```
 */
export function encodeSubscription(topics: readonly string[]): Uint8Array {
  const w = new ByteWriter(64);
  w.int16(0);
  w.int32(topics.length);
  for (const t of topics) w.string(t, false);
  w.bytes(null, false);
  return w.toBytes();
}

/**
 * Encodes a consumer protocol assignment, version 0.
 *
 * @param partitions the partitions assigned, as topic and partition pairs
 * @returns the bytes
 * @example An assignment of partition 2 of topic "a", version 0
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeAssignment } from "./consumer_protocol.ts";
 * const bytes = encodeAssignment([{ topic: "a", partition: 2 }]);
 * assert.deepEqual([...bytes], [0, 0, 0, 0, 0, 1, 0, 1, 97, 0, 0, 0, 1, 0, 0, 0, 2, 255, 255, 255, 255]);
 * ```
 */
export function encodeAssignment(partitions: readonly { topic: string; partition: number }[]): Uint8Array {
  const byTopic = new Map<string, number[]>();
  for (const { topic, partition } of partitions) {
    let list = byTopic.get(topic);
    if (!list) byTopic.set(topic, list = []);
    list.push(partition);
  }
  const w = new ByteWriter(64);
  w.int16(0);
  w.int32(byTopic.size);
  for (const [topic, list] of byTopic) {
    w.string(topic, false);
    w.int32(list.length);
    for (const p of list) w.int32(p);
  }
  w.bytes(null, false);
  return w.toBytes();
}
