/**
 * A consumer group's files under the log directory, shared by every consumer of the group in
 * every process on the directory, and the group lock that orders changes to them. There is no
 * broker: each member does the coordinator's work (BRIEF §4.4) under the lock, in short synchronous
 * critical sections (`_group_membership.ts` for membership and rebalances, `offset_store.ts` for
 * committed offsets).
 *
 * ```
 * <dir>/.groups/<group id, percent-encoded>/
 *   .lock                               the group lock (runtime/lock_file.ts): held for microseconds
 *   state.json                          GroupState: generation, chosen assignor, members, assignment
 *   member-<member id>.json             MemberRecord: subscription, process, owned partitions;
 *                                       its modification time is the member's last heartbeat
 *   offsets/<topic>/<partition>.json    CommittedOffset: written atomically and fsynced
 * ```
 *
 * @module
 */
import { StorageError } from "../errors.ts";
import {
  assertRegularFiles,
  fs,
  openFile,
  pathStatus,
  readRegularFile,
  removeFile,
  syncDirectory,
  writeFileAtomic,
} from "../runtime/file_system.ts";
import { isLockOwnerAlive, LockFile, tryLock } from "../runtime/lock_file.ts";
import { groupDirPath, GROUPS_DIR } from "../runtime/log_paths.ts";
import type { LogDirectoryView } from "./log_directory_view.ts";
import type { TopicPartition } from "./types.ts";

const STATE_FILE = "state.json";
const LOCK_FILE = ".lock";

/** What a member's file records. */
export interface MemberRecord {
  /** Format version (0). */
  version: 0;
  /** The group. */
  groupId: string;
  /** The member's id: `<clientId>-<uuid>`. */
  memberId: string;
  /** The consumer's client id. */
  clientId: string;
  /** The member's process id. */
  pid: number;
  /** The member's host. */
  hostname: string;
  /** The Linux boot id of the member's host, if known. */
  bootId?: string;
  /** The member's process start time (Linux), if known. */
  startTime?: string;
  /** The topics subscribed to. */
  topics: string[];
  /** The assignor names the member supports, most preferred first. */
  assignors: string[];
  /** Expire the member this long after its last heartbeat, ms. */
  sessionTimeoutMs: number;
  /** When it joined, ms since the epoch. */
  joinedAt: number;
  /** The generation whose assignment `owned` comes from. */
  generation: number;
  /** The partitions the member reads now (its claims). */
  owned: TopicPartition[];
}

/** A member as read from its file. */
export interface MemberInfo extends MemberRecord {
  /** Its last heartbeat (the file's modification time), ms since the epoch. */
  lastHeartbeat: number;
  /** Whether it missed its session timeout or its process is gone. */
  expired: boolean;
}

/** What `state.json` records. */
export interface GroupState {
  /** Format version (0). */
  version: 0;
  /** The group. */
  groupId: string;
  /** Incremented by each rebalance. */
  generation: number;
  /** The assignor chosen, or `null` for an empty group. */
  protocol: string | null;
  /** The member with the smallest id (Kafka's leader; informational here). */
  leader: string | null;
  /** The members of this generation. */
  members: { memberId: string; clientId: string; topics: string[]; assignors: string[] }[];
  /** Each member's partitions in this generation. */
  assignment: Record<string, TopicPartition[]>;
  /** The partition counts the assignment was computed from. */
  partitionsPerTopic: Record<string, number>;
  /** When this generation began, ms since the epoch. */
  updatedAt: number;
}

/**
 * A small JSON file of a group, parsed.
 *
 * @param path the file
 * @returns its value, or `undefined` when it is absent, not a regular file, or not JSON
 * @example An absent file reads as undefined
 * ```ts
 * import assert from "node:assert/strict";
 * import { readJson } from "./_group_store.ts";
 * const dir = Deno.makeTempDirSync();
 * Deno.writeTextFileSync(`${dir}/a.json`, '{"offset":3}');
 * assert.deepEqual(readJson(`${dir}/a.json`), { offset: 3 });
 * assert.equal(readJson(`${dir}/b.json`), undefined);
 * ```
 */
export function readJson(path: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(readRegularFile(path)));
  } catch {
    return undefined; // absent, not a regular file, or damaged: treated as not there
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `fn` holding a group's lock file, waiting (asynchronously) while another process holds it.
 * `fn` is synchronous, so within one process the lock is never contended.
 *
 * @param groupDir the group's directory (it must exist)
 * @param groupId the group (for the error)
 * @param fn the critical section
 * @param timeoutMs how long to wait for another process, ms
 * @returns what `fn` returns
 * @throws {StorageError} when the lock stays held by a live process for `timeoutMs`
 * @example A critical section under the group lock
 * ```ts
 * import assert from "node:assert/strict";
 * import { withGroupLock } from "./_group_store.ts";
 * const dir = Deno.makeTempDirSync();
 * assert.equal(await withGroupLock(dir, "billing", () => 42), 42);
 * ```
 */
export async function withGroupLock<T>(
  groupDir: string,
  groupId: string,
  fn: () => T,
  timeoutMs = 30_000,
): Promise<T> {
  const path = `${groupDir}/${LOCK_FILE}`;
  const deadline = Date.now() + timeoutMs;
  for (let wait = 1;; wait = Math.min(wait * 2, 50)) {
    const got = tryLock(path);
    if (got instanceof LockFile) {
      try {
        return fn();
      } finally {
        got.release();
      }
    }
    if (Date.now() > deadline) {
      throw new StorageError(
        `Cannot lock consumer group "${groupId}": process ${got.pid} on ${got.hostname} has held its lock for over ${timeoutMs} ms`,
      );
    }
    await sleep(wait);
  }
}

/**
 * The files of one consumer group: its directory, lock, state file and member files, and the
 * in-process listeners woken when a consumer of this process changes them. Internal: the group's
 * membership, its offset store and `describeGroup` work through it.
 *
 * @example A group's state and members, before anyone joined
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../mod.ts";
 * import { GroupStore } from "./_group_store.ts";
 * const log = await open(Deno.makeTempDirSync());
 * const store = new GroupStore(log, "billing");
 * assert.equal(store.readState(), undefined);
 * assert.deepEqual(store.readMembers(), []);
 * assert.equal(await store.locked(() => "inside"), "inside");
 * await log.close();
 * ```
 */
export class GroupStore {
  /** In-process listeners per group directory: woken at once, without waiting for `fs.watch`. */
  static readonly #listeners = new Map<string, Set<() => void>>();
  /** The group's directory. */
  readonly dir: string;

  /**
   * @param log the open log directory
   * @param groupId the group
   * @throws {InvalidGroupIdError} for an empty, malformed or too long group id
   */
  constructor(readonly log: LogDirectoryView, readonly groupId: string) {
    this.dir = groupDirPath(log.dir, groupId);
  }

  /**
   * Calls `listener` whenever a consumer of this process changes the group's files (a join, a
   * leave, a new generation, a claim or a release). Other processes' changes arrive by watching.
   *
   * @returns a function that removes the listener
   */
  onChange(listener: () => void): () => void {
    let set = GroupStore.#listeners.get(this.dir);
    if (!set) GroupStore.#listeners.set(this.dir, set = new Set());
    set.add(listener);
    return () => {
      set!.delete(listener);
      if (set!.size === 0) GroupStore.#listeners.delete(this.dir);
    };
  }

  /** Wakes this process's listeners of the group: its files changed. */
  changed(): void {
    for (const listener of [...(GroupStore.#listeners.get(this.dir) ?? [])]) listener();
  }

  /**
   * Creates the group's directory if needed (but never the log directory: a consumer whose
   * directory was removed fails instead of bringing it back).
   *
   * @throws {StorageError} when the log directory is gone
   */
  ensureDir(): void {
    if (fs.existsSync(this.dir)) return;
    try {
      for (const dir of [`${this.log.dir}/${GROUPS_DIR}`, this.dir]) {
        try {
          fs.mkdirSync(dir);
        } catch (err) {
          if ((err as { code?: string }).code !== "EEXIST") throw err;
        }
      }
    } catch (err) {
      throw new StorageError(
        `Cannot use consumer group "${this.groupId}": ${(err as Error).message}`,
        { cause: err },
      );
    }
    syncDirectory(`${this.log.dir}/${GROUPS_DIR}`);
  }

  /**
   * Runs `fn` holding the group lock, waiting (asynchronously) while another process holds it.
   * `fn` is synchronous, so within one process the lock is never contended.
   *
   * @throws {StorageError} when the lock stays held by a live process for `timeoutMs`
   */
  locked<T>(fn: () => T, timeoutMs = 30_000): Promise<T> {
    this.ensureDir();
    return withGroupLock(this.dir, this.groupId, fn, timeoutMs);
  }

  /**
   * Checks that the group's files (state, members, lock) are regular files, with `lstat` only:
   * a symbolic link, directory or named pipe in their place is reported, never opened or replaced.
   *
   * @throws {StorageError} naming the first entry that is not a regular file
   */
  checkFiles(): void {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return; // no group directory yet: nothing to check
    }
    assertRegularFiles(
      this.dir,
      names.filter((n) => n === STATE_FILE || n === LOCK_FILE || /^member-.+\.json$/.test(n)),
    );
  }

  /** The group's state file, or `undefined` before the first join. */
  readState(): GroupState | undefined {
    this.checkFiles();
    const value = readJson(`${this.dir}/${STATE_FILE}`) as GroupState | undefined;
    return value?.version === 0 && Number.isSafeInteger(value.generation) ? value : undefined;
  }

  /** Replaces the group's state file, atomically and durably (under the lock). */
  writeState(state: GroupState): void {
    writeFileAtomic(`${this.dir}/${STATE_FILE}`, JSON.stringify(state) + "\n");
  }

  #memberPath(memberId: string): string {
    return `${this.dir}/member-${memberId}.json`;
  }

  /** One member's file, or `undefined` when it is gone (left or expired). */
  readMember(memberId: string): MemberRecord | undefined {
    const value = readJson(this.#memberPath(memberId)) as MemberRecord | undefined;
    return value?.version === 0 && value.memberId === memberId ? value : undefined;
  }

  /** Writes a member's file (atomically, without fsync: membership does not survive a power loss). */
  writeMember(record: MemberRecord): void {
    writeFileAtomic(this.#memberPath(record.memberId), JSON.stringify(record) + "\n", { sync: false });
  }

  /** Removes a member's file, if it is there. */
  removeMember(memberId: string): void {
    removeFile(this.#memberPath(memberId));
  }

  /**
   * Every member file, each with its last heartbeat and whether it expired.
   *
   * @param now the current time, ms
   */
  readMembers(now: number = Date.now()): MemberInfo[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return [];
    }
    const out: MemberInfo[] = [];
    for (const name of names) {
      const m = /^member-(.+)\.json$/.exec(name);
      if (!m) continue;
      const path = `${this.dir}/${name}`;
      const record = readJson(path) as MemberRecord | undefined;
      if (record?.version !== 0 || record.memberId !== m[1]) continue;
      let lastHeartbeat: number;
      try {
        lastHeartbeat = pathStatus(path).mtimeMs;
      } catch {
        continue; // removed meanwhile
      }
      const expired = now - lastHeartbeat > record.sessionTimeoutMs || !isLockOwnerAlive(record);
      out.push({ ...record, lastHeartbeat, expired });
    }
    return out.sort((a, b) => a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0);
  }

  /**
   * Sets a member file's modification time to now (its heartbeat).
   *
   * @returns `false` when the file is gone: the member was removed from the group
   */
  touchMember(memberId: string): boolean {
    const now = Date.now() / 1000;
    let fd: number;
    try {
      fd = openFile(this.#memberPath(memberId), "r"); // never through a symbolic link
    } catch (err) {
      if ((err as { code?: string }).code === "ENOENT") return false;
      throw err;
    }
    try {
      fs.futimesSync(fd, now, now);
      return true;
    } finally {
      fs.closeSync(fd);
    }
  }
}
