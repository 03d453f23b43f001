/**
 * The committed offsets of consumer groups, kept in files under the log directory:
 * `<dir>/.groups/<group id, encoded>/offsets/<topic>/<partition>.json` (paths from
 * `runtime/log_paths.ts`, the one validator of paths built from input).
 *
 * @module
 */
import { StorageError } from "../errors.ts";
import { fs, syncDirectory } from "../runtime/file_system.ts";
import {
  decodeGroupId,
  GROUPS_DIR,
  joinLogPath,
  OFFSETS_DIR,
  validateTopicName,
} from "../runtime/log_paths.ts";
import { withGroupLock } from "./_group_coordinator.ts";

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
        fs.rmSync(topicDir, { recursive: true, force: true });
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
    return fs.lstatSync(path).isDirectory();
  } catch {
    return false; // absent (or unreadable): nothing of this topic to delete
  }
}
