/**
 * The console's memory of each consumer group's total lag: sampled every few seconds (5 s by
 * default) for the last hour, so a group's page opens with the recent lag already drawn. Bounded:
 * each group keeps at most `keepMs / intervalMs` samples (720), and at most
 * {@linkcode MAX_GROUPS} groups are followed.
 *
 * @module
 */
import type { LogDirectoryView } from "../consumer/log_directory_view.ts";
import { describeGroup, type GroupDescription, listGroups } from "../consumer/group_admin.ts";

/** The most groups whose lag the console keeps (the first ones by id). */
export const MAX_GROUPS = 1000;

/** One sample of a group's lag. */
export interface LagSample {
  /** When it was taken, ms since the epoch. */
  time: number;
  /** The sum of the lag of the group's partitions with a committed offset (records). */
  totalLag: number;
}

/** Options of {@linkcode LagHistory}. */
export interface LagHistoryOptions {
  /**
   * How often {@linkcode LagHistory.start} samples every group (ms).
   * @default 5000
   */
  intervalMs?: number;
  /**
   * How long a sample is kept (ms): a group keeps at most `keepMs / intervalMs` samples.
   * @default 3600000
   */
  keepMs?: number;
}

/**
 * A group's total lag: the sum over its partitions of the log end offset minus the committed
 * offset (partitions without a committed offset add nothing), as `reel groups` reports it.
 *
 * @param group the group, from `describeGroup()`
 * @returns the total lag (records)
 *
 * @example Two partitions behind by 2 and 3 records
 * ```ts
 * import assert from "node:assert/strict";
 * import { totalLag } from "./lag_history.ts";
 * import type { GroupDescription } from "../consumer/group_admin.ts";
 * const group = { offsets: [{ lag: 2 }, { lag: 3 }, { lag: null }] } as unknown as GroupDescription;
 * assert.equal(totalLag(group), 5);
 * ```
 */
export function totalLag(group: GroupDescription): number {
  return group.offsets.reduce((sum, o) => sum + (o.lag ?? 0), 0);
}

/**
 * Each consumer group's total lag over the last hour (by default), kept in the console process.
 * Samples are kept in a ring per group (two numbers each); a group that is gone from the log
 * directory is forgotten at the next sample.
 *
 * @example Samples kept, oldest first, bounded by keepMs / intervalMs
 * ```ts
 * import assert from "node:assert/strict";
 * import { Consumer, open } from "../../mod.ts";
 * import { LagHistory } from "./lag_history.ts";
 * const log = await open(Deno.makeTempDirSync());
 * const topic = await log.createTopic("events");
 * const consumer = new Consumer(log, { groupId: "billing" });
 * await consumer.commit([{ topic: "events", partition: 0, offset: 0 }]);
 * const history = new LagHistory({ intervalMs: 1000, keepMs: 3000 });
 * for (let t = 1; t <= 4; t++) {
 *   await topic.append([{ value: "x" }]);
 *   history.sample(log, t * 1000);
 * }
 * assert.deepEqual(history.history("billing"), [
 *   { time: 2000, totalLag: 2 },
 *   { time: 3000, totalLag: 3 },
 *   { time: 4000, totalLag: 4 },
 * ]);
 * assert.deepEqual(history.history("nobody"), []);
 * await consumer.close();
 * await log.close();
 * ```
 */
export class LagHistory {
  /** How often {@linkcode start} samples (ms). */
  readonly intervalMs: number;
  /** The most samples a group keeps. */
  readonly capacity: number;
  readonly #groups = new Map<string, Ring>();

  /**
   * @param options the sampling interval and how long samples are kept
   * @throws {RangeError} when `intervalMs` or `keepMs` is not a positive integer
   */
  constructor(options: LagHistoryOptions = {}) {
    const intervalMs = options.intervalMs ?? 5000;
    const keepMs = options.keepMs ?? 3_600_000;
    if (!Number.isSafeInteger(intervalMs) || intervalMs <= 0) {
      throw new RangeError(`Invalid intervalMs ${intervalMs}: expected a positive integer (ms)`);
    }
    if (!Number.isSafeInteger(keepMs) || keepMs <= 0) {
      throw new RangeError(`Invalid keepMs ${keepMs}: expected a positive integer (ms)`);
    }
    this.intervalMs = intervalMs;
    this.capacity = Math.max(1, Math.ceil(keepMs / intervalMs));
  }

  /**
   * Takes one sample of every group's total lag (at most {@linkcode MAX_GROUPS} groups) and
   * forgets groups that are gone. A group whose state cannot be read right now is skipped.
   *
   * @param log the open log directory
   * @param now the sample's time (ms since the epoch)
   */
  sample(log: LogDirectoryView, now: number = Date.now()): void {
    const ids = listGroups(log).slice(0, MAX_GROUPS);
    const live = new Set(ids);
    for (const id of this.#groups.keys()) if (!live.has(id)) this.#groups.delete(id);
    for (const id of ids) {
      let lag: number;
      try {
        lag = totalLag(describeGroup(log, id));
      } catch {
        continue; // being rewritten by its members: the next sample will have it
      }
      let ring = this.#groups.get(id);
      if (ring === undefined) this.#groups.set(id, ring = new Ring(this.capacity));
      ring.push(now, lag);
    }
  }

  /**
   * The samples kept of one group, oldest first.
   *
   * @param groupId the group
   * @returns its samples (empty for a group not sampled yet)
   */
  history(groupId: string): LagSample[] {
    return this.#groups.get(groupId)?.samples() ?? [];
  }

  /**
   * Samples every {@linkcode intervalMs} until the signal aborts, starting now.
   *
   * @param log the open log directory
   * @param signal stops the sampling
   */
  start(log: LogDirectoryView, signal: AbortSignal): void {
    if (signal.aborted) return;
    const tick = () => {
      try {
        this.sample(log);
      } catch {
        // the log directory is closing: the abort follows
      }
    };
    tick();
    const timer = setInterval(tick, this.intervalMs);
    signal.addEventListener("abort", () => clearInterval(timer), { once: true });
  }
}

/** A fixed-size ring of (time, lag) pairs. */
class Ring {
  readonly #data: Float64Array;
  #next = 0;
  #size = 0;

  constructor(readonly capacity: number) {
    this.#data = new Float64Array(capacity * 2);
  }

  push(time: number, lag: number): void {
    this.#data[this.#next * 2] = time;
    this.#data[this.#next * 2 + 1] = lag;
    this.#next = (this.#next + 1) % this.capacity;
    this.#size = Math.min(this.#size + 1, this.capacity);
  }

  samples(): LagSample[] {
    const out: LagSample[] = [];
    const first = (this.#next - this.#size + this.capacity) % this.capacity;
    for (let i = 0; i < this.#size; i++) {
      const at = (first + i) % this.capacity;
      out.push({ time: this.#data[at * 2], totalLag: this.#data[at * 2 + 1] });
    }
    return out;
  }
}
