/**
 * The shape of Apache Kafka's message definitions (`clients/src/main/resources/common/message/`,
 * described in that folder's README.md) and their version ranges.
 *
 * @module
 */

/** One field of a message or struct, as the JSON definition gives it. */
export interface FieldSchema {
  /** PascalCase name (decoded messages use it in camelCase). */
  name: string;
  /** `int8`…`int64`, `uint16`, `float64`, `bool`, `string`, `bytes`, `records`, `uuid`, a struct name, or `[]` + any of those. */
  type: string;
  /** The versions that have the field (`"3+"`, `"0-2"`, `"none"`). */
  versions: string;
  /** The versions where it may be null. */
  nullableVersions?: string;
  /** The versions where it is a tagged field (KIP-482). */
  taggedVersions?: string;
  /** Its tag, when tagged. */
  tag?: number;
  /** Its default, as text (`"-1"`, `"true"`, `"null"`). */
  default?: string | number | boolean;
  /** Overrides the message's flexible versions for this field (the request header's client ID: `"none"`). */
  flexibleVersions?: string;
  /** The fields of an inline struct or struct array. */
  fields?: FieldSchema[];
  /** Other keys of the definition (about, mapKey, entityType, ignorable), unused here. */
  [other: string]: unknown;
}

/** A message definition: a request, a response, or a header. */
export interface MessageSchema {
  /** The API key (requests and responses only). */
  apiKey?: number;
  /** `request`, `response` or `header`. */
  type: string;
  /** Such as `ProduceRequest`. */
  name: string;
  /** The versions Kafka defines. */
  validVersions: string;
  /** The versions encoded with compact types and tagged fields (KIP-482). */
  flexibleVersions: string;
  /** The top-level fields. */
  fields: FieldSchema[];
  /** Named structs shared by fields. */
  commonStructs?: { name: string; versions: string; fields: FieldSchema[] }[];
  /** Other keys (listeners, latestVersionUnstable), unused here. */
  [other: string]: unknown;
}

/** An inclusive version range; `max` is `Infinity` for `"N+"`, and `min > max` for `"none"`. */
export interface VersionRange {
  /** The lowest version. */
  min: number;
  /** The highest version. */
  max: number;
}

/**
 * Parses a version range as the definitions write it: `"3+"`, `"0-2"`, `"4"` or `"none"`.
 *
 * @param text the range
 * @returns the range
 * @throws {RangeError} for anything else
 * @example Open and closed version ranges
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseVersions } from "./message_schema.ts";
 * assert.deepEqual(parseVersions("3+"), { min: 3, max: Infinity });
 * assert.deepEqual(parseVersions("0-2"), { min: 0, max: 2 });
 * ```
 */
export function parseVersions(text: string): VersionRange {
  if (text === "none") return { min: 1, max: 0 };
  const m = /^(\d+)(?:(\+)|-(\d+))?$/.exec(text);
  if (!m) throw new RangeError(`Invalid version range ${JSON.stringify(text)}`);
  const min = Number(m[1]);
  return { min, max: m[2] ? Infinity : m[3] !== undefined ? Number(m[3]) : min };
}

/**
 * Whether `version` lies in a range given as text (`undefined` is no version).
 *
 * @param range the range text, such as `"3+"`
 * @param version the version
 * @returns true when it does
 * @example Whether a version is in a range
 * ```ts
 * import assert from "node:assert/strict";
 * import { inVersions } from "./message_schema.ts";
 * assert.equal(inVersions("3+", 5), true);
 * assert.equal(inVersions("none", 0), false);
 * ```
 */
export function inVersions(range: string | undefined, version: number): boolean {
  if (range === undefined) return false;
  const r = parseVersions(range);
  return version >= r.min && version <= r.max;
}
