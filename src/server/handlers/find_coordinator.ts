/**
 * FindCoordinator (key 10): the coordinator of a group (or transactional ID) is always this
 * broker (`FindCoordinatorRequest.json`, `FindCoordinatorResponse.json`; KIP-699 batches keys
 * from v4).
 *
 * ```
 * FindCoordinator Request  => key (v0-3), key_type int8 (v1+), coordinator_keys [string] (v4+)
 * FindCoordinator Response => throttle_time_ms (v1+), error_code, error_message (v1+), node_id, host, port (v0-3)
 *                             | coordinators [key, node_id, host, port, error_code, error_message] (v4+)
 * ```
 *
 * @module
 */
import { type ApiHandler, ErrorCode } from "../broker_context.ts";

interface FindCoordinatorRequest {
  key: string;
  keyType: number;
  coordinatorKeys: string[];
}

/**
 * The FindCoordinator handler, versions 0–6.
 *
 * @example This broker coordinates every group (v4 batches the keys)
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../../mod.ts";
 * import { localRequestContext } from "../local_request.ts";
 * import { findCoordinatorHandler } from "./find_coordinator.ts";
 * const log = await open(Deno.makeTempDirSync());
 * const context = localRequestContext(log, 10, 4, { config: { nodeId: 1 } });
 * const response = await findCoordinatorHandler.handle({ keyType: 0, coordinatorKeys: ["a", "b"] }, context) as {
 *   coordinators: { key: string; nodeId: number; errorCode: number }[];
 * };
 * assert.deepEqual(response.coordinators.map((c) => [c.key, c.nodeId, c.errorCode]), [["a", 1, 0], ["b", 1, 0]]);
 * await log.close();
 * ```
 */
export const findCoordinatorHandler: ApiHandler = {
  apiKey: 10,
  minVersion: 0,
  maxVersion: 6,
  handle(request, { broker, version }) {
    const req = request as unknown as FindCoordinatorRequest;
    const { nodeId, advertisedHost: host, advertisedPort: port } = broker.config;
    const me = { nodeId, host, port, errorCode: ErrorCode.NONE, errorMessage: null };
    if (version < 4) return { throttleTimeMs: 0, ...me };
    return { throttleTimeMs: 0, coordinators: req.coordinatorKeys.map((key) => ({ key, ...me })) };
  },
};
