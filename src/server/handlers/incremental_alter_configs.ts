/**
 * IncrementalAlterConfigs (key 44): sets or resets topic configs
 * (`IncrementalAlterConfigsRequest.json`, `IncrementalAlterConfigsResponse.json`; KIP-339),
 * through `LogDirectory.alterTopicConfig`.
 *
 * ```
 * IncrementalAlterConfigs Request  => resources [resource_type int8, resource_name,
 *                                     configs [name, config_operation int8, value]], validate_only
 * IncrementalAlterConfigs Response => throttle_time_ms, responses [error_code, error_message,
 *                                     resource_type, resource_name]
 * ```
 *
 * Operations: 0 SET, 1 DELETE (back to the default); APPEND (2) and SUBTRACT (3) apply to list
 * configs, of which reel keeps none: INVALID_CONFIG. Only topics (resource type 2) have configs
 * to change here; a broker resource (4) is answered INVALID_REQUEST. Kafka config names map to
 * reel's as in DescribeConfigs (`topic_configs.ts`); a change is checked whole, so one bad config
 * leaves the topic as it was.
 *
 * @module
 */
import { type ApiHandler, ErrorCode } from "../broker_context.ts";
import type { Message } from "../protocol/message_codec.ts";
import type { LogConfig } from "../../log/log_config.ts";
import { logConfigFromKafka, logConfigKeysOf } from "../topic_configs.ts";

/** Kafka's `ConfigResource.Type`: a topic. */
const TOPIC_RESOURCE = 2;

interface IncrementalAlterConfigsRequest {
  resources: {
    resourceType: number;
    resourceName: string;
    configs: { name: string; configOperation: number; value: string | null }[];
  }[];
  validateOnly: boolean;
}

/**
 * Turns one resource's config operations into `alterTopicConfig` changes.
 *
 * @returns the changes, or the first problem as text
 */
function changesOf(
  configs: IncrementalAlterConfigsRequest["resources"][number]["configs"],
): { [K in keyof LogConfig]?: LogConfig[K] | null } | string {
  const changes: Record<string, unknown> = {};
  for (const { name, configOperation, value } of configs) {
    const keys = logConfigKeysOf(name);
    if (keys === undefined) return `Unknown or unsupported topic config ${name}`;
    if (configOperation === 1) {
      for (const key of keys) changes[key] = null;
    } else if (configOperation === 0) {
      const set = logConfigFromKafka([{ name, value }]);
      if (typeof set === "string") return set;
      Object.assign(changes, set);
    } else {
      return `Cannot apply operation ${configOperation} to ${name}: it is not a list config`;
    }
  }
  return changes as { [K in keyof LogConfig]?: LogConfig[K] | null };
}

/**
 * The IncrementalAlterConfigs handler, versions 0–1.
 *
 * @example Set a topic's retention.ms, and refuse an unknown config
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../../mod.ts";
 * import { localRequestContext } from "../local_request.ts";
 * import { incrementalAlterConfigsHandler } from "./incremental_alter_configs.ts";
 * const log = await open(Deno.makeTempDirSync());
 * await log.createTopic("events");
 * const context = localRequestContext(log, 44, 1);
 * const response = await incrementalAlterConfigsHandler.handle({
 *   resources: [
 *     { resourceType: 2, resourceName: "events", configs: [{ name: "retention.ms", configOperation: 0, value: "60000" }] },
 *     { resourceType: 2, resourceName: "events", configs: [{ name: "colour", configOperation: 0, value: "red" }] },
 *   ],
 *   validateOnly: false,
 * }, context) as { responses: { errorCode: number }[] };
 * assert.deepEqual(response.responses.map((r) => r.errorCode), [0, 40]);
 * assert.equal(log.topic("events").config.retentionMs, 60000);
 * await log.close();
 * ```
 */
export const incrementalAlterConfigsHandler: ApiHandler = {
  apiKey: 44,
  minVersion: 0,
  maxVersion: 1,
  async handle(request, { broker }) {
    const req = request as unknown as IncrementalAlterConfigsRequest;
    const responses: Message[] = [];
    for (const { resourceType, resourceName, configs } of req.resources) {
      const answer = (errorCode: number, errorMessage: string | null) =>
        responses.push({ errorCode, errorMessage, resourceType, resourceName });
      if (resourceType !== TOPIC_RESOURCE) {
        answer(
          ErrorCode.INVALID_REQUEST,
          `reel changes topic configs only, not those of resource type ${resourceType}`,
        );
        continue;
      }
      if (!broker.log.hasTopic(resourceName)) {
        answer(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, null);
        continue;
      }
      const changes = changesOf(configs);
      if (typeof changes === "string") {
        answer(ErrorCode.INVALID_CONFIG, changes);
        continue;
      }
      try {
        await broker.log.alterTopicConfig(resourceName, changes, { validateOnly: req.validateOnly });
        answer(ErrorCode.NONE, null);
      } catch (err) {
        answer(broker.errorCode(err, `change the config of topic "${resourceName}"`), (err as Error).message);
      }
    }
    return { throttleTimeMs: 0, responses };
  },
};
