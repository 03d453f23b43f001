/**
 * The errors of connections: a failed SASL authentication, and a runtime too old for `connect()`.
 *
 * @module
 */
import { ReelError } from "./reel_error.ts";

/**
 * A Kafka client's SASL authentication failed: a wrong password, an unknown user, or a malformed
 * or out-of-order SASL message (Kafka's `SaslAuthenticationException`). The broker answers it in
 * SaslAuthenticate and then closes the connection.
 *
 * @example Its Kafka code
 * ```ts
 * import assert from "node:assert/strict";
 * import { SaslAuthenticationError } from "./connection_errors.ts";
 * const err = new SaslAuthenticationError("Authentication failed: invalid user credentials");
 * assert.equal(err.code, "SASL_AUTHENTICATION_FAILED");
 * assert.equal(err.errorCode, 58);
 * ```
 */
export class SaslAuthenticationError extends ReelError {
  /**
   * Creates the error.
   *
   * @param message what failed, without naming which of user and password was wrong
   */
  constructor(message: string) {
    super("SASL_AUTHENTICATION_FAILED", message);
    this.name = "SaslAuthenticationError";
  }
}

/**
 * A feature this runtime (or this version of it) cannot run: `connect()` on a Node older than
 * 22.22, which its Kafka client (@platformatic/kafka, `engines: node >= 22.22.0`) needs. Code
 * `UNSUPPORTED_VERSION` (35), Kafka's answer to a request version it cannot serve, the closest of
 * Kafka's codes to a version that cannot run the client.
 *
 * @example Node 20 and `connect()`
 * ```ts
 * import assert from "node:assert/strict";
 * import { UnsupportedRuntimeError } from "./connection_errors.ts";
 * const err = new UnsupportedRuntimeError("connect()", "node", "20.20.2", "Node 22.22 or later, Deno or Bun");
 * assert.equal(err.message, "Cannot use connect() on node 20.20.2: it needs Node 22.22 or later, Deno or Bun");
 * assert.equal(err.errorCode, 35);
 * assert.equal(err.runtime, "node");
 * ```
 */
export class UnsupportedRuntimeError extends ReelError {
  /**
   * Creates the error.
   *
   * @param feature what cannot be used, as `"connect()"`
   * @param runtime the runtime's name (`"node"`)
   * @param version its version (`"20.20.2"`)
   * @param needs what it needs, as a noun phrase
   */
  constructor(feature: string, readonly runtime: string, readonly version: string, needs: string) {
    super("UNSUPPORTED_VERSION", `Cannot use ${feature} on ${runtime} ${version}: it needs ${needs}`);
    this.name = "UnsupportedRuntimeError";
  }
}
