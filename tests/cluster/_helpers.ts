// When the cluster tests run: connect()'s Kafka client (@platformatic/kafka) needs Node 22.22 or
// later, so on an older Node they skip with that reason (connect() throws UnsupportedRuntimeError
// there, which kafka_mapping_test.ts checks). On Deno and Bun they need Java and the Kafka jars,
// and under REEL_REQUIRE_KAFKA=1 a missing Kafka is a failure, never a skip.

import process from "node:process";
import { KAFKA_CLIENT_MIN_NODE } from "../../src/cluster/_kafka_mapping.ts";
import { versionAtLeast } from "../../src/runtime/runtime_version.ts";
import { RUNTIME } from "../_runtime.ts";
import { kafkaUnavailable } from "../interop/kafka/harness.ts";

/** Why connect() cannot run on this runtime (an old Node), or `undefined` where it can. */
export const CONNECT_UNSUPPORTED: string | undefined =
  RUNTIME === "node" && !versionAtLeast(process.versions.node, KAFKA_CLIENT_MIN_NODE)
    ? `connect()'s Kafka client (@platformatic/kafka) needs Node ${KAFKA_CLIENT_MIN_NODE} or later, ` +
      `this is Node ${process.versions.node}`
    : undefined;

/**
 * Why the tests against a Kafka broker or cluster skip here, or `undefined` when they run.
 *
 * @throws {Error} under REEL_REQUIRE_KAFKA=1 when connect() can run but Kafka cannot be started
 */
export function clusterSkip(): string | undefined {
  return CONNECT_UNSUPPORTED ?? kafkaUnavailable();
}
