/**
 * CreatePartitions (key 37): raises topics' partition counts (`CreatePartitionsRequest.json`,
 * `CreatePartitionsResponse.json`; KIP-195), through `LogDirectory.createPartitions`.
 *
 * ```
 * CreatePartitions Request  => topics [name, count, assignments [broker_ids]], timeout_ms, validate_only
 * CreatePartitions Response => throttle_time_ms, results [name, error_code, error_message]
 * ```
 *
 * One broker holds every partition, so replica assignments have nothing to choose: they are
 * accepted when they name only this broker, and answered INVALID_REQUEST otherwise.
 *
 * @module
 */
import { type ApiHandler, ErrorCode } from "../broker_context.ts";
import type { Message } from "../protocol/message_codec.ts";

interface CreatePartitionsRequest {
  topics: { name: string; count: number; assignments: { brokerIds: number[] }[] | null }[];
  timeoutMs: number;
  validateOnly: boolean;
}

/**
 * The CreatePartitions handler, versions 0–3.
 *
 * @example From one partition to four
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../../mod.ts";
 * import { localRequestContext } from "../local_request.ts";
 * import { createPartitionsHandler } from "./create_partitions.ts";
 * const log = await open(Deno.makeTempDirSync());
 * await log.createTopic("events");
 * const context = localRequestContext(log, 37, 3);
 * const request = { topics: [{ name: "events", count: 4, assignments: null }, { name: "events2", count: 2, assignments: null }], timeoutMs: 1000, validateOnly: false };
 * const response = await createPartitionsHandler.handle(request, context) as { results: { name: string; errorCode: number }[] };
 * assert.deepEqual(response.results.map((r) => [r.name, r.errorCode]), [["events", 0], ["events2", 3]]);
 * assert.equal(log.topic("events").partitions, 4);
 * await log.close();
 * ```
 */
export const createPartitionsHandler: ApiHandler = {
  apiKey: 37,
  minVersion: 0,
  maxVersion: 3,
  async handle(request, { broker }) {
    const req = request as unknown as CreatePartitionsRequest;
    const results: Message[] = [];
    for (const { name, count, assignments } of req.topics) {
      if (!broker.log.hasTopic(name)) {
        results.push({ name, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: null });
        continue;
      }
      if (assignments?.some((a) => a.brokerIds.some((id) => id !== broker.config.nodeId))) {
        results.push({
          name,
          errorCode: ErrorCode.INVALID_REQUEST,
          errorMessage:
            `Every partition is on broker ${broker.config.nodeId}: an assignment cannot name another`,
        });
        continue;
      }
      try {
        await broker.log.createPartitions(name, count, { validateOnly: req.validateOnly });
        results.push({ name, errorCode: ErrorCode.NONE, errorMessage: null });
      } catch (err) {
        const errorCode = broker.errorCode(err, `add partitions to topic "${name}"`);
        results.push({ name, errorCode, errorMessage: (err as Error).message });
      }
    }
    return { throttleTimeMs: 0, results };
  },
};
