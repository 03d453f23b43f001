/**
 * DescribeLogDirs (key 35): the broker's log directories and, for each, the size of every
 * partition in it (`DescribeLogDirsRequest.json`, `DescribeLogDirsResponse.json`; KIP-113, and
 * KIP-827 for the directory's total and usable bytes in v4). reel serves one directory: the one
 * it was started over.
 *
 * ```
 * DescribeLogDirs Request  => [topics [topic, [partitions]]] (null for all)
 * DescribeLogDirs Response => throttle_time_ms, error_code (v3+), [results error_code, log_dir,
 *                             [topics name, [partitions partition_index, partition_size,
 *                             offset_lag, is_future_key]], total_bytes (v4+), usable_bytes (v4+)]
 * ```
 *
 * @module
 */
import { diskSpace } from "../../runtime/disk_space.ts";
import { type ApiHandler, ErrorCode } from "../broker_context.ts";

interface DescribeLogDirsRequest {
  topics: { topic: string; partitions: number[] }[] | null;
}

/**
 * The DescribeLogDirs handler, versions 0–4. A partition's size is the bytes of its `.log` files;
 * its offset lag is the log end offset minus the high watermark. Topics or partitions the broker
 * does not have are left out of the answer, as Kafka leaves them out.
 *
 * @example The size of each partition of a topic
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../../mod.ts";
 * import { localRequestContext } from "../local_request.ts";
 * import { describeLogDirsHandler } from "./describe_log_dirs.ts";
 * const log = await open(Deno.makeTempDirSync());
 * const topic = await log.createTopic("t", { partitions: 2 });
 * await topic.append([{ value: "x", partition: 1 }]);
 * const context = localRequestContext(log, 35, 4);
 * const response = await describeLogDirsHandler.handle({ topics: [{ topic: "t", partitions: [0, 1, 7] }] }, context) as {
 *   results: { logDir: string; topics: { partitions: { partitionIndex: number; partitionSize: number }[] }[] }[];
 * };
 * const [dir] = response.results;
 * assert.equal(dir.logDir, log.dir);
 * assert.deepEqual(dir.topics[0].partitions.map((p) => [p.partitionIndex, p.partitionSize > 0]), [[0, false], [1, true]]);
 * await log.close();
 * ```
 */
export const describeLogDirsHandler: ApiHandler = {
  apiKey: 35,
  minVersion: 0,
  maxVersion: 4,
  handle(request, { broker }) {
    const req = request as unknown as DescribeLogDirsRequest;
    const log = broker.log;
    const wanted = req.topics === null
      ? log.topics().map((name) => ({ topic: name, partitions: null as number[] | null }))
      : req.topics;
    const topics = [];
    for (const { topic: name, partitions } of wanted) {
      if (!log.hasTopic(name)) continue;
      const described = log.topic(name).describe();
      const chosen = partitions === null
        ? described
        : described.filter((p) => partitions.includes(p.partition));
      if (chosen.length === 0) continue;
      topics.push({
        name,
        partitions: chosen.map((p) => ({
          partitionIndex: p.partition,
          partitionSize: p.bytes,
          offsetLag: Math.max(0, p.logEndOffset - p.highWatermark),
          isFutureKey: false,
        })),
      });
    }
    const space = diskSpace(log.dir);
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      results: [{
        errorCode: ErrorCode.NONE,
        logDir: log.dir,
        topics,
        totalBytes: space?.totalBytes ?? -1,
        usableBytes: space?.usableBytes ?? -1,
      }],
    };
  },
};
