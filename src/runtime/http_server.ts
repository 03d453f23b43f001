/**
 * HTTP serving: the one place that knows `Deno.serve` from `Bun.serve`. Both take a Web-standard
 * `Request` → `Response` handler, so everything above this file is runtime-free.
 *
 * @module
 */

/** A Web-standard request handler. */
export type HttpHandler = (request: Request) => Response | Promise<Response>;

/** Options of {@linkcode serveHttp}. */
export interface ServeHttpOptions {
  /**
   * The address to listen on.
   * @default "127.0.0.1"
   */
  hostname?: string;
  /**
   * The TCP port; 0 picks a free one.
   * @default 0
   */
  port?: number;
  /** Stops the server when aborted. */
  signal?: AbortSignal;
}

/** A running HTTP server. */
export interface HttpServer {
  /** The address it listens on. */
  readonly hostname: string;
  /** The port it listens on. */
  readonly port: number;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

interface DenoLike {
  serve(
    options: { hostname: string; port: number; signal?: AbortSignal; onListen?: () => void },
    handler: HttpHandler,
  ): { addr: { port: number }; shutdown(): Promise<void>; finished: Promise<void> };
}
interface BunLike {
  serve(options: { hostname: string; port: number; fetch: HttpHandler; idleTimeout?: number }): {
    port: number;
    stop(closeActiveConnections?: boolean): Promise<void> | void;
  };
}

/**
 * Starts an HTTP server on Deno (`Deno.serve`) or Bun (`Bun.serve`).
 *
 * @param handler answers each request
 * @param options address, port, abort signal
 * @returns the running server
 * @throws {Error} when the runtime has no built-in HTTP server (Node) or the port is taken
 *
 * @example Serve one response on a free loopback port
 * ```ts
 * import assert from "node:assert/strict";
 * import { serveHttp } from "./http_server.ts";
 * const server = await serveHttp(() => new Response("hello"), { port: 0 });
 * const response = await fetch(`http://127.0.0.1:${server.port}/`);
 * assert.equal(await response.text(), "hello");
 * await server.close();
 * ```
 */
export function serveHttp(handler: HttpHandler, options: ServeHttpOptions = {}): Promise<HttpServer> {
  const hostname = options.hostname ?? "127.0.0.1";
  const port = options.port ?? 0;
  const g = globalThis as { Bun?: BunLike; Deno?: DenoLike };
  if (g.Bun) {
    const server = g.Bun.serve({ hostname, port, fetch: handler, idleTimeout: 0 });
    let closed: Promise<void> | undefined;
    const close = () => closed ??= Promise.resolve(server.stop(true)).then(() => undefined);
    options.signal?.addEventListener("abort", () => void close(), { once: true });
    return Promise.resolve({ hostname, port: server.port, close });
  }
  if (g.Deno) {
    const controller = new AbortController();
    options.signal?.addEventListener("abort", () => controller.abort(), { once: true });
    const server = g.Deno.serve({ hostname, port, signal: controller.signal, onListen: () => {} }, handler);
    const close = async () => {
      controller.abort();
      await server.finished;
    };
    return Promise.resolve({ hostname, port: server.addr.port, close });
  }
  return Promise.reject(
    new Error("Cannot start an HTTP server: this runtime has neither Deno.serve nor Bun.serve"),
  );
}
