/**
 * CreateTopics (key 19): creates topics with a partition count and Kafka topic configs
 * (`CreateTopicsRequest.json`, `CreateTopicsResponse.json`).
 *
 * ```
 * CreateTopics Request  => topics [name, num_partitions int32, replication_factor int16,
 *                          assignments [partition_index, broker_ids [int32]], configs [name, value]],
 *                          timeout_ms int32, validate_only bool (v1+)
 * CreateTopics Response => throttle_time_ms (v2+), topics [name, topic_id (v7+), error_code,
 *                          error_message (v1+), num_partitions (v5+), replication_factor (v5+), configs (v5+)]
 * ```
 * `num_partitions` -1 means the broker's `num.partitions`; the replication factor must be 1 or
 * -1 (one node); manual assignments must name only this broker.
 *
 * @module
 */
import { InvalidTopicError, TopicExistsError } from "../../errors.ts";
import { type ApiHandler, ErrorCode } from "../broker_context.ts";
import type { Message } from "../protocol/message_codec.ts";
import { logConfigFromKafka, logConfigToKafka } from "../topic_configs.ts";
import { topicIdOf } from "./metadata.ts";
import { validateTopicName } from "../../runtime/log_paths.ts";
import { ZERO_UUID } from "../protocol/byte_reader.ts";

interface CreateTopicsRequest {
  topics: {
    name: string;
    numPartitions: number;
    replicationFactor: number;
    assignments: { partitionIndex: number; brokerIds: number[] }[];
    configs: { name: string; value: string | null }[];
  }[];
  validateOnly: boolean;
}

/**
 * The CreateTopics handler, versions 0–7.
 *
 * @example Create a topic of 3 partitions with a config
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../../mod.ts";
 * import { localRequestContext } from "../local_request.ts";
 * import { createTopicsHandler } from "./create_topics.ts";
 * const log = await open(Deno.makeTempDirSync());
 * const context = localRequestContext(log, 19, 7);
 * const response = await createTopicsHandler.handle({
 *   topics: [{ name: "orders", numPartitions: 3, replicationFactor: 1, assignments: [], configs: [{ name: "retention.ms", value: "60000" }] }],
 *   timeoutMs: 1000, validateOnly: false,
 * }, context) as { topics: { name: string; errorCode: number }[] };
 * assert.deepEqual(response.topics.map((t) => [t.name, t.errorCode]), [["orders", 0]]);
 * assert.equal(log.topic("orders").partitions, 3);
 * assert.equal(log.topic("orders").config.retentionMs, 60000);
 * await log.close();
 * ```
 */
export const createTopicsHandler: ApiHandler = {
  apiKey: 19,
  minVersion: 0,
  maxVersion: 7,
  async handle(request, { broker }) {
    const req = request as unknown as CreateTopicsRequest;
    const topics: Message[] = [];
    for (const t of req.topics) {
      const result = {
        name: t.name,
        topicId: ZERO_UUID,
        errorCode: ErrorCode.NONE,
        errorMessage: null as string | null,
        numPartitions: -1,
        replicationFactor: -1,
        configs: null as Message[] | null,
      };
      const fail = (errorCode: number, errorMessage: string) =>
        topics.push({ ...result, errorCode, errorMessage });
      const partitions = t.assignments.length > 0
        ? t.assignments.length
        : t.numPartitions === -1
        ? broker.config.numPartitions
        : t.numPartitions;
      if (t.assignments.length > 0 && t.numPartitions !== -1) {
        fail(ErrorCode.INVALID_REQUEST, "Both num_partitions and assignments were given");
        continue;
      }
      if (t.assignments.some((a) => a.brokerIds.some((id) => id !== broker.config.nodeId))) {
        fail(
          ErrorCode.INVALID_REPLICATION_FACTOR,
          `This cluster has one broker, node ${broker.config.nodeId}`,
        );
        continue;
      }
      if (!(partitions >= 1 && partitions <= 100_000)) {
        fail(
          ErrorCode.INVALID_PARTITIONS,
          `Invalid number of partitions ${partitions}: expected 1 to 100000`,
        );
        continue;
      }
      if (t.replicationFactor !== -1 && t.replicationFactor !== 1) {
        fail(
          ErrorCode.INVALID_REPLICATION_FACTOR,
          `Replication factor ${t.replicationFactor} is larger than the number of brokers, 1`,
        );
        continue;
      }
      const config = logConfigFromKafka(t.configs);
      if (typeof config === "string") {
        fail(ErrorCode.INVALID_CONFIG, config);
        continue;
      }
      try {
        validateTopicName(t.name);
        if (broker.log.hasTopic(t.name)) throw new TopicExistsError(t.name);
        const ok = { ...result, numPartitions: partitions, replicationFactor: 1 };
        if (req.validateOnly) {
          topics.push(ok);
          continue;
        }
        const topic = await broker.log.createTopic(t.name, { partitions, config });
        topics.push({
          ...ok,
          topicId: topicIdOf(topic),
          configs: logConfigToKafka(topic.config).map((c) => ({
            ...c,
            readOnly: false,
            configSource: 5, // DEFAULT_CONFIG
            isSensitive: false,
          })),
        });
      } catch (err) {
        if (err instanceof TopicExistsError) fail(ErrorCode.TOPIC_ALREADY_EXISTS, err.message);
        else if (err instanceof InvalidTopicError) fail(ErrorCode.INVALID_TOPIC_EXCEPTION, err.message);
        else if (err instanceof RangeError || err instanceof TypeError) {
          fail(ErrorCode.INVALID_CONFIG, err.message);
        } else fail(broker.errorCode(err, `create topic "${t.name}"`), (err as Error).message);
      }
    }
    return { throttleTimeMs: 0, topics };
  },
};
