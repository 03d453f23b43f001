/**
 * `serve()`: a Kafka broker over an open log directory. One node: it is the controller, the
 * leader of every partition and the coordinator of every group, and speaks Kafka's wire protocol
 * (Kafka `docs/protocol.html`) so that standard Kafka clients can produce to and consume from
 * reel's topics.
 *
 * @module
 */
import type { LogDirectory } from "../topic/log_directory.ts";

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
  // Loaded here, not at import: a program that never serves does not load the Kafka protocol.
  const { startBroker } = await import("./_start_broker.ts");
  return await startBroker(log, options);
}
