import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { open, PartitionLockedError } from "../../mod.ts";
import { WRITER_LOCK_FILE } from "../../src/log/mod.ts";
import process from "node:process";
import { text, withTempDir } from "./_helpers.ts";
import { toArray } from "../_runtime.ts";

/** Name, size and modification time of every file in a directory. */
function snapshot(dir: string): string[] {
  return fs.readdirSync(dir).sort().map((name) => {
    const st = fs.statSync(path.join(dir, name));
    return `${name} ${st.size} ${st.mtimeMs}`;
  });
}

describe("one writer per partition, many readers", () => {
  test(
    "a second open of the directory reads, describes and follows what the writer appends, and cannot write while the writer keeps its role",
    { timeout: 60_000 },
    async () => {
      await withTempDir("two", async (dir) => {
        const writer = await open(dir);
        const topic = await writer.createTopic("t", { partitions: 2, config: { segmentBytes: 1024 } });
        await topic.append([{ partition: 0, value: "a" }, { partition: 1, value: "b" }]);
        assert.equal(topic.partition(0).isWriter, true);
        // Kept until close (appends alone give the role back once idle, or to a waiting writer).
        for (const p of [0, 1]) topic.partition(p).acquireWriterLock();

        // Another open of the same directory stands in for another process; its appends wait for
        // the role up to lockTimeoutMs.
        const reader = await open(dir, { lockTimeoutMs: 100 });
        const seen = reader.topic("t");
        assert.equal(seen.partition(0).isWriter, false);
        assert.deepEqual((await toArray(seen.readable())).map((r) => text(r.value)).sort(), [
          "a",
          "b",
        ]);
        await assert.rejects(() => seen.append([{ partition: 0, value: "no" }]), PartitionLockedError);
        const stream = seen.writable().getWriter();
        await stream.write({ partition: 0, value: "no" }).catch(() => {});
        await assert.rejects(stream.close(), PartitionLockedError);
        assert.throws(() => seen.partition(1).deleteOldSegments(), PartitionLockedError);
        await assert.rejects(() => reader.deleteTopic("t"), PartitionLockedError);

        // A follower in the reading directory is woken by the writer's appends (by watching files).
        const follow = seen.readable({
          partitions: 0,
          from: "latest",
          follow: true,
          signal: AbortSignal.timeout(30_000),
        });
        const got: string[] = [];
        const done = (async () => {
          for await (const r of follow) {
            got.push(`${r.offset}:${text(r.value)}`);
            if (got.length === 50) break;
          }
        })();
        for (let i = 0; i < 50; i++) await topic.append([{ partition: 0, value: `f${i}` }]);
        await done;
        assert.deepEqual(got, Array.from({ length: 50 }, (_, i) => `${i + 1}:f${i}`));
        assert.ok(seen.describe()[0].segments > 1, "the reader saw the writer roll segments");
        assert.deepEqual(seen.describe(), topic.describe());

        // A topic the writer creates after the reader opened is found by name.
        await writer.createTopic("later");
        assert.ok(reader.hasTopic("later"));
        assert.deepEqual(reader.topics(), ["later", "t"]);
        await reader.close();
        await writer.close();
      });
    },
  );

  test("opening a partition another writer holds changes none of its files, even past a torn tail", async () => {
    await withTempDir("torn", async (dir) => {
      const writer = await open(dir);
      const topic = await writer.createTopic("t", { config: { segmentBytes: 1024, fsync: "never" } });
      for (let i = 0; i < 30; i++) await topic.append([{ value: `v${i}` }]);
      const pdir = path.join(dir, "t-0");
      const active = topic.partition(0).segments.at(-1)!.path;
      // Half a batch at the end, as a writer caught mid-write would leave it.
      fs.appendFileSync(active, new Uint8Array(40).fill(0x7f));
      const before = snapshot(pdir);
      const reader = await open(dir);
      const t = reader.topic("t");
      assert.deepEqual(t.partition(0).loadReport, { clean: false, segmentsRecovered: 0, truncatedBytes: 0 });
      assert.deepEqual(
        (await toArray(t.readable())).map((r) => text(r.value)),
        Array.from({ length: 30 }, (_, i) => `v${i}`),
      );
      assert.equal(t.partition(0).logEndOffset, 30);
      await reader.close();
      assert.deepEqual(snapshot(pdir), before, "nothing was cut, rebuilt, created or removed");

      // The writer dies; the next writer recovers the torn tail, under the lock.
      topic.partition(0).abandon();
      const next = await open(dir);
      assert.equal(next.topic("t").partition(0).loadReport.truncatedBytes, 40);
      const [m] = await next.topic("t").append([{ value: "after" }]);
      assert.equal(m.offset, 30);
      await next.close();
    });
  });

  test("a lock left by a dead process, or unreadable, is taken over; one held by a live writer is not", async () => {
    await withTempDir("stale", async (dir) => {
      const setup = await open(dir);
      await setup.createTopic("t", { partitions: 2 });
      await setup.close();
      const dead = { version: 0, pid: 2 ** 31 - 2, token: "dead", hostname: os.hostname(), acquiredAt: 0 };
      fs.writeFileSync(path.join(dir, "t-0", WRITER_LOCK_FILE), JSON.stringify(dead));
      fs.writeFileSync(path.join(dir, "t-1", WRITER_LOCK_FILE), "not json");
      const log = await open(dir);
      const topic = log.topic("t");
      await topic.append([{ partition: 0, value: "x" }, { partition: 1, value: "y" }]);
      for (const p of [0, 1]) {
        const owner = JSON.parse(fs.readFileSync(path.join(dir, `t-${p}`, WRITER_LOCK_FILE), "utf8"));
        assert.equal(owner.pid, process.pid);
        assert.notEqual(owner.token, "dead");
      }
      assert.deepEqual(fs.readdirSync(path.join(dir, "t-0")).filter((n) => /\.(new|takeover)$/.test(n)), []);
      topic.partition(0).acquireWriterLock(); // kept until close
      const other = await open(dir, { lockTimeoutMs: 0 });
      await assert.rejects(
        () => other.topic("t").append([{ partition: 0, value: "z" }]),
        PartitionLockedError,
      );
      await other.close();
      await log.close();
      assert.ok(!fs.existsSync(path.join(dir, "t-0", WRITER_LOCK_FILE)));
    });
  });

  test("a reader whose writer goes away can become the writer, and appends after what it saw", async () => {
    await withTempDir("handover", async (dir) => {
      const first = await open(dir);
      const topic = await first.createTopic("t");
      await topic.append([{ value: "1" }, { value: "2" }]);
      const second = await open(dir);
      const t = second.topic("t");
      await first.close();
      const [m] = await t.append([{ value: "3" }]);
      assert.equal(m.offset, 2);
      assert.equal(t.partition(0).isWriter, true);
      assert.deepEqual((await toArray(t.readable())).map((r) => text(r.value)), ["1", "2", "3"]);
      await second.close();
    });
  });
});
