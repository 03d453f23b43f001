/**
 * The committed offsets of consumer groups (Kafka's offset store in `GroupMetadataManager`), kept in
 * files under the log directory: `<dir>/.groups/<group id, encoded>/offsets/<topic>/<partition>.json`
 * (paths from `runtime/log_paths.ts`, the one validator of paths built from input). A commit is
 * checked against the group's members (`_group_store.ts`) under the group lock, then written
 * atomically and durably.
 *
 * @module
 */
import { CommitFailedError, StorageError } from "../errors.ts";
import { entryStatus, fs, removeDirectory, syncDirectory, writeFilesAtomic } from "../runtime/file_system.ts";
import {
  decodeGroupId,
  GROUPS_DIR,
  joinLogPath,
  OFFSETS_DIR,
  validateTopicName,
} from "../runtime/log_paths.ts";
import { type GroupStore, readJson, withGroupLock } from "./_group_store.ts";
import {
  type CommittedOffset,
  type OffsetToCommit,
  sortTopicPartitions,
  type TopicPartition,
  topicPartitionKey,
} from "./types.ts";

/**
 * One group's committed offsets: commits checked against the partitions' owners, and lookups.
 *
 * @example Commit and read back an offset
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../mod.ts";
 * import { GroupStore } from "./_group_store.ts";
 * import { OffsetStore } from "./offset_store.ts";
 * const log = await open(Deno.makeTempDirSync());
 * await log.createTopic("events");
 * const offsets = new OffsetStore(new GroupStore(log, "billing"));
 * await offsets.commit(undefined, [{ topic: "events", partition: 0, offset: 7, metadata: "m" }]);
 * assert.equal(offsets.readCommitted({ topic: "events", partition: 0 })?.offset, 7);
 * assert.deepEqual(offsets.listCommitted().map((c) => [c.topic, c.partition, c.metadata]), [["events", 0, "m"]]);
 * await log.close();
 * ```
 */
export class OffsetStore {
  /**
   * @param store the group's files
   */
  constructor(readonly store: GroupStore) {}

  /**
   * Commits offsets atomically and durably (each file written to a temporary name, fsynced,
   * renamed, and the directories fsynced), checking ownership under the lock first.
   *
   * @param memberId the committing member, or `undefined` for a consumer without a subscription
   * @param offsets what to commit
   * @throws {CommitFailedError} when the member does not own a partition (or was removed), or, without
   *   a member, when a live member owns it
   * @throws {StorageError} when the files cannot be written
   */
  commit(memberId: string | undefined, offsets: readonly OffsetToCommit[]): Promise<void> {
    if (offsets.length === 0) return Promise.resolve();
    const store = this.store;
    return store.locked(() => {
      if (memberId !== undefined) {
        const me = store.readMember(memberId);
        if (!me) {
          throw new CommitFailedError(
            store.groupId,
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
              store.groupId,
              o.topic,
              o.partition,
              "the partition is not assigned to this member (the group has rebalanced)",
            );
          }
        }
      } else {
        const wanted = new Set(offsets.map(topicPartitionKey));
        for (const m of store.readMembers()) {
          if (m.expired) continue;
          const clash = m.owned.find((tp) => wanted.has(topicPartitionKey(tp)));
          if (clash) {
            throw new CommitFailedError(
              store.groupId,
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
    const root = `${this.store.dir}/${OFFSETS_DIR}`;
    try {
      let created = false;
      for (const o of offsets) {
        const dir = `${root}/${o.topic}`;
        if (!fs.existsSync(dir)) {
          fs.mkdirSync(dir, { recursive: true });
          created = true;
        }
      }
      writeFilesAtomic(offsets.map((o) => ({
        path: `${root}/${o.topic}/${o.partition}.json`,
        contents: JSON.stringify({
          version: 0,
          topic: o.topic,
          partition: o.partition,
          offset: o.offset,
          metadata: o.metadata ?? "",
          commitTimestamp: now,
        }) + "\n",
      })));
      if (created) {
        syncDirectory(root);
        syncDirectory(this.store.dir);
      }
    } catch (err) {
      throw new StorageError(
        `Cannot commit offsets for group "${this.store.groupId}": ${(err as Error).message}`,
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
    const value = readJson(`${this.store.dir}/${OFFSETS_DIR}/${tp.topic}/${tp.partition}.json`) as
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
    const root = `${this.store.dir}/${OFFSETS_DIR}`;
    let topics: string[];
    try {
      topics = fs.readdirSync(root);
    } catch {
      return out; // no offsets directory: nothing committed yet
    }
    for (const topic of topics) {
      let files: string[];
      try {
        files = fs.readdirSync(`${root}/${topic}`);
      } catch {
        continue; // not a directory, or removed meanwhile (a topic deleted)
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
}

/**
 * Deletes a topic's committed offsets from every consumer group of a log directory, as Kafka does
 * when a topic is deleted, each group under its lock (so no commit of that group interleaves).
 *
 * @param dir the log directory
 * @param topic the topic name
 * @returns the groups whose offsets were deleted, sorted
 * @throws {InvalidTopicError} for an illegal topic name (nothing is deleted)
 * @throws {StorageError} when a group's offsets cannot be deleted, or its lock stays held
 * @example Offsets of a deleted topic go from every group
 * ```ts
 * import assert from "node:assert/strict";
 * import { Consumer, open } from "../../mod.ts";
 * import { deleteTopicOffsets } from "./offset_store.ts";
 * const log = await open(Deno.makeTempDirSync());
 * await log.createTopic("events");
 * const consumer = new Consumer(log, { groupId: "billing" });
 * await consumer.commit([{ topic: "events", partition: 0, offset: 7 }]);
 * assert.equal(consumer.committed({ topic: "events", partition: 0 })?.offset, 7);
 * assert.deepEqual(await deleteTopicOffsets(log.dir, "events"), ["billing"]);
 * assert.equal(consumer.committed({ topic: "events", partition: 0 }), null);
 * await consumer.close();
 * await log.close();
 * ```
 */
export async function deleteTopicOffsets(dir: string, topic: string): Promise<string[]> {
  validateTopicName(topic);
  const groupsDir = joinLogPath(dir, GROUPS_DIR);
  let names: string[];
  try {
    names = fs.readdirSync(groupsDir);
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") return [];
    throw new StorageError(`Cannot delete the offsets of topic "${topic}": ${(err as Error).message}`, {
      cause: err,
    });
  }
  const deleted: string[] = [];
  for (const name of names.sort()) {
    const groupId = decodeGroupId(name);
    if (groupId === undefined) continue; // not a group directory: left alone
    const groupDir = joinLogPath(groupsDir, name);
    const offsetsDir = joinLogPath(groupDir, OFFSETS_DIR);
    const topicDir = joinLogPath(offsetsDir, topic);
    if (!isDirectory(topicDir)) continue;
    await withGroupLock(groupDir, groupId, () => {
      try {
        removeDirectory(topicDir);
      } catch (err) {
        throw new StorageError(
          `Cannot delete the offsets of topic "${topic}" for group "${groupId}": ${(err as Error).message}`,
          { cause: err },
        );
      }
      syncDirectory(offsetsDir);
    });
    deleted.push(groupId);
  }
  return deleted;
}

/** Whether `path` is a directory itself (not a symlink to one). */
function isDirectory(path: string): boolean {
  try {
    return entryStatus(path).kind === "directory";
  } catch {
    return false; // absent (or unreadable): nothing of this topic to delete
  }
}
