// The broker's protocol rules, over a raw socket: ApiVersions negotiation (KIP-511), framing
// limits, pipelining, acks, long-polling Fetch, ListOffsets, CreateTopics/DeleteTopics errors.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { open } from "../../mod.ts";
import { crc32c, encodeRecordBatch } from "../../src/record/mod.ts";
import { serve } from "../../src/server/broker.ts";
import { decodeResponse, encodeRequest, RawClient, withBroker } from "./_helpers.ts";

const enc = new TextEncoder();
const batchOf = (...values: string[]) =>
  encodeRecordBatch(values.map((v) => ({ value: enc.encode(v), timestamp: 1_700_000_000_000 })));

/** A batch of an idempotent producer: producer ID, epoch and base sequence set, CRC recomputed. */
const idempotentBatch = (producerId: number, epoch: number, sequence: number, ...values: string[]) => {
  const b = batchOf(...values);
  const view = new DataView(b.buffer, b.byteOffset);
  view.setBigInt64(43, BigInt(producerId));
  view.setInt16(51, epoch);
  view.setInt32(53, sequence);
  view.setUint32(17, crc32c(b, 21));
  return b;
};

const produceBody = (topic: string, records: Uint8Array, acks = -1) => ({
  transactionalId: null,
  acks,
  timeoutMs: 5000,
  topicData: [{ name: topic, partitionData: [{ index: 0, records }] }],
});

type Partition = { errorCode: number; baseOffset: number; highWatermark: number; records: Uint8Array | null };
const firstPartition = (res: Record<string, unknown>, listKey: string, partsKey: string) =>
  ((res[listKey] as Record<string, unknown>[])[0][partsKey] as Partition[])[0];

describe("reel serve: protocol rules", () => {
  test("ApiVersions v0 to v4 list the served APIs; an unknown version is answered in v0 with UNSUPPORTED_VERSION and the range", async () => {
    await withBroker(async (broker) => {
      const client = await RawClient.connect(broker.port);
      for (let v = 0; v <= 4; v++) {
        const res = await client.request(18, v, { clientSoftwareName: "t", clientSoftwareVersion: "1" });
        assert.equal(res.errorCode, 0);
        const keys = res.apiKeys as { apiKey: number; minVersion: number; maxVersion: number }[];
        const produce = keys.find((k) => k.apiKey === 0)!;
        assert.deepEqual([produce.minVersion, produce.maxVersion], [3, 11]);
        assert.ok(keys.some((k) => k.apiKey === 1) && keys.some((k) => k.apiKey === 3));
      }
      // Version 99: header v2 (as Kafka reads an unknown ApiVersions version), answer in v0.
      const frame = encodeRequest(18, 4, 77, { clientSoftwareName: "t", clientSoftwareVersion: "1" });
      new DataView(frame.buffer, frame.byteOffset).setInt16(6, 99);
      client.send(frame);
      const res = decodeResponse(18, 0, (await client.frame())!);
      assert.equal(res.correlationId, 77);
      assert.equal(res.errorCode, 35);
      assert.deepEqual(res.apiKeys, [{ apiKey: 18, minVersion: 0, maxVersion: 4 }]);
      // The connection still serves.
      assert.equal((await client.request(18, 2, {})).errorCode, 0);
      client.close();
    });
  });

  test("a request larger than maxRequestBytes closes the connection from its size alone; others keep being served", async () => {
    await withBroker(async (broker) => {
      const client = await RawClient.connect(broker.port);
      const size = new Uint8Array(4);
      new DataView(size.buffer).setInt32(0, 1025);
      client.send(size); // only the size: the broker must not wait for 1025 bytes
      await client.whenClosed();
      const other = await RawClient.connect(broker.port);
      assert.equal((await other.request(18, 0, {})).errorCode, 0);
      other.close();
    }, { maxRequestBytes: 1024 });
  });

  test("an unknown API key closes the connection; a malformed body too", async () => {
    await withBroker(async (broker) => {
      const bad = await RawClient.connect(broker.port);
      bad.send(new Uint8Array([0, 0, 0, 8, 0x7f, 0x00, 0, 0, 0, 0, 0, 1]));
      await bad.whenClosed();
      const truncated = await RawClient.connect(broker.port);
      const frame = encodeRequest(3, 4, 1, { topics: [{ name: "abc" }], allowAutoTopicCreation: false });
      const cut = frame.slice(0, frame.length - 3);
      new DataView(cut.buffer).setInt32(0, cut.length - 4);
      truncated.send(cut);
      await truncated.whenClosed();
    });
  });

  test("pipelined requests are answered in order, and acks=0 gets no response", async () => {
    await withBroker(async (broker, log) => {
      await log.createTopic("p");
      const client = await RawClient.connect(broker.port);
      const frames = [
        encodeRequest(0, 7, 1, produceBody("p", batchOf("a"), 0)),
        encodeRequest(0, 7, 2, produceBody("p", batchOf("b", "c"), 1)),
        encodeRequest(18, 2, 3, {}),
        encodeRequest(0, 9, 4, produceBody("p", batchOf("d"), -1)),
      ];
      const all = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
      let at = 0;
      for (const f of frames) all.set(f, (at += f.length) - f.length);
      client.send(all);
      const r2 = decodeResponse(0, 7, (await client.frame())!);
      const r3 = decodeResponse(18, 2, (await client.frame())!);
      const r4 = decodeResponse(0, 9, (await client.frame())!);
      assert.deepEqual([r2.correlationId, r3.correlationId, r4.correlationId], [2, 3, 4]);
      assert.equal(firstPartition(r2, "responses", "partitionResponses").baseOffset, 1);
      assert.equal(firstPartition(r4, "responses", "partitionResponses").baseOffset, 3);
      assert.equal(log.topic("p").partition(0).logEndOffset, 4);
      client.close();
    });
  });

  test("Produce answers per partition: a bad CRC is CORRUPT_MESSAGE and nothing is appended; unknown partition; auto-create", async () => {
    await withBroker(async (broker, log) => {
      const client = await RawClient.connect(broker.port);
      const batch = batchOf("x");
      batch[batch.length - 1] ^= 0xff;
      const res = await client.request(0, 8, produceBody("auto", batch));
      assert.equal(firstPartition(res, "responses", "partitionResponses").errorCode, 2);
      assert.equal(log.topic("auto").partition(0).logEndOffset, 0); // auto-created, nothing appended
      const body = produceBody("auto", batchOf("y"));
      body.topicData[0].partitionData[0].index = 5;
      const res2 = await client.request(0, 8, body);
      assert.equal(firstPartition(res2, "responses", "partitionResponses").errorCode, 3);
      client.close();
    });
  });

  test("Fetch waits for min_bytes and is woken by an append, returning the segment's bytes as they lie", async () => {
    await withBroker(async (broker, log) => {
      const topic = await log.createTopic("f");
      const client = await RawClient.connect(broker.port);
      const fetch = client.request(1, 11, {
        maxWaitMs: 60_000,
        minBytes: 1,
        maxBytes: 1 << 20,
        isolationLevel: 1,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [{ topic: "f", partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }],
        forgottenTopicsData: [],
        rackId: "",
      });
      await new Promise((r) => setTimeout(r, 50));
      await topic.append([{ value: "late" }]);
      const res = await fetch;
      const p = firstPartition(res, "responses", "partitions");
      assert.equal(p.errorCode, 0);
      assert.equal(p.highWatermark, 1);
      const onDisk = topic.partition(0).read(0, 1 << 20)!.bytes;
      assert.deepEqual(p.records, onDisk);
      // Past the end: OFFSET_OUT_OF_RANGE at once.
      const res2 = await client.request(1, 11, {
        maxWaitMs: 60_000,
        minBytes: 1,
        maxBytes: 1 << 20,
        topics: [{ topic: "f", partitions: [{ partition: 0, fetchOffset: 9, partitionMaxBytes: 1 << 20 }] }],
      });
      assert.equal(firstPartition(res2, "responses", "partitions").errorCode, 1);
      client.close();
    });
  });

  test("a Fetch long poll answers at once when the broker closes", async () => {
    let pending: Promise<unknown> | undefined;
    await withBroker(async (broker, log) => {
      await log.createTopic("idle");
      const client = await RawClient.connect(broker.port);
      pending = client.request(1, 4, {
        maxWaitMs: 600_000,
        minBytes: 1,
        maxBytes: 1 << 20,
        topics: [{ topic: "idle", partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1024 }] }],
      }).catch((err) => err);
      await new Promise((r) => setTimeout(r, 50));
    });
    const res = await pending as Record<string, unknown>;
    assert.equal(firstPartition(res, "responses", "partitions").errorCode, 0);
  });

  test("ListOffsets gives earliest, latest and by timestamp; CreateTopics and DeleteTopics report Kafka errors", async () => {
    await withBroker(async (broker, log) => {
      const topic = await log.createTopic("l");
      await topic.append([{ value: "a", timestamp: 1000 }, { value: "b", timestamp: 2000 }]);
      await topic.append([{ value: "c", timestamp: 3000 }]);
      const client = await RawClient.connect(broker.port);
      const list = async (timestamp: number) => {
        const res = await client.request(2, 5, {
          replicaId: -1,
          isolationLevel: 0,
          topics: [{ name: "l", partitions: [{ partitionIndex: 0, timestamp }] }],
        });
        return firstPartition(res, "topics", "partitions") as unknown as {
          offset: number;
          timestamp: number;
        };
      };
      assert.equal((await list(-2)).offset, 0);
      assert.equal((await list(-1)).offset, 3);
      assert.deepEqual([(await list(2500)).offset, (await list(2500)).timestamp], [2, 3000]);
      assert.equal((await list(9999)).offset, -1);
      const created = await client.request(19, 4, {
        topics: [
          { name: "l", numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] },
          { name: "bad/name", numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] },
          { name: "rf3", numPartitions: 1, replicationFactor: 3, assignments: [], configs: [] },
          { name: "zero", numPartitions: 0, replicationFactor: 1, assignments: [], configs: [] },
          {
            name: "cfg",
            numPartitions: 2,
            replicationFactor: -1,
            assignments: [],
            configs: [{ name: "retention.ms", value: "60000" }],
          },
          {
            name: "kv",
            numPartitions: 1,
            replicationFactor: 1,
            assignments: [],
            configs: [
              { name: "cleanup.policy", value: "compact" },
              { name: "min.cleanable.dirty.ratio", value: "0.01" },
              { name: "delete.retention.ms", value: "1000" },
              { name: "min.compaction.lag.ms", value: "10" },
              { name: "max.compaction.lag.ms", value: "9223372036854775807" },
            ],
          },
          {
            name: "badratio",
            numPartitions: 1,
            replicationFactor: 1,
            assignments: [],
            configs: [{ name: "min.cleanable.dirty.ratio", value: "2" }],
          },
        ],
        timeoutMs: 1000,
        validateOnly: false,
      });
      const codes = (created.topics as { name: string; errorCode: number }[]).map((
        t,
      ) => [t.name, t.errorCode]);
      assert.deepEqual(codes, [
        ["l", 36],
        ["bad/name", 17],
        ["rf3", 38],
        ["zero", 37],
        ["cfg", 0],
        ["kv", 0],
        ["badratio", 40],
      ]);
      assert.equal(log.hasTopic("badratio"), false);
      const kv = log.topic("kv").config;
      assert.deepEqual(
        [kv.cleanupPolicy, kv.minCleanableDirtyRatio, kv.deleteRetentionMs, kv.minCompactionLagMs],
        ["compact", 0.01, 1000, 10],
      );
      assert.equal(kv.maxCompactionLagMs, Number.MAX_SAFE_INTEGER);
      assert.equal(log.topic("cfg").partitions, 2);
      assert.equal(log.topic("cfg").config.retentionMs, 60000);
      const deleted = await client.request(20, 4, { topicNames: ["cfg", "nope"], timeoutMs: 1000 });
      assert.deepEqual((deleted.responses as { errorCode: number }[]).map((r) => r.errorCode), [0, 3]);
      assert.equal(log.hasTopic("cfg"), false);
      client.close();
    });
  });

  test("idempotent producers: InitProducerId, a retried batch answered with its original offset, a gap refused", async () => {
    await withBroker(async (broker, log) => {
      await log.createTopic("idem");
      const client = await RawClient.connect(broker.port);
      const init = await client.request(22, 1, { transactionalId: null, transactionTimeoutMs: 60000 });
      assert.equal(init.errorCode, 0);
      const pid = init.producerId as number;
      const send = async (batch: Uint8Array) =>
        firstPartition(
          await client.request(0, 7, produceBody("idem", batch)),
          "responses",
          "partitionResponses",
        );
      assert.equal((await send(idempotentBatch(pid, 0, 0, "a", "b"))).baseOffset, 0);
      assert.equal((await send(idempotentBatch(pid, 0, 2, "c"))).baseOffset, 2);
      const retry = await send(idempotentBatch(pid, 0, 0, "a", "b"));
      assert.deepEqual([retry.errorCode, retry.baseOffset], [0, 0]);
      assert.equal((await send(idempotentBatch(pid, 0, 7, "gap"))).errorCode, 45);
      assert.equal((await send(idempotentBatch(pid, -1 + 0, 3, "old epoch"))).errorCode, 47);
      assert.equal(log.topic("idem").partition(0).logEndOffset, 3);
      // A transactional ID is refused: no transactions.
      const txn = await client.request(22, 1, { transactionalId: "tx", transactionTimeoutMs: 60000 });
      assert.equal(txn.errorCode, 35);
      client.close();
    });
  });

  test("a retry of a batch appended before the broker restarted is still answered with its original offset", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-server-restart-"));
    try {
      const pid = 123456;
      for (const round of [0, 1]) {
        const log = await open(dir);
        const broker = await serve(log, { port: 0, logLine: () => {} });
        const client = await RawClient.connect(broker.port);
        const res = await client.request(0, 7, produceBody("restart", idempotentBatch(pid, 0, 0, "once")));
        const p = firstPartition(res, "responses", "partitionResponses");
        assert.deepEqual([round, p.errorCode, p.baseOffset], [round, 0, 0]);
        client.close();
        await broker.close();
      }
      const log = await open(dir);
      assert.equal(log.topic("restart").partition(0).logEndOffset, 1);
      await log.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("Metadata v12 reports each topic's ID, and Fetch v16 reads by topic ID (an unknown ID is UNKNOWN_TOPIC_ID)", async () => {
    await withBroker(async (broker, log) => {
      const topic = await log.createTopic("ids");
      await topic.append([{ value: "by id" }]);
      const client = await RawClient.connect(broker.port);
      const meta = await client.request(3, 12, { topics: null, allowAutoTopicCreation: false });
      const listed = (meta.topics as { name: string; topicId: string }[]).find((t) => t.name === "ids")!;
      assert.equal(listed.topicId, topic.topicId);
      const fetch = (topicId: string) =>
        client.request(1, 16, {
          maxWaitMs: 0,
          minBytes: 0,
          maxBytes: 1 << 20,
          isolationLevel: 1,
          sessionId: 0,
          sessionEpoch: -1,
          topics: [{ topicId, partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }],
          forgottenTopicsData: [],
          rackId: "",
        });
      const res = await fetch(topic.topicId!);
      const p = firstPartition(res, "responses", "partitions");
      assert.equal(p.errorCode, 0);
      assert.deepEqual(p.records, topic.partition(0).read(0, 1 << 20)!.bytes);
      const unknown = await fetch("AAAAAAAAAAAAAAAAAAAAAA");
      assert.equal(firstPartition(unknown, "responses", "partitions").errorCode, 100);
      client.close();
    });
  });
});
