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
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeClusterHandler } from "./describe_cluster.ts";
 * assert.equal(describeClusterHandler.apiKey, 60);
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
