/**
 * Fetch (key 1): returns each partition's record batches as they lie in the segment files, from
 * the batch holding the fetch offset on (no decode, no re-encode), and holds the request until
 * `min_bytes` are there or `max_wait_ms` has passed, woken by appends rather than polling
 * (`FetchRequest.json`, `FetchResponse.json`; KIP-74 for the size limits; KIP-227 sessions).
 *
 * ```
 * Fetch Request  => replica_id (v0-14), max_wait_ms int32, min_bytes int32, max_bytes int32 (v3+),
 *                   isolation_level int8 (v4+), session_id int32 (v7+), session_epoch int32 (v7+),
 *                   topics [topic (v0-12) | topic_id uuid (v13+),
 *                           partitions [partition, current_leader_epoch (v9+), fetch_offset int64,
 *                                       last_fetched_epoch (v12+), log_start_offset (v5+), partition_max_bytes]],
 *                   forgotten_topics_data (v7+), rack_id (v11+)
 * Fetch Response => throttle_time_ms (v1+), error_code (v7+), session_id (v7+),
 *                   responses [topic | topic_id, partitions [partition_index, error_code, high_watermark,
 *                              last_stable_offset (v4+), log_start_offset (v5+), aborted_transactions (v4+),
 *                              preferred_read_replica (v11+), records RECORDS]]
 * ```
 * Fetch sessions are refused the way Kafka refuses them when its session cache is full: a request
 * that asks for a new session (epoch 0) gets a full response with session ID 0, so the client
 * keeps sending full requests; one that names a session gets FETCH_SESSION_ID_NOT_FOUND. With no
 * transactions, the last stable offset is the high watermark under either isolation level.
 *
 * @module
 */
import { OffsetOutOfRangeError } from "../../errors.ts";
import type { PartitionLog } from "../../log/partition_log.ts";
import type { Topic } from "../../topic/topic.ts";
import { type ApiHandler, type BrokerContext, ErrorCode } from "../broker_context.ts";
import type { Message } from "../protocol/message_codec.ts";
import { ZERO_UUID } from "../protocol/byte_reader.ts";

interface FetchRequest {
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  isolationLevel: number;
  sessionId: number;
  sessionEpoch: number;
  topics: {
    topic: string;
    topicId: string;
    partitions: { partition: number; fetchOffset: number; partitionMaxBytes: number }[];
  }[];
}

interface PartitionData {
  partitionIndex: number;
  errorCode: number;
  highWatermark: number;
  lastStableOffset: number;
  logStartOffset: number;
  abortedTransactions: [];
  preferredReadReplica: number;
  records: Uint8Array;
}

const EMPTY = new Uint8Array(0);

function resolveTopic(broker: BrokerContext, name: string, id: string, byId: boolean): Topic | number {
  if (!byId) return broker.topicOrError(name);
  const log = broker.log;
  const topic = id === ZERO_UUID
    ? undefined
    : log.topics().map((n) => log.topic(n)).find((t) => t.topicId === id);
  return topic ?? ErrorCode.UNKNOWN_TOPIC_ID;
}

/** Resolves after the first append to any of `logs`, after `ms`, or when `signal` aborts. */
function waitForAppend(logs: readonly PartitionLog[], ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const stops: (() => void)[] = [];
    const done = () => {
      clearTimeout(timer);
      for (const stop of stops) stop();
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
    for (const log of logs) if (!log.closed) stops.push(log.onAppend(done));
  });
}

/**
 * One pass over the request: each partition's batches, within the partition's and the response's
 * byte limits (the first partition with data gets at least one whole batch).
 */
function readAll(broker: BrokerContext, req: FetchRequest, byId: boolean) {
  let total = 0;
  let failed = false;
  const logs: PartitionLog[] = [];
  const responses = req.topics.map((t) => {
    const topic = resolveTopic(broker, t.topic, t.topicId, byId);
    const partitions = t.partitions.map((p): PartitionData => {
      const data: PartitionData = {
        partitionIndex: p.partition,
        errorCode: ErrorCode.NONE,
        highWatermark: -1,
        lastStableOffset: -1,
        logStartOffset: -1,
        abortedTransactions: [],
        preferredReadReplica: -1,
        records: EMPTY,
      };
      if (typeof topic === "number" || !(p.partition >= 0 && p.partition < topic.partitions)) {
        failed = true;
        return {
          ...data,
          errorCode: typeof topic === "number" ? topic : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        };
      }
      const log = topic.partition(p.partition);
      logs.push(log);
      try {
        const limit = Math.min(p.partitionMaxBytes, req.maxBytes - total);
        const read = limit > 0 || total === 0 ? log.read(p.fetchOffset, Math.max(limit, 1)) : null;
        if (read && (total === 0 || read.bytes.length <= limit)) {
          data.records = read.bytes;
          total += read.bytes.length;
        }
      } catch (err) {
        failed = true;
        data.errorCode = err instanceof OffsetOutOfRangeError
          ? ErrorCode.OFFSET_OUT_OF_RANGE
          : broker.errorCode(err, `read "${t.topic}-${p.partition}" from offset ${p.fetchOffset}`);
      }
      data.highWatermark = log.highWatermark;
      data.lastStableOffset = log.highWatermark;
      data.logStartOffset = log.logStartOffset;
      return data;
    });
    return { topic: t.topic, topicId: t.topicId, partitions };
  });
  return { responses, total, failed, logs };
}

/**
 * The Fetch handler, versions 4–17. Versions 13 and later name topics by topic ID (KIP-516); a
 * topic created before reel recorded IDs has none (Metadata reports the zero UUID, and the Java
 * client then stays at version 12).
 *
 * @example Fetch a partition from offset 0: the record batches as they lie on disk
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../../mod.ts";
 * import { localRequestContext } from "../local_request.ts";
 * import { decodeRecordBatch } from "../../record/record_batch_decoder.ts";
 * import { fetchHandler } from "./fetch.ts";
 * const log = await open(Deno.makeTempDirSync());
 * const topic = await log.createTopic("t");
 * await topic.append([{ value: "a" }, { value: "b" }]);
 * const context = localRequestContext(log, 1, 4);
 * const response = await fetchHandler.handle({
 *   replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 0,
 *   topics: [{ topic: "t", partitions: [{ partition: 0, fetchOffset: 0, logStartOffset: -1, partitionMaxBytes: 1 << 20 }] }],
 * }, context) as { responses: { partitions: { errorCode: number; highWatermark: number; records: Uint8Array }[] }[] };
 * const [p] = response.responses[0].partitions;
 * assert.equal(p.errorCode, 0);
 * assert.equal(p.highWatermark, 2);
 * const batch = decodeRecordBatch(p.records);
 * assert.deepEqual(batch.records.map((r) => new TextDecoder().decode(r.value!)), ["a", "b"]);
 * await log.close();
 * ```
 */
export const fetchHandler: ApiHandler = {
  apiKey: 1,
  minVersion: 4,
  maxVersion: 17,
  async handle(request, { broker, version, signal }) {
    const req = request as unknown as FetchRequest;
    const base: Message = { throttleTimeMs: 0, errorCode: ErrorCode.NONE, sessionId: 0 };
    if (version >= 7 && (req.sessionId !== 0 || req.sessionEpoch > 0)) {
      return { ...base, errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND, responses: [] };
    }
    const byId = version >= 13;
    const deadline = Date.now() + Math.max(0, req.maxWaitMs);
    for (;;) {
      const pass = readAll(broker, req, byId);
      const wait = deadline - Date.now();
      if (
        pass.failed || pass.total >= req.minBytes || wait <= 0 || signal.aborted || pass.logs.length === 0
      ) {
        return { ...base, responses: pass.responses };
      }
      await waitForAppend(pass.logs, wait, signal);
    }
  },
};
