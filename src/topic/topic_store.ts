/**
 * A topic's files in the log directory, and how many processes create, find and delete them
 * without stepping on each other:
 *
 * ```
 * <dir>/.topics/<topic>.json         StoredTopic: created once, atomically (create-if-absent)
 * <dir>/<topic>-<partition>/         each partition's log, holding partition.metadata (topic ID)
 * <dir>/.create-<uuid>-<partition>/  a partition directory being prepared by createTopic
 * ```
 *
 * Creating a topic: its partition directories are prepared under private names, each with its
 * `partition.metadata`; then its config file is linked into place (of processes creating the
 * same topic at once, exactly one succeeds; the others get {@linkcode TopicExistsError}); then the
 * winner renames its directories into place. So a partition directory with a topic ID never
 * appears before its topic's config, and a process that finds a config but not yet a directory
 * waits for it (briefly; a creator that died in between is made good). A directory whose topic ID
 * is not the config's is what a deleted topic left behind (Kafka's stray log): the next creator
 * of the name removes it.
 *
 * Changing a topic (its config, its partition count) happens under `.topics/<topic>.lock`, one
 * change at a time across processes: new partitions' directories are placed first, then the
 * config file is replaced atomically with the new count, so the count never names a partition
 * whose directory is not there.
 *
 * @module
 */
import { StorageError, TopicExistsError, UnknownTopicOrPartitionError } from "../errors.ts";
import type { LogConfig } from "../log/log_config.ts";
import {
  formatPartitionMetadata,
  isTopicId,
  PARTITION_METADATA_FILE,
  readPartitionMetadata,
  writePartitionMetadata,
} from "../log/partition_metadata_file.ts";
import { filenamePrefixFromOffset } from "../log/log_segment.ts";
import {
  createFileExclusive,
  entryStatus,
  fs,
  openFile,
  readRegularFile,
  removeDirectory,
  removeFile,
  renameFile,
  syncDirectory,
  syncFile,
  writeFileAtomic,
  writeFully,
} from "../runtime/file_system.ts";
import { LockFile, tryLock } from "../runtime/lock_file.ts";
import { joinLogPath, partitionDirPath, topicConfigPath } from "../runtime/log_paths.ts";

/**
 * A topic's config file, `.topics/<name>.json`.
 *
 * ```
 * StoredTopic => { version: 0, name, topicId?, partitions, config }   (JSON)
 * ```
 *
 * `topicId` is the topic's ID (KIP-516), also in each partition directory's `partition.metadata`;
 * topics created before reel recorded IDs have none.
 */
export interface StoredTopic {
  /** Format version (0). */
  version: 0;
  /** The topic name. */
  name: string;
  /** The topic ID, when it has one. */
  topicId?: string;
  /** How many partitions. */
  partitions: number;
  /** The topic's config, as given (resolved over the directory's defaults when opened). */
  config: Partial<LogConfig>;
}

/** How long a process waits for a partition directory whose topic's config it found, ms. */
const CREATE_WAIT_MS = 2_000;
/** Prepared directories older than this are a dead creator's, ms. */
const STALE_PREPARED_MS = 600_000;
const PREPARED = /^\.create-[0-9a-f-]{36}-\d+$/;

/**
 * Reads a topic's config file.
 *
 * @param dir the log directory
 * @param name the topic name
 * @returns the stored topic, or `undefined` when the file is missing or not a valid config
 * @example Read a topic's config file back
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../mod.ts";
 * import { readStoredTopic } from "./topic_store.ts";
 * const log = await open(Deno.makeTempDirSync());
 * const topic = await log.createTopic("events", { partitions: 2 });
 * assert.equal(readStoredTopic(log.dir, "events")?.topicId, topic.topicId);
 * assert.equal(readStoredTopic(log.dir, "other"), undefined);
 * await log.close();
 * ```
 */
export function readStoredTopic(dir: string, name: string): StoredTopic | undefined {
  try {
    const value = JSON.parse(new TextDecoder().decode(readRegularFile(topicConfigPath(dir, name))));
    if (value?.version === 0 && Number.isInteger(value.partitions) && value.partitions > 0) {
      if (value.topicId !== undefined && !isTopicId(value.topicId)) return undefined;
      return value;
    }
  } catch { /* missing or unreadable: defaults, partitions from the directories */ }
  return undefined;
}

/**
 * The topic ID a partition directory records, or `undefined` (none, unreadable, or no directory).
 *
 * @param dir the log directory
 * @param name the topic name
 * @param partition the partition number
 * @returns the topic ID in its `partition.metadata`
 * @example Read the topic ID a partition directory records
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../mod.ts";
 * import { partitionTopicId } from "./topic_store.ts";
 * const log = await open(Deno.makeTempDirSync());
 * const topic = await log.createTopic("events");
 * assert.equal(partitionTopicId(log.dir, "events", 0), topic.topicId);
 * await log.close();
 * ```
 */
export function partitionTopicId(dir: string, name: string, partition: number): string | undefined {
  try {
    return readPartitionMetadata(partitionDirPath(dir, name, partition));
  } catch {
    return undefined;
  }
}

/**
 * Creates a topic's files: its partition directories (each with `partition.metadata`) and its
 * config file, atomically across processes (see the module doc).
 *
 * @param dir the log directory (with its `.topics/` directory)
 * @param name the topic name (already validated)
 * @param stored the config to store, with a new `topicId`
 * @throws {TopicExistsError} when the topic's config file exists (another process created it)
 * @throws {StorageError} when a file or directory cannot be written
 * @example Of two creations of one name, the second gets TopicExistsError
 * ```ts
 * import assert from "node:assert/strict";
 * import * as fs from "node:fs";
 * import { TopicExistsError } from "../errors.ts";
 * import { randomTopicId } from "../log/partition_metadata_file.ts";
 * import { createTopicFiles } from "./topic_store.ts";
 * const dir = Deno.makeTempDirSync();
 * fs.mkdirSync(`${dir}/.topics`);
 * const stored = { version: 0 as const, name: "events", topicId: randomTopicId(), partitions: 2, config: {} };
 * createTopicFiles(dir, "events", stored);
 * assert.ok(fs.existsSync(`${dir}/events-1/partition.metadata`));
 * assert.throws(() => createTopicFiles(dir, "events", { ...stored, topicId: randomTopicId() }), TopicExistsError);
 * ```
 */
export function createTopicFiles(dir: string, name: string, stored: StoredTopic): void {
  const topicId = stored.topicId!;
  const prepared: string[] = [];
  const unprepare = () => prepared.forEach((path) => removeDirectory(path));
  let created: boolean;
  try {
    preparePartitions(dir, topicId, 0, stored.partitions, prepared);
    created = createFileExclusive(topicConfigPath(dir, name), JSON.stringify(stored, null, 2) + "\n");
  } catch (err) {
    unprepare();
    throw new StorageError(`Cannot create topic "${name}": ${(err as Error).message}`, { cause: err });
  }
  if (!created) {
    unprepare();
    throw new TopicExistsError(name);
  }
  let placed = 0;
  try {
    for (let p = 0; p < stored.partitions; p++, placed++) placePartition(dir, name, p, topicId, prepared[p]);
    syncDirectory(dir);
  } catch (err) {
    unprepare();
    // Complete or nothing: the topic's config and the partitions placed so far go too (only if
    // they are still this creation's: another process may have deleted and made the name again).
    if (readStoredTopic(dir, name)?.topicId === topicId) {
      try {
        removeFile(topicConfigPath(dir, name));
      } catch { /* a later open finishes the topic instead (see awaitPartitionDirectory) */ }
    }
    for (let p = 0; p < placed; p++) {
      if (partitionTopicId(dir, name, p) !== topicId) continue;
      try {
        removeDirectory(partitionDirPath(dir, name, p));
      } catch { /* removed as a stray by the next creation of the name */ }
    }
    throw new StorageError(`Cannot create topic "${name}": ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Prepares partition directories `from` to `to` (exclusive) under private names
 * (`.create-<uuid>-<partition>`), each with its `partition.metadata` and empty first segment,
 * every file and then every directory fsynced. No other process looks inside before the rename,
 * so each file is written under its own name; all are written before any is fsynced (the first
 * fsync's journal commit carries the others' directory changes), then reopened to be fsynced (an
 * fsync covers the file, whichever descriptor wrote it): thousands of partitions hold no more.
 *
 * @param prepared an empty list: the directories, as they are made (the caller removes them on failure)
 */
function preparePartitions(dir: string, topicId: string, from: number, to: number, prepared: string[]): void {
  const uuid = crypto.randomUUID();
  const metadata = new TextEncoder().encode(formatPartitionMetadata(topicId));
  const inside = (path: string, mode: "wx" | "r+", act: (fd: number) => void) => {
    const fd = openFile(`${path}/${PARTITION_METADATA_FILE}`, mode);
    try {
      act(fd);
    } finally {
      fs.closeSync(fd);
    }
  };
  for (let p = from; p < to; p++) {
    const path = joinLogPath(dir, `.create-${uuid}-${p}`);
    fs.mkdirSync(path);
    prepared.push(path);
    inside(path, "wx", (fd) => writeFully(fd, metadata, 0));
    writeEmptyLog(path);
  }
  for (const path of prepared) inside(path, "r+", syncFile);
  for (const path of prepared) syncDirectory(path);
}

/**
 * Writes an empty partition's files into a prepared directory, as Kafka makes them at partition
 * creation: the first segment (`00000000000000000000.log`, `.index`, `.timeindex`, all empty), so
 * that `verify` and Kafka's tools find a well-formed log before its first use. An empty first
 * segment needs no recovery (see `needsRecovery`), so no clean-shutdown marker is written.
 */
function writeEmptyLog(path: string): void {
  const prefix = `${path}/${filenamePrefixFromOffset(0)}`;
  for (const suffix of [".log", ".index", ".timeindex"]) fs.closeSync(openFile(prefix + suffix, "wx"));
}

/** Renames a prepared partition directory into place, first moving away a deleted topic's. */
function placePartition(
  dir: string,
  name: string,
  partition: number,
  topicId: string,
  prepared: string,
): void {
  removeStray(dir, name, partition, topicId);
  const target = partitionDirPath(dir, name, partition);
  try {
    renameFile(prepared, target); // onto nothing, or onto an empty directory
    return;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code !== "EEXIST" && code !== "ENOTEMPTY") throw err;
  }
  // A directory is there: one another process made good for this topic, or one from before reel
  // recorded topic IDs (its records are kept and it takes this topic's ID).
  if (partitionTopicId(dir, name, partition) === undefined) writePartitionMetadata(target, topicId);
  removeDirectory(prepared);
}

/** Removes a partition directory that records a topic ID other than `topicId` (Kafka's stray log). */
function removeStray(dir: string, name: string, partition: number, topicId: string): void {
  const path = partitionDirPath(dir, name, partition);
  if (!fs.existsSync(path)) return; // nothing there (a dangling link is reported by the rename)
  let found: string | undefined;
  let unreadable = false;
  try {
    found = readPartitionMetadata(path);
  } catch {
    unreadable = true; // not a partition metadata file: not this topic's either
  }
  if (!unreadable && (found === undefined || found === topicId)) return;
  // Only while the name is still ours: if another process deleted our topic and created the
  // name again meanwhile, this directory may be the new topic's.
  if (readStoredTopic(dir, name)?.topicId !== topicId) return;
  const suffix = `-${partition}.${Math.floor(Math.random() * 2 ** 32).toString(16)}-delete`;
  const doomed = joinLogPath(dir, `${name.slice(0, 255 - suffix.length)}${suffix}`);
  try {
    renameFile(path, doomed);
  } catch {
    return; // gone meanwhile
  }
  removeDirectory(doomed);
}

/**
 * Waits until a partition directory of a topic with an ID exists: its creator renames it into
 * place just after linking the config. When the config no longer names `topicId`, the topic was
 * deleted; when the directory does not come (its creator died in between), it is made here.
 *
 * @param dir the log directory
 * @param name the topic name
 * @param partition the partition number
 * @param topicId the topic ID its config had
 * @throws {UnknownTopicOrPartitionError} when the topic was deleted
 * @example Wait for a partition directory of a live topic
 * ```ts
 * import assert from "node:assert/strict";
 * import { UnknownTopicOrPartitionError } from "../errors.ts";
 * import { open } from "../../mod.ts";
 * import { awaitPartitionDirectory } from "./topic_store.ts";
 * const log = await open(Deno.makeTempDirSync());
 * const topic = await log.createTopic("events");
 * awaitPartitionDirectory(log.dir, "events", 0, topic.topicId!); // there
 * await log.deleteTopic("events");
 * assert.throws(() => awaitPartitionDirectory(log.dir, "events", 0, topic.topicId!), UnknownTopicOrPartitionError);
 * await log.close();
 * ```
 */
export function awaitPartitionDirectory(dir: string, name: string, partition: number, topicId: string): void {
  const path = partitionDirPath(dir, name, partition);
  const deadline = Date.now() + CREATE_WAIT_MS;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    if (entryExists(path)) return; // a directory, or something else that the open reports
    if (readStoredTopic(dir, name)?.topicId !== topicId) {
      throw new UnknownTopicOrPartitionError(name, partition);
    }
    if (Date.now() > deadline) break;
    Atomics.wait(pause, 0, 0, 5);
  }
  // The creator died between linking the config and placing this directory: make it good.
  try {
    fs.mkdirSync(path);
  } catch (err) {
    if ((err as { code?: string }).code !== "EEXIST") {
      throw new StorageError(`Cannot create ${path}: ${(err as Error).message}`, { cause: err });
    }
  }
  writePartitionMetadata(path, topicId);
}

/** Whether a name exists, whatever it is (a dangling symbolic link too). */
function entryExists(path: string): boolean {
  try {
    entryStatus(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Removes what dead creators left in the log directory: prepared partition directories
 * (`.create-<uuid>-<partition>`) older than ten minutes.
 *
 * @param dir the log directory
 * @param entry one name in it
 * @returns whether the name was a prepared directory (removed or still fresh)
 * @example Remove what dead creators left behind
 * ```ts
 * import assert from "node:assert/strict";
 * import { removeStalePrepared } from "./topic_store.ts";
 * assert.equal(removeStalePrepared(Deno.makeTempDirSync(), "events-0"), false);
 * ```
 */
export function removeStalePrepared(dir: string, entry: string): boolean {
  if (!PREPARED.test(entry)) return false;
  const path = joinLogPath(dir, entry);
  try {
    if (Date.now() - entryStatus(path).mtimeMs > STALE_PREPARED_MS) {
      removeDirectory(path);
    }
  } catch { /* gone meanwhile */ }
  return true;
}

/**
 * Deletes a topic's files, as Kafka's `LogManager.asyncDelete` does: renames each partition
 * directory to `<topic>-<partition>.<id>-delete` (the topic part cut so that the name fits in 255
 * bytes, as Kafka's `logDeleteDirName`), then removes the config file. Call with every partition's
 * writer lock held. The renamed directories are returned for the caller to remove (`open()`
 * removes any left behind).
 *
 * @param dir the log directory
 * @param name the topic name
 * @param partitions how many partitions it has
 * @returns the renamed directories
 * @throws {StorageError} when a directory cannot be renamed or the config removed
 * @example Delete a topic's files
 * ```ts
 * import assert from "node:assert/strict";
 * import * as fs from "node:fs";
 * import { open } from "../../mod.ts";
 * import { deleteTopicFiles } from "./topic_store.ts";
 * const log = await open(Deno.makeTempDirSync());
 * await log.createTopic("events", { partitions: 2 });
 * await log.close();
 * const doomed = deleteTopicFiles(log.dir, "events", 2);
 * assert.equal(doomed.length, 2);
 * assert.ok(doomed.every((d) => /events-[01]\.[0-9a-f]+-delete$/.test(d)));
 * assert.equal(fs.existsSync(`${log.dir}/.topics/events.json`), false);
 * ```
 */
export function deleteTopicFiles(dir: string, name: string, partitions: number): string[] {
  const id = Math.floor(Math.random() * 2 ** 32).toString(16);
  const doomed: string[] = [];
  try {
    for (let p = 0; p < partitions; p++) {
      const suffix = `-${p}.${id}-delete`;
      const to = joinLogPath(dir, `${name.slice(0, 255 - suffix.length)}${suffix}`);
      renameFile(partitionDirPath(dir, name, p), to);
      doomed.push(to);
    }
    removeFile(topicConfigPath(dir, name));
    syncDirectory(dir);
  } catch (err) {
    throw new StorageError(`Cannot delete topic "${name}": ${(err as Error).message}`, { cause: err });
  }
  return doomed;
}

/** How long a topic change waits for another process's change of the same topic, ms. */
const TOPIC_LOCK_WAIT_MS = 10_000;

/**
 * Runs `change` holding the topic's change lock (`.topics/<name>.lock`), so that changes of one
 * topic by several processes happen one after the other.
 *
 * @param dir the log directory
 * @param name the topic name (already validated)
 * @param change what to do under the lock
 * @returns what `change` returns
 * @throws {StorageError} when the lock cannot be had within 10 s, or its file cannot be written
 */
export function withTopicLock<T>(dir: string, name: string, change: () => T): T {
  const path = topicConfigPath(dir, name).replace(/\.json$/, ".lock");
  const deadline = Date.now() + TOPIC_LOCK_WAIT_MS;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    const got = tryLock(path, { transient: true });
    if (got instanceof LockFile) {
      try {
        return change();
      } finally {
        got.release();
      }
    }
    if (Date.now() > deadline) {
      throw new StorageError(`Cannot change topic "${name}": another process (${got.pid}) kept changing it`);
    }
    Atomics.wait(pause, 0, 0, 5);
  }
}

/**
 * Replaces a topic's config file atomically (call it under {@linkcode withTopicLock}).
 *
 * @param dir the log directory
 * @param stored what to store
 * @throws {StorageError} when the file cannot be written
 */
export function writeStoredTopic(dir: string, stored: StoredTopic): void {
  writeFileAtomic(topicConfigPath(dir, stored.name), JSON.stringify(stored, null, 2) + "\n");
}

/**
 * Makes the directories of partitions `from` to `to - 1` of a topic (each with its
 * `partition.metadata` and an empty first segment), prepared under private names and then placed;
 * on failure none is left. Call it under {@linkcode withTopicLock}, before the config file names
 * them.
 *
 * @param dir the log directory
 * @param name the topic name
 * @param topicId the topic's ID
 * @param from the first new partition
 * @param to one past the last
 * @throws {StorageError} when a directory cannot be made or placed
 */
export function addPartitionFiles(
  dir: string,
  name: string,
  topicId: string,
  from: number,
  to: number,
): void {
  const prepared: string[] = [];
  let placed = from;
  try {
    preparePartitions(dir, topicId, from, to, prepared);
    for (; placed < to; placed++) placePartition(dir, name, placed, topicId, prepared[placed - from]);
    syncDirectory(dir);
  } catch (err) {
    for (const path of prepared) removeDirectory(path);
    for (let p = from; p < placed; p++) {
      if (partitionTopicId(dir, name, p) === topicId) {
        removeDirectory(partitionDirPath(dir, name, p));
      }
    }
    throw new StorageError(`Cannot add partitions to topic "${name}": ${(err as Error).message}`, {
      cause: err,
    });
  }
}
