/**
 * DeleteGroups (key 42): deletes consumer groups and their committed offsets
 * (`DeleteGroupsRequest.json`, `DeleteGroupsResponse.json`), as `kafka-consumer-groups --delete`
 * sends it.
 *
 * ```
 * DeleteGroups Request  => [groups_names]
 * DeleteGroups Response => throttle_time_ms, [results group_id, error_code]
 * ```
 *
 * @module
 */
import type { ApiHandler } from "../broker_context.ts";

/**
 * The DeleteGroups handler, versions 0–2. Each group is answered on its own: NONE, GROUP_ID_NOT_FOUND,
 * NON_EMPTY_GROUP while it has live members (Kafka clients or in-process consumers), or
 * INVALID_GROUP_ID.
 *
 * @example Delete a group with offsets, and one that does not exist
 * ```ts
 * import assert from "node:assert/strict";
 * import { listGroups, open } from "../../../mod.ts";
 * import { localRequestContext } from "../local_request.ts";
 * import { deleteGroupsHandler } from "./delete_groups.ts";
 * const log = await open(Deno.makeTempDirSync());
 * await log.createTopic("t");
 * const context = localRequestContext(log, 42, 2);
 * await context.broker.groups.commitOffset("old", "t", 0, 1, "");
 * const response = await deleteGroupsHandler.handle({ groupsNames: ["old", "never"] }, context) as {
 *   results: { groupId: string; errorCode: number }[];
 * };
 * assert.deepEqual(response.results.map((r) => [r.groupId, r.errorCode]), [["old", 0], ["never", 69]]);
 * assert.deepEqual(listGroups(log), []);
 * await context.broker.groups.close();
 * await log.close();
 * ```
 */
export const deleteGroupsHandler: ApiHandler = {
  apiKey: 42,
  minVersion: 0,
  maxVersion: 2,
  async handle(request, { broker }) {
    const { groupsNames } = request as unknown as { groupsNames: string[] };
    const results = [];
    for (const groupId of groupsNames) {
      results.push({ groupId, errorCode: await broker.groups.deleteGroup(groupId) });
    }
    return { throttleTimeMs: 0, results };
  },
};
