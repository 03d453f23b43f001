// kill -9 of `reel serve` (the command, on this test's runtime) while Apache Kafka's own
// VerifiableProducer sends with acks=all and idempotence (the Java client's defaults since Kafka
// 3.0) to a topic with `fsync: "always"`: the broker restarts on the same port and directory, the
// producer retries what was in flight, and afterwards every record the producer saw acknowledged is
// in the log exactly once, at dense offsets.

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { open } from "../../../mod.ts";
import { freePorts, kafkaUnavailable, spawnKafkaTool } from "./harness.ts";
import { scriptCommand } from "../../_runtime.ts";

const skip = kafkaUnavailable();
const MAIN = fileURLToPath(new URL("../../../src/cli/main.ts", import.meta.url));
const RECORDS = 4000;

/** Starts `reel serve` and resolves once it prints that it listens. */
function startServe(dir: string, port: number): Promise<ChildProcess> {
  const [bin, argv] = scriptCommand(MAIN, ["serve", "--dir", dir, "--listen", `127.0.0.1:${port}`]);
  const child = tracked(spawn(bin, argv, {
    stdio: ["ignore", "ignore", "pipe"],
  }));
  let stderr = "";
  return new Promise((resolve, reject) => {
    child.stderr!.on("data", (d) => {
      stderr += d;
      if (stderr.includes("listening on")) resolve(child);
    });
    child.on("exit", (code) => reject(new Error(`reel serve exited (${code}) before listening: ${stderr}`)));
  });
}

/**
 * Each child's exit, recorded from its spawn. A check of `exitCode`/`signalCode` at wait time is not
 * enough: Deno's `node:child_process` sets `signalCode` as soon as `kill()` sends the signal, before
 * the child has exited, so a wait for a SIGTERM'd `reel serve` returned while it was still closing
 * the log (and writing its clean-shutdown marker into the directory being removed).
 */
const exits = new WeakMap<ChildProcess, Promise<void>>();

/** Records `child`'s exit as it is spawned (see `exits`). */
function tracked(child: ChildProcess): ChildProcess {
  exits.set(child, new Promise<void>((resolve) => child.once("exit", () => resolve())));
  return child;
}

/** Resolves once `child` has exited. */
function exited(child: ChildProcess): Promise<void> {
  return exits.get(child)!;
}

test(
  "kill -9 of reel serve under the idempotent Java producer (acks=all, fsync always): every acknowledged record once",
  { skip, timeout: 300_000 },
  async () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "reel-serve-crash-"));
    const dir = path.join(work, "log");
    const log = await open(dir);
    await log.createTopic("crash", { config: { fsync: "always" } });
    await log.close();
    const port = (await freePorts(1))[0];
    let broker = await startServe(dir, port);
    // Kafka's VerifiableProducer prints one JSON line per acknowledged send, as it happens; the
    // values are the numbers 0 .. RECORDS-1.
    const producer = tracked(spawnKafkaTool("org.apache.kafka.tools.VerifiableProducer", [
      "--bootstrap-server",
      `127.0.0.1:${port}`,
      "--topic",
      "crash",
      "--max-messages",
      String(RECORDS),
      "--throughput",
      "1000",
      "--acks",
      "-1",
      "--producer.config",
      writeProducerConfig(work),
    ]));
    const acked: number[] = [];
    let killedAt = -1;
    let producerErr = "";
    let buffered = "";
    let markKilled!: () => void;
    const killed = new Promise<void>((resolve) => markKilled = resolve); // (Node 20 has no Promise.withResolvers)
    producer.stderr!.on("data", (d) => producerErr += d);
    producer.stdout!.on("data", (d) => {
      buffered += d;
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) {
        if (!line.startsWith("{")) continue;
        const event = JSON.parse(line);
        if (event.name === "producer_send_success") acked.push(Number(event.value));
      }
      if (killedAt < 0 && acked.length >= RECORDS / 4) {
        killedAt = acked.length;
        markKilled();
      }
    });
    const producerDone = exited(producer);
    try {
      await Promise.race([killed, producerDone]);
      assert.ok(killedAt > 0, `the producer ended before a quarter was acknowledged: ${producerErr}`);
      broker.kill("SIGKILL");
      await exited(broker);
      broker = await startServe(dir, port);
      await producerDone;
      assert.equal(producer.exitCode, 0, producerErr);
      assert.ok(acked.length > killedAt, "records were acknowledged after the restart");
      broker.kill("SIGTERM");
      await exited(broker);

      const reopened = await open(dir);
      const values: number[] = [];
      const offsets: number[] = [];
      for await (const r of reopened.topic("crash").readable()) {
        values.push(Number(new TextDecoder().decode(r.value!)));
        offsets.push(r.offset);
      }
      await reopened.close();
      assert.deepEqual(offsets, values.map((_, i) => i), "offsets are dense from 0");
      const seen = new Map<number, number>();
      for (const v of values) seen.set(v, (seen.get(v) ?? 0) + 1);
      const duplicated = [...seen].filter(([, n]) => n > 1).map(([v]) => v);
      assert.deepEqual(duplicated, [], "no record is in the log twice");
      const missing = acked.filter((v) => !seen.has(v));
      assert.deepEqual(missing, [], "every acknowledged record is in the log");
    } finally {
      producer.kill("SIGKILL");
      broker.kill("SIGKILL");
      await Promise.all([exited(producer), exited(broker)]);
      fs.rmSync(work, { recursive: true, force: true });
    }
  },
);

/** The producer's settings: idempotent (the default with acks=all), retrying across the restart. */
function writeProducerConfig(work: string): string {
  const file = path.join(work, "producer.properties");
  fs.writeFileSync(
    file,
    [
      "enable.idempotence=true",
      "retries=2147483647",
      "delivery.timeout.ms=120000",
      "request.timeout.ms=10000",
      "retry.backoff.ms=50",
    ]
      .join("\n") + "\n",
  );
  return file;
}
