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
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listGroupsHandler } from "./list_groups.ts";
 * assert.equal(listGroupsHandler.apiKey, 16);
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
