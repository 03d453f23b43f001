/**
 * DeleteTopics (key 20): deletes topics and all their records, by name or (v6+) by topic ID
 * (`DeleteTopicsRequest.json`, `DeleteTopicsResponse.json`).
 *
 * ```
 * DeleteTopics Request  => topic_names [string] (v0-5) | topics [name, topic_id] (v6+), timeout_ms int32
 * DeleteTopics Response => throttle_time_ms (v1+), responses [name, topic_id (v6+), error_code, error_message (v5+)]
 * ```
 *
 * @module
 */
import { type ApiHandler, ErrorCode } from "../broker_context.ts";
import type { Message } from "../protocol/message_codec.ts";
import { ZERO_UUID } from "../protocol/byte_reader.ts";
import { topicIdOf } from "./metadata.ts";

interface DeleteTopicsRequest {
  topicNames: string[];
  topics: { name: string | null; topicId: string }[];
}

/**
 * The DeleteTopics handler, versions 0–6.
 *
 * @example Delete a topic by name (v5)
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../../mod.ts";
 * import { localRequestContext } from "../local_request.ts";
 * import { deleteTopicsHandler } from "./delete_topics.ts";
 * const log = await open(Deno.makeTempDirSync());
 * await log.createTopic("old");
 * const context = localRequestContext(log, 20, 5);
 * const response = await deleteTopicsHandler.handle({ topicNames: ["old", "never"], timeoutMs: 1000 }, context) as {
 *   responses: { name: string; errorCode: number }[];
 * };
 * assert.deepEqual(response.responses.map((r) => [r.name, r.errorCode]), [["old", 0], ["never", 3]]);
 * assert.equal(log.hasTopic("old"), false);
 * await log.close();
 * ```
 */
export const deleteTopicsHandler: ApiHandler = {
  apiKey: 20,
  minVersion: 0,
  maxVersion: 6,
  async handle(request, { broker, version }) {
    const req = request as unknown as DeleteTopicsRequest;
    const log = broker.log;
    const asked = version >= 6 ? req.topics : req.topicNames.map((name) => ({ name, topicId: ZERO_UUID }));
    const responses: Message[] = [];
    for (const { name, topicId } of asked) {
      let topicName = name;
      if (topicName === null) {
        topicName = log.topics().find((n) => topicIdOf(log.topic(n)) === topicId) ?? null;
        if (topicName === null || topicId === ZERO_UUID) {
          responses.push({ name: null, topicId, errorCode: ErrorCode.UNKNOWN_TOPIC_ID, errorMessage: null });
          continue;
        }
      }
      if (!log.hasTopic(topicName)) {
        responses.push({ name: topicName, topicId, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION });
        continue;
      }
      const id = topicIdOf(log.topic(topicName));
      try {
        await log.deleteTopic(topicName);
        responses.push({ name: topicName, topicId: id, errorCode: ErrorCode.NONE, errorMessage: null });
      } catch (err) {
        const errorCode = broker.errorCode(err, `delete topic "${topicName}"`);
        responses.push({ name: topicName, topicId: id, errorCode, errorMessage: (err as Error).message });
      }
    }
    return { throttleTimeMs: 0, responses };
  },
};
