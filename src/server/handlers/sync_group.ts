/**
 * SyncGroup (key 14): the leader hands out the assignment; every member waits for its own
 * (`SyncGroupRequest.json`, `SyncGroupResponse.json`).
 *
 * ```
 * SyncGroup Request  => group_id, generation_id int32, member_id, group_instance_id (v3+),
 *                       protocol_type (v5+), protocol_name (v5+), assignments [member_id, assignment bytes]
 * SyncGroup Response => throttle_time_ms (v1+), error_code, protocol_type (v5+), protocol_name (v5+), assignment bytes
 * ```
 *
 * @module
 */
import { type ApiHandler, ErrorCode } from "../broker_context.ts";

interface SyncGroupRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  protocolType: string | null;
  protocolName: string | null;
  assignments: { memberId: string; assignment: Uint8Array }[];
}

/**
 * The SyncGroup handler, versions 0–5.
 *
 * @example SyncGroup for a group the broker does not hold
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../../mod.ts";
 * import { localRequestContext } from "../local_request.ts";
 * import { syncGroupHandler } from "./sync_group.ts";
 * const log = await open(Deno.makeTempDirSync());
 * const context = localRequestContext(log, 14, 5);
 * const response = await syncGroupHandler.handle({
 *   groupId: "g", generationId: 1, memberId: "m", groupInstanceId: null, protocolType: "consumer",
 *   protocolName: "range", assignments: [],
 * }, context) as { errorCode: number; assignment: Uint8Array };
 * assert.equal(response.errorCode, 25); // UNKNOWN_MEMBER_ID
 * assert.equal(response.assignment.length, 0);
 * await log.close();
 * ```
 */
export const syncGroupHandler: ApiHandler = {
  apiKey: 14,
  minVersion: 0,
  maxVersion: 5,
  async handle(request, { broker }) {
    const req = request as unknown as SyncGroupRequest;
    const group = broker.groups.group(req.groupId);
    const empty = new Uint8Array(0);
    if (!group) return { throttleTimeMs: 0, errorCode: ErrorCode.UNKNOWN_MEMBER_ID, assignment: empty };
    if (
      (req.protocolType !== null && req.protocolType !== group.protocolType) ||
      (req.protocolName !== null && group.protocolName !== null && req.protocolName !== group.protocolName)
    ) return { throttleTimeMs: 0, errorCode: ErrorCode.INCONSISTENT_GROUP_PROTOCOL, assignment: empty };
    const result = await group.sync(req.memberId, req.generationId, req.assignments);
    return { throttleTimeMs: 0, ...result };
  },
};
