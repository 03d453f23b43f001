/**
 * `serve()`: a Kafka broker over an open log directory. One node: it is the controller, the
 * leader of every partition and the coordinator of every group, and speaks Kafka's wire protocol
 * (Kafka `docs/protocol.html`) so that standard Kafka clients can produce to and consume from
 * reel's topics.
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

/** Options of {@linkcode serve}. */
export interface ServeOptions {
  /** The address to listen on; never all interfaces unless asked (`"0.0.0.0"`). @default "127.0.0.1" */
  hostname?: string;
  /** The port to listen on; 0 lets the system choose. @default 9092 */
  port?: number;
  /** Aborting it closes the broker, as `close()` does. */
  signal?: AbortSignal;
  /** The host clients are told to connect to (Kafka's `advertised.listeners`). @default the bound address */
  advertisedHost?: string;
  /** The port clients are told to connect to. @default the bound port */
  advertisedPort?: number;
  /** This broker's node ID (`node.id`). @default 0 */
  nodeId?: number;
  /** Create a topic when Metadata or Produce names one that does not exist (`auto.create.topics.enable`). @default true */
  autoCreateTopics?: boolean;
  /** Partitions of an auto-created topic, and of CreateTopics with -1 (`num.partitions`). @default 1 */
  numPartitions?: number;
  /** The largest request accepted, bytes (`socket.request.max.bytes`). @default 104857600 */
  maxRequestBytes?: number;
  /** How long the first rebalance of an empty group waits for more members, ms (`group.initial.rebalance.delay.ms`). @default 3000 */
  groupInitialRebalanceDelayMs?: number;
  /** The shortest session timeout a member may ask for, ms (`group.min.session.timeout.ms`). @default 6000 */
  groupMinSessionTimeoutMs?: number;
  /** Where the broker writes its log lines (one per connection error). @default a line on stderr */
  logLine?: (line: string) => void;
  /**
   * Serve over TLS (Kafka's `SSL` and `SASL_SSL` listeners): the certificate chain and private key,
   * PEM. Clients check the certificate against the name they connect to.
   */
  tls?: { cert: string | Uint8Array; key: string | Uint8Array };
  /**
   * SASL authentication (Kafka's `SASL_PLAINTEXT` and `SASL_SSL` listeners): each user's password
   * and the mechanisms offered (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512; all three by default). Until
   * a connection has authenticated, the broker answers only ApiVersions, SaslHandshake and
   * SaslAuthenticate and closes it on any other request.
   */
  sasl?: { users: Readonly<Record<string, string>>; mechanisms?: readonly string[] };
}

/** A running broker, as {@linkcode serve} returns it. */
export interface Broker {
  /** The address it listens on. */
  readonly hostname: string;
  /** The port it listens on. */
  readonly port: number;
  /** `host:port` to give clients as their bootstrap server. */
  readonly address: string;
  /**
   * Stops accepting connections, answers the requests in flight (long polls answer at once),
   * closes every connection, then closes the log directory cleanly. Calling it again waits for the
   * same close.
   */
  close(): Promise<void>;
}

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

/** A cluster ID for a log directory: stable for its path, in Kafka's 22-character form. */
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
 * Starts a Kafka broker over `log`: listens on `hostname:port` and answers Kafka clients'
 * requests (ApiVersions, Metadata, Produce, Fetch, ListOffsets, CreateTopics, DeleteTopics, and the
 * classic consumer group APIs: FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup,
 * OffsetCommit, OffsetFetch, ListGroups, DescribeGroups).
 * The broker owns the log directory from now on: `close()` closes it.
 *
 * @param log the open log directory to serve
 * @param options where to listen and the broker's settings
 * @returns the running broker, once it listens
 * @throws {Error} when the address cannot be bound (`EADDRINUSE`, …)
 * @throws {RangeError} for a bad option
 * @example Produce and consume through the broker's own protocol
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../mod.ts";
 * import { serve } from "./broker.ts";
 * const log = await open(Deno.makeTempDirSync());
 * const broker = await serve(log, { hostname: "127.0.0.1", port: 0 });
 * assert.equal(broker.address, `127.0.0.1:${broker.port}`);
 * await broker.close();
 * assert.equal(log.closed, true);
 * ```
 */
export async function serve(log: LogDirectory, options: ServeOptions = {}): Promise<Broker> {
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
