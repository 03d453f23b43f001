/**
 * Lock files: who writes a partition, who changes a consumer group's state. A lock is a small
 * JSON file created atomically (written beside its name, then hard-linked to it, which fails if
 * the name exists), holding the owner's process id, host, boot id and process start time, and a
 * random token:
 *
 * ```
 * LockFile => { version: 0, pid, token, hostname, bootId?, startTime?, acquiredAt, transient? }   (JSON)
 * ```
 *
 * A lock whose owner is dead is stale and is taken over, so a crashed process never leaves one
 * stuck. The owner is dead when, on this host, `process.kill(pid, 0)` fails with ESRCH, when the
 * machine has rebooted since (Linux boot id), or when the pid now belongs to a process that
 * started later (Linux `/proc/<pid>/stat` start time: a reused pid). A lock from another host is
 * always taken as live. Two processes taking over the same stale lock are serialised by a second
 * exclusive file, `<lock>.<token>.takeover`.
 *
 * Deno and Bun both implement what this needs from `node:fs`, `node:os` and `process.kill`.
 *
 * @module
 */
import * as os from "node:os";
import process from "node:process";
import { StorageError } from "../errors.ts";
import { fs } from "./file_system.ts";

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

let cachedSelf: { hostname: string; bootId?: string; startTime?: string } | undefined;

function hostname(): string {
  try {
    return os.hostname();
  } catch {
    return "localhost"; // Deno without --allow-sys: every process here says the same
  }
}

function self(): { hostname: string; bootId?: string; startTime?: string } {
  cachedSelf ??= { hostname: hostname(), bootId: bootId(), startTime: processStartTime(process.pid) };
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
}

/**
 * This process's identity: what a lock file or a consumer group member file records so that
 * others can tell when it is gone.
 *
 * @returns pid, host name, and on Linux the boot id and process start time
 * @example
 * ```ts
 * import { processIdentity } from "./lock_file.ts";
 * console.log(processIdentity().pid);
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
 * @example
 * ```ts
 * import process from "node:process";
 * import { isLockOwnerAlive } from "./lock_file.ts";
 * console.log(isLockOwnerAlive({ pid: process.pid, hostname: "elsewhere" })); // true: another host
 * ```
 */
export function isLockOwnerAlive(owner: ProcessIdentity): boolean {
  const me = self();
  if (owner.hostname !== me.hostname) return true;
  if (owner.bootId !== undefined && me.bootId !== undefined && owner.bootId !== me.bootId) return false;
  if (owner.pid === process.pid) return owner.startTime === undefined || owner.startTime === me.startTime;
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    if ((err as { code?: string }).code === "ESRCH") return false;
    // EPERM: the process exists but belongs to another user. (Deno without --allow-run cannot
    // ask: the owner is taken as live.)
  }
  if (owner.startTime !== undefined) {
    const now = processStartTime(owner.pid);
    if (now !== undefined && now !== owner.startTime) return false;
  }
  return true;
}

/**
 * Reads a lock file.
 *
 * @param path the lock file's path
 * @returns its owner, `null` when the file exists but cannot be parsed, `undefined` when it is missing
 * @example
 * ```ts
 * import { readLockOwner } from "./lock_file.ts";
 * console.log(readLockOwner("/no/such/.lock")); // undefined
 * ```
 */
export function readLockOwner(path: string): LockOwner | null | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path, "utf8");
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

/** Creates `path` holding `contents` only if it does not exist, atomically (link, not open). */
function createExclusive(path: string, contents: string, token: string): boolean {
  const tmp = `${path}.${token}.new`;
  fs.writeFileSync(tmp, contents);
  try {
    fs.linkSync(tmp, path);
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === "EEXIST") return false;
    throw err;
  } finally {
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
 * import { LockFile, tryLock } from "./lock_file.ts";
 * const path = Deno.makeTempDirSync() + "/.lock";
 * const lock = tryLock(path);
 * if (lock instanceof LockFile) {
 *   console.log(tryLock(path) instanceof LockFile); // false: the owner's record instead
 *   lock.release();
 * }
 * ```
 */
export class LockFile {
  #held = true;

  /**
   * @param path the lock file's path
   * @param owner what it records (this process)
   */
  constructor(readonly path: string, readonly owner: LockOwner) {}

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
    if (readLockOwner(this.path)?.token === this.owner.token) unlinkQuietly(this.path);
  }
}

/**
 * Tries once to take a lock: creates the lock file, or takes over a stale one. Never waits.
 *
 * @param path the lock file's path (its directory must exist)
 * @param options `transient`: the lock will be held only for a moment (others may wait for it)
 * @returns the {@linkcode LockFile} when taken, or the live owner's record when another holds it
 * @throws {StorageError} when the file cannot be written, or the lock keeps changing hands
 * @example
 * ```ts
 * import { LockFile, tryLock } from "./lock_file.ts";
 * const got = tryLock(Deno.makeTempDirSync() + "/.lock");
 * if (got instanceof LockFile) got.release();
 * else console.log(`held by process ${got.pid}`);
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
    acquiredAt: Date.now(),
    ...(options.transient ? { transient: true } : {}),
  };
  const contents = JSON.stringify(owner) + "\n";
  try {
    for (let attempt = 0; attempt < 20; attempt++) {
      if (createExclusive(path, contents, owner.token)) return new LockFile(path, owner);
      const current = readLockOwner(path);
      if (current === undefined) continue; // released meanwhile: try again
      if (current !== null && isLockOwnerAlive(current)) return current;
      // Stale (its owner is gone) or unreadable: take it over, one taker at a time.
      const staleToken = current?.token ?? "unreadable";
      const marker = `${path}.${staleToken}.takeover`;
      if (!createExclusive(marker, contents, owner.token)) {
        const taker = readLockOwner(marker);
        if (taker && isLockOwnerAlive(taker)) return taker;
        unlinkQuietly(marker); // a taker that died halfway
        continue;
      }
      try {
        const again = readLockOwner(path);
        if (again === null ? current === null : again?.token === staleToken) unlinkQuietly(path);
      } finally {
        unlinkQuietly(marker);
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
 * @example
 * ```ts
 * import { LockFile, takeLock } from "./lock_file.ts";
 * const got = takeLock(Deno.makeTempDirSync() + "/.lock");
 * if (got instanceof LockFile) got.release();
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
