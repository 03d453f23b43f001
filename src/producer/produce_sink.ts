/**
 * The `WritableStream` faces of a topic: records in, record batches appended to the partition
 * logs, with Kafka producer batching (`batchSize`, `lingerMs`) and backpressure; or arrays of
 * records in, each appended as one call.
 *
 * @module
 */
import type { Compression } from "../record/compression.ts";
import { RecordAccumulator, type SentBatch, type TopicLogs } from "./record_accumulator.ts";
import type { ProducerRecord } from "../record/producer_record.ts";

/** Batches held back by a sink (bytes) that are written at once, without waiting for more. */
const DEFERRED_WRITE_BYTES = 1 << 20;

/** Options of `topic.writable()`. */
export interface WritableOptions {
  /**
   * Send a partition's batch once it holds this many bytes (Kafka's `batch.size`, whose default is
   * 16384; reel's is larger, see `DEFAULT_BATCH_SIZE` in `record_accumulator.ts`). @default 131072
   */
  batchSize?: number;
  /** Send a partial batch after this many ms without it filling up (Kafka's `linger.ms`). @default 5 */
  lingerMs?: number;
  /**
   * Compression codec of the batches written, by name (`"none"`, `"gzip"`, `"snappy"`, `"lz4"`, `"zstd"`:
   * Kafka's `compression.type`) or number (0–4).
   * @default "none"
   */
  compression?: Compression;
  /** At most this many batches sent but not yet acknowledged before `write()` waits. @default 4 */
  maxInFlight?: number;
}

/**
 * The underlying sink of `topic.writable()`. `write()` places each record in its partition's
 * batch and returns at once, unless more than `maxInFlight` batches await acknowledgement (then
 * it waits: backpressure). `close()` sends what is left and resolves once every record written is
 * acknowledged under the topic's fsync policy. An append that fails errors the stream; records
 * acknowledged before it stay in the log.
 *
 * @example A WritableStream that appends to a topic
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../mod.ts";
 * import { ProduceSink } from "./produce_sink.ts";
 * const log = await open(Deno.makeTempDirSync());
 * const topic = await log.createTopic("events");
 * const writable = new WritableStream(new ProduceSink(topic, { lingerMs: 5 }));
 * const writer = writable.getWriter();
 * await writer.write({ key: "k", value: "v" });
 * await writer.close(); // durable now
 * assert.equal(topic.partition(0).logEndOffset, 1);
 * await log.close();
 * ```
 */
export class ProduceSink implements UnderlyingSink<ProducerRecord> {
  readonly #accumulator: RecordAccumulator;
  readonly #lingerMs: number;
  readonly #inFlight: InFlightAppends;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /**
   * Creates the sink of a `writable()` stream.
   *
   * @param topic the topic's name and partition logs
   * @param options batching options
   */
  constructor(topic: TopicLogs, options: WritableOptions = {}) {
    this.#lingerMs = options.lingerMs ?? 5;
    if (!(this.#lingerMs >= 0)) throw new RangeError(`Invalid lingerMs ${this.#lingerMs}: must be 0 or more`);
    this.#inFlight = new InFlightAppends(options.maxInFlight ?? 4);
    // Batches are held back and written together: when the sink would wait for acknowledgements,
    // when enough bytes wait, on the linger timer and on close (one write per group, not per batch).
    this.#accumulator = new RecordAccumulator(
      topic,
      { ...options, deferWrites: true },
      (batch: SentBatch) => this.#inFlight.add(batch.result),
    );
  }

  /** Called by the stream once, before the first write. */
  start(controller: WritableStreamDefaultController): void {
    this.#inFlight.controller = controller;
  }

  /**
   * Places one record; waits only when too many batches await acknowledgement.
   *
   * @throws {UnknownTopicOrPartitionError} for a partition the topic does not have
   * @throws {RecordTooLargeError} for a record larger than `maxMessageBytes`
   */
  write(record: ProducerRecord): Promise<void> | void {
    this.#inFlight.throwIfFailed();
    try {
      this.#accumulator.add(record);
    } catch (err) {
      this.#accumulator.writeDeferred(); // the batches sent before the bad record still land
      throw err;
    }
    if (this.#inFlight.full) {
      this.#accumulator.writeDeferred();
      return this.#inFlight.wait();
    }
    if (this.#accumulator.deferredBytes >= DEFERRED_WRITE_BYTES) this.#accumulator.writeDeferred();
    if (this.#timer === undefined && !(this.#accumulator.isEmpty && this.#accumulator.deferredBytes === 0)) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#accumulator.drainAll();
        this.#accumulator.writeDeferred();
      }, this.#lingerMs);
    }
  }

  /** Sends every pending batch and waits until all are acknowledged. */
  async close(): Promise<void> {
    this.#clearTimer();
    this.#accumulator.drainAll();
    this.#accumulator.writeDeferred();
    await this.#inFlight.settle();
  }

  /** Drops pending records that were never sent; batches already sent stay (and are written). */
  abort(): void {
    this.#clearTimer();
    this.#accumulator.writeDeferred();
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/** Options of `topic.writableBatches()`. */
export interface WritableBatchesOptions {
  /**
   * Compression codec of the batches written, by name (`"none"`, `"gzip"`, `"snappy"`, `"lz4"`, `"zstd"`:
   * Kafka's `compression.type`) or number (0–4).
   * @default "none"
   */
  compression?: Compression;
  /** At most this many chunks appended but not yet acknowledged before `write()` waits. @default 4 */
  maxInFlight?: number;
}

/**
 * The underlying sink of `topic.writableBatches()`: each chunk is an array of records, appended
 * as one `topic.append(records)` call (all or nothing: a bad record fails its whole chunk), in
 * the order written. `write()` returns at once unless more than `maxInFlight` chunks await
 * acknowledgement; `close()` resolves once every chunk is acknowledged. A failed chunk errors the
 * stream; chunks acknowledged before it stay in the log.
 *
 * @example Each chunk is one call of the append function
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../mod.ts";
 * import { BatchProduceSink } from "./produce_sink.ts";
 * const log = await open(Deno.makeTempDirSync());
 * const topic = await log.createTopic("events");
 * const writable = new WritableStream(new BatchProduceSink((records) => topic.append(records)));
 * const writer = writable.getWriter();
 * await writer.write([{ value: "a" }, { value: "b" }]);
 * await writer.close(); // both acknowledged
 * assert.equal(topic.partition(0).logEndOffset, 2);
 * await log.close();
 * ```
 */
export class BatchProduceSink implements UnderlyingSink<readonly ProducerRecord[]> {
  readonly #append: (records: readonly ProducerRecord[]) => Promise<unknown>;
  readonly #inFlight: InFlightAppends;

  /**
   * Creates the sink of a `writableBatches()` stream.
   *
   * @param append appends one chunk (`topic.append` with the stream's options)
   * @param maxInFlight chunks awaiting acknowledgement before `write()` waits
   */
  constructor(append: (records: readonly ProducerRecord[]) => Promise<unknown>, maxInFlight = 4) {
    this.#append = append;
    this.#inFlight = new InFlightAppends(maxInFlight);
  }

  /** Called by the stream once, before the first write. */
  start(controller: WritableStreamDefaultController): void {
    this.#inFlight.controller = controller;
  }

  /**
   * Appends one chunk; waits only when too many chunks await acknowledgement.
   *
   * @throws {TypeError} when the chunk is not an array
   */
  write(records: readonly ProducerRecord[]): Promise<void> | void {
    this.#inFlight.throwIfFailed();
    if (!Array.isArray(records)) {
      throw new TypeError(`Cannot append a chunk of type ${typeof records}: expected an array of records`);
    }
    this.#inFlight.add(this.#append(records));
    if (this.#inFlight.full) return this.#inFlight.wait();
  }

  /** Waits until every chunk written is acknowledged. */
  async close(): Promise<void> {
    await this.#inFlight.settle();
  }
}

/**
 * The appends a sink has started and not yet seen acknowledged: the first failure errors the
 * stream (through its controller) and is thrown by every later call.
 */
class InFlightAppends {
  #pending: { promise: Promise<unknown>; settled: boolean }[] = [];
  #error: unknown;
  /** The stream's controller, once `start()` has run. */
  controller: WritableStreamDefaultController | undefined;

  constructor(readonly max: number) {
    if (!(max >= 1)) throw new RangeError(`Invalid maxInFlight ${max}: must be at least 1`);
  }

  /** Whether more appends are in flight than allowed (the sink should wait). */
  get full(): boolean {
    return this.#pending.length > this.max;
  }

  add(result: Promise<unknown>): void {
    const entry = { promise: result, settled: false };
    entry.promise = result.then(() => {
      entry.settled = true;
    }, (err) => {
      entry.settled = true;
      if (this.#error === undefined) {
        this.#error = err;
        this.controller?.error(err);
      }
    });
    this.#pending.push(entry);
  }

  throwIfFailed(): void {
    if (this.#error !== undefined) throw this.#error;
  }

  /**
   * Waits until no more than `max` appends are in flight; the ones acknowledged by then are
   * dropped too, so that a group acknowledged at once frees every place it held.
   */
  async wait(): Promise<void> {
    while (this.#pending.length > this.max) await this.#pending.shift()!.promise;
    while (this.#pending.length > 0 && this.#pending[0].settled) this.#pending.shift();
    this.throwIfFailed();
  }

  /** Waits for every append in flight. */
  async settle(): Promise<void> {
    await Promise.all(this.#pending.map((e) => e.promise));
    this.#pending = [];
    this.throwIfFailed();
  }
}
