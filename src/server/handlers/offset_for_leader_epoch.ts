/**
 * OffsetForLeaderEpoch (key 23): the end offset of a leader epoch, which consumers use to check
 * their position after a leader change (`OffsetForLeaderEpochRequest.json`,
 * `OffsetForLeaderEpochResponse.json`; KIP-101, KIP-320). This broker has led every partition since
 * it was created, always in epoch 0 (the epoch stamped on every batch), so epoch 0 ends at the log
 * end offset and any later epoch is unknown.
 *
 * ```
 * OffsetForLeaderEpoch Request  => replica_id (v3+), topics [topic, partitions [partition, current_leader_epoch (v2+), leader_epoch]]
 * OffsetForLeaderEpoch Response => throttle_time_ms (v2+), topics [topic, partitions [error_code, partition,
 *                                  leader_epoch (v1+), end_offset int64]]
 * ```
 *
 * @module
 */
import { type ApiHandler, ErrorCode } from "../broker_context.ts";

interface OffsetForLeaderEpochRequest {
  topics: {
    topic: string;
    partitions: { partition: number; currentLeaderEpoch: number; leaderEpoch: number }[];
  }[];
}

/** Kafka's `UNKNOWN_LEADER_EPOCH`: the client's current epoch is newer than the broker's. */
const UNKNOWN_LEADER_EPOCH = 74;

/**
 * The OffsetForLeaderEpoch handler, versions 0–4.
 *
 * @example Epoch 0 ends at the log end offset
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../../mod.ts";
 * import { localRequestContext } from "../local_request.ts";
 * import { offsetForLeaderEpochHandler } from "./offset_for_leader_epoch.ts";
 * const log = await open(Deno.makeTempDirSync());
 * const topic = await log.createTopic("t");
 * await topic.append([{ value: "a" }, { value: "b" }]);
 * const context = localRequestContext(log, 23, 4);
 * const response = await offsetForLeaderEpochHandler.handle({
 *   replicaId: -1,
 *   topics: [{ topic: "t", partitions: [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 0 }] }],
 * }, context) as { topics: { partitions: { errorCode: number; leaderEpoch: number; endOffset: number }[] }[] };
 * const [p] = response.topics[0].partitions;
 * assert.deepEqual([p.errorCode, p.leaderEpoch, p.endOffset], [0, 0, 2]);
 * await log.close();
 * ```
 */
export const offsetForLeaderEpochHandler: ApiHandler = {
  apiKey: 23,
  minVersion: 0,
  maxVersion: 4,
  handle(request, { broker }) {
    const req = request as unknown as OffsetForLeaderEpochRequest;
    const topics = req.topics.map((t) => {
      const topic = broker.topicOrError(t.topic);
      return {
        topic: t.topic,
        partitions: t.partitions.map((p) => {
          const out = {
            errorCode: ErrorCode.NONE as number,
            partition: p.partition,
            leaderEpoch: -1,
            endOffset: -1,
          };
          if (typeof topic === "number" || !(p.partition >= 0 && p.partition < topic.partitions)) {
            return { ...out, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
          }
          if (p.currentLeaderEpoch > 0) return { ...out, errorCode: UNKNOWN_LEADER_EPOCH };
          if (p.leaderEpoch !== 0) return out;
          return { ...out, leaderEpoch: 0, endOffset: topic.partition(p.partition).logEndOffset };
        }),
      };
    });
    return { throttleTimeMs: 0, topics };
  },
};
