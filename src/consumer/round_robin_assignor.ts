/**
 * Kafka's `RoundRobinAssignor`: every topic-partition, sorted by topic then partition, is dealt in
 * turn to the members sorted by id, going round the circle and skipping members not subscribed to
 * the partition's topic.
 *
 * @module
 */
import type { MemberSubscription, PartitionAssignor } from "./partition_assignor.ts";
import type { TopicPartition } from "./types.ts";

/**
 * The round-robin assignor (`"roundrobin"`).
 *
 * @example Two topics of two partitions over two members
 * ```ts
 * import assert from "node:assert/strict";
 * import { RoundRobinAssignor } from "./round_robin_assignor.ts";
 * const out = new RoundRobinAssignor().assign(
 *   [{ memberId: "a", topics: ["t", "u"] }, { memberId: "b", topics: ["t", "u"] }],
 *   { t: 2, u: 2 },
 * );
 * assert.deepEqual(out.a, [{ topic: "t", partition: 0 }, { topic: "u", partition: 0 }]);
 * assert.deepEqual(out.b, [{ topic: "t", partition: 1 }, { topic: "u", partition: 1 }]);
 * ```
 */
export class RoundRobinAssignor implements PartitionAssignor {
  /** `"roundrobin"`. */
  readonly name = "roundrobin";

  /**
   * Deals every partition, in order, round the members.
   *
   * @param members every member with its subscription
   * @param partitionsPerTopic the partition count of each subscribed topic
   * @returns each member's partitions
   */
  assign(
    members: readonly MemberSubscription[],
    partitionsPerTopic: Readonly<Record<string, number>>,
  ): Record<string, TopicPartition[]> {
    const out: Record<string, TopicPartition[]> = {};
    for (const m of members) out[m.memberId] = [];
    const sorted = [...members].sort((a, b) =>
      a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0
    );
    if (sorted.length === 0) return out;
    let next = 0;
    for (const topic of Object.keys(partitionsPerTopic).sort()) {
      if (!sorted.some((m) => m.topics.includes(topic))) continue;
      for (let p = 0; p < partitionsPerTopic[topic]; p++) {
        while (!sorted[next % sorted.length].topics.includes(topic)) next++;
        out[sorted[next % sorted.length].memberId].push({ topic, partition: p });
        next++;
      }
    }
    return out;
  }
}
