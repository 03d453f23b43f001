/**
 * A consumer group kept in files under the log directory, shared by every consumer of the group
 * in every process on the directory. There is no broker: each member does the coordinator's work
 * (BRIEF §4.4) under the group's lock file, in short synchronous critical sections.
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
 * The protocol, Kafka's eager rebalance with ownership made explicit:
 * - A member joins by writing its member file; it leaves by removing it; it heartbeats by
 *   touching it. A member whose file is older than its `sessionTimeoutMs`, or whose process is
 *   gone (same host), is expired: whoever notices removes its file.
 * - Whenever the live members (or their subscriptions, or the partition counts) differ from
 *   `state.json`, the member that notices writes a new state: generation + 1, the assignor every
 *   member supports (`selectProtocol`), and the new assignment.
 * - A member that sees a new generation revokes every partition it owns (callbacks, commit) and
 *   empties `owned` in its file; then it claims its new assignment, under the lock, only when no
 *   live member's file still owns any of those partitions. So a partition has at most one owner at
 *   a time, and a new owner starts from the offset the previous one committed.
 * - A commit is accepted only from a member whose file owns the partition (or, for a consumer
 *   without a subscription, when no live member owns it).
 *
 * @module
 */
import { CommitFailedError, InconsistentGroupProtocolError, StorageError } from "../errors.ts";
import {
  assertRegularFiles,
  fs,
  openFile,
  readRegularFile,
  syncDirectory,
  writeFileAtomic,
  writeFully,
} from "../runtime/file_system.ts";
import { isLockOwnerAlive, LockFile, processIdentity, tryLock } from "../runtime/lock_file.ts";
import { groupDirPath, GROUPS_DIR } from "../runtime/log_paths.ts";
import type { LogDirectoryView } from "./log_directory_view.ts";
import { BUILT_IN_ASSIGNORS, type PartitionAssignor, selectProtocol } from "./partition_assignor.ts";
import {
  type CommittedOffset,
  type OffsetToCommit,
  sortTopicPartitions,
  type TopicPartition,
  topicPartitionKey,
} from "./types.ts";

const STATE_FILE = "state.json";
const LOCK_FILE = ".lock";
const OFFSETS_DIR = "offsets";

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

function readJson(path: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(readRegularFile(path)));
  } catch {
    return undefined;
  }
}

/** Writes a small file atomically without fsync (member files: nothing survives a power loss). */
function writeQuietly(path: string, text: string): void {
  const tmp = `${path}.${crypto.randomUUID()}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, path);
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
 * The files of one consumer group, and the coordinator's work done on them under the group lock.
 * Internal: the consumer and `describeGroup` use it.
 */
export class GroupCoordinator {
  /** In-process listeners per group directory: woken at once, without waiting for `fs.watch`. */
  static readonly #listeners = new Map<string, Set<() => void>>();
  /** The group's directory. */
  readonly dir: string;
  readonly #assignors: Readonly<Record<string, PartitionAssignor>>;

  /**
   * Calls `listener` whenever a consumer of this process changes the group's files (a join, a
   * leave, a new generation, a claim or a release). Other processes' changes arrive by watching.
   *
   * @returns a function that removes the listener
   */
  onChange(listener: () => void): () => void {
    let set = GroupCoordinator.#listeners.get(this.dir);
    if (!set) GroupCoordinator.#listeners.set(this.dir, set = new Set());
    set.add(listener);
    return () => {
      set!.delete(listener);
      if (set!.size === 0) GroupCoordinator.#listeners.delete(this.dir);
    };
  }

  #changed(): void {
    for (const listener of [...(GroupCoordinator.#listeners.get(this.dir) ?? [])]) listener();
  }

  /**
   * @param log the open log directory
   * @param groupId the group
   * @param assignors the assignors this process knows, by name (the built-in ones and any custom)
   */
  constructor(
    readonly log: LogDirectoryView,
    readonly groupId: string,
    assignors: Readonly<Record<string, PartitionAssignor>> = BUILT_IN_ASSIGNORS,
  ) {
    this.dir = groupDirPath(log.dir, groupId);
    this.#assignors = assignors;
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
      names.filter((n) => n === STATE_FILE || n === ".lock" || /^member-.+\.json$/.test(n)),
    );
  }

  /** The group's state file, or `undefined` before the first join. */
  readState(): GroupState | undefined {
    this.checkFiles();
    const value = readJson(`${this.dir}/${STATE_FILE}`) as GroupState | undefined;
    return value?.version === 0 && Number.isSafeInteger(value.generation) ? value : undefined;
  }

  #memberPath(memberId: string): string {
    return `${this.dir}/member-${memberId}.json`;
  }

  /** One member's file, or `undefined` when it is gone (left or expired). */
  readMember(memberId: string): MemberRecord | undefined {
    const value = readJson(this.#memberPath(memberId)) as MemberRecord | undefined;
    return value?.version === 0 && value.memberId === memberId ? value : undefined;
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
        lastHeartbeat = fs.statSync(path).mtimeMs;
      } catch {
        continue; // removed meanwhile
      }
      const expired = now - lastHeartbeat > record.sessionTimeoutMs || !isLockOwnerAlive(record);
      out.push({ ...record, lastHeartbeat, expired });
    }
    return out.sort((a, b) => a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0);
  }

  /**
   * A heartbeat: sets the member file's modification time to now.
   *
   * @returns `false` when the file is gone: the member was removed from the group
   */
  heartbeat(memberId: string): boolean {
    const now = Date.now() / 1000;
    try {
      fs.utimesSync(this.#memberPath(memberId), now, now);
      return true;
    } catch (err) {
      if ((err as { code?: string }).code === "ENOENT") return false;
      throw err;
    }
  }

  /** The partition counts of the subscribed topics that exist. */
  #partitionsPerTopic(topics: Iterable<string>): Record<string, number> {
    const out: Record<string, number> = {};
    for (const topic of [...new Set(topics)].sort()) {
      if (this.log.hasTopic(topic)) out[topic] = this.log.topic(topic).partitions;
    }
    return out;
  }

  /**
   * Whether the group needs a new generation: a member expired, joined or left, a subscription
   * or a partition count changed. Reads only; cheap enough for every heartbeat.
   */
  needsRebalance(now: number = Date.now()): boolean {
    const state = this.readState();
    if (!state) return true;
    const members = this.readMembers(now);
    if (members.some((m) => m.expired)) return true;
    if (!sameMembers(state, members)) return true;
    const counts = this.#partitionsPerTopic(members.flatMap((m) => m.topics));
    return JSON.stringify(counts) !== JSON.stringify(state.partitionsPerTopic);
  }

  /** Under the lock: removes expired members and writes a new generation if anything changed. */
  #rebalanceLocked(now: number): GroupState {
    const all = this.readMembers(now);
    for (const m of all) {
      if (m.expired) fs.rmSync(this.#memberPath(m.memberId), { force: true });
    }
    const live = all.filter((m) => !m.expired);
    const state = this.readState();
    const counts = this.#partitionsPerTopic(live.flatMap((m) => m.topics));
    if (
      state && sameMembers(state, live) && JSON.stringify(counts) === JSON.stringify(state.partitionsPerTopic)
    ) return state;
    const known = live.map((m) => ({
      memberId: m.memberId,
      assignors: m.assignors.filter((name) => name in this.#assignors),
    }));
    const protocol = selectProtocol(known) ?? null;
    const assignment: Record<string, TopicPartition[]> = {};
    if (protocol !== null) {
      const computed = this.#assignors[protocol].assign(
        live.map((m) => ({
          memberId: m.memberId,
          topics: [...m.topics],
          ownedPartitions: [...(state?.assignment[m.memberId] ?? [])],
        })),
        counts,
      );
      for (const m of live) assignment[m.memberId] = sortTopicPartitions(computed[m.memberId] ?? []);
    }
    const next: GroupState = {
      version: 0,
      groupId: this.groupId,
      generation: (state?.generation ?? 0) + 1,
      protocol,
      leader: live[0]?.memberId ?? null,
      members: live.map((m) => ({
        memberId: m.memberId,
        clientId: m.clientId,
        topics: [...m.topics].sort(),
        assignors: m.assignors,
      })),
      assignment,
      partitionsPerTopic: counts,
      updatedAt: now,
    };
    writeFileAtomic(`${this.dir}/${STATE_FILE}`, JSON.stringify(next) + "\n");
    return next;
  }

  /**
   * Runs a rebalance check under the lock (see {@linkcode GroupCoordinator.needsRebalance}).
   *
   * @returns the current state
   */
  async rebalance(): Promise<GroupState> {
    const before = this.readState()?.generation;
    const state = await this.locked(() => this.#rebalanceLocked(Date.now()));
    if (state.generation !== before) this.#changed();
    return state;
  }

  /**
   * Adds a member: writes its file and starts a new generation.
   *
   * @throws {InconsistentGroupProtocolError} when no assignor of the member is supported by every
   *   live member (the member is not added)
   */
  async join(record: MemberRecord): Promise<GroupState> {
    const state = await this.locked(() => {
      const now = Date.now();
      const live = this.readMembers(now).filter((m) => !m.expired && m.memberId !== record.memberId);
      if (live.length > 0 && selectProtocol([...live, record]) === undefined) {
        const common = live[0].assignors.filter((a) => live.every((m) => m.assignors.includes(a)));
        throw new InconsistentGroupProtocolError(this.groupId, record.assignors, common);
      }
      writeQuietly(this.#memberPath(record.memberId), JSON.stringify(record) + "\n");
      return this.#rebalanceLocked(now);
    });
    this.#changed();
    return state;
  }

  /** Removes a member and starts a new generation without it. */
  async leave(memberId: string): Promise<GroupState> {
    const state = await this.locked(() => {
      fs.rmSync(this.#memberPath(memberId), { force: true });
      return this.#rebalanceLocked(Date.now());
    });
    this.#changed();
    return state;
  }

  /**
   * Claims a member's assignment of `generation`: records it as owned once no other live member
   * owns any of those partitions.
   *
   * @returns `"claimed"`; `"wait"` while another member still owns one; `"stale"` when the
   *   generation moved on; `"unknown"` when the member was removed from the group
   */
  async claim(
    memberId: string,
    generation: number,
    partitions: readonly TopicPartition[],
  ): Promise<"claimed" | "wait" | "stale" | "unknown"> {
    const result = await this.locked((): "claimed" | "wait" | "stale" | "unknown" => {
      const now = Date.now();
      const state = this.readState();
      if (!state || state.generation !== generation) return "stale";
      const me = this.readMember(memberId);
      if (!me) return "unknown";
      const wanted = new Set(partitions.map(topicPartitionKey));
      for (const other of this.readMembers(now)) {
        if (other.memberId === memberId) continue;
        if (!other.owned.some((tp) => wanted.has(topicPartitionKey(tp)))) continue;
        if (!other.expired) return "wait";
        // Its owner is gone: a rebalance removes it (and moves the generation on).
        this.#rebalanceLocked(now);
        return "stale";
      }
      writeQuietly(
        this.#memberPath(memberId),
        JSON.stringify({ ...me, generation, owned: sortTopicPartitions(partitions) }) + "\n",
      );
      return "claimed";
    });
    if (result === "stale") this.#changed();
    return result;
  }

  /**
   * Records that a member owns nothing any more (after it revoked its partitions).
   *
   * @returns `false` when the member was removed from the group meanwhile
   */
  async release(memberId: string): Promise<boolean> {
    const released = await this.locked(() => {
      const me = this.readMember(memberId);
      if (!me) return false;
      if (me.owned.length > 0) {
        writeQuietly(this.#memberPath(memberId), JSON.stringify({ ...me, owned: [] }) + "\n");
      }
      return true;
    });
    this.#changed();
    return released;
  }

  /**
   * Commits offsets atomically and durably (each file written to a temporary name, fsynced,
   * renamed, and the directories fsynced), checking ownership under the lock first.
   *
   * @param memberId the committing member, or `undefined` for a consumer without a subscription
   * @param offsets what to commit
   * @throws {CommitFailedError} when the member does not own a partition (or was removed), or, without
   *   a member, when a live member owns it
   */
  commit(memberId: string | undefined, offsets: readonly OffsetToCommit[]): Promise<void> {
    if (offsets.length === 0) return Promise.resolve();
    return this.locked(() => {
      if (memberId !== undefined) {
        const me = this.readMember(memberId);
        if (!me) {
          throw new CommitFailedError(
            this.groupId,
            offsets[0].topic,
            offsets[0].partition,
            "this member was removed from the group (it missed its session timeout)",
            "UNKNOWN_MEMBER_ID",
          );
        }
        const owned = new Set(me.owned.map(topicPartitionKey));
        for (const o of offsets) {
          if (!owned.has(topicPartitionKey(o))) {
            throw new CommitFailedError(
              this.groupId,
              o.topic,
              o.partition,
              "the partition is not assigned to this member (the group has rebalanced)",
            );
          }
        }
      } else {
        const wanted = new Set(offsets.map(topicPartitionKey));
        for (const m of this.readMembers()) {
          if (m.expired) continue;
          const clash = m.owned.find((tp) => wanted.has(topicPartitionKey(tp)));
          if (clash) {
            throw new CommitFailedError(
              this.groupId,
              clash.topic,
              clash.partition,
              `member ${m.memberId} of the group owns the partition`,
            );
          }
        }
      }
      this.#writeOffsets(offsets, Date.now());
    });
  }

  #writeOffsets(offsets: readonly OffsetToCommit[], now: number): void {
    const root = `${this.dir}/${OFFSETS_DIR}`;
    const dirs = new Set<string>();
    const renames: [string, string][] = [];
    let created = false;
    try {
      for (const o of offsets) {
        const dir = `${root}/${o.topic}`;
        if (!fs.existsSync(dir)) {
          fs.mkdirSync(dir, { recursive: true });
          created = true;
        }
        const path = `${dir}/${o.partition}.json`;
        const tmp = `${path}.${crypto.randomUUID()}.tmp`;
        const record = {
          version: 0,
          topic: o.topic,
          partition: o.partition,
          offset: o.offset,
          metadata: o.metadata ?? "",
          commitTimestamp: now,
        };
        const fd = openFile(tmp, "w");
        try {
          writeFully(fd, new TextEncoder().encode(JSON.stringify(record) + "\n"), 0);
          fs.fsyncSync(fd);
        } finally {
          fs.closeSync(fd);
        }
        renames.push([tmp, path]);
        dirs.add(dir);
      }
      for (const [tmp, path] of renames) fs.renameSync(tmp, path);
      for (const dir of dirs) syncDirectory(dir);
      if (created) {
        syncDirectory(root);
        syncDirectory(this.dir);
      }
    } catch (err) {
      for (const [tmp] of renames) fs.rmSync(tmp, { force: true });
      throw new StorageError(
        `Cannot commit offsets for group "${this.groupId}": ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  /**
   * The committed offset of a partition.
   *
   * @returns it, or `undefined` when the group has none
   */
  readCommitted(tp: TopicPartition): CommittedOffset | undefined {
    const value = readJson(`${this.dir}/${OFFSETS_DIR}/${tp.topic}/${tp.partition}.json`) as
      | { version?: number; offset?: number; metadata?: string; commitTimestamp?: number }
      | undefined;
    if (value?.version !== 0 || !Number.isSafeInteger(value.offset) || value.offset! < 0) return undefined;
    return {
      offset: value.offset!,
      metadata: typeof value.metadata === "string" ? value.metadata : "",
      commitTimestamp: value.commitTimestamp ?? 0,
    };
  }

  /** Every committed offset of the group, sorted by topic and partition. */
  listCommitted(): (TopicPartition & CommittedOffset)[] {
    const out: (TopicPartition & CommittedOffset)[] = [];
    let topics: string[];
    try {
      topics = fs.readdirSync(`${this.dir}/${OFFSETS_DIR}`);
    } catch {
      return out;
    }
    for (const topic of topics) {
      let files: string[];
      try {
        files = fs.readdirSync(`${this.dir}/${OFFSETS_DIR}/${topic}`);
      } catch {
        continue;
      }
      for (const file of files) {
        const m = /^(\d+)\.json$/.exec(file);
        if (!m) continue;
        const tp = { topic, partition: Number(m[1]) };
        const committed = this.readCommitted(tp);
        if (committed) out.push({ ...tp, ...committed });
      }
    }
    return sortTopicPartitions(out) as (TopicPartition & CommittedOffset)[];
  }

  /**
   * A new member record for this process.
   *
   * @param memberId the member id
   * @param clientId the client id
   * @param topics the subscription
   * @param assignors the assignor names, most preferred first
   * @param sessionTimeoutMs the session timeout
   */
  newMember(
    memberId: string,
    clientId: string,
    topics: string[],
    assignors: string[],
    sessionTimeoutMs: number,
  ): MemberRecord {
    const me = processIdentity();
    return {
      version: 0,
      groupId: this.groupId,
      memberId,
      clientId,
      pid: me.pid,
      hostname: me.hostname,
      bootId: me.bootId,
      startTime: me.startTime,
      topics: [...topics].sort(),
      assignors,
      sessionTimeoutMs,
      joinedAt: Date.now(),
      generation: 0,
      owned: [],
    };
  }
}

function sameMembers(state: GroupState, live: readonly MemberRecord[]): boolean {
  if (state.members.length !== live.length) return false;
  const byId = new Map(state.members.map((m) => [m.memberId, m]));
  for (const m of live) {
    const s = byId.get(m.memberId);
    if (!s) return false;
    if (JSON.stringify([...m.topics].sort()) !== JSON.stringify(s.topics)) return false;
    if (JSON.stringify(m.assignors) !== JSON.stringify(s.assignors)) return false;
  }
  return true;
}
