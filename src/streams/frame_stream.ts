/**
 * Length-prefixed framing, the way Kafka frames its requests and responses: each frame is a big-endian
 * int32 byte length followed by that many bytes.
 *
 * ```
 * Frame => length: int32 (big-endian, >= 0), bytes: byte[length]
 * ```
 *
 * @module
 */

import { CorruptRecordError, RecordTooLargeError } from "../errors.ts";

const INT32_MAX = 0x7fff_ffff;
const PREFIX_BYTES = 4;

/**
 * Frames each chunk: writes its length as a big-endian int32, then its bytes, as one output chunk.
 *
 * @example Framing two messages
 * ```ts
 * import assert from "node:assert/strict";
 * import { LengthPrefixedFrameEncoderStream } from "./frame_stream.ts";
 * const frames = ReadableStream.from([new Uint8Array([1, 2]), new Uint8Array([3])])
 *   .pipeThrough(new LengthPrefixedFrameEncoderStream());
 * assert.deepEqual(await Array.fromAsync(frames), [
 *   new Uint8Array([0, 0, 0, 2, 1, 2]),
 *   new Uint8Array([0, 0, 0, 1, 3]),
 * ]);
 * ```
 */
export class LengthPrefixedFrameEncoderStream extends TransformStream<Uint8Array, Uint8Array> {
  /**
   * Creates the stream.
   *
   * @throws {RangeError} (from the stream) when a frame is longer than 2^31 - 1 bytes
   */
  constructor() {
    super({
      transform(frame, controller) {
        if (frame.length > INT32_MAX) {
          throw new RangeError(`Cannot frame ${frame.length} bytes: the length must fit an int32`);
        }
        const out = new Uint8Array(PREFIX_BYTES + frame.length);
        const n = frame.length;
        out[0] = n >>> 24;
        out[1] = (n >>> 16) & 0xff;
        out[2] = (n >>> 8) & 0xff;
        out[3] = n & 0xff;
        out.set(frame, PREFIX_BYTES);
        controller.enqueue(out);
      },
    });
  }
}

/** Options for {@linkcode LengthPrefixedFrameDecoderStream}. */
export interface LengthPrefixedFrameDecoderStreamOptions {
  /**
   * The largest frame accepted, in bytes (not counting the 4-byte length).
   * @default 2^31 - 1 (any int32 length)
   */
  maxFrameBytes?: number;
}

/**
 * Reads length-prefixed frames from a byte stream cut into chunks anywhere, and yields each frame's
 * bytes (without the length) as its own `Uint8Array`, which the stream does not touch again. Input
 * chunks must not be modified once written (a frame spanning chunks is copied out when it is complete).
 *
 * @example Frames split across chunks
 * ```ts
 * import assert from "node:assert/strict";
 * import { RecordTooLargeError } from "../errors.ts";
 * import { LengthPrefixedFrameDecoderStream } from "./frame_stream.ts";
 * const bytes = new Uint8Array([0, 0, 0, 2, 1, 2, 0, 0, 0, 1, 3]);
 * const frames = ReadableStream.from([bytes.subarray(0, 3), bytes.subarray(3, 9), bytes.subarray(9)])
 *   .pipeThrough(new LengthPrefixedFrameDecoderStream());
 * assert.deepEqual(await Array.fromAsync(frames), [new Uint8Array([1, 2]), new Uint8Array([3])]);
 * const tooLong = ReadableStream.from([bytes]).pipeThrough(new LengthPrefixedFrameDecoderStream({ maxFrameBytes: 1 }));
 * await assert.rejects(Array.fromAsync(tooLong), RecordTooLargeError);
 * ```
 */
export class LengthPrefixedFrameDecoderStream extends TransformStream<Uint8Array, Uint8Array> {
  /**
   * Creates the stream.
   *
   * @param options `maxFrameBytes`: the largest frame accepted
   * @throws {RangeError} when `maxFrameBytes` is not an integer from 0 to 2^31 - 1
   * @throws {CorruptRecordError} (from the stream) when a length is negative, or the stream ends
   *   inside a frame; `position` is the byte position of the frame's length in the stream
   * @throws {RecordTooLargeError} (from the stream) when a frame is longer than `maxFrameBytes`
   */
  constructor(options: LengthPrefixedFrameDecoderStreamOptions = {}) {
    const maxFrameBytes = options.maxFrameBytes ?? INT32_MAX;
    if (!Number.isInteger(maxFrameBytes) || maxFrameBytes < 0 || maxFrameBytes > INT32_MAX) {
      throw new RangeError(
        `Invalid maxFrameBytes ${maxFrameBytes}: expected an integer from 0 to ${INT32_MAX}`,
      );
    }
    /** The length prefix being read, when it spans chunks. */
    const prefix = new Uint8Array(PREFIX_BYTES);
    let prefixFill = 0;
    /** The length of the frame being collected when it spans chunks, else -1. */
    let frameLength = -1;
    /** The pieces of that frame seen so far (views of the input chunks), and their total length. */
    let pieces: Uint8Array[] = [];
    let frameFill = 0;
    /** The byte position, in the stream, of the current frame's length prefix. */
    let position = 0;

    const checkLength = (length: number) => {
      if (length < 0) {
        throw new CorruptRecordError(`frame length ${length} is negative`, { position });
      }
      if (length > maxFrameBytes) throw new RecordTooLargeError(length, maxFrameBytes);
    };

    super({
      transform(chunk, controller) {
        const n = chunk.length;
        let i = 0;
        while (i < n) {
          if (frameLength >= 0) {
            // Collecting a frame that spans chunks; memory grows only as its bytes arrive.
            const take = Math.min(frameLength - frameFill, n - i);
            pieces.push(chunk.subarray(i, i + take));
            frameFill += take;
            i += take;
            if (frameFill === frameLength) {
              const frame = new Uint8Array(frameLength);
              let at = 0;
              for (const piece of pieces) {
                frame.set(piece, at);
                at += piece.length;
              }
              controller.enqueue(frame);
              position += PREFIX_BYTES + frameLength;
              frameLength = -1;
              pieces = [];
            }
            continue;
          }
          let length: number;
          if (prefixFill === 0 && n - i >= PREFIX_BYTES) {
            length = (chunk[i] << 24) | (chunk[i + 1] << 16) | (chunk[i + 2] << 8) | chunk[i + 3];
            i += PREFIX_BYTES;
          } else {
            while (prefixFill < PREFIX_BYTES && i < n) prefix[prefixFill++] = chunk[i++];
            if (prefixFill < PREFIX_BYTES) break;
            prefixFill = 0;
            length = (prefix[0] << 24) | (prefix[1] << 16) | (prefix[2] << 8) | prefix[3];
          }
          checkLength(length);
          if (n - i >= length) {
            // Fast path: the whole frame is in this chunk.
            controller.enqueue(chunk.slice(i, i + length));
            position += PREFIX_BYTES + length;
            i += length;
          } else {
            frameLength = length;
            frameFill = 0;
          }
        }
      },
      flush() {
        if (prefixFill > 0) {
          throw new CorruptRecordError(
            `the stream ends inside a frame's length: ${prefixFill} of ${PREFIX_BYTES} bytes`,
            { position },
          );
        }
        if (frameLength >= 0) {
          throw new CorruptRecordError(
            `the stream ends inside a frame: ${frameFill} of ${frameLength} bytes`,
            { position },
          );
        }
      },
    });
  }
}
