/**
 * OffsetFetch (key 9): a group's committed offsets, from the log directory's `.groups/` store,
 * so offsets committed by in-process consumers are seen too (`OffsetFetchRequest.json`,
 * `OffsetFetchResponse.json`; v8+ asks for many groups at once, KIP-709).
 *
 * ```
 * OffsetFetch Request  => group_id, topics [name, partition_indexes [int32]] (null = all, v2+) (v0-7)
 *                         | groups [group_id, member_id (v9+), member_epoch (v9+), topics] (v8+), require_stable (v7+)
 * OffsetFetch Response => throttle_time_ms (v3+), topics [name, partitions [partition_index, committed_offset,
 *                         committed_leader_epoch (v5+), metadata, error_code]], error_code (v2-7) | groups [...] (v8+)
 * ```
 *
 * @module
 */
import { type ApiHandler, type BrokerContext, ErrorCode } from "../broker_context.ts";
import type { Message } from "../protocol/message_codec.ts";

type Topics = { name: string; partitionIndexes: number[] }[] | null;

interface OffsetFetchRequest {
  groupId: string;
  topics: Topics;
  groups: { groupId: string; topics: Topics }[];
}

function offsetsOf(broker: BrokerContext, groupId: string, topics: Topics): Message[] {
  const groups = broker.groups;
  const toPartition = (o: { partition: number; offset: number; metadata: string | null }) => ({
    partitionIndex: o.partition,
    committedOffset: o.offset,
    committedLeaderEpoch: -1,
    metadata: o.metadata ?? "",
    errorCode: ErrorCode.NONE,
  });
  if (topics === null) {
    return [...groups.allOffsets(groupId)].map(([name, list]) => ({
      name,
      partitions: list.map(toPartition),
    }));
  }
  return topics.map((t) => ({
    name: t.name,
    partitions: groups.fetchOffsets(groupId, t.name, t.partitionIndexes).map(toPartition),
  }));
}

/**
 * The OffsetFetch handler, versions 0–9.
 *
 * @example Fetch the offset a group committed
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../../mod.ts";
 * import { localRequestContext } from "../local_request.ts";
 * import { offsetFetchHandler } from "./offset_fetch.ts";
 * const log = await open(Deno.makeTempDirSync());
 * await log.createTopic("t");
 * const context = localRequestContext(log, 9, 7);
 * assert.equal(await context.broker.groups.commitOffset("g", "t", 0, 42, "m"), 0);
 * const response = await offsetFetchHandler.handle({
 *   groupId: "g", topics: [{ name: "t", partitionIndexes: [0] }], requireStable: false,
 * }, context) as { errorCode: number; topics: { partitions: { committedOffset: number; metadata: string }[] }[] };
 * assert.equal(response.errorCode, 0);
 * assert.equal(response.topics[0].partitions[0].committedOffset, 42);
 * assert.equal(response.topics[0].partitions[0].metadata, "m");
 * await context.broker.groups.close();
 * await log.close();
 * ```
 */
export const offsetFetchHandler: ApiHandler = {
  apiKey: 9,
  minVersion: 0,
  maxVersion: 9,
  handle(request, { broker, version }) {
    const req = request as unknown as OffsetFetchRequest;
    if (version < 8) {
      return {
        throttleTimeMs: 0,
        topics: offsetsOf(broker, req.groupId, req.topics),
        errorCode: ErrorCode.NONE,
      };
    }
    return {
      throttleTimeMs: 0,
      groups: req.groups.map((g) => ({
        groupId: g.groupId,
        topics: offsetsOf(broker, g.groupId, g.topics),
        errorCode: ErrorCode.NONE,
      })),
    };
  },
};
