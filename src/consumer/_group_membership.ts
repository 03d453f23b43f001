/**
 * A consumer group's membership and rebalances, done on the group's files (`_group_store.ts`)
 * under its lock: the coordinator's side of Kafka's classic group protocol (JoinGroup, SyncGroup,
 * Heartbeat, LeaveGroup), with no broker.
 *
 * The protocol, Kafka's eager rebalance with ownership made explicit:
 * - A member joins by writing its member file; it leaves by removing it; it heartbeats by
 *   touching it. A member whose file is older than its `sessionTimeoutMs`, or whose process is
 *   gone (same host), is expired: whoever notices removes its file.
 * - Whenever the live members (or their subscriptions, or the partition counts) differ from
 *   `state.json`, the member that notices writes a new state: generation + 1, the assignor every
 *   member supports (`selectProtocol`), and the new assignment.
 * - A member that sees a new generation revokes every partition it owns (callbacks, commit) and
 *   empties `owned` in its file; then it claims its new assignment, under the lock, only when no
 *   live member's file still owns any of those partitions. So a partition has at most one owner at
 *   a time, and a new owner starts from the offset the previous one committed.
 * - A commit is accepted only from a member whose file owns the partition (or, for a consumer
 *   without a subscription, when no live member owns it): `offset_store.ts`.
 *
 * @module
 */
import { InconsistentGroupProtocolError } from "../errors.ts";
import { processIdentity } from "../runtime/lock_file.ts";
import type { LogDirectoryView } from "./log_directory_view.ts";
import { BUILT_IN_ASSIGNORS, type PartitionAssignor, selectProtocol } from "./partition_assignor.ts";
import { type GroupState, GroupStore, type MemberRecord } from "./_group_store.ts";
import { sortTopicPartitions, type TopicPartition, topicPartitionKey } from "./types.ts";

/** What {@linkcode GroupMembership.claim} answers. */
export type ClaimResult = "claimed" | "wait" | "stale" | "unknown";

/**
 * Joins, leaves, heartbeats, rebalances and partition claims of one consumer group. Internal: the
 * consumer's coordinator, `describeGroup` and `reel serve`'s stand-in member use it.
 *
 * @example One member joins, gets every partition, claims them and leaves
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../mod.ts";
 * import { GroupMembership } from "./_group_membership.ts";
 * const log = await open(Deno.makeTempDirSync());
 * await log.createTopic("events", { partitions: 2 });
 * const group = new GroupMembership(log, "billing");
 * const state = await group.join(group.newMember("m-1", "app", ["events"], ["range"], 45_000));
 * assert.equal(state.generation, 1);
 * assert.deepEqual(state.assignment["m-1"].map((tp) => tp.partition), [0, 1]);
 * assert.equal(await group.claim("m-1", 1, state.assignment["m-1"]), "claimed");
 * assert.equal(group.needsRebalance(), false);
 * assert.equal((await group.leave("m-1")).generation, 2);
 * await log.close();
 * ```
 */
export class GroupMembership {
  /** The group's files. */
  readonly store: GroupStore;
  readonly #assignors: Readonly<Record<string, PartitionAssignor>>;

  /**
   * @param log the open log directory
   * @param groupId the group
   * @param assignors the assignors this process knows, by name (the built-in ones and any custom)
   * @throws {InvalidGroupIdError} for an empty, malformed or too long group id
   */
  constructor(
    log: LogDirectoryView,
    groupId: string,
    assignors: Readonly<Record<string, PartitionAssignor>> = BUILT_IN_ASSIGNORS,
  ) {
    this.store = new GroupStore(log, groupId);
    this.#assignors = assignors;
  }

  /**
   * A heartbeat: sets the member file's modification time to now.
   *
   * @returns `false` when the file is gone: the member was removed from the group
   */
  heartbeat(memberId: string): boolean {
    return this.store.touchMember(memberId);
  }

  /** The partition counts of the subscribed topics that exist. */
  #partitionsPerTopic(topics: Iterable<string>): Record<string, number> {
    const log = this.store.log;
    const out: Record<string, number> = {};
    for (const topic of [...new Set(topics)].sort()) {
      if (log.hasTopic(topic)) out[topic] = log.topic(topic).partitions;
    }
    return out;
  }

  /**
   * Whether the group needs a new generation: a member expired, joined or left, a subscription
   * or a partition count changed. Reads only; cheap enough for every heartbeat.
   */
  needsRebalance(now: number = Date.now()): boolean {
    const state = this.store.readState();
    if (!state) return true;
    const members = this.store.readMembers(now);
    if (members.some((m) => m.expired)) return true;
    if (!sameMembers(state, members)) return true;
    const counts = this.#partitionsPerTopic(members.flatMap((m) => m.topics));
    return JSON.stringify(counts) !== JSON.stringify(state.partitionsPerTopic);
  }

  /** Under the lock: removes expired members and writes a new generation if anything changed. */
  #rebalanceLocked(now: number): GroupState {
    const store = this.store;
    const all = store.readMembers(now);
    for (const m of all) {
      if (m.expired) store.removeMember(m.memberId);
    }
    const live = all.filter((m) => !m.expired);
    const state = store.readState();
    const counts = this.#partitionsPerTopic(live.flatMap((m) => m.topics));
    if (
      state && sameMembers(state, live) && JSON.stringify(counts) === JSON.stringify(state.partitionsPerTopic)
    ) return state;
    const known = live.map((m) => ({
      memberId: m.memberId,
      assignors: m.assignors.filter((name) => name in this.#assignors),
    }));
    const protocol = selectProtocol(known) ?? null;
    const assignment: Record<string, TopicPartition[]> = {};
    if (protocol !== null) {
      const computed = this.#assignors[protocol].assign(
        live.map((m) => ({
          memberId: m.memberId,
          topics: [...m.topics],
          ownedPartitions: [...(state?.assignment[m.memberId] ?? [])],
        })),
        counts,
      );
      for (const m of live) assignment[m.memberId] = sortTopicPartitions(computed[m.memberId] ?? []);
    }
    const next: GroupState = {
      version: 0,
      groupId: store.groupId,
      generation: (state?.generation ?? 0) + 1,
      protocol,
      leader: live[0]?.memberId ?? null,
      members: live.map((m) => ({
        memberId: m.memberId,
        clientId: m.clientId,
        topics: [...m.topics].sort(),
        assignors: m.assignors,
      })),
      assignment,
      partitionsPerTopic: counts,
      updatedAt: now,
    };
    store.writeState(next);
    return next;
  }

  /**
   * Runs a rebalance check under the lock (see {@linkcode GroupMembership.needsRebalance}).
   *
   * @returns the current state
   */
  async rebalance(): Promise<GroupState> {
    const before = this.store.readState()?.generation;
    const state = await this.store.locked(() => this.#rebalanceLocked(Date.now()));
    if (state.generation !== before) this.store.changed();
    return state;
  }

  /**
   * Adds a member: writes its file and starts a new generation.
   *
   * @throws {InconsistentGroupProtocolError} when no assignor of the member is supported by every
   *   live member (the member is not added)
   */
  async join(record: MemberRecord): Promise<GroupState> {
    const store = this.store;
    const state = await store.locked(() => {
      const now = Date.now();
      const live = store.readMembers(now).filter((m) => !m.expired && m.memberId !== record.memberId);
      if (live.length > 0 && selectProtocol([...live, record]) === undefined) {
        const common = live[0].assignors.filter((a) => live.every((m) => m.assignors.includes(a)));
        throw new InconsistentGroupProtocolError(store.groupId, record.assignors, common);
      }
      store.writeMember(record);
      return this.#rebalanceLocked(now);
    });
    store.changed();
    return state;
  }

  /** Removes a member and starts a new generation without it. */
  async leave(memberId: string): Promise<GroupState> {
    const state = await this.store.locked(() => {
      this.store.removeMember(memberId);
      return this.#rebalanceLocked(Date.now());
    });
    this.store.changed();
    return state;
  }

  /**
   * Claims a member's assignment of `generation`: records it as owned once no other live member
   * owns any of those partitions.
   *
   * @returns `"claimed"`; `"wait"` while another member still owns one; `"stale"` when the
   *   generation moved on; `"unknown"` when the member was removed from the group
   */
  async claim(
    memberId: string,
    generation: number,
    partitions: readonly TopicPartition[],
  ): Promise<ClaimResult> {
    const store = this.store;
    const result = await store.locked((): ClaimResult => {
      const now = Date.now();
      const state = store.readState();
      if (!state || state.generation !== generation) return "stale";
      const me = store.readMember(memberId);
      if (!me) return "unknown";
      const wanted = new Set(partitions.map(topicPartitionKey));
      for (const other of store.readMembers(now)) {
        if (other.memberId === memberId) continue;
        if (!other.owned.some((tp) => wanted.has(topicPartitionKey(tp)))) continue;
        if (!other.expired) return "wait";
        // Its owner is gone: a rebalance removes it (and moves the generation on).
        this.#rebalanceLocked(now);
        return "stale";
      }
      store.writeMember({ ...me, generation, owned: sortTopicPartitions(partitions) });
      return "claimed";
    });
    if (result === "stale") store.changed();
    return result;
  }

  /**
   * Records that a member owns nothing any more (after it revoked its partitions).
   *
   * @returns `false` when the member was removed from the group meanwhile
   */
  async release(memberId: string): Promise<boolean> {
    const store = this.store;
    const released = await store.locked(() => {
      const me = store.readMember(memberId);
      if (!me) return false;
      if (me.owned.length > 0) store.writeMember({ ...me, owned: [] });
      return true;
    });
    store.changed();
    return released;
  }

  /**
   * A new member record for this process.
   *
   * @param memberId the member id
   * @param clientId the client id
   * @param topics the subscription
   * @param assignors the assignor names, most preferred first
   * @param sessionTimeoutMs the session timeout
   */
  newMember(
    memberId: string,
    clientId: string,
    topics: string[],
    assignors: string[],
    sessionTimeoutMs: number,
  ): MemberRecord {
    const me = processIdentity();
    return {
      version: 0,
      groupId: this.store.groupId,
      memberId,
      clientId,
      pid: me.pid,
      hostname: me.hostname,
      bootId: me.bootId,
      startTime: me.startTime,
      topics: [...topics].sort(),
      assignors,
      sessionTimeoutMs,
      joinedAt: Date.now(),
      generation: 0,
      owned: [],
    };
  }
}

function sameMembers(state: GroupState, live: readonly MemberRecord[]): boolean {
  if (state.members.length !== live.length) return false;
  const byId = new Map(state.members.map((m) => [m.memberId, m]));
  for (const m of live) {
    const s = byId.get(m.memberId);
    if (!s) return false;
    if (JSON.stringify([...m.topics].sort()) !== JSON.stringify(s.topics)) return false;
    if (JSON.stringify(m.assignors) !== JSON.stringify(s.assignors)) return false;
  }
  return true;
}
