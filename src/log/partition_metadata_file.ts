/**
 * Topic IDs (KIP-516) and the `partition.metadata` file that records one in each partition
 * directory, as Kafka's `PartitionMetadataFile` does. A topic ID names one incarnation of a
 * topic: a topic deleted and created again under the same name gets a new ID, so a process still
 * holding the old one can tell that its partition directory now belongs to another topic.
 *
 * ```
 * partition.metadata => "version: 0\ntopic_id: " topic_id     (UTF-8 text, no trailing newline)
 * topic_id           => 16 bytes, base64url without padding (22 characters), as Kafka's Uuid.toString
 * ```
 *
 * Sources: Kafka `storage/.../internals/log/PartitionMetadataFile.java`,
 * `PartitionMetadataFileFormatter.java` (the text above), `PartitionMetadataReadBuffer.java` (each
 * line split at ": "; version 0 only; the zero UUID refused); `clients/.../common/Uuid.java`
 * (`randomUuid`: a version 4 UUID, never the reserved 0 or 1, never one whose text starts with `-`).
 *
 * @module
 */
import { StorageError } from "../errors.ts";
import { createFileExclusive, readRegularFile } from "../runtime/file_system.ts";

/** The file name, in each partition directory. */
export const PARTITION_METADATA_FILE = "partition.metadata";

const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

function base64url(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = i + 2 < bytes.length ? 4 : i + 1 < bytes.length ? 3 : 2;
    for (let c = 0; c < chars; c++) out += BASE64URL[(n >> (18 - 6 * c)) & 63];
  }
  return out;
}

/**
 * Whether `text` is a topic ID as Kafka prints one: 22 base64url characters encoding 16 bytes,
 * not the reserved zero or one UUID.
 *
 * @param text the text to check
 * @returns whether it is a topic ID
 * @example A topic ID, the zero UUID and garbage
 * ```ts
 * import assert from "node:assert/strict";
 * import { isTopicId } from "./partition_metadata_file.ts";
 * assert.equal(isTopicId("sSOeW1GvS5m-2dAgFzRNiQ"), true);
 * assert.equal(isTopicId("AAAAAAAAAAAAAAAAAAAAAA"), false); // the zero UUID
 * assert.equal(isTopicId("not an id"), false);
 * ```
 */
export function isTopicId(text: unknown): text is string {
  // 22 characters hold 132 bits: the last one carries 2 bits of the UUID and 4 zero bits.
  return typeof text === "string" && /^[A-Za-z0-9_-]{21}[AQgw]$/.test(text) &&
    text !== "AAAAAAAAAAAAAAAAAAAAAA" && text !== "AAAAAAAAAAAAAAAAAAAAAQ";
}

/**
 * A new random topic ID, as Kafka's `Uuid.randomUuid()` makes one: a version 4 UUID whose text
 * does not start with `-`.
 *
 * @returns the ID, 22 base64url characters
 * @example A fresh topic ID each time
 * ```ts
 * import assert from "node:assert/strict";
 * import { isTopicId, randomTopicId } from "./partition_metadata_file.ts";
 * const id = randomTopicId();
 * assert.ok(isTopicId(id));
 * assert.notEqual(id, randomTopicId());
 * ```
 */
export function randomTopicId(): string {
  for (;;) {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // variant 2 (Leach-Salz)
    const id = base64url(bytes);
    if (!id.startsWith("-")) return id;
  }
}

/**
 * The text of a `partition.metadata` file naming `topicId`.
 *
 * @param topicId the topic ID
 * @returns `"version: 0\ntopic_id: <topicId>"`
 * @example Kafka's partition.metadata text
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatPartitionMetadata } from "./partition_metadata_file.ts";
 * assert.equal(formatPartitionMetadata("sSOeW1GvS5m-2dAgFzRNiQ"), "version: 0\ntopic_id: sSOeW1GvS5m-2dAgFzRNiQ");
 * ```
 */
export function formatPartitionMetadata(topicId: string): string {
  return `version: 0\ntopic_id: ${topicId}`;
}

/**
 * Reads the topic ID from a partition directory's `partition.metadata`.
 *
 * @param dir the partition directory
 * @returns the topic ID, or `undefined` when the file (or the directory) does not exist
 * @throws {StorageError} when the file exists but is not a version 0 partition metadata file with
 *   a valid topic ID, or cannot be read
 * @example Missing, then written
 * ```ts
 * import assert from "node:assert/strict";
 * import { readPartitionMetadata, writePartitionMetadata } from "./partition_metadata_file.ts";
 * const dir = Deno.makeTempDirSync();
 * assert.equal(readPartitionMetadata(dir), undefined);
 * writePartitionMetadata(dir, "sSOeW1GvS5m-2dAgFzRNiQ");
 * assert.equal(readPartitionMetadata(dir), "sSOeW1GvS5m-2dAgFzRNiQ");
 * ```
 */
export function readPartitionMetadata(dir: string): string | undefined {
  const path = `${dir}/${PARTITION_METADATA_FILE}`;
  let text: string;
  try {
    text = new TextDecoder().decode(readRegularFile(path));
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw new StorageError(`Cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  const lines = text.split("\n");
  const version = /^version:\s+(\d+)$/.exec(lines[0] ?? "");
  const id = /^topic_id:\s+(\S+)$/.exec(lines[1] ?? "");
  if (version?.[1] !== "0" || !id || !isTopicId(id[1]) || lines.slice(2).some((l) => l.trim() !== "")) {
    throw new StorageError(
      `Cannot read ${path}: expected "version: 0" and a "topic_id: " line with a topic ID, found ${
        JSON.stringify(text.slice(0, 80))
      }`,
    );
  }
  return id[1];
}

/**
 * Writes a partition directory's `partition.metadata` unless it exists (`createFileExclusive`: the
 * file is written beside its name, fsynced, and linked into place), so that of two processes
 * writing it at once one wins and both then read the same ID.
 *
 * @param dir the partition directory (it must exist)
 * @param topicId the topic ID to record
 * @returns the topic ID the file holds afterwards: `topicId`, or the one already there
 * @throws {StorageError} when the file cannot be written or read
 * @example The first writer wins
 * ```ts
 * import assert from "node:assert/strict";
 * import { randomTopicId, writePartitionMetadata } from "./partition_metadata_file.ts";
 * const dir = Deno.makeTempDirSync();
 * const first = randomTopicId();
 * assert.equal(writePartitionMetadata(dir, first), first);
 * assert.equal(writePartitionMetadata(dir, randomTopicId()), first); // the first one stays
 * ```
 */
export function writePartitionMetadata(dir: string, topicId: string): string {
  const path = `${dir}/${PARTITION_METADATA_FILE}`;
  try {
    createFileExclusive(path, formatPartitionMetadata(topicId));
  } catch (err) {
    throw new StorageError(`Cannot write ${path}: ${(err as Error).message}`, { cause: err });
  }
  return readPartitionMetadata(dir) ?? topicId;
}
