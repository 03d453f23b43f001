/**
 * The topics a log directory has open, kept in step with what is on disk: the ones found at open,
 * those other processes create, change (config, partition count) or delete afterwards, and the
 * changes made here under the topic's lock. `LogDirectory` is its only user.
 *
 * @module
 */
import {
  InvalidConfigError,
  InvalidPartitionsError,
  StorageError,
  UnknownTopicOrPartitionError,
} from "../errors.ts";
import { type LogConfig, resolveLogConfig } from "../log/log_config.ts";
import { PartitionLog } from "../log/partition_log.ts";
import { WriterGroup } from "../log/writer_roles.ts";
import { needsRecovery } from "../log/log_loader.ts";
import { entryStatus, fs, pathStatus, removeDirectory } from "../runtime/file_system.ts";
import {
  joinLogPath,
  MAX_PARTITIONS,
  parsePartitionDirName,
  partitionDirPath,
  topicConfigPath,
  TOPICS_DIR,
  validateTopicName,
} from "../runtime/log_paths.ts";
import {
  addPartitionFiles,
  awaitPartitionDirectory,
  partitionTopicId,
  readStoredTopic,
  removeStalePrepared,
  type StoredTopic,
  withTopicLock,
  writeStoredTopic,
} from "./topic_store.ts";
import { Topic } from "./topic.ts";

/**
 * Checks that a partition's directory, if it exists, is a directory (not a file, nor a symlink).
 *
 * @returns whether it exists (when it cannot be looked at, it is taken as missing)
 * @throws {StorageError} naming it when it is not a directory
 */
function checkPartitionDirectory(dir: string, topic: string, partition: number): boolean {
  let stat;
  try {
    stat = entryStatus(dir);
  } catch {
    return false; // missing: made at open (a topic without an ID), or reported by the open
  }
  if (stat.kind !== "directory") {
    throw new StorageError(
      `Cannot open partition ${partition} of topic "${topic}": ${dir} is ${
        stat.kind === "symlink" ? "a symbolic link" : "not a directory"
      }; it is left as it is`,
    );
  }
  return true;
}

/** A topic config file's size and modification time, or "" when it cannot be read. */
function storedStamp(dir: string, name: string): string {
  try {
    const st = pathStatus(topicConfigPath(dir, name));
    return `${st.size}:${st.mtimeMs}:${st.ino}`;
  } catch {
    return ""; // missing or unreadable: compared as any other stamp, and read again when it changes
  }
}

/** Whether a name found on disk is a legal topic name. */
function isTopicName(name: string): boolean {
  try {
    validateTopicName(name);
    return true;
  } catch {
    return false; // an illegal name is not a topic: the file or directory is left alone
  }
}

/**
 * The open topics of one log directory, and the only code that opens a `Topic` (its partition
 * logs open on first use, under the directory's writer-role settings).
 *
 * @example A topic another process created is found by name
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveLogConfig } from "../log/log_config.ts";
 * import { randomTopicId } from "../log/partition_metadata_file.ts";
 * import { createTopicFiles } from "./topic_store.ts";
 * import { TopicRegistry } from "./_topic_registry.ts";
 * const dir = Deno.makeTempDirSync();
 * Deno.mkdirSync(`${dir}/.topics`);
 * const topics = new TopicRegistry(dir, resolveLogConfig({}), { writerIdleMs: 1000, lockTimeoutMs: 0 });
 * topics.load();
 * assert.deepEqual(topics.names(), []);
 * // As another process would: the topic's files, and nothing in this registry yet.
 * const stored = { version: 0 as const, name: "events", topicId: randomTopicId(), partitions: 2, config: {} };
 * createTopicFiles(dir, "events", stored);
 * const events = topics.discover("events");
 * assert.equal(events?.partitions, 2);
 * assert.deepEqual(topics.names(), ["events"]);
 * assert.equal(topics.addPartitions(events!, 3, {}), 3);
 * assert.equal(events!.partitions, 3);
 * await Promise.all(topics.close());
 * assert.throws(() => topics.checkOpen("use it"), /is closed/);
 * ```
 */
export class TopicRegistry {
  readonly #topics = new Map<string, Topic>();
  /** Each open topic's config file as last read (size and modification time), to see changes. */
  readonly #storedStamps = new Map<string, string>();
  readonly #defaults: LogConfig;
  readonly #roles: { writerIdleMs: number; lockTimeoutMs: number };
  #closed = false;

  /**
   * Makes an empty registry; {@linkcode TopicRegistry.load} finds the topics on disk.
   *
   * @param dir the log directory (its `.topics/` must exist)
   * @param defaults the config of topics created without one
   * @param roles how long a writer role stays idle and how long an append waits for one, ms
   */
  constructor(
    readonly dir: string,
    defaults: LogConfig,
    roles: { writerIdleMs: number; lockTimeoutMs: number },
  ) {
    this.#defaults = defaults;
    this.#roles = roles;
  }

  /** The config of topics created without one. */
  get defaults(): LogConfig {
    return this.#defaults;
  }

  /** Whether {@linkcode TopicRegistry.close} has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Throws when the registry is closed.
   *
   * @param action what was asked, as a verb phrase (`use topic "events"`)
   * @throws {StorageError} when the log directory is closed
   */
  checkOpen(action: string): void {
    if (this.#closed) throw new StorageError(`Cannot ${action}: the log directory ${this.dir} is closed`);
  }

  /**
   * Finds the topics of the directory: its partition directories and topic config files. Leftovers
   * of interrupted creations and deletions are removed; partitions not left clean are opened,
   * which recovers them.
   *
   * @throws {StorageError} when a topic's config or directories are invalid
   */
  load(): void {
    const dir = this.dir;
    // Partition directories found per topic name (their partition numbers).
    const found = new Map<string, Set<number>>();
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      if (removeStalePrepared(dir, entry.name)) continue;
      if (/\.[0-9a-f]+-delete$/.test(entry.name)) {
        removeDirectory(joinLogPath(dir, entry.name));
        continue;
      }
      const p = parsePartitionDirName(entry.name);
      if (!p) continue;
      let numbers = found.get(p.topic);
      if (!numbers) found.set(p.topic, numbers = new Set());
      numbers.add(p.partition);
    }
    for (const file of fs.readdirSync(joinLogPath(dir, TOPICS_DIR))) {
      const m = /^(.+)\.json$/.exec(file);
      if (m && isTopicName(m[1]) && !found.has(m[1])) found.set(m[1], new Set());
    }
    for (const [name, numbers] of [...found].sort((a, b) => a[0].localeCompare(b[0]))) {
      // The topic's config file says how many partitions it has; a directory past them is a
      // stray (as Kafka calls a log no partition owns) and is left alone. Without a config file
      // the partitions are the directories numbered 0, 1, 2 … with none missing; a name with no
      // `-0` directory is not a topic.
      const stored = readStoredTopic(dir, name);
      let partitions = stored?.partitions ?? 0;
      if (!stored) { while (numbers.has(partitions)) partitions++; }
      if (partitions === 0) continue;
      const topicId = stored ? stored.topicId : partitionTopicId(dir, name, 0);
      try {
        const topic = this.add(name, partitions, this.#storedConfig(name, stored, partitions), topicId);
        // As Kafka's broker recovers its logs at startup, partitions not left clean (a writer
        // crashed, or writes now, or files were changed) are opened now, which recovers those no
        // process writes; the others open on first use.
        for (let p = 0; p < partitions; p++) {
          if (needsRecovery(partitionDirPath(dir, name, p))) topic.partition(p);
        }
      } catch (err) {
        if (!(err instanceof UnknownTopicOrPartitionError)) throw err; // deleted meanwhile
      }
    }
  }

  /**
   * A topic by name: one this process has open, or one another process created (its config file
   * exists), opened now, for reading.
   *
   * @param name the topic name
   * @returns the topic, or `undefined` when there is none
   */
  discover(name: string): Topic | undefined {
    const known = this.#known(name);
    if (known || this.#closed) return known;
    if (!isTopicName(name)) return undefined;
    const stored = readStoredTopic(this.dir, name);
    if (!stored) return undefined;
    try {
      return this.add(
        name,
        stored.partitions,
        this.#storedConfig(name, stored, stored.partitions),
        stored.topicId,
      );
    } catch (err) {
      if (err instanceof UnknownTopicOrPartitionError) return undefined; // deleted meanwhile
      throw err;
    }
  }

  /**
   * The topic names, sorted: those open here, those other processes created since (unless the
   * registry is closed), less those found deleted.
   *
   * @returns the names
   */
  names(): string[] {
    if (!this.#closed) {
      try {
        for (const file of fs.readdirSync(joinLogPath(this.dir, TOPICS_DIR))) {
          const m = /^(.+)\.json$/.exec(file);
          if (m) this.discover(m[1]);
        }
      } catch { /* the directory went away: what is known */ }
      for (const name of [...this.#topics.keys()]) this.#known(name);
    }
    return [...this.#topics.keys()].sort();
  }

  /**
   * The topics open here.
   *
   * @returns them, in the order they were opened
   */
  values(): IterableIterator<Topic> {
    return this.#topics.values();
  }

  /**
   * A topic this process has open, unless it was found deleted (by another process: its
   * partition logs saw their directories go or change topic ID). A deleted topic is forgotten
   * (its logs closed), so that the name can be looked up again.
   */
  #known(name: string): Topic | undefined {
    const topic = this.#topics.get(name);
    if (topic === undefined || !topic.openedLogs.some((l) => l.topicDeleted)) return topic;
    this.#topics.delete(name);
    for (const log of topic.openedLogs) log.close().catch(() => {}); // deleted: a failed close loses nothing
    return undefined;
  }

  /**
   * Checks what a topic's config file and directories say before anything is opened or created.
   *
   * @throws {StorageError} when the config is invalid or the partition count is out of range
   */
  #storedConfig(name: string, stored: StoredTopic | undefined, partitions: number): LogConfig {
    const where = topicConfigPath(this.dir, name);
    if (partitions > MAX_PARTITIONS) {
      throw new StorageError(
        `Cannot open topic "${name}": ${partitions} partitions is more than ${MAX_PARTITIONS} (check ${where} and its partition directories)`,
      );
    }
    try {
      return resolveLogConfig(stored?.config ?? {}, this.#defaults);
    } catch (err) {
      throw new StorageError(
        `Cannot open topic "${name}": its config in ${where} is invalid: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  }

  /**
   * Makes a topic's object and keeps it; its partition logs open on first use (see
   * `Topic.partition`), so a directory of thousands of partitions opens at once and holds no file
   * for those not used.
   *
   * @param name the topic name
   * @param partitions how many partitions it has
   * @param config its config, resolved
   * @param topicId its topic ID, or `undefined` for a topic from before reel recorded them
   * @returns the topic
   * @throws {StorageError} when a topic without an ID has no first partition directory
   */
  add(name: string, partitions: number, config: LogConfig, topicId: string | undefined): Topic {
    // A topic without a topic ID (from before reel recorded them) must have its first partition.
    if (topicId === undefined) checkPartitionDirectory(partitionDirPath(this.dir, name, 0), name, 0);
    const writerGroup = new WriterGroup();
    // deno-lint-ignore prefer-const
    let topic: Topic;
    topic = new Topic(name, {
      partitions,
      topicId,
      open: (p, forAppend) => {
        this.checkOpen(`use topic "${name}"`);
        const dir = partitionDirPath(this.dir, name, p);
        // Not there yet: its creator places it just after the config (one look when it is there).
        if (!checkPartitionDirectory(dir, name, p) && topicId !== undefined) {
          awaitPartitionDirectory(this.dir, name, p, topicId);
          checkPartitionDirectory(dir, name, p);
        }
        try {
          return PartitionLog.open(dir, name, p, { ...topic.config }, {
            writer: false,
            takeRole: forAppend,
            topicId,
            createDirectory: topicId === undefined,
            ...this.#roles,
            writerGroup,
          });
        } catch (err) {
          // Deleted (or deleted and made again) by another process while this one opened it.
          if (topicId !== undefined && readStoredTopic(this.dir, name)?.topicId !== topicId) {
            throw new UnknownTopicOrPartitionError(name, p);
          }
          throw err;
        }
      },
    }, Object.freeze({ ...config }));
    this.#topics.set(name, topic);
    this.#storedStamps.set(name, storedStamp(this.dir, name));
    return topic;
  }

  /**
   * Forgets a topic (being deleted); its logs are the caller's to close.
   *
   * @param name the topic name
   */
  forget(name: string): void {
    this.#topics.delete(name);
  }

  /**
   * Picks up the changes other processes made to the topics this process has open (their config,
   * their partition count): run every second, and before each change made here.
   */
  refresh(): void {
    for (const [name, topic] of this.#topics) {
      const stamp = storedStamp(this.dir, name);
      if (stamp === this.#storedStamps.get(name)) continue;
      this.#storedStamps.set(name, stamp);
      const stored = readStoredTopic(this.dir, name);
      if (!stored || stored.topicId !== topic.topicId) continue; // deleted: found when used
      try {
        topic.updateStored(Object.freeze(resolveLogConfig(stored.config, this.#defaults)), stored.partitions);
      } catch { /* an invalid config is reported by the next open */ }
    }
  }

  /**
   * Changes a topic's stored config under its lock (see `LogDirectory.alterTopicConfig`), and the
   * open topic's.
   *
   * @param topic the open topic: a stored topic of another ID means it was deleted meanwhile
   * @param changes the configs to set, or reset with `null`
   * @param validateOnly check the change only
   * @returns the topic's config afterwards
   * @throws {UnknownTopicOrPartitionError} when the topic is gone
   * @throws {InvalidConfigError} for an unknown key or a value out of range (nothing is changed)
   */
  alterConfig(
    topic: Topic,
    changes: { [K in keyof LogConfig]?: LogConfig[K] | null },
    validateOnly: boolean | undefined,
  ): LogConfig {
    const name = topic.name;
    const resolved = withTopicLock(this.dir, name, () => {
      const stored = readStoredTopic(this.dir, name);
      if (!stored || stored.topicId !== topic.topicId) throw new UnknownTopicOrPartitionError(name);
      const config: Partial<LogConfig> = { ...stored.config };
      for (const [key, value] of Object.entries(changes ?? {})) {
        if (value === null) delete (config as Record<string, unknown>)[key];
        else (config as Record<string, unknown>)[key] = value;
      }
      let resolved: LogConfig;
      try {
        resolved = resolveLogConfig(config, this.#defaults);
      } catch (err) {
        throw new InvalidConfigError(name, (err as Error).message, { cause: err });
      }
      if (!validateOnly) writeStoredTopic(this.dir, { ...stored, config });
      return { resolved, partitions: stored.partitions };
    });
    if (validateOnly) return { ...resolved.resolved };
    this.#storedStamps.set(name, storedStamp(this.dir, name));
    topic.updateStored(Object.freeze(resolved.resolved), resolved.partitions);
    return { ...resolved.resolved };
  }

  /**
   * Adds partitions to a topic under its lock (see `LogDirectory.createPartitions`), and to the
   * open topic.
   *
   * @param topic the open topic: a stored topic of another ID means it was deleted meanwhile
   * @param count the new partition count
   * @param options `validateOnly`: check the count only
   * @returns the partition count afterwards
   * @throws {UnknownTopicOrPartitionError} when the topic is gone or has no topic ID
   * @throws {InvalidPartitionsError} for a count not above the current one, or above `MAX_PARTITIONS`
   */
  addPartitions(topic: Topic, count: number, options: { validateOnly?: boolean }): number {
    const name = topic.name;
    const stored = withTopicLock(this.dir, name, () => {
      const stored = readStoredTopic(this.dir, name);
      if (!stored || stored.topicId === undefined || stored.topicId !== topic.topicId) {
        throw new UnknownTopicOrPartitionError(name);
      }
      if (!Number.isInteger(count) || count <= stored.partitions) {
        throw new InvalidPartitionsError(
          name,
          `it has ${stored.partitions} partitions, and ${count} is not more (partitions are never removed)`,
        );
      }
      if (count > MAX_PARTITIONS) {
        throw new InvalidPartitionsError(name, `${count} partitions is more than ${MAX_PARTITIONS}`);
      }
      if (options.validateOnly) return { ...stored, partitions: count };
      addPartitionFiles(this.dir, name, stored.topicId, stored.partitions, count);
      const next = { ...stored, partitions: count };
      writeStoredTopic(this.dir, next);
      return next;
    });
    if (options.validateOnly) return stored.partitions;
    this.#storedStamps.set(name, storedStamp(this.dir, name));
    topic.updateStored(topic.config, stored.partitions);
    return stored.partitions;
  }

  /**
   * Closes the registry: nothing is opened or found afterwards.
   *
   * @returns the closes of every open partition log, for the caller to await
   */
  close(): Promise<void>[] {
    this.#closed = true;
    return [...this.#topics.values()].flatMap((t) => t.openedLogs.map((l) => l.close()));
  }
}
