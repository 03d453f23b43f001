/**
 * Record batches as a stream: lists of records to Kafka RecordBatch bytes (magic 2) and back. The
 * byte format is that of `../record/record_batch.ts`; batches follow one another with nothing in
 * between, as in a log segment or a Fetch response:
 *
 * ```
 * stream => [RecordBatch]...
 * RecordBatch => baseOffset: int64, batchLength: int32, (batchLength bytes: partitionLeaderEpoch … records)
 * ```
 *
 * @module
 */

import { CorruptRecordError, RecordTooLargeError } from "../errors.ts";
import type { CompressionType } from "../record/compression.ts";
import type { Record, RecordInput } from "../record/record.ts";
import { LOG_OVERHEAD, RECORD_BATCH_OVERHEAD } from "../record/record_batch.ts";
import { decodeRecordBatch } from "../record/record_batch_decoder.ts";
import { encodeRecordBatch } from "../record/record_batch_encoder.ts";
import { concatBytes } from "./_concat_bytes.ts";

const INT32_MAX = 0x7fff_ffff;
/** The smallest batchLength: a header with no records. */
const MIN_BATCH_LENGTH = RECORD_BATCH_OVERHEAD - LOG_OVERHEAD;

/** Options for {@linkcode RecordBatchEncoderStream}. */
export interface RecordBatchEncoderStreamOptions {
  /**
   * The codec for each batch's records: 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd
   * (see `CompressionType`).
   * @default 0 (none)
   */
  compression?: CompressionType;
}

/**
 * Encodes each list of records into one RecordBatch. Every batch has baseOffset 0, as a producer
 * sends it; the log assigns offsets on append. An empty list yields nothing.
 *
 * @example Encoding two batches, gzip-compressed
 * ```ts
 * import assert from "node:assert/strict";
 * import { CompressionType } from "../record/compression.ts";
 * import { decodeRecordBatch } from "../record/record_batch_decoder.ts";
 * import { RecordBatchEncoderStream } from "./record_batch_stream.ts";
 * const value = new TextEncoder().encode("hello");
 * const batches = ReadableStream.from([[{ value }], [], [{ value }, { value }]])
 *   .pipeThrough(new RecordBatchEncoderStream({ compression: CompressionType.Gzip }));
 * const decoded = (await Array.fromAsync(batches)).map((bytes) => decodeRecordBatch(bytes));
 * assert.deepEqual(decoded.map((b) => b.records.length), [1, 2]); // an empty array makes no batch
 * assert.ok(decoded.every((b) => b.header.compression === CompressionType.Gzip));
 * ```
 */
export class RecordBatchEncoderStream extends TransformStream<RecordInput[], Uint8Array> {
  /**
   * Creates the stream.
   *
   * @param options `compression`: the codec for the records
   * @throws {RangeError} (from the stream) when a timestamp is not a safe integer
   * @throws {TypeError} (from the stream) when a header key is not a string
   * @throws {UnsupportedCompressionTypeError} (from the stream) when the codec is not available
   */
  constructor(options: RecordBatchEncoderStreamOptions = {}) {
    const encodeOptions = { compression: options.compression };
    super({
      transform(records, controller) {
        if (records.length === 0) return;
        controller.enqueue(encodeRecordBatch(records, encodeOptions));
      },
    });
  }
}

/** Options for {@linkcode RecordBatchDecoderStream}. */
export interface RecordBatchDecoderStreamOptions {
  /**
   * The largest batch accepted, in bytes (batchLength + 12).
   * @default 2^31 - 1 + 12 (any batchLength)
   */
  maxBatchBytes?: number;
}

/**
 * Reads back-to-back RecordBatches from a byte stream cut into chunks anywhere, checks each batch's
 * CRC-32C, and yields the records of each batch as one list. Each batch is copied out of the input
 * into its own buffer, which its records' `key`, `value` and header values are views of.
 *
 * @example Encoding and decoding, one byte at a time
 * ```ts
 * import assert from "node:assert/strict";
 * import { CorruptRecordError } from "../errors.ts";
 * import { RecordBatchDecoderStream, RecordBatchEncoderStream } from "./record_batch_stream.ts";
 * const value = new TextEncoder().encode("hi");
 * const [bytes] = await Array.fromAsync(
 *   ReadableStream.from([[{ value, timestamp: 1000 }, { value: null, timestamp: 1001 }]])
 *     .pipeThrough(new RecordBatchEncoderStream()),
 * );
 * const batches = ReadableStream.from(Array.from(bytes, (b) => new Uint8Array([b])))
 *   .pipeThrough(new RecordBatchDecoderStream());
 * const [records] = await Array.fromAsync(batches);
 * assert.deepEqual(records.map((r) => [r.offset, r.timestamp]), [[0, 1000], [1, 1001]]);
 * const cut = ReadableStream.from([bytes.subarray(0, bytes.length - 1)]).pipeThrough(new RecordBatchDecoderStream());
 * await assert.rejects(Array.fromAsync(cut), CorruptRecordError); // the stream ends inside a batch
 * ```
 */
export class RecordBatchDecoderStream extends TransformStream<Uint8Array, Record[]> {
  /**
   * Creates the stream.
   *
   * @param options `maxBatchBytes`: the largest batch accepted
   * @throws {RangeError} when `maxBatchBytes` is not a positive integer
   * @throws {CorruptRecordError} (from the stream) when a batch has a bad batchLength, magic byte, CRC
   *   or record, or the stream ends inside a batch; `position` is the batch's byte position in the
   *   stream
   * @throws {RecordTooLargeError} (from the stream) when a batch is larger than `maxBatchBytes`
   * @throws {InvalidRecordError} (from the stream) when a record has a negative header count
   * @throws {UnsupportedCompressionTypeError} (from the stream) when a batch's codec is not available
   */
  constructor(options: RecordBatchDecoderStreamOptions = {}) {
    const maxBatchBytes = options.maxBatchBytes ?? INT32_MAX + LOG_OVERHEAD;
    if (!Number.isInteger(maxBatchBytes) || maxBatchBytes <= 0) {
      throw new RangeError(`Invalid maxBatchBytes ${maxBatchBytes}: expected a positive integer`);
    }
    /** The pieces (views of input chunks) of the batch that spans chunks, and their total length. */
    let pieces: Uint8Array[] = [];
    let pending = 0;
    /** The size of that batch, once its first 12 bytes are in, else -1. */
    let size = -1;
    /** The byte position, in the stream, of the current batch. */
    let position = 0;

    /** The batch size read from the 12 bytes at `at`: batchLength + 12, checked. */
    const sizeAt = (bytes: Uint8Array, at: number): number => {
      const batchLength = (bytes[at + 8] << 24) | (bytes[at + 9] << 16) | (bytes[at + 10] << 8) |
        bytes[at + 11];
      if (batchLength < MIN_BATCH_LENGTH) {
        throw new CorruptRecordError(`batchLength ${batchLength} is below the minimum ${MIN_BATCH_LENGTH}`, {
          position,
        });
      }
      const total = batchLength + LOG_OVERHEAD;
      if (total > maxBatchBytes) throw new RecordTooLargeError(total, maxBatchBytes);
      return total;
    };

    const decode = (batch: Uint8Array, controller: TransformStreamDefaultController<Record[]>) => {
      let records: Record[];
      try {
        records = decodeRecordBatch(batch, 0).records;
      } catch (err) {
        if (!(err instanceof CorruptRecordError)) throw err;
        const detail = err.message.replace(/^Corrupt record batch: /, "").replace(
          /^Batch at byte 0\b|\bbatch at byte 0\b/,
          (s) => s.slice(0, -1) + position,
        );
        throw new CorruptRecordError(detail, { position }, { cause: err });
      }
      controller.enqueue(records);
      position += batch.length;
    };

    const join = (): Uint8Array => {
      const out = concatBytes(pieces, pending);
      pieces = [];
      pending = 0;
      size = -1;
      return out;
    };

    super({
      transform(chunk, controller) {
        const n = chunk.length;
        let i = 0;
        while (i < n) {
          if (pending === 0) {
            // Nothing carried over: decode the batches that are whole in this chunk in place.
            if (n - i < LOG_OVERHEAD) {
              pieces.push(chunk.subarray(i));
              pending = n - i;
              break;
            }
            const total = sizeAt(chunk, i);
            if (n - i < total) {
              pieces.push(chunk.subarray(i));
              pending = n - i;
              size = total;
              break;
            }
            decode(chunk.slice(i, i + total), controller);
            i += total;
            continue;
          }
          if (size < 0) {
            // Complete the 12 bytes that give the batch's size.
            const take = Math.min(LOG_OVERHEAD - pending, n - i);
            pieces.push(chunk.subarray(i, i + take));
            pending += take;
            i += take;
            if (pending < LOG_OVERHEAD) break;
            const head = join();
            size = sizeAt(head, 0);
            pieces = [head];
            pending = LOG_OVERHEAD;
            continue;
          }
          const take = Math.min(size - pending, n - i);
          pieces.push(chunk.subarray(i, i + take));
          pending += take;
          i += take;
          if (pending === size) decode(join(), controller);
        }
      },
      flush() {
        if (pending > 0) {
          const need = size < 0 ? `at least ${LOG_OVERHEAD}` : `${size}`;
          throw new CorruptRecordError(
            `the stream ends inside a batch: ${pending} bytes of ${need} are present`,
            { position },
          );
        }
      },
    });
  }
}
