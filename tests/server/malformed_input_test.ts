// Malformed input from a fast-check generator: random frames, truncated frames, wrong sizes,
// unknown API keys and versions, and Produce requests carrying invalid record batches (bad CRC,
// bad lengths, magic 0 and 1). Each connection gets a Kafka error or is closed; the broker keeps
// serving others; nothing is appended; the log stays valid.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { crc32c, encodeRecordBatch } from "../../src/record/mod.ts";
import { encodeRequest, RawClient, withBroker } from "./_helpers.ts";
import { fcParams } from "../durability/_helpers.ts";

const enc = new TextEncoder();

/** A valid batch, then broken in one of the ways a hostile or buggy client could. */
const badBatch = fc.tuple(
  fc.constantFrom(
    "crc",
    "length-short",
    "length-long",
    "magic0",
    "magic1",
    "truncated",
    "two-batches-one-bad",
  ),
  fc.array(fc.string({ maxLength: 20 }), { minLength: 1, maxLength: 5 }),
  fc.nat(),
).map(([how, values, n]) => {
  const b = encodeRecordBatch(values.map((v) => ({ value: enc.encode(v) })));
  const view = new DataView(b.buffer, b.byteOffset);
  switch (how) {
    case "crc":
      b[61 + (n % (b.length - 61))] ^= 0x55;
      return b;
    case "length-short":
      view.setInt32(8, view.getInt32(8) - 1 - (n % 40));
      return b;
    case "length-long":
      view.setInt32(8, view.getInt32(8) + 1 + (n % 1000));
      return b;
    case "magic0":
    case "magic1":
      b[16] = how === "magic0" ? 0 : 1;
      view.setUint32(17, crc32c(b, 21));
      return b;
    case "truncated":
      return b.slice(0, 1 + (n % (b.length - 1)));
    default: {
      const two = new Uint8Array(b.length * 2);
      two.set(b);
      two.set(b, b.length);
      two[b.length + 61] ^= 1;
      return two;
    }
  }
});

/** Frames a client might send: random bytes with a right or wrong size prefix, or a real header with a random body. */
const badFrame = fc.oneof(
  fc.uint8Array({ maxLength: 64 }).map((body) => {
    const f = new Uint8Array(4 + body.length);
    new DataView(f.buffer).setInt32(0, body.length);
    f.set(body, 4);
    return f;
  }),
  fc.tuple(
    fc.integer({ min: -10, max: 80 }),
    fc.integer({ min: -1, max: 20 }),
    fc.uint8Array({ maxLength: 48 }),
  ).map(
    ([apiKey, version, body]) => {
      const f = new Uint8Array(12 + body.length);
      const v = new DataView(f.buffer);
      v.setInt32(0, 8 + body.length);
      v.setInt16(4, apiKey);
      v.setInt16(6, version);
      v.setInt32(8, 99);
      f.set(body, 12);
      return f;
    },
  ),
  // A size past maxRequestBytes or negative (a size inside the limit with too few bytes after it
  // just waits for the rest, as Kafka does).
  fc.tuple(fc.oneof(fc.integer({ min: 4097 }), fc.integer({ max: -1 })), fc.uint8Array({ maxLength: 36 }))
    .map(
      ([size, rest]) => {
        const f = new Uint8Array(4 + rest.length);
        new DataView(f.buffer).setInt32(0, size);
        f.set(rest, 4);
        return f;
      },
    ),
);

describe("reel serve: malformed input", () => {
  test("invalid record batches in Produce are refused per partition and nothing is appended", async () => {
    await withBroker(async (broker, log) => {
      const topic = await log.createTopic("victim");
      await topic.append([{ value: "before" }]);
      const client = await RawClient.connect(broker.port);
      await fc.assert(
        fc.asyncProperty(badBatch, fc.constantFrom(3, 7, 9, 11), async (records, version) => {
          const res = await client.request(0, version, {
            transactionalId: null,
            acks: -1,
            timeoutMs: 1000,
            topicData: [{ name: "victim", partitionData: [{ index: 0, records }] }],
          });
          const p =
            (res.responses as { partitionResponses: { errorCode: number }[] }[])[0].partitionResponses[0];
          assert.ok([2, 87].includes(p.errorCode), `error code ${p.errorCode}`);
          assert.equal(topic.partition(0).logEndOffset, 1);
        }),
        fcParams(150),
      );
      client.close();
      const got = [];
      for await (const r of topic.readable()) got.push(new TextDecoder().decode(r.value!));
      assert.deepEqual(got, ["before"]);
    });
  });

  test("random frames get an answer or a closed connection, and the broker keeps serving", async () => {
    await withBroker(async (broker, log) => {
      const topic = await log.createTopic("calm");
      await fc.assert(
        fc.asyncProperty(fc.array(badFrame, { minLength: 1, maxLength: 4 }), async (frames) => {
          const client = await RawClient.connect(broker.port);
          for (const f of frames) client.send(f);
          // Follow with a valid request: answered, or the connection was closed over the bad input.
          client.send(encodeRequest(18, 0, 4242, {}));
          for (;;) {
            const frame = await client.frame();
            if (!frame) break; // closed
            if (new DataView(frame.buffer, frame.byteOffset).getInt32(0) === 4242) break;
          }
          client.close();
          const other = await RawClient.connect(broker.port);
          assert.equal(
            (await other.request(18, 3, { clientSoftwareName: "t", clientSoftwareVersion: "1" })).errorCode,
            0,
          );
          other.close();
        }),
        fcParams(100),
      );
      assert.equal(topic.partition(0).logEndOffset, 0);
    }, { maxRequestBytes: 4096 });
  });
});
