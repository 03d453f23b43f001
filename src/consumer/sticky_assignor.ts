/**
 * Kafka's `StickyAssignor` (KIP-54): an assignment as balanced as the subscriptions allow that
 * moves as few partitions as it can from one generation to the next. Each member keeps the
 * partitions it owned (`ownedPartitions`, KIP-429) that still exist and that it still subscribes
 * to; the partitions left are dealt to the least loaded members; then partitions move, one at a
 * time, from a member holding two or more than another member that could take them, until no such
 * pair is left. It runs under the eager protocol: a rebalance still revokes everything first.
 *
 * @module
 */
import type { MemberSubscription, PartitionAssignor } from "./partition_assignor.ts";
import { sortTopicPartitions, type TopicPartition } from "./types.ts";

/**
 * The sticky assignor (`"sticky"`).
 *
 * @example A third member joins: the first two each give up only what it needs
 * ```ts
 * import assert from "node:assert/strict";
 * import { StickyAssignor } from "./sticky_assignor.ts";
 * const sticky = new StickyAssignor();
 * const before = sticky.assign([{ memberId: "a", topics: ["t"] }, { memberId: "b", topics: ["t"] }], { t: 6 });
 * const after = sticky.assign([
 *   { memberId: "a", topics: ["t"], ownedPartitions: before.a },
 *   { memberId: "b", topics: ["t"], ownedPartitions: before.b },
 *   { memberId: "c", topics: ["t"] },
 * ], { t: 6 });
 * assert.deepEqual([after.a.length, after.b.length, after.c.length], [2, 2, 2]);
 * assert.ok(after.a.every((tp) => before.a.some((o) => o.partition === tp.partition)));
 * assert.ok(after.b.every((tp) => before.b.some((o) => o.partition === tp.partition)));
 * ```
 */
export class StickyAssignor implements PartitionAssignor {
  /** `"sticky"`. */
  readonly name = "sticky";

  /**
   * Keeps what each member owned where it can, deals the rest to the least loaded, then evens out.
   *
   * @param members every member with its subscription and the partitions it owned
   * @param partitionsPerTopic the partition count of each subscribed topic
   * @returns each member's partitions, sorted by topic and partition
   */
  assign(
    members: readonly MemberSubscription[],
    partitionsPerTopic: Readonly<Record<string, number>>,
  ): Record<string, TopicPartition[]> {
    const sorted = [...members].sort((a, b) =>
      a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0
    );
    const held = new Map<string, TopicPartition[]>(sorted.map((m) => [m.memberId, []]));
    const subscribers = new Map<string, MemberSubscription[]>();
    for (const topic of Object.keys(partitionsPerTopic)) {
      subscribers.set(topic, sorted.filter((m) => m.topics.includes(topic)));
    }
    const owner = new Map<string, string>();
    const key = (tp: TopicPartition) => `${tp.topic}\u0000${tp.partition}`;
    // 1. Keep what is still valid, each partition with one owner (the first claim, by member id).
    for (const m of sorted) {
      for (const tp of sortTopicPartitions(m.ownedPartitions ?? [])) {
        const count = partitionsPerTopic[tp.topic];
        if (count === undefined || tp.partition < 0 || tp.partition >= count) continue;
        if (!m.topics.includes(tp.topic) || owner.has(key(tp))) continue;
        owner.set(key(tp), m.memberId);
        held.get(m.memberId)!.push({ topic: tp.topic, partition: tp.partition });
      }
    }
    // 2. Deal the partitions nobody kept to the least loaded member that subscribes to them.
    const leastLoaded = (candidates: readonly MemberSubscription[]) => {
      let best: MemberSubscription | undefined;
      for (const m of candidates) {
        if (!best || held.get(m.memberId)!.length < held.get(best.memberId)!.length) best = m;
      }
      return best;
    };
    for (const topic of Object.keys(partitionsPerTopic).sort()) {
      const candidates = subscribers.get(topic)!;
      for (let p = 0; p < partitionsPerTopic[topic]; p++) {
        const tp = { topic, partition: p };
        if (owner.has(key(tp))) continue;
        const to = leastLoaded(candidates);
        if (!to) continue;
        owner.set(key(tp), to.memberId);
        held.get(to.memberId)!.push(tp);
      }
    }
    // 3. Even out: move a partition from its owner to a subscriber holding two or more fewer,
    // the most loaded owners' last partitions first. Each move narrows the spread, so this ends.
    for (let moved = true; moved;) {
      moved = false;
      const byLoad = [...sorted].sort((a, b) => held.get(b.memberId)!.length - held.get(a.memberId)!.length);
      for (const from of byLoad) {
        const mine = held.get(from.memberId)!;
        for (let i = mine.length - 1; i >= 0; i--) {
          const to = leastLoaded(subscribers.get(mine[i].topic)!);
          if (!to || held.get(to.memberId)!.length + 1 >= mine.length) continue;
          const [tp] = mine.splice(i, 1);
          held.get(to.memberId)!.push(tp);
          owner.set(key(tp), to.memberId);
          moved = true;
          break;
        }
        if (moved) break;
      }
    }
    const out: Record<string, TopicPartition[]> = {};
    for (const m of sorted) out[m.memberId] = sortTopicPartitions(held.get(m.memberId)!);
    return out;
  }
}
