/**
 * Heartbeat (key 12): a member says it is alive; the answer tells it to rejoin when a rebalance
 * has begun (`HeartbeatRequest.json`, `HeartbeatResponse.json`).
 *
 * ```
 * Heartbeat Request  => group_id, generation_id int32, member_id, group_instance_id (v3+)
 * Heartbeat Response => throttle_time_ms (v1+), error_code
 * ```
 *
 * @module
 */
import { type ApiHandler, ErrorCode } from "../broker_context.ts";

interface HeartbeatRequest {
  groupId: string;
  generationId: number;
  memberId: string;
}

/**
 * The Heartbeat handler, versions 0–4.
 *
 * @example A heartbeat from a member the broker does not know
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../../mod.ts";
 * import { localRequestContext } from "../local_request.ts";
 * import { heartbeatHandler } from "./heartbeat.ts";
 * const log = await open(Deno.makeTempDirSync());
 * const context = localRequestContext(log, 12, 4);
 * const response = await heartbeatHandler.handle({ groupId: "g", generationId: 1, memberId: "m", groupInstanceId: null }, context) as {
 *   errorCode: number;
 * };
 * assert.equal(response.errorCode, 25); // UNKNOWN_MEMBER_ID
 * await log.close();
 * ```
 */
export const heartbeatHandler: ApiHandler = {
  apiKey: 12,
  minVersion: 0,
  maxVersion: 4,
  handle(request, { broker }) {
    const req = request as unknown as HeartbeatRequest;
    const group = broker.groups.group(req.groupId);
    const errorCode = group ? group.heartbeat(req.memberId, req.generationId) : ErrorCode.UNKNOWN_MEMBER_ID;
    return { throttleTimeMs: 0, errorCode };
  },
};
