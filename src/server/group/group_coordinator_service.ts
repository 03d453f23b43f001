/**
 * The broker's group coordinator (Kafka's `GroupCoordinatorService`): the classic groups of Kafka
 * clients, held in memory, and their committed offsets, kept in the log directory's `.groups/`
 * store through the public {@linkcode Consumer} API — the same files in-process consumers commit
 * to, so `reel groups` and `describeGroup()` show Kafka clients' offsets and lag.
 *
 * Membership is not shared with in-process consumers, and the two kinds never both own a
 * partition: a Kafka client that joins a group while an in-process consumer is a live member of
 * it is refused with INCONSISTENT_GROUP_PROTOCOL (as Kafka refuses a classic member of a group run
 * by another protocol). The other way round, while Kafka clients are members of a group the
 * broker keeps one member file in the group's directory standing for them, whose only assignor is
 * `kafka-classic-protocol`: an in-process `Consumer` that tries to join gets
 * {@linkcode InconsistentGroupProtocolError}, and `reel groups` shows the broker's member.
 *
 * @module
 */
import { Consumer } from "../../consumer/consumer.ts";
import { GroupMembership } from "../../consumer/_group_membership.ts";
import { deleteGroup, describeGroup, listGroups } from "../../consumer/group_admin.ts";
import { CommitFailedError, ReelError } from "../../errors.ts";
import type { LogDirectory } from "../../topic/log_directory.ts";
import { ErrorCode } from "../broker_context.ts";
import { ClassicGroup } from "./classic_group.ts";

/** The assignor of the member file standing for Kafka clients: no in-process consumer has it. */
export const STAND_IN_ASSIGNOR = "kafka-classic-protocol";

/** A committed offset as OffsetFetch answers it. */
export interface FetchedOffset {
  /** The partition. */
  partition: number;
  /** The committed offset, or -1 when none. */
  offset: number;
  /** The metadata committed with it, or null when none. */
  metadata: string | null;
}

/** Settings of the group coordinator (Kafka's `group.*` broker configs). */
export interface GroupCoordinatorOptions {
  /** `group.initial.rebalance.delay.ms`. @default 3000 */
  initialRebalanceDelayMs?: number;
  /** `group.min.session.timeout.ms`. @default 6000 */
  minSessionTimeoutMs?: number;
  /** `group.max.session.timeout.ms`. @default 1800000 */
  maxSessionTimeoutMs?: number;
}

/**
 * The groups a broker coordinates, and their offsets.
 *
 * @example Commit an offset for a group and fetch it back
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../../mod.ts";
 * import { GroupCoordinatorService } from "./group_coordinator_service.ts";
 * const log = await open(Deno.makeTempDirSync());
 * await log.createTopic("t");
 * const groups = new GroupCoordinatorService(log);
 * assert.equal(await groups.commitOffset("g", "t", 0, 5, ""), 0);
 * assert.deepEqual(groups.fetchOffsets("g", "t", [0]), [{ partition: 0, offset: 5, metadata: "" }]);
 * await groups.close();
 * await log.close();
 * ```
 */
export class GroupCoordinatorService {
  readonly #log: LogDirectory;
  readonly #groups = new Map<string, ClassicGroup>();
  readonly #offsetStores = new Map<string, Consumer>();
  readonly initialRebalanceDelayMs: number;
  readonly minSessionTimeoutMs: number;
  readonly maxSessionTimeoutMs: number;
  /** The member files standing for Kafka clients, by group ID. */
  readonly #standIns = new Map<
    string,
    { coordinator: GroupMembership; memberId: string; joined: Promise<unknown> }
  >();
  #standInTimer: ReturnType<typeof setInterval> | undefined;
  readonly #logLine: (line: string) => void;

  /**
   * @param log the log directory whose `.groups/` store keeps the offsets
   * @param options the coordinator's settings
   * @param logLine writes one line to the broker's log
   */
  constructor(
    log: LogDirectory,
    options: GroupCoordinatorOptions = {},
    logLine: (line: string) => void = () => {},
  ) {
    this.#log = log;
    this.#logLine = logLine;
    this.initialRebalanceDelayMs = options.initialRebalanceDelayMs ?? 3000;
    this.minSessionTimeoutMs = options.minSessionTimeoutMs ?? 6000;
    this.maxSessionTimeoutMs = options.maxSessionTimeoutMs ?? 1_800_000;
  }

  /** A group the broker holds members of, if any. */
  group(groupId: string): ClassicGroup | undefined {
    return this.#groups.get(groupId);
  }

  /** The group, created empty when missing. */
  groupOrCreate(groupId: string): ClassicGroup {
    let group = this.#groups.get(groupId);
    if (!group) {
      group = new ClassicGroup(groupId, this.initialRebalanceDelayMs, () => {
        if (group!.members.size > 0) this.#standIn(groupId);
        else this.#standDown(groupId);
        if (group!.state === "Empty" && group!.members.size === 0) this.#groups.delete(groupId);
      });
      this.#groups.set(groupId, group);
    }
    return group;
  }

  /** Writes the member file standing for the group's Kafka clients, and keeps it alive. */
  #standIn(groupId: string): void {
    if (this.#standIns.has(groupId)) return;
    const coordinator = new GroupMembership(this.#log, groupId);
    const memberId = `reel-serve-${crypto.randomUUID()}`;
    const record = coordinator.newMember(
      memberId,
      "reel serve (Kafka clients)",
      [],
      [STAND_IN_ASSIGNOR],
      30_000,
    );
    const joined = coordinator.join(record).catch((err) =>
      this.#logLine(
        `Cannot record Kafka clients' membership of group "${groupId}": ${(err as Error).message}`,
      )
    );
    this.#standIns.set(groupId, { coordinator, memberId, joined });
    this.#standInTimer ??= setInterval(() => {
      for (const s of this.#standIns.values()) {
        try {
          s.coordinator.heartbeat(s.memberId);
        } catch { /* retried at the next beat */ }
      }
    }, 3000);
  }

  /** Removes the member file standing for the group's Kafka clients. */
  #standDown(groupId: string): Promise<void> {
    const s = this.#standIns.get(groupId);
    if (!s) return Promise.resolve();
    this.#standIns.delete(groupId);
    if (this.#standIns.size === 0) {
      clearInterval(this.#standInTimer);
      this.#standInTimer = undefined;
    }
    return s.joined.then(() => s.coordinator.leave(s.memberId)).then(() => {}, () => {});
  }

  /** Whether an in-process consumer (of this or another process) is a live member of the group. */
  hasInProcessMembers(groupId: string): boolean {
    const standIn = this.#standIns.get(groupId)?.memberId;
    try {
      return describeGroup(this.#log, groupId).members.some((m) => !m.expired && m.memberId !== standIn);
    } catch {
      return false;
    }
  }

  /** Every group ID: those with Kafka clients as members and those in the `.groups/` store. */
  groupIds(): string[] {
    return [...new Set([...this.#groups.keys(), ...listGroups(this.#log)])].sort();
  }

  /**
   * Deletes a group with no live members, Kafka clients' or in-process (DeleteGroups).
   *
   * @returns the error code: NONE, GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP or INVALID_GROUP_ID
   */
  async deleteGroup(groupId: string): Promise<number> {
    if (groupId === "") return ErrorCode.INVALID_GROUP_ID;
    if ((this.#groups.get(groupId)?.members.size ?? 0) > 0) return ErrorCode.NON_EMPTY_GROUP;
    await this.#offsetStores.get(groupId)?.close();
    this.#offsetStores.delete(groupId);
    try {
      return await deleteGroup(this.#log, groupId) ? ErrorCode.NONE : ErrorCode.GROUP_ID_NOT_FOUND;
    } catch (err) {
      if (err instanceof ReelError) return err.errorCode;
      throw err;
    }
  }

  #offsetStore(groupId: string): Consumer {
    let store = this.#offsetStores.get(groupId);
    if (!store) {
      store = new Consumer(this.#log, { groupId, clientId: "reel-serve", enableAutoCommit: false });
      this.#offsetStores.set(groupId, store);
    }
    return store;
  }

  /**
   * Commits one partition's offset for a group, durably.
   *
   * @returns the error code (NONE, UNKNOWN_TOPIC_OR_PARTITION, INVALID_GROUP_ID, or a
   *   {@linkcode CommitFailedError}'s when an in-process member owns the partition)
   */
  async commitOffset(
    groupId: string,
    topic: string,
    partition: number,
    offset: number,
    metadata: string | null,
  ): Promise<number> {
    if (!this.#log.hasTopic(topic) || !(partition >= 0 && partition < this.#log.topic(topic).partitions)) {
      return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    }
    if (!Number.isSafeInteger(offset) || offset < 0) return ErrorCode.OFFSET_OUT_OF_RANGE;
    try {
      await this.#offsetStore(groupId).commit([{ topic, partition, offset, metadata: metadata ?? "" }]);
      return ErrorCode.NONE;
    } catch (err) {
      if (err instanceof CommitFailedError || err instanceof ReelError) return err.errorCode;
      if (err instanceof TypeError || err instanceof RangeError) return ErrorCode.INVALID_GROUP_ID;
      throw err;
    }
  }

  /**
   * A group's committed offsets for some partitions of a topic.
   *
   * @returns one entry per partition asked (offset -1 when none)
   */
  fetchOffsets(groupId: string, topic: string, partitions: readonly number[]): FetchedOffset[] {
    return partitions.map((partition) => {
      let committed = null;
      try {
        committed = this.#offsetStore(groupId).committed({ topic, partition });
      } catch { /* an invalid group or topic name has no offsets */ }
      return { partition, offset: committed?.offset ?? -1, metadata: committed?.metadata ?? null };
    });
  }

  /** Every committed offset of a group, by topic. */
  allOffsets(groupId: string): Map<string, FetchedOffset[]> {
    const out = new Map<string, FetchedOffset[]>();
    let offsets;
    try {
      offsets = describeGroup(this.#log, groupId).offsets;
    } catch {
      return out;
    }
    for (const o of offsets) {
      if (o.committedOffset === null) continue;
      let list = out.get(o.topic);
      if (!list) out.set(o.topic, list = []);
      list.push({ partition: o.partition, offset: o.committedOffset, metadata: o.metadata });
    }
    return out;
  }

  /** Stops every group's timers and closes the offset stores. */
  async close(): Promise<void> {
    for (const group of this.#groups.values()) group.shutdown();
    this.#groups.clear();
    await Promise.all([...this.#standIns.keys()].map((id) => this.#standDown(id)));
    // Shutting down: one store that cannot close must not keep the others open.
    await Promise.all([...this.#offsetStores.values()].map((c) => c.close().catch(() => {})));
    this.#offsetStores.clear();
  }
}
