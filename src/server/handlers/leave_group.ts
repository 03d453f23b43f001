/**
 * LeaveGroup (key 13): members leave a group, which then rebalances
 * (`LeaveGroupRequest.json`, `LeaveGroupResponse.json`; from v3 a batch of members, KIP-345).
 *
 * ```
 * LeaveGroup Request  => group_id, member_id (v0-2), members [member_id, group_instance_id, reason (v5+)] (v3+)
 * LeaveGroup Response => throttle_time_ms (v1+), error_code, members [member_id, group_instance_id, error_code] (v3+)
 * ```
 *
 * @module
 */
import { type ApiHandler, ErrorCode } from "../broker_context.ts";

interface LeaveGroupRequest {
  groupId: string;
  memberId: string;
  members: { memberId: string; groupInstanceId: string | null }[];
}

/**
 * The LeaveGroup handler, versions 0–5.
 *
 * @example Leaving a group the broker does not hold
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../../mod.ts";
 * import { localRequestContext } from "../local_request.ts";
 * import { leaveGroupHandler } from "./leave_group.ts";
 * const log = await open(Deno.makeTempDirSync());
 * const context = localRequestContext(log, 13, 5);
 * const response = await leaveGroupHandler.handle({
 *   groupId: "g", members: [{ memberId: "m", groupInstanceId: null, reason: null }],
 * }, context) as { errorCode: number; members: { memberId: string; errorCode: number }[] };
 * assert.equal(response.errorCode, 25); // UNKNOWN_MEMBER_ID
 * assert.deepEqual(response.members.map((m) => [m.memberId, m.errorCode]), [["m", 25]]);
 * await log.close();
 * ```
 */
export const leaveGroupHandler: ApiHandler = {
  apiKey: 13,
  minVersion: 0,
  maxVersion: 5,
  handle(request, { broker, version }) {
    const req = request as unknown as LeaveGroupRequest;
    const group = broker.groups.group(req.groupId);
    const leaving = version >= 3 ? req.members : [{ memberId: req.memberId, groupInstanceId: null }];
    const members = leaving.map((m) => ({
      ...m,
      errorCode: group ? group.leave(m.memberId, m.groupInstanceId) : ErrorCode.UNKNOWN_MEMBER_ID,
    }));
    const errorCode = version < 3
      ? members[0].errorCode
      : group
      ? ErrorCode.NONE
      : ErrorCode.UNKNOWN_MEMBER_ID;
    return { throttleTimeMs: 0, errorCode, members };
  },
};
