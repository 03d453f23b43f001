/**
 * What `connect()` takes (bootstrap servers, client id, SASL, TLS, timeouts), and the client
 * options every Kafka client of one connection is made with.
 *
 * @module
 */
import type { SASLOptions } from "@platformatic/kafka";
import type { ConnectionOptions as TlsConnectionOptions } from "node:tls";

/** SASL credentials (KIP-43 PLAIN, KIP-84 SCRAM). */
export interface SaslCredentials {
  /** The mechanism, as Kafka's `sasl.mechanism`. */
  mechanism: "PLAIN" | "SCRAM-SHA-256" | "SCRAM-SHA-512";
  /** The user name. */
  username: string;
  /** The password. */
  password: string;
}

/** TLS settings, as `node:tls` takes them (PEM strings or bytes). */
export interface TlsOptions {
  /** The CA certificates to trust instead of the system's. */
  ca?: string | Uint8Array | (string | Uint8Array)[];
  /** A client certificate (mutual TLS). */
  cert?: string | Uint8Array;
  /** The client certificate's key. */
  key?: string | Uint8Array;
  /** Whether the broker's certificate must verify. @default true */
  rejectUnauthorized?: boolean;
  /** The name to check the certificate against (SNI). @default the broker's host */
  servername?: string;
}

/** Options of `connect()`. */
export interface ConnectOptions {
  /** Kafka's `bootstrap.servers`: `"host:port,host:port"` or a list of `host:port`. */
  bootstrapServers: string | string[];
  /** Kafka's `client.id`. @default "reel" */
  clientId?: string;
  /** SASL authentication (`SASL_PLAINTEXT`, or `SASL_SSL` with `tls`). */
  sasl?: SaslCredentials;
  /** TLS (`SSL`): `true` for the system's CAs, or the settings. */
  tls?: boolean | TlsOptions;
  /** How long one request may take, ms (Kafka's `request.timeout.ms`). @default 30000 */
  requestTimeoutMs?: number;
  /**
   * How long a produce, fetch or admin call keeps retrying retriable errors (a leader moving,
   * a broker restarting), ms: Kafka's `delivery.timeout.ms` in spirit. @default 30000
   */
  retryTimeoutMs?: number;
}

/** The client options every client of one connection shares (@platformatic/kafka's names). */
export interface ClientOptions {
  /** Kafka's `client.id`. */
  clientId: string;
  /** The bootstrap servers, `host:port` each. */
  bootstrapBrokers: string[];
  /** SASL authentication. */
  sasl?: SASLOptions;
  /** TLS, as `node:tls` takes it. */
  tls?: TlsConnectionOptions;
  /** How long one request may take, ms. */
  requestTimeout: number;
  /** How long a connection may take, ms. */
  timeout: number;
  /** How many times a retriable error is retried. */
  retries: number;
  /** The wait between retries, ms. */
  retryDelay: number;
}

/** The wait between two tries of a retriable error, ms. */
const RETRY_DELAY_MS = 250;

/**
 * The client options of a connection made with `options`: the bootstrap servers split, Kafka's
 * defaults filled in, and `retryTimeoutMs` turned into a count of tries {@linkcode RETRY_DELAY_MS}
 * apart.
 *
 * @param options what `connect()` was given
 * @returns the options for @platformatic/kafka's `Producer`, `Admin` and `Consumer`
 * @throws {TypeError} when `bootstrapServers` names no broker
 * @example Servers split, retries counted
 * ```ts
 * import assert from "node:assert/strict";
 * import { clientOptionsFor } from "./connect_options.ts";
 * const options = clientOptionsFor({ bootstrapServers: "a:9092, b:9092", retryTimeoutMs: 1000 });
 * assert.deepEqual(options.bootstrapBrokers, ["a:9092", "b:9092"]);
 * assert.equal(options.clientId, "reel");
 * assert.equal(options.retries, 4); // 1000 ms of 250 ms waits
 * assert.equal(options.tls, undefined);
 * assert.deepEqual(clientOptionsFor({ bootstrapServers: ["a:9092"], tls: true }).tls, {});
 * assert.throws(() => clientOptionsFor({ bootstrapServers: " , " }), TypeError);
 * ```
 */
export function clientOptionsFor(options: ConnectOptions): ClientOptions {
  const servers = typeof options.bootstrapServers === "string"
    ? options.bootstrapServers.split(",").map((s) => s.trim()).filter((s) => s !== "")
    : options.bootstrapServers;
  if (servers.length === 0) throw new TypeError("Cannot connect: bootstrapServers names no broker");
  const retryTimeoutMs = options.retryTimeoutMs ?? 30_000;
  const base: ClientOptions = {
    clientId: options.clientId ?? "reel",
    bootstrapBrokers: servers,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    timeout: options.requestTimeoutMs ?? 30_000,
    retries: Math.max(1, Math.ceil(retryTimeoutMs / RETRY_DELAY_MS)),
    retryDelay: RETRY_DELAY_MS,
  };
  if (options.sasl) base.sasl = { ...options.sasl };
  if (options.tls) base.tls = options.tls === true ? {} : (options.tls as TlsConnectionOptions);
  return base;
}
