/**
 * Apache Kafka's message definitions (`clients/src/main/resources/common/message/*.json`, Kafka
 * 4.0.0-SNAPSHOT at apache/kafka@1eb7644, Apache License 2.0; see `messages/SOURCE.md`), one
 * request and one response per API the broker serves, plus the request header (the response
 * header, a correlation id and tagged fields, is written by `encodeResponse` in `request_header.ts`;
 * `messages/ResponseHeader.json` is kept as its definition). {@linkcode MessageCodec} reads and
 * writes every version of each from these definitions.
 *
 * @module
 */
import type { MessageSchema } from "./message_schema.ts";
import apiVersionsRequest from "./messages/ApiVersionsRequest.json" with { type: "json" };
import apiVersionsResponse from "./messages/ApiVersionsResponse.json" with { type: "json" };
import createPartitionsRequest from "./messages/CreatePartitionsRequest.json" with { type: "json" };
import createPartitionsResponse from "./messages/CreatePartitionsResponse.json" with { type: "json" };
import createTopicsRequest from "./messages/CreateTopicsRequest.json" with { type: "json" };
import createTopicsResponse from "./messages/CreateTopicsResponse.json" with { type: "json" };
import deleteGroupsRequest from "./messages/DeleteGroupsRequest.json" with { type: "json" };
import deleteGroupsResponse from "./messages/DeleteGroupsResponse.json" with { type: "json" };
import deleteRecordsRequest from "./messages/DeleteRecordsRequest.json" with { type: "json" };
import deleteRecordsResponse from "./messages/DeleteRecordsResponse.json" with { type: "json" };
import deleteTopicsRequest from "./messages/DeleteTopicsRequest.json" with { type: "json" };
import deleteTopicsResponse from "./messages/DeleteTopicsResponse.json" with { type: "json" };
import describeClusterRequest from "./messages/DescribeClusterRequest.json" with { type: "json" };
import describeClusterResponse from "./messages/DescribeClusterResponse.json" with { type: "json" };
import describeConfigsRequest from "./messages/DescribeConfigsRequest.json" with { type: "json" };
import describeConfigsResponse from "./messages/DescribeConfigsResponse.json" with { type: "json" };
import describeLogDirsRequest from "./messages/DescribeLogDirsRequest.json" with { type: "json" };
import describeLogDirsResponse from "./messages/DescribeLogDirsResponse.json" with { type: "json" };
import describeGroupsRequest from "./messages/DescribeGroupsRequest.json" with { type: "json" };
import describeGroupsResponse from "./messages/DescribeGroupsResponse.json" with { type: "json" };
import fetchRequest from "./messages/FetchRequest.json" with { type: "json" };
import fetchResponse from "./messages/FetchResponse.json" with { type: "json" };
import findCoordinatorRequest from "./messages/FindCoordinatorRequest.json" with { type: "json" };
import findCoordinatorResponse from "./messages/FindCoordinatorResponse.json" with { type: "json" };
import heartbeatRequest from "./messages/HeartbeatRequest.json" with { type: "json" };
import heartbeatResponse from "./messages/HeartbeatResponse.json" with { type: "json" };
import incrementalAlterConfigsRequest from "./messages/IncrementalAlterConfigsRequest.json" with {
  type: "json",
};
import incrementalAlterConfigsResponse from "./messages/IncrementalAlterConfigsResponse.json" with {
  type: "json",
};
import initProducerIdRequest from "./messages/InitProducerIdRequest.json" with { type: "json" };
import initProducerIdResponse from "./messages/InitProducerIdResponse.json" with { type: "json" };
import joinGroupRequest from "./messages/JoinGroupRequest.json" with { type: "json" };
import joinGroupResponse from "./messages/JoinGroupResponse.json" with { type: "json" };
import leaveGroupRequest from "./messages/LeaveGroupRequest.json" with { type: "json" };
import leaveGroupResponse from "./messages/LeaveGroupResponse.json" with { type: "json" };
import listGroupsRequest from "./messages/ListGroupsRequest.json" with { type: "json" };
import listGroupsResponse from "./messages/ListGroupsResponse.json" with { type: "json" };
import listOffsetsRequest from "./messages/ListOffsetsRequest.json" with { type: "json" };
import listOffsetsResponse from "./messages/ListOffsetsResponse.json" with { type: "json" };
import metadataRequest from "./messages/MetadataRequest.json" with { type: "json" };
import metadataResponse from "./messages/MetadataResponse.json" with { type: "json" };
import offsetCommitRequest from "./messages/OffsetCommitRequest.json" with { type: "json" };
import offsetCommitResponse from "./messages/OffsetCommitResponse.json" with { type: "json" };
import offsetFetchRequest from "./messages/OffsetFetchRequest.json" with { type: "json" };
import offsetFetchResponse from "./messages/OffsetFetchResponse.json" with { type: "json" };
import offsetForLeaderEpochRequest from "./messages/OffsetForLeaderEpochRequest.json" with { type: "json" };
import offsetForLeaderEpochResponse from "./messages/OffsetForLeaderEpochResponse.json" with { type: "json" };
import produceRequest from "./messages/ProduceRequest.json" with { type: "json" };
import produceResponse from "./messages/ProduceResponse.json" with { type: "json" };
import requestHeader from "./messages/RequestHeader.json" with { type: "json" };
import saslAuthenticateRequest from "./messages/SaslAuthenticateRequest.json" with { type: "json" };
import saslAuthenticateResponse from "./messages/SaslAuthenticateResponse.json" with { type: "json" };
import saslHandshakeRequest from "./messages/SaslHandshakeRequest.json" with { type: "json" };
import saslHandshakeResponse from "./messages/SaslHandshakeResponse.json" with { type: "json" };
import syncGroupRequest from "./messages/SyncGroupRequest.json" with { type: "json" };
import syncGroupResponse from "./messages/SyncGroupResponse.json" with { type: "json" };

/** The request definitions, by API key. */
export const REQUEST_SCHEMAS: ReadonlyMap<number, MessageSchema> = new Map(
  [
    apiVersionsRequest,
    createPartitionsRequest,
    createTopicsRequest,
    deleteGroupsRequest,
    deleteRecordsRequest,
    deleteTopicsRequest,
    describeClusterRequest,
    describeConfigsRequest,
    describeGroupsRequest,
    describeLogDirsRequest,
    fetchRequest,
    findCoordinatorRequest,
    heartbeatRequest,
    incrementalAlterConfigsRequest,
    initProducerIdRequest,
    joinGroupRequest,
    leaveGroupRequest,
    listGroupsRequest,
    listOffsetsRequest,
    metadataRequest,
    offsetCommitRequest,
    offsetFetchRequest,
    offsetForLeaderEpochRequest,
    produceRequest,
    saslAuthenticateRequest,
    saslHandshakeRequest,
    syncGroupRequest,
  ].map((s) => [s.apiKey!, s as MessageSchema]),
);

/** The response definitions, by API key. */
export const RESPONSE_SCHEMAS: ReadonlyMap<number, MessageSchema> = new Map(
  [
    apiVersionsResponse,
    createPartitionsResponse,
    createTopicsResponse,
    deleteGroupsResponse,
    deleteRecordsResponse,
    deleteTopicsResponse,
    describeClusterResponse,
    describeConfigsResponse,
    describeGroupsResponse,
    describeLogDirsResponse,
    fetchResponse,
    findCoordinatorResponse,
    heartbeatResponse,
    incrementalAlterConfigsResponse,
    initProducerIdResponse,
    joinGroupResponse,
    leaveGroupResponse,
    listGroupsResponse,
    listOffsetsResponse,
    metadataResponse,
    offsetCommitResponse,
    offsetFetchResponse,
    offsetForLeaderEpochResponse,
    produceResponse,
    saslAuthenticateResponse,
    saslHandshakeResponse,
    syncGroupResponse,
  ].map((s) => [s.apiKey!, s as MessageSchema]),
);

/** Kafka's `RequestHeader.json`. */
export const REQUEST_HEADER_SCHEMA = requestHeader as MessageSchema;
