/**
 * Kafka's rule for topic names. Source: Kafka `clients/.../common/internals/Topic.java`
 * (`validate`: legal characters `[a-zA-Z0-9._-]`, at most 249 characters, not `.` or `..`).
 *
 * @module
 */
import { InvalidTopicError } from "../errors.ts";

/** The longest legal topic name, in characters. */
export const MAX_TOPIC_NAME_LENGTH = 249;

/**
 * Checks a topic name against Kafka's rule, which also keeps every partition directory
 * (`<topic>-<partition>`) inside the log directory.
 *
 * @param name the topic name
 * @throws {InvalidTopicError} when the name is empty, `.` or `..`, longer than 249 characters, or
 *   holds a character outside `[a-zA-Z0-9._-]`
 * @example
 * ```ts
 * import { validateTopicName } from "./topic_name.ts";
 * validateTopicName("web-logs.v1"); // fine
 * try { validateTopicName("../x"); } catch (err) { console.log((err as Error).message); }
 * ```
 */
export function validateTopicName(name: string): void {
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
 * Reads a partition directory's name, `<topic>-<partition>` (Kafka's log directory naming).
 *
 * @param name a directory name
 * @returns the topic and partition, or `undefined` when the name is not a valid topic name, a dash
 *   and a partition number
 * @example
 * ```ts
 * import { parsePartitionDirName } from "./topic_name.ts";
 * console.log(parsePartitionDirName("clicks-v2-3")); // { topic: "clicks-v2", partition: 3 }
 * console.log(parsePartitionDirName("notes")); // undefined
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
