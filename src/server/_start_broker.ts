/**
 * The broker behind {@linkcode serve}: the Kafka protocol, the request handlers and the group
 * coordinator. `serve()` loads this module on its first call, so that a program that only reads and
 * writes logs does not load (and hold in memory) the broker it never starts.
 *
 * @module
 */
import process from "node:process";
import { SaslAuthenticationError } from "../errors.ts";
import { listen } from "../runtime/socket.ts";
import type { LogDirectory } from "../topic/log_directory.ts";
import {
  type ApiHandler,
  type BrokerConfig,
  BrokerContext,
  type ConnectionSession,
  type RequestContext,
} from "./broker_context.ts";
import { Connection, type Outcome } from "./connection.ts";
import { apiVersionsHandler, unsupportedApiVersionsResponse } from "./handlers/api_versions.ts";
import { createTopicsHandler } from "./handlers/create_topics.ts";
import { deleteGroupsHandler } from "./handlers/delete_groups.ts";
import { deleteTopicsHandler } from "./handlers/delete_topics.ts";
import { fetchHandler } from "./handlers/fetch.ts";
import { listOffsetsHandler } from "./handlers/list_offsets.ts";
import { metadataHandler } from "./handlers/metadata.ts";
import { produceHandler } from "./handlers/produce.ts";
import { describeGroupsHandler } from "./handlers/describe_groups.ts";
import { findCoordinatorHandler } from "./handlers/find_coordinator.ts";
import { heartbeatHandler } from "./handlers/heartbeat.ts";
import { joinGroupHandler } from "./handlers/join_group.ts";
import { leaveGroupHandler } from "./handlers/leave_group.ts";
import { listGroupsHandler } from "./handlers/list_groups.ts";
import { offsetCommitHandler } from "./handlers/offset_commit.ts";
import { offsetFetchHandler } from "./handlers/offset_fetch.ts";
import { syncGroupHandler } from "./handlers/sync_group.ts";
import { GroupCoordinatorService } from "./group/group_coordinator_service.ts";
import { initProducerIdHandler } from "./handlers/init_producer_id.ts";
import { describeClusterHandler } from "./handlers/describe_cluster.ts";
import { describeConfigsHandler } from "./handlers/describe_configs.ts";
import { describeLogDirsHandler } from "./handlers/describe_log_dirs.ts";
import { offsetForLeaderEpochHandler } from "./handlers/offset_for_leader_epoch.ts";
import { saslAuthenticateHandler } from "./handlers/sasl_authenticate.ts";
import { saslHandshakeHandler } from "./handlers/sasl_handshake.ts";
import { createPartitionsHandler } from "./handlers/create_partitions.ts";
import { deleteRecordsHandler } from "./handlers/delete_records.ts";
import { incrementalAlterConfigsHandler } from "./handlers/incremental_alter_configs.ts";
import { SaslAuthenticator } from "./sasl/sasl_exchange.ts";
import { ByteReader, uuidToString } from "./protocol/byte_reader.ts";
import {
  API_VERSIONS_KEY,
  encodeResponse,
  readRequestBody,
  readRequestHeader,
} from "./protocol/request_header.ts";
import type { Broker, ServeOptions } from "./broker.ts";

/** The APIs served besides ApiVersions. */
const HANDLERS: readonly ApiHandler[] = [
  produceHandler,
  fetchHandler,
  listOffsetsHandler,
  metadataHandler,
  createTopicsHandler,
  deleteTopicsHandler,
  findCoordinatorHandler,
  joinGroupHandler,
  syncGroupHandler,
  heartbeatHandler,
  leaveGroupHandler,
  offsetCommitHandler,
  offsetFetchHandler,
  listGroupsHandler,
  describeGroupsHandler,
  initProducerIdHandler,
  offsetForLeaderEpochHandler,
  describeConfigsHandler,
  describeClusterHandler,
  describeLogDirsHandler,
  deleteGroupsHandler,
  createPartitionsHandler,
  deleteRecordsHandler,
  incrementalAlterConfigsHandler,
  saslHandshakeHandler,
  saslAuthenticateHandler,
];

/** What a client may send before it has authenticated: ApiVersions, SaslHandshake, SaslAuthenticate. */
const BEFORE_AUTHENTICATION = new Set([
  API_VERSIONS_KEY,
  saslHandshakeHandler.apiKey,
  saslAuthenticateHandler.apiKey,
]);

/**
 * One SASL token after SaslHandshake v0: the frame is the token itself, and so is the answer
 * (size-prefixed, no response header). A failed step closes the connection without an answer,
 * as Kafka's broker does for this old framing.
 */
async function bareSaslToken(token: Uint8Array, session: ConnectionSession): Promise<Outcome> {
  try {
    const { response, principal } = await session.sasl!.step(token);
    if (principal !== undefined) {
      session.principal = principal;
      session.authenticated = true;
      session.sasl = undefined;
      session.bareSaslTokens = false;
    }
    const size = new Uint8Array(4);
    new DataView(size.buffer).setInt32(0, response.length);
    return [size, response];
  } catch (err) {
    if (err instanceof SaslAuthenticationError) return { close: err.message };
    throw err;
  }
}

/** A cluster ID for a log directory: stable for its path, in Kafka's 22-character form. */
function clusterIdFor(dir: string): string {
  const bytes = new Uint8Array(16);
  let h = 0x811c9dc5;
  for (let i = 0; i < 64; i++) {
    h = Math.imul(h ^ (dir.charCodeAt(i % Math.max(1, dir.length)) + i), 0x01000193) >>> 0;
    bytes[i % 16] ^= h & 0xff;
  }
  bytes[0] &= 0x7f; // never a leading "-", which Kafka's tools would take for an option (as Uuid.randomUuid())
  return uuidToString(bytes);
}

/**
 * What {@linkcode serve} does, loaded on its first call: see there.
 *
 * @param log the open log directory to serve
 * @param options where to listen and the broker's settings
 * @returns the running broker, once it listens
 * @example Serve a log directory on a free port
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../mod.ts";
 * import { startBroker } from "./_start_broker.ts";
 * const broker = await startBroker(await open(Deno.makeTempDirSync()), { port: 0 });
 * assert.equal(broker.hostname, "127.0.0.1");
 * await broker.close();
 * ```
 */
export async function startBroker(log: LogDirectory, options: ServeOptions): Promise<Broker> {
  const nodeId = options.nodeId ?? 0;
  const numPartitions = options.numPartitions ?? 1;
  const maxRequestBytes = options.maxRequestBytes ?? 104_857_600;
  if (!Number.isInteger(nodeId) || nodeId < 0) {
    throw new RangeError(`Invalid node ID ${nodeId}: expected a whole number`);
  }
  if (!Number.isInteger(numPartitions) || numPartitions < 1) {
    throw new RangeError(`Invalid numPartitions ${numPartitions}: expected a whole number from 1`);
  }
  if (!Number.isInteger(maxRequestBytes) || maxRequestBytes < 8) {
    throw new RangeError(`Invalid maxRequestBytes ${maxRequestBytes}: expected a whole number from 8`);
  }
  const logLine = options.logLine ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const connections = new Set<Connection>();
  const shutdown = new AbortController();
  const config: BrokerConfig = {
    nodeId,
    advertisedHost: options.advertisedHost ?? "",
    advertisedPort: options.advertisedPort ?? -1,
    clusterId: clusterIdFor(log.dir),
    autoCreateTopics: options.autoCreateTopics ?? true,
    numPartitions,
    maxRequestBytes,
  };
  const groups = new GroupCoordinatorService(log, {
    initialRebalanceDelayMs: options.groupInitialRebalanceDelayMs,
    minSessionTimeoutMs: options.groupMinSessionTimeoutMs,
  }, logLine);
  const sasl = options.sasl && await SaslAuthenticator.create(options.sasl.users, options.sasl.mechanisms);
  const context = new BrokerContext(log, config, groups, logLine, sasl);
  const handlers = new Map<number, ApiHandler>();
  for (const h of [apiVersionsHandler(() => HANDLERS), ...HANDLERS]) handlers.set(h.apiKey, h);

  const dispatch = async (
    request: Uint8Array,
    remote: string,
    session: ConnectionSession,
  ): Promise<Outcome> => {
    if (session.bareSaslTokens && session.sasl) return await bareSaslToken(request, session);
    const reader = new ByteReader(request);
    let parsed;
    try {
      parsed = readRequestHeader(reader);
    } catch (err) {
      return { close: (err as Error).message };
    }
    const { header } = parsed;
    const { requestApiKey: apiKey, requestApiVersion: version, correlationId } = header;
    const handler = handlers.get(apiKey);
    if (!handler || !parsed.known || version < handler.minVersion || version > handler.maxVersion) {
      if (apiKey === API_VERSIONS_KEY) {
        return encodeResponse(API_VERSIONS_KEY, 0, correlationId, unsupportedApiVersionsResponse());
      }
      return { close: `unsupported API key ${apiKey} version ${version}` };
    }
    if (!session.authenticated && !BEFORE_AUTHENTICATION.has(apiKey)) {
      return { close: `unexpected request of API key ${apiKey} before SASL authentication` };
    }
    let body;
    try {
      body = readRequestBody(reader, header);
    } catch (err) {
      return { close: (err as Error).message };
    }
    const requestContext: RequestContext = {
      header,
      version,
      broker: context,
      signal: shutdown.signal,
      clientHost: `/${remote.slice(0, remote.lastIndexOf(":"))}`,
      session,
    };
    const response = await handler.handle(body, requestContext);
    if (response === undefined) return undefined;
    const chunks = encodeResponse(apiKey, version, correlationId, response);
    if (session.closeAfterResponse !== undefined) return { close: session.closeAfterResponse, last: chunks };
    return chunks;
  };

  const listener = await listen(
    { hostname: options.hostname ?? "127.0.0.1", port: options.port ?? 9092, tls: options.tls },
    (socket) => {
      const session: ConnectionSession = { authenticated: sasl === undefined };
      const connection = new Connection(
        socket,
        (request, remote) => dispatch(request, remote, session),
        maxRequestBytes,
        logLine,
      );
      if (shutdown.signal.aborted) {
        queueMicrotask(() => connection.close());
      } else {
        connections.add(connection);
        connection.onClose(() => connections.delete(connection));
      }
      return connection.events;
    },
  );
  // The bound address is known only now (port 0 lets the system choose).
  if (options.advertisedHost === undefined) config.advertisedHost = listener.hostname;
  if (options.advertisedPort === undefined) config.advertisedPort = listener.port;

  let closing: Promise<void> | undefined;
  const close = () =>
    closing ??= (async () => {
      shutdown.abort();
      const stopped = listener.close();
      await groups.close(); // waiting JoinGroup and SyncGroup requests answer now
      await Promise.all([...connections].map((c) => c.idle()));
      for (const c of connections) c.close();
      await stopped;
      await log.close();
    })();
  options.signal?.addEventListener("abort", () => void close(), { once: true });
  if (options.signal?.aborted) await close();
  return {
    hostname: listener.hostname,
    port: listener.port,
    address: `${
      listener.hostname.includes(":") ? `[${listener.hostname}]` : listener.hostname
    }:${listener.port}`,
    close,
  };
}
