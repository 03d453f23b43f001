/**
 * JoinGroup (key 11): a member joins a classic group and waits for the rebalance to complete
 * (`JoinGroupRequest.json`, `JoinGroupResponse.json`; KIP-62, KIP-345, KIP-394).
 *
 * ```
 * JoinGroup Request  => group_id, session_timeout_ms int32, rebalance_timeout_ms int32 (v1+), member_id,
 *                       group_instance_id (v5+), protocol_type, protocols [name, metadata bytes], reason (v8+)
 * JoinGroup Response => throttle_time_ms (v2+), error_code, generation_id, protocol_type (v7+), protocol_name,
 *                       leader, skip_assignment (v9+), member_id, members [member_id, group_instance_id (v5+), metadata]
 * ```
 *
 * @module
 */
import { type ApiHandler, ErrorCode } from "../broker_context.ts";

interface JoinGroupRequest {
  groupId: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string;
  protocols: { name: string; metadata: Uint8Array }[];
}

/**
 * The JoinGroup handler, versions 0–9.
 *
 * @example A first join without a member ID is told to rejoin with one (KIP-394)
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../../mod.ts";
 * import { localRequestContext } from "../local_request.ts";
 * import { joinGroupHandler } from "./join_group.ts";
 * const log = await open(Deno.makeTempDirSync());
 * const context = localRequestContext(log, 11, 9);
 * const response = await joinGroupHandler.handle({
 *   groupId: "g", sessionTimeoutMs: 10000, rebalanceTimeoutMs: 10000, memberId: "", groupInstanceId: null,
 *   protocolType: "consumer", protocols: [{ name: "range", metadata: new Uint8Array(0) }], reason: null,
 * }, context) as { errorCode: number; memberId: string };
 * assert.equal(response.errorCode, 79); // MEMBER_ID_REQUIRED
 * assert.ok(response.memberId.length > 0);
 * await context.broker.groups.close();
 * await log.close();
 * ```
 */
export const joinGroupHandler: ApiHandler = {
  apiKey: 11,
  minVersion: 0,
  maxVersion: 9,
  async handle(request, { broker, version, header, clientHost }) {
    const req = request as unknown as JoinGroupRequest;
    const groups = broker.groups;
    const fail = (errorCode: number) => ({
      throttleTimeMs: 0,
      errorCode,
      generationId: -1,
      leader: "",
      memberId: req.memberId,
      members: [],
    });
    if (req.groupId === "") return fail(ErrorCode.INVALID_GROUP_ID);
    if (
      req.sessionTimeoutMs < groups.minSessionTimeoutMs || req.sessionTimeoutMs > groups.maxSessionTimeoutMs
    ) {
      return fail(ErrorCode.INVALID_SESSION_TIMEOUT);
    }
    if (!groups.group(req.groupId)?.members.size && groups.hasInProcessMembers(req.groupId)) {
      // In-process consumers run this group from their files: the two kinds never share one.
      return fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    }
    const result = await groups.groupOrCreate(req.groupId).join({
      memberId: req.memberId,
      groupInstanceId: req.groupInstanceId,
      clientId: header.clientId ?? "",
      clientHost,
      sessionTimeoutMs: req.sessionTimeoutMs,
      rebalanceTimeoutMs: version >= 1 ? req.rebalanceTimeoutMs : req.sessionTimeoutMs,
      protocolType: req.protocolType,
      protocols: req.protocols,
      requireKnownMemberId: version >= 4,
    });
    return {
      throttleTimeMs: 0,
      ...result,
      protocolName: result.protocolName ?? (version >= 7 ? null : ""),
    };
  },
};
