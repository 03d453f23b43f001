/**
 * ListOffsets (key 2): a partition's earliest offset, latest offset, or the first offset whose
 * record timestamp is at or after a time (`ListOffsetsRequest.json`, `ListOffsetsResponse.json`;
 * the special timestamps are Kafka's `ListOffsetsRequest` constants).
 *
 * ```
 * ListOffsets Request  => replica_id int32, isolation_level int8 (v2+),
 *                         topics [name, partitions [partition_index, current_leader_epoch (v4+),
 *                                                   timestamp int64, max_num_offsets (v0)]], timeout_ms (v10+)
 * ListOffsets Response => throttle_time_ms (v2+), topics [name, partitions [partition_index, error_code,
 *                         old_style_offsets [int64] (v0), timestamp (v1+), offset (v1+), leader_epoch (v4+)]]
 * ```
 * Timestamps: -1 latest (the high watermark, which is also the last stable offset: no
 * transactions), -2 earliest (the log start offset), -4 earliest local (the same: no tiered
 * storage), -5 latest tiered (none: offset -1); -3 (max timestamp) is answered with
 * INVALID_REQUEST; 0 or more, the first offset at or after that time, or offset -1 when every
 * record is older.
 *
 * @module
 */
import { type ApiHandler, ErrorCode } from "../broker_context.ts";
import type { Message } from "../protocol/message_codec.ts";

interface ListOffsetsRequest {
  topics: { name: string; partitions: { partitionIndex: number; timestamp: number }[] }[];
}

/**
 * The ListOffsets handler, versions 0–9.
 *
 * @example The earliest (-2) and latest (-1) offsets of a partition
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../../mod.ts";
 * import { localRequestContext } from "../local_request.ts";
 * import { listOffsetsHandler } from "./list_offsets.ts";
 * const log = await open(Deno.makeTempDirSync());
 * const topic = await log.createTopic("t");
 * await topic.append([{ value: "a" }, { value: "b" }, { value: "c" }]);
 * const context = localRequestContext(log, 2, 7);
 * const ask = async (timestamp: number) => {
 *   const response = await listOffsetsHandler.handle({
 *     replicaId: -1, isolationLevel: 0,
 *     topics: [{ name: "t", partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp }] }],
 *   }, context) as { topics: { partitions: { errorCode: number; offset: number }[] }[] };
 *   return response.topics[0].partitions[0];
 * };
 * assert.equal((await ask(-2)).offset, 0);
 * assert.equal((await ask(-1)).offset, 3);
 * await log.close();
 * ```
 */
export const listOffsetsHandler: ApiHandler = {
  apiKey: 2,
  minVersion: 0,
  maxVersion: 9,
  handle(request, { broker }) {
    const req = request as unknown as ListOffsetsRequest;
    const topics = req.topics.map((t) => {
      const topic = broker.topicOrError(t.name);
      return {
        name: t.name,
        partitions: t.partitions.map((p): Message => {
          const out = {
            partitionIndex: p.partitionIndex,
            errorCode: ErrorCode.NONE as number,
            timestamp: -1,
            offset: -1,
            leaderEpoch: 0,
          };
          if (typeof topic === "number" || !(p.partitionIndex >= 0 && p.partitionIndex < topic.partitions)) {
            return {
              ...out,
              errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
              leaderEpoch: -1,
              oldStyleOffsets: [],
            };
          }
          const log = topic.partition(p.partitionIndex);
          try {
            if (p.timestamp === -1) out.offset = log.highWatermark;
            else if (p.timestamp === -2 || p.timestamp === -4) out.offset = log.logStartOffset;
            else if (p.timestamp === -5) out.offset = -1;
            else if (p.timestamp < 0) out.errorCode = ErrorCode.INVALID_REQUEST;
            else {
              const found = log.offsetForTimestamp(p.timestamp);
              if (found) {
                out.offset = found.offset;
                out.timestamp = found.timestamp;
              }
            }
          } catch (err) {
            out.errorCode = broker.errorCode(err, `list offsets of "${t.name}-${p.partitionIndex}"`);
          }
          return { ...out, oldStyleOffsets: out.offset >= 0 ? [out.offset] : [] };
        }),
      };
    });
    return { throttleTimeMs: 0, topics };
  },
};
