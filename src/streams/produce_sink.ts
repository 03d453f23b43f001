/**
 * The `WritableStream` face of a topic: records in, record batches appended to the partition
 * logs, with Kafka producer batching (`batchSize`, `lingerMs`) and backpressure.
 *
 * @module
 */
import type { CompressionType } from "../record/compression.ts";
import { RecordAccumulator, type SentBatch, type TopicLogs } from "./record_accumulator.ts";
import type { ProducerRecord } from "./types.ts";

/** Options of `topic.writable()`. */
export interface WritableOptions {
  /** Send a partition's batch once it holds this many bytes (Kafka's `batch.size`). @default 16384 */
  batchSize?: number;
  /** Send a partial batch after this many ms without it filling up (Kafka's `linger.ms`). @default 5 */
  lingerMs?: number;
  /** Compression codec of the batches written (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd). @default 0 */
  compression?: CompressionType;
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
 * @example
 * ```ts
 * import { ProduceSink } from "./produce_sink.ts";
 * declare const topic: import("./record_accumulator.ts").TopicLogs;
 * const writable = new WritableStream(new ProduceSink(topic, { lingerMs: 5 }));
 * const writer = writable.getWriter();
 * await writer.write({ key: "k", value: "v" });
 * await writer.close(); // durable now
 * ```
 */
export class ProduceSink implements UnderlyingSink<ProducerRecord> {
  readonly #accumulator: RecordAccumulator;
  readonly #lingerMs: number;
  readonly #maxInFlight: number;
  #inFlight: Promise<unknown>[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #error: unknown;
  #controller: WritableStreamDefaultController | undefined;

  /**
   * @param topic the topic's name and partition logs
   * @param options batching options
   */
  constructor(topic: TopicLogs, options: WritableOptions = {}) {
    this.#lingerMs = options.lingerMs ?? 5;
    this.#maxInFlight = options.maxInFlight ?? 4;
    if (!(this.#lingerMs >= 0)) throw new RangeError(`Invalid lingerMs ${this.#lingerMs}: must be 0 or more`);
    if (!(this.#maxInFlight >= 1)) {
      throw new RangeError(`Invalid maxInFlight ${this.#maxInFlight}: must be at least 1`);
    }
    this.#accumulator = new RecordAccumulator(topic, options, (batch) => this.#sent(batch));
  }

  #sent(batch: SentBatch): void {
    const p = batch.result.catch((err) => {
      if (this.#error === undefined) {
        this.#error = err;
        this.#controller?.error(err);
      }
    });
    this.#inFlight.push(p);
  }

  /** Called by the stream once, before the first write. */
  start(controller: WritableStreamDefaultController): void {
    this.#controller = controller;
  }

  /**
   * Places one record; waits only when too many batches await acknowledgement.
   *
   * @throws {UnknownTopicOrPartitionError} for a partition the topic does not have
   * @throws {RecordTooLargeError} for a record larger than `maxMessageBytes`
   */
  write(record: ProducerRecord): Promise<void> | void {
    if (this.#error !== undefined) throw this.#error;
    this.#accumulator.add(record);
    if (this.#inFlight.length > this.#maxInFlight) return this.#waitInFlight();
    if (this.#timer === undefined && !this.#accumulator.isEmpty) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#accumulator.drainAll();
      }, this.#lingerMs);
    }
  }

  async #waitInFlight(): Promise<void> {
    while (this.#inFlight.length > this.#maxInFlight) await this.#inFlight.shift();
    if (this.#error !== undefined) throw this.#error;
  }

  /** Sends every pending batch and waits until all are acknowledged. */
  async close(): Promise<void> {
    this.#clearTimer();
    this.#accumulator.drainAll();
    await Promise.all(this.#inFlight);
    this.#inFlight = [];
    if (this.#error !== undefined) throw this.#error;
  }

  /** Drops pending records that were never sent; batches already sent stay. */
  abort(): void {
    this.#clearTimer();
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
