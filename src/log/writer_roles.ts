/**
 * The partitions this process writes, and the bound on how many it writes at once. A writer role
 * holds file descriptors (the partition's lock file, and under `fsync: "always"` its published
 * high watermark), so a process producing to thousands of partitions keeps the most recently used
 * ones and gives back the roles of idle partitions past the limit (their logs go on serving reads).
 * A role is also given back once its partition has been idle for the log's `writerIdleMs`, or
 * sooner when another process waits for it (it left the partition's `writer.wanted` marker): that
 * is how several processes produce to one partition.
 *
 * The limit is per process (as `ulimit -n` is), shared by every open log directory:
 * {@linkcode setMaxWriters} changes it.
 *
 * @module
 */
import { boundFromLimit, openFileLimit } from "../runtime/open_file_limit.ts";

/**
 * The default of {@linkcode setMaxWriters}: partitions one process writes at once. An eighth of
 * the process's open-file limit (`ulimit -n`, read from `/proc/self/limits` on Linux: a role holds
 * its lock file open, and its high-watermark file under `fsync: "always"`), and at least 128 (where
 * the limit is unknown, or 1024 or less).
 */
export const DEFAULT_MAX_WRITERS: number = boundFromLimit(128, 8, openFileLimit());

/** How often idle writer roles are looked for and given back, ms. */
export const WRITER_CHECK_INTERVAL_MS = 20;

/** What the registry needs of a log that holds a writer role (`PartitionLog` is one). */
export interface WriterRole {
  /** When the role last served an append, ms since the epoch. */
  readonly lastWriteAt: number;
  /**
   * Gives the role back now if nothing is in flight (no append waiting for a write or an
   * fdatasync).
   *
   * @returns whether it was given back
   */
  releaseIfIdle(): boolean;
  /**
   * The periodic check: gives the role back if it has been idle long enough, or another process
   * wants it.
   *
   * @param now ms since the epoch
   */
  check(now: number): void;
  /**
   * Gives the role to a waiting writer of another process, not taking it again before `until`.
   *
   * @param until ms since the epoch
   */
  yieldTurn(until: number): void;
}

/**
 * The writer roles of one topic's partitions in one process, given back together when another
 * process waits for any of them: producers of a topic of several partitions then take turns on the
 * whole topic (a turn serves a burst of appends) instead of trading single partitions at every
 * append, which each append needing every partition would otherwise force.
 *
 * @example Every member gives its role back
 * ```ts
 * import assert from "node:assert/strict";
 * import { WriterGroup, type WriterRole } from "./writer_roles.ts";
 * const yielded: number[] = [];
 * const role = (id: number): WriterRole => ({
 *   lastWriteAt: 0,
 *   releaseIfIdle: () => false,
 *   check: () => {},
 *   yieldTurn: () => void yielded.push(id),
 * });
 * const group = new WriterGroup();
 * group.add(role(0));
 * group.add(role(1));
 * group.yieldAll(Date.now() + 15);
 * assert.deepEqual(yielded, [0, 1]);
 * ```
 */
export class WriterGroup {
  readonly #members = new Set<WeakRef<WriterRole>>();

  /**
   * Adds a log to the group.
   *
   * @param role the log
   */
  add(role: WriterRole): void {
    this.#members.add(new WeakRef(role));
  }

  /**
   * Makes every member give its role back (see {@linkcode WriterRole.yieldTurn}).
   *
   * @param until ms since the epoch before which the members do not take their roles again
   */
  yieldAll(until: number): void {
    for (const ref of this.#members) {
      const role = ref.deref();
      if (role === undefined) this.#members.delete(ref);
      else role.yieldTurn(until);
    }
  }
}

let maxWriters = DEFAULT_MAX_WRITERS;
/**
 * The roles held, weakly: a log dropped without `close()` (a test's simulated crash) is not kept
 * alive by the registry.
 */
const writers = new Set<WeakRef<WriterRole>>();
const refs = new WeakMap<WriterRole, WeakRef<WriterRole>>();
let timer: ReturnType<typeof setInterval> | undefined;

/** The roles still alive (dropping the references of collected ones). */
function held(): WriterRole[] {
  const out: WriterRole[] = [];
  for (const ref of writers) {
    const role = ref.deref();
    if (role === undefined) writers.delete(ref);
    else out.push(role);
  }
  return out;
}

/**
 * Sets how many partitions this process writes at once (every open log directory together).
 * Taking one more writer role first gives back the least recently used idle one; when every role
 * is busy, appends to a new partition wait for one to become idle.
 *
 * @param limit the most writer roles held at once, at least 1
 * @throws {RangeError} when `limit` is not a whole number of at least 1
 * @example Write at most 16 partitions at once
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_MAX_WRITERS, setMaxWriters, writerCount } from "./writer_roles.ts";
 * setMaxWriters(16);
 * assert.ok(writerCount() <= 16);
 * setMaxWriters(DEFAULT_MAX_WRITERS);
 * ```
 */
export function setMaxWriters(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`maxWriters must be a whole number of at least 1, got ${limit}`);
  }
  maxWriters = limit;
  while (held().length > maxWriters && releaseLeastRecentlyUsed(undefined)) { /* one per turn */ }
}

/** How many writer roles this process holds now. */
export function writerCount(): number {
  return held().length;
}

/** Gives back the idle role used least recently, other than `keep`; whether one was given back. */
function releaseLeastRecentlyUsed(keep: WriterRole | undefined): boolean {
  const byAge = held().filter((w) => w !== keep).sort((a, b) => a.lastWriteAt - b.lastWriteAt);
  for (const writer of byAge) if (writer.releaseIfIdle()) return true;
  return false;
}

/**
 * Makes room for one more writer role, giving back idle ones past the limit.
 *
 * @param role the role about to be taken (`undefined`: that of a log being opened)
 * @returns whether there is room (`false`: every role held is busy)
 */
export function makeRoomForWriter(role: WriterRole | undefined): boolean {
  if (role !== undefined && refs.has(role) && writers.has(refs.get(role)!)) return true;
  while (held().length >= maxWriters) {
    if (!releaseLeastRecentlyUsed(role)) return false;
  }
  return true;
}

/**
 * Records a role taken.
 *
 * @param role the log that took it
 */
export function addWriter(role: WriterRole): void {
  let ref = refs.get(role);
  if (ref === undefined) refs.set(role, ref = new WeakRef(role));
  writers.add(ref);
  if (timer === undefined) {
    timer = setInterval(checkWriters, WRITER_CHECK_INTERVAL_MS);
    // A periodic check must not keep the process alive (Deno and Bun timers have unref() too).
    (timer as unknown as { unref?: () => void }).unref?.();
  }
}

/**
 * Records a role given back (or its log closed).
 *
 * @param role the log that held it
 */
export function removeWriter(role: WriterRole): void {
  const ref = refs.get(role);
  if (ref !== undefined) writers.delete(ref);
  if (held().length === 0 && timer !== undefined) {
    clearInterval(timer);
    timer = undefined;
  }
}

function checkWriters(): void {
  const now = Date.now();
  const roles = held();
  if (roles.length === 0 && timer !== undefined) {
    clearInterval(timer);
    timer = undefined;
  }
  for (const writer of roles) {
    try {
      writer.check(now);
    } catch { /* tried again at the next check */ }
  }
}
