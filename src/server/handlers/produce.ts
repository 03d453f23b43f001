/**
 * Produce (key 0): appends each partition's record batch as it came (CRC-32C checked, base offset
 * and partition leader epoch stamped, a compressed batch kept compressed), then answers with its
 * base offset (`ProduceRequest.json`, `ProduceResponse.json`).
 *
 * ```
 * Produce Request  => transactional_id NULLABLE_STRING (v3+), acks int16, timeout_ms int32,
 *                     topic_data [name, partition_data [index int32, records RECORDS]]
 * Produce Response => responses [name, partition_responses [index, error_code, base_offset int64,
 *                     log_append_time_ms int64 (v2+), log_start_offset int64 (v5+),
 *                     record_errors (v8+), error_message (v8+)]], throttle_time_ms (v1+)
 * ```
 * Batches with a producer ID (idempotent producers) are checked against the producer's sequence
 * numbers first (the partition's `ProducerState`, in the log): a retry is answered with its original
 * offsets.
 * Transactional batches are refused with INVALID_RECORD.
 *
 * `acks` 0: no response at all (Kafka's `ProduceRequest.getErrorResponse` returns null); 1 and -1
 * (all): the answer waits until the batch is acknowledged under the topic's fsync policy (this
 * broker is every partition's only replica, so both wait for the same thing).
 *
 * @module
 */
import { type ApiHandler, type BrokerContext, ErrorCode } from "../broker_context.ts";
import type { Message } from "../protocol/message_codec.ts";
import { validateRecordBatch } from "../../record/record_batch.ts";

interface ProduceRequest {
  transactionalId: string | null;
  acks: number;
  timeoutMs: number;
  topicData: { name: string; partitionData: { index: number; records: Uint8Array | null }[] }[];
}

interface PartitionResult {
  index: number;
  errorCode: number;
  baseOffset: number;
  logStartOffset: number;
  errorMessage: string | null;
}

async function producePartition(
  broker: BrokerContext,
  topicName: string,
  index: number,
  records: Uint8Array | null,
  acks: number,
): Promise<PartitionResult> {
  const result: PartitionResult = {
    index,
    errorCode: ErrorCode.NONE,
    baseOffset: -1,
    logStartOffset: -1,
    errorMessage: null,
  };
  const topic = await broker.topicOrCreate(topicName, true);
  if (typeof topic === "number") return { ...result, errorCode: topic };
  if (!Number.isInteger(index) || index < 0 || index >= topic.partitions) {
    return { ...result, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
  }
  if (!records || records.length === 0) {
    return {
      ...result,
      errorCode: ErrorCode.INVALID_RECORD,
      errorMessage: "The partition's records are empty",
    };
  }
  const log = topic.partition(index);
  try {
    const header = validateRecordBatch(records, 0);
    if (header.isTransactional || header.isControl) {
      return {
        ...result,
        errorCode: ErrorCode.INVALID_RECORD,
        errorMessage: "Transactions are not supported by reel serve",
      };
    }
    // The partition's producer state answers an idempotent producer's retry with the original
    // offsets, and refuses a sequence gap or an old epoch (ProducerSequenceError).
    const pending = log.append(records, false); // checked above
    if (acks === 0) pending.catch((err) => broker.errorCode(err, `append to "${topicName}-${index}"`));
    const info = await pending;
    return { ...result, baseOffset: info.baseOffset, logStartOffset: log.logStartOffset };
  } catch (err) {
    const code = broker.errorCode(err, `append to "${topicName}-${index}"`);
    return { ...result, errorCode: code, errorMessage: err instanceof Error ? err.message : null };
  }
}

/**
 * The Produce handler, versions 3–11 (RecordBatch v2 only: versions 0–2 carry the older message
 * sets, which Kafka 4 no longer accepts either).
 *
 * @example Produce one record batch with acks=-1
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../../mod.ts";
 * import { localRequestContext } from "../local_request.ts";
 * import { encodeRecordBatch } from "../../record/record_batch_encoder.ts";
 * import { produceHandler } from "./produce.ts";
 * const log = await open(Deno.makeTempDirSync());
 * const topic = await log.createTopic("t");
 * await topic.append([{ value: "first" }]);
 * const records = encodeRecordBatch([{ value: new TextEncoder().encode("a") }, { value: new TextEncoder().encode("b") }]);
 * const context = localRequestContext(log, 0, 9);
 * const response = await produceHandler.handle({
 *   transactionalId: null, acks: -1, timeoutMs: 1000,
 *   topicData: [{ name: "t", partitionData: [{ index: 0, records }] }],
 * }, context) as { responses: { partitionResponses: { errorCode: number; baseOffset: number }[] }[] };
 * assert.deepEqual(response.responses[0].partitionResponses[0].errorCode, 0);
 * assert.equal(response.responses[0].partitionResponses[0].baseOffset, 1);
 * assert.equal(topic.describe()[0].logEndOffset, 3);
 * await log.close();
 * ```
 */
export const produceHandler: ApiHandler = {
  apiKey: 0,
  minVersion: 3,
  maxVersion: 11,
  async handle(request, { broker }) {
    const req = request as unknown as ProduceRequest;
    const acks = req.acks;
    const validAcks = acks === 0 || acks === 1 || acks === -1;
    const responses = await Promise.all(req.topicData.map(async (t) => ({
      name: t.name,
      partitionResponses: await Promise.all(
        t.partitionData.map((p) =>
          validAcks ? producePartition(broker, t.name, p.index, p.records, acks) : {
            index: p.index,
            errorCode: ErrorCode.INVALID_REQUIRED_ACKS,
            baseOffset: -1,
            logStartOffset: -1,
            errorMessage: null,
          }
        ),
      ),
    })));
    if (acks === 0) return undefined;
    const response: Message = { responses, throttleTimeMs: 0 };
    return response;
  },
};
