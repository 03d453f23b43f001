/**
 * InitProducerId (key 22): a producer ID and epoch for an idempotent producer (KIP-98; KIP-360
 * lets a producer that has one ask for its epoch to be bumped), from `InitProducerIdRequest.json`
 * and `InitProducerIdResponse.json`.
 *
 * ```
 * InitProducerId Request  => transactional_id NULLABLE_STRING, transaction_timeout_ms int32,
 *                            producer_id int64 (v3+), producer_epoch int16 (v3+)
 * InitProducerId Response => throttle_time_ms int32, error_code, producer_id int64, producer_epoch int16
 * ```
 * Producer IDs are unique across restarts without being stored: each is the broker's start-up
 * time in ms × 1000 plus a counter (so a restarted broker never hands out an ID in use). A
 * transactional ID is refused with UNSUPPORTED_VERSION: reel serve has no transactions.
 *
 * @module
 */
import { type ApiHandler, ErrorCode } from "../broker_context.ts";

interface InitProducerIdRequest {
  transactionalId: string | null;
  producerId: number;
  producerEpoch: number;
}

let lastProducerId = 0;

/**
 * A new producer ID: larger than any handed out before, by this process or an earlier one.
 *
 * @returns the ID (a safe integer)
 * @example Producer IDs only grow
 * ```ts
 * import assert from "node:assert/strict";
 * import { newProducerId } from "./init_producer_id.ts";
 * assert.ok(newProducerId() < newProducerId());
 * ```
 */
export function newProducerId(): number {
  lastProducerId = Math.max(lastProducerId + 1, Date.now() * 1000);
  return lastProducerId;
}

/**
 * The InitProducerId handler, versions 0–5.
 *
 * @example A new idempotent producer gets an ID and epoch 0
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../../mod.ts";
 * import { localRequestContext } from "../local_request.ts";
 * import { initProducerIdHandler } from "./init_producer_id.ts";
 * const log = await open(Deno.makeTempDirSync());
 * const context = localRequestContext(log, 22, 4);
 * const request = { transactionalId: null, transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1 };
 * const first = await initProducerIdHandler.handle(request, context) as { errorCode: number; producerId: number; producerEpoch: number };
 * const second = await initProducerIdHandler.handle(request, context) as { producerId: number };
 * assert.equal(first.errorCode, 0);
 * assert.equal(first.producerEpoch, 0);
 * assert.ok(second.producerId > first.producerId);
 * await log.close();
 * ```
 */
export const initProducerIdHandler: ApiHandler = {
  apiKey: 22,
  minVersion: 0,
  maxVersion: 5,
  handle(request) {
    const req = request as unknown as InitProducerIdRequest;
    if (req.transactionalId !== null) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.UNSUPPORTED_VERSION,
        producerId: -1,
        producerEpoch: -1,
      };
    }
    if (req.producerId >= 0 && req.producerEpoch >= 0 && req.producerEpoch < 32766) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        producerId: req.producerId,
        producerEpoch: req.producerEpoch + 1,
      };
    }
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId: newProducerId(), producerEpoch: 0 };
  },
};
