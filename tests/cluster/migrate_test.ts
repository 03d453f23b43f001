// `reel migrate` (the CLI, on the runtime under test) into a real Kafka 4.1.1 broker: topics with
// their partition counts and configs, records with keys, values, headers and timestamps, and a
// group's committed offsets; a second run after more appends copies only the new records; a
// topic whose log start offset retention moved gets its committed offset translated, and Kafka's
// console consumer in that group resumes right after the last committed record. Then the demo's real
// data (data/: the Apache access log keyed by client IP, the Wikipedia edits keyed by channel) with
// a group that consumed part of the log: the same records at the same offsets in Kafka, and the
// console consumer in that group reads exactly the records after each partition's committed offset.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Readable } from "node:stream";
import { after, describe, test } from "node:test";
import {
  connect,
  type ConsumedRecord,
  Consumer,
  JsonLineRecordStream,
  LineStream,
  open,
  type ProducerRecord,
} from "../../mod.ts";
import { runKafkaTool, toHex, TOOLS } from "../interop/kafka/harness.ts";
import { clusterSkip, kafkaForFile } from "./_helpers.ts";
import { reel } from "../consumer/_helpers.ts";

const SKIP = clusterSkip();
const TIMEOUT = { timeout: 240_000 };

/** One broker for the file, started by the first test that needs it. */
const shared = kafkaForFile();
const setup = shared.start;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-migrate-"));
const demoDir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-migrate-demo-"));

after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(demoDir, { recursive: true, force: true });
});

const DATA = path.join(import.meta.dirname!, "../../data");
const text = new TextDecoder();

function fileStream(file: string): ReadableStream<Uint8Array<ArrayBuffer>> {
  return Readable.toWeb(fs.createReadStream(file)) as unknown as ReadableStream<Uint8Array<ArrayBuffer>>;
}

/** The demo's two inputs as it ingests them (demo/demo.ts): topic, record stream, record count. */
const DEMO: { topic: string; records: () => ReadableStream<ProducerRecord>; count: number }[] = [
  {
    topic: "access",
    count: 10_000,
    records: () =>
      fileStream(path.join(DATA, "apache_logs/apache_logs")).pipeThrough(new LineStream()).pipeThrough(
        new TransformStream<string, ProducerRecord>({
          transform: (line, c) => c.enqueue({ key: /^(\S+)/.exec(line)![1], value: line }),
        }),
      ),
  },
  {
    topic: "wikiticker",
    count: 39_244,
    records: () =>
      fileStream(path.join(DATA, "wikiticker/wikiticker-2015-09-12-sampled.json.gz"))
        .pipeThrough(new DecompressionStream("gzip"))
        .pipeThrough(new LineStream())
        .pipeThrough(new JsonLineRecordStream({ key: "channel", timestamp: "time" })),
  },
];

/** Every record as `partition offset timestamp key value`, in partition and offset order. */
async function records(read: ReadableStream<ConsumedRecord>): Promise<string[]> {
  const out: { p: number; o: number; line: string }[] = [];
  for await (const r of read) {
    out.push({
      p: r.partition,
      o: r.offset,
      line: `${r.partition} ${r.offset} ${r.timestamp} ${text.decode(r.key!)} ${text.decode(r.value!)}`,
    });
  }
  return out.sort((a, b) => a.p - b.p || a.o - b.o).map((r) => r.line);
}

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
      await setup();
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

      const first = await reel(["migrate", "--dir", dir, "--to", shared.kafka.bootstrapServers]);
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
        shared.kafka.bootstrapServers,
        "--topic",
        "edits",
      ]);
      assert.equal(second.status, 0, second.stderr);
      assert.match(second.stdout, /migrated 1 topic\(s\), 150 record\(s\)/);
      assert.match(second.stdout, /already there/);

      const connection = await shared.connection();
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
        ...["--bootstrap-server", shared.kafka.bootstrapServers, "--topic", "small", "--group", "billing"],
        ...["--max-messages", "3", "--timeout-ms", "30000"],
      ]);
      assert.deepEqual(stdout.trim().split("\n"), [7, 8, 9].map((i) => `small ${smallStart + i}`));
    },
  );

  test(
    "the demo's real data and a group that consumed part of it: the same records at the same offsets, and Kafka's console consumer in the group resumes exactly after each committed record",
    TIMEOUT,
    async () => {
      const k = await setup();
      const log = await open(demoDir);
      for (const d of DEMO) {
        const topic = await log.createTopic(d.topic, { partitions: 4, config: { retentionMs: -1 } });
        await d.records().pipeTo(topic.writable());
      }
      // A group that read a quarter of the access log, committing after each poll.
      const consumer = new Consumer(log, {
        groupId: "reporting",
        autoOffsetReset: "earliest",
        enableAutoCommit: false,
      });
      consumer.subscribe(["access"]);
      for (let read = 0; read < 2_500;) {
        read += (await consumer.poll({ timeoutMs: 5_000, maxRecords: 400 })).length;
        await consumer.commit();
      }
      const committed: number[] = [];
      for (let p = 0; p < 4; p++) {
        committed.push((await consumer.committed({ topic: "access", partition: p }))?.offset ?? 0);
      }
      await consumer.close();
      const local = new Map<string, string[]>();
      for (const d of DEMO) local.set(d.topic, await records(log.topic(d.topic).readable()));
      await log.close();

      const started = performance.now();
      const run = await reel(["migrate", "--dir", demoDir, "--to", k.bootstrapServers]);
      const seconds = (performance.now() - started) / 1000;
      assert.equal(run.status, 0, run.stderr);
      assert.match(
        run.stdout,
        /migrated 2 topic\(s\), 49244 record\(s\), 4 committed offset\(s\); offsets equal/,
      );
      console.log(`migrate: the demo's 49,244 records and a group into Kafka in ${seconds.toFixed(1)} s`);

      const c = await connect({ bootstrapServers: k.bootstrapServers });
      try {
        for (const d of DEMO) {
          const copied = await records(c.topic(d.topic).readable());
          assert.equal(copied.length, d.count);
          assert.deepEqual(
            copied,
            local.get(d.topic),
            `${d.topic}: same partitions, offsets, keys, values, timestamps`,
          );
        }
        const offsets = (await c.committedOffsets("reporting")).sort((a, b) => a.partition - b.partition);
        assert.deepEqual(offsets.map((o) => o.offset), committed);
      } finally {
        await c.close();
      }

      // Kafka's console consumer joins the group and reads what is left: from each committed offset on.
      const left = 10_000 - committed.reduce((a, b) => a + b, 0);
      const { stdout } = await runKafkaTool(TOOLS.consoleConsumer, [
        ...["--bootstrap-server", k.bootstrapServers, "--topic", "access", "--group", "reporting"],
        ...["--max-messages", String(left), "--timeout-ms", "60000"],
        ...["--property", "print.partition=true", "--property", "print.offset=true"],
      ]);
      const lines = stdout.split("\n").filter((l) => l.startsWith("Partition:"));
      assert.equal(lines.length, left);
      const got: string[][] = [[], [], [], []];
      for (const line of lines) {
        const m = /^Partition:(\d+)\tOffset:(\d+)\t(.*)$/.exec(line);
        assert.ok(m, line);
        got[Number(m[1])].push(`${m[2]} ${m[3]}`);
      }
      const expected: string[][] = [[], [], [], []];
      for (const r of local.get("access")!) {
        const [p, o, _ts, _key, ...value] = r.split(" ");
        if (Number(o) >= committed[Number(p)]) expected[Number(p)].push(`${o} ${value.join(" ")}`);
      }
      for (let p = 0; p < 4; p++) {
        assert.equal(
          Number(got[p][0]?.split(" ")[0] ?? committed[p]),
          committed[p],
          `partition ${p} resumes at its committed offset`,
        );
      }
      assert.deepEqual(got, expected);
    },
  );
});
