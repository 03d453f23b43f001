/**
 * The stream `topic.readable()` returns: a `ReadableStream` of records whose `for await` walks
 * the decoded batches directly.
 *
 * @module
 */
import type { ConsumedRecord } from "../record/consumed_record.ts";
import type { FetchSource } from "./fetch_source.ts";

/** The iterator `ReadableStream.prototype.values()` returns, as this runtime's types name it. */
export type RecordStreamIterator = ReturnType<ReadableStream<ConsumedRecord>["values"]>;

/** Options of {@linkcode RecordStream.values}, as for any `ReadableStream`. */
export interface RecordStreamIteratorOptions {
  /** Leave the stream open (not cancelled) when the loop ends early. @default false */
  preventCancel?: boolean;
}

/**
 * A `ReadableStream` of consumed records. Every standard use works as on any `ReadableStream`
 * (`getReader()`, `pipeTo`, `pipeThrough`, `tee`, `cancel`, `locked`), delivering one record per
 * chunk; `for await` (and `values()`) lock the stream as the standard iterator does but take the
 * records a read at a time from the source and hand them out one by one, without a stream chunk,
 * read request and result object per record (about 1.4× to 1.7× the records per second of the
 * standard iterator on a 100-byte record). Records already queued in the stream (read by a
 * reader that let go of its lock part-way) come first, through the stream.
 *
 * @example Iterate, break, and the stream is cancelled
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../mod.ts";
 * const log = await open(Deno.makeTempDirSync());
 * const topic = await log.createTopic("events");
 * await topic.append([{ value: "a" }, { value: "b" }, { value: "c" }]);
 * const stream = topic.readable();
 * const offsets = [];
 * for await (const record of stream) {
 *   offsets.push(record.offset);
 *   if (offsets.length === 2) break;
 * }
 * assert.deepEqual(offsets, [0, 1]);
 * assert.equal(stream.locked, false);
 * assert.deepEqual(await stream.getReader().read(), { done: true, value: undefined }); // cancelled
 * await log.close();
 * ```
 */
export class RecordStream extends ReadableStream<ConsumedRecord> {
  readonly #source: FetchSource<ConsumedRecord[]>;
  readonly #state: StreamState;

  /**
   * Creates the stream over a batched fetch source (one array of records per read).
   *
   * @param source where the records come from; the stream calls its `start`, `pull` and `cancel`
   */
  constructor(source: FetchSource<ConsumedRecord[]>) {
    const state: StreamState = { controller: undefined, ended: false, error: undefined, hasError: false };
    const adapter = (controller: ReadableStreamDefaultController<ConsumedRecord>) =>
      ({
        enqueue(records: ConsumedRecord[]) {
          for (let i = 0; i < records.length; i++) controller.enqueue(records[i]);
        },
        close() {
          state.ended = true;
          controller.close();
        },
        error(reason: unknown) {
          state.ended = true;
          state.hasError = true;
          state.error = reason;
          controller.error(reason);
        },
        get desiredSize() {
          return controller.desiredSize;
        },
      }) as ReadableStreamDefaultController<ConsumedRecord[]>;
    super({
      start(controller) {
        state.controller = controller;
        return source.start(adapter(controller));
      },
      pull(controller) {
        return source.pull(adapter(controller));
      },
      cancel() {
        state.ended = true;
        source.cancel();
      },
    }, { highWaterMark: 0 });
    this.#source = source;
    this.#state = state;
  }

  /**
   * An async iterator over the records, as `ReadableStream.prototype.values()`: it locks the
   * stream; a loop that ends early (`break`, `return`, a throw) cancels it unless `preventCancel`.
   *
   * @param options `preventCancel`
   * @returns the iterator
   * @throws {TypeError} when the stream is locked already
   */
  override values(options: RecordStreamIteratorOptions = {}): RecordStreamIterator {
    return new RecordIterator(
      this.getReader(),
      this.#source,
      this.#state,
      options.preventCancel ?? false,
    ) as unknown as RecordStreamIterator;
  }

  /**
   * The same iterator as {@linkcode RecordStream.values}, so that `for await` uses it.
   *
   * @param options `preventCancel`
   * @returns the iterator
   */
  override [Symbol.asyncIterator](
    options: RecordStreamIteratorOptions = {},
  ): RecordStreamIterator {
    return this.values(options);
  }
}

interface StreamState {
  controller: ReadableStreamDefaultController<ConsumedRecord> | undefined;
  /** The stream is closed, errored or cancelled: nothing more comes from the source. */
  ended: boolean;
  error: unknown;
  hasError: boolean;
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

class RecordIterator implements AsyncIterableIterator<ConsumedRecord>, AsyncDisposable {
  readonly #reader: ReadableStreamDefaultReader<ConsumedRecord>;
  readonly #source: FetchSource<ConsumedRecord[]>;
  readonly #state: StreamState;
  readonly #preventCancel: boolean;
  #records: ConsumedRecord[] = [];
  #next = 0;
  #finished = false;
  /** The records of one source read, taken straight from the source. */
  readonly #collector: ReadableStreamDefaultController<ConsumedRecord[]>;

  constructor(
    reader: ReadableStreamDefaultReader<ConsumedRecord>,
    source: FetchSource<ConsumedRecord[]>,
    state: StreamState,
    preventCancel: boolean,
  ) {
    this.#reader = reader;
    this.#source = source;
    this.#state = state;
    this.#preventCancel = preventCancel;
    this.#collector = {
      enqueue: (records: ConsumedRecord[]) => {
        this.#records = records;
        this.#next = 0;
      },
      close() {
        state.ended = true;
        state.controller?.close();
      },
      error(reason: unknown) {
        state.ended = true;
        state.hasError = true;
        state.error = reason;
        state.controller?.error(reason);
      },
      desiredSize: 1,
    } as ReadableStreamDefaultController<ConsumedRecord[]>;
  }

  next(): Promise<IteratorResult<ConsumedRecord>> {
    if (this.#next < this.#records.length) return Promise.resolve({ done: false, value: this.#take() });
    return this.#pull();
  }

  /**
   * The next record of the read, its slot emptied: a record handed out is kept alive only by its
   * caller. A young-generation collection in the middle of a batch then copies only the records not
   * handed out yet, and fewer surviving bytes keep V8's young generation from growing (on Deno a
   * reader of 2 GB peaked at 105-126 MiB, now 84-88).
   */
  #take(): ConsumedRecord {
    const records = this.#records;
    const i = this.#next++;
    const record = records[i];
    records[i] = undefined!;
    return record;
  }

  async #pull(): Promise<IteratorResult<ConsumedRecord>> {
    if (this.#finished) return DONE;
    const state = this.#state;
    const controller = state.controller;
    // Records the stream holds already (or a stream that ended some other way): through it.
    if (state.ended || controller === undefined || controller.desiredSize !== 0) {
      return await this.#readThrough();
    }
    this.#records = [];
    this.#next = 0;
    try {
      while (this.#records.length === 0 && !state.ended) await this.#source.pull(this.#collector);
    } catch (err) {
      this.#collector.error(err);
    }
    if (this.#next < this.#records.length) return { done: false, value: this.#take() };
    return await this.#readThrough();
  }

  /** One read through the stream's reader; done and released at the end. */
  async #readThrough(): Promise<IteratorResult<ConsumedRecord>> {
    try {
      const result = await this.#reader.read();
      if (!result.done) return { done: false, value: result.value };
      this.#finish();
      return DONE;
    } catch (err) {
      this.#finish();
      throw err;
    }
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#reader.releaseLock();
  }

  async return(value?: unknown): Promise<IteratorResult<ConsumedRecord>> {
    if (this.#finished) return { done: true, value: undefined };
    const left = this.#records.slice(this.#next);
    this.#records = [];
    this.#finished = true;
    if (this.#preventCancel && left.length > 0 && !this.#state.ended) {
      // Taken from the source but not delivered: back into the stream, for its next reader.
      for (const record of left) this.#state.controller!.enqueue(record);
    }
    if (!this.#preventCancel) {
      const cancelled = this.#reader.cancel(value);
      this.#reader.releaseLock();
      await cancelled;
    } else {
      this.#reader.releaseLock();
    }
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<ConsumedRecord> {
    return this;
  }

  /** `await using`: ends the iteration as `return()` does. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.return();
  }
}
