/**
 * One consumer group of the classic rebalance protocol, as Kafka's group coordinator runs it
 * (`group-coordinator/.../classic/ClassicGroup.java`, `GroupMetadataManager.classicGroupJoin*`,
 * KIP-62 rebalance timeouts, KIP-345 static membership, KIP-394 MEMBER_ID_REQUIRED):
 *
 * ```
 * Empty ──join──▶ PreparingRebalance ──all joined / rebalance timeout──▶ CompletingRebalance
 *   ▲                    ▲                                                   │ leader's SyncGroup
 *   └── last member ─────┴──── join, leave, session timeout ◀── Stable ◀─────┘
 * ```
 * Members are kept in memory: a JoinGroup waits until every member has rejoined (or the
 * rebalance timeout), then each gets the generation, the chosen protocol and the leader; the
 * leader also gets every member's metadata. The leader's SyncGroup hands each member its
 * assignment. A member that sends no heartbeat within its session timeout is removed.
 *
 * @module
 */
import { ErrorCode } from "../broker_context.ts";

/** Kafka's classic group states. */
export type ClassicGroupState = "Empty" | "PreparingRebalance" | "CompletingRebalance" | "Stable";

/** What a JoinGroup is answered with. */
export interface JoinResult {
  /** The error code (NONE, MEMBER_ID_REQUIRED, UNKNOWN_MEMBER_ID, …). */
  errorCode: number;
  /** The new generation, or -1. */
  generationId: number;
  /** The protocol type (`"consumer"`), or null. */
  protocolType: string | null;
  /** The protocol chosen, or null. */
  protocolName: string | null;
  /** The leader's member ID. */
  leader: string;
  /** The member's own ID. */
  memberId: string;
  /** For the leader: every member and its metadata for the chosen protocol; [] for the others. */
  members: { memberId: string; groupInstanceId: string | null; metadata: Uint8Array }[];
}

/** What a SyncGroup is answered with. */
export interface SyncResult {
  /** The error code. */
  errorCode: number;
  /** The protocol type, or null. */
  protocolType: string | null;
  /** The protocol chosen, or null. */
  protocolName: string | null;
  /** The member's assignment (empty when the leader gave none). */
  assignment: Uint8Array;
}

/** A JoinGroup request's fields, as the coordinator needs them. */
export interface JoinRequest {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: { name: string; metadata: Uint8Array }[];
  /** Whether the client knows MEMBER_ID_REQUIRED (JoinGroup v4+). */
  requireKnownMemberId: boolean;
}

/** One member of a group. */
export interface ClassicMember extends Omit<JoinRequest, "requireKnownMemberId"> {
  assignment: Uint8Array;
  /** The pending JoinGroup's answer, while it waits. */
  awaitingJoin?: (result: JoinResult) => void;
  /** The pending SyncGroup's answer, while it waits. */
  awaitingSync?: (result: SyncResult) => void;
  /** The session timer. */
  timer?: ReturnType<typeof setTimeout>;
}

const EMPTY = new Uint8Array(0);

const sameProtocols = (a: ClassicMember["protocols"], b: ClassicMember["protocols"]) =>
  a.length === b.length &&
  a.every((p, i) =>
    p.name === b[i].name && p.metadata.length === b[i].metadata.length &&
    p.metadata.every((x, j) => x === b[i].metadata[j])
  );

/**
 * A classic consumer group held in memory by the broker.
 *
 * @example Two members join; the leader assigns; both get their assignment
 * ```ts
 * import assert from "node:assert/strict";
 * import { ClassicGroup } from "./classic_group.ts";
 * const group = new ClassicGroup("g", 50); // the first rebalance waits 50 ms for more members
 * const join = (memberId: string) => group.join({
 *   memberId, groupInstanceId: null, clientId: "c", clientHost: "/127.0.0.1", sessionTimeoutMs: 10_000,
 *   rebalanceTimeoutMs: 10_000, protocolType: "consumer",
 *   protocols: [{ name: "range", metadata: new Uint8Array(0) }], requireKnownMemberId: false,
 * });
 * const [a, b] = await Promise.all([join(""), join("")]);
 * assert.equal(a.generationId, 1);
 * const leader = a.leader === a.memberId ? a : b;
 * const follower = leader === a ? b : a;
 * const syncs = Promise.all([
 *   group.sync(follower.memberId, 1, []),
 *   group.sync(leader.memberId, 1, [{ memberId: follower.memberId, assignment: new Uint8Array([7]) }]),
 * ]);
 * const [followerSync] = await syncs;
 * assert.deepEqual(followerSync.assignment, new Uint8Array([7]));
 * assert.equal(group.state, "Stable");
 * group.shutdown();
 * ```
 */
export class ClassicGroup {
  state: ClassicGroupState = "Empty";
  generationId = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  readonly members = new Map<string, ClassicMember>();
  /** Member IDs handed out with MEMBER_ID_REQUIRED, not yet joined. */
  readonly #pending = new Set<string>();
  /** Static members: group instance ID → member ID. */
  readonly #instances = new Map<string, string>();
  #joinTimer: ReturnType<typeof setTimeout> | undefined;
  /** Whether the current rebalance waits out the initial delay (it began with the group empty). */
  #delayed = false;
  #nextMemberNumber = 0;

  /**
   * @param groupId the group ID
   * @param initialRebalanceDelayMs how long the first rebalance of an empty group waits for more
   *   members (`group.initial.rebalance.delay.ms`)
   * @param onChange called after every state change (the coordinator drops empty groups)
   */
  constructor(
    readonly groupId: string,
    readonly initialRebalanceDelayMs: number,
    readonly onChange: () => void = () => {},
  ) {}

  #newMemberId(clientId: string): string {
    return `${clientId}-${crypto.randomUUID()}-${this.#nextMemberNumber++}`;
  }

  /** Whether `protocols` has a name every member supports. */
  supports(protocolType: string, protocols: { name: string }[]): boolean {
    if (this.members.size === 0) return protocolType.length > 0 && protocols.length > 0;
    if (protocolType !== this.protocolType) return false;
    return protocols.some((p) =>
      [...this.members.values()].every((m) => m.protocols.some((q) => q.name === p.name))
    );
  }

  /**
   * Handles a JoinGroup; resolves once the rebalance completes (or at once for an error or
   * MEMBER_ID_REQUIRED).
   */
  join(req: JoinRequest): Promise<JoinResult> {
    const fail = (errorCode: number, memberId = req.memberId): Promise<JoinResult> =>
      Promise.resolve({
        errorCode,
        generationId: -1,
        protocolType: null,
        protocolName: null,
        leader: "",
        memberId,
        members: [],
      });
    if (req.memberId === "") {
      if (req.groupInstanceId !== null && this.#instances.has(req.groupInstanceId)) {
        // A static member back with a new member ID: it takes the old one's place.
        const oldId = this.#instances.get(req.groupInstanceId)!;
        const old = this.members.get(oldId)!;
        const member: ClassicMember = {
          ...old,
          memberId: this.#newMemberId(req.clientId),
          awaitingJoin: undefined,
          awaitingSync: undefined,
          timer: undefined,
        };
        const wasLeader = this.leaderId === oldId;
        const unchanged = this.state === "Stable" && !wasLeader &&
          sameProtocols(old.protocols, req.protocols);
        this.#removeMember(oldId, ErrorCode.FENCED_INSTANCE_ID);
        this.#addMember(member, req);
        if (wasLeader) this.leaderId = member.memberId;
        if (unchanged) {
          // KIP-345: a static follower back with the same subscription keeps its assignment, and the
          // group does not rebalance.
          this.#touch(member);
          return Promise.resolve(this.#joinResult(member));
        }
        return this.#rejoin(member, req);
      }
      if (!this.supports(req.protocolType, req.protocols)) return fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
      const memberId = this.#newMemberId(req.clientId);
      if (req.requireKnownMemberId && req.groupInstanceId === null) {
        this.#pending.add(memberId);
        return fail(ErrorCode.MEMBER_ID_REQUIRED, memberId);
      }
      const member = this.#addMember({ memberId, assignment: EMPTY } as ClassicMember, req);
      return this.#rejoin(member, req);
    }
    if (this.#pending.delete(req.memberId)) {
      if (!this.supports(req.protocolType, req.protocols)) return fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
      const member = this.#addMember({ memberId: req.memberId, assignment: EMPTY } as ClassicMember, req);
      return this.#rejoin(member, req);
    }
    const member = this.members.get(req.memberId);
    if (!member) return fail(ErrorCode.UNKNOWN_MEMBER_ID);
    if (req.groupInstanceId !== null && member.groupInstanceId !== req.groupInstanceId) {
      return fail(ErrorCode.FENCED_INSTANCE_ID);
    }
    const others = [...this.members.values()].filter((m) => m !== member);
    if (
      others.length > 0 &&
      !req.protocols.some((p) => others.every((m) => m.protocols.some((q) => q.name === p.name)))
    ) return fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    // A follower of a stable group rejoining with the same protocols gets the current generation.
    if (
      this.state === "Stable" && this.leaderId !== member.memberId &&
      sameProtocols(member.protocols, req.protocols)
    ) {
      this.#touch(member);
      return Promise.resolve(this.#joinResult(member));
    }
    Object.assign(member, {
      sessionTimeoutMs: req.sessionTimeoutMs,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs,
      protocols: req.protocols,
    });
    return this.#rejoin(member, req);
  }

  #addMember(member: ClassicMember, req: JoinRequest): ClassicMember {
    Object.assign(member, {
      groupInstanceId: req.groupInstanceId,
      clientId: req.clientId,
      clientHost: req.clientHost,
      sessionTimeoutMs: req.sessionTimeoutMs,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs,
      protocolType: req.protocolType,
      protocols: req.protocols,
    });
    if (this.members.size === 0) this.protocolType = req.protocolType;
    this.members.set(member.memberId, member);
    if (req.groupInstanceId !== null) this.#instances.set(req.groupInstanceId, member.memberId);
    if (this.leaderId === null) this.leaderId = member.memberId;
    return member;
  }

  #rejoin(member: ClassicMember, _req: JoinRequest): Promise<JoinResult> {
    return new Promise((resolve) => {
      member.awaitingJoin?.({ ...this.#joinResult(member), errorCode: ErrorCode.UNKNOWN_MEMBER_ID });
      member.awaitingJoin = resolve;
      this.#touch(member);
      this.#prepareRebalance();
      this.#maybeCompleteJoin();
    });
  }

  #joinResult(member: ClassicMember): JoinResult {
    const leader = member.memberId === this.leaderId;
    return {
      errorCode: ErrorCode.NONE,
      generationId: this.generationId,
      protocolType: this.protocolType,
      protocolName: this.protocolName,
      leader: this.leaderId ?? "",
      memberId: member.memberId,
      members: leader
        ? [...this.members.values()].map((m) => ({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          metadata: m.protocols.find((p) => p.name === this.protocolName)?.metadata ?? EMPTY,
        }))
        : [],
    };
  }

  #prepareRebalance(): void {
    if (this.state === "PreparingRebalance") return;
    // Members waiting for their assignment learn that it will not come.
    for (const m of this.members.values()) {
      m.awaitingSync?.({
        errorCode: ErrorCode.REBALANCE_IN_PROGRESS,
        protocolType: null,
        protocolName: null,
        assignment: EMPTY,
      });
      m.awaitingSync = undefined;
    }
    const wasEmpty = this.state === "Empty";
    this.state = "PreparingRebalance";
    this.#delayed = wasEmpty && this.initialRebalanceDelayMs > 0;
    const timeout = wasEmpty
      ? this.initialRebalanceDelayMs
      : Math.max(0, ...[...this.members.values()].map((m) => m.rebalanceTimeoutMs));
    clearTimeout(this.#joinTimer);
    this.#joinTimer = setTimeout(() => this.#completeJoin(), timeout);
    this.onChange();
  }

  #maybeCompleteJoin(): void {
    if (this.state !== "PreparingRebalance") return;
    if (this.#delayed) return; // the initial delay runs its course
    if ([...this.members.values()].every((m) => m.awaitingJoin) && this.#pending.size === 0) {
      this.#completeJoin();
    }
  }

  #completeJoin(): void {
    clearTimeout(this.#joinTimer);
    this.#joinTimer = undefined;
    this.#delayed = false;
    if (this.state !== "PreparingRebalance") return;
    for (const m of [...this.members.values()]) {
      if (!m.awaitingJoin) this.#removeMember(m.memberId, ErrorCode.UNKNOWN_MEMBER_ID);
    }
    this.#pending.clear();
    this.generationId++;
    if (this.members.size === 0) {
      this.state = "Empty";
      this.protocolName = null;
      this.protocolType = null;
      this.leaderId = null;
      this.onChange();
      return;
    }
    this.protocolName = this.#selectProtocol();
    if (this.leaderId === null || !this.members.has(this.leaderId)) {
      this.leaderId = this.members.keys().next().value!;
    }
    this.state = "CompletingRebalance";
    for (const m of this.members.values()) {
      m.assignment = EMPTY;
      const answer = m.awaitingJoin!;
      m.awaitingJoin = undefined;
      this.#touch(m);
      answer(this.#joinResult(m));
    }
    this.onChange();
  }

  /** Kafka's `selectProtocol`: each member votes for its first protocol every member supports. */
  #selectProtocol(): string {
    const members = [...this.members.values()];
    const candidates = members[0].protocols.map((p) => p.name).filter((name) =>
      members.every((m) => m.protocols.some((p) => p.name === name))
    );
    const votes = new Map<string, number>();
    for (const m of members) {
      const vote = m.protocols.find((p) => candidates.includes(p.name))!.name;
      votes.set(vote, (votes.get(vote) ?? 0) + 1);
    }
    let best = candidates[0], most = -1;
    for (const name of candidates) {
      if ((votes.get(name) ?? 0) > most) [best, most] = [name, votes.get(name) ?? 0];
    }
    return best;
  }

  /** Handles a SyncGroup; resolves once the leader's assignment is there. */
  sync(
    memberId: string,
    generationId: number,
    assignments: { memberId: string; assignment: Uint8Array }[],
  ): Promise<SyncResult> {
    const fail = (errorCode: number) =>
      Promise.resolve({ errorCode, protocolType: null, protocolName: null, assignment: EMPTY });
    const member = this.members.get(memberId);
    if (!member) return fail(ErrorCode.UNKNOWN_MEMBER_ID);
    if (generationId !== this.generationId) return fail(ErrorCode.ILLEGAL_GENERATION);
    if (this.state === "PreparingRebalance") return fail(ErrorCode.REBALANCE_IN_PROGRESS);
    this.#touch(member);
    if (this.state === "Stable") return Promise.resolve(this.#syncResult(member));
    return new Promise((resolve) => {
      member.awaitingSync = resolve;
      if (memberId !== this.leaderId) return;
      for (const a of assignments) {
        const m = this.members.get(a.memberId);
        if (m) m.assignment = a.assignment;
      }
      this.state = "Stable";
      for (const m of this.members.values()) {
        const answer = m.awaitingSync;
        m.awaitingSync = undefined;
        answer?.(this.#syncResult(m));
      }
      this.onChange();
    });
  }

  #syncResult(member: ClassicMember): SyncResult {
    return {
      errorCode: ErrorCode.NONE,
      protocolType: this.protocolType,
      protocolName: this.protocolName,
      assignment: member.assignment,
    };
  }

  /** Handles a Heartbeat: the error code to answer with. */
  heartbeat(memberId: string, generationId: number): number {
    const member = this.members.get(memberId);
    if (!member) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (generationId !== this.generationId) return ErrorCode.ILLEGAL_GENERATION;
    this.#touch(member);
    return this.state === "PreparingRebalance" ? ErrorCode.REBALANCE_IN_PROGRESS : ErrorCode.NONE;
  }

  /**
   * Handles a LeaveGroup of one member (by member ID, or by group instance ID for a static member).
   *
   * @returns the error code for that member
   */
  leave(memberId: string, groupInstanceId: string | null): number {
    let id = memberId;
    if (groupInstanceId !== null) {
      const known = this.#instances.get(groupInstanceId);
      if (known === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
      if (id !== "" && id !== known) return ErrorCode.FENCED_INSTANCE_ID;
      id = known;
    }
    if (this.#pending.delete(id)) return ErrorCode.NONE;
    if (!this.members.has(id)) return ErrorCode.UNKNOWN_MEMBER_ID;
    this.#removeMember(id, ErrorCode.UNKNOWN_MEMBER_ID);
    this.#membershipChanged();
    return ErrorCode.NONE;
  }

  /** Checks whether an offset commit from this member and generation may be accepted. */
  validateCommit(memberId: string, generationId: number): number {
    if (generationId < 0 && memberId === "") {
      return this.members.size === 0 ? ErrorCode.NONE : ErrorCode.UNKNOWN_MEMBER_ID;
    }
    const member = this.members.get(memberId);
    if (!member) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (generationId !== this.generationId) return ErrorCode.ILLEGAL_GENERATION;
    if (this.state === "CompletingRebalance") return ErrorCode.REBALANCE_IN_PROGRESS;
    this.#touch(member);
    return ErrorCode.NONE;
  }

  #removeMember(memberId: string, errorCode: number): void {
    const m = this.members.get(memberId);
    if (!m) return;
    clearTimeout(m.timer);
    this.members.delete(memberId);
    if (m.groupInstanceId !== null && this.#instances.get(m.groupInstanceId) === memberId) {
      this.#instances.delete(m.groupInstanceId);
    }
    if (this.leaderId === memberId) this.leaderId = this.members.keys().next().value ?? null;
    m.awaitingJoin?.({ ...this.#joinResult(m), errorCode, members: [] });
    m.awaitingSync?.({ errorCode, protocolType: null, protocolName: null, assignment: EMPTY });
  }

  #membershipChanged(): void {
    if (this.state === "Stable" || this.state === "CompletingRebalance") this.#prepareRebalance();
    // The rebalance completes as soon as every remaining member has rejoined (at once when none remain).
    if (this.state === "PreparingRebalance") this.#maybeCompleteJoin();
    if (this.members.size === 0 && this.state !== "PreparingRebalance") {
      this.state = "Empty";
      this.onChange();
    }
  }

  /** Restarts a member's session timer (a heartbeat, a join, a sync, a commit). */
  #touch(member: ClassicMember): void {
    clearTimeout(member.timer);
    member.timer = setTimeout(() => {
      if (this.members.get(member.memberId) !== member) return;
      // A member waiting for its JoinGroup answer is not expired while the rebalance runs.
      if (member.awaitingJoin || member.awaitingSync) return this.#touch(member);
      this.#removeMember(member.memberId, ErrorCode.UNKNOWN_MEMBER_ID);
      this.#membershipChanged();
    }, member.sessionTimeoutMs);
  }

  /** Stops every timer and answers every waiting request with COORDINATOR_NOT_AVAILABLE. */
  shutdown(): void {
    clearTimeout(this.#joinTimer);
    for (const id of [...this.members.keys()]) this.#removeMember(id, ErrorCode.COORDINATOR_NOT_AVAILABLE);
  }
}
