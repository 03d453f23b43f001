/**
 * Looking at consumer groups from outside: which groups a log directory has, and for one group
 * its members, their assignments, the committed offsets and the lag (Kafka's
 * `Admin.listConsumerGroups` / `describeConsumerGroups` / `listConsumerGroupOffsets`, and
 * `kafka-consumer-groups.sh --describe`). Reads only.
 *
 * @module
 */
import { fs, removeDirectory, renameFile } from "../runtime/file_system.ts";
import type { LogDirectoryView } from "./log_directory_view.ts";
import { GroupMembership } from "./_group_membership.ts";
import { withGroupLock } from "./_group_store.ts";
import { OffsetStore } from "./offset_store.ts";
import { GroupNotEmptyError } from "../errors.ts";
import { decodeGroupId, groupDirPath, GROUPS_DIR } from "../runtime/log_paths.ts";
import { sortTopicPartitions, type TopicPartition, topicPartitionKey } from "./types.ts";

/**
 * A group's state, in Kafka's classic-protocol terms: `"Empty"` (no live member),
 * `"PreparingRebalance"` (membership changed since the last generation was computed),
 * `"CompletingRebalance"` (members are handing partitions over), `"Stable"`.
 */
export type GroupStateName = "Empty" | "PreparingRebalance" | "CompletingRebalance" | "Stable";

/** One member of a group. */
export interface GroupMemberDescription {
  /** The member id. */
  memberId: string;
  /** The consumer's client id. */
  clientId: string;
  /** The member's process id. */
  pid: number;
  /** The member's host. */
  hostname: string;
  /** The topics it subscribed to. */
  topics: string[];
  /** The partitions the current generation assigns it. */
  assignment: TopicPartition[];
  /** The partitions it reads now (differs from `assignment` during a rebalance). */
  owned: TopicPartition[];
  /** Its last heartbeat, ms since the epoch. */
  lastHeartbeat: number;
  /** Whether it missed its session timeout or its process is gone (it is removed at the next check). */
  expired: boolean;
}

/** One partition of a group's view: committed offset, log end, lag, owner. */
export interface GroupPartitionOffset extends TopicPartition {
  /** The committed offset, or `null` when the group has none. */
  committedOffset: number | null;
  /** The metadata committed with it (`""` when none). */
  metadata: string;
  /** When it was committed, ms since the epoch (`null` when never). */
  commitTimestamp: number | null;
  /** The partition's log start offset (`null` when the topic no longer exists). */
  logStartOffset: number | null;
  /** The partition's log end offset (`null` when the topic no longer exists). */
  logEndOffset: number | null;
  /** `logEndOffset − committedOffset`, or `null` without both. */
  lag: number | null;
  /** The member that owns the partition now, if any. */
  memberId: string | null;
}

/** What {@linkcode describeGroup} reports. */
export interface GroupDescription {
  /** The group. */
  groupId: string;
  /** The group's state. */
  state: GroupStateName;
  /** The current generation (0 before the first join). */
  generation: number;
  /** The assignor in use, or `null`. */
  protocol: string | null;
  /** The members, live and expired-not-yet-removed, by member id. */
  members: GroupMemberDescription[];
  /** Per partition of the subscribed topics and of every committed offset, sorted. */
  offsets: GroupPartitionOffset[];
}

/**
 * The consumer groups of a log directory (every group that ever joined or committed).
 *
 * @param log the open log directory
 * @returns the group ids, sorted
 * @example The groups that committed or joined
 * ```ts
 * import assert from "node:assert/strict";
 * import { Consumer, listGroups, open } from "../../mod.ts";
 * const log = await open(Deno.makeTempDirSync());
 * await log.createTopic("events");
 * assert.deepEqual(listGroups(log), []);
 * const consumer = new Consumer(log, { groupId: "billing" });
 * await consumer.commit([{ topic: "events", partition: 0, offset: 0 }]);
 * await consumer.close();
 * assert.deepEqual(listGroups(log), ["billing"]);
 * await log.close();
 * ```
 */
export function listGroups(log: LogDirectoryView): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(`${log.dir}/${GROUPS_DIR}`);
  } catch {
    return [];
  }
  return names.map(decodeGroupId).filter((id): id is string => id !== undefined).sort();
}

/**
 * Describes a consumer group: state, generation, members with their assignments, and per
 * partition the committed offset, the log end offset and the lag.
 *
 * @param log the open log directory
 * @param groupId the group
 * @returns the description (an `"Empty"` group with no offsets when the group does not exist)
 * @throws {TypeError} for an invalid group id
 * @example A group's committed offsets and lag
 * ```ts
 * import assert from "node:assert/strict";
 * import { Consumer, describeGroup, open } from "../../mod.ts";
 * const log = await open(Deno.makeTempDirSync());
 * const topic = await log.createTopic("events");
 * await topic.append([{ value: "a" }, { value: "b" }, { value: "c" }]);
 * const consumer = new Consumer(log, { groupId: "billing" });
 * await consumer.commit([{ topic: "events", partition: 0, offset: 1 }]);
 * await consumer.close();
 * const group = describeGroup(log, "billing");
 * assert.equal(group.state, "Empty");
 * assert.deepEqual(group.offsets.map((o) => [o.committedOffset, o.logEndOffset, o.lag]), [[1, 3, 2]]);
 * await log.close();
 * ```
 */
export function describeGroup(log: LogDirectoryView, groupId: string): GroupDescription {
  const group = new GroupMembership(log, groupId);
  const now = Date.now();
  const state = group.store.readState();
  const members = group.store.readMembers(now);
  const live = members.filter((m) => !m.expired);
  let stateName: GroupStateName;
  if (live.length === 0) stateName = "Empty";
  else if (group.needsRebalance(now)) stateName = "PreparingRebalance";
  else {
    const settled = live.every((m) =>
      m.generation === state!.generation &&
      JSON.stringify(sortTopicPartitions(m.owned)) === JSON.stringify(state!.assignment[m.memberId] ?? [])
    );
    stateName = settled ? "Stable" : "CompletingRebalance";
  }
  const owners = new Map<string, string>();
  for (const m of live) for (const tp of m.owned) owners.set(topicPartitionKey(tp), m.memberId);

  const committed = new Map(
    new OffsetStore(group.store).listCommitted().map((c) => [topicPartitionKey(c), c]),
  );
  const partitions = new Map<string, TopicPartition>();
  for (const c of committed.values()) {
    partitions.set(topicPartitionKey(c), { topic: c.topic, partition: c.partition });
  }
  for (const topic of new Set(live.flatMap((m) => m.topics))) {
    if (!log.hasTopic(topic)) continue;
    for (let p = 0; p < log.topic(topic).partitions; p++) {
      partitions.set(topicPartitionKey({ topic, partition: p }), { topic, partition: p });
    }
  }
  const offsets: GroupPartitionOffset[] = sortTopicPartitions([...partitions.values()]).map((tp) => {
    const c = committed.get(topicPartitionKey(tp));
    let logStartOffset: number | null = null, logEndOffset: number | null = null;
    if (log.hasTopic(tp.topic) && tp.partition < log.topic(tp.topic).partitions) {
      const pl = log.topic(tp.topic).partition(tp.partition);
      if (!pl.closed) pl.refresh();
      logStartOffset = pl.logStartOffset;
      logEndOffset = pl.logEndOffset;
    }
    return {
      topic: tp.topic,
      partition: tp.partition,
      committedOffset: c?.offset ?? null,
      metadata: c?.metadata ?? "",
      commitTimestamp: c?.commitTimestamp ?? null,
      logStartOffset,
      logEndOffset,
      lag: c !== undefined && logEndOffset !== null ? Math.max(0, logEndOffset - c.offset) : null,
      memberId: owners.get(topicPartitionKey(tp)) ?? null,
    };
  });
  return {
    groupId,
    state: stateName,
    generation: state?.generation ?? 0,
    protocol: state?.protocol ?? null,
    members: members.map((m) => ({
      memberId: m.memberId,
      clientId: m.clientId,
      pid: m.pid,
      hostname: m.hostname,
      topics: [...m.topics],
      assignment: state?.assignment[m.memberId] ?? [],
      owned: sortTopicPartitions(m.owned),
      lastHeartbeat: m.lastHeartbeat,
      expired: m.expired,
    })),
    offsets,
  };
}

/**
 * Deletes a consumer group: its committed offsets, state and member files (Kafka's DeleteGroups,
 * `kafka-consumer-groups --delete`). Only a group without live members can be deleted; the
 * group's lock is held meanwhile, so no member joins halfway.
 *
 * @param log the open log directory
 * @param groupId the group
 * @returns `true` when the group existed and is gone, `false` when there was no such group
 * @throws {InvalidGroupIdError} for an empty, malformed or too long group id
 * @throws {GroupNotEmptyError} (NON_EMPTY_GROUP) while the group has live members
 * @throws {StorageError} when its files cannot be removed
 * @example Delete a group that only committed offsets
 * ```ts
 * import assert from "node:assert/strict";
 * import { Consumer, deleteGroup, listGroups, open } from "../../mod.ts";
 * const log = await open(Deno.makeTempDirSync());
 * await log.createTopic("events");
 * const consumer = new Consumer(log, { groupId: "billing" });
 * await consumer.commit([{ topic: "events", partition: 0, offset: 0 }]);
 * await consumer.close();
 * assert.equal(await deleteGroup(log, "billing"), true);
 * assert.deepEqual(listGroups(log), []);
 * assert.equal(await deleteGroup(log, "billing"), false);
 * await log.close();
 * ```
 */
export async function deleteGroup(log: LogDirectoryView, groupId: string): Promise<boolean> {
  const dir = groupDirPath(log.dir, groupId);
  if (!fs.existsSync(dir)) return false;
  return await withGroupLock(dir, groupId, () => {
    const live = describeGroup(log, groupId).members.filter((m) => !m.expired).length;
    if (live > 0) throw new GroupNotEmptyError(groupId, live);
    // Renamed away first, so the group is gone at once even if a crash stops the removal.
    const doomed = `${log.dir}/${GROUPS_DIR}/.${crypto.randomUUID()}.deleted`;
    renameFile(dir, doomed);
    removeDirectory(doomed);
    return true;
  });
}
