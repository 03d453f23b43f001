// A consumer group of three Java consumers (Kafka's VerifiableConsumer, the client's defaults:
// the classic protocol with the range and cooperative-sticky assignors) sharing six partitions of
// a topic served by `reel serve`, through a member leaving and a new one joining: the partitions
// are always split among the live members, every record is consumed, and the group's committed
// offsets end at the log end offsets, as `describeGroup()` reads them from reel's group files.

import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { describeGroup, open } from "../../../mod.ts";
import { serve } from "../../../src/server/broker.ts";
import { kafkaUnavailable, runKafkaTool, spawnKafkaTool, TOOLS } from "./harness.ts";

const skip = kafkaUnavailable();
const PARTITIONS = 6;

/** One VerifiableConsumer process and what it has said (one JSON event per line). */
class JavaMember {
  readonly child: ChildProcess;
  /** The partitions it holds now. */
  assigned = new Set<number>();
  /** Records consumed, per partition: the highest offset seen. */
  readonly maxOffset = new Map<number, number>();
  stderr = "";
  #buffered = "";
  #waiters: (() => void)[] = [];

  constructor(bootstrap: string, readonly name: string) {
    this.child = spawnKafkaTool("org.apache.kafka.tools.VerifiableConsumer", [
      "--bootstrap-server",
      bootstrap,
      "--topic",
      "shared",
      "--group-id",
      "java-group",
      "--reset-policy",
      "earliest",
      "--session-timeout",
      "10000",
    ]);
    this.child.stderr!.on("data", (d) => this.stderr += d);
    this.child.stdout!.on("data", (d) => {
      this.#buffered += d;
      const lines = this.#buffered.split("\n");
      this.#buffered = lines.pop()!;
      for (const line of lines) if (line.startsWith("{")) this.#event(JSON.parse(line));
      for (const w of this.#waiters.splice(0)) w();
    });
  }

  #event(e: { name: string; partitions?: { partition: number; maxOffset?: number }[] }): void {
    if (e.name === "partitions_assigned") { for (const p of e.partitions!) this.assigned.add(p.partition); }
    if (e.name === "partitions_revoked") { for (const p of e.partitions!) this.assigned.delete(p.partition); }
    if (e.name === "records_consumed") {
      for (const p of e.partitions!) {
        this.maxOffset.set(p.partition, Math.max(this.maxOffset.get(p.partition) ?? -1, p.maxOffset!));
      }
    }
  }

  /** Resolves once something new was printed (or after 1 s). */
  changed(): Promise<void> {
    return new Promise((resolve) => {
      this.#waiters.push(resolve);
      setTimeout(resolve, 1000);
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.kill("SIGTERM"); // VerifiableConsumer closes its consumer: LeaveGroup
    await exited;
  }
}

/** Waits until `check` holds, re-checking whenever a member prints something. */
async function until(members: readonly JavaMember[], what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 120_000; // a guard against a hang, never a pass/fail condition on speed
  while (!check()) {
    if (Date.now() > deadline) {
      throw new Error(
        `Timed out waiting until ${what}: ${members.map((m) => `${m.name} ${[...m.assigned]}`).join("; ")}\n${
          members.map((m) => m.stderr).join("\n")
        }`,
      );
    }
    await Promise.race(members.map((m) => m.changed()));
  }
}

/** The live members' assignments split the partitions: each once, none left out, evenly. */
function splitAmong(members: readonly JavaMember[]): boolean {
  const all = members.flatMap((m) => [...m.assigned]).sort((a, b) => a - b);
  const sizes = members.map((m) => m.assigned.size);
  return all.length === PARTITIONS && all.every((p, i) => p === i) &&
    Math.max(...sizes) - Math.min(...sizes) <= 1;
}

test(
  "three Java consumers share six partitions through a member leaving and one joining; every record consumed and committed",
  { skip, timeout: 300_000 },
  async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-serve-group-"));
    const log = await open(dir);
    const broker = await serve(log, { port: 0, logLine: () => {}, groupInitialRebalanceDelayMs: 0 });
    const members: JavaMember[] = [];
    try {
      const topic = await log.createTopic("shared", { partitions: PARTITIONS });
      const produce = async (from: number, count: number) => {
        await topic.append(
          Array.from({ length: count }, (_, i) => ({ key: `k${from + i}`, value: `v${from + i}` })),
        );
      };
      await produce(0, 600);
      for (const name of ["a", "b", "c"]) members.push(new JavaMember(broker.address, name));
      await until(members, "three members hold two partitions each", () => splitAmong(members));

      const leaving = members.shift()!;
      await leaving.stop();
      await produce(600, 300);
      await until(members, "the two left hold three partitions each", () => splitAmong(members));

      members.push(new JavaMember(broker.address, "d"));
      await until(members, "the new member has its share", () => splitAmong(members));
      await produce(900, 300);

      const logEnd = topic.describe().map((p) => p.logEndOffset);
      assert.equal(logEnd.reduce((a, b) => a + b, 0), 1200);
      await until(members, "every record is consumed and committed", () => {
        const offsets = describeGroup(log, "java-group").offsets;
        return offsets.length === PARTITIONS &&
          offsets.every((o) => o.committedOffset === logEnd[o.partition]);
      });
      // Each partition's records were seen up to the end by whoever held it last.
      for (let p = 0; p < PARTITIONS; p++) {
        const seen = Math.max(...[leaving, ...members].map((m) => m.maxOffset.get(p) ?? -1));
        assert.equal(seen, logEnd[p] - 1, `partition ${p} consumed to its end`);
      }
      // Kafka's own kafka-consumer-groups sees the three live members and their partitions.
      const described = await runKafkaTool(TOOLS.consumerGroups, [
        ...["--bootstrap-server", broker.address, "--describe", "--group", "java-group", "--members"],
      ]);
      const rows = described.stdout.split("\n").filter((l) => l.startsWith("java-group"));
      assert.equal(rows.length, 3, described.stdout);
      assert.equal(
        rows.map((r) => Number(r.trim().split(/\s+/).at(-1))).reduce((a, b) => a + b, 0),
        PARTITIONS,
      );
    } finally {
      await Promise.all(members.map((m) => m.stop()));
      await broker.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);
