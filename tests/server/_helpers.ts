// Helpers for the broker tests: a broker over a fresh temporary log directory, and a small raw
// Kafka client built on the broker's own codec (for requests no client library sends as wanted:
// pipelining, bad versions, oversized frames). Interop with clients none of us wrote is in the
// kafkajs and kcat tests.

import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { type LogDirectory, open } from "../../mod.ts";
import { runCommand } from "../_runtime.ts";
import { type Broker, serve, type ServeOptions } from "../../src/server/broker.ts";
import { ByteReader } from "../../src/server/protocol/byte_reader.ts";
import { ByteWriter } from "../../src/server/protocol/byte_writer.ts";
import { isFlexible, type Message, messageCodec } from "../../src/server/protocol/message_codec.ts";
import {
  REQUEST_HEADER_SCHEMA,
  REQUEST_SCHEMAS,
  RESPONSE_SCHEMAS,
} from "../../src/server/protocol/messages.ts";

/** Runs `fn` with a broker on a free loopback port over a fresh log directory; closes and removes both after. */
export async function withBroker<T>(
  fn: (broker: Broker, log: LogDirectory, dir: string) => Promise<T>,
  options: ServeOptions = {},
): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-server-"));
  const lines: string[] = [];
  const log = await open(dir);
  const broker = await serve(log, {
    hostname: "127.0.0.1",
    port: 0,
    logLine: (l) => lines.push(l),
    ...options,
  });
  try {
    return await fn(broker, log, dir);
  } finally {
    await broker.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Encodes a request frame: size, header (v1, or v2 for flexible versions), body. */
export function encodeRequest(
  apiKey: number,
  version: number,
  correlationId: number,
  body: Message,
): Uint8Array {
  const schema = REQUEST_SCHEMAS.get(apiKey)!;
  const w = new ByteWriter();
  w.int32(0);
  messageCodec(REQUEST_HEADER_SCHEMA, isFlexible(schema, version) ? 2 : 1).write(w, {
    requestApiKey: apiKey,
    requestApiVersion: version,
    correlationId,
    clientId: "reel-test",
  });
  messageCodec(schema, version).write(w, body);
  const bytes = w.toBytes();
  new DataView(bytes.buffer, bytes.byteOffset).setInt32(0, bytes.length - 4);
  return bytes;
}

/** A raw connection: send frames, read whole response frames. */
export class RawClient {
  #socket: net.Socket;
  #buffer = new Uint8Array(0);
  #waiters: (() => void)[] = [];
  #correlation = 1;
  closed = false;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.on("data", (chunk: Uint8Array) => {
      const next = new Uint8Array(this.#buffer.length + chunk.length);
      next.set(this.#buffer);
      next.set(chunk, this.#buffer.length);
      this.#buffer = next;
      for (const w of this.#waiters.splice(0)) w();
    });
    socket.on("close", () => {
      this.closed = true;
      for (const w of this.#waiters.splice(0)) w();
    });
    socket.on("error", () => {});
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, "127.0.0.1", () => resolve(new RawClient(socket)));
      socket.once("error", reject);
    });
  }

  /** Sends raw bytes. */
  send(bytes: Uint8Array): void {
    this.#socket.write(bytes);
  }

  /** The next response frame (without its size), or `undefined` when the connection closed first. */
  async frame(): Promise<Uint8Array | undefined> {
    for (;;) {
      if (this.#buffer.length >= 4) {
        const size = new DataView(this.#buffer.buffer, this.#buffer.byteOffset).getInt32(0);
        if (this.#buffer.length >= 4 + size) {
          const frame = this.#buffer.slice(4, 4 + size);
          this.#buffer = this.#buffer.slice(4 + size);
          return frame;
        }
      }
      if (this.closed) return undefined;
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  /** Sends a request and decodes its response (header v0/v1 as the version asks). */
  async request(
    apiKey: number,
    version: number,
    body: Message,
  ): Promise<Message & { correlationId: number }> {
    const correlationId = this.#correlation++;
    this.send(encodeRequest(apiKey, version, correlationId, body));
    const frame = await this.frame();
    if (!frame) throw new Error(`The connection closed before the response to API ${apiKey} v${version}`);
    return decodeResponse(apiKey, version, frame);
  }

  /** Resolves once the broker has closed the connection. */
  async whenClosed(): Promise<void> {
    while (!this.closed) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  close(): void {
    this.#socket.destroy();
  }
}

/** Decodes a response frame (after its size). */
export function decodeResponse(
  apiKey: number,
  version: number,
  frame: Uint8Array,
): Message & { correlationId: number } {
  const schema = RESPONSE_SCHEMAS.get(apiKey)!;
  const r = new ByteReader(frame);
  const correlationId = r.int32();
  if (apiKey !== 18 && isFlexible(schema, version)) {
    const tags = r.uvarint();
    for (let i = 0; i < tags; i++) {
      r.uvarint();
      r.skip(r.uvarint());
    }
  }
  const body = messageCodec(schema, version).read(r);
  if (r.remaining !== 0) {
    throw new Error(`${r.remaining} bytes left after the response to API ${apiKey} v${version}`);
  }
  return { correlationId, ...body };
}

/** Runs kcat (librdkafka) without blocking the event loop (the broker runs in this process). */
export function kcat(
  args: string[],
  input = "",
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return runCommand("kcat", args, input);
}
