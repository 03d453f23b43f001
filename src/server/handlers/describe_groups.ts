/**
 * DescribeGroups (key 15): a group's state, protocol and members with their metadata and
 * assignment (`DescribeGroupsRequest.json`, `DescribeGroupsResponse.json`). Groups of in-process
 * consumers are described from their files, with their subscriptions and assignments encoded in
 * the consumer protocol so that Kafka's tools (`kafka-consumer-groups --describe`) show them.
 *
 * ```
 * DescribeGroups Request  => groups [string], include_authorized_operations bool (v3+)
 * DescribeGroups Response => throttle_time_ms (v1+), groups [error_code, group_id, group_state, protocol_type,
 *                            protocol_data, members [member_id, group_instance_id (v4+), client_id, client_host,
 *                            member_metadata bytes, member_assignment bytes], authorized_operations (v3+)]
 * ```
 *
 * @module
 */
import { describeGroup } from "../../consumer/group_admin.ts";
import { type ApiHandler, type BrokerContext, ErrorCode } from "../broker_context.ts";
import { encodeAssignment, encodeSubscription } from "../group/consumer_protocol.ts";
import type { Message } from "../protocol/message_codec.ts";

/**
 * A group as DescribeGroups and ListGroups report it: the broker's own members when Kafka clients
 * are in it, else what the `.groups/` store says (`"Dead"` for a group nobody knows).
 *
 * @param broker the broker
 * @param groupId the group
 * @returns the group's state, protocol and members
 */
export function groupSummary(broker: BrokerContext, groupId: string): {
  state: string;
  protocolType: string;
  protocol: string;
  members: Message[];
} {
  const group = broker.groups.group(groupId);
  if (group && group.members.size > 0) {
    return {
      state: group.state,
      protocolType: group.protocolType ?? "",
      protocol: group.state === "Stable" || group.state === "CompletingRebalance"
        ? group.protocolName ?? ""
        : "",
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        memberMetadata: m.protocols.find((p) => p.name === group.protocolName)?.metadata ?? new Uint8Array(0),
        memberAssignment: m.assignment,
      })),
    };
  }
  let description;
  try {
    description = describeGroup(broker.log, groupId);
  } catch {
    return { state: "Dead", protocolType: "", protocol: "", members: [] };
  }
  const live = description.members.filter((m) => !m.expired);
  const known = live.length > 0 || description.offsets.some((o) => o.committedOffset !== null);
  return {
    state: known ? description.state : "Dead",
    protocolType: known ? "consumer" : "",
    protocol: live.length > 0 ? description.protocol ?? "" : "",
    members: live.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: null,
      clientId: m.clientId,
      clientHost: `/${m.hostname}`,
      memberMetadata: encodeSubscription(m.topics),
      memberAssignment: encodeAssignment(m.owned),
    })),
  };
}

/**
 * The DescribeGroups handler, versions 0–5.
 *
 * @example A group with only committed offsets is Empty
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../../mod.ts";
 * import { localRequestContext } from "../local_request.ts";
 * import { describeGroupsHandler } from "./describe_groups.ts";
 * const log = await open(Deno.makeTempDirSync());
 * await log.createTopic("t");
 * const context = localRequestContext(log, 15, 5);
 * await context.broker.groups.commitOffset("g", "t", 0, 3, "");
 * const response = await describeGroupsHandler.handle({ groups: ["g"], includeAuthorizedOperations: false }, context) as {
 *   groups: { groupId: string; errorCode: number; groupState: string; members: unknown[] }[];
 * };
 * assert.deepEqual(response.groups.map((g) => [g.groupId, g.errorCode, g.groupState, g.members.length]), [["g", 0, "Empty", 0]]);
 * await context.broker.groups.close();
 * await log.close();
 * ```
 */
export const describeGroupsHandler: ApiHandler = {
  apiKey: 15,
  minVersion: 0,
  maxVersion: 5,
  handle(request, { broker }) {
    const { groups } = request as unknown as { groups: string[] };
    return {
      throttleTimeMs: 0,
      groups: groups.map((groupId) => {
        const summary = groupSummary(broker, groupId);
        return {
          errorCode: groupId === "" ? ErrorCode.INVALID_GROUP_ID : ErrorCode.NONE,
          groupId,
          groupState: summary.state,
          protocolType: summary.protocolType,
          protocolData: summary.protocol,
          members: summary.members,
          authorizedOperations: -2147483648,
        };
      }),
    };
  },
};
