// connect() against `reel serve` as the bootstrap server (no Kafka needed): the same faces
// round-trip records, keys land where a log directory puts them, timestamps seek through
// ListOffsets, and a `new Consumer(connection)`'s commits land in the served directory's group files.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import {
  ClusterConsumer,
  connect,
  type ConsumedRecord,
  Consumer,
  describeGroup,
  type LogDirectoryLike,
  open,
  serve,
} from "../../mod.ts";
import { reel } from "../consumer/_helpers.ts";
import { ADMIN_SCENARIO_RESULT, adminScenario, CONNECT_UNSUPPORTED } from "./_helpers.ts";

/** The README's first example, typed against the shared shape: what it prints, as values. */
async function readmeExample(log: LogDirectoryLike): Promise<string[]> {
  const topic = log.hasTopic("clicks")
    ? log.topic("clicks")
    : await log.createTopic("clicks", { partitions: 4 });
  await ReadableStream.from([
    { key: "user-1", value: "home" },
    { key: "user-2", value: "search" },
    { key: "user-1", value: "checkout" },
  ]).pipeTo(topic.writable());
  const [meta] = await topic.append([{ key: "user-3", value: JSON.stringify({ page: "home" }) }]);
  const out = [`append ${meta.partition} ${meta.offset}`];
  for await (const record of topic.readable({ from: "earliest" })) {
    out.push(`${record.partition} ${record.offset} ${new TextDecoder().decode(record.value!)}`);
  }
  return out.sort();
}

test("connect() to reel serve: the README's example gives what it gives on the directory itself", {
  skip: CONNECT_UNSUPPORTED,
  timeout: 60_000,
}, async () => {
  const servedDir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-cluster-serve-"));
  const localDir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-cluster-local-"));
  const served = await open(servedDir);
  const broker = await serve(served, { port: 0, logLine: () => {}, groupInitialRebalanceDelayMs: 0 });
  const connection = await connect({ bootstrapServers: broker.address });
  const local = await open(localDir);
  try {
    assert.deepEqual(await readmeExample(connection), await readmeExample(local));

    // Topic administration through the connection is what it is on a directory (reel serve's
    // IncrementalAlterConfigs, CreatePartitions and DeleteRecords).
    assert.deepEqual(await adminScenario(local, "admin"), ADMIN_SCENARIO_RESULT);
    assert.deepEqual(await adminScenario(connection, "admin"), ADMIN_SCENARIO_RESULT);
    assert.equal(served.topic("admin").config.segmentBytes, 2 ** 21);

    // Timestamps seek through ListOffsets.
    const times = await connection.createTopic("times", { partitions: 2 });
    await times.append(
      Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: `${i}`, timestamp: 1000 * i })),
    );
    const seen: number[] = [];
    for await (const r of times.readable({ from: { timestamp: 15_000 } })) seen.push(r.timestamp);
    assert.deepEqual(seen.sort((a, b) => a - b), [15_000, 16_000, 17_000, 18_000, 19_000]);

    // A consumer group through the broker, made by the same `new Consumer(log, options)` line as on
    // a directory: its commits are the served directory's group offsets.
    const consumer = new Consumer(connection, {
      groupId: "billing",
      autoOffsetReset: "earliest",
      enableAutoCommit: false,
    });
    assert.ok(consumer instanceof ClusterConsumer);
    assert.ok(consumer instanceof Consumer);
    consumer.subscribe("times");
    const got: ConsumedRecord[] = [];
    while (got.length < 20) got.push(...await consumer.poll({ timeoutMs: 2_000 }));
    await consumer.commit();
    const committed = await consumer.committed({ topic: "times", partition: 0 });
    await consumer.close();
    const offsets = describeGroup(served, "billing").offsets.map((o) => o.committedOffset);
    assert.deepEqual(offsets, served.topic("times").describe().map((p) => p.logEndOffset));
    assert.equal(committed?.offset, offsets[0]);
    const onDirectory = new Consumer(local as LogDirectoryLike, { groupId: "billing" });
    assert.ok(!(onDirectory instanceof ClusterConsumer) && onDirectory instanceof Consumer);
    await onDirectory.close();
  } finally {
    await connection.close();
    await broker.close();
    await local.close();
    fs.rmSync(servedDir, { recursive: true, force: true });
    fs.rmSync(localDir, { recursive: true, force: true });
  }
});

test(
  "connect() with sasl (SCRAM-SHA-512) and tls to reel serve's SASL_SSL listener",
  { skip: CONNECT_UNSUPPORTED, timeout: 60_000 },
  async () => {
    const fixtures = path.join(import.meta.dirname!, "../server/fixtures");
    const cert = fs.readFileSync(path.join(fixtures, "localhost.cert.pem"), "utf8");
    const key = fs.readFileSync(path.join(fixtures, "localhost.key.pem"), "utf8");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-cluster-sasl-"));
    const sourceDir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-cluster-sasl-source-"));
    const served = await open(dir);
    const broker = await serve(served, {
      hostname: "127.0.0.1",
      port: 0,
      logLine: () => {},
      tls: { cert, key },
      sasl: { users: { alice: "alice-secret" } },
    });
    try {
      const connection = await connect({
        bootstrapServers: broker.address,
        sasl: { mechanism: "SCRAM-SHA-512", username: "alice", password: "alice-secret" },
        tls: { ca: cert, servername: "localhost" },
      });
      try {
        const topic = await connection.createTopic("secure");
        await topic.append([{ key: "k", value: "over SASL_SSL" }]);
        const values: string[] = [];
        for await (const r of topic.readable()) values.push(new TextDecoder().decode(r.value!));
        assert.deepEqual(values, ["over SASL_SSL"]);
      } finally {
        await connection.close();
      }

      // `reel migrate` over the same SASL_SSL listener: --tls-ca and --sasl-* carry the same settings.
      const source = await open(sourceDir);
      await (await source.createTopic("moved", { partitions: 2 })).append(
        Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })),
      );
      await source.close();
      const secrets = fs.mkdtempSync(path.join(os.tmpdir(), "reel-cluster-secrets-"));
      const caFile = path.join(secrets, "ca.pem");
      const passwordFile = path.join(secrets, "password");
      fs.writeFileSync(caFile, cert);
      fs.writeFileSync(passwordFile, "alice-secret\n");
      const args = [
        ...["migrate", "--dir", sourceDir, "--to", broker.address, "--tls-ca", caFile],
        ...["--sasl-mechanism", "SCRAM-SHA-256", "--sasl-username", "alice", "--sasl-password-file"],
      ];
      try {
        const migrated = await reel([...args, passwordFile]);
        assert.equal(migrated.status, 0, migrated.stderr);
        assert.match(migrated.stdout, /migrated 1 topic\(s\), 10 record\(s\)/);
        assert.deepEqual(
          served.topic("moved").describe().map((p) => p.logEndOffset).reduce((a, b) => a + b),
          10,
        );
        fs.writeFileSync(passwordFile, "wrong\n");
        const refused = await reel([...args, passwordFile]);
        assert.notEqual(refused.status, 0);
        assert.match(refused.stderr, /SASL|authentication/i);
        const halfGiven = await reel(args.slice(0, -1));
        assert.equal(halfGiven.status, 2, halfGiven.stderr);
        assert.match(halfGiven.stderr, /--sasl-username and --sasl-password-file go together/);
      } finally {
        fs.rmSync(secrets, { recursive: true, force: true });
      }
    } finally {
      await broker.close();
      fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(sourceDir, { recursive: true, force: true });
    }
  },
);
