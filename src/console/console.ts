/**
 * `console(log, options)`: starts the web console over an open log directory on Deno, Bun or Node.
 *
 * @module
 */
import type { LogDirectory } from "../topic/log_directory.ts";
import { type HttpServer, serveHttp } from "../runtime/http_server.ts";
import { consoleHandler } from "./console_handler.ts";
import { LagHistory } from "./lag_history.ts";

/** Options of {@linkcode console}. */
export interface ConsoleOptions {
  /**
   * The address to listen on: loopback unless told otherwise.
   * @default "127.0.0.1"
   */
  hostname?: string;
  /**
   * The TCP port; 0 picks a free one.
   * @default 8080
   */
  port?: number;
  /** An access token every request must carry (`?token=` or `Authorization: Bearer`). */
  token?: string;
  /**
   * Serve the produce form and take its POSTs (each with the console's CSRF token). Producing
   * takes the partitions' writer locks; without it the console only reads.
   * @default false
   */
  allowProduce?: boolean;
  /**
   * How often the console samples every consumer group's total lag for the groups' charts (ms).
   * @default 5000
   */
  lagSampleMs?: number;
  /**
   * How long the console keeps those samples (ms): at most `lagHistoryMs / lagSampleMs` a group.
   * @default 3600000
   */
  lagHistoryMs?: number;
  /** Stops the console when aborted. */
  signal?: AbortSignal;
}

/**
 * Starts the web console: HTML pages over the log directory, served by the runtime's own HTTP
 * server. It reads the log as any reader process does and never takes a writer lock. While it
 * runs it samples each consumer group's total lag (every 5 s, kept an hour, by default), so a
 * group's page opens with its recent lag drawn.
 *
 * @param log an open log directory
 * @param options address, port, access token, producing, lag sampling, abort signal
 * @returns the running server (its `port`, `close()`)
 * @throws {Error} when the port is taken or the runtime has no built-in HTTP server
 * @throws {RangeError} when `lagSampleMs` or `lagHistoryMs` is not a positive integer
 *
 * @example Start the console on a free port and read the topics page
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../mod.ts";
 * import { console as startConsole } from "./console.ts";
 * const log = await open(Deno.makeTempDirSync());
 * await log.createTopic("events", { partitions: 1 });
 * const server = await startConsole(log, { port: 0 });
 * const html = await (await fetch(`http://127.0.0.1:${server.port}/`)).text();
 * assert.match(html, /data-topic="events"/);
 * await server.close();
 * await log.close();
 * ```
 */
export async function console(log: LogDirectory, options: ConsoleOptions = {}): Promise<HttpServer> {
  const hostname = options.hostname ?? "127.0.0.1";
  // Live tails never end by themselves: closing the console ends them first.
  const streams = new AbortController();
  const lagHistory = new LagHistory({ intervalMs: options.lagSampleMs, keepMs: options.lagHistoryMs });
  const server = await serveHttp(
    consoleHandler(log, {
      token: options.token,
      allowProduce: options.allowProduce,
      hosts: LOOPBACK.has(hostname) ? [...LOOPBACK, "localhost"] : undefined,
      signal: streams.signal,
      lagHistory,
    }),
    { hostname, port: options.port ?? 8080 },
  );
  lagHistory.start(log, streams.signal);
  let closed: Promise<void> | undefined;
  const close = () =>
    closed ??= (async () => {
      streams.abort();
      await server.close();
    })();
  options.signal?.addEventListener("abort", () => void close(), { once: true });
  if (options.signal?.aborted) await close();
  return { hostname: server.hostname, port: server.port, close };
}

/** Addresses that only this machine reaches: a console on one answers only to loopback names. */
const LOOPBACK: ReadonlySet<string> = new Set(["127.0.0.1", "[::1]", "::1", "localhost"]);
