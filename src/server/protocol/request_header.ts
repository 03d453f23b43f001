/**
 * Kafka's request and response headers (`RequestHeader.json`, `ResponseHeader.json`), and which
 * version of each an API version uses.
 *
 * Grammar:
 * ```
 * Request Header v1 => request_api_key int16, request_api_version int16, correlation_id int32,
 *                      client_id NULLABLE_STRING
 * Request Header v2 => v1, TAGGED_FIELDS          (client_id keeps its int16 length)
 * Response Header v0 => correlation_id int32
 * Response Header v1 => correlation_id int32, TAGGED_FIELDS
 * ```
 * ApiVersions responses always use header v0, so that a client that does not know the broker's
 * versions can read them (`ApiVersionsResponse.json`).
 *
 * @module
 */
import type { ByteReader } from "./byte_reader.ts";
import { ByteWriter } from "./byte_writer.ts";
import { isFlexible, messageCodec } from "./message_codec.ts";
import { inVersions } from "./message_schema.ts";
import { REQUEST_HEADER_SCHEMA, REQUEST_SCHEMAS, RESPONSE_SCHEMAS } from "./messages.ts";

/** The API key of ApiVersions. */
export const API_VERSIONS_KEY = 18;

/** A parsed request header. */
export interface RequestHeader {
  /** The API key (0 Produce, 1 Fetch, …). */
  requestApiKey: number;
  /** The API version. */
  requestApiVersion: number;
  /** Echoed in the response. */
  correlationId: number;
  /** The client's ID, or null. */
  clientId: string | null;
}

/**
 * The request header version of an API version: 2 for flexible versions, else 1. An ApiVersions
 * request of a version the broker does not know is read as Kafka does (v2 from version 3 on).
 *
 * @param apiKey the API key
 * @param apiVersion the API version
 * @returns 1 or 2, or `undefined` for an unknown API or version (the request cannot be parsed)
 */
function requestHeaderVersion(apiKey: number, apiVersion: number): number | undefined {
  const schema = REQUEST_SCHEMAS.get(apiKey);
  if (!schema) return undefined;
  if (inVersions(schema.validVersions, apiVersion)) return isFlexible(schema, apiVersion) ? 2 : 1;
  if (apiKey === API_VERSIONS_KEY && apiVersion >= 0) return apiVersion >= 3 ? 2 : 1;
  return undefined;
}

/**
 * Reads a request's header.
 *
 * @param reader positioned at the start of the request (after its size)
 * @returns the header, and whether its API and version are known (the body can then be read)
 * @throws {MalformedRequestError} when the header does not parse
 * @example Read an ApiVersions v0 request header
 * ```ts
 * import assert from "node:assert/strict";
 * import { ByteReader } from "./byte_reader.ts";
 * import { readRequestHeader } from "./request_header.ts";
 * // ApiVersions v0, correlation ID 7, client ID "c"
 * const bytes = new Uint8Array([0, 18, 0, 0, 0, 0, 0, 7, 0, 1, 99]);
 * const { header, known } = readRequestHeader(new ByteReader(bytes));
 * assert.deepEqual(header, { requestApiKey: 18, requestApiVersion: 0, correlationId: 7, clientId: "c" });
 * assert.equal(known, true);
 * ```
 */
export function readRequestHeader(reader: ByteReader): { header: RequestHeader; known: boolean } {
  const start = reader.position;
  const apiKey = reader.int16();
  const apiVersion = reader.int16();
  const correlationId = reader.int32();
  const version = requestHeaderVersion(apiKey, apiVersion);
  if (version === undefined) {
    return {
      header: { requestApiKey: apiKey, requestApiVersion: apiVersion, correlationId, clientId: null },
      known: false,
    };
  }
  reader.position = start;
  const header = messageCodec(REQUEST_HEADER_SCHEMA, version).read(reader) as unknown as RequestHeader;
  const schema = REQUEST_SCHEMAS.get(apiKey)!;
  return { header, known: inVersions(schema.validVersions, apiVersion) };
}

/**
 * Writes a response: its header (v1 for flexible versions, v0 otherwise and always for
 * ApiVersions) and its body, encoded with that API version's definition, preceded by the int32
 * size.
 *
 * @param apiKey the API key
 * @param apiVersion the version the request used (the response uses the same)
 * @param correlationId the request's correlation ID
 * @param body the response fields
 * @returns the whole frame, as chunks to send in order
 * @throws {TypeError} when a field that may not be null is null
 * @example A Heartbeat v0 response, length prefix first
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeResponse } from "./request_header.ts";
 * const chunks = encodeResponse(12, 0, 5, { errorCode: 0 }); // Heartbeat v0
 * assert.deepEqual(chunks.flatMap((c) => [...c]), [0, 0, 0, 6, 0, 0, 0, 5, 0, 0]);
 * ```
 */
export function encodeResponse(
  apiKey: number,
  apiVersion: number,
  correlationId: number,
  body: { [field: string]: unknown },
): Uint8Array[] {
  const schema = RESPONSE_SCHEMAS.get(apiKey);
  if (!schema) throw new RangeError(`No response definition for API key ${apiKey}`);
  const w = new ByteWriter();
  w.int32(0); // the size, set below
  w.int32(correlationId);
  if (apiKey !== API_VERSIONS_KEY && isFlexible(schema, apiVersion)) w.uvarint(0);
  messageCodec(schema, apiVersion).write(w, body);
  const chunks = w.chunks();
  new DataView(chunks[0].buffer, chunks[0].byteOffset, 4).setInt32(0, w.length - 4);
  return chunks;
}

/**
 * Reads a request's body with its API version's definition.
 *
 * @param reader positioned after the header
 * @param header the request's header (its API must be known)
 * @returns the request fields
 * @throws {MalformedRequestError} when the body does not parse
 */
export function readRequestBody(reader: ByteReader, header: RequestHeader): { [field: string]: unknown } {
  return messageCodec(REQUEST_SCHEMAS.get(header.requestApiKey)!, header.requestApiVersion).read(reader);
}
