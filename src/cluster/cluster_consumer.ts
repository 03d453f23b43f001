/**
 * `ClusterConsumer`: Kafka's `KafkaConsumer` calls over a Kafka cluster, with the API of reel's
 * `Consumer`: subscribe or assign, poll, commit, seek, pause, for-await. The group is Kafka's own
 * (the classic protocol: JoinGroup, SyncGroup, Heartbeat, through @platformatic/kafka), and commits
 * are Kafka's group offsets (OffsetCommit), so Kafka's tools and any other client see them.
 *
 * @module
 */
import type { Consumer as KafkaConsumer, GroupAssignment } from "@platformatic/kafka";
import { CommitFailedError, NoOffsetForPartitionError } from "../errors.ts";
import type { ConsumedRecord } from "../record/consumed_record.ts";
import type { ConsumerOptions, PollOptions } from "../consumer/consumer.ts";
import type {
  CommittedOffset,
  ConsumerRebalanceListener,
  OffsetToCommit,
  TopicPartition,
} from "../consumer/types.ts";
import type { ConsumerLike } from "./log_directory_like.ts";
import { clientOptionsOf, type ClusterConnection } from "./cluster_connection.ts";
import { Fetcher, outOfRangeError } from "./_fetcher.ts";
import { kafkaErrorNames } from "./_kafka_mapping.ts";

const key = (tp: TopicPartition) => `${tp.topic}:${tp.partition}`;

interface PartitionState {
  tp: TopicPartition;
  /** The next offset to hand out; undefined until found (committed offset or reset). */
  position: number | undefined;
  paused: boolean;
}

/**
 * A consumer over a Kafka cluster (from `connect()`), with the API of reel's `Consumer`: what
 * `new Consumer(connection, options)` makes (as `new ClusterConsumer(connection, options)` does).
 *
 * - `subscribe(topics)` joins Kafka's consumer group `groupId` (the classic protocol); `assign()`
 *   reads the partitions given, without joining.
 * - `poll()` fetches from the partition leaders; `commit()` writes Kafka's committed offsets
 *   (OffsetCommit), which `kafka-consumer-groups --describe` shows and any Kafka client resumes from.
 * - `enableAutoCommit` (the default with a groupId) commits every `autoCommitIntervalMs` from within
 *   `poll` and on `close()`.
 *
 * @example Typed as a ConsumerLike, the same loop runs on a directory or a cluster
 * ```ts
 * import assert from "node:assert/strict";
 * import { createConsumer, open } from "../../mod.ts";
 * const log = await open(Deno.makeTempDirSync()); // or: await connect({ bootstrapServers })
 * await (await log.createTopic("orders")).append([{ value: "a" }]);
 * const consumer = createConsumer(log, { groupId: "billing", autoOffsetReset: "earliest" });
 * consumer.subscribe(["orders"]);
 * assert.equal((await consumer.poll({ timeoutMs: 1_000 })).length, 1);
 * await consumer.close();
 * await log.close();
 * ```
 */
export class ClusterConsumer implements ConsumerLike {
  readonly #client: KafkaConsumer;
  readonly #fetcher: Fetcher;
  readonly #options: ConsumerOptions;
  readonly #groupId: string | undefined;
  readonly #partitions = new Map<string, PartitionState>();
  readonly #buffer: ConsumedRecord[] = [];
  #subscription: string[] = [];
  #listener: ConsumerRebalanceListener = {};
  #joining: Promise<void> | undefined;
  #mode: "none" | "subscribe" | "assign" = "none";
  #lastAutoCommit = Date.now();
  #closed = false;

  /**
   * Makes a consumer of a connection's cluster (as `new Consumer(log, options)` does of a log
   * directory).
   *
   * @param connection from `connect()`
   * @param options as reel's `Consumer`: `groupId`, `autoOffsetReset` (`"latest"`),
   *   `enableAutoCommit`, `autoCommitIntervalMs` (5000), `sessionTimeoutMs` (45000),
   *   `heartbeatIntervalMs` (3000), `maxPollIntervalMs` (300000, the rebalance timeout),
   *   `maxPollRecords` (500), `maxBytes`, `isolationLevel`, `clientId`
   * @throws {TypeError} when `connection` was not made by `connect()`
   */
  constructor(connection: ClusterConnection, options: ConsumerOptions = {}) {
    const { options: base, kafka } = clientOptionsOf(connection);
    const client = new kafka.Consumer({
      ...base,
      clientId: options.clientId ?? base.clientId,
      groupId: options.groupId ?? `reel-assign-${crypto.randomUUID()}`,
      autocommit: false,
      sessionTimeout: options.sessionTimeoutMs ?? 45_000,
      heartbeatInterval: options.heartbeatIntervalMs ?? 3_000,
      rebalanceTimeout: options.maxPollIntervalMs ?? 300_000,
    });
    this.#client = client;
    this.#options = options;
    this.#groupId = options.groupId;
    this.#fetcher = new Fetcher(client, {
      maxBytes: options.maxBytes ?? 1048576,
      isolationLevel: options.isolationLevel ?? "read_uncommitted",
    });
    client.on("consumer:group:join", (payload: { assignments?: GroupAssignment[] }) => {
      if (payload.assignments) this.#assigned(payload.assignments);
    });
  }

  /** The group's assignment changed: hand over what went, take up what came. */
  #assigned(assignments: GroupAssignment[]): void {
    if (this.#mode !== "subscribe") return;
    const now = new Map<string, TopicPartition>();
    for (const a of assignments) {
      for (const p of a.partitions) {
        now.set(key({ topic: a.topic, partition: p }), { topic: a.topic, partition: p });
      }
    }
    const revoked = [...this.#partitions.values()].filter((s) => !now.has(key(s.tp))).map((s) => s.tp);
    const added = [...now].filter(([k]) => !this.#partitions.has(k)).map(([, tp]) => tp);
    // A rebalance listener's failure is the application's; it never stops the consumer (as in Kafka).
    if (revoked.length > 0) {
      void Promise.resolve(this.#listener.onPartitionsRevoked?.(revoked)).catch(() => {});
      for (const tp of revoked) this.#partitions.delete(key(tp));
      const gone = new Set(revoked.map(key));
      for (let i = this.#buffer.length - 1; i >= 0; i--) {
        if (gone.has(key(this.#buffer[i]))) this.#buffer.splice(i, 1);
      }
    }
    for (const tp of added) this.#partitions.set(key(tp), { tp, position: undefined, paused: false });
    if (added.length > 0) void Promise.resolve(this.#listener.onPartitionsAssigned?.(added)).catch(() => {});
  }

  #checkOpen(action: string): void {
    if (this.#closed) throw new Error(`Cannot ${action}: the consumer is closed`);
  }

  /**
   * Joins the consumer group for these topics; the group's members share their partitions.
   *
   * @param topics the topics
   * @param listener `onPartitionsRevoked` / `onPartitionsAssigned` callbacks
   * @throws {TypeError} without a `groupId`, or after `assign()`
   */
  subscribe(topics: string | string[], listener: ConsumerRebalanceListener = {}): void {
    this.#checkOpen("subscribe");
    if (this.#groupId === undefined) {
      throw new TypeError("Cannot subscribe: a consumer group needs a groupId");
    }
    if (this.#mode === "assign") {
      throw new TypeError("Cannot subscribe: the consumer was assigned partitions");
    }
    this.#mode = "subscribe";
    this.#subscription = [...new Set(typeof topics === "string" ? [topics] : topics)].sort();
    this.#listener = listener;
    this.#client.topics.trackAll(...this.#subscription);
    this.#joining = this.#client.joinGroup({}).then(() => {
      if (this.#client.assignments) this.#assigned(this.#client.assignments);
    });
    this.#joining.catch(() => {}); // reported by the poll that awaits #joining
  }

  /**
   * Reads exactly these partitions, without joining a group (commits still go to `groupId`).
   *
   * @param partitions the partitions
   * @throws {TypeError} after `subscribe()`
   */
  assign(partitions: TopicPartition[]): void {
    this.#checkOpen("assign");
    if (this.#mode === "subscribe") throw new TypeError("Cannot assign: the consumer subscribed to topics");
    this.#mode = "assign";
    const keep = new Set(partitions.map(key));
    for (const k of [...this.#partitions.keys()]) if (!keep.has(k)) this.#partitions.delete(k);
    for (const tp of partitions) {
      if (!this.#partitions.has(key(tp))) {
        this.#partitions.set(key(tp), {
          tp: { topic: tp.topic, partition: tp.partition },
          position: undefined,
          paused: false,
        });
      }
    }
  }

  /** The topics subscribed to. */
  subscription(): string[] {
    return [...this.#subscription];
  }

  /** The partitions held now. */
  assignment(): TopicPartition[] {
    return [...this.#partitions.values()].map((s) => s.tp);
  }

  #state(tp: TopicPartition, action: string): PartitionState {
    const s = this.#partitions.get(key(tp));
    if (!s) {
      throw new TypeError(
        `Cannot ${action} ${tp.topic}-${tp.partition}: it is not assigned to this consumer`,
      );
    }
    return s;
  }

  /**
   * Moves a partition's position.
   *
   * @param tp the partition
   * @param offset the next offset to hand out
   * @throws {TypeError} when the partition is not assigned
   */
  seek(tp: TopicPartition, offset: number): void {
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new RangeError(`Invalid offset ${offset}: it must be at least 0`);
    }
    this.#state(tp, "seek").position = offset;
    this.#dropBuffered([tp]);
  }

  #dropBuffered(tps: TopicPartition[]): void {
    const gone = new Set(tps.map(key));
    for (let i = this.#buffer.length - 1; i >= 0; i--) {
      if (gone.has(key(this.#buffer[i]))) this.#buffer.splice(i, 1);
    }
  }

  #pendingResets = new Map<string, "earliest" | "latest">();

  /** Moves positions to the log start offsets (at the next poll). */
  seekToBeginning(partitions: TopicPartition[] = this.assignment()): void {
    for (const tp of partitions) {
      this.#state(tp, "seek").position = undefined;
      this.#pendingResets.set(key(tp), "earliest");
    }
    this.#dropBuffered(partitions);
  }

  /** Moves positions to the high watermarks (at the next poll). */
  seekToEnd(partitions: TopicPartition[] = this.assignment()): void {
    for (const tp of partitions) {
      this.#state(tp, "seek").position = undefined;
      this.#pendingResets.set(key(tp), "latest");
    }
    this.#dropBuffered(partitions);
  }

  /**
   * The offset of the next record `poll` hands out from a partition (found first if need be: the
   * committed offset, else `autoOffsetReset`).
   */
  async position(tp: TopicPartition): Promise<number> {
    await this.#findPositions();
    return this.#state(tp, "get the position of").position!;
  }

  /** Stops fetching from these partitions until `resume`. */
  pause(partitions: TopicPartition[]): void {
    for (const tp of partitions) this.#state(tp, "pause").paused = true;
  }

  /** Fetches from these partitions again. */
  resume(partitions: TopicPartition[]): void {
    for (const tp of partitions) this.#state(tp, "resume").paused = false;
  }

  async #listOffsets(partitions: TopicPartition[], timestamp: bigint): Promise<number[]> {
    const topics = [...new Set(partitions.map((p) => p.topic))];
    const byTopic: Record<string, number[]> = {};
    for (const p of partitions) (byTopic[p.topic] ??= []).push(p.partition);
    const offsets = await this.#client.listOffsets({ topics, partitions: byTopic, timestamp });
    return partitions.map((p) => Number(offsets.get(p.topic)?.[p.partition] ?? -1n));
  }

  /** Per partition, its log start offset (ListOffsets -2). */
  beginningOffsets(partitions: TopicPartition[]): Promise<number[]> {
    return this.#listOffsets(partitions, -2n);
  }

  /** Per partition, its high watermark (ListOffsets -1). */
  endOffsets(partitions: TopicPartition[]): Promise<number[]> {
    return this.#listOffsets(partitions, -1n);
  }

  /**
   * A partition's committed offset in the group (OffsetFetch), or `null`. Kafka keeps no commit
   * time a client can read: `commitTimestamp` is -1.
   */
  async committed(tp: TopicPartition): Promise<CommittedOffset | null> {
    if (this.#groupId === undefined) return null;
    const offsets = await this.#client.listCommittedOffsets({
      topics: [{ topic: tp.topic, partitions: [tp.partition] }],
    });
    const offset = Number(offsets.get(tp.topic)?.[tp.partition] ?? -1n);
    return offset < 0 ? null : { offset, metadata: "", commitTimestamp: -1 };
  }

  /** Positions for partitions that have none: the committed offset, else `autoOffsetReset`. */
  async #findPositions(): Promise<void> {
    const missing = [...this.#partitions.values()].filter((s) => s.position === undefined);
    if (missing.length === 0) return;
    const committed = new Map<string, number>();
    const toLookUp = missing.filter((s) => !this.#pendingResets.has(key(s.tp)));
    if (this.#groupId !== undefined && toLookUp.length > 0) {
      const byTopic = new Map<string, number[]>();
      for (const s of toLookUp) byTopic.set(s.tp.topic, [...(byTopic.get(s.tp.topic) ?? []), s.tp.partition]);
      const offsets = await this.#client.listCommittedOffsets({
        topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
      });
      for (const s of toLookUp) {
        const o = Number(offsets.get(s.tp.topic)?.[s.tp.partition] ?? -1n);
        if (o >= 0) committed.set(key(s.tp), o);
      }
    }
    const reset = this.#options.autoOffsetReset ?? "latest";
    const early: TopicPartition[] = [];
    const late: TopicPartition[] = [];
    for (const s of missing) {
      const k = key(s.tp);
      const c = committed.get(k);
      if (c !== undefined) {
        s.position = c;
        continue;
      }
      const how = this.#pendingResets.get(k) ?? reset;
      if (how === "none") throw new NoOffsetForPartitionError(this.#groupId, s.tp.topic, s.tp.partition);
      (how === "earliest" ? early : late).push(s.tp);
    }
    const [e, l] = await Promise.all([this.#listOffsets(early, -2n), this.#listOffsets(late, -1n)]);
    early.forEach((tp, i) => this.#state(tp, "reset").position = e[i]);
    late.forEach((tp, i) => this.#state(tp, "reset").position = l[i]);
    for (const s of missing) this.#pendingResets.delete(key(s.tp));
  }

  /**
   * Up to `maxRecords` records from the assigned partitions, waiting up to `timeoutMs` for the first.
   *
   * @param options `timeoutMs` (ms, default 1000), `maxRecords` (default `maxPollRecords`, 500)
   * @returns the records, in order per partition; empty when none came in time
   */
  async poll(options: PollOptions = {}): Promise<ConsumedRecord[]> {
    this.#checkOpen("poll");
    const timeoutMs = options.timeoutMs ?? 1000;
    const max = options.maxRecords ?? this.#options.maxPollRecords ?? 500;
    const deadline = Date.now() + timeoutMs;
    if (this.#joining) {
      await this.#joining;
    }
    await this.#maybeAutoCommit();
    while (this.#buffer.length === 0) {
      await this.#findPositions();
      const ready = [...this.#partitions.values()].filter((s) => !s.paused && s.position !== undefined);
      const left = deadline - Date.now();
      if (ready.length === 0) {
        if (left <= 0) return [];
        await new Promise((resolve) => setTimeout(resolve, Math.min(left, 100)));
        continue;
      }
      const fetched = await this.#fetcher.fetch(
        ready.map((s) => ({ topic: s.tp.topic, partition: s.tp.partition, offset: s.position! })),
        Math.max(0, Math.min(left, 500)),
      );
      for (const f of fetched) {
        const s = this.#partitions.get(key(f));
        if (!s || s.position === undefined) continue;
        if (f.outOfRange) {
          const reset = this.#options.autoOffsetReset ?? "latest";
          if (reset === "none") throw outOfRangeError(f, s.position);
          s.position = undefined;
          this.#pendingResets.set(key(f), reset);
          continue;
        }
        for (const r of f.records) if (r.offset >= s.position) this.#buffer.push(r);
        s.position = f.nextOffset;
      }
      if (this.#buffer.length === 0 && Date.now() >= deadline) return [];
    }
    return this.#buffer.splice(0, max);
  }

  async #maybeAutoCommit(): Promise<void> {
    if (!this.#autoCommit()) return;
    if (Date.now() - this.#lastAutoCommit < (this.#options.autoCommitIntervalMs ?? 5000)) return;
    this.#lastAutoCommit = Date.now();
    await this.commit().catch(() => {}); // a failed auto-commit is retried at the next interval, as Kafka's
  }

  #autoCommit(): boolean {
    return this.#groupId !== undefined && (this.#options.enableAutoCommit ?? true);
  }

  /**
   * Commits offsets as the group's committed offsets (OffsetCommit): the current positions (each
   * partition's last record handed out + 1, less records still buffered), or those given.
   *
   * @param offsets `[{ topic, partition, offset }]`, or the positions
   * @throws {TypeError} without a `groupId`
   * @throws {CommitFailedError} when the group rebalanced and this member no longer holds a partition
   */
  async commit(offsets?: OffsetToCommit[]): Promise<void> {
    if (this.#groupId === undefined) throw new TypeError("Cannot commit: the consumer has no groupId");
    let list = offsets?.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset }));
    if (!list) {
      const firstBuffered = new Map<string, number>();
      for (const r of this.#buffer) if (!firstBuffered.has(key(r))) firstBuffered.set(key(r), r.offset);
      list = [...this.#partitions.values()].filter((s) => s.position !== undefined).map((s) => ({
        ...s.tp,
        offset: firstBuffered.get(key(s.tp)) ?? s.position!,
      }));
    }
    if (list.length === 0) return;
    if (this.#mode !== "subscribe") {
      // No member of the group: commit as an admin (generation -1), as Kafka's simple consumers do.
      await this.#client.commit({
        offsets: list.map((o) => ({ ...o, offset: BigInt(o.offset), leaderEpoch: -1 })),
      })
        .catch((err) => {
          throw new CommitFailedError(
            this.#groupId!,
            list[0].topic,
            list[0].partition,
            `Kafka refused it: ${(err as Error).message}`,
          );
        });
      return;
    }
    try {
      await this.#client.commit({
        offsets: list.map((o) => ({ ...o, offset: BigInt(o.offset), leaderEpoch: -1 })),
      });
    } catch (err) {
      const names = kafkaErrorNames(err);
      if (
        names.has("ILLEGAL_GENERATION") || names.has("UNKNOWN_MEMBER_ID") ||
        names.has("REBALANCE_IN_PROGRESS")
      ) {
        throw new CommitFailedError(
          this.#groupId,
          list[0].topic,
          list[0].partition,
          `the group rebalanced (${[...names].join(", ")})`,
          names.has("UNKNOWN_MEMBER_ID") ? "UNKNOWN_MEMBER_ID" : "ILLEGAL_GENERATION",
        );
      }
      throw err;
    }
  }

  /** Reads records for ever (until `close()`), as a Kafka consumer's poll loop does. */
  async *[Symbol.asyncIterator](): AsyncIterator<ConsumedRecord> {
    while (!this.#closed) {
      for (const r of await this.poll({ timeoutMs: 1000 })) yield r;
    }
  }

  /** The same records as `for await`, as a `ReadableStream`. */
  get readable(): ReadableStream<ConsumedRecord> {
    const it = this[Symbol.asyncIterator]();
    return new ReadableStream<ConsumedRecord>({
      async pull(controller) {
        const { value, done } = await it.next();
        if (done) controller.close();
        else controller.enqueue(value);
      },
    });
  }

  /** Commits under auto-commit, leaves the group (LeaveGroup), and closes the client. */
  async close(): Promise<void> {
    if (this.#closed) return;
    // Closing never fails: a last auto-commit or a client that cannot leave cleanly is given up,
    // as Kafka's close() does.
    if (this.#autoCommit() && this.#mode !== "none") await this.commit().catch(() => {});
    this.#closed = true;
    await this.#client.close().catch(() => {});
  }
}
