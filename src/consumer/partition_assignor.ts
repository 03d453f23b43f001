/**
 * Partition assignors: how a consumer group's partitions are split among its members, and how
 * the group picks one assignor that every member supports (Kafka's `ConsumerPartitionAssignor`
 * and the classic group protocol's `selectProtocol`, BRIEF §4.4).
 *
 * @module
 */
import { RangeAssignor } from "./range_assignor.ts";
import { RoundRobinAssignor } from "./round_robin_assignor.ts";
import { StickyAssignor } from "./sticky_assignor.ts";
import type { TopicPartition } from "./types.ts";

/** A member of a group as an assignor sees it. */
export interface MemberSubscription {
  /** The member's id (assignors order members by it). */
  memberId: string;
  /** The topics it subscribed to. */
  topics: string[];
  /**
   * The partitions it owned in the generation before (KIP-429's `ownedPartitions`), for assignors
   * that keep them (`"sticky"`); absent for a member that owned none.
   */
  ownedPartitions?: TopicPartition[];
}

/**
 * Splits partitions among a group's members. Every member of a group must know an assignor by
 * the same name and compute the same result from the same input: any member may run it.
 *
 * @example A custom assignor that gives everything to the first member
 * ```ts
 * import assert from "node:assert/strict";
 * import type { PartitionAssignor } from "./partition_assignor.ts";
 * const allToFirst: PartitionAssignor = {
 *   name: "all-to-first",
 *   assign(members, partitionsPerTopic) {
 *     const sorted = [...members].sort((a, b) => a.memberId < b.memberId ? -1 : 1);
 *     const out: Record<string, { topic: string; partition: number }[]> = {};
 *     for (const m of sorted) out[m.memberId] = [];
 *     for (const [topic, n] of Object.entries(partitionsPerTopic)) {
 *       const owner = sorted.find((m) => m.topics.includes(topic));
 *       for (let p = 0; p < n && owner; p++) out[owner.memberId].push({ topic, partition: p });
 *     }
 *     return out;
 *   },
 * };
 * const result = allToFirst.assign(
 *   [{ memberId: "b", topics: ["t"] }, { memberId: "a", topics: ["t"] }],
 *   { t: 2 },
 * );
 * assert.deepEqual(result, { a: [{ topic: "t", partition: 0 }, { topic: "t", partition: 1 }], b: [] });
 * ```
 */
export interface PartitionAssignor {
  /** The protocol name members vote with (`"range"`, `"roundrobin"`, `"sticky"`). */
  readonly name: string;
  /**
   * Computes the assignment.
   *
   * @param members every member with its subscription
   * @param partitionsPerTopic the partition count of every subscribed topic that exists
   * @returns for every member id, its partitions (an empty list for a member with none)
   */
  assign(
    members: readonly MemberSubscription[],
    partitionsPerTopic: Readonly<Record<string, number>>,
  ): Record<string, TopicPartition[]>;
}

/** The assignors built in, by name: `"range"` (Kafka's default), `"roundrobin"` and `"sticky"`. */
export const BUILT_IN_ASSIGNORS: Readonly<Record<string, PartitionAssignor>> = Object.freeze({
  range: new RangeAssignor(),
  roundrobin: new RoundRobinAssignor(),
  sticky: new StickyAssignor(),
});

/**
 * Picks the protocol (assignor name) of a group as Kafka's classic coordinator does: the
 * candidates are the names every member supports; each member votes for the first candidate in
 * its own list; the most votes wins (a tie goes to the candidate the member with the smallest id
 * prefers).
 *
 * @param members each member's id and assignor names, most preferred first
 * @returns the chosen name, or `undefined` when no name is supported by every member
 * @example The assignor every member supports with the most votes
 * ```ts
 * import assert from "node:assert/strict";
 * import { selectProtocol } from "./partition_assignor.ts";
 * assert.equal(
 *   selectProtocol([
 *     { memberId: "a", assignors: ["range", "roundrobin"] },
 *     { memberId: "b", assignors: ["roundrobin", "range"] },
 *     { memberId: "c", assignors: ["roundrobin"] },
 *   ]),
 *   "roundrobin",
 * );
 * assert.equal(selectProtocol([{ memberId: "a", assignors: ["range"] }, { memberId: "b", assignors: ["sticky"] }]), undefined);
 * ```
 */
export function selectProtocol(
  members: readonly { memberId: string; assignors: readonly string[] }[],
): string | undefined {
  if (members.length === 0) return undefined;
  const sorted = [...members].sort((a, b) => a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0);
  const candidates = sorted[0].assignors.filter((name) => sorted.every((m) => m.assignors.includes(name)));
  if (candidates.length === 0) return undefined;
  const votes = new Map<string, number>();
  for (const m of sorted) {
    const vote = m.assignors.find((name) => candidates.includes(name))!;
    votes.set(vote, (votes.get(vote) ?? 0) + 1);
  }
  let best = candidates[0];
  for (const name of candidates) if ((votes.get(name) ?? 0) > (votes.get(best) ?? 0)) best = name;
  return best;
}
