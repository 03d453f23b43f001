/**
 * Lock files: who writes a partition, who changes a consumer group's state. A lock is a small
 * JSON file created atomically (written beside its name, then hard-linked to it, which fails if
 * the name exists), holding the owner's process id, host, start time and a random token:
 *
 * ```
 * LockFile => { version: 0, pid, token, hostname, bootId?, startTime?, startedAt?, osLock?,
 *               acquiredAt, transient? }   (JSON)
 * ```
 *
 * A lock whose owner is dead is stale and is taken over, so a crashed process never leaves one
 * stuck, and a live owner's lock never is. The owner holds an advisory OS lock (`flock(2)`,
 * runtime/advisory_lock.ts) on the lock file for as long as it holds the lock (`osLock: true`):
 * the kernel drops it when the owner dies, kill -9 included, so any process that may open the
 * file can tell a dead owner from a live one, whatever its permissions (Deno without
 * `--allow-run`/`--allow-sys` can ask nothing about another process). Where a runtime offers no
 * advisory lock, the owner is dead when, on this host, `process.kill(pid, 0)` fails with ESRCH,
 * when the machine has rebooted since (Linux boot id), or when the pid now belongs to a process
 * that started later (a reused pid: Linux `/proc/<pid>/stat` start time against the recorded
 * `startTime`, or against `startedAt`, the owner's `performance.timeOrigin`, which every process
 * can read for itself). A lock from another host is taken as live; a lock naming host
 * `"localhost"` (written by a process that could not read its host name) is taken as this host's.
 * Two processes taking over the same stale lock are serialised by a second exclusive file,
 * `<lock>.<token>.takeover`.
 *
 * Node has, and Deno and Bun implement, what this needs from `node:fs`, `node:os` and `process.kill`.
 *
 * @module
 */
import * as os from "node:os";
import process from "node:process";
import { StorageError } from "../errors.ts";
import { type AdvisoryLock, isAdvisoryLockHeld, tryAdvisoryLock } from "./advisory_lock.ts";
import { fs, readRegularFile } from "./file_system.ts";

/** The host name recorded by a process that cannot read its own (Deno without `--allow-sys`). */
const UNKNOWN_HOST = "localhost";
/** How far apart a process's start time in `/proc` and its own `performance.timeOrigin` may be, ms. */
const START_TOLERANCE_MS = 5_000;

/** What a lock file records about its owner. */
export interface LockOwner {
  /** Format version (0). */
  version: 0;
  /** The owner's process id. */
  pid: number;
  /** A random token naming this acquisition (a process may hold many locks). */
  token: string;
  /** The owner's host name. */
  hostname: string;
  /** The Linux boot id when the lock was taken, if known. */
  bootId?: string;
  /** The owner's start time in clock ticks since boot (Linux `/proc/<pid>/stat`), if known. */
  startTime?: string;
  /** When the owner started, ms since the epoch (its `performance.timeOrigin`). */
  startedAt?: number;
  /** Whether the owner holds an advisory OS lock on the lock file while it holds the lock. */
  osLock?: boolean;
  /** When the lock was taken, ms since the epoch. */
  acquiredAt: number;
  /** Whether the owner holds it only for a moment (a recovery at open): worth waiting for. */
  transient?: boolean;
}

let cachedBootId: string | null | undefined;

function bootId(): string | undefined {
  if (cachedBootId === undefined) {
    try {
      cachedBootId = fs.readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim() || null;
    } catch {
      cachedBootId = null;
    }
  }
  return cachedBootId ?? undefined;
}

/**
 * A process's start time in clock ticks since boot, from `/proc/<pid>/stat` (field 22), or
 * `undefined` where there is no `/proc`.
 */
function processStartTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) is in parentheses and may hold spaces: count from the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19];
  } catch {
    return undefined;
  }
}

let cachedBootTime: number | null | undefined;

/**
 * When a process started, ms since the epoch, from `/proc/<pid>/stat` and `/proc/stat` (boot time,
 * whole seconds; 100 clock ticks a second, Linux's USER_HZ); `undefined` where there is no `/proc`.
 */
function processStartedAt(pid: number): number | undefined {
  if (cachedBootTime === undefined) {
    try {
      const m = /^btime (\d+)$/m.exec(fs.readFileSync("/proc/stat", "utf8"));
      cachedBootTime = m ? Number(m[1]) * 1000 : null;
    } catch {
      cachedBootTime = null;
    }
  }
  if (cachedBootTime === null) return undefined;
  const ticks = processStartTime(pid);
  return ticks === undefined ? undefined : cachedBootTime + Number(ticks) * 10;
}

interface SelfIdentity {
  hostname: string;
  bootId?: string;
  startTime?: string;
  startedAt: number;
}

let cachedSelf: SelfIdentity | undefined;

function hostname(): string {
  try {
    return os.hostname();
  } catch {
    return UNKNOWN_HOST; // Deno without --allow-sys: every process here says the same
  }
}

function self(): SelfIdentity {
  cachedSelf ??= {
    hostname: hostname(),
    bootId: bootId(),
    startTime: processStartTime(process.pid),
    startedAt: Math.floor(performance.timeOrigin),
  };
  return cachedSelf;
}

/** Who a process is, in the terms {@linkcode isLockOwnerAlive} checks. */
export interface ProcessIdentity {
  /** The process id. */
  pid: number;
  /** The host name. */
  hostname: string;
  /** The Linux boot id, if known. */
  bootId?: string;
  /** The process start time in clock ticks since boot (Linux), if known. */
  startTime?: string;
  /** When the process started, ms since the epoch (its `performance.timeOrigin`): always known for this process. */
  startedAt?: number;
}

/**
 * This process's identity: what a lock file or a consumer group member file records so that
 * others can tell when it is gone.
 *
 * @returns pid, host name, and on Linux the boot id and process start time
 * @example This process, as a lock records it
 * ```ts
 * import assert from "node:assert/strict";
 * import process from "node:process";
 * import { processIdentity } from "./lock_file.ts";
 * const me = processIdentity();
 * assert.equal(me.pid, process.pid);
 * assert.equal(typeof me.startedAt, "number"); // always known, without any permission
 * ```
 */
export function processIdentity(): ProcessIdentity {
  return { pid: process.pid, ...self() };
}

/**
 * Whether the owner of a lock (or any recorded process) is still running. A process on another
 * host is taken as live.
 *
 * @param owner what the lock file records
 * @returns `false` only when the owner is known to be gone
 * @example This process is alive; a pid that never ran on this host is not
 * ```ts
 * import assert from "node:assert/strict";
 * import { isLockOwnerAlive, processIdentity } from "./lock_file.ts";
 * assert.equal(isLockOwnerAlive(processIdentity()), true);
 * assert.equal(isLockOwnerAlive({ ...processIdentity(), pid: 2 ** 22 + 1 }), false); // above pid_max
 * ```
 */
export function isLockOwnerAlive(owner: ProcessIdentity): boolean {
  const me = self();
  const sameHost = owner.hostname === me.hostname || owner.hostname === UNKNOWN_HOST ||
    me.hostname === UNKNOWN_HOST;
  if (!sameHost) return true;
  if (owner.bootId !== undefined && me.bootId !== undefined && owner.bootId !== me.bootId) return false;
  if (owner.pid === process.pid) {
    if (owner.startTime !== undefined && me.startTime !== undefined) return owner.startTime === me.startTime;
    return owner.startedAt === undefined || Math.abs(owner.startedAt - me.startedAt) < START_TOLERANCE_MS;
  }
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    if ((err as { code?: string }).code === "ESRCH") return false;
    // EPERM: the process exists but belongs to another user. (Deno without --allow-run cannot
    // ask: /proc may still answer below.)
  }
  if (owner.startTime !== undefined) {
    const now = processStartTime(owner.pid);
    if (now !== undefined) return now === owner.startTime;
  }
  const startedAt = processStartedAt(owner.pid);
  if (startedAt === undefined) {
    // /proc is readable (the boot time was) but has no entry for the pid: the process is gone.
    return !(typeof cachedBootTime === "number" && !fs.existsSync(`/proc/${owner.pid}`));
  }
  // The pid now belongs to a process that started after the owner: the owner is gone.
  if (owner.startedAt !== undefined && startedAt > owner.startedAt + START_TOLERANCE_MS) return false;
  return true;
}

/**
 * Whether the owner recorded in a lock file is still running: by its advisory OS lock when it
 * holds one (`osLock`) and this runtime can test it, else by {@linkcode isLockOwnerAlive}.
 *
 * @param path the lock file
 * @param owner what it records
 * @returns `false` only when the owner is known to be gone
 */
function isLockFileOwnerAlive(path: string, owner: LockOwner): boolean {
  if (owner.osLock && owner.pid !== process.pid) {
    const held = isAdvisoryLockHeld(path);
    if (held !== undefined) return held;
  }
  return isLockOwnerAlive(owner);
}

/**
 * Reads a lock file.
 *
 * @param path the lock file's path
 * @returns its owner, `null` when the file exists but cannot be parsed, `undefined` when it is missing
 * @example No lock file, and a lock file
 * ```ts
 * import assert from "node:assert/strict";
 * import process from "node:process";
 * import { LockFile, readLockOwner, tryLock } from "./lock_file.ts";
 * const path = `${Deno.makeTempDirSync()}/.lock`;
 * assert.equal(readLockOwner(path), undefined);
 * const lock = tryLock(path) as LockFile;
 * assert.equal(readLockOwner(path)?.pid, process.pid);
 * lock.release();
 * ```
 */
export function readLockOwner(path: string): LockOwner | null | undefined {
  let text: string;
  try {
    text = new TextDecoder().decode(readRegularFile(path));
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") return undefined;
    throw err;
  }
  try {
    const value = JSON.parse(text);
    if (value?.version === 0 && Number.isSafeInteger(value.pid) && typeof value.token === "string") {
      return value as LockOwner;
    }
  } catch { /* unparsable */ }
  return null;
}

/**
 * Creates `path` holding `contents` only if it does not exist, atomically (link, not open). The
 * new file is locked (advisory) before it appears under its name: `contents` is a function of
 * whether the lock was taken, and the lock is returned (`null` when it could not be), or `false`
 * when `path` exists. The file is created, locked and written through one descriptor (one open
 * of it to write, beside the lock's own).
 */
function createExclusive(
  path: string,
  contents: (osLock: boolean) => string,
  token: string,
): AdvisoryLock | null | false {
  const tmp = `${path}.${token}.new`;
  let lock: AdvisoryLock | false | undefined;
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, "w");
    lock = tryAdvisoryLock(tmp);
    const bytes = new TextEncoder().encode(contents(!!lock));
    for (let done = 0; done < bytes.length;) done += fs.writeSync(fd, bytes, done, bytes.length - done);
    fs.closeSync(fd);
    fd = undefined;
    fs.linkSync(tmp, path);
    return lock || null;
  } catch (err) {
    if (lock) lock.release();
    if ((err as { code?: string }).code === "EEXIST") return false;
    throw err;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
    try {
      fs.unlinkSync(tmp);
    } catch { /* already gone */ }
  }
}

function unlinkQuietly(path: string): void {
  try {
    fs.unlinkSync(path);
  } catch { /* already gone */ }
}

/**
 * A lock this process holds. Release it with {@linkcode LockFile.release}; a process that dies
 * leaves a stale lock that the next taker takes over.
 *
 * @example Take a lock, see it refused to a second taker, release it
 * ```ts
 * import assert from "node:assert/strict";
 * import process from "node:process";
 * import { LockFile, tryLock } from "./lock_file.ts";
 * const path = Deno.makeTempDirSync() + "/.lock";
 * const lock = tryLock(path);
 * assert.ok(lock instanceof LockFile);
 * const second = tryLock(path);
 * assert.ok(!(second instanceof LockFile)); // the owner's record instead
 * assert.equal(second.pid, process.pid);
 * lock.release();
 * assert.ok(tryLock(path) instanceof LockFile);
 * ```
 */
export class LockFile {
  #held = true;
  readonly #osLock: AdvisoryLock | undefined;

  /**
   * @param path the lock file's path
   * @param owner what it records (this process)
   * @param osLock the advisory OS lock held on the file while this lock is held, if any
   */
  constructor(readonly path: string, readonly owner: LockOwner, osLock?: AdvisoryLock) {
    this.#osLock = osLock;
  }

  /** Whether this object still holds the lock (released locks, and locks taken over, do not). */
  get held(): boolean {
    if (!this.#held) return false;
    const now = readLockOwner(this.path);
    return now?.token === this.owner.token;
  }

  /** Removes the lock file if it is still this lock's; does nothing the second time. */
  release(): void {
    if (!this.#held) return;
    this.#held = false;
    try {
      if (readLockOwner(this.path)?.token === this.owner.token) unlinkQuietly(this.path);
    } finally {
      this.#osLock?.release();
    }
  }
}

/**
 * Tries once to take a lock: creates the lock file, or takes over a stale one. Never waits.
 *
 * @param path the lock file's path (its directory must exist)
 * @param options `transient`: the lock will be held only for a moment (others may wait for it)
 * @returns the {@linkcode LockFile} when taken, or the live owner's record when another holds it
 * @throws {StorageError} when the file cannot be written, or the lock keeps changing hands
 * @example A lock left by a process that is gone is taken over
 * ```ts
 * import assert from "node:assert/strict";
 * import * as fs from "node:fs";
 * import { LockFile, processIdentity, tryLock } from "./lock_file.ts";
 * const path = Deno.makeTempDirSync() + "/.lock";
 * // A lock of this host whose process (a pid above pid_max) is gone:
 * const dead = { ...processIdentity(), pid: 2 ** 22 + 1, startTime: undefined, startedAt: undefined };
 * fs.writeFileSync(path, JSON.stringify({ version: 0, token: "dead", acquiredAt: 0, ...dead }));
 * const got = tryLock(path);
 * assert.ok(got instanceof LockFile);
 * got.release();
 * ```
 */
export function tryLock(path: string, options: { transient?: boolean } = {}): LockFile | LockOwner {
  const me = self();
  const owner: LockOwner = {
    version: 0,
    pid: process.pid,
    token: crypto.randomUUID(),
    hostname: me.hostname,
    bootId: me.bootId,
    startTime: me.startTime,
    startedAt: me.startedAt,
    acquiredAt: Date.now(),
    ...(options.transient ? { transient: true } : {}),
  };
  const contents = (osLock: boolean) => JSON.stringify(osLock ? { ...owner, osLock } : owner) + "\n";
  try {
    for (let attempt = 0; attempt < 20; attempt++) {
      const got = createExclusive(path, contents, owner.token);
      if (got !== false) {
        return new LockFile(path, got === null ? owner : { ...owner, osLock: true }, got ?? undefined);
      }
      const current = readLockOwner(path);
      if (current === undefined) continue; // released meanwhile: try again
      if (current !== null) {
        const alive = isLockFileOwnerAlive(path, current);
        if (readLockOwner(path)?.token !== current.token) continue; // changed hands meanwhile
        if (alive) return current;
      }
      // Stale (its owner is gone) or unreadable: take it over, one taker at a time.
      const staleToken = current?.token ?? "unreadable";
      const marker = `${path}.${staleToken}.takeover`;
      const markerLock = createExclusive(marker, contents, owner.token);
      if (markerLock === false) {
        const taker = readLockOwner(marker);
        if (taker && isLockFileOwnerAlive(marker, taker)) return taker;
        unlinkQuietly(marker); // a taker that died halfway
        continue;
      }
      try {
        const again = readLockOwner(path);
        if (again === null ? current === null : again?.token === staleToken) unlinkQuietly(path);
      } finally {
        unlinkQuietly(marker);
        markerLock?.release();
      }
    }
  } catch (err) {
    throw new StorageError(`Cannot take the lock ${path}: ${(err as Error).message}`, { cause: err });
  }
  throw new StorageError(`Cannot take the lock ${path}: it kept changing hands`);
}

/**
 * Takes a lock, waiting (synchronously, a few ms at a time) while its holder holds it only for a
 * moment (`transient`), up to `waitMs`; a lock held for good is reported at once.
 *
 * @param path the lock file's path
 * @param waitMs how long to wait for transient holders, ms
 * @returns the {@linkcode LockFile}, or the owner's record when another process holds it
 * @throws {StorageError} when the file cannot be written
 * @example Take a free lock
 * ```ts
 * import assert from "node:assert/strict";
 * import { LockFile, takeLock } from "./lock_file.ts";
 * const got = takeLock(Deno.makeTempDirSync() + "/.lock");
 * assert.ok(got instanceof LockFile);
 * got.release();
 * ```
 */
export function takeLock(path: string, waitMs = 30_000): LockFile | LockOwner {
  const deadline = Date.now() + waitMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    const got = tryLock(path);
    if (got instanceof LockFile || !got.transient || Date.now() > deadline) return got;
    Atomics.wait(pause, 0, 0, 2);
  }
}
