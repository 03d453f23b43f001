// `reel migrate` (the CLI, on the runtime under test) into a real Kafka 4.1.1 broker: topics with
// their partition counts and configs, records with keys, values, headers and timestamps, and a
// group's committed offsets; a second run after more appends copies only the new records; a
// topic whose log start offset retention moved gets its committed offset translated, and Kafka's
// console consumer in that group resumes right after the last committed record.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { type ClusterConnection, connect, type ConsumedRecord, Consumer, open } from "../../mod.ts";
import { type KafkaCluster, runKafkaTool, startKafka, toHex, TOOLS } from "../interop/kafka/harness.ts";
import { clusterSkip } from "./_helpers.ts";
import { reel } from "../consumer/_helpers.ts";

const SKIP = clusterSkip();
const TIMEOUT = { timeout: 240_000 };

let kafka: KafkaCluster | undefined;
let connection: ClusterConnection | undefined;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-migrate-"));

after(async () => {
  await connection?.close();
  await kafka?.destroy();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function readAll(read: ReadableStream<ConsumedRecord>): Promise<string[]> {
  const out: string[] = [];
  for await (const r of read) {
    out.push(
      [
        r.partition,
        r.timestamp,
        toHex(r.key),
        toHex(r.value),
        JSON.stringify(r.headers.map((h) => [h.key, toHex(h.value)])),
      ].join(" "),
    );
  }
  return out.sort();
}

describe("reel migrate into Kafka 4.1.1", { skip: SKIP }, () => {
  test(
    "copies topics, records and committed offsets; resumes without duplicates; translates offsets past retention",
    TIMEOUT,
    async () => {
      kafka = await startKafka();
      const log = await open(dir);
      const t0 = Date.now() - 60_000;
      const edits = await log.createTopic("edits", { partitions: 3, config: { retentionMs: -1 } });
      const record = (i: number) => ({
        key: `channel-${i % 5}`,
        value: `edit ${i}`,
        headers: [{ key: "source", value: new TextEncoder().encode(`s${i}`) }],
        timestamp: t0 + i,
      });
      await edits.append(Array.from({ length: 600 }, (_, i) => record(i)));
      // A topic whose first segments retention deleted: its log start offset is not 0.
      const small = await log.createTopic("small", {
        partitions: 1,
        config: { segmentBytes: 1024, retentionBytes: 2048 },
      });
      for (let i = 0; i < 10; i++) {
        await small.append(Array.from({ length: 20 }, (_, j) => ({ value: `small ${i * 20 + j}` })));
      }
      small.deleteOldSegments();
      const smallStart = small.describe()[0].logStartOffset;
      assert.ok(smallStart > 0, "retention moved the log start offset");
      // A group with committed offsets on both topics.
      const consumer = new Consumer(log, {
        groupId: "billing",
        autoOffsetReset: "earliest",
        enableAutoCommit: false,
      });
      consumer.assign([
        { topic: "small", partition: 0 },
        ...[0, 1, 2].map((partition) => ({ topic: "edits", partition })),
      ]);
      await consumer.commit([
        { topic: "small", partition: 0, offset: smallStart + 7 },
        { topic: "edits", partition: 1, offset: 10 },
      ]);
      await consumer.close();
      await log.close();

      const first = await reel(["migrate", "--dir", dir, "--to", kafka.bootstrapServers]);
      console.log(first.stdout);
      assert.equal(first.status, 0, first.stderr);
      assert.match(first.stdout, /topic edits: 3 partition\(s\), created, configs retention\.ms=-1/);
      assert.match(first.stdout, /segment\.bytes left at Kafka's default/);
      assert.match(
        first.stdout,
        new RegExp(`offsets translated: reel ${smallStart}\\.\\.200 → Kafka 0\\.\\.${200 - smallStart}`),
      );
      assert.match(
        first.stdout,
        new RegExp(
          `group billing: 2 committed offset\\(s\\) copied, 1 translated \\(small-0 ${smallStart + 7}→7\\)`,
        ),
      );

      // More appends, then a second run: only the new records go.
      const again = await open(dir);
      await again.topic("edits").append(Array.from({ length: 150 }, (_, i) => record(600 + i)));
      const local = await readAll(again.topic("edits").readable());
      await again.close();
      const second = await reel([
        "migrate",
        "--dir",
        dir,
        "--to",
        kafka.bootstrapServers,
        "--topic",
        "edits",
      ]);
      assert.equal(second.status, 0, second.stderr);
      assert.match(second.stdout, /migrated 1 topic\(s\), 150 record\(s\)/);
      assert.match(second.stdout, /already there/);

      connection = await connect({ bootstrapServers: kafka.bootstrapServers });
      assert.deepEqual(connection.topics(), ["edits", "small"]);
      assert.deepEqual(
        await readAll(connection.topic("edits").readable()),
        local,
        "every record once, fields equal",
      );
      const offsets = await connection.committedOffsets("billing");
      assert.deepEqual(
        offsets.sort((a, b) => a.topic.localeCompare(b.topic)).map((o) => [o.topic, o.partition, o.offset]),
        [["edits", 1, 10], ["small", 0, 7]],
      );

      // Kafka's console consumer in the group resumes right after the last committed record.
      const { stdout } = await runKafkaTool(TOOLS.consoleConsumer, [
        ...["--bootstrap-server", kafka.bootstrapServers, "--topic", "small", "--group", "billing"],
        ...["--max-messages", "3", "--timeout-ms", "30000"],
      ]);
      assert.deepEqual(stdout.trim().split("\n"), [7, 8, 9].map((i) => `small ${smallStart + i}`));
    },
  );
});
