/**
 * HTTP serving: the one place that knows `Deno.serve` from `Bun.serve` from Node's `node:http`.
 * Deno and Bun take a Web-standard `Request` → `Response` handler; on Node each request is turned
 * into a `Request` and the handler's `Response` written back, so everything above this file is
 * runtime-free.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";

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
 * Starts an HTTP server on Deno (`Deno.serve`), Bun (`Bun.serve`) or Node (`node:http`).
 *
 * @param handler answers each request
 * @param options address, port, abort signal
 * @returns the running server
 * @throws {Error} when the port is taken or the address cannot be listened on
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
  return serveNode(handler, hostname, port, options.signal);
}

/** `node:http` serving a Web-standard handler. */
async function serveNode(
  handler: HttpHandler,
  hostname: string,
  port: number,
  signal: AbortSignal | undefined,
): Promise<HttpServer> {
  const http = await import("node:http");
  const server = http.createServer((req, res) => void respond(handler, req, res));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, hostname, () => {
      server.off("error", reject);
      resolve();
    });
  });
  let closed: Promise<void> | undefined;
  const close = () =>
    closed ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  signal?.addEventListener("abort", () => void close(), { once: true });
  if (signal?.aborted) void close();
  const address = server.address();
  return { hostname, port: typeof address === "object" && address ? address.port : port, close };
}

/** Answers one `node:http` request with the handler's `Response` (500 when the handler throws, 400 for a bad Host). */
async function respond(handler: HttpHandler, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const aborted = new AbortController();
  res.once("close", () => {
    if (!res.writableFinished) aborted.abort();
  });
  let request: Request | undefined;
  try {
    request = toRequest(req, aborted.signal);
  } catch { /* a Host header that makes no URL */ }
  let response: Response;
  try {
    response = request ? await handler(request) : new Response("Bad Request", { status: 400 });
  } catch {
    response = new Response("Internal Server Error", { status: 500 });
  }
  res.statusCode = response.status;
  if (response.statusText) res.statusMessage = response.statusText;
  for (const [name, value] of response.headers) {
    if (name !== "set-cookie") res.setHeader(name, value);
  }
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) res.setHeader("set-cookie", cookies);
  if (response.body === null || req.method === "HEAD") {
    await response.body?.cancel();
    res.end();
    return;
  }
  const reader = response.body.getReader();
  try {
    while (!aborted.signal.aborted) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) {
        await new Promise<void>((resolve) => {
          res.once("drain", resolve);
          res.once("close", resolve);
        });
      }
    }
  } catch {
    res.destroy(); // the body failed part-way: the client sees a cut response, not a complete one
    return;
  } finally {
    if (aborted.signal.aborted) await reader.cancel().catch(() => {}); // the client is gone: nobody to tell
    reader.releaseLock();
  }
  res.end();
}

/** The Web `Request` for a `node:http` request; its signal aborts when the client goes away. */
function toRequest(req: IncomingMessage, signal: AbortSignal): Request {
  const headers = new Headers();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
  }
  const host = req.headers.host ?? `${req.socket.localAddress}:${req.socket.localPort}`;
  const method = req.method ?? "GET";
  const hasBody = method !== "GET" && method !== "HEAD";
  return new Request(new URL(req.url ?? "/", `http://${host}`), {
    method,
    headers,
    signal,
    ...(hasBody ? { body: Readable.toWeb(req) as ReadableStream<Uint8Array>, duplex: "half" } : {}),
  } as RequestInit);
}
