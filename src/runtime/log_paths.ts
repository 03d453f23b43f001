/**
 * The one validator of every path built from a caller's input: topic names, partition numbers,
 * consumer group ids and member ids become file and directory names inside the log directory only
 * through this module, and {@linkcode joinLogPath} refuses any component that could leave it.
 *
 * ```
 * <dir>/<topic>-<partition>/                          a partition's log (Kafka's log directory naming)
 * <dir>/.topics/<topic>.json                          a topic's config
 * <dir>/.groups/<group id, percent-encoded>/          a consumer group
 *   member-<member id, percent-encoded>.json          a member of it
 *   offsets/<topic>/<partition>.json                  a committed offset
 * ```
 *
 * Topic names follow Kafka's rule (`clients/.../common/internals/Topic.java`, `validate`): 1 to 249
 * characters of `[a-zA-Z0-9._-]`, not `.` or `..`, so a topic name is its own file name. Group ids
 * and member ids are arbitrary strings in Kafka, so they are encoded rather than rejected: every
 * byte of their UTF-8 outside `[A-Za-z0-9_-]`, and a leading `.`, is percent-encoded.
 *
 * @module
 */
import {
  InvalidGroupIdError,
  InvalidPathError,
  InvalidTopicError,
  UnknownTopicOrPartitionError,
} from "../errors.ts";

/** The longest legal topic name, in characters (Kafka's `Topic.MAX_NAME_LENGTH`). */
export const MAX_TOPIC_NAME_LENGTH = 249;

/** The most partitions a topic may have. */
export const MAX_PARTITIONS = 100_000;

/** The directory of topic configs inside a log directory. */
export const TOPICS_DIR = ".topics";

/** The directory of consumer groups inside a log directory. */
export const GROUPS_DIR = ".groups";

/** The directory of a group's committed offsets inside its group directory. */
export const OFFSETS_DIR = "offsets";

/** The longest encoded group id, in characters (leaves room for temporary names beside it). */
const MAX_ENCODED_GROUP_ID = 240;
/** The longest encoded member id: `member-<id>.json.<uuid>.tmp` still fits in 255 bytes. */
const MAX_ENCODED_MEMBER_ID = 200;
/** The longest file name most file systems take, in bytes. */
const MAX_NAME_BYTES = 255;

/**
 * Checks a topic name against Kafka's rule, which also keeps every partition directory
 * (`<topic>-<partition>`) and config file (`.topics/<topic>.json`) inside the log directory.
 *
 * @param name the topic name
 * @throws {InvalidTopicError} when the name is not a string, is empty, `.` or `..`, longer than 249
 *   characters, or holds a character outside `[a-zA-Z0-9._-]`
 * @example Legal and illegal names
 * ```ts
 * import assert from "node:assert/strict";
 * import { InvalidTopicError } from "../errors.ts";
 * import { validateTopicName } from "./log_paths.ts";
 * validateTopicName("web-logs.v1");
 * assert.throws(() => validateTopicName("../x"), InvalidTopicError);
 * assert.throws(() => validateTopicName(".."), InvalidTopicError);
 * ```
 */
export function validateTopicName(name: unknown): asserts name is string {
  if (typeof name !== "string") throw new InvalidTopicError(String(name), "a topic name must be a string");
  if (name.length === 0) throw new InvalidTopicError(name, "the name is empty");
  if (name === "." || name === "..") throw new InvalidTopicError(name, `"." and ".." are not allowed`);
  if (name.length > MAX_TOPIC_NAME_LENGTH) {
    throw new InvalidTopicError(
      name,
      `the name is ${name.length} characters long; the limit is ${MAX_TOPIC_NAME_LENGTH}`,
    );
  }
  if (!/^[a-zA-Z0-9._-]+$/.test(name)) {
    throw new InvalidTopicError(name, "only ASCII letters, digits, '.', '_' and '-' are allowed");
  }
}

/**
 * Checks a partition number: a whole number from 0 to `partitions - 1`.
 *
 * @param topic the topic name (for the error)
 * @param partition the partition number
 * @param partitions how many partitions the topic has; {@linkcode MAX_PARTITIONS} when unknown
 * @throws {UnknownTopicOrPartitionError} when the partition is not a whole number in range
 * @example Partitions 0 to count − 1 exist
 * ```ts
 * import assert from "node:assert/strict";
 * import { UnknownTopicOrPartitionError } from "../errors.ts";
 * import { validatePartition } from "./log_paths.ts";
 * validatePartition("events", 3, 4);
 * assert.throws(() => validatePartition("events", 4, 4), UnknownTopicOrPartitionError);
 * assert.throws(() => validatePartition("events", -1), UnknownTopicOrPartitionError);
 * assert.throws(() => validatePartition("events", 1.5), UnknownTopicOrPartitionError);
 * ```
 */
export function validatePartition(
  topic: string,
  partition: unknown,
  partitions: number = MAX_PARTITIONS,
): asserts partition is number {
  if (!Number.isSafeInteger(partition) || (partition as number) < 0 || (partition as number) >= partitions) {
    throw new UnknownTopicOrPartitionError(
      topic,
      typeof partition === "number"
        ? partition
        : (JSON.stringify(partition) ?? String(partition)) as unknown as number,
    );
  }
}

/**
 * Reads a partition directory's name, `<topic>-<partition>` (Kafka's log directory naming).
 *
 * @param name a directory name
 * @returns the topic and partition, or `undefined` when the name is not a valid topic name, a dash
 *   and a partition number below {@linkcode MAX_PARTITIONS}
 * @example A directory name split at its last dash
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePartitionDirName } from "./log_paths.ts";
 * assert.deepEqual(parsePartitionDirName("clicks-v2-3"), { topic: "clicks-v2", partition: 3 });
 * assert.equal(parsePartitionDirName("notes"), undefined);
 * ```
 */
export function parsePartitionDirName(name: string): { topic: string; partition: number } | undefined {
  const m = /^(.+)-(\d+)$/.exec(name);
  if (!m) return undefined;
  try {
    validateTopicName(m[1]);
  } catch {
    return undefined;
  }
  return { topic: m[1], partition: Number(m[2]) };
}

/** Percent-encodes the UTF-8 of `value` outside `[A-Za-z0-9_-]` (and a leading `.`). */
function percentEncode(value: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(value)) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9_-]/.test(c) || (c === "." && out.length > 0)
      ? c
      : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

function isWellFormed(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && !/\p{Surrogate}/u.test(value);
}

/**
 * A consumer group id as a directory name. Kafka allows any string as a group id, so it is
 * encoded, not rejected: every UTF-8 byte outside `[A-Za-z0-9_-]`, and a leading `.`, becomes
 * `%XX`.
 *
 * @param groupId the group id
 * @returns the directory name (never `.`, `..`, or holding `/`)
 * @throws {InvalidGroupIdError} for an empty or non-string id, one with a lone surrogate, or one
 *   whose encoding is longer than 240 characters
 * @example Group ids that cannot escape the groups directory
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeGroupId, encodeGroupId } from "./log_paths.ts";
 * assert.equal(encodeGroupId("billing.v2"), "billing.v2");
 * assert.equal(encodeGroupId("../x"), "%2E.%2Fx");
 * assert.equal(decodeGroupId("%2E.%2Fx"), "../x");
 * ```
 */
export function encodeGroupId(groupId: unknown): string {
  if (!isWellFormed(groupId)) {
    throw new InvalidGroupIdError(String(groupId), "expected a non-empty, well-formed string");
  }
  const out = percentEncode(groupId);
  if (out.length > MAX_ENCODED_GROUP_ID) {
    throw new InvalidGroupIdError(
      groupId,
      `too long (${out.length} characters encoded, at most ${MAX_ENCODED_GROUP_ID})`,
    );
  }
  return out;
}

/**
 * The inverse of {@linkcode encodeGroupId}.
 *
 * @param name a directory name
 * @returns the group id, or `undefined` when the name is not an encoding of one
 * @example Decode a name, and refuse one that was never encoded
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeGroupId } from "./log_paths.ts";
 * assert.equal(decodeGroupId("a%20b"), "a b");
 * assert.equal(decodeGroupId("a b"), undefined);
 * ```
 */
export function decodeGroupId(name: string): string | undefined {
  try {
    const id = decodeURIComponent(name);
    return encodeGroupId(id) === name ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A member id as the part of a file name between `member-` and `.json`, encoded as
 * {@linkcode encodeGroupId} encodes group ids (a member id starts with the consumer's client id,
 * which is any string).
 *
 * @param memberId the member id
 * @returns the encoded id
 * @throws {InvalidPathError} for an empty or non-string id, one with a lone surrogate, or one whose
 *   encoding is longer than 200 characters
 * @example Member ids as file names
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeMemberId, encodeMemberId } from "./log_paths.ts";
 * assert.equal(encodeMemberId("app-1234"), "app-1234");
 * assert.equal(encodeMemberId("a/b-1"), "a%2Fb-1");
 * assert.equal(decodeMemberId("a%2Fb-1"), "a/b-1");
 * ```
 */
export function encodeMemberId(memberId: unknown): string {
  if (!isWellFormed(memberId)) {
    throw new InvalidPathError(String(memberId), "a member id must be a non-empty, well-formed string");
  }
  const out = percentEncode(memberId);
  if (out.length > MAX_ENCODED_MEMBER_ID) {
    throw new InvalidPathError(
      memberId,
      `a member id may be at most ${MAX_ENCODED_MEMBER_ID} characters encoded; this one is ${out.length}`,
    );
  }
  return out;
}

/**
 * The inverse of {@linkcode encodeMemberId}.
 *
 * @param name the encoded id
 * @returns the member id, or `undefined` when the name is not an encoding of one
 * @example Decode a member file name, and refuse a malformed one
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeMemberId } from "./log_paths.ts";
 * assert.equal(decodeMemberId("c-1"), "c-1");
 * assert.equal(decodeMemberId("%"), undefined);
 * ```
 */
export function decodeMemberId(name: string): string | undefined {
  try {
    const id = decodeURIComponent(name);
    return encodeMemberId(id) === name ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Joins path components under the log directory, refusing any component that is not a single
 * plain name: empty, `.`, `..`, holding `/`, `\` or NUL, or longer than 255 bytes. Every path
 * reel builds from a caller's input ends here, so none can leave the log directory.
 *
 * @param dir the log directory (or a directory inside it that this module built)
 * @param components the names below it, one directory level each
 * @returns `dir/c1/c2/…`
 * @throws {InvalidPathError} when a component could name something outside `dir` or is no name
 * @example Names under the log directory, never outside it
 * ```ts
 * import assert from "node:assert/strict";
 * import { InvalidPathError } from "../errors.ts";
 * import { joinLogPath } from "./log_paths.ts";
 * assert.equal(joinLogPath("/data/log", ".topics", "events.json"), "/data/log/.topics/events.json");
 * assert.throws(() => joinLogPath("/data/log", ".."), InvalidPathError);
 * assert.throws(() => joinLogPath("/data/log", "a/../../etc"), InvalidPathError);
 * ```
 */
export function joinLogPath(dir: string, ...components: string[]): string {
  for (const c of components) {
    if (typeof c !== "string" || c.length === 0 || c === "." || c === "..") {
      throw new InvalidPathError(String(c), `it is not a name under ${dir}`);
    }
    if (/[/\\\0]/.test(c)) {
      throw new InvalidPathError(c, `a name under ${dir} may not hold "/", "\\" or NUL`);
    }
    if (new TextEncoder().encode(c).length > MAX_NAME_BYTES) {
      throw new InvalidPathError(c, `a name under ${dir} may be at most ${MAX_NAME_BYTES} bytes long`);
    }
  }
  return components.length === 0 ? dir : `${dir}/${components.join("/")}`;
}

/**
 * The directory of one partition's log: `<dir>/<topic>-<partition>`.
 *
 * @param dir the log directory
 * @param topic the topic name
 * @param partition the partition number
 * @returns the path
 * @throws {InvalidTopicError} for an illegal topic name
 * @throws {UnknownTopicOrPartitionError} for a partition that is not a whole number below {@linkcode MAX_PARTITIONS}
 * @example A partition's directory
 * ```ts
 * import assert from "node:assert/strict";
 * import { partitionDirPath } from "./log_paths.ts";
 * assert.equal(partitionDirPath("/data/log", "events", 2), "/data/log/events-2");
 * ```
 */
export function partitionDirPath(dir: string, topic: string, partition: number): string {
  validateTopicName(topic);
  validatePartition(topic, partition);
  return joinLogPath(dir, `${topic}-${partition}`);
}

/**
 * The config file of a topic: `<dir>/.topics/<topic>.json`.
 *
 * @param dir the log directory
 * @param topic the topic name
 * @returns the path
 * @throws {InvalidTopicError} for an illegal topic name
 * @example A topic's config file
 * ```ts
 * import assert from "node:assert/strict";
 * import { topicConfigPath } from "./log_paths.ts";
 * assert.equal(topicConfigPath("/data/log", "events"), "/data/log/.topics/events.json");
 * ```
 */
export function topicConfigPath(dir: string, topic: string): string {
  validateTopicName(topic);
  return joinLogPath(dir, TOPICS_DIR, `${topic}.json`);
}

/**
 * The directory of a consumer group: `<dir>/.groups/<group id, encoded>`.
 *
 * @param dir the log directory
 * @param groupId the group id (any well-formed string)
 * @returns the path
 * @throws {InvalidGroupIdError} for an id that {@linkcode encodeGroupId} refuses
 * @example A hostile group id stays inside .groups/
 * ```ts
 * import assert from "node:assert/strict";
 * import { groupDirPath } from "./log_paths.ts";
 * assert.equal(groupDirPath("/data/log", "../../etc"), "/data/log/.groups/%2E.%2F..%2Fetc");
 * ```
 */
export function groupDirPath(dir: string, groupId: string): string {
  return joinLogPath(dir, GROUPS_DIR, encodeGroupId(groupId));
}

/**
 * The file of a group member: `<group dir>/member-<member id, encoded>.json`.
 *
 * @param groupDir the group's directory ({@linkcode groupDirPath})
 * @param memberId the member id
 * @returns the path
 * @throws {InvalidPathError} for a member id that {@linkcode encodeMemberId} refuses
 * @example A member's file
 * ```ts
 * import assert from "node:assert/strict";
 * import { memberFilePath } from "./log_paths.ts";
 * assert.equal(memberFilePath("/g", "app-1"), "/g/member-app-1.json");
 * ```
 */
export function memberFilePath(groupDir: string, memberId: string): string {
  return joinLogPath(groupDir, `member-${encodeMemberId(memberId)}.json`);
}

/**
 * The file of a committed offset: `<group dir>/offsets/<topic>/<partition>.json`.
 *
 * @param groupDir the group's directory ({@linkcode groupDirPath})
 * @param topic the topic name
 * @param partition the partition number
 * @returns the path
 * @throws {InvalidTopicError} for an illegal topic name
 * @throws {UnknownTopicOrPartitionError} for a partition that is not a whole number below {@linkcode MAX_PARTITIONS}
 * @example A committed offset's file, and a hostile topic name
 * ```ts
 * import assert from "node:assert/strict";
 * import { InvalidTopicError } from "../errors.ts";
 * import { committedOffsetPath } from "./log_paths.ts";
 * assert.equal(committedOffsetPath("/g", "events", 0), "/g/offsets/events/0.json");
 * assert.throws(() => committedOffsetPath("/g", "../../../tmp/x", 0), InvalidTopicError);
 * ```
 */
export function committedOffsetPath(groupDir: string, topic: string, partition: number): string {
  validateTopicName(topic);
  validatePartition(topic, partition);
  return joinLogPath(groupDir, OFFSETS_DIR, topic, `${partition}.json`);
}
