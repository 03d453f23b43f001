/**
 * SaslAuthenticate (key 36): one step of the SASL exchange SaslHandshake began, its tokens in
 * Kafka's framing (KIP-152; `SaslAuthenticateRequest.json`, `SaslAuthenticateResponse.json`).
 *
 * ```
 * SaslAuthenticate Request  => auth_bytes
 * SaslAuthenticate Response => error_code, error_message, auth_bytes, session_lifetime_ms (v1+)
 * ```
 *
 * @module
 */
import { SaslAuthenticationError } from "../../errors.ts";
import { type ApiHandler, ErrorCode } from "../broker_context.ts";

const EMPTY = new Uint8Array(0);

/**
 * The SaslAuthenticate handler, versions 0–2. A failed step answers SASL_AUTHENTICATION_FAILED
 * with a message that does not say whether the user or the password was wrong, and the
 * connection closes after the answer, as Kafka's. Sessions do not expire (`session_lifetime_ms`
 * 0: KIP-368 re-authentication is not asked for).
 *
 * @example Without a SaslHandshake first, the state is illegal
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../../mod.ts";
 * import { localRequestContext } from "../local_request.ts";
 * import { saslAuthenticateHandler } from "./sasl_authenticate.ts";
 * const log = await open(Deno.makeTempDirSync());
 * const context = localRequestContext(log, 36, 2);
 * const response = await saslAuthenticateHandler.handle({ authBytes: new Uint8Array(0) }, context) as {
 *   errorCode: number;
 * };
 * assert.equal(response.errorCode, 34); // ILLEGAL_SASL_STATE
 * assert.ok(context.session.closeAfterResponse);
 * await log.close();
 * ```
 */
export const saslAuthenticateHandler: ApiHandler = {
  apiKey: 36,
  minVersion: 0,
  maxVersion: 2,
  async handle(request, { session }) {
    const { authBytes } = request as unknown as { authBytes: Uint8Array };
    const exchange = session.sasl;
    if (!exchange) {
      session.closeAfterResponse = "SaslAuthenticate without a SaslHandshake";
      return {
        errorCode: ErrorCode.ILLEGAL_SASL_STATE,
        errorMessage: "SaslAuthenticate must follow a SaslHandshake",
        authBytes: EMPTY,
        sessionLifetimeMs: 0,
      };
    }
    try {
      const { response, principal } = await exchange.step(authBytes);
      if (principal !== undefined) {
        session.principal = principal;
        session.authenticated = true;
        session.sasl = undefined;
      }
      return { errorCode: ErrorCode.NONE, errorMessage: null, authBytes: response, sessionLifetimeMs: 0 };
    } catch (err) {
      if (!(err instanceof SaslAuthenticationError)) throw err;
      session.sasl = undefined;
      session.closeAfterResponse = err.message;
      return {
        errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED,
        errorMessage: err.message,
        authBytes: EMPTY,
        sessionLifetimeMs: 0,
      };
    }
  },
};
