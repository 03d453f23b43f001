/**
 * One client connection: cuts the byte stream into requests (`int32 size` + payload, Kafka
 * `docs/protocol.html` "Network"), refuses a request larger than `socket.request.max.bytes` from
 * its size alone (nothing of it is read into memory, as Kafka's `InvalidReceiveException`), and
 * answers requests one at a time in the order they came, so that pipelined requests get their
 * responses in order ("the server guarantees that on a single TCP connection, requests will be
 * processed in the order they are sent and responses will return in that order").
 *
 * @module
 */
import type { SocketConnection, SocketEvents } from "../runtime/socket.ts";

/**
 * What a request comes to: response chunks, nothing (no response), or closing the connection
 * (why, for the log line), after sending `last` when it is given (a failed authentication's answer).
 */
export type Outcome = Uint8Array[] | undefined | { close: string; last?: Uint8Array[] };

/** Answers one request (its bytes after the size) from the client at `remote` (`host:port`). */
export type Dispatch = (request: Uint8Array, remote: string) => Promise<Outcome>;

/** Requests read ahead of the one being answered before the socket is paused. */
const READ_AHEAD = 8;

/**
 * Frames, queues and answers the requests of one connection.
 *
 * @example Two pipelined requests answered in order
 * ```ts
 * import assert from "node:assert/strict";
 * import { Connection } from "./connection.ts";
 * const sent: number[] = [];
 * const socket = {
 *   remote: "test", pause() {}, resume() {}, end() {}, destroy() {},
 *   write: (chunks: readonly Uint8Array[]) => (sent.push(...chunks.flatMap((c) => [...c])), Promise.resolve()),
 * };
 * const connection = new Connection(socket, async (req) => [req.slice()], 100, () => {});
 * connection.events.data(new Uint8Array([0, 0, 0, 1, 7, 0, 0, 0, 1, 8]));
 * await connection.idle();
 * assert.deepEqual(sent, [7, 8]);
 * ```
 */
export class Connection {
  readonly #socket: SocketConnection;
  readonly #dispatch: Dispatch;
  readonly #maxRequestBytes: number;
  readonly #logLine: (line: string) => void;
  readonly #size = new Uint8Array(4);
  #sizeFilled = 0;
  #frame: Uint8Array | undefined;
  #frameFilled = 0;
  #queue: Uint8Array[] = [];
  #paused = false;
  #closed = false;
  #running: Promise<void> | undefined;
  #onClose: (() => void)[] = [];

  /** The socket events to hand to the listener. */
  readonly events: SocketEvents;

  /**
   * @param socket the accepted connection
   * @param dispatch answers one request
   * @param maxRequestBytes the largest request accepted (`socket.request.max.bytes`), bytes
   * @param logLine writes one line to the broker's log
   */
  constructor(
    socket: SocketConnection,
    dispatch: Dispatch,
    maxRequestBytes: number,
    logLine: (line: string) => void,
  ) {
    this.#socket = socket;
    this.#dispatch = dispatch;
    this.#maxRequestBytes = maxRequestBytes;
    this.#logLine = logLine;
    this.events = {
      data: (chunk) => this.#data(chunk),
      close: () => this.#closedBySocket(),
      error: (err) => {
        const code = (err as { code?: string }).code;
        if (code !== "ECONNRESET" && code !== "EPIPE") {
          this.#logLine(`Connection ${socket.remote}: ${err.message}`);
        }
      },
    };
  }

  /** Whether the connection is closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Registers a function called once when the connection closes. */
  onClose(fn: () => void): void {
    this.#onClose.push(fn);
  }

  /** Resolves once no request is being answered. */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  /** Closes the connection at once (requests queued are dropped). */
  close(): void {
    if (this.#closed) return;
    this.#socket.destroy();
    this.#closedBySocket();
  }

  #fail(reason: string): void {
    this.#logLine(`Connection ${this.#socket.remote} closed: ${reason}`);
    this.close();
  }

  #closedBySocket(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    this.#frame = undefined;
    for (const fn of this.#onClose.splice(0)) fn();
  }

  #data(chunk: Uint8Array): void {
    let pos = 0;
    while (pos < chunk.length && !this.#closed) {
      if (this.#frame === undefined) {
        const n = Math.min(4 - this.#sizeFilled, chunk.length - pos);
        this.#size.set(chunk.subarray(pos, pos + n), this.#sizeFilled);
        this.#sizeFilled += n;
        pos += n;
        if (this.#sizeFilled < 4) return;
        this.#sizeFilled = 0;
        const size = new DataView(this.#size.buffer).getInt32(0);
        if (size < 0 || size > this.#maxRequestBytes) {
          return this.#fail(
            `a request of ${size} bytes is ${
              size < 0 ? "negative" : "larger than"
            } socket.request.max.bytes ${this.#maxRequestBytes}`,
          );
        }
        this.#frame = new Uint8Array(size);
        this.#frameFilled = 0;
      }
      const n = Math.min(this.#frame.length - this.#frameFilled, chunk.length - pos);
      this.#frame.set(chunk.subarray(pos, pos + n), this.#frameFilled);
      this.#frameFilled += n;
      pos += n;
      if (this.#frameFilled === this.#frame.length) {
        this.#queue.push(this.#frame);
        this.#frame = undefined;
      }
    }
    if (this.#queue.length >= READ_AHEAD && !this.#paused) {
      this.#paused = true;
      this.#socket.pause();
    }
    if (this.#queue.length > 0 && !this.#running) this.#running = this.#run();
  }

  async #run(): Promise<void> {
    try {
      while (this.#queue.length > 0 && !this.#closed) {
        const request = this.#queue.shift()!;
        if (this.#paused && this.#queue.length < READ_AHEAD / 2) {
          this.#paused = false;
          this.#socket.resume();
        }
        const outcome = await this.#dispatch(request, this.#socket.remote);
        if (this.#closed) return;
        if (outcome === undefined) continue;
        if (!Array.isArray(outcome)) {
          if (!outcome.last) return this.#fail(outcome.close);
          await this.#socket.write(outcome.last);
          this.#logLine(`Connection ${this.#socket.remote} closed: ${outcome.close}`);
          this.#socket.end(); // sends what was written, then closes
          return this.#closedBySocket();
        }
        await this.#socket.write(outcome);
      }
    } catch (err) {
      if (!this.#closed) this.#fail((err as Error).message);
    } finally {
      this.#running = undefined;
    }
  }
}
