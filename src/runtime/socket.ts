/**
 * TCP sockets: the one place that listens and accepts connections. `node:net` is implemented by
 * Deno and Bun (and Node), so the broker above it never needs to know which runtime it is on.
 *
 * @module
 */
import * as net from "node:net";
import * as tls from "node:tls";
import { Buffer } from "node:buffer";

/** One accepted TCP connection, as the broker sees it. */
export interface SocketConnection {
  /** The peer's address and port, `host:port` (for log lines). */
  readonly remote: string;
  /**
   * Writes the chunks in order, as one burst, and resolves once the socket can take more
   * (backpressure: the caller awaits before writing again).
   *
   * @param chunks the bytes to send
   * @throws {Error} when the connection is closed
   */
  write(chunks: readonly Uint8Array[]): Promise<void>;
  /** Stops reading from the socket until {@linkcode SocketConnection.resume}. */
  pause(): void;
  /** Reads from the socket again after {@linkcode SocketConnection.pause}. */
  resume(): void;
  /** Ends the connection once what was written has been sent. */
  end(): void;
  /** Closes the connection at once. */
  destroy(): void;
}

/** What a {@linkcode SocketHandler} hears from one connection. */
export interface SocketEvents {
  /** Bytes arrived. */
  data(chunk: Uint8Array): void;
  /** The connection closed (either side); called once. */
  close(): void;
  /** A socket error (a reset, a timeout); `close` follows. */
  error(err: Error): void;
}

/** Called for each accepted connection; returns the handlers of its events. */
export type SocketHandler = (connection: SocketConnection) => SocketEvents;

/** A listening server socket. */
export interface SocketListener {
  /** The address it is bound to (such as `127.0.0.1`). */
  readonly hostname: string;
  /** The port it is bound to (the one the system chose when 0 was asked). */
  readonly port: number;
  /** Stops accepting connections (those open stay open) and resolves once the socket is closed. */
  close(): Promise<void>;
}

/** Options of {@linkcode listen}. */
export interface ListenOptions {
  /** The address to bind. @default "127.0.0.1" */
  hostname?: string;
  /** The port; 0 lets the system choose. @default 9092 */
  port?: number;
  /** Accept TLS connections with this certificate chain and private key (PEM) instead of plain TCP. */
  tls?: { cert: string | Uint8Array; key: string | Uint8Array };
}

function pem(value: string | Uint8Array): string | Buffer {
  return typeof value === "string" ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

function wrap(socket: net.Socket): SocketConnection {
  let drained: Promise<void> | undefined;
  return {
    remote: `${socket.remoteAddress}:${socket.remotePort}`,
    write(chunks) {
      if (socket.destroyed) return Promise.reject(new Error("Cannot write: the connection is closed"));
      socket.cork();
      let ok = true;
      for (const chunk of chunks) ok = socket.write(chunk);
      socket.uncork();
      if (ok) return Promise.resolve();
      drained ??= new Promise<void>((resolve) => {
        const done = () => {
          socket.off("drain", done);
          socket.off("close", done);
          drained = undefined;
          resolve();
        };
        socket.on("drain", done);
        socket.on("close", done);
      });
      return drained;
    },
    pause: () => void socket.pause(),
    resume: () => void socket.resume(),
    end: () => void socket.end(),
    destroy: () => void socket.destroy(),
  };
}

/**
 * Listens for TCP connections and hands each to `handler`.
 *
 * @param options the address and port to bind
 * @param handler called once per accepted connection
 * @returns the listener, once bound
 * @throws {Error} when the address cannot be bound (`EADDRINUSE`, `EACCES`, …)
 * @example Echo one connection
 * ```ts
 * import assert from "node:assert/strict";
 * import * as net from "node:net";
 * import { listen } from "./socket.ts";
 * const listener = await listen({ hostname: "127.0.0.1", port: 0 }, (conn) => ({
 *   data: (chunk) => void conn.write([chunk]).then(() => conn.end()),
 *   close() {},
 *   error() {},
 * }));
 * const reply = await new Promise<string>((resolve) => {
 *   const client = net.connect(listener.port, "127.0.0.1", () => client.write("ping"));
 *   let text = "";
 *   client.on("data", (d) => text += d.toString());
 *   client.on("close", () => resolve(text));
 * });
 * assert.equal(reply, "ping");
 * await listener.close();
 * ```
 */
export function listen(options: ListenOptions, handler: SocketHandler): Promise<SocketListener> {
  const accept = (socket: net.Socket) => {
    socket.setNoDelay(true);
    const events = handler(wrap(socket));
    socket.on("data", (chunk: Uint8Array) => events.data(chunk));
    socket.on("error", (err) => events.error(err));
    socket.on("close", () => events.close());
  };
  // A TLS server calls `accept` once the handshake is done; a failed handshake ("tlsClientError")
  // only ever concerned that client and is dropped with its socket.
  const server = options.tls
    ? tls.createServer({ cert: pem(options.tls.cert), key: pem(options.tls.key) }, accept)
    : net.createServer({ noDelay: true }, accept);
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 9092, options.hostname ?? "127.0.0.1", () => {
      server.off("error", reject);
      const address = server.address() as net.AddressInfo;
      resolve({
        hostname: address.address,
        port: address.port,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}
