/**
 * Kafka's `RangeAssignor`: per topic, the members subscribed to it, sorted by member id, each get
 * a contiguous range of partitions: `n / m` each, and one more for the first `n % m` members.
 *
 * @module
 */
import type { MemberSubscription, PartitionAssignor } from "./partition_assignor.ts";
import type { TopicPartition } from "./types.ts";

/**
 * The range assignor (`"range"`, Kafka's default).
 *
 * @example Seven partitions over three members
 * ```ts
 * import assert from "node:assert/strict";
 * import { RangeAssignor } from "./range_assignor.ts";
 * const out = new RangeAssignor().assign(
 *   [{ memberId: "a", topics: ["t"] }, { memberId: "b", topics: ["t"] }, { memberId: "c", topics: ["t"] }],
 *   { t: 7 },
 * );
 * assert.deepEqual([out.a, out.b, out.c].map((tps) => tps.map((tp) => tp.partition)), [[0, 1, 2], [3, 4], [5, 6]]);
 * ```
 */
export class RangeAssignor implements PartitionAssignor {
  /** `"range"`. */
  readonly name = "range";

  /**
   * Deals each topic's partitions out in contiguous ranges.
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
    const topics = Object.keys(partitionsPerTopic).sort();
    for (const topic of topics) {
      const subscribed = members.filter((m) => m.topics.includes(topic))
        .map((m) => m.memberId).sort((a, b) => a < b ? -1 : a > b ? 1 : 0);
      const n = partitionsPerTopic[topic];
      const m = subscribed.length;
      if (m === 0) continue;
      const each = Math.floor(n / m), extra = n % m;
      let next = 0;
      for (let i = 0; i < m; i++) {
        const count = each + (i < extra ? 1 : 0);
        for (let p = next; p < next + count; p++) out[subscribed[i]].push({ topic, partition: p });
        next += count;
      }
    }
    return out;
  }
}
