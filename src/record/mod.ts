/**
 * Kafka's record format, magic 2: records, RecordBatch encoding and decoding, the CRC-32C that
 * guards a batch, the compression codecs, and the zigzag varints inside records.
 *
 * Source: Apache Kafka `docs/implementation.html` §5.3 "Record Batch" and
 * `clients/src/main/java/org/apache/kafka/common/record/`.
 *
 * @example Encode a compressed batch, check it and read it back
 * ```ts
 * import assert from "node:assert/strict";
 * import { CompressionType, decodeRecordBatch, encodeRecordBatch, validateRecordBatch } from "./mod.ts";
 * import { CorruptRecordError } from "../errors.ts";
 * const enc = new TextEncoder();
 * const bytes = encodeRecordBatch(
 *   [{ key: enc.encode("user-1"), value: enc.encode('{"clicks":3}'), headers: [{ key: "source", value: enc.encode("web") }] }],
 *   { baseOffset: 10, compression: CompressionType.Zstd },
 * );
 * assert.equal(validateRecordBatch(bytes).baseOffset, 10);
 * const { header, records } = decodeRecordBatch(bytes);
 * assert.equal(header.compression, CompressionType.Zstd);
 * assert.equal(records[0].offset, 10);
 * assert.equal(new TextDecoder().decode(records[0].value!), '{"clicks":3}');
 * assert.equal(new TextDecoder().decode(records[0].headers[0].value!), "web");
 * bytes[bytes.length - 1] ^= 0xff; // one changed byte
 * assert.throws(() => validateRecordBatch(bytes), CorruptRecordError);
 * ```
 *
 * @module
 */

export type { Record, RecordHeader, RecordInput } from "./record.ts";
export { normalizeHeaders, type ProducerRecord, toBytes, toRecordInput } from "./producer_record.ts";
export type { ConsumedRecord } from "./consumed_record.ts";
export {
  batchSize,
  LOG_OVERHEAD,
  MAGIC,
  readRecordBatchHeader,
  RECORD_BATCH_OVERHEAD,
  type RecordBatchHeader,
  setBaseOffset,
  setPartitionLeaderEpoch,
  validateRecordBatch,
} from "./record_batch.ts";
export { type DecodedRecordBatch, type DecodeOptions, decodeRecordBatch } from "./record_batch_decoder.ts";
export { type EncodeOptions, encodeRecordBatch } from "./record_batch_encoder.ts";
export {
  compress,
  type Compression,
  type CompressionName,
  compressionName,
  CompressionType,
  decompress,
  toCompressionType,
} from "./compression.ts";
export { crc32c, CRC32C_IMPLEMENTATION, type Crc32cImplementation } from "./crc32c.ts";
export {
  type Cursor,
  readVarint,
  readVarlong,
  sizeOfVarint,
  sizeOfVarlong,
  writeVarint,
  writeVarlong,
} from "./varint.ts";
