/**
 * Group commit for one partition's log: the appends waiting for their batch to be written (held
 * back under `fsync: "never"` / `"interval"`) or fdatasynced (`"always"`), the rounds that write
 * every held-back batch in one write and cover every waiting append with one fdatasync, and the
 * rollback of a failed write. {@linkcode PartitionLog} owns one; its `LogAppender`
 * (`_log_appender.ts`) supplies the file work as the {@linkcode GroupCommitHost}.
 *
 * @module
 */
import { StorageError } from "../errors.ts";

/** Promise hops a group-commit round waits for more appends before its fdatasync starts. */
const SYNC_GATHER_HOPS = 12;
/**
 * After this many rounds in a row that each served one append (a producer awaiting each append,
 * alone), rounds gather for {@linkcode LONE_GATHER_HOPS} only: the hops cost such a producer
 * about 0.4 µs a round and gather nothing.
 */
const LONE_ROUNDS = 64;
/** Hops of a round while a producer appends alone: appends made in the same turn still share it. */
const LONE_GATHER_HOPS = 1;
/**
 * While a producer appends alone, every this many rounds one still gathers for
 * {@linkcode SYNC_GATHER_HOPS}: a producer that joined meanwhile, whose appends the short gather
 * would leave to rounds of their own, is seen in it, and gathering resumes.
 */
const LONE_PROBE_EVERY = 16;
/**
 * Appends waiting for a group commit that start a round at once, without the gathering hops.
 * Many producers acknowledged together come back together; splitting them lets one half's
 * fdatasync run while the other half encodes (measured best at 128 among 32–∞ with 256
 * producers; see bench/).
 */
const GROUP_COMMIT_SPLIT = 128;
/** Group-commit rounds whose fdatasync may run at the same time. */
const MAX_ROUNDS_IN_FLIGHT = 2;

/**
 * An append waiting for its batch to be written or synced: `offset` is the offset after it, and
 * `value` what its promise resolves to.
 */
interface Waiter {
  offset: number;
  value: unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/** What a {@linkcode GroupCommit} needs from the log it serves. */
export interface GroupCommitHost {
  /** `"<topic>-<partition>"`, for error messages. */
  readonly name: string;
  /** The log end offset; after a failed write, where the batches taken back began. */
  readonly logEndOffset: number;
  /**
   * Writes the batches the active segment holds back, in one write.
   *
   * @returns `false` when none were held back
   * @throws when the write fails; the log has then taken them back (its log end offset is where
   *   they began)
   */
  writeHeld(): boolean;
  /** Writes what is held back (through {@linkcode GroupCommit.writePending}) and fdatasyncs every dirty segment. */
  syncDirty(): Promise<void>;
  /**
   * Fdatasyncs every dirty segment now, on the calling thread, after the round's write.
   *
   * @returns `false`, having done nothing, when that cannot be done now (an fsync is running)
   * @throws when the fdatasync fails
   */
  syncDirtyNow?(): boolean;
  /** Called after a write succeeded. */
  written(): void;
  /** Called when an fdatasync covered every offset below `offset`. */
  synced(offset: number): void;
  /** Registers a background promise that `close()` waits for. */
  track<T>(promise: Promise<T>): Promise<T>;
}

/**
 * The waiters and rounds of one log's group commit. Under `"always"` each append waits in
 * {@linkcode GroupCommit.syncTo} for a round: a round starts a few promise hops after the first
 * waiter (or at once when {@linkcode GROUP_COMMIT_SPLIT} are waiting), writes every batch held
 * back in one write, fdatasyncs, and acknowledges every append it covered; up to two rounds'
 * fdatasyncs overlap. Under `"never"` / `"interval"` deferred appends wait in
 * {@linkcode GroupCommit.waitForWrite} until {@linkcode GroupCommit.writePending} writes them.
 * A failed write fails exactly the appends whose batches it held.
 *
 * @example Two appends acknowledged by one round
 * ```ts
 * import assert from "node:assert/strict";
 * import { GroupCommit } from "./group_commit.ts";
 * let end = 0, syncs = 0, synced = 0;
 * const commit = new GroupCommit({
 *   name: "events-0",
 *   get logEndOffset() { return end; },
 *   writeHeld: () => false,
 *   syncDirty: async () => { syncs++; },
 *   written: () => {},
 *   synced: (offset) => { synced = offset; },
 *   track: (p) => p,
 * }, 0);
 * end = 2;
 * await Promise.all([commit.syncTo(1), commit.syncTo(2)]);
 * assert.equal(syncs, 1);
 * assert.equal(synced, 2);
 * ```
 */
export class GroupCommit {
  readonly #host: GroupCommitHost;
  #syncWaiters: Waiter[] = [];
  /** Appends held back by `waitForWrite` (never / interval), acknowledged once written. */
  #writeWaiters: Waiter[] = [];
  #roundsInFlight = 0;
  #roundScheduled = false;
  /** Rounds in a row that each served one append (see {@linkcode LONE_ROUNDS}). */
  #loneRounds = 0;
  /** Resolves when the next group-commit round ends (made on demand). */
  #nextRoundEnd: Promise<void> | undefined;
  #signalRoundEnd: (() => void) | undefined;
  /** Every offset below it is fdatasynced. */
  syncedOffset: number;

  /**
   * @param host the log's side of the work
   * @param syncedOffset the offset below which everything is already durable
   */
  constructor(host: GroupCommitHost, syncedOffset: number) {
    this.#host = host;
    this.syncedOffset = syncedOffset;
  }

  /** Whether an append waits for a write or an fdatasync, or a round is scheduled or running. */
  get busy(): boolean {
    return this.#syncWaiters.length > 0 || this.#writeWaiters.length > 0 || this.#roundsInFlight > 0 ||
      this.#roundScheduled;
  }

  /**
   * Resolves once an fdatasync covered every offset below `offset`, starting or joining a round.
   *
   * @param offset the offset after the append's last record
   * @param value what the promise resolves to (the append's result: one promise step less than a
   *   `then` after it, on the path every durable append waits on)
   * @throws {StorageError} (as a rejection) when the write or the fdatasync of its round fails
   */
  syncTo<T = void>(offset: number, value?: T): Promise<T> {
    if (this.syncedOffset >= offset) return Promise.resolve(value as T);
    return new Promise<T>((resolve, reject) => {
      this.#syncWaiters.push({ offset, value, resolve: resolve as (value: unknown) => void, reject });
      if (this.#syncWaiters.length >= GROUP_COMMIT_SPLIT && this.#roundsInFlight < MAX_ROUNDS_IN_FLIGHT) {
        this.#startRound();
      } else if (!this.#roundScheduled) {
        this.#scheduleRound();
      }
    });
  }

  /**
   * Resolves once a write of the batches held back covered every offset below `offset`.
   *
   * @param offset the offset after the append's last record
   * @param value what the promise resolves to
   * @throws {StorageError} (as a rejection) when that write fails
   */
  waitForWrite<T = void>(offset: number, value?: T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#writeWaiters.push({ offset, value, resolve: resolve as (value: unknown) => void, reject });
    });
  }

  /**
   * Writes the batches held back, in one write, and acknowledges the appends waiting for that
   * write. When the write fails the log takes the batches back and every append past its new log
   * end offset fails.
   *
   * @throws {StorageError} when the write fails
   */
  writePending(): void {
    try {
      if (!this.#host.writeHeld()) return;
    } catch (err) {
      const end = this.#host.logEndOffset;
      const fail = (waiters: Waiter[]) => {
        const kept: Waiter[] = [];
        for (const w of waiters) {
          if (w.offset > end) w.reject(err);
          else kept.push(w);
        }
        return kept;
      };
      this.#syncWaiters = fail(this.#syncWaiters);
      this.#writeWaiters = fail(this.#writeWaiters);
      throw err;
    }
    this.#host.written();
    if (this.#writeWaiters.length > 0) {
      const written = this.#writeWaiters;
      this.#writeWaiters = [];
      for (const w of written) w.resolve(w.value);
    }
  }

  /**
   * Fails every append still waiting for a write with `error` (the log was abandoned, as a crash
   * would: those batches are never written).
   */
  abandon(error: Error): void {
    for (const w of this.#writeWaiters) w.reject(error);
    this.#writeWaiters = [];
  }

  /**
   * Starts a group-commit round once appends have had a few promise hops to join it: producers
   * whose previous append was just acknowledged (a few hops away) append again first, so that one
   * fdatasync covers them all. The hops are microtasks (the same turns an `await` takes, without a
   * promise per hop or per round); with the most rounds already in flight, the round waits for one
   * to end instead, as work that `close()` waits for.
   */
  #scheduleRound(): void {
    this.#roundScheduled = true;
    const lone = this.#loneRounds;
    let hops = lone >= LONE_ROUNDS && lone % LONE_PROBE_EVERY !== 0 ? LONE_GATHER_HOPS : SYNC_GATHER_HOPS;
    const hop = (): void => {
      if (--hops > 0) return queueMicrotask(hop);
      if (this.#roundsInFlight >= MAX_ROUNDS_IN_FLIGHT) {
        this.#host.track(this.#startAfterRoundEnd());
        return;
      }
      this.#roundScheduled = false;
      if (this.#syncWaiters.length > 0) this.#startRound();
    };
    queueMicrotask(hop);
  }

  /** Starts the scheduled round once fewer than the most rounds are in flight. */
  async #startAfterRoundEnd(): Promise<void> {
    try {
      while (this.#roundsInFlight >= MAX_ROUNDS_IN_FLIGHT) {
        await (this.#nextRoundEnd ??= new Promise<void>((resolve) => this.#signalRoundEnd = resolve));
      }
    } finally {
      this.#roundScheduled = false;
    }
    if (this.#syncWaiters.length > 0) this.#startRound();
  }

  /**
   * One group-commit round: writes every batch held back for it in one write, then fdatasyncs,
   * then acknowledges the appends it covers. Rounds may overlap (up to MAX_ROUNDS_IN_FLIGHT): a
   * round's fdatasync resolves only after every earlier one (see `LogSegment.flush`).
   */
  #startRound(): void {
    try {
      this.writePending();
    } catch {
      return; // the appends it held are failed and taken back
    }
    const target = this.#host.logEndOffset;
    const waiting = this.#syncWaiters;
    this.#syncWaiters = [];
    this.#loneRounds = waiting.length === 1 ? this.#loneRounds + 1 : 0;
    // One append waiting and no round in flight (a single producer awaiting each append): the
    // fdatasync runs here, which saves the thread pool's hop (a worker wake-up and an event-loop
    // round trip, about as long as a fast fdatasync) at no cost to anyone else.
    if (waiting.length === 1 && this.#roundsInFlight === 0 && this.#host.syncDirtyNow) {
      let done: boolean;
      try {
        done = this.#host.syncDirtyNow();
      } catch (err) {
        waiting[0].reject(
          new StorageError(`Cannot fsync "${this.#host.name}": ${(err as Error).message}`, { cause: err }),
        );
        return;
      }
      if (done) {
        this.syncedOffset = Math.max(this.syncedOffset, target);
        this.#host.synced(this.syncedOffset);
        waiting[0].resolve(waiting[0].value);
        return;
      }
    }
    this.#roundsInFlight++;
    this.#host.track(
      this.#host.syncDirty().then(() => {
        this.syncedOffset = Math.max(this.syncedOffset, target);
        this.#host.synced(this.syncedOffset);
        for (const w of waiting) w.resolve(w.value);
      }, (err) => {
        const error = new StorageError(
          `Cannot fsync "${this.#host.name}": ${(err as Error).message}`,
          { cause: err },
        );
        for (const w of waiting) w.reject(error);
      }).finally(() => {
        this.#roundsInFlight--;
        const signal = this.#signalRoundEnd;
        this.#nextRoundEnd = this.#signalRoundEnd = undefined;
        signal?.();
        if (this.#syncWaiters.length > 0 && !this.#roundScheduled) this.#scheduleRound();
      }),
    );
  }
}
