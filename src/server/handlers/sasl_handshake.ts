/**
 * SaslHandshake (key 17): the client names the SASL mechanism it will authenticate with (KIP-43;
 * `SaslHandshakeRequest.json`, `SaslHandshakeResponse.json`). After version 1 the exchange runs
 * in SaslAuthenticate requests (KIP-152), as every current client does; after version 0 the
 * client sends the SASL tokens as bare size-prefixed frames, without Kafka's request header, and
 * the broker answers each the same way.
 *
 * ```
 * SaslHandshake Request  => mechanism
 * SaslHandshake Response => error_code, [mechanisms]
 * ```
 *
 * @module
 */
import { type ApiHandler, ErrorCode } from "../broker_context.ts";

/**
 * The SaslHandshake handler, versions 0–1. With SASL off, or once the connection has authenticated
 * or begun an exchange, it answers ILLEGAL_SASL_STATE, as Kafka does; for a mechanism the broker
 * does not offer, UNSUPPORTED_SASL_MECHANISM with the ones it does, and the connection closes.
 *
 * @example A broker without SASL refuses the handshake
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../../mod.ts";
 * import { localRequestContext } from "../local_request.ts";
 * import { saslHandshakeHandler } from "./sasl_handshake.ts";
 * const log = await open(Deno.makeTempDirSync());
 * const context = localRequestContext(log, 17, 1);
 * const response = await saslHandshakeHandler.handle({ mechanism: "PLAIN" }, context) as {
 *   errorCode: number; mechanisms: string[];
 * };
 * assert.deepEqual([response.errorCode, response.mechanisms], [34, []]); // ILLEGAL_SASL_STATE
 * await log.close();
 * ```
 */
export const saslHandshakeHandler: ApiHandler = {
  apiKey: 17,
  minVersion: 0,
  maxVersion: 1,
  handle(request, { broker, session, version }) {
    const { mechanism } = request as unknown as { mechanism: string };
    const mechanisms = [...(broker.sasl?.mechanisms ?? [])];
    if (!broker.sasl || session.authenticated || session.sasl) {
      return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms };
    }
    const exchange = broker.sasl.start(mechanism);
    if (!exchange) {
      session.closeAfterResponse = `the client asked for SASL mechanism ${
        JSON.stringify(mechanism)
      }, not offered`;
      return { errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms };
    }
    session.sasl = exchange;
    session.bareSaslTokens = version === 0;
    return { errorCode: ErrorCode.NONE, mechanisms };
  },
};
