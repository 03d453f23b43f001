/**
 * DeleteRecords (key 21): moves partitions' log start offsets (`DeleteRecordsRequest.json`,
 * `DeleteRecordsResponse.json`; KIP-107), through `PartitionLog.deleteRecordsBefore`.
 *
 * ```
 * DeleteRecords Request  => topics [name, partitions [partition_index, offset int64]], timeout_ms
 * DeleteRecords Response => throttle_time_ms, topics [name, partitions [partition_index, low_watermark, error_code]]
 * ```
 *
 * An offset of -1 means the high watermark; one past it is OFFSET_OUT_OF_RANGE (low watermark -1).
 *
 * @module
 */
import { type ApiHandler, ErrorCode } from "../broker_context.ts";
import type { Message } from "../protocol/message_codec.ts";

interface DeleteRecordsRequest {
  topics: { name: string; partitions: { partitionIndex: number; offset: number }[] }[];
  timeoutMs: number;
}

/**
 * The DeleteRecords handler, versions 0–2.
 *
 * @example Delete the first two records of a partition
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../../mod.ts";
 * import { localRequestContext } from "../local_request.ts";
 * import { deleteRecordsHandler } from "./delete_records.ts";
 * const log = await open(Deno.makeTempDirSync());
 * const topic = await log.createTopic("events");
 * await topic.append([{ value: "a" }, { value: "b" }, { value: "c" }]);
 * const context = localRequestContext(log, 21, 2);
 * const request = { topics: [{ name: "events", partitions: [{ partitionIndex: 0, offset: 2 }, { partitionIndex: 1, offset: 0 }] }], timeoutMs: 1000 };
 * const response = await deleteRecordsHandler.handle(request, context) as {
 *   topics: { partitions: { partitionIndex: number; lowWatermark: number; errorCode: number }[] }[];
 * };
 * assert.deepEqual(response.topics[0].partitions.map((p) => [p.partitionIndex, p.lowWatermark, p.errorCode]), [[0, 2, 0], [1, -1, 3]]);
 * await log.close();
 * ```
 */
export const deleteRecordsHandler: ApiHandler = {
  apiKey: 21,
  minVersion: 0,
  maxVersion: 2,
  handle(request, { broker }) {
    const req = request as unknown as DeleteRecordsRequest;
    const topics: Message[] = [];
    for (const { name, partitions } of req.topics) {
      const topic = broker.topicOrError(name);
      const results: Message[] = [];
      for (const { partitionIndex, offset } of partitions) {
        if (
          typeof topic === "number" || !Number.isInteger(partitionIndex) || partitionIndex < 0 ||
          partitionIndex >= topic.partitions
        ) {
          results.push({ partitionIndex, lowWatermark: -1, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION });
          continue;
        }
        try {
          const low = topic.partition(partitionIndex).deleteRecordsBefore(offset);
          results.push({ partitionIndex, lowWatermark: low, errorCode: ErrorCode.NONE });
        } catch (err) {
          const errorCode = err instanceof RangeError
            ? ErrorCode.OFFSET_OUT_OF_RANGE
            : broker.errorCode(err, `delete records of "${name}-${partitionIndex}"`);
          results.push({ partitionIndex, lowWatermark: -1, errorCode });
        }
      }
      topics.push({ name, partitions: results });
    }
    return Promise.resolve({ throttleTimeMs: 0, topics });
  },
};
