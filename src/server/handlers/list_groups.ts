/**
 * ListGroups (key 16): the consumer groups, those of Kafka clients and those of in-process
 * consumers alike (`ListGroupsRequest.json`, `ListGroupsResponse.json`; KIP-518 state filter,
 * KIP-848 type filter).
 *
 * ```
 * ListGroups Request  => states_filter [string] (v4+), types_filter [string] (v5+)
 * ListGroups Response => throttle_time_ms (v1+), error_code, groups [group_id, protocol_type, group_state (v4+), group_type (v5+)]
 * ```
 *
 * @module
 */
import { type ApiHandler, ErrorCode } from "../broker_context.ts";
import { groupSummary } from "./describe_groups.ts";

interface ListGroupsRequest {
  statesFilter: string[];
  typesFilter: string[];
}

/**
 * The ListGroups handler, versions 0–5.
 *
 * @example List the groups that committed offsets
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../../mod.ts";
 * import { localRequestContext } from "../local_request.ts";
 * import { listGroupsHandler } from "./list_groups.ts";
 * const log = await open(Deno.makeTempDirSync());
 * await log.createTopic("t");
 * const context = localRequestContext(log, 16, 5);
 * await context.broker.groups.commitOffset("billing", "t", 0, 1, "");
 * const response = await listGroupsHandler.handle({ statesFilter: [], typesFilter: [] }, context) as {
 *   errorCode: number; groups: { groupId: string }[];
 * };
 * assert.equal(response.errorCode, 0);
 * assert.deepEqual(response.groups.map((g) => g.groupId), ["billing"]);
 * await context.broker.groups.close();
 * await log.close();
 * ```
 */
export const listGroupsHandler: ApiHandler = {
  apiKey: 16,
  minVersion: 0,
  maxVersion: 5,
  handle(request, { broker }) {
    const req = request as unknown as ListGroupsRequest;
    const states = new Set(req.statesFilter.map((s) => s.toLowerCase()));
    const types = new Set(req.typesFilter.map((s) => s.toLowerCase()));
    const groups = broker.groups.groupIds().map((groupId) => {
      const { state } = groupSummary(broker, groupId);
      return { groupId, protocolType: "consumer", groupState: state, groupType: "classic" };
    }).filter((g) =>
      (states.size === 0 || states.has(g.groupState.toLowerCase())) &&
      (types.size === 0 || types.has("classic"))
    );
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, groups };
  },
};
