/**
 * Answering Kafka requests in the same process, without a socket: a {@linkcode RequestContext}
 * over an open log directory, for embedding one handler in another server and for showing what
 * each handler answers.
 *
 * @module
 */
import type { LogDirectory } from "../topic/log_directory.ts";
import { type BrokerConfig, BrokerContext, type RequestContext } from "./broker_context.ts";
import { GroupCoordinatorService } from "./group/group_coordinator_service.ts";

/** Options of {@linkcode localRequestContext}. */
export interface LocalRequestOptions {
  /** The broker settings to use instead of the defaults (node 0, auto-creation on, 1 partition). */
  config?: Partial<BrokerConfig>;
  /** The client ID the request header carries. @default "local" */
  clientId?: string;
  /** `group.initial.rebalance.delay.ms` of the group coordinator. @default 0 */
  initialRebalanceDelayMs?: number;
}

/**
 * A request context for calling an API handler directly: its own group coordinator and
 * producer state over `log`, a request header with the given API key and version, and a signal
 * that is never aborted. Close `context.broker.groups` when done if the requests used groups.
 *
 * @param log the open log directory the requests read and write
 * @param apiKey Kafka's API key of the request (e.g. 3 for Metadata)
 * @param version the request's API version; the handler answers in the same version
 * @param options broker settings and the client ID
 * @returns the context to pass to `handler.handle(request, context)`
 * @example Ask Metadata for every topic without a socket
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../mod.ts";
 * import { localRequestContext } from "./local_request.ts";
 * import { metadataHandler } from "./handlers/metadata.ts";
 * const log = await open(Deno.makeTempDirSync());
 * await log.createTopic("t", { partitions: 2 });
 * const context = localRequestContext(log, 3, 12);
 * const response = await metadataHandler.handle({ topics: null, allowAutoTopicCreation: false }, context) as {
 *   topics: { name: string; partitions: unknown[] }[];
 * };
 * assert.deepEqual(response.topics.map((t) => [t.name, t.partitions.length]), [["t", 2]]);
 * await log.close();
 * ```
 */
export function localRequestContext(
  log: LogDirectory,
  apiKey: number,
  version: number,
  options: LocalRequestOptions = {},
): RequestContext {
  const config: BrokerConfig = {
    nodeId: 0,
    advertisedHost: "127.0.0.1",
    advertisedPort: 9092,
    clusterId: "AAAAAAAAAAAAAAAAAAAAAA",
    autoCreateTopics: true,
    numPartitions: 1,
    maxRequestBytes: 100 * 1024 * 1024,
    ...options.config,
  };
  const groups = new GroupCoordinatorService(log, {
    initialRebalanceDelayMs: options.initialRebalanceDelayMs ?? 0,
  });
  const broker = new BrokerContext(log, config, groups, () => {});
  return {
    header: {
      requestApiKey: apiKey,
      requestApiVersion: version,
      correlationId: 0,
      clientId: options.clientId ?? "local",
    },
    version,
    broker,
    signal: new AbortController().signal,
    clientHost: "/127.0.0.1",
    session: { authenticated: true },
  };
}
