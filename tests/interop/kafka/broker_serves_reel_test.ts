// reel → Kafka, a broker serving reel's partitions: topics created in a real Kafka broker, the broker
// stopped, each partition directory's segments and indexes replaced by what reel wrote for the same
// topic and partition (Kafka's own partition.metadata and leader-epoch-checkpoint kept), the broker
// restarted: a Java consumer receives every record byte for byte at the same offsets, the console
// consumer prints them, a Java producer appends after them, and reel reads back the directory the
// broker then holds. One broker serves every test of the file.

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { open, type ProducerRecord } from "../../../mod.ts";
import { prng, RUNTIME } from "../../durability/_helpers.ts";
import { CODECS } from "../../_runtime.ts";
import {
  javaConsume,
  javaProduce,
  type JavaRecord,
  type KafkaCluster,
  kafkaUnavailable,
  runKafkaTool,
  startKafka,
  toHex,
  toJavaRecord,
  TOOLS,
} from "./harness.ts";

const SKIP = kafkaUnavailable();
const TIMEOUT = { timeout: 300_000 };
const T0 = 1_700_000_000_000;
const SEGMENT_BYTES = 16 * 1024;
const INDEX_INTERVAL_BYTES = 512;

interface Served {
  topic: string;
  partitions: number;
  /** reel's records, per partition, as the Java consumer prints them. */
  records: Required<JavaRecord>[];
  /** reel's log start and log end offset of each partition. */
  logStartOffsets: number[];
  logEndOffsets: number[];
  /** The bytes of reel's index files, by partition and file name. */
  indexes: Map<string, Uint8Array>[];
  /** Whether reel's index files were left out, so that the broker rebuilt them. */
  rebuildIndexes: boolean;
}

let kafka: KafkaCluster | undefined;
let reelDir = "";
let state: Promise<Served[]> | undefined;
/** What the broker logged while it loaded reel's partitions. */
let startLog = "";

function records(random: () => number, count: number, partitions: number): ProducerRecord[] {
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => (random() * 256) | 0);
  return Array.from({ length: count }, (_, i) => ({
    key: i % 5 === 0 ? null : i % 5 === 1 ? new Uint8Array(0) : bytes(1 + (random() * 24 | 0)),
    value: i % 9 === 3 ? null : i % 9 === 4 ? new Uint8Array(0) : bytes(random() * 400 | 0),
    headers: i % 4 === 0
      ? [{ key: "h", value: bytes(3) }, { key: "n", value: null }, { key: "h", value: bytes(0) }]
      : [],
    timestamp: T0 + i,
    partition: i % partitions,
  }));
}

/** Writes a topic with reel: batches of every codec (this runtime has), several segments per partition. */
async function writeWithReel(
  topic: string,
  partitions: number,
  options: { retention?: boolean; rebuildIndexes?: boolean } = {},
): Promise<Served> {
  const log = await open(reelDir);
  try {
    const t = await log.createTopic(topic, {
      partitions,
      config: {
        segmentBytes: SEGMENT_BYTES,
        indexIntervalBytes: INDEX_INTERVAL_BYTES,
        retentionBytes: options.retention ? 2 * SEGMENT_BYTES : -1,
      },
    });
    const random = prng(topic.length * 31 + partitions);
    const all = records(random, 600, partitions);
    for (let i = 0, c = 0; i < all.length; c = (c + 1) % CODECS.length) {
      const n = 1 + Math.floor(random() * 16);
      await t.append(all.slice(i, i + n), { compression: CODECS[c] });
      i += n;
    }
    if (options.retention) assert.ok(t.deleteOldSegments(T0) > 0);
    const out: Required<JavaRecord>[] = [];
    for (let p = 0; p < partitions; p++) {
      assert.ok(t.partition(p).segments.length >= 2, `${topic}-${p} has several segments`);
      for await (const r of t.readable({ partitions: p, from: "earliest" })) out.push(toJavaRecord(r));
    }
    return {
      topic,
      partitions,
      records: out,
      logStartOffsets: t.logs.map((l) => l.logStartOffset),
      logEndOffsets: t.logs.map((l) => l.logEndOffset),
      indexes: [],
      rebuildIndexes: options.rebuildIndexes ?? false,
    };
  } finally {
    await log.close();
  }
}

const SEGMENT_FILE = /^\d{20}\.(log|index|timeindex|snapshot|txnindex)$/;

/** Replaces the broker's segment and index files of each partition with reel's. */
function replacePartitions(k: KafkaCluster, s: Served): void {
  for (let p = 0; p < s.partitions; p++) {
    const kafkaDir = k.partitionDir(s.topic, p);
    const reelPartition = path.join(reelDir, `${s.topic}-${p}`);
    assert.ok(fs.existsSync(path.join(kafkaDir, "partition.metadata")), "Kafka wrote partition.metadata");
    for (const f of fs.readdirSync(kafkaDir)) if (SEGMENT_FILE.test(f)) fs.rmSync(path.join(kafkaDir, f));
    const indexes = new Map<string, Uint8Array>();
    for (const f of fs.readdirSync(reelPartition)) {
      if (!/^\d{20}\.(log|index|timeindex)$/.test(f)) continue;
      const bytes = fs.readFileSync(path.join(reelPartition, f));
      if (!f.endsWith(".log")) {
        indexes.set(f, bytes);
        if (s.rebuildIndexes) continue;
      }
      fs.writeFileSync(path.join(kafkaDir, f), bytes);
    }
    s.indexes[p] = indexes;
  }
}

/** The entries of a `.timeindex` (int64 timestamp, int32 relative offset), up to the first empty one. */
function timeIndexEntries(bytes: Uint8Array): string[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: string[] = [];
  for (let i = 0; i + 12 <= bytes.length; i += 12) {
    const timestamp = view.getBigInt64(i);
    const offset = view.getInt32(i + 8);
    if (timestamp === 0n && offset === 0 && i > 0) break;
    out.push(`${timestamp}@${offset}`);
  }
  return out;
}

function setup(): Promise<Served[]> {
  return state ??= (async () => {
    reelDir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-kafka-served-"));
    kafka = await startKafka();
    const served = [
      await writeWithReel("served", 2),
      await writeWithReel("served-rebuilt", 1, { rebuildIndexes: true }),
      await writeWithReel("served-retained", 1, { retention: true }),
    ];
    // The records are from 2023 (T0): under Kafka's default retention.ms (7 days) the broker's first
    // retention check (30 s after it starts) would delete reel's segments before a slow test reads them.
    const topicConfig = {
      "index.interval.bytes": INDEX_INTERVAL_BYTES,
      "message.timestamp.type": "CreateTime",
      "retention.ms": -1,
    };
    await Promise.all(served.map((s) => kafka!.createTopic(s.topic, s.partitions, topicConfig)));
    await kafka.stopBrokers();
    for (const s of served) replacePartitions(kafka, s);
    await kafka.start();
    startLog = kafka.brokers[0].currentLog();
    return served;
  })();
}

after(async () => {
  await kafka?.destroy();
  if (reelDir) fs.rmSync(reelDir, { recursive: true, force: true });
});

describe(`a Kafka broker serves the partitions reel wrote (${RUNTIME})`, { skip: SKIP }, () => {
  test(
    "a Java consumer receives every record byte for byte at the same offsets, from the log start offset",
    TIMEOUT,
    async () => {
      const served = await setup();
      const consumed = await Promise.all(served.map((s) => javaConsume(kafka!.bootstrapServers, s.topic)));
      served.forEach((s, i) => {
        assert.equal(consumed[i].length, s.records.length, `${s.topic}: record count`);
        assert.deepEqual(consumed[i], s.records, `${s.topic}: records`);
      });
      assert.ok(
        served[2].logStartOffsets[0] > 0 && served[2].records[0].offset === served[2].logStartOffsets[0],
      );
    },
  );

  test(
    "the broker loads reel's partitions without a warning: no recovery, no invalid batch, no index rebuilt but those left out",
    TIMEOUT,
    async () => {
      const served = await setup();
      const rebuilt = served.find((s) => s.rebuildIndexes)!;
      const complaints = startLog.split("\n").filter((l) => /^\[[^\]]*\] (WARN|ERROR)/.test(l))
        .filter((l) => served.some((s) => l.includes(`${s.topic}-`)));
      const expected = complaints.filter((l) =>
        l.includes(`partition=${rebuilt.topic}-0,`) && l.includes("Could not find offset index file")
      );
      assert.deepEqual(complaints.filter((l) => !expected.includes(l)), [], startLog);
      assert.equal(
        expected.length,
        rebuilt.indexes[0].size / 2,
        "one rebuild per segment whose indexes were left out",
      );
    },
  );

  test("the console consumer prints every record with its offset", TIMEOUT, async () => {
    const [s] = await setup();
    const { stdout } = await runKafkaTool(TOOLS.consoleConsumer, [
      "--bootstrap-server",
      kafka!.bootstrapServers,
      "--topic",
      s.topic,
      "--partition",
      "0",
      "--offset",
      "earliest",
      "--max-messages",
      String(s.records.filter((r) => r.partition === 0).length),
      "--property",
      "print.offset=true",
      "--property",
      "print.value=false",
      "--timeout-ms",
      "60000",
    ]);
    const offsets = stdout.split("\n").filter((l) => l.startsWith("Offset:")).map((l) => Number(l.slice(7)));
    assert.deepEqual(offsets, s.records.filter((r) => r.partition === 0).map((r) => r.offset));
  });

  test(
    "the broker keeps reel's .index and .timeindex, and rebuilds a missing .index byte for byte as reel wrote it",
    TIMEOUT,
    async () => {
      const served = await setup();
      let compared = 0;
      for (const s of served) {
        for (let p = 0; p < s.partitions; p++) {
          const kafkaDir = kafka!.partitionDir(s.topic, p);
          for (const [name, reelBytes] of s.indexes[p]) {
            const file = path.join(kafkaDir, name);
            if (!fs.existsSync(file)) continue; // Kafka opens indexes lazily, and only on use after a clean shutdown
            // Kafka preallocates the active segment's index files while it runs: compare the entries.
            const kafkaBytes = fs.readFileSync(file).subarray(0, reelBytes.length);
            if (s.rebuildIndexes && name.endsWith(".timeindex")) {
              // Kafka's rebuild (LogSegment.recover) indexes the same batches, but does not add the
              // entry for the segment's largest timestamp that a roll adds (onBecomeInactiveSegment):
              // reel's entries are Kafka's, plus at most that one.
              const kafkaEntries = timeIndexEntries(fs.readFileSync(file));
              const reelEntries = timeIndexEntries(reelBytes);
              assert.deepEqual(
                reelEntries.slice(0, kafkaEntries.length),
                kafkaEntries,
                `${s.topic}-${p}/${name}`,
              );
              assert.ok(
                reelEntries.length - kafkaEntries.length <= 1,
                `${s.topic}-${p}/${name}: one entry more at most`,
              );
              compared++;
              continue;
            }
            if (s.rebuildIndexes || name.endsWith(".index")) {
              assert.deepEqual(kafkaBytes, reelBytes, `${s.topic}-${p}/${name}`);
              compared++;
            }
          }
        }
      }
      assert.ok(compared >= served[1].indexes[0].size / 2, `compared ${compared} index files`);
    },
  );

  test(
    "a Java producer appends after reel's records, at reel's log end offset; reel then reads the broker's directory",
    TIMEOUT,
    async () => {
      const served = await setup();
      const s = served[0];
      const sends = Array.from({ length: 6 }, (_, i) => ({
        send: {
          partition: i % s.partitions,
          key: toHex(`java-${i}`),
          value: toHex(`appended by Kafka ${i}`),
          headers: [["from", toHex("java")]] as [string, string][],
        },
      }));
      const acks = await javaProduce(kafka!.bootstrapServers, s.topic, sends, { "compression.type": "lz4" });
      const next = [...s.logEndOffsets];
      assert.deepEqual(
        acks,
        sends.map((x) => ({ partition: x.send.partition, offset: next[x.send.partition]++ })),
      );
      const consumed = await javaConsume(kafka!.bootstrapServers, s.topic);
      const appended = consumed.filter((r) => r.offset >= s.logEndOffsets[r.partition]);
      assert.deepEqual(consumed.filter((r) => r.offset < s.logEndOffsets[r.partition]), s.records);
      assert.deepEqual(
        appended.map((r) => [r.partition, r.key, r.value, r.headers]),
        [0, 2, 4, 1, 3, 5].map((i) => [i % 2, sends[i].send.key, sends[i].send.value, sends[i].send.headers]),
      );

      // reel reads the broker's partition directories (copied: the broker still runs), topic file absent.
      await kafka!.stopBrokers();
      const copy = fs.mkdtempSync(path.join(os.tmpdir(), "reel-kafka-served-copy-"));
      try {
        for (let p = 0; p < s.partitions; p++) {
          fs.cpSync(kafka!.partitionDir(s.topic, p), path.join(copy, `${s.topic}-${p}`), { recursive: true });
        }
        const log = await open(copy);
        try {
          const topic = log.topic(s.topic);
          assert.equal(topic.partitions, s.partitions);
          const read: Required<JavaRecord>[] = [];
          for (let p = 0; p < s.partitions; p++) {
            for await (const r of topic.readable({ partitions: p, from: "earliest" })) {
              read.push(toJavaRecord(r));
            }
          }
          assert.deepEqual(
            read.map(({ timestamp: _, ...r }) => r),
            consumed.map(({ timestamp: _, ...r }) => r),
          );
          assert.deepEqual(read, consumed);
        } finally {
          await log.close();
        }
      } finally {
        fs.rmSync(copy, { recursive: true, force: true });
        await kafka!.start();
      }
    },
  );
});
