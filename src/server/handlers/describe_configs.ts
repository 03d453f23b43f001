/**
 * DescribeConfigs (key 32): a topic's configs, as Kafka names them, and the broker's own
 * (`DescribeConfigsRequest.json`, `DescribeConfigsResponse.json`; KIP-133, KIP-226 sources).
 *
 * ```
 * DescribeConfigs Request  => resources [resource_type int8, resource_name, configuration_keys [string] (null = all)],
 *                             include_synonyms (v1+), include_documentation (v3+)
 * DescribeConfigs Response => throttle_time_ms, results [error_code, error_message, resource_type, resource_name,
 *                             configs [name, value, read_only, is_default (v0), config_source (v1+), is_sensitive,
 *                                      synonyms (v1+), config_type (v3+), documentation (v3+)]]
 * ```
 * Resource types: 2 topic, 4 broker (Kafka's `ConfigResource.Type`). Config sources: 1 a topic's
 * own setting, 4 the broker's start-up setting, 5 the default.
 *
 * @module
 */
import { DEFAULT_LOG_CONFIG } from "../../log/log_config.ts";
import { type ApiHandler, type BrokerContext, ErrorCode } from "../broker_context.ts";
import type { Message } from "../protocol/message_codec.ts";
import { logConfigToKafka } from "../topic_configs.ts";

interface DescribeConfigsRequest {
  resources: { resourceType: number; resourceName: string; configurationKeys: string[] | null }[];
}

const TOPIC = 2;
const BROKER = 4;

function brokerConfigs(broker: BrokerContext): { name: string; value: string }[] {
  const c = broker.config;
  return [
    { name: "advertised.listeners", value: `PLAINTEXT://${c.advertisedHost}:${c.advertisedPort}` },
    { name: "auto.create.topics.enable", value: String(c.autoCreateTopics) },
    { name: "group.initial.rebalance.delay.ms", value: String(broker.groups.initialRebalanceDelayMs) },
    { name: "group.max.session.timeout.ms", value: String(broker.groups.maxSessionTimeoutMs) },
    { name: "group.min.session.timeout.ms", value: String(broker.groups.minSessionTimeoutMs) },
    { name: "log.dirs", value: broker.log.dir },
    { name: "node.id", value: String(c.nodeId) },
    { name: "num.partitions", value: String(c.numPartitions) },
    { name: "socket.request.max.bytes", value: String(c.maxRequestBytes) },
  ];
}

/**
 * The DescribeConfigs handler, versions 0–4.
 *
 * @example A topic's retention.ms as Kafka names it
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../../mod.ts";
 * import { localRequestContext } from "../local_request.ts";
 * import { describeConfigsHandler } from "./describe_configs.ts";
 * const log = await open(Deno.makeTempDirSync());
 * await log.createTopic("t", { config: { retentionMs: 3_600_000 } });
 * const context = localRequestContext(log, 32, 4);
 * const response = await describeConfigsHandler.handle({
 *   resources: [{ resourceType: 2, resourceName: "t", configurationKeys: ["retention.ms"] }],
 *   includeSynonyms: false, includeDocumentation: false,
 * }, context) as { results: { errorCode: number; configs: { name: string; value: string }[] }[] };
 * assert.equal(response.results[0].errorCode, 0);
 * assert.deepEqual(response.results[0].configs.map((c) => [c.name, c.value]), [["retention.ms", "3600000"]]);
 * await log.close();
 * ```
 */
export const describeConfigsHandler: ApiHandler = {
  apiKey: 32,
  minVersion: 0,
  maxVersion: 4,
  handle(request, { broker }) {
    const req = request as unknown as DescribeConfigsRequest;
    const defaults = new Map(logConfigToKafka(DEFAULT_LOG_CONFIG).map((c) => [c.name, c.value]));
    const results = req.resources.map((r): Message => {
      const result = {
        errorCode: ErrorCode.NONE as number,
        errorMessage: null as string | null,
        ...r,
        configs: [] as Message[],
      };
      let configs: { name: string; value: string; source: number }[];
      if (r.resourceType === TOPIC) {
        if (!broker.log.hasTopic(r.resourceName)) {
          return {
            ...result,
            errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            errorMessage: `Unknown topic ${r.resourceName}`,
          };
        }
        configs = logConfigToKafka(broker.log.topic(r.resourceName).config).map((c) => ({
          ...c,
          source: defaults.get(c.name) === c.value ? 5 : 1,
        }));
      } else if (
        r.resourceType === BROKER &&
        (r.resourceName === "" || r.resourceName === String(broker.config.nodeId))
      ) {
        configs = brokerConfigs(broker).map((c) => ({ ...c, source: 4 }));
      } else {
        return {
          ...result,
          errorCode: ErrorCode.INVALID_REQUEST,
          errorMessage: `Unsupported resource ${r.resourceType} ${r.resourceName}`,
        };
      }
      const keys = r.configurationKeys === null ? null : new Set(r.configurationKeys);
      result.configs = configs.filter((c) => keys === null || keys.has(c.name)).map((c) => ({
        name: c.name,
        value: c.value,
        readOnly: r.resourceType === BROKER,
        isDefault: c.source === 5,
        configSource: c.source,
        isSensitive: false,
        synonyms: [],
        configType: 0,
        documentation: null,
      }));
      return result;
    });
    return { throttleTimeMs: 0, results };
  },
};
