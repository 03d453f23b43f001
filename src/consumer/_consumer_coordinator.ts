/**
 * The consumer's side of its group (Kafka's `ConsumerCoordinator`): joining, following the
 * generations (revoke, claim, the rebalance listener), heartbeats, leaving, and the group's
 * committed offsets: commits (manual and automatic) and the committed offset a partition starts
 * from. The group's files are `_group_membership.ts`'s and `offset_store.ts`'s to change.
 *
 * @module
 */
import { watchDirectory } from "../runtime/watch.ts";
import type { ConsumerConfig } from "./consumer_config.ts";
import { checkTopicPartition, type LogDirectoryView } from "./log_directory_view.ts";
import { GroupMembership } from "./_group_membership.ts";
import type { SubscriptionState } from "./_subscription_state.ts";
import { OffsetStore } from "./offset_store.ts";
import {
  type CommittedOffset,
  type OffsetToCommit,
  sortTopicPartitions,
  type TopicPartition,
} from "./types.ts";

/**
 * One consumer's membership of its group, and its commits.
 *
 * @example A member joins, owns the only partition, commits its position and leaves
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../mod.ts";
 * import { ConsumerCoordinator } from "./_consumer_coordinator.ts";
 * import { consumerConfig } from "./consumer_config.ts";
 * import { SubscriptionState } from "./_subscription_state.ts";
 * const log = await open(Deno.makeTempDirSync());
 * await log.createTopic("events");
 * const config = consumerConfig({ groupId: "billing" });
 * const subscriptions = new SubscriptionState({ maxBytes: 1 << 20 }, () => {});
 * subscriptions.subscription = ["events"];
 * const coordinator = new ConsumerCoordinator(log, "billing", config, subscriptions, () => {}, () => false);
 * await coordinator.coordinate();
 * assert.deepEqual(subscriptions.assignment(), [{ topic: "events", partition: 0 }]);
 * assert.equal(coordinator.generation, 1);
 * await coordinator.commit([{ topic: "events", partition: 0, offset: 0 }]);
 * assert.equal(coordinator.committed({ topic: "events", partition: 0 })?.offset, 0);
 * await coordinator.leaveGroup();
 * assert.equal(coordinator.memberId, undefined);
 * await log.close();
 * ```
 */
export class ConsumerCoordinator {
  readonly #log: LogDirectoryView;
  readonly #config: ConsumerConfig;
  readonly #subscriptions: SubscriptionState;
  readonly #group: GroupMembership;
  readonly #offsets: OffsetStore;
  readonly #wakeUp: () => void;
  readonly #isClosed: () => boolean;

  /** When the application last polled, ms since the epoch (for `maxPollIntervalMs`). */
  lastPollAt: number = Date.now();
  #lastAutoCommit = Date.now();
  #commits = new Set<Promise<void>>();

  #memberId: string | undefined;
  #generation = -1;
  #pending: TopicPartition[] | undefined;
  #groupDirty = true;
  #expelled = false;
  #resubscribe = false;
  #heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  #heartbeating = false;
  #stopGroupWatch: (() => void) | undefined;
  #stopGroupListener: (() => void) | undefined;

  /**
   * @param log the open log directory
   * @param groupId the group
   * @param config the consumer's configuration
   * @param subscriptions the consumer's subscription and assigned partitions
   * @param wakeUp wakes a waiting poll (the group changed)
   * @param isClosed whether the consumer is closed (its heartbeats stop)
   * @throws {InvalidGroupIdError} for an empty, malformed or too long group id
   */
  constructor(
    log: LogDirectoryView,
    groupId: string,
    config: ConsumerConfig,
    subscriptions: SubscriptionState,
    wakeUp: () => void,
    isClosed: () => boolean,
  ) {
    this.#log = log;
    this.#config = config;
    this.#subscriptions = subscriptions;
    this.#group = new GroupMembership(log, groupId, config.assignors);
    this.#offsets = new OffsetStore(this.#group.store);
    this.#wakeUp = wakeUp;
    this.#isClosed = isClosed;
  }

  /** This member's id, once it has joined. */
  get memberId(): string | undefined {
    return this.#memberId;
  }

  /** The generation of the assignment this member holds (-1 before it holds one). */
  get generation(): number {
    return this.#generation;
  }

  /**
   * Notes a new subscription: the group flow looks at the group again at the next poll.
   *
   * @param changed whether the topics differ from the earlier subscription (the member rejoins)
   */
  subscribed(changed: boolean): void {
    if (changed) this.#resubscribe = true;
    this.#groupDirty = true;
  }

  // --- committed offsets ----------------------------------------------------------------------

  /** The group's committed offset of a partition, or `undefined` when it has none. */
  committed(tp: TopicPartition): CommittedOffset | undefined {
    return this.#offsets.readCommitted(tp);
  }

  /**
   * Commits offsets for the group, durably; only a partition's owner may commit it.
   *
   * @param offsets what to commit (default: the position of every assigned partition that has one)
   * @throws {UnknownTopicOrPartitionError} for a topic or partition that does not exist (nothing is
   *   committed then)
   * @throws {CommitFailedError} when this member does not own a partition
   * @throws {StorageError} when the files cannot be written
   */
  async commit(offsets?: OffsetToCommit[]): Promise<void> {
    const list = offsets ?? this.#subscriptions.positions();
    for (const o of list) {
      if (typeof o?.topic !== "string") {
        throw new TypeError(`Cannot commit ${JSON.stringify(o)}: expected { topic, partition, offset }`);
      }
      if (!Number.isSafeInteger(o.offset) || o.offset < 0) {
        throw new RangeError(
          `Cannot commit offset ${o.offset} of "${o.topic}-${o.partition}": must be a whole number, 0 or more`,
        );
      }
      // Only a topic-partition that exists is committed, as Kafka's broker answers
      // UNKNOWN_TOPIC_OR_PARTITION: nothing is written for a name or number that is not one.
      checkTopicPartition(this.#log, o);
    }
    const memberId = this.#subscriptions.subscription !== undefined ? (this.#memberId ?? "") : undefined;
    const done = this.#offsets.commit(memberId, list);
    this.#commits.add(done);
    try {
      await done;
    } finally {
      this.#commits.delete(done);
    }
  }

  /** Waits for the commits in flight, so that they land while this member still owns the partitions. */
  async commitsSettled(): Promise<void> {
    while (this.#commits.size > 0) await Promise.allSettled([...this.#commits]);
  }

  /** Auto-commit: commits the positions when `autoCommitIntervalMs` has passed since the last time. */
  async maybeAutoCommit(): Promise<void> {
    const config = this.#config;
    if (!config.enableAutoCommit || Date.now() - this.#lastAutoCommit < config.autoCommitIntervalMs) return;
    this.#lastAutoCommit = Date.now();
    try {
      await this.commit();
    } catch { /* a rebalance is on its way; the next owner reads those records again */ }
  }

  /**
   * On close: waits for the commits in flight, then leaves the group (revoking the partitions) or,
   * with a manual assignment and auto-commit, commits the positions (a failure is ignored).
   */
  async close(): Promise<void> {
    await this.commitsSettled();
    if (this.#subscriptions.subscription !== undefined) await this.leaveGroup();
    else if (this.#config.enableAutoCommit && this.#subscriptions.size > 0) {
      // As Kafka's consumer on close: a failed auto-commit is not the close's error; the next
      // member starts from the last committed offset.
      await this.commit().catch(() => {});
    }
  }

  // --- the group flow -------------------------------------------------------------------------

  /** Runs the group flow until it settles (or waits for another member). */
  async coordinate(): Promise<void> {
    for (let round = 0; round < 8; round++) {
      if (!(await this.#coordinateOnce())) return;
    }
  }

  /** One step of the group flow; `true` when the next step should run at once. */
  async #coordinateOnce(): Promise<boolean> {
    const group = this.#group;
    const subscriptions = this.#subscriptions;
    if (this.#expelled) {
      this.#expelled = false;
      await this.#losePartitions();
      this.#memberId = undefined;
    }
    if (this.#resubscribe && this.#memberId !== undefined) {
      this.#resubscribe = false;
      await this.leaveGroup();
    }
    if (this.#memberId === undefined) {
      this.#resubscribe = false;
      const config = this.#config;
      const memberId = `${
        config.clientId.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 64)
      }-${crypto.randomUUID()}`;
      await group.join(
        group.newMember(
          memberId,
          config.clientId,
          subscriptions.subscription!,
          [...config.assignorNames],
          config.sessionTimeoutMs,
        ),
      );
      this.#memberId = memberId;
      this.#generation = -1;
      this.#groupDirty = true;
      this.#startGroup();
    }
    if (this.#groupDirty) {
      this.#groupDirty = false;
      const state = group.store.readState();
      if (state === undefined || !(this.#memberId! in state.assignment)) {
        // The state does not know this member: it was removed (its file is gone), or a
        // rebalance is due.
        if (group.store.readMember(this.#memberId!) === undefined) this.#expelled = true;
        else await group.rebalance();
        this.#groupDirty = true;
        return true;
      }
      if (state.generation !== this.#generation) {
        await this.#revokeAll();
        if (this.#expelled) return true;
        this.#generation = state.generation;
        this.#pending = state.assignment[this.#memberId!] ?? [];
      }
    }
    if (this.#pending !== undefined) {
      const result = await group.claim(this.#memberId!, this.#generation, this.#pending);
      if (result === "stale") {
        this.#groupDirty = true;
        return true;
      }
      if (result === "unknown") {
        this.#expelled = true;
        return true;
      }
      if (result === "wait") return false; // woken when the owner releases (its file changes)
      const assigned = this.#pending;
      this.#pending = undefined;
      const log = this.#log;
      for (const tp of assigned) {
        if (log.hasTopic(tp.topic)) subscriptions.add(tp, log.topic(tp.topic).partition(tp.partition));
      }
      await subscriptions.listener.onPartitionsAssigned?.(sortTopicPartitions(assigned));
    }
    return false;
  }

  /** Gives up every owned partition: auto-commit, `onPartitionsRevoked`, then the claim. */
  async #revokeAll(): Promise<void> {
    this.#pending = undefined;
    const subscriptions = this.#subscriptions;
    if (subscriptions.size === 0) return;
    const revoked = subscriptions.assignment();
    let error: unknown;
    try {
      await this.commitsSettled();
      // A failed auto-commit before a rebalance is not the rebalance's error (Kafka logs it): the
      // partitions' next owner starts from the last committed offset.
      if (this.#config.enableAutoCommit) await this.commit().catch(() => {});
      await subscriptions.listener.onPartitionsRevoked?.(revoked);
    } catch (err) {
      error = err;
    }
    subscriptions.clear();
    if (this.#memberId !== undefined && !(await this.#group.release(this.#memberId))) {
      this.#expelled = true;
    }
    if (error !== undefined) throw error;
  }

  /** After removal from the group: the partitions are gone already. */
  async #losePartitions(): Promise<void> {
    this.#pending = undefined;
    const subscriptions = this.#subscriptions;
    if (subscriptions.size === 0) return;
    const lost = subscriptions.assignment();
    subscriptions.clear();
    const listener = subscriptions.listener;
    if (listener.onPartitionsLost) await listener.onPartitionsLost(lost);
    else await listener.onPartitionsRevoked?.(lost);
  }

  /** Leaves the group, after revoking the partitions (or losing them, when it was removed). */
  async leaveGroup(): Promise<void> {
    if (this.#memberId === undefined) return;
    try {
      if (this.#expelled) await this.#losePartitions();
      else await this.#revokeAll();
    } finally {
      const memberId = this.#memberId;
      this.#memberId = undefined;
      this.#generation = -1;
      this.#expelled = false;
      this.stop();
      await this.#group.leave(memberId);
    }
  }

  #startGroup(): void {
    const store = this.#group.store;
    if (this.#heartbeatTimer === undefined) {
      this.#heartbeatTimer = setInterval(() => this.#heartbeat(), this.#config.heartbeatIntervalMs);
      (this.#heartbeatTimer as unknown as { unref?: () => void }).unref?.();
    }
    this.#stopGroupListener ??= store.onChange(() => {
      this.#groupDirty = true;
      this.#wakeUp();
    });
    if (this.#stopGroupWatch === undefined) {
      store.ensureDir();
      // Before watching: a named pipe in the group's directory would hang Deno's watcher thread.
      store.checkFiles();
      this.#stopGroupWatch = watchDirectory(store.dir, (name) => {
        // Offsets and the lock change often and say nothing about membership.
        if (name === ".lock" || (name !== undefined && /\.(tmp|new|takeover)$/.test(name))) return;
        this.#groupDirty = true;
        this.#wakeUp();
      }, { keepAlive: false, fallbackMs: this.#config.heartbeatIntervalMs });
    }
  }

  /** Stops heartbeating and watching the group. */
  stop(): void {
    if (this.#heartbeatTimer !== undefined) clearInterval(this.#heartbeatTimer);
    this.#heartbeatTimer = undefined;
    this.#stopGroupWatch?.();
    this.#stopGroupWatch = undefined;
    this.#stopGroupListener?.();
    this.#stopGroupListener = undefined;
  }

  /** The heartbeat: touch the member file; expire others and rebalance when something changed. */
  async #heartbeat(): Promise<void> {
    if (this.#memberId === undefined || this.#heartbeating || this.#isClosed()) return;
    // An application that stopped polling stops heartbeating, so the group moves on without it.
    if (Date.now() - this.lastPollAt > this.#config.maxPollIntervalMs) return;
    this.#heartbeating = true;
    try {
      const group = this.#group;
      if (!group.heartbeat(this.#memberId)) {
        this.#expelled = true;
      } else if (group.needsRebalance()) {
        await group.rebalance();
      }
      this.#groupDirty = true;
      this.#wakeUp();
    } catch {
      /* tried again at the next heartbeat */
    } finally {
      this.#heartbeating = false;
    }
  }
}
