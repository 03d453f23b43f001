/**
 * The consumer's fetcher (Kafka's `Fetcher` and `FetchCollector`): takes records of the assigned,
 * unpaused partitions round robin, each read by its {@linkcode PartitionFetcher}, and gives each
 * partition its starting position: the committed offset, or the reset policy (`autoOffsetReset`),
 * again whenever the position falls outside the log.
 *
 * @module
 */
import { OffsetOutOfRangeError } from "../errors.ts";
import type { ConsumedRecord } from "../record/consumed_record.ts";
import type { AutoOffsetReset } from "./consumer_config.ts";
import type { SubscriptionState, TopicPartitionState } from "./_subscription_state.ts";
import type { CommittedOffset, TopicPartition } from "./types.ts";

/**
 * Collects records for `poll()`.
 *
 * @example Two partitions, read round robin from the earliest offset
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../mod.ts";
 * import { Fetcher } from "./_fetcher.ts";
 * import { SubscriptionState } from "./_subscription_state.ts";
 * const log = await open(Deno.makeTempDirSync());
 * const topic = await log.createTopic("events", { partitions: 2 });
 * await topic.append([{ value: "a", partition: 0 }, { value: "b", partition: 1 }]);
 * const subscriptions = new SubscriptionState({ maxBytes: 1 << 20 }, () => {});
 * for (const p of [0, 1]) subscriptions.add({ topic: "events", partition: p }, topic.partition(p));
 * const fetcher = new Fetcher(subscriptions, "earliest", undefined, () => undefined);
 * assert.deepEqual(fetcher.collect(10).map((r) => r.partition).sort(), [0, 1]);
 * assert.deepEqual(subscriptions.positions().map((p) => p.offset), [1, 1]);
 * await log.close();
 * ```
 */
export class Fetcher {
  readonly #subscriptions: SubscriptionState;
  readonly #reset: AutoOffsetReset;
  readonly #groupId: string | undefined;
  readonly #committed: (tp: TopicPartition) => CommittedOffset | undefined;
  #roundRobin = 0;

  /**
   * @param subscriptions the consumer's assigned partitions
   * @param reset the reset policy
   * @param groupId the group, if any (for the error of the `"none"` policy)
   * @param committed the group's committed offset of a partition, if any
   */
  constructor(
    subscriptions: SubscriptionState,
    reset: AutoOffsetReset,
    groupId: string | undefined,
    committed: (tp: TopicPartition) => CommittedOffset | undefined,
  ) {
    this.#subscriptions = subscriptions;
    this.#reset = reset;
    this.#groupId = groupId;
    this.#committed = committed;
  }

  /**
   * Applies the reset policy to a partition without a usable offset.
   *
   * @param state the partition
   * @param outOfRange the offset that fell outside the log, if that is why
   * @throws {OffsetOutOfRangeError} under `"none"`, for an offset outside the log
   * @throws {NoOffsetForPartitionError} under `"none"`, without a committed offset
   */
  #applyReset(state: TopicPartitionState, outOfRange: number | undefined): void {
    this.#subscriptions.seek(state, state.fetcher.resetOffset(this.#reset, outOfRange, this.#groupId));
  }

  /**
   * Gives a partition its starting position, if it has none: the committed offset, or the reset
   * policy when there is none or it lies outside the log.
   *
   * @throws {NoOffsetForPartitionError} / {OffsetOutOfRangeError} under `autoOffsetReset: "none"`
   */
  resolve(state: TopicPartitionState): void {
    if (state.position !== undefined) return;
    const committed = this.#committed(state.tp);
    if (committed === undefined) return this.#applyReset(state, undefined);
    const log = state.fetcher.log;
    log.refresh();
    if (committed.offset < log.logStartOffset || committed.offset > log.logEndOffset) {
      return this.#applyReset(state, committed.offset);
    }
    this.#subscriptions.seek(state, committed.offset);
  }

  /**
   * Takes up to `max` records from the assigned, unpaused partitions, round robin; each partition's
   * position moves past the records taken.
   *
   * @param max the most records
   * @returns the records (empty when no partition has any now)
   * @throws {NoOffsetForPartitionError} / {OffsetOutOfRangeError} under `autoOffsetReset: "none"`
   */
  collect(max: number): ConsumedRecord[] {
    const out: ConsumedRecord[] = [];
    const states = this.#subscriptions.states();
    const n = states.length;
    for (let progressed = true; progressed && out.length < max;) {
      progressed = false;
      for (let i = 0; i < n && out.length < max; i++) {
        const state = states[(this.#roundRobin + i) % n];
        if (state.paused || state.fetcher.log.closed) continue;
        if (this.#collectOne(state, max, out)) progressed = true;
        if (out.length >= max) this.#roundRobin = (this.#roundRobin + i + 1) % n;
      }
    }
    return out;
  }

  /** Takes records of one partition into `out`; `true` when it took some or moved on. */
  #collectOne(state: TopicPartitionState, max: number, out: ConsumedRecord[]): boolean {
    this.resolve(state);
    const fetcher = state.fetcher;
    if (state.next >= state.buffer.length) {
      let records;
      try {
        records = fetcher.fetch();
      } catch (err) {
        if (!(err instanceof OffsetOutOfRangeError)) throw err;
        this.#applyReset(state, fetcher.fetchOffset);
        return true;
      }
      if (records === null) return false;
      state.buffer = records;
      state.next = 0;
    }
    while (state.next < state.buffer.length && out.length < max) {
      const r = state.buffer[state.next++];
      out.push(r);
      state.position = r.offset + 1;
    }
    if (state.next >= state.buffer.length) {
      // Past the batches read (control records, gaps): the position follows the fetch.
      state.buffer = [];
      state.next = 0;
      state.position = fetcher.fetchOffset;
    }
    return true;
  }
}
