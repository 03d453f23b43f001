// Kafka → reel: a real broker's log directory, written by the Java producer with its defaults
// (idempotent, acks=all) under each codec, and by transactional producers that commit some
// transactions and abort others (a non-transactional producer writing between them), then stopped.
// reel opens that directory (no topic file: the topics come from the partition directories),
// `reel verify` finds nothing wrong, `reel dump` prints what Kafka's DumpLogSegments prints
// (producer ids, epochs, sequences, control batches), `topic.readable()` and `Consumer` deliver
// exactly what a Java consumer gets under read_committed and read_uncommitted, and reel appends
// after Kafka's records. One broker writes everything, once per file. On Node 20 (no zstd in
// node:zlib) reel reads every topic but the zstd one, which it refuses with
// UnsupportedCompressionTypeError: `verify` reports it, reads reject.

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { Consumer, type LogDirectory, open, UnsupportedCompressionTypeError } from "../../../mod.ts";
import { verifyLogDirectory } from "../../../src/cli/commands/verify.ts";
import { prng, ROOT, RUNTIME } from "../../durability/_helpers.ts";
import { HAS_ZSTD, scriptCommand } from "../../_runtime.ts";
import { dumpLogSegments, parseDump } from "./dump_log_segments.ts";
import {
  javaConsumeTopics,
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
const TIMEOUT = { timeout: 300_000 };
const CODECS = ["none", "gzip", "snappy", "lz4", "zstd"] as const;
const TXN_TOPIC = "txn";
type Isolation = "read_committed" | "read_uncommitted";

interface Written {
  /** The broker's stopped log directory. */
  dir: string;
  /** Per topic, what the Java consumer got under each isolation level. */
  java: Map<string, Record<Isolation, Required<JavaRecord>[]>>;
}

let kafka: KafkaCluster | undefined;
let state: Promise<Written> | undefined;

function sends(random: () => number, n: number, tag: string, partitions: number): ProduceStep[] {
  const bytes = (k: number) => toHex(Uint8Array.from({ length: k }, () => (random() * 256) | 0));
  return Array.from({ length: n }, (_, i) => ({
    send: {
      partition: i % partitions,
      key: i % 6 === 0 ? null : toHex(`${tag}-${i}`),
      value: i % 11 === 5 ? null : bytes(random() * 200 | 0),
      headers: i % 3 === 0 ? [["tag", toHex(tag)], ["none", null]] : [],
    },
  }));
}

function transaction(random: () => number, tag: string, commit: boolean): ProduceStep[] {
  return ["begin", ...sends(random, 2 + Math.floor(random() * 5), tag, 2), commit ? "commit" : "abort"];
}

function setup(): Promise<Written> {
  return state ??= (async () => {
    kafka = await startKafka();
    const k = kafka;
    const bootstrap = k.bootstrapServers;
    await Promise.all([
      ...CODECS.map((c) => k.createTopic(`idempotent-${c}`, 2)),
      k.createTopic(TXN_TOPIC, 2),
    ]);
    const random = prng(42);
    // Defaults (enable.idempotence=true, acks=all) and each codec; small batches, several per partition.
    await Promise.all(CODECS.map((codec) =>
      javaProduce(bootstrap, `idempotent-${codec}`, [
        ...sends(random, 120, codec, 2),
        "flush",
        ...sends(random, 40, `${codec}-again`, 2),
      ], { "compression.type": codec, "batch.size": 2048, "linger.ms": 2 })
    ));
    // Two transactional producers (commits and aborts) and a plain one, at the same time.
    const a: ProduceStep[] = [];
    const b: ProduceStep[] = [];
    for (let i = 0; i < 6; i++) {
      a.push(...transaction(random, `a${i}`, i % 2 === 0));
      b.push(...transaction(random, `b${i}`, i % 3 !== 1));
    }
    await Promise.all([
      javaProduce(bootstrap, TXN_TOPIC, a, { "transactional.id": "reel-a", "compression.type": "gzip" }),
      javaProduce(bootstrap, TXN_TOPIC, b, { "transactional.id": "reel-b" }),
      javaProduce(bootstrap, TXN_TOPIC, sends(random, 30, "plain", 2), { "linger.ms": 0 }),
    ]);
    const java = new Map<string, Record<Isolation, Required<JavaRecord>[]>>();
    const topics = [...CODECS.map((c) => `idempotent-${c}`), TXN_TOPIC];
    const [committed, uncommitted] = await Promise.all([
      javaConsumeTopics(bootstrap, topics, "read_committed"),
      javaConsumeTopics(bootstrap, topics, "read_uncommitted"),
    ]);
    for (const topic of topics) {
      java.set(topic, { read_committed: committed.get(topic)!, read_uncommitted: uncommitted.get(topic)! });
    }
    await k.stopBrokers();
    return { dir: k.brokers[0].logDir, java };
  })();
}

after(async () => {
  await kafka?.destroy();
});

/** Every record of a topic through `topic.readable()`, partitions in order. */
async function readAll(
  log: LogDirectory,
  name: string,
  isolationLevel: Isolation,
): Promise<Required<JavaRecord>[]> {
  const topic = log.topic(name);
  const out: Required<JavaRecord>[] = [];
  for (let p = 0; p < topic.partitions; p++) {
    for await (const r of topic.readable({ partitions: p, from: "earliest", isolationLevel })) {
      out.push(toJavaRecord(r));
    }
  }
  return out;
}

/** Runs the `reel` CLI on this runtime. */
function reel(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const main = path.join(ROOT, "src", "cli", "main.ts");
  const [bin, argv] = scriptCommand(main, args);
  const r = spawnSync(bin, argv, { encoding: "utf8", maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function topicsOf(w: Written): string[] {
  return [...w.java.keys()];
}

/** The topics this runtime can decode: all of them, or all but the zstd one without zstd. */
function decodableTopicsOf(w: Written): string[] {
  return topicsOf(w).filter((t) => HAS_ZSTD || t !== "idempotent-zstd");
}

/** The codec reel appends with after Kafka's records: zstd where this runtime has it. */
const OWN_CODEC = HAS_ZSTD ? "zstd" : "lz4";

describe(`reel reads the log directory of a Kafka broker (${RUNTIME})`, { skip: SKIP }, () => {
  test(
    "open() finds Kafka's topics from their partition directories, without a topic file",
    TIMEOUT,
    async () => {
      const w = await setup();
      const log = await open(w.dir, { retentionCheckIntervalMs: 0 });
      try {
        for (const name of topicsOf(w)) {
          assert.ok(log.hasTopic(name), `${name} found`);
          assert.equal(log.topic(name).partitions, 2);
        }
        const transactions = w.java.get(TXN_TOPIC)!;
        assert.ok(
          transactions.read_uncommitted.length > transactions.read_committed.length,
          "some were aborted",
        );
      } finally {
        await log.close();
      }
    },
  );

  test("reel verify finds nothing wrong in any partition Kafka wrote", TIMEOUT, async () => {
    const w = await setup();
    const reports = verifyLogDirectory(w.dir).filter((r) => topicsOf(w).includes(r.topic));
    assert.equal(reports.length, topicsOf(w).length * 2);
    for (const r of reports) {
      if (decodableTopicsOf(w).includes(r.topic)) {
        assert.deepEqual(r.problems, [], `${r.topic}-${r.partition}`);
      } else {
        assert.ok(r.problems.length > 0, `${r.topic}-${r.partition} reported`);
        for (const problem of r.problems) assert.match(problem, /compression type zstd/);
      }
    }
    const cli = reel(["verify", "--dir", w.dir, "--topic", TXN_TOPIC]);
    assert.equal(cli.status, 0, cli.stdout + cli.stderr);
  });

  test(
    "reel dump prints every batch and record as Kafka's DumpLogSegments does: producer ids, epochs, sequences, control batches",
    TIMEOUT,
    async () => {
      const w = await setup();
      const files = decodableTopicsOf(w).flatMap((t) =>
        [0, 1].flatMap((p) => {
          const dir = path.join(w.dir, `${t}-${p}`);
          return fs.readdirSync(dir).filter((f) => f.endsWith(".log")).map((f) => path.join(dir, f));
        })
      );
      const kafkaDump = await dumpLogSegments(files, { deep: false });
      const ours = reel(["dump", ...files]);
      assert.equal(ours.status, 0, ours.stderr);
      // Kafka's deep iteration without --print-data-log: batch and record metadata, control markers.
      const kafkaDeep = await dumpLogSegments(files, { deep: false, deepIteration: true });
      const oursDeep = reel(["dump", "--deep-iteration", ...files]);
      assert.equal(oursDeep.status, 0, oursDeep.stderr);
      for (
        const [k, r] of [[kafkaDump, parseDump(ours.stdout, "")], [kafkaDeep, parseDump(oursDeep.stdout, "")]]
      ) {
        assert.deepEqual(k.problems, []);
        assert.deepEqual([...r.logs.keys()], [...k.logs.keys()]);
        for (const [file, batches] of k.logs) assert.deepEqual(r.logs.get(file), batches, file);
      }
      const txn = [...kafkaDeep.logs.entries()].filter(([f]) => f.includes(`${TXN_TOPIC}-`)).flatMap((
        [, b],
      ) => b);
      assert.ok(txn.some((b) => b.isControl && b.records[0].endTxnMarker === "ABORT"), "an abort marker");
      assert.ok(txn.some((b) => b.isControl && b.records[0].endTxnMarker === "COMMIT"), "a commit marker");
      assert.ok(
        txn.some((b) => b.isTransactional && !b.isControl && b.producerId >= 0 && b.baseSequence >= 0),
      );
      assert.ok(
        [...kafkaDeep.logs.values()].flat().every((b) => b.producerId >= 0),
        "every batch carries a producer id (idempotent by default)",
      );
    },
  );

  for (const isolationLevel of ["read_uncommitted", "read_committed"] as const) {
    test(
      `topic.readable({ isolationLevel: "${isolationLevel}" }) delivers exactly what the Java consumer gets`,
      TIMEOUT,
      async () => {
        const w = await setup();
        const log = await open(w.dir, { retentionCheckIntervalMs: 0 });
        try {
          for (const name of decodableTopicsOf(w)) {
            assert.deepEqual(
              await readAll(log, name, isolationLevel),
              w.java.get(name)![isolationLevel],
              name,
            );
          }
          if (!HAS_ZSTD) {
            await assert.rejects(
              readAll(log, "idempotent-zstd", isolationLevel),
              UnsupportedCompressionTypeError,
            );
          }
        } finally {
          await log.close();
        }
      },
    );

    test(
      `Consumer({ isolationLevel: "${isolationLevel}" }) polls exactly what the Java consumer gets`,
      TIMEOUT,
      async () => {
        const w = await setup();
        const log = await open(w.dir, { retentionCheckIntervalMs: 0 });
        try {
          const expected = w.java.get(TXN_TOPIC)![isolationLevel];
          const consumer = new Consumer(log, { isolationLevel, autoOffsetReset: "earliest" });
          try {
            consumer.assign([{ topic: TXN_TOPIC, partition: 0 }, { topic: TXN_TOPIC, partition: 1 }]);
            const got: Required<JavaRecord>[] = [];
            for (let polls = 0; got.length < expected.length && polls < 10_000; polls++) {
              for (const r of await consumer.poll({ timeoutMs: 0 })) got.push(toJavaRecord(r));
            }
            // Each partition in order (poll interleaves partitions).
            got.sort((x, y) => x.partition - y.partition || x.offset - y.offset);
            assert.deepEqual(got, expected);
            assert.deepEqual(await consumer.poll({ timeoutMs: 0 }), []);
          } finally {
            await consumer.close();
          }
        } finally {
          await log.close();
        }
      },
    );
  }

  test("reel appends after Kafka's records, and reads its own and Kafka's back", TIMEOUT, async () => {
    const w = await setup();
    const log = await open(w.dir, { retentionCheckIntervalMs: 0 });
    try {
      for (const name of [TXN_TOPIC, `idempotent-${OWN_CODEC}`]) {
        const topic = log.topic(name);
        const ends = topic.logs.map((l) => l.logEndOffset);
        const metas = await topic.append([
          { partition: 0, key: "reel", value: "after Kafka" },
          { partition: 1, key: "reel", value: "after Kafka too" },
        ], { compression: OWN_CODEC });
        assert.deepEqual(metas.map((m) => [m.partition, m.offset]), [[0, ends[0]], [1, ends[1]]]);
        const read = await readAll(log, name, "read_committed");
        const appended = read.filter((r) => r.offset >= ends[r.partition]);
        assert.deepEqual(appended.map((r) => [r.partition, r.value]), [[0, toHex("after Kafka")], [
          1,
          toHex("after Kafka too"),
        ]]);
        assert.deepEqual(read.filter((r) => r.offset < ends[r.partition]), w.java.get(name)!.read_committed);
      }
    } finally {
      await log.close();
    }
    const reports = verifyLogDirectory(w.dir).filter((r) => decodableTopicsOf(w).includes(r.topic));
    for (const r of reports) {
      assert.deepEqual(r.problems, [], `${r.topic}-${r.partition} after reel appended`);
    }
  });
});
