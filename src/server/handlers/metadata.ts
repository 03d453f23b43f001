/**
 * Metadata (key 3): the brokers (this one), the controller (this one) and the topics with their
 * partitions, each led by this broker; topics asked for and missing are auto-created when allowed
 * (`MetadataRequest.json`, `MetadataResponse.json`).
 *
 * ```
 * Metadata Request  => topics [topic_id uuid (v10+), name NULLABLE_STRING] (null = all, v1+),
 *                      allow_auto_topic_creation bool (v4+), include_*_authorized_operations bool (v8+)
 * Metadata Response => throttle_time_ms (v3+), brokers [node_id, host, port, rack (v1+)],
 *                      cluster_id (v2+), controller_id (v1+),
 *                      topics [error_code, name, topic_id (v10+), is_internal (v1+),
 *                              partitions [error_code, partition_index, leader_id, leader_epoch (v7+),
 *                                          replica_nodes, isr_nodes, offline_replicas (v5+)]]
 * ```
 *
 * @module
 */
import type { Topic } from "../../topic/topic.ts";
import { type ApiHandler, type BrokerContext, ErrorCode } from "../broker_context.ts";
import { ZERO_UUID } from "../protocol/byte_reader.ts";
import type { Message } from "../protocol/message_codec.ts";

interface MetadataRequest {
  topics: { topicId: string; name: string | null }[] | null;
  allowAutoTopicCreation: boolean;
}

/**
 * The topic ID Metadata, Fetch and DeleteTopics report for a topic (KIP-516): the one stored with
 * it, or the zero UUID (none) for a topic created before reel recorded IDs.
 *
 * @param topic the topic
 * @returns the ID as Kafka prints it
 * @example A topic's ID as Metadata reports it
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../../mod.ts";
 * import { topicIdOf } from "./metadata.ts";
 * const log = await open(Deno.makeTempDirSync());
 * const topic = await log.createTopic("t");
 * assert.equal(topicIdOf(topic), topic.topicId);
 * await log.close();
 * ```
 */
export function topicIdOf(topic: Topic): string {
  return topic.topicId ?? ZERO_UUID;
}

function describeTopic(context: BrokerContext, topic: Topic): Message {
  const nodeId = context.config.nodeId;
  return {
    errorCode: ErrorCode.NONE,
    name: topic.name,
    topicId: topicIdOf(topic),
    isInternal: false,
    partitions: Array.from({ length: topic.partitions }, (_, p) => ({
      errorCode: ErrorCode.NONE,
      partitionIndex: p,
      leaderId: nodeId,
      leaderEpoch: 0,
      replicaNodes: [nodeId],
      isrNodes: [nodeId],
      offlineReplicas: [],
    })),
  };
}

/**
 * The Metadata handler, versions 0–12. Version 0 asks for every topic with an empty list; from
 * version 1 null means every topic and [] none.
 *
 * @example Metadata auto-creates a topic the request names
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../../mod.ts";
 * import { localRequestContext } from "../local_request.ts";
 * import { metadataHandler } from "./metadata.ts";
 * const log = await open(Deno.makeTempDirSync());
 * const context = localRequestContext(log, 3, 9, { config: { numPartitions: 2 } });
 * const response = await metadataHandler.handle({ topics: [{ name: "new-topic" }], allowAutoTopicCreation: true }, context) as {
 *   brokers: { nodeId: number }[]; topics: { name: string; errorCode: number; partitions: { leaderId: number }[] }[];
 * };
 * assert.deepEqual(response.brokers.map((b) => b.nodeId), [0]);
 * assert.equal(response.topics[0].name, "new-topic");
 * assert.deepEqual(response.topics[0].partitions.map((p) => p.leaderId), [0, 0]);
 * assert.ok(log.hasTopic("new-topic"));
 * await log.close();
 * ```
 */
export const metadataHandler: ApiHandler = {
  apiKey: 3,
  minVersion: 0,
  maxVersion: 12,
  async handle(request, { broker, version }) {
    const req = request as unknown as MetadataRequest;
    const { log, config } = broker;
    let topics: Message[];
    const all = req.topics === null || (version === 0 && req.topics.length === 0);
    if (all) {
      topics = log.topics().map((name) => describeTopic(broker, log.topic(name)));
    } else {
      topics = [];
      for (const asked of req.topics!) {
        if (asked.name === null) {
          // By topic ID (v12+): the topic that carries it.
          const found = log.topics().map((n) => log.topic(n)).find((t) => topicIdOf(t) === asked.topicId);
          topics.push(
            found ? describeTopic(broker, found) : {
              errorCode: ErrorCode.UNKNOWN_TOPIC_ID,
              name: null,
              topicId: asked.topicId,
              partitions: [],
            },
          );
          continue;
        }
        const topic = await broker.topicOrCreate(asked.name, version < 4 || req.allowAutoTopicCreation);
        topics.push(
          typeof topic === "number"
            ? { errorCode: topic, name: asked.name, topicId: ZERO_UUID, partitions: [] }
            : describeTopic(broker, topic),
        );
      }
    }
    return {
      throttleTimeMs: 0,
      brokers: [{
        nodeId: config.nodeId,
        host: config.advertisedHost,
        port: config.advertisedPort,
        rack: null,
      }],
      clusterId: config.clusterId,
      controllerId: config.nodeId,
      topics,
    };
  },
};
