// Kafka → reel, compacted: a real broker's log cleaner compacts a topic (`cleanup.policy=compact`)
// that the Java producer wrote in two rounds — keyed records with overwrites and tombstones, each
// round ended by a record whose later timestamp rolls the segment (`segment.ms`) so that the round
// becomes cleanable. The test waits (polling the broker's `cleaner-offset-checkpoint`) until the
// cleaner has cleaned each round, so the first round's tombstones get their delete horizon
// (KIP-534) and go in the second cleaning (`delete.retention.ms=0`), and the second round's last
// tombstones stay with theirs. Then a Java consumer reads the topic, the broker stops, and the
// partition directory is copied, with the broker's cleaner checkpoint, into a reel log directory:
// `topic.readable()`, `Consumer` and `reel verify` give exactly the offsets, keys, values,
// headers and timestamps the Java consumer got, gaps included, and `reel dump` prints what Kafka's
// DumpLogSegments prints of the same files (delete horizons included).

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Consumer, type LogDirectory, open } from "../../../mod.ts";
import { verifyLogDirectory } from "../../../src/cli/commands/verify.ts";
import { ROOT, RUNTIME } from "../../durability/_helpers.ts";
import { scriptCommand } from "../../_runtime.ts";
import { dumpLogSegments, parseDump } from "./dump_log_segments.ts";
import {
  javaConsume,
  javaProduce,
  type JavaRecord,
  type KafkaCluster,
  kafkaUnavailable,
  type ProduceStep,
  startKafka,
  toHex,
  toJavaRecord,
} from "./harness.ts";

const SKIP = kafkaUnavailable();
/** A guard against a hang (a broker on a busy machine starts slowly), never a pass/fail condition. */
const TIMEOUT = { timeout: 300_000 };
const TOPIC = "changelog";
/** Record timestamps: in the past (Kafka refuses timestamps more than an hour ahead), 1 s apart. */
const T0 = Date.now() - 30 * 60_000;
/** `segment.ms`: a batch whose timestamp is this much past its segment's first batch rolls it. */
const SEGMENT_MS = 10_000;

interface Written {
  /** The reel log directory holding the copy of the broker's partition directory. */
  dir: string;
  /** The copied partition directory. */
  partitionDir: string;
  /** What the Java consumer got, in offset order. */
  java: Required<JavaRecord>[];
  /** Keys whose last record before the first cleaning was a tombstone and that were not written again. */
  goneKeys: string[];
  /** Keys whose last record was a tombstone written just before the last cleaning. */
  tombstonedKeys: string[];
  /** Offsets the Java producer was acknowledged. */
  produced: number;
}

let kafka: KafkaCluster | undefined;
let state: Promise<Written> | undefined;
let copyDir = "";

after(async () => {
  await kafka?.destroy();
  if (copyDir) fs.rmSync(copyDir, { recursive: true, force: true });
});

const send = (key: string, value: string | null, timestamp: number, withHeader = false): ProduceStep => ({
  send: {
    partition: 0,
    timestamp,
    key: toHex(key),
    value: value === null ? null : toHex(value),
    headers: withHeader ? [["h", toHex(key)]] : [],
  },
});

/** The offset of `topic-0` in the broker's `cleaner-offset-checkpoint` (Kafka's cleaner writes it after each round). */
function cleanerCheckpoint(logDir: string): number {
  let text: string;
  try {
    text = fs.readFileSync(path.join(logDir, "cleaner-offset-checkpoint"), "utf8");
  } catch {
    return -1;
  }
  for (const line of text.split("\n").slice(2)) {
    const [topic, partition, offset] = line.trim().split(/\s+/);
    if (topic === TOPIC && partition === "0") return Number(offset);
  }
  return -1;
}

/** Polls until Kafka's cleaner has cleaned everything below `offset` (its checkpoint reached it). */
async function cleanedTo(k: KafkaCluster, offset: number): Promise<void> {
  // A guard against a hang only: the broker cleans within a second or two of the roll.
  const deadline = Date.now() + 120_000;
  while (cleanerCheckpoint(k.brokers[0].logDir) < offset) {
    if (Date.now() > deadline) {
      throw new Error(
        `Kafka's cleaner did not clean ${TOPIC}-0 up to ${offset} (checkpoint ${
          cleanerCheckpoint(k.brokers[0].logDir)
        }):\n${k.brokers[0].currentLog().slice(-4000)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function setup(): Promise<Written> {
  return state ??= (async () => {
    kafka = await startKafka({ config: { "log.cleaner.backoff.ms": 100 } });
    const k = kafka;
    await k.createTopic(TOPIC, 1, {
      "cleanup.policy": "compact",
      "segment.ms": SEGMENT_MS,
      "min.cleanable.dirty.ratio": 0.01,
      "delete.retention.ms": 0,
      "min.compaction.lag.ms": 0,
    });
    const keys = Array.from({ length: 12 }, (_, i) => `key-${String(i).padStart(2, "0")}`);
    // Round 1: 60 records over 12 keys (each written about five times), a tombstone every seventh,
    // flushed every eighth so that batches are small and segments roll every ~10 timestamps.
    const first: ProduceStep[] = [];
    let t = T0;
    for (let i = 0; i < 60; i++) {
      const key = keys[(i * 5) % 12];
      first.push(send(key, i % 7 === 3 ? null : `first-${i}`, t += 1000, i % 4 === 0));
      if (i % 8 === 7) first.push("flush");
    }
    // The last record of each key in round 1.
    const last1 = new Map<string, string | null>();
    for (const s of first) if (typeof s !== "string") last1.set(s.send.key!, s.send.value);
    first.push("flush", send("roll", "1", t += 3 * SEGMENT_MS));
    const acks1 = await javaProduce(k.bootstrapServers, TOPIC, first, { "compression.type": "gzip" });
    await cleanedTo(k, acks1[acks1.length - 1].offset);

    // Round 2: overwrites of the first six keys only, then tombstones for three of them (the last
    // records before the roll: first cleaned by the last round, so they keep their delete horizon).
    const second: ProduceStep[] = [];
    t += 3 * SEGMENT_MS;
    for (let i = 0; i < 30; i++) {
      second.push(send(keys[i % 6], `second-${i}`, t += 1000, i % 5 === 0));
      if (i % 8 === 7) second.push("flush");
    }
    const tombstoned = keys.slice(0, 3);
    for (const key of tombstoned) second.push(send(key, null, t += 1000));
    second.push("flush", send("roll", "2", t += 3 * SEGMENT_MS));
    const acks2 = await javaProduce(k.bootstrapServers, TOPIC, second);
    await cleanedTo(k, acks2[acks2.length - 1].offset);

    const java = await javaConsume(k.bootstrapServers, TOPIC);
    await k.stopBrokers();

    copyDir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-kafka-compacted-copy-"));
    const from = k.partitionDir(TOPIC, 0);
    const partitionDir = path.join(copyDir, `${TOPIC}-0`);
    fs.cpSync(from, partitionDir, { recursive: true });
    fs.copyFileSync(
      path.join(k.brokers[0].logDir, "cleaner-offset-checkpoint"),
      path.join(copyDir, "cleaner-offset-checkpoint"),
    );
    const goneKeys = keys.slice(6).filter((key) => last1.get(toHex(key)!) === null);
    return {
      dir: copyDir,
      partitionDir,
      java,
      goneKeys,
      tombstonedKeys: tombstoned,
      produced: acks1.length + acks2.length,
    };
  })();
}

/** Every record of the topic through `topic.readable()`. */
async function readAll(log: LogDirectory): Promise<Required<JavaRecord>[]> {
  const out: Required<JavaRecord>[] = [];
  for await (const r of log.topic(TOPIC).readable({ partitions: 0, from: "earliest" })) {
    out.push(toJavaRecord(r));
  }
  return out;
}

/** Runs the `reel` CLI on this runtime. */
function reel(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const [bin, argv] = scriptCommand(path.join(ROOT, "src", "cli", "main.ts"), args);
  const r = spawnSync(bin, argv, { encoding: "utf8", maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function segmentLogs(partitionDir: string): string[] {
  return fs.readdirSync(partitionDir).filter((f) => f.endsWith(".log")).sort().map((f) =>
    path.join(partitionDir, f)
  );
}

describe(`reel reads a topic compacted by a Kafka broker (${RUNTIME})`, { skip: SKIP }, () => {
  test("Kafka's cleaner left gaps, dropped the aged tombstones and kept the new ones", TIMEOUT, async () => {
    const w = await setup();
    const offsets = w.java.map((r) => r.offset);
    assert.ok(w.java.length < w.produced / 2, `${w.java.length} of ${w.produced} records left`);
    assert.ok(offsets.some((o, i) => i > 0 && o > offsets[i - 1] + 1), "offset gaps");
    const lastOf = new Map(w.java.map((r) => [r.key, r]));
    for (const key of w.goneKeys) assert.equal(lastOf.get(toHex(key)), undefined, `${key} deleted`);
    assert.ok(w.goneKeys.length > 0, "some keys were deleted in the first round");
    for (const key of w.tombstonedKeys) {
      assert.equal(lastOf.get(toHex(key))?.value, null, `${key}'s tombstone kept`);
    }
    // Kafka itself (DumpLogSegments) shows batches carrying a delete horizon: what reel must read.
    const dump = await dumpLogSegments(segmentLogs(w.partitionDir));
    const horizons = [...dump.logs.values()].flat().filter((b) => b.deleteHorizonMs !== null);
    assert.ok(horizons.length > 0, "batches with a delete horizon (attributes bit 6)");
    // The batches holding the kept tombstones carry one (the horizon stays on a batch when a later
    // round removes its tombstones, so others may hold none).
    for (const key of w.tombstonedKeys) {
      assert.ok(
        horizons.some((b) => b.records.some((r) => r.key === toHex(key) && r.value === null)),
        `${key}'s tombstone is in a batch with a delete horizon`,
      );
    }
  });

  test(
    "reel verify finds nothing wrong, and reel dump prints what DumpLogSegments prints",
    TIMEOUT,
    async () => {
      const w = await setup();
      const reports = verifyLogDirectory(w.dir).filter((r) => r.topic === TOPIC);
      assert.equal(reports.length, 1);
      assert.deepEqual(reports[0].problems, []);
      const cli = reel(["verify", "--dir", w.dir, "--topic", TOPIC]);
      assert.equal(cli.status, 0, cli.stdout + cli.stderr);

      const files = segmentLogs(w.partitionDir);
      const kafkaDump = await dumpLogSegments(files, { deep: false, deepIteration: true });
      const ours = reel(["dump", "--deep-iteration", ...files]);
      assert.equal(ours.status, 0, ours.stderr);
      const r = parseDump(ours.stdout, "");
      // Kafka reports the gaps compaction left ("Non-consecutive offsets"), nothing else.
      assert.deepEqual(
        kafkaDump.problems.filter((l) => !/^Non-consecutive offsets in |^\s+\d+ is followed by \d+$/.test(l)),
        [],
      );
      assert.deepEqual([...r.logs.keys()], [...kafkaDump.logs.keys()]);
      for (const [file, batches] of kafkaDump.logs) assert.deepEqual(r.logs.get(file), batches, file);
      assert.ok(
        [...kafkaDump.logs.values()].flat().some((b) => b.deleteHorizonMs !== null),
        "the dumps compared batches with a delete horizon",
      );
    },
  );
  test("topic.readable() delivers exactly what the Java consumer gets, gaps included", TIMEOUT, async () => {
    const w = await setup();
    const log = await open(w.dir, { retentionCheckIntervalMs: 0 });
    try {
      assert.deepEqual(await readAll(log), w.java);
    } finally {
      await log.close();
    }
  });

  test("Consumer polls exactly what the Java consumer gets", TIMEOUT, async () => {
    const w = await setup();
    const log = await open(w.dir, { retentionCheckIntervalMs: 0 });
    try {
      const consumer = new Consumer(log, { autoOffsetReset: "earliest" });
      try {
        consumer.assign([{ topic: TOPIC, partition: 0 }]);
        const got: Required<JavaRecord>[] = [];
        for (let polls = 0; got.length < w.java.length && polls < 10_000; polls++) {
          for (const r of await consumer.poll({ timeoutMs: 0 })) got.push(toJavaRecord(r));
        }
        assert.deepEqual(got, w.java);
        assert.deepEqual(await consumer.poll({ timeoutMs: 0 }), []);
      } finally {
        await consumer.close();
      }
    } finally {
      await log.close();
    }
  });
});
