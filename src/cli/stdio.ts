/**
 * The CLI's standard streams, the one place that touches them: stdin as a `ReadableStream` of
 * bytes, and a buffered stdout writer that honours backpressure and turns a closed pipe (EPIPE, as
 * when piping into `head`) into a {@linkcode BrokenPipeError} the command can end on quietly.
 * Only `node:process` and `node:stream` are used, so this runs the same on Deno and on Bun.
 *
 * @module
 */
import process from "node:process";
import { Readable } from "node:stream";

/**
 * Thrown by {@linkcode StdoutWriter} when the reader of stdout has gone away (EPIPE). Not an error
 * for the user: `reel consume … | head` ends quietly with status 0.
 */
export class BrokenPipeError extends Error {
  /**
   * Creates the error.
   *
   * @param options the standard `ErrorOptions` (`cause`: the EPIPE error)
   */
  constructor(options?: ErrorOptions) {
    super("Cannot write to stdout: the pipe is closed", options);
    this.name = "BrokenPipeError";
  }
}

/**
 * Standard input as a stream of bytes.
 *
 * @returns a `ReadableStream` of the bytes read from stdin, ending at end of file
 *
 * @example Counting the bytes of stdin (in a child process fed 100 000 bytes)
 * ```ts
 * import assert from "node:assert/strict";
 * const program = `
 *   import { stdinStream } from ${JSON.stringify(new URL("./stdio.ts", import.meta.url).href)};
 *   let bytes = 0;
 *   for await (const chunk of stdinStream()) bytes += chunk.byteLength;
 *   // A string, which is never coloured (a number would be, under FORCE_COLOR).
 *   console.log(String(bytes));
 * `;
 * const child = new Deno.Command(Deno.execPath(), { args: ["eval", program], stdin: "piped", stdout: "piped" })
 *   .spawn();
 * const writer = child.stdin.getWriter();
 * await writer.write(new Uint8Array(100_000));
 * await writer.close();
 * const { code, stdout } = await child.output();
 * assert.equal(code, 0);
 * assert.equal(new TextDecoder().decode(stdout).trim(), "100000");
 * ```
 */
export function stdinStream(): ReadableStream<Uint8Array> {
  return Readable.toWeb(process.stdin) as unknown as ReadableStream<Uint8Array>;
}

/** The parts of a Node `Writable` that {@linkcode StdoutWriter} uses. */
export interface WritableLike {
  write(chunk: Uint8Array, callback?: (err?: Error | null) => void): boolean;
  on(event: "error", listener: (err: Error) => void): unknown;
  on(event: "drain", listener: () => void): unknown;
  off(event: "drain", listener: () => void): unknown;
}

const encoder = new TextEncoder();

/**
 * A buffered writer for stdout. Text and bytes are collected in memory; {@linkcode StdoutWriter.flush}
 * hands them to stdout and waits while stdout's buffer is full (backpressure), so a slow reader
 * slows the producer of the output instead of filling memory.
 *
 * @example Write lines in 64 KiB chunks, and end quietly when the reader goes away
 * ```ts
 * import assert from "node:assert/strict";
 * import { Writable } from "node:stream";
 * import { BrokenPipeError, StdoutWriter } from "./stdio.ts";
 * const decoder = new TextDecoder();
 * let text = "";
 * let writes = 0;
 * const stdout = new Writable({
 *   write(chunk, _encoding, callback) {
 *     text += decoder.decode(chunk, { stream: true });
 *     writes++;
 *     callback();
 *   },
 * });
 * const out = new StdoutWriter(stdout);
 * for (let i = 0; i < 10_000; i++) {
 *   out.writeText(`line ${i}\n`);
 *   if (out.buffered >= 65536) await out.flush();
 * }
 * await out.end();
 * assert.ok(writes > 1 && writes < 10); // 98 890 bytes, handed over in 64 KiB chunks
 * assert.equal(text.split("\n").length, 10_001);
 * assert.ok(text.endsWith("line 9999\n"));
 *
 * const closed = new Writable({
 *   write(_chunk, _encoding, callback) {
 *     callback(Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
 *   },
 * });
 * const head = new StdoutWriter(closed);
 * head.writeText("more than the reader wants\n");
 * await assert.rejects(head.end(), BrokenPipeError);
 * ```
 */
export class StdoutWriter {
  readonly #out: WritableLike;
  #buf: Uint8Array;
  #length = 0;
  #error: Error | undefined;
  #wake: (() => void) | undefined;

  /**
   * Creates the writer.
   *
   * @param out the writable to write to
   * @param capacity the initial buffer size, bytes
   */
  constructor(out: WritableLike = process.stdout as unknown as WritableLike, capacity = 64 * 1024) {
    this.#out = out;
    this.#buf = new Uint8Array(capacity);
    out.on("error", (err: Error) => {
      this.#error ??= err;
      this.#wake?.();
    });
  }

  /** Bytes collected and not yet handed to stdout. */
  get buffered(): number {
    return this.#length;
  }

  #reserve(n: number): void {
    if (this.#length + n <= this.#buf.length) return;
    const grown = new Uint8Array(Math.max(this.#buf.length * 2, this.#length + n));
    grown.set(this.#buf.subarray(0, this.#length));
    this.#buf = grown;
  }

  /**
   * Adds bytes to the buffer.
   *
   * @param bytes the bytes (copied)
   */
  writeBytes(bytes: Uint8Array): void {
    this.#reserve(bytes.length);
    this.#buf.set(bytes, this.#length);
    this.#length += bytes.length;
  }

  /**
   * Adds text, encoded as UTF-8, to the buffer.
   *
   * @param text the text
   */
  writeText(text: string): void {
    this.#reserve(text.length * 3);
    this.#length += encoder.encodeInto(text, this.#buf.subarray(this.#length)).written;
  }

  /**
   * Hands the buffer to stdout, and waits while stdout is over its high-water mark.
   *
   * @throws {BrokenPipeError} when stdout's reader has gone away
   * @throws {Error} any other error writing stdout
   */
  async flush(): Promise<void> {
    this.#check();
    if (this.#length === 0) return;
    const chunk = this.#buf.slice(0, this.#length);
    this.#length = 0;
    let ok: boolean;
    try {
      ok = this.#out.write(chunk);
    } catch (err) {
      this.#error ??= err as Error;
      this.#check();
      throw err;
    }
    if (!ok) {
      await this.#waitFor((done) => this.#out.on("drain", done), (done) => this.#out.off("drain", done));
    }
    this.#check();
  }

  /**
   * Flushes the buffer and resolves once stdout has taken everything written, so the process may
   * exit without losing output.
   *
   * @throws {BrokenPipeError} when stdout's reader has gone away
   */
  async end(): Promise<void> {
    await this.flush();
    // An empty write's callback runs after every earlier write has been handed to the OS.
    await this.#waitFor((done) => this.#out.write(new Uint8Array(0), () => done()), () => {});
    this.#check();
  }

  /**
   * Ends the output as {@linkcode StdoutWriter.end} does, except that a reader that went away
   * (`reel … | head`) is not an error: it has all the output it wants.
   *
   * @throws {Error} stdout's error, other than a broken pipe
   * @example A reader that went away is no error
   * ```ts
   * import assert from "node:assert/strict";
   * import { Writable } from "node:stream";
   * import { StdoutWriter } from "./stdio.ts";
   * const closed = new Writable({
   *   write(_chunk, _encoding, callback) {
   *     callback(Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
   *   },
   * });
   * const out = new StdoutWriter(closed);
   * out.writeText("more than the reader wants\n");
   * await out.endUnlessBrokenPipe();
   * const failing = new StdoutWriter(new Writable({ write: (_c, _e, callback) => callback(new Error("EIO")) }));
   * failing.writeText("x\n");
   * await assert.rejects(failing.endUnlessBrokenPipe(), /EIO/);
   * ```
   */
  async endUnlessBrokenPipe(): Promise<void> {
    try {
      await this.end();
    } catch (err) {
      if (!(err instanceof BrokenPipeError)) throw err;
    }
  }

  #waitFor(start: (done: () => void) => void, stop: (done: () => void) => void): Promise<void> {
    if (this.#error) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        this.#wake = undefined;
        stop(done);
        resolve();
      };
      this.#wake = done;
      start(done);
    });
  }

  #check(): void {
    const err = this.#error;
    if (err === undefined) return;
    if (isBrokenPipe(err)) throw new BrokenPipeError({ cause: err });
    throw err;
  }
}

/**
 * Whether an error means the reader of a pipe has gone away.
 *
 * @param err any thrown value
 * @returns `true` for EPIPE (Node, Bun) and Deno's `BrokenPipe`
 */
export function isBrokenPipe(err: unknown): boolean {
  if (err instanceof BrokenPipeError) return true;
  if (typeof err !== "object" || err === null) return false;
  const e = err as { code?: unknown; name?: unknown };
  return e.code === "EPIPE" || e.name === "BrokenPipe" || e.code === "ERR_STREAM_DESTROYED";
}

/**
 * Writes one line to stderr.
 *
 * @param line the text, without its newline
 */
export function printError(line: string): void {
  process.stderr.write(line + "\n");
}

/**
 * Whether stderr is a terminal (for progress lines).
 *
 * @returns `true` when stderr is a TTY
 */
export function stderrIsTerminal(): boolean {
  return process.stderr.isTTY === true;
}

/**
 * Resolves at the first SIGINT or SIGTERM: how `reel serve` and `reel console` wait to stop. The
 * listeners stay on until the process exits (a second signal during the close is ignored): on
 * Deno, removing the last one restores the default action of a signal already on its way.
 *
 * @returns a promise that resolves on the signal
 * @example It is pending until a signal comes
 * ```ts
 * import assert from "node:assert/strict";
 * import { untilStopSignal } from "./stdio.ts";
 * const stopped = untilStopSignal();
 * const state = await Promise.race([stopped.then(() => "stopped"), Promise.resolve("waiting")]);
 * assert.equal(state, "waiting");
 * ```
 */
export function untilStopSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.on("SIGINT", () => resolve());
    process.on("SIGTERM", () => resolve());
  });
}
