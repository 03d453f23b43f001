/**
 * A log directory: many topics, each a set of partition directories `<topic>-<partition>/`,
 * with each topic's config kept in `.topics/<topic>.json`.
 *
 * @module
 */
import { StorageError, TopicExistsError, UnknownTopicOrPartitionError } from "../errors.ts";
import { type LogConfig, resolveLogConfig } from "../log/log_config.ts";
import { PartitionLog } from "../log/partition_log.ts";
import { createFileExclusive, fs, syncDirectory } from "../runtime/file_system.ts";
import { isTopicId, randomTopicId, readPartitionMetadata } from "../log/partition_metadata_file.ts";
import { Topic } from "./topic.ts";
import {
  joinLogPath,
  MAX_PARTITIONS,
  parsePartitionDirName,
  partitionDirPath,
  topicConfigPath,
  TOPICS_DIR,
  validateTopicName,
} from "../runtime/log_paths.ts";

/** The settings of a topic: Kafka's log configs, in camelCase. */
export type TopicConfig = LogConfig;

/** Options of {@linkcode open}. */
export interface OpenOptions {
  /** Config for topics created without one, over Kafka's defaults. */
  defaults?: Partial<TopicConfig>;
  /**
   * How often retention (`retentionMs`, `retentionBytes`) runs over the partitions this process
   * writes, ms; 0 or less turns the timer off (`topic.deleteOldSegments()` still works). Kafka's
   * `log.retention.check.interval.ms`. The timer never keeps the process alive.
   * @default 300000
   */
  retentionCheckIntervalMs?: number;
}

/** Options of {@linkcode LogDirectory.createTopic}. */
export interface CreateTopicOptions {
  /** How many partitions. @default 1 */
  partitions?: number;
  /** The topic's config, over the directory's defaults. */
  config?: Partial<TopicConfig>;
}

/**
 * A topic's config file, `.topics/<name>.json`. Created once, atomically (create-if-absent), by
 * the process that creates the topic; removed when the topic is deleted.
 *
 * ```
 * StoredTopic => { version: 0, name, topicId?, partitions, config }   (JSON)
 * ```
 *
 * `topicId` is the topic's ID (KIP-516), also written to each partition directory's
 * `partition.metadata`; topics created before reel recorded IDs have none.
 */
interface StoredTopic {
  version: 0;
  name: string;
  topicId?: string;
  partitions: number;
  config: TopicConfig;
}

/** Whether a name found on disk is a legal topic name. */
function isTopicName(name: string): boolean {
  try {
    validateTopicName(name);
    return true;
  } catch {
    return false;
  }
}

/**
 * An open log directory. Get one with {@linkcode open}.
 *
 * @example
 * ```ts
 * import { open } from "../../mod.ts";
 * const log = await open(Deno.makeTempDirSync());
 * await log.createTopic("events", { partitions: 4, config: { fsync: "always" } });
 * console.log(log.topics()); // ["events"]
 * await log.close();
 * ```
 */
export class LogDirectory {
  readonly #topics = new Map<string, Topic>();
  readonly #defaults: TopicConfig;
  #closed = false;
  #retentionTimer: ReturnType<typeof setInterval> | undefined;

  private constructor(readonly dir: string, defaults: TopicConfig) {
    this.#defaults = defaults;
  }

  #startRetention(intervalMs: number): void {
    if (!(intervalMs > 0)) return;
    this.#retentionTimer = setInterval(() => {
      for (const topic of this.#topics.values()) {
        for (const log of topic.logs) {
          // Only the partitions this process writes: their writer runs retention.
          if (!log.isWriter || log.closed) continue;
          try {
            log.deleteOldSegments();
          } catch { /* tried again at the next check */ }
        }
      }
    }, intervalMs);
    (this.#retentionTimer as unknown as { unref?: () => void }).unref?.();
  }

  /**
   * Opens a log directory (created if missing), finds its topics and partitions, and opens every
   * partition log, recovering those that were not closed cleanly.
   *
   * Many processes may open the same directory: each partition has one writer at a time. A
   * process becomes a partition's writer (takes its lock file) when it first writes to it
   * (`append`, `writable`, `roll`, retention) and stays one until `close()`; until then it only
   * reads, and sees what the writer appends (follow readers within milliseconds). Recovery runs at
   * open only for partitions no other process is writing. A second writer gets
   * {@linkcode PartitionLockedError}; the lock of a writer that died is taken over.
   *
   * @param dir the directory path
   * @param options defaults for new topics, the retention check interval
   * @returns the open directory
   * @throws {StorageError} when the directory cannot be created or read
   */
  static async open(dir: string, options: OpenOptions = {}): Promise<LogDirectory> {
    await Promise.resolve();
    const defaults = resolveLogConfig(options.defaults ?? {});
    try {
      fs.mkdirSync(joinLogPath(dir, TOPICS_DIR), { recursive: true });
    } catch (err) {
      throw new StorageError(`Cannot open log directory ${dir}: ${(err as Error).message}`, { cause: err });
    }
    const self = new LogDirectory(dir, defaults);
    // Partition directories found per topic name (their partition numbers).
    const found = new Map<string, Set<number>>();
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      if (/\.[0-9a-f]+-delete$/.test(entry.name)) {
        fs.rmSync(joinLogPath(dir, entry.name), { recursive: true, force: true });
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
      const stored = self.#readStored(name);
      let partitions = stored?.partitions ?? 0;
      if (!stored) { while (numbers.has(partitions)) partitions++; }
      if (partitions === 0) continue;
      const topicId = stored ? stored.topicId : self.#storedTopicId(name);
      try {
        self.#openTopic(name, partitions, self.#storedConfig(name, stored, partitions), topicId);
      } catch (err) {
        if (!(err instanceof UnknownTopicOrPartitionError)) throw err; // deleted meanwhile
      }
    }
    self.#startRetention(options.retentionCheckIntervalMs ?? 300_000);
    return self;
  }

  /**
   * A topic this process does not know yet but another process created (its config file exists):
   * opened now, for reading.
   */
  #discover(name: string): Topic | undefined {
    const known = this.#topics.get(name);
    if (known || this.#closed) return known;
    if (!isTopicName(name)) return undefined;
    const stored = this.#readStored(name);
    if (!stored) return undefined;
    try {
      return this.#openTopic(
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

  /** The topic ID in a topic's first partition directory, for a topic whose config file is lost. */
  #storedTopicId(name: string): string | undefined {
    try {
      return readPartitionMetadata(partitionDirPath(this.dir, name, 0));
    } catch {
      return undefined;
    }
  }

  /**
   * Checks what a topic's config file and directories say before anything is opened or created.
   *
   * @throws {StorageError} when the config is invalid or the partition count is out of range
   */
  #storedConfig(name: string, stored: StoredTopic | undefined, partitions: number): TopicConfig {
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

  #readStored(name: string): StoredTopic | undefined {
    try {
      const value = JSON.parse(fs.readFileSync(topicConfigPath(this.dir, name), "utf8"));
      if (value?.version === 0 && Number.isInteger(value.partitions) && value.partitions > 0) {
        if (value.topicId !== undefined && !isTopicId(value.topicId)) return undefined;
        return value;
      }
    } catch { /* missing or unreadable: defaults, partitions from the directories */ }
    return undefined;
  }

  #openTopic(
    name: string,
    partitions: number,
    config: TopicConfig,
    topicId: string | undefined,
    creating = false,
  ): Topic {
    if (!creating && topicId !== undefined) {
      // A partition directory is made only for the topic that still has this ID: not again for
      // one another process deleted since its config was read.
      for (let p = 0; p < partitions; p++) {
        if (fs.existsSync(partitionDirPath(this.dir, name, p))) continue;
        if (this.#readStored(name)?.topicId !== topicId) throw new UnknownTopicOrPartitionError(name);
        break;
      }
    }
    const logs: PartitionLog[] = [];
    try {
      for (let p = 0; p < partitions; p++) {
        logs.push(
          PartitionLog.open(partitionDirPath(this.dir, name, p), name, p, config, { writer: false, topicId }),
        );
      }
    } catch (err) {
      for (const log of logs) log.abandon();
      throw err;
    }
    const topic = new Topic(name, logs, Object.freeze({ ...config }));
    this.#topics.set(name, topic);
    return topic;
  }

  /** Whether {@linkcode LogDirectory.close} has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  #checkOpen(action: string): void {
    if (this.#closed) throw new StorageError(`Cannot ${action}: the log directory ${this.dir} is closed`);
  }

  /**
   * The topic names, sorted (including topics other processes created since the open).
   *
   * @returns the names
   */
  topics(): string[] {
    if (!this.#closed) {
      try {
        for (const file of fs.readdirSync(joinLogPath(this.dir, TOPICS_DIR))) {
          const m = /^(.+)\.json$/.exec(file);
          if (m && !this.#topics.has(m[1])) this.#discover(m[1]);
        }
      } catch { /* the directory went away: what is known */ }
    }
    return [...this.#topics.keys()].sort();
  }

  /**
   * Whether a topic exists (also one another process created since the open).
   *
   * @param name the topic name
   */
  hasTopic(name: string): boolean {
    return this.#topics.has(name) || this.#discover(name) !== undefined;
  }

  /**
   * An existing topic.
   *
   * @param name the topic name
   * @returns the topic
   * @throws {UnknownTopicOrPartitionError} when there is no such topic
   */
  topic(name: string): Topic {
    this.#checkOpen(`use topic "${name}"`);
    const topic = this.#topics.get(name) ?? this.#discover(name);
    if (!topic) throw new UnknownTopicOrPartitionError(name);
    return topic;
  }

  /**
   * Creates a topic with N partitions and its config (stored in `.topics/<name>.json`).
   *
   * @param name the topic name (Kafka's rule: 1–249 characters of `[a-zA-Z0-9._-]`, not `.`/`..`)
   * @param options partitions and config
   * @returns the new topic
   * @throws {InvalidTopicError} for an illegal name
   * @throws {TopicExistsError} when the topic exists
   * @throws {RangeError} for a partition count below 1 or a config value out of range
   */
  async createTopic(name: string, options: CreateTopicOptions = {}): Promise<Topic> {
    await Promise.resolve();
    this.#checkOpen(`create topic "${name}"`);
    validateTopicName(name);
    if (this.#topics.has(name) || this.#discover(name)) throw new TopicExistsError(name);
    const partitions = options.partitions ?? 1;
    if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS) {
      throw new RangeError(
        `Cannot create topic "${name}" with ${partitions} partitions: expected a whole number from 1 to 100000`,
      );
    }
    const config = resolveLogConfig(options.config ?? {}, this.#defaults);
    const topicId = randomTopicId();
    const stored: StoredTopic = { version: 0, name, topicId, partitions, config };
    // Create-if-absent: of many processes creating the topic at once, one links its config into
    // place; the others find it there and get TopicExistsError (and see the winner's config).
    let created: boolean;
    try {
      created = createFileExclusive(topicConfigPath(this.dir, name), JSON.stringify(stored, null, 2) + "\n");
    } catch (err) {
      throw new StorageError(`Cannot create topic "${name}": ${(err as Error).message}`, { cause: err });
    }
    if (!created) throw new TopicExistsError(name);
    // Directories a deleted topic of this name left behind (another topic ID) are not ours.
    for (let p = 0; p < partitions; p++) this.#removeStray(name, p, topicId);
    const topic = this.#openTopic(name, partitions, config, topicId, true);
    syncDirectory(this.dir);
    return topic;
  }

  /** Removes a partition directory that records a topic ID other than `topicId` (Kafka's stray log). */
  #removeStray(name: string, partition: number, topicId: string): void {
    const dir = partitionDirPath(this.dir, name, partition);
    let found: string | undefined;
    let unreadable = false;
    try {
      found = readPartitionMetadata(dir);
    } catch {
      unreadable = true; // not a partition metadata file: not this topic's either
    }
    // No ID yet: a directory another process is opening for this topic, or one from before reel
    // recorded IDs; both are kept.
    if (!unreadable && (found === undefined || found === topicId)) return;
    const suffix = `-${partition}.${Math.floor(Math.random() * 2 ** 32).toString(16)}-delete`;
    const doomed = joinLogPath(this.dir, `${name.slice(0, 255 - suffix.length)}${suffix}`);
    try {
      fs.renameSync(dir, doomed);
    } catch {
      return; // gone meanwhile
    }
    fs.rmSync(doomed, { recursive: true, force: true });
  }

  /**
   * Deletes a topic and all its records: takes every partition's writer lock, closes its logs,
   * renames each partition directory to `<topic>-<partition>.<id>-delete` (as Kafka does),
   * removes them and the topic's config.
   *
   * @param name the topic name
   * @throws {UnknownTopicOrPartitionError} when there is no such topic
   * @throws {PartitionLockedError} when another process writes one of its partitions (nothing is deleted)
   */
  async deleteTopic(name: string): Promise<void> {
    this.#checkOpen(`delete topic "${name}"`);
    validateTopicName(name);
    const topic = this.topic(name);
    for (const log of topic.logs) log.acquireWriterLock();
    this.#topics.delete(name);
    await Promise.all(topic.logs.map((l) => l.close()));
    const id = Math.floor(Math.random() * 2 ** 32).toString(16);
    const doomed: string[] = [];
    for (let p = 0; p < topic.partitions; p++) {
      const from = partitionDirPath(this.dir, name, p);
      // As Kafka's logDeleteDirName: the topic part is cut so that the name fits in 255 bytes.
      const suffix = `-${p}.${id}-delete`;
      const to = joinLogPath(this.dir, `${name.slice(0, 255 - suffix.length)}${suffix}`);
      fs.renameSync(from, to);
      doomed.push(to);
    }
    fs.rmSync(topicConfigPath(this.dir, name), { force: true });
    syncDirectory(this.dir);
    for (const path of doomed) fs.rmSync(path, { recursive: true, force: true });
  }

  /**
   * Runs retention now over every topic (see `Topic.deleteOldSegments`): the partitions this
   * process writes, and those no process writes.
   *
   * @param now the current time, ms since the epoch
   * @returns how many segments were deleted
   * @example
   * ```ts
   * import { open } from "../../mod.ts";
   * const log = await open(Deno.makeTempDirSync());
   * await log.createTopic("events", { config: { retentionMs: 60_000 } });
   * console.log(log.deleteOldSegments()); // 0
   * await log.close();
   * ```
   */
  deleteOldSegments(now: number = Date.now()): number {
    this.#checkOpen("delete old segments");
    let deleted = 0;
    for (const topic of this.#topics.values()) deleted += topic.deleteOldSegments(now);
    return deleted;
  }

  /**
   * Closes every partition log: those this process writes cleanly (flushed, fsynced, marked clean
   * so the next open scans nothing, writer lock released). Streams still reading end; the
   * directory cannot be used afterwards.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#retentionTimer !== undefined) clearInterval(this.#retentionTimer);
    await Promise.all([...this.#topics.values()].flatMap((t) => t.logs.map((l) => l.close())));
  }
}

/**
 * Opens a log directory: the entry point of reel.
 *
 * @param dir the directory path (created if missing)
 * @param options defaults for new topics
 * @returns the open {@linkcode LogDirectory}
 * @throws {StorageError} when the directory cannot be created or read
 * @example
 * ```ts
 * import { open } from "../../mod.ts";
 * const log = await open(Deno.makeTempDirSync(), { defaults: { fsync: "always" } });
 * const topic = log.hasTopic("events") ? log.topic("events") : await log.createTopic("events");
 * await topic.append([{ value: "hello" }]);
 * await log.close();
 * ```
 */
export function open(dir: string, options: OpenOptions = {}): Promise<LogDirectory> {
  return LogDirectory.open(dir, options);
}
