/**
 * DescribeCluster (key 60): the cluster ID, the controller and the brokers — this one
 * (`DescribeClusterRequest.json`, `DescribeClusterResponse.json`; KIP-700).
 *
 * ```
 * DescribeCluster Request  => include_cluster_authorized_operations bool, endpoint_type int8 (v1+)
 * DescribeCluster Response => throttle_time_ms, error_code, error_message, endpoint_type (v1+), cluster_id,
 *                             controller_id, brokers [broker_id, host, port, rack], cluster_authorized_operations
 * ```
 *
 * @module
 */
import { type ApiHandler, ErrorCode } from "../broker_context.ts";

/**
 * The DescribeCluster handler, versions 0–1.
 *
 * @example The one broker, with the cluster ID
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../../mod.ts";
 * import { localRequestContext } from "../local_request.ts";
 * import { describeClusterHandler } from "./describe_cluster.ts";
 * const log = await open(Deno.makeTempDirSync());
 * const context = localRequestContext(log, 60, 1, { config: { nodeId: 3, clusterId: "reel-cluster" } });
 * const response = await describeClusterHandler.handle({ includeClusterAuthorizedOperations: false }, context) as {
 *   errorCode: number; clusterId: string; controllerId: number; brokers: { brokerId: number }[];
 * };
 * assert.equal(response.errorCode, 0);
 * assert.equal(response.clusterId, "reel-cluster");
 * assert.equal(response.controllerId, 3);
 * assert.deepEqual(response.brokers.map((b) => b.brokerId), [3]);
 * await log.close();
 * ```
 */
export const describeClusterHandler: ApiHandler = {
  apiKey: 60,
  minVersion: 0,
  maxVersion: 1,
  handle(_request, { broker }) {
    const c = broker.config;
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      endpointType: 1,
      clusterId: c.clusterId,
      controllerId: c.nodeId,
      brokers: [{ brokerId: c.nodeId, host: c.advertisedHost, port: c.advertisedPort, rack: null }],
      clusterAuthorizedOperations: -2147483648,
    };
  },
};
