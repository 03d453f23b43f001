/**
 * OffsetCommit (key 8): stores a group's committed offsets in the log directory's `.groups/`
 * store (`OffsetCommitRequest.json`, `OffsetCommitResponse.json`; checks as Kafka's
 * `ClassicGroup.validateOffsetCommit`).
 *
 * ```
 * OffsetCommit Request  => group_id, generation_id_or_member_epoch (v1+), member_id (v1+), group_instance_id (v7+),
 *                          retention_time_ms (v2-4), topics [name, partitions [partition_index, committed_offset int64,
 *                          committed_leader_epoch (v6+), commit_timestamp (v1), committed_metadata]]
 * OffsetCommit Response => throttle_time_ms (v3+), topics [name, partitions [partition_index, error_code]]
 * ```
 * A commit with generation -1 and no member ID (an admin tool, a consumer with assigned
 * partitions) is accepted while no Kafka client is a member of the group.
 *
 * @module
 */
import { type ApiHandler, ErrorCode } from "../broker_context.ts";

interface OffsetCommitRequest {
  groupId: string;
  generationIdOrMemberEpoch: number;
  memberId: string;
  topics: {
    name: string;
    partitions: { partitionIndex: number; committedOffset: number; committedMetadata: string | null }[];
  }[];
}

/**
 * The OffsetCommit handler, versions 0–9.
 *
 * @example A simple consumer (no generation) commits an offset
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../../mod.ts";
 * import { localRequestContext } from "../local_request.ts";
 * import { offsetCommitHandler } from "./offset_commit.ts";
 * const log = await open(Deno.makeTempDirSync());
 * await log.createTopic("t");
 * const context = localRequestContext(log, 8, 8);
 * const response = await offsetCommitHandler.handle({
 *   groupId: "g", generationIdOrMemberEpoch: -1, memberId: "", groupInstanceId: null,
 *   topics: [{ name: "t", partitions: [{ partitionIndex: 0, committedOffset: 7, committedLeaderEpoch: -1, committedMetadata: null }] }],
 * }, context) as { topics: { partitions: { errorCode: number }[] }[] };
 * assert.equal(response.topics[0].partitions[0].errorCode, 0);
 * assert.equal(context.broker.groups.fetchOffsets("g", "t", [0])[0].offset, 7);
 * await context.broker.groups.close();
 * await log.close();
 * ```
 */
export const offsetCommitHandler: ApiHandler = {
  apiKey: 8,
  minVersion: 0,
  maxVersion: 9,
  async handle(request, { broker, version }) {
    const req = request as unknown as OffsetCommitRequest;
    const groups = broker.groups;
    const generation = version === 0 ? -1 : req.generationIdOrMemberEpoch;
    const memberId = version === 0 ? "" : req.memberId;
    let groupError: number = req.groupId === "" ? ErrorCode.INVALID_GROUP_ID : ErrorCode.NONE;
    if (groupError === ErrorCode.NONE) {
      const group = groups.group(req.groupId);
      if (group) groupError = group.validateCommit(memberId, generation);
      else if (generation >= 0 || memberId !== "") groupError = ErrorCode.UNKNOWN_MEMBER_ID;
    }
    const topics = [];
    for (const t of req.topics) {
      const partitions = [];
      for (const p of t.partitions) {
        const errorCode = groupError !== ErrorCode.NONE ? groupError : await groups.commitOffset(
          req.groupId,
          t.name,
          p.partitionIndex,
          p.committedOffset,
          p.committedMetadata,
        );
        partitions.push({ partitionIndex: p.partitionIndex, errorCode });
      }
      topics.push({ name: t.name, partitions });
    }
    return { throttleTimeMs: 0, topics };
  },
};
