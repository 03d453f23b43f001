/**
 * The writer role of one partition's log, as this process holds it: the partition's writer lock,
 * taken when the log first writes (or at a writer's open) and kept for a turn; given back once
 * idle for `writerIdleMs`, or sooner when another process waits for it (its `writer.wanted`
 * marker), or to make room under the process's limit of writer roles (`writer_roles.ts`); and the
 * appends that wait, in order, while another process holds it. {@linkcode PartitionLog} owns one;
 * its `LogLifecycle` (`_log_lifecycle.ts`) does the log's side of each step (loading under the
 * lock, leaving the log clean) as the {@linkcode WriterLeaseHost}.
 *
 * @module
 */
import { PartitionLockedError, StorageError } from "../errors.ts";
import { fs, openFile, removeFile } from "../runtime/file_system.ts";
import { LockFile, type LockOwner, takeLock } from "../runtime/lock_file.ts";
import type { Loaded } from "./log_loader.ts";
import { WRITER_LOCK_FILE } from "./local_log.ts";
import {
  addWriter,
  makeRoomForWriter,
  removeWriter,
  WRITER_CHECK_INTERVAL_MS,
  type WriterGroup,
  type WriterRole,
} from "./writer_roles.ts";

/**
 * The marker a process waiting for a partition's writer role leaves in the partition directory:
 * the writer gives the role back at its next check (see `writer_roles.ts`).
 */
export const WRITER_WANTED_FILE = "writer.wanted";

/** The longest pause between two tries of a process waiting for a writer role, ms. */
const MAX_WRITER_POLL_MS = 5;
/**
 * How long a process that gave its writer role back because another process wanted it waits
 * before it tries to take the role again, ms: longer than the waiter's pause, so the waiter gets it.
 */
const YIELD_MS = 3 * MAX_WRITER_POLL_MS;
/**
 * How long a writer keeps a role it took before it gives it to a waiting writer, ms: each turn
 * serves a burst of appends, so two busy producers of a topic of several partitions do not hand
 * every partition back and forth at each append.
 */
const MIN_TURN_MS = 100;

/** An append waiting for the writer role, run in order once this process has it. */
interface QueuedAppend<T> {
  run: () => Promise<T>;
  resolve: (info: T) => void;
  reject: (err: unknown) => void;
}

/** Resolves after `ms` milliseconds. */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Thrown inside `WriterLease.take` when every writer role this process holds is busy. */
const WRITERS_BUSY = Symbol("writers busy");

/** What a {@linkcode WriterLease} needs of the log whose writer role it holds. */
export interface WriterLeaseHost {
  /** The partition directory. */
  readonly dir: string;
  /** The topic name (for errors). */
  readonly topic: string;
  /** The partition number (for errors). */
  readonly partition: number;
  /** Whether the log is closed. */
  readonly closed: boolean;
  /**
   * Checks that the partition directory still belongs to the log's topic.
   *
   * @throws {UnknownTopicOrPartitionError} when the topic was deleted
   */
  checkTopicId(): void;
  /**
   * Loads the log under the writer lock just taken (recovering what a crashed writer left) and
   * removes the clean-shutdown marker. When it throws, the lease releases the lock.
   *
   * @returns what the load found
   */
  loadForWriting(): Loaded;
  /**
   * Starts writing with what {@linkcode WriterLeaseHost.loadForWriting} loaded, once the lease
   * holds the lock.
   *
   * @param loaded the segments and offsets loaded
   */
  startWriting(loaded: Loaded): void;
  /**
   * Writes the batches held back for a deferred write (not under `fsync: "always"`), then says
   * whether nothing is in flight: no append waits for a write or an fdatasync.
   *
   * @returns whether the role may be given back now
   */
  idle(): boolean;
  /**
   * Leaves the log as `close()` does (fsynced, marked clean, high watermark published), before
   * the lock is released. A step that fails leaves the log unmarked, for the next writer to
   * recover.
   */
  handOver(): void;
  /** Goes on as a reader, after the lock was released. */
  startReading(): void;
}

/** Settings of a {@linkcode WriterLease}: see `PartitionLogOptions`. */
export interface WriterLeaseOptions {
  /** Give the role back once no append has come for this long, ms. @default Infinity */
  writerIdleMs?: number;
  /** How long an append waits for the role while another process holds it, ms. @default 30000 */
  lockTimeoutMs?: number;
  /** The logs of the same topic in this process, which give their roles back together. */
  writerGroup?: WriterGroup;
  /** The lock given was taken at a reader's open for an append (see `PartitionLogOptions.takeRole`). */
  takeRole?: boolean;
}

/**
 * The writer role of one partition's log in this process: the writer lock while it is held,
 * the turn-taking with writers of other processes, and the appends queued while waiting.
 *
 * @example A reader's lease takes the lock, and gives it back when closed
 * ```ts
 * import assert from "node:assert/strict";
 * import { WriterLease } from "./writer_lease.ts";
 * import type { Loaded } from "./log_loader.ts";
 * const dir = Deno.makeTempDirSync();
 * const steps: string[] = [];
 * const lease = new WriterLease({
 *   dir, topic: "events", partition: 0, closed: false,
 *   checkTopicId: () => {},
 *   loadForWriting: () => ({}) as Loaded,
 *   startWriting: () => void steps.push("writing"),
 *   idle: () => true,
 *   handOver: () => void steps.push("handed over"),
 *   startReading: () => void steps.push("reading"),
 * }, undefined, { writerIdleMs: 1000 });
 * assert.equal(lease.held, false);
 * lease.take();
 * assert.equal(lease.held, true);
 * assert.equal(lease.releaseIfIdle(), true);
 * assert.deepEqual(steps, ["writing", "handed over", "reading"]);
 * assert.equal(lease.held, false);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export class WriterLease implements WriterRole {
  readonly #host: WriterLeaseHost;
  #lock: LockFile | undefined;
  /** See `PartitionLogOptions.writerIdleMs`; `Infinity`: keep the role until close. */
  readonly #writerIdleMs: number;
  /** See `PartitionLogOptions.lockTimeoutMs`. */
  readonly #lockTimeoutMs: number;
  /** The logs of the same topic in this process, which give their roles back together. */
  readonly #writerGroup: WriterGroup | undefined;
  /** When an append last used the writer role, ms since the epoch (the log sets it). */
  lastWriteAt = 0;
  /** When this process last took the writer role, ms since the epoch. */
  #acquiredAt = 0;
  /** When the writer last looked for another process's `writer.wanted` marker. */
  #wantedCheckedAt = 0;
  /**
   * Whether the writer role is kept until close (taken by {@linkcode WriterLease.pin} or at a
   * writer's open), rather than given back when idle or wanted.
   */
  #pinned: boolean;
  /** Appends waiting for the writer role (set while this process waits for it). */
  // deno-lint-ignore no-explicit-any
  #queued: QueuedAppend<any>[] | undefined;
  /** Until when this process lets another one take the role it gave back, ms since the epoch. */
  #yieldUntil = 0;

  /**
   * @param host the log's side of each step
   * @param lock the writer lock, when the log was opened as the writer (the role is then kept
   *   until close)
   * @param options the role's timings and group
   * @throws {RangeError} when `writerIdleMs` is not positive or `lockTimeoutMs` is negative
   */
  constructor(host: WriterLeaseHost, lock: LockFile | undefined, options: WriterLeaseOptions = {}) {
    this.#host = host;
    this.#writerGroup = options.writerGroup;
    this.#writerGroup?.add(this);
    this.#writerIdleMs = options.writerIdleMs ?? Infinity;
    this.#lockTimeoutMs = options.lockTimeoutMs ?? 30_000;
    if (!(this.#writerIdleMs > 0)) {
      throw new RangeError(`Invalid writerIdleMs ${options.writerIdleMs}: must be positive`);
    }
    if (!(this.#lockTimeoutMs >= 0)) {
      throw new RangeError(`Invalid lockTimeoutMs ${options.lockTimeoutMs}: must be 0 or more`);
    }
    this.#lock = lock;
    // A role taken for an append at a reader's open is one `take` took: given back when idle.
    this.#pinned = lock !== undefined && !options.takeRole;
    if (lock !== undefined && !this.#pinned) {
      this.lastWriteAt = this.#acquiredAt = Date.now();
      addWriter(this);
    }
  }

  /** Whether this process holds the partition's writer lock. */
  get held(): boolean {
    return this.#lock !== undefined;
  }

  /**
   * Takes the writer role, if not held yet, and keeps it until close (`acquireWriterLock()`).
   *
   * @throws {PartitionLockedError} when another live writer holds the lock
   * @throws {StorageError} when the log is closed, or the files cannot be read or written
   */
  pin(): void {
    this.take();
    this.#pinned = true;
  }

  /**
   * Takes the writer role, if not held yet: the lock, then the log loaded under it. With
   * `bounded`, throws {@linkcode WRITERS_BUSY} instead of going past the process's limit of
   * writer roles when every role held is busy.
   *
   * @throws {PartitionLockedError} when another live writer holds the lock
   * @throws {StorageError} when the log is closed, or the files cannot be read or written
   */
  take(bounded = false): void {
    if (this.#lock) return;
    const host = this.#host;
    if (host.closed) {
      throw new StorageError(`Cannot write to "${host.topic}-${host.partition}": the log is closed`);
    }
    host.checkTopicId();
    if (!makeRoomForWriter(this) && bounded) throw WRITERS_BUSY;
    let got: LockFile | LockOwner;
    try {
      got = takeLock(`${host.dir}/${WRITER_LOCK_FILE}`);
    } catch (err) {
      host.checkTopicId(); // the directory went away: the topic was deleted meanwhile
      throw err;
    }
    if (!(got instanceof LockFile)) throw new PartitionLockedError(host.topic, host.partition, got);
    let loaded: Loaded;
    try {
      loaded = host.loadForWriting();
    } catch (err) {
      got.release();
      throw err;
    }
    this.#lock = got;
    host.startWriting(loaded);
    this.lastWriteAt = this.#acquiredAt = Date.now();
    addWriter(this);
  }

  /**
   * Releases the writer lock, if held (the log is closed or abandoned).
   *
   * @throws when the lock file cannot be released; the role is given up all the same
   */
  release(): void {
    const lock = this.#lock;
    if (lock === undefined) return;
    try {
      lock.release();
    } finally {
      this.#lock = undefined;
      removeWriter(this);
    }
  }

  /**
   * Whether an append may go ahead now: the role is held and no append queues for it. A role
   * that is not kept until close first looks for another process's `writer.wanted` marker:
   * a producer whose appends resolve without a macrotask (no fsync to wait for) never lets the
   * periodic check run.
   *
   * @returns `false` when the append goes through {@linkcode WriterLease.whenWriter}
   */
  ready(): boolean {
    if (this.#lock === undefined) return false;
    if (this.#writerIdleMs !== Infinity && !this.#pinned) this.#checkWanted(Date.now());
    return this.#lock !== undefined && this.#queued === undefined;
  }

  /**
   * Gives the writer role back if nothing is in flight (see `writer_roles.ts`): the log is left
   * as `close()` leaves it and goes on as a reader.
   *
   * @returns whether the role was given back
   */
  releaseIfIdle(): boolean {
    if (!this.#lock || this.#host.closed || this.#queued !== undefined || this.#pinned) return false;
    if (this.#writerIdleMs === Infinity) return false;
    if (!this.#host.idle()) return false;
    // A step that fails leaves the log unmarked, so the next writer recovers it; the role is
    // given back all the same.
    this.#host.handOver();
    try {
      this.#lock.release();
    } catch { /* the next writer takes a stale lock over */ }
    this.#lock = undefined;
    removeWriter(this);
    this.#host.startReading();
    return true;
  }

  /**
   * The periodic check of a writer role: given back once idle for `writerIdleMs`, or when
   * another process left the `writer.wanted` marker (looked for at each check, every 20 ms).
   *
   * @param now ms since the epoch
   */
  check(now: number): void {
    if (!this.#lock || this.#pinned || this.#writerIdleMs === Infinity) return;
    if (now - this.lastWriteAt >= this.#writerIdleMs) {
      this.releaseIfIdle();
      return;
    }
    this.#checkWanted(now);
  }

  /**
   * Looks for another process's `writer.wanted` marker (at most every 20 ms, and not in the first
   * 100 ms of a turn); when there is one, the topic's roles are given back.
   */
  #checkWanted(now: number): void {
    if (now - this.#wantedCheckedAt < WRITER_CHECK_INTERVAL_MS || now - this.#acquiredAt < MIN_TURN_MS) {
      return;
    }
    this.#wantedCheckedAt = now;
    if (!fs.existsSync(`${this.#host.dir}/${WRITER_WANTED_FILE}`)) return;
    // Another process waits. It gets the whole topic's turn: the roles of the topic's other
    // partitions go too, so that two producers of a topic of several partitions take turns on the
    // topic instead of trading single partitions at every append.
    if (this.#writerGroup !== undefined) this.#writerGroup.yieldAll(now + YIELD_MS);
    else this.yieldTurn(now + YIELD_MS);
  }

  /**
   * Gives the writer role to another writer: appends from here on queue until this process has
   * the role again (not before `until`), and the role goes as soon as what is in flight is done.
   * Does nothing for a role kept until close, or one not held.
   *
   * @param until ms since the epoch before which this process does not take the role again
   */
  yieldTurn(until: number): void {
    if (!this.#lock || this.#pinned || this.#writerIdleMs === Infinity || this.#host.closed) return;
    this.#yieldUntil = Math.max(this.#yieldUntil, until);
    if (this.#queued === undefined) {
      this.#queued = [];
      void this.#yieldThenWait(); // not tracked: it waits for what is tracked
    }
  }

  /** Gives the role back once idle, then waits to take it again for the appends queued meanwhile. */
  async #yieldThenWait(): Promise<void> {
    const queued = this.#queued!;
    this.#queued = undefined; // so that releaseIfIdle may run
    while (!this.#host.closed && this.#lock && !this.#pinned && !this.releaseIfIdle()) {
      this.#queued = queued;
      await sleep(1);
      this.#queued = undefined;
    }
    this.#queued = queued;
    await this.#waitForWriter();
  }

  /**
   * Waits for the writer role (another process holds it, or every role this process may hold is
   * busy), leaving the `writer.wanted` marker, up to `lockTimeoutMs`; then runs the queued
   * appends in order, or fails them.
   */
  async #waitForWriter(): Promise<void> {
    const host = this.#host;
    const start = Date.now();
    const deadline = start + this.#lockTimeoutMs;
    // Roles of this process that are busy become idle once their fdatasyncs end.
    const busyDeadline = start + Math.max(this.#lockTimeoutMs, 30_000);
    const wanted = `${host.dir}/${WRITER_WANTED_FILE}`;
    let pause = 1;
    let failure: unknown;
    for (;;) {
      const now = Date.now();
      if (now >= this.#yieldUntil) {
        try {
          this.take(true);
          break;
        } catch (err) {
          if (err !== WRITERS_BUSY && !(err instanceof PartitionLockedError)) {
            failure = err;
            break;
          }
          if (err instanceof PartitionLockedError) {
            try {
              // Created, never opened through a link (O_EXCL): EEXIST when it is there already.
              fs.closeSync(openFile(wanted, "wx"));
            } catch {
              /* there already, or not writable: the writer gives the role back when idle all the same */
            }
          }
          if (now >= (err === WRITERS_BUSY ? busyDeadline : deadline)) {
            failure = err === WRITERS_BUSY
              ? new StorageError(
                `Cannot append to "${host.topic}-${host.partition}": every writer role this process may hold stayed busy for ${this.#lockTimeoutMs} ms (see setMaxWriters)`,
              )
              : err;
            break;
          }
        }
      }
      await sleep(Math.max(pause, Math.min(this.#yieldUntil - now, MAX_WRITER_POLL_MS)));
      pause = Math.min(pause * 2, MAX_WRITER_POLL_MS);
    }
    if (failure === undefined) {
      try {
        removeFile(wanted);
      } catch { /* removed by the next writer */ }
    }
    const queued = this.#queued ?? [];
    this.#queued = undefined;
    for (const q of queued) {
      if (failure !== undefined) q.reject(failure);
      else q.run().then(q.resolve, q.reject);
    }
  }

  /**
   * Runs `run` (an append of `batch`) now when this process has the writer role or can take it at
   * once; otherwise queues it behind the appends already waiting, to run in order once the role is
   * taken, with a copy of `batch`: the caller may reuse its buffer as soon as the append returns
   * (a producer encodes its next batch into the same bytes).
   *
   * @param batch the batch to append
   * @param run the append
   * @returns what `run` returns, once it ran
   */
  whenWriter<T>(batch: Uint8Array, run: (batch: Uint8Array) => Promise<T>): Promise<T> {
    if (this.#queued === undefined && !this.#lock && !this.#host.closed) {
      try {
        this.take(true);
      } catch (err) {
        if (err !== WRITERS_BUSY && !(err instanceof PartitionLockedError)) return Promise.reject(err);
        if (this.#lockTimeoutMs === 0 && err instanceof PartitionLockedError) return Promise.reject(err);
        this.#queued = [];
        void this.#waitForWriter(); // settles the queued appends itself
      }
    }
    if (this.#queued === undefined) return run(batch);
    const copy = batch.slice();
    return new Promise((resolve, reject) => this.#queued!.push({ run: () => run(copy), resolve, reject }));
  }
}
