import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { Consumer, describeGroup, open, PartitionLockedError } from "../../mod.ts";
import { WRITER_LOCK_FILE } from "../../src/log/mod.ts";
import process from "node:process";
import { cleanup, eventually, RUNTIME, spawnChild, text, withTempDir } from "./_helpers.ts";
import { toArray } from "../_runtime.ts";

describe(`across processes (${RUNTIME})`, () => {
  test("a follow reader in this process receives, in order, every record a child-process writer appends", {
    timeout: 60_000,
  }, async () => {
    await withTempDir("follow", async (dir) => {
      const log = await open(dir);
      cleanup(() => log.close());
      // Small segments, so that the writer rolls several times while the reader follows.
      const topic = await log.createTopic("live", {
        config: { segmentBytes: 2048, indexIntervalBytes: 256 },
      });
      const N = 400;
      const child = spawnChild(["write", dir, "live", String(N), "20"]);
      const signal = AbortSignal.timeout(30_000); // a guard against a hang, not a timing check
      const values: string[] = [];
      const offsets: number[] = [];
      try {
        for await (const r of topic.readable({ follow: true, signal })) {
          values.push(text(r.value));
          offsets.push(r.offset);
          if (values.length === N) break;
        }
      } catch (err) {
        throw new Error(
          `The follower stopped after ${values.length} records: ${err}; child: ${child.stderr()}`,
        );
      }
      assert.deepEqual(values, Array.from({ length: N }, (_, i) => `r${i}`));
      assert.deepEqual(offsets, Array.from({ length: N }, (_, i) => i));
      assert.equal(await child.exited, 0);
      assert.ok(topic.describe()[0].segments > 3, "the writer rolled segments while the reader followed");
      // This process only read: it never took the lock, and changed nothing.
      assert.equal(topic.partition(0).isWriter, false);
      await log.close();
    });
  });

  test(
    "a writer that keeps its role makes other writers fail with PartitionLockedError after lockTimeoutMs; a crashed writer's lock does not block the next one",
    { timeout: 60_000 },
    async () => {
      await withTempDir("lock", async (dir) => {
        // Appends wait for a partition another process writes up to lockTimeoutMs (30 s by default).
        const log = await open(dir, { lockTimeoutMs: 200 });
        cleanup(() => log.close());
        const topic = await log.createTopic("t", { partitions: 2 });
        const child = spawnChild(["hold", dir, "t"]);
        await child.waitFor((l) => l === "locked", "the child to take the lock");
        const lock = JSON.parse(fs.readFileSync(path.join(dir, "t-0", WRITER_LOCK_FILE), "utf8"));
        assert.equal(lock.pid, child.process.pid);
        await assert.rejects(
          () => topic.append([{ partition: 0, value: "mine" }]),
          (err: unknown) => {
            assert.ok(err instanceof PartitionLockedError);
            assert.equal(err.code, "NOT_LEADER_OR_FOLLOWER");
            assert.equal(err.pid, child.process.pid);
            assert.match(err.message, /^Cannot write to "t-0": another writer holds its lock \(process \d+/);
            return true;
          },
        );
        const writer = topic.writable().getWriter();
        await writer.write({ partition: 0, value: "streamed" }).catch(() => {});
        await assert.rejects(writer.close(), PartitionLockedError);
        // The other partition is free, and reading the locked one works.
        await topic.append([{ partition: 1, value: "other" }]);
        assert.deepEqual(
          (await toArray(topic.readable({ partitions: 0 }))).map((r) => text(r.value)),
          ["held"],
        );

        child.process.kill("SIGKILL");
        assert.equal(await child.exited, "SIGKILL");
        // The lock file is still there, naming a dead process: it is stale, and taken over.
        assert.ok(fs.existsSync(path.join(dir, "t-0", WRITER_LOCK_FILE)));
        const [meta] = await topic.append([{ partition: 0, value: "mine" }]);
        assert.equal(meta.offset, 1);
        assert.equal(topic.partition(0).isWriter, true);
        assert.deepEqual(
          (await toArray(topic.readable({ partitions: 0 }))).map((r) => text(r.value)),
          ["held", "mine"],
        );
        await log.close();
        assert.ok(!fs.existsSync(path.join(dir, "t-0", WRITER_LOCK_FILE)), "close() releases the lock");
      });
    },
  );

  test(
    "members of one group in two processes share the partitions: every record once, and the survivor takes over",
    { timeout: 60_000 },
    async () => {
      await withTempDir("group", async (dir) => {
        const log = await open(dir);
        cleanup(() => log.close());
        const topic = await log.createTopic("t", { partitions: 4 });
        await topic.append(Array.from({ length: 200 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })));
        const child = spawnChild(["consume", dir, "t", "g"]);
        await child.waitFor((l) => l === "ready", "the child consumer");
        // The child is the only member at first: it reads before this one joins, so its share is
        // never empty, however the scheduler runs the two processes.
        await child.waitFor((l) => l.startsWith('{"partition"'), "the child's first record");
        const mine: string[] = [];
        const consumer = new Consumer(log, {
          groupId: "g",
          clientId: "parent",
          autoOffsetReset: "earliest",
          enableAutoCommit: false,
          heartbeatIntervalMs: 50,
        });
        cleanup(() => consumer.close());
        consumer.subscribe(["t"]);
        const childRecords = () =>
          child.lines.filter((l) => l.startsWith('{"partition"')).map((l) =>
            JSON.parse(l) as { partition: number; offset: number }
          );
        const all = () => new Set([...mine, ...childRecords().map((r) => `${r.partition}:${r.offset}`)]);
        const reading = (async () => {
          for await (const r of consumer) {
            mine.push(`${r.partition}:${r.offset}`);
            await consumer.commit([{ topic: r.topic, partition: r.partition, offset: r.offset + 1 }]);
          }
        })();
        // However the first 200 records fell between them, both end up members holding partitions.
        await eventually(() => {
          const group = describeGroup(log, "g");
          return all().size >= 200 && group.state === "Stable" && group.members.length === 2;
        }, "the two members to share the partitions and read the first 200 records");
        const group = describeGroup(log, "g");
        assert.deepEqual(group.members.map((m) => m.pid).sort(), [process.pid, child.process.pid].sort());
        assert.deepEqual(group.members.flatMap((m) => m.owned.map((tp) => tp.partition)).sort(), [
          0,
          1,
          2,
          3,
        ]);
        // Then the child leaves, and this member takes over.
        child.process.stdin!.write("close\n");
        await child.waitFor((l) => l === "closed", "the child to leave");
        await topic.append(Array.from({ length: 100 }, (_, i) => ({ key: `k${i}`, value: `w${i}` })));
        await eventually(() => all().size >= 300, "this member to read the last 100 records");
        await consumer.close();
        await reading;
        assert.equal(await child.exited, 0);
        const ids = [...mine, ...childRecords().map((r) => `${r.partition}:${r.offset}`)];
        assert.equal(ids.length, 300, "no record delivered twice");
        assert.equal(new Set(ids).size, 300, "every record delivered");
        assert.ok(childRecords().length > 0, "the child consumed its share");
        assert.ok(
          child.lines.some((l) => l.startsWith('{"revoked"')),
          "the child revoked its partitions when it left",
        );
        assert.equal(describeGroup(log, "g").state, "Empty");
        await log.close();
      });
    },
  );

  test(
    "a member killed mid-stream (SIGKILL) is dropped at once, and the survivor reads on from its commits: at-least-once",
    { timeout: 60_000 },
    async () => {
      await withTempDir("crash", async (dir) => {
        const log = await open(dir);
        cleanup(() => log.close());
        const topic = await log.createTopic("t", { partitions: 4 });
        await topic.append(Array.from({ length: 400 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })));
        const child = spawnChild(["consume", dir, "t", "g", "5"]);
        await child.waitFor((l) => l.startsWith('{"partition"'), "the child to read");
        const mine: string[] = [];
        // A long session timeout: the dead member is noticed because its process is gone, not by time.
        const consumer = new Consumer(log, {
          groupId: "g",
          autoOffsetReset: "earliest",
          enableAutoCommit: false,
          heartbeatIntervalMs: 50,
          sessionTimeoutMs: 600_000,
        });
        cleanup(() => consumer.close());
        consumer.subscribe(["t"]);
        const reading = (async () => {
          for await (const r of consumer) {
            mine.push(`${r.partition}:${r.offset}`);
            await consumer.commit([{ topic: r.topic, partition: r.partition, offset: r.offset + 1 }]);
          }
        })();
        const childRecords = () =>
          child.lines.filter((l) => l.startsWith('{"partition"')).map((l) =>
            JSON.parse(l) as { partition: number; offset: number }
          );
        await eventually(() => mine.length > 0, "this member to get partitions");
        child.process.kill("SIGKILL");
        assert.equal(await child.exited, "SIGKILL");
        const theirs = childRecords().map((r) => `${r.partition}:${r.offset}`);
        await eventually(
          () => new Set([...mine, ...theirs]).size >= 400,
          "this member to take over the dead member's partitions",
        );
        await consumer.close();
        await reading;
        assert.equal(new Set([...mine, ...theirs]).size, 400, "every record delivered");
        assert.equal(new Set(mine).size, mine.length, "this member never got a record twice");
        // Only what the child printed but had not committed comes again: its last record per partition.
        const lastOfChild = new Set(
          [...new Map(childRecords().map((r) => [r.partition, `${r.partition}:${r.offset}`])).values()],
        );
        for (const id of mine.filter((x) => theirs.includes(x))) {
          assert.ok(lastOfChild.has(id), `${id} came twice`);
        }
        assert.equal(describeGroup(log, "g").state, "Empty");
        await log.close();
      });
    },
  );
});
