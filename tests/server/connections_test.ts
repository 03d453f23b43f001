// Many connections and a client that does not read: 1,000 idle connections and a slow reader that
// pipelines Fetch requests for 1 MiB each without reading a byte; the broker keeps answering
// others, and its memory stays bounded (it stops reading a connection whose responses are not
// being taken: at most 8 requests read ahead and one response being written).

import assert from "node:assert/strict";
import * as net from "node:net";
import process from "node:process";
import { describe, test } from "node:test";
import { encodeRequest, RawClient, withBroker } from "./_helpers.ts";

const connect = (port: number) =>
  new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1", () => resolve(s));
    s.once("error", reject);
  });

describe("reel serve: many connections", () => {
  test("1,000 idle connections and a slow reader: others are still served and memory stays bounded", async () => {
    await withBroker(async (broker, log) => {
      const topic = await log.createTopic("big");
      const value = new Uint8Array(900_000).fill(7);
      for (let i = 0; i < 4; i++) await topic.append([{ value }]);
      const idle = [];
      for (let i = 0; i < 1000; i++) idle.push(await connect(broker.port));

      const slow = await connect(broker.port);
      slow.pause(); // reads nothing
      const fetch = (id: number) =>
        encodeRequest(1, 4, id, {
          maxWaitMs: 0,
          minBytes: 0,
          maxBytes: 4 << 20,
          isolationLevel: 0,
          topics: [{
            topic: "big",
            partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 4 << 20 }],
          }],
        });
      const before = process.memoryUsage().rss;
      for (let i = 0; i < 200; i++) slow.write(fetch(i)); // 200 × ~3.6 MB of responses if all were built
      // The broker still answers others while the slow reader holds its responses.
      for (let round = 0; round < 20; round++) {
        const client = await RawClient.connect(broker.port);
        assert.equal((await client.request(18, 2, {})).errorCode, 0);
        client.close();
      }
      const grown = (process.memoryUsage().rss - before) / 2 ** 20;
      console.log(`rss grew ${grown.toFixed(1)} MiB with 1,000 idle connections and a slow reader`);
      assert.ok(grown < 200, `rss grew ${grown.toFixed(1)} MiB`); // unbounded would be over 700 MiB
      slow.destroy();
      for (const s of idle) s.destroy();
    });
  });

  test("clients that disconnect mid-request or mid-response leave the broker serving and the log intact", async () => {
    const lines: string[] = [];
    await withBroker(async (broker, log) => {
      const topic = await log.createTopic("cut");
      for (let i = 0; i < 2; i++) await topic.append([{ value: new Uint8Array(1_000_000).fill(1) }]);
      for (let i = 0; i < 20; i++) {
        const s = await connect(broker.port);
        const frame = encodeRequest(1, 4, 1, {
          maxWaitMs: 0,
          minBytes: 0,
          maxBytes: 4 << 20,
          isolationLevel: 0,
          topics: [{
            topic: "cut",
            partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 4 << 20 }],
          }],
        });
        // Even rounds: half a request; odd rounds: a whole one, gone before the response is read.
        s.write(i % 2 === 0 ? frame.subarray(0, frame.length >> 1) : frame);
        s.destroy();
      }
      const client = await RawClient.connect(broker.port);
      assert.equal((await client.request(18, 2, {})).errorCode, 0);
      client.close();
      assert.equal(topic.partition(0).logEndOffset, 2);
    }, { logLine: (l) => lines.push(l) });
    assert.ok(lines.length <= 20, lines.join("\n")); // at most one line per connection
  });
});
