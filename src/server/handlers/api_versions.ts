/**
 * ApiVersions (key 18): the APIs and versions the broker serves (`ApiVersionsRequest.json`,
 * `ApiVersionsResponse.json`, KIP-35; KIP-511 for the answer to a version the broker does not know).
 *
 * ```
 * ApiVersions Request (v3+) => client_software_name COMPACT_STRING, client_software_version COMPACT_STRING, TAGGED_FIELDS
 * ApiVersions Response      => error_code int16, api_keys [api_key int16, min_version int16, max_version int16],
 *                              throttle_time_ms int32 (v1+), TAGGED_FIELDS (v3+)
 * ```
 *
 * @module
 */
import { type ApiHandler, ErrorCode } from "../broker_context.ts";
import type { Message } from "../protocol/message_codec.ts";
import { API_VERSIONS_KEY } from "../protocol/request_header.ts";

/** The highest ApiVersions version served. */
export const API_VERSIONS_MAX = 4;

/**
 * The ApiVersions handler, listing `handlers` (and itself).
 *
 * @param handlers every other API the broker serves
 * @returns the handler
 * @example ApiVersions lists itself and the handlers given
 * ```ts
 * import assert from "node:assert/strict";
 * import { apiVersionsHandler } from "./api_versions.ts";
 * const handler = apiVersionsHandler(() => []);
 * const response = handler.handle({}, {} as never) as { apiKeys: { apiKey: number }[] };
 * assert.deepEqual(response.apiKeys.map((k) => k.apiKey), [18]);
 * ```
 */
export function apiVersionsHandler(handlers: () => readonly ApiHandler[]): ApiHandler {
  const self: ApiHandler = {
    apiKey: API_VERSIONS_KEY,
    minVersion: 0,
    maxVersion: API_VERSIONS_MAX,
    handle(): Message {
      const apiKeys = [self, ...handlers()]
        .map((h) => ({ apiKey: h.apiKey, minVersion: h.minVersion, maxVersion: h.maxVersion }))
        .sort((a, b) => a.apiKey - b.apiKey);
      return { errorCode: ErrorCode.NONE, apiKeys, throttleTimeMs: 0 };
    },
  };
  return self;
}

/**
 * The answer to an ApiVersions request of a version the broker does not know: UNSUPPORTED_VERSION
 * in the v0 layout, listing only ApiVersions' own range (KIP-511; Kafka's
 * `ApiVersionsRequest.getErrorResponse`), so the client retries with a version both know.
 *
 * @returns the v0 response fields
 * @example The answer to an ApiVersions version the broker does not know
 * ```ts
 * import assert from "node:assert/strict";
 * import { unsupportedApiVersionsResponse } from "./api_versions.ts";
 * assert.equal(unsupportedApiVersionsResponse().errorCode, 35);
 * ```
 */
export function unsupportedApiVersionsResponse(): Message & { errorCode: number } {
  return {
    errorCode: ErrorCode.UNSUPPORTED_VERSION,
    apiKeys: [{ apiKey: API_VERSIONS_KEY, minVersion: 0, maxVersion: API_VERSIONS_MAX }],
  };
}
