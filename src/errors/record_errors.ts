/**
 * The errors about record batches and records: bytes that fail validation, a batch over
 * `maxMessageBytes`, a codec this build lacks, a record the codec or the log refuses.
 *
 * @module
 */
import { ReelError } from "./reel_error.ts";

/**
 * Bytes on disk or handed in failed validation: a bad CRC-32C, a bad length, an unknown magic byte
 * (code `CORRUPT_MESSAGE`, 2). `segment` and `position` say where, when the bytes came from a file.
 *
 * @example Where the bad batch is
 * ```ts
 * import assert from "node:assert/strict";
 * import { CorruptRecordError } from "./record_errors.ts";
 * const segment = "/d/t-0/00000000000000000000.log";
 * const err = new CorruptRecordError("CRC mismatch", { topic: "t", partition: 0, segment, position: 4096 });
 * assert.equal(err.code, "CORRUPT_MESSAGE");
 * assert.equal(err.errorCode, 2);
 * assert.equal(err.position, 4096);
 * assert.equal(err.message, `Corrupt record batch in "t-0", segment ${segment}, position 4096: CRC mismatch`);
 * assert.equal(new CorruptRecordError("bad length").message, "Corrupt record batch: bad length");
 * ```
 */
export class CorruptRecordError extends ReelError {
  /** The topic, when known. */
  readonly topic?: string;
  /** The partition, when known. */
  readonly partition?: number;
  /** The segment file path, when the bytes came from a file. */
  readonly segment?: string;
  /** The byte position of the bad batch in its file, when known. */
  readonly position?: number;

  /**
   * Creates the error; the message names where the bytes came from, as far as `where` says.
   *
   * @param detail what is wrong with the bytes
   * @param where where the bytes came from, when known
   * @param options the standard `ErrorOptions` (`cause`)
   */
  constructor(
    detail: string,
    where: { topic?: string; partition?: number; segment?: string; position?: number } = {},
    options?: ErrorOptions,
  ) {
    const at = [
      where.topic !== undefined ? `"${where.topic}-${where.partition ?? "?"}"` : undefined,
      where.segment !== undefined ? `segment ${where.segment}` : undefined,
      where.position !== undefined ? `position ${where.position}` : undefined,
    ].filter(Boolean).join(", ");
    super("CORRUPT_MESSAGE", `Corrupt record batch${at ? ` in ${at}` : ""}: ${detail}`, options);
    this.name = "CorruptRecordError";
    this.topic = where.topic;
    this.partition = where.partition;
    this.segment = where.segment;
    this.position = where.position;
  }
}

/**
 * A record or record batch is larger than `maxMessageBytes` (code `MESSAGE_TOO_LARGE`, 10).
 *
 * @example A batch over maxMessageBytes
 * ```ts
 * import assert from "node:assert/strict";
 * import { RecordTooLargeError } from "./record_errors.ts";
 * const err = new RecordTooLargeError(2_000_000, 1_048_588);
 * assert.equal(err.code, "MESSAGE_TOO_LARGE");
 * assert.equal(err.maxSize, 1_048_588);
 * assert.equal(
 *   err.message,
 *   "Cannot append a record batch of 2000000 bytes: the limit (maxMessageBytes) is 1048588 bytes",
 * );
 * ```
 */
export class RecordTooLargeError extends ReelError {
  /**
   * Creates the error.
   *
   * @param size the size in bytes (for a line cut short, the bytes of it read so far)
   * @param maxSize the limit in bytes (`maxMessageBytes`)
   * @param message the message, when the default (a record batch too large to append) does not fit
   */
  constructor(readonly size: number, readonly maxSize: number, message?: string) {
    super(
      "MESSAGE_TOO_LARGE",
      message ??
        `Cannot append a record batch of ${size} bytes: the limit (maxMessageBytes) is ${maxSize} bytes`,
    );
    this.name = "RecordTooLargeError";
  }
}

/**
 * A record batch uses a compression codec this build cannot read or write
 * (code `UNSUPPORTED_COMPRESSION_TYPE`, 76).
 *
 * @example An unknown codec number
 * ```ts
 * import assert from "node:assert/strict";
 * import { UnsupportedCompressionTypeError } from "./record_errors.ts";
 * const err = new UnsupportedCompressionTypeError("7", "it is not a Kafka codec");
 * assert.equal(err.message, "Cannot use compression type 7: it is not a Kafka codec");
 * assert.equal(err.errorCode, 76);
 * assert.equal(
 *   new UnsupportedCompressionTypeError("zstd").message,
 *   "Cannot use compression type zstd: no codec for it is available",
 * );
 * ```
 */
export class UnsupportedCompressionTypeError extends ReelError {
  /**
   * Creates the error.
   *
   * @param codec the codec's name, or its number when unknown
   * @param detail why it cannot be used
   */
  constructor(readonly codec: string, detail = "no codec for it is available") {
    super("UNSUPPORTED_COMPRESSION_TYPE", `Cannot use compression type ${codec}: ${detail}`);
    this.name = "UnsupportedCompressionTypeError";
  }
}

/**
 * A record is not valid for the codec or the log: a line that is not JSON under the JSON codec,
 * invalid UTF-8 under the text codec, a negative header count (code `INVALID_RECORD`, 87).
 *
 * @example A line that is not JSON
 * ```ts
 * import assert from "node:assert/strict";
 * import { InvalidRecordError } from "./record_errors.ts";
 * const err = new InvalidRecordError("Cannot parse line 3 as JSON: Unexpected token");
 * assert.equal(err.code, "INVALID_RECORD");
 * assert.equal(err.errorCode, 87);
 * assert.equal(err.name, "InvalidRecordError");
 * ```
 */
export class InvalidRecordError extends ReelError {
  /**
   * Creates the error.
   *
   * @param message what is wrong, with where it was found
   * @param options the standard `ErrorOptions` (`cause`)
   */
  constructor(message: string, options?: ErrorOptions) {
    super("INVALID_RECORD", message, options);
    this.name = "InvalidRecordError";
  }
}
