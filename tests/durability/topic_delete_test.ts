// Deleting a topic (issue 10, failure 6): its committed offsets go with it, from every consumer
// group, as Kafka deletes them; followers and consumers of it in other processes (Deno and Bun)
// end with UnknownTopicOrPartitionError, also when a topic of the same name is created again and
// written (it has another topic ID), and never read the new topic's records as the old one's or
// throw CorruptRecordError on them. Processes racing createTopic and deleteTopic on one name end
// only with typed errors, and what the last incarnation acknowledged is all there.
//
// REEL_TOPIC_RACE_ROUNDS sets the rounds of the create/delete race (default 3, times REEL_STRESS).

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { Consumer, type LogDirectory, open, UnknownTopicOrPartitionError } from "../../mod.ts";
import { envRounds, type LineChild, ROOT, spawnLines, stress, withTempDir } from "./_helpers.ts";

const ROUNDS = envRounds("REEL_TOPIC_RACE_ROUNDS", 3);
const CHILD = path.join(ROOT, "tests/durability/_topic_child.ts");
const DENO = path.join(ROOT, "node_modules/.bin/deno");
const BUN = path.join(ROOT, "node_modules/.bin/bun");

function child(runtime: "deno" | "bun", args: string[]): LineChild {
  return runtime === "deno"
    ? spawnLines(DENO, ["run", "-A", "--quiet", CHILD, ...args])
    : spawnLines(BUN, [CHILD, ...args]);
}

/** Every JSON line a child prints until it exits. */
async function collect(c: LineChild): Promise<Record<string, unknown>[]> {
  const seen: Record<string, unknown>[] = [];
  for (;;) {
    const line = await c.nextLine();
    if (line === null) break;
    if (line !== "ready" && line !== "done") seen.push(JSON.parse(line));
  }
  const { code, stderr } = await c.exited;
  if (code !== 0) throw new Error(`A child exited with ${code}: ${stderr}`);
  return seen;
}

/** Reads JSON lines from a child until `until` accepts one (or the child ends); returns them all. */
async function readUntil(
  c: LineChild,
  until: (r: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>[]> {
  const seen: Record<string, unknown>[] = [];
  for (;;) {
    const line = await c.nextLine();
    if (line === null) {
      throw new Error(`The child ended early: ${JSON.stringify(seen.slice(-3))}; ${(await c.exited).stderr}`);
    }
    if (line === "ready" || line === "done") continue;
    const r = JSON.parse(line);
    seen.push(r);
    if (until(r)) return seen;
  }
}

async function appendValues(log: LogDirectory, topic: string, count: number, prefix: string): Promise<void> {
  const t = log.topic(topic);
  const records = Array.from(
    { length: count },
    (_, i) => ({ partition: i % t.partitions, value: `${prefix}${i}` }),
  );
  for (let i = 0; i < records.length; i += 50) await t.append(records.slice(i, i + 50));
}

/** Consumes a group until it has `count` records (or the guard runs out); returns their values. */
async function consumeGroup(
  log: LogDirectory,
  groupId: string,
  topic: string,
  count: number,
): Promise<string[]> {
  const consumer = new Consumer(log, { groupId, autoOffsetReset: "earliest", enableAutoCommit: false });
  consumer.subscribe([topic]);
  const values: string[] = [];
  try {
    const guard = Date.now() + 30_000;
    while (values.length < count && Date.now() < guard) {
      const records = await consumer.poll({ timeoutMs: 200 });
      for (const r of records) values.push(new TextDecoder().decode(r.value!));
      const byPartition = new Map<number, number>();
      for (const r of records) byPartition.set(r.partition, r.offset + 1);
      if (byPartition.size > 0) {
        await consumer.commit([...byPartition].map(([partition, offset]) => ({ topic, partition, offset })));
      }
    }
  } finally {
    await consumer.close();
  }
  return values;
}

describe("deleting topics", () => {
  test(
    "deleteTopic() deletes the topic's committed offsets from every group: a group reads all of a topic created again",
    {
      timeout: stress(60_000),
    },
    async () => {
      await withTempDir("topic-delete-offsets", async (dir) => {
        const log = await open(dir, { retentionCheckIntervalMs: 0 });
        try {
          await log.createTopic("t", { partitions: 2 });
          await log.createTopic("kept");
          await appendValues(log, "t", 250, "old-");
          await appendValues(log, "kept", 10, "k-");
          assert.equal((await consumeGroup(log, "g1", "t", 250)).length, 250);
          assert.equal((await consumeGroup(log, "g2", "t", 250)).length, 250);
          assert.equal((await consumeGroup(log, "g2", "kept", 10)).length, 10);
          await log.deleteTopic("t");
          for (const g of ["g1", "g2"]) {
            assert.ok(
              !fs.existsSync(path.join(dir, ".groups", g, "offsets", "t")),
              `group ${g} keeps no offsets of t`,
            );
          }
          assert.ok(
            fs.existsSync(path.join(dir, ".groups", "g2", "offsets", "kept")),
            "other topics' offsets stay",
          );
          await log.createTopic("t", { partitions: 2 });
          await appendValues(log, "t", 300, "new-");
          const values = await consumeGroup(log, "g1", "t", 300);
          assert.equal(values.length, 300, "the group reads every record of the new topic, not the last 50");
          assert.ok(values.every((v) => v.startsWith("new-")));
        } finally {
          await log.close();
        }
      });
    },
  );

  test(
    "followers and consumers in Deno and Bun processes end with UnknownTopicOrPartitionError when their topic is deleted and created again",
    {
      timeout: stress(120_000),
    },
    async () => {
      await withTempDir("topic-delete-readers", async (dir) => {
        const log = await open(dir, { retentionCheckIntervalMs: 0 });
        try {
          await log.createTopic("t", { partitions: 2 });
          await appendValues(log, "t", 100, "old-");
          const readers = [
            child("deno", ["follow", dir, "t"]),
            child("bun", ["follow", dir, "t"]),
            child("deno", ["consume", dir, "t", "gd"]),
            child("bun", ["consume", dir, "t", "gb"]),
          ];
          for (const c of readers) await readUntil(c, (r) => r.read === 100);
          const oldId = log.topic("t").topicId;
          await log.deleteTopic("t");
          await log.createTopic("t", { partitions: 2 });
          assert.notEqual(log.topic("t").topicId, oldId);
          await appendValues(log, "t", 300, "new-");
          for (const c of readers) {
            const after = await readUntil(c, (r) => "error" in r);
            assert.deepEqual(
              after.map((r) => r.error ?? r),
              ["UnknownTopicOrPartitionError"],
              "no record of the new topic, no other error",
            );
            await c.exited;
          }
          // The readers' groups kept no offsets of the deleted topic.
          for (const g of ["gd", "gb"]) {
            assert.ok(!fs.existsSync(path.join(dir, ".groups", g, "offsets", "t")), `group ${g}`);
          }
          assert.equal((await consumeGroup(log, "gd", "t", 300)).length, 300);
        } finally {
          await log.close();
        }
      });
    },
  );

  test("a Topic of a deleted topic in this process throws UnknownTopicOrPartitionError; looking the name up again finds the new topic", async () => {
    await withTempDir("topic-delete-stale", async (dir) => {
      const log = await open(dir, { retentionCheckIntervalMs: 0 });
      const other = await open(dir, { retentionCheckIntervalMs: 0 });
      try {
        await log.createTopic("t");
        await appendValues(log, "t", 5, "old-");
        const stale = other.topic("t");
        assert.equal(stale.partition(0).logEndOffset, 5);
        await log.close(); // gives up the writer lock
        const deleter = await open(dir, { retentionCheckIntervalMs: 0 });
        await deleter.deleteTopic("t");
        await deleter.createTopic("t");
        await appendValues(deleter, "t", 3, "new-");
        await deleter.close();
        await assert.rejects(() => stale.append([{ value: "x" }]), UnknownTopicOrPartitionError);
        assert.throws(() => stale.partition(0).read(5, 1000), UnknownTopicOrPartitionError);
        const fresh = other.topic("t");
        assert.notEqual(fresh, stale);
        assert.equal(fresh.partition(0).logEndOffset, 3);
        const [m] = await fresh.append([{ value: "y" }]);
        assert.equal(m.offset, 3);
      } finally {
        await other.close();
        await log.close();
      }
    });
  });

  test(
    "processes on Deno and Bun racing createTopic and deleteTopic on one name end only with typed errors; the last topic keeps what it acknowledged",
    {
      timeout: stress(180_000),
    },
    async () => {
      for (let round = 0; round < ROUNDS; round++) {
        await withTempDir("topic-create-delete-race", async (dir) => {
          const setup = await open(dir, { retentionCheckIntervalMs: 0 });
          await setup.createTopic("raced", { partitions: 2 });
          await setup.close();
          const roles: string[][] = [
            ["delete", dir, "raced"],
            ["create", dir, "raced", "3", "a"],
            ["delete", dir, "raced"],
            ["create", dir, "raced", "1", "b"],
          ];
          const children = roles.map((args, i) => child((i + round) % 2 === 0 ? "deno" : "bun", args));
          for (const c of children) assert.equal(await c.nextLine(), "ready");
          for (const c of children) c.child.stdin!.write("go\n");
          const all = (await Promise.all(children.map(collect))).flat();
          const typed = ["UnknownTopicOrPartitionError", "TopicExistsError", "PartitionLockedError"];
          const untyped = all.filter((r) => "error" in r && !typed.includes(r.error as string));
          assert.deepEqual(untyped, [], "only typed errors");
          const log = await open(dir, { retentionCheckIntervalMs: 0 });
          try {
            if (!log.hasTopic("raced")) return;
            const topic = log.topic("raced");
            for (let p = 0; p < topic.partitions; p++) {
              const text = fs.readFileSync(path.join(dir, `raced-${p}`, "partition.metadata"), "utf8");
              assert.equal(
                text,
                `version: 0\ntopic_id: ${topic.topicId}`,
                "every partition has the topic's ID",
              );
            }
            const stored: string[] = [];
            for await (const r of topic.readable({ from: "earliest" })) {
              stored.push(`${r.partition}/${r.offset}/${new TextDecoder().decode(r.value!)}`);
            }
            const acked = all.filter((r) => "acked" in r && r.topicId === topic.topicId)
              .map((r) => `${r.acked}/${r.offset}/${r.value}`);
            assert.deepEqual(stored.sort(), acked.sort(), "exactly what was acknowledged on this topic");
          } finally {
            await log.close();
          }
        });
      }
    },
  );
});
