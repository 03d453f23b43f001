// Issue 13, item 6: several producers, several processes. A partition has one writer at a time,
// and the writer role passes between the `open()` handles and processes that append to it: a
// writer gives the role back once idle (`writerIdleMs`) or when another one waits for it (the
// `writer.wanted` marker), and an append that finds the role taken waits for it up to
// `lockTimeoutMs`. Offsets stay dense and every acknowledged record is kept. Issue 13, item 3: a
// process holds at most `setMaxWriters()` writer roles at once.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { CLEAN_SHUTDOWN_FILE } from "../../src/log/checkpoint.ts";
import { open, PartitionLockedError, setMaxWriters } from "../../mod.ts";
import { DEFAULT_MAX_WRITERS, WRITER_LOCK_FILE, WRITER_WANTED_FILE, writerCount } from "../../src/log/mod.ts";
import { ROOT, withTempDir } from "../durability/_helpers.ts";
import { scriptCommand } from "../_runtime.ts";

const CHILD = path.join(ROOT, "tests/topic/_producer_child.ts");
const text = (b: Uint8Array | null) => new TextDecoder().decode(b!);

/** Runs a producer child to its end; resolves with its stdout. */
function produce(dir: string, topic: string, id: string, count: number): Promise<string> {
  const [bin, args] = scriptCommand(CHILD, [dir, topic, id, String(count)]);
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "", err = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
    child.on("error", reject);
    child.on(
      "close",
      (code) => code === 0 ? resolve(out) : reject(new Error(`producer ${id} exited ${code}: ${err}`)),
    );
  });
}

/** Every partition's records, checking that offsets are dense from 0. */
async function readAll(dir: string, topic: string): Promise<string[][]> {
  const log = await open(dir, { retentionCheckIntervalMs: 0 });
  try {
    const t = log.topic(topic);
    const out: string[][] = [];
    for (let p = 0; p < t.partitions; p++) {
      const values: string[] = [];
      for await (const r of t.readable({ partitions: p })) {
        assert.equal(r.offset, values.length, `partition ${p}: offsets dense`);
        values.push(text(r.value));
      }
      out.push(values);
    }
    return out;
  } finally {
    await log.close();
  }
}

/** Checks each producer's records are all there once, in the order it appended them per key. */
function checkProducers(partitions: string[][], ids: string[], count: number): void {
  const all = partitions.flat();
  assert.equal(all.length, ids.length * count, "every acknowledged record, once");
  assert.equal(new Set(all).size, all.length, "no record twice");
  for (const values of partitions) {
    for (const id of ids) {
      const mine = values.filter((v) => v.startsWith(`${id}-`)).map((v) => Number(v.slice(id.length + 1)));
      assert.deepEqual(mine, [...mine].sort((a, b) => a - b), `${id}: in the order appended`);
    }
  }
}

describe("several producers of one topic", () => {
  test("two open() handles in one process append to one topic concurrently: dense offsets, nothing lost", async () => {
    await withTempDir("two-handles", async (dir) => {
      const a = await open(dir, { retentionCheckIntervalMs: 0 });
      await a.createTopic("t", { partitions: 2, config: { fsync: "always" } });
      const b = await open(dir, { retentionCheckIntervalMs: 0 });
      const count = 150;
      const run = async (log: typeof a, id: string) => {
        const topic = log.topic("t");
        for (let i = 0; i < count; i++) await topic.append([{ key: `${id}-${i % 7}`, value: `${id}-${i}` }]);
      };
      await Promise.all([run(a, "a"), run(b, "b")]);
      // The handles answer with each other's offsets: the log ends where both say.
      const ends = (log: typeof a) => log.topic("t").describe().map((p) => p.logEndOffset);
      assert.deepEqual(ends(a), ends(b));
      await a.close();
      await b.close();
      checkProducers(await readAll(dir, "t"), ["a", "b"], count);
    });
  });

  for (const fsync of ["always", "interval"] as const) {
    test(`two processes produce to one topic at once (fsync ${fsync}): both succeed, offsets dense`, {
      timeout: 120_000,
    }, async () => {
      await withTempDir("two-processes", async (dir) => {
        const setup = await open(dir, { retentionCheckIntervalMs: 0 });
        await setup.createTopic("t", { partitions: 2, config: { fsync } });
        await setup.close();
        const count = 300;
        const outs = await Promise.all([produce(dir, "t", "p", count), produce(dir, "t", "q", count)]);
        assert.deepEqual(outs, ["done\n", "done\n"]);
        const partitions = await readAll(dir, "t");
        checkProducers(partitions, ["p", "q"], count);
        // Both took turns: each partition holds records of both producers, interleaved.
        for (const values of partitions) {
          const owners = values.map((v) => v[0]);
          let switches = 0;
          for (let i = 1; i < owners.length; i++) if (owners[i] !== owners[i - 1]) switches++;
          assert.ok(switches >= 1, "the writer role passed at least once");
        }
      });
    });
  }

  for (const fsync of ["always", "interval", "never"] as const) {
    test(`a writable() whose batches wait for the writer role keeps every batch's bytes (fsync ${fsync})`, async () => {
      await withTempDir("queued-batches", async (dir) => {
        const holder = await open(dir, { retentionCheckIntervalMs: 0 });
        const topic = await holder.createTopic("t", { config: { fsync } });
        await topic.append([{ value: "first" }]); // the holder takes the writer role
        const other = await open(dir, { retentionCheckIntervalMs: 0 });
        // Small batches, so several are encoded (and queued for the role) before the sink waits.
        const values = Array.from(
          { length: 40 },
          (_, i) => `value-${String(i).padStart(3, "0")}-${"x".repeat(i)}`,
        );
        await ReadableStream.from(values.map((value) => ({ value })))
          .pipeTo(other.topic("t").writable({ batchSize: 64, lingerMs: 0, maxInFlight: 8 }));
        await other.close();
        await holder.close();
        assert.deepEqual((await readAll(dir, "t"))[0], ["first", ...values]);
      });
    });
  }

  test("an idle writer gives its role back: the log is left clean and another process may write", async () => {
    await withTempDir("idle", async (dir) => {
      const log = await open(dir, { retentionCheckIntervalMs: 0, writerIdleMs: 50 });
      const topic = await log.createTopic("t");
      await topic.append([{ value: "1" }]);
      const p = topic.partition(0);
      assert.equal(p.isWriter, true);
      assert.ok(!fs.existsSync(path.join(dir, "t-0", CLEAN_SHUTDOWN_FILE)), "a writer removes the marker");
      const deadline = Date.now() + 5000;
      while (p.isWriter && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(p.isWriter, false, "given back after writerIdleMs");
      assert.ok(fs.existsSync(path.join(dir, "t-0", CLEAN_SHUTDOWN_FILE)), "left clean");
      assert.ok(!fs.existsSync(path.join(dir, "t-0", WRITER_LOCK_FILE)), "lock released");
      // Another handle writes now; the first sees it and appends after it.
      const other = await open(dir, { retentionCheckIntervalMs: 0, lockTimeoutMs: 0 });
      const [m] = await other.topic("t").append([{ value: "2" }]);
      assert.equal(m.offset, 1);
      await other.close();
      const [n] = await topic.append([{ value: "3" }]);
      assert.equal(n.offset, 2);
      await log.close();
      assert.deepEqual((await readAll(dir, "t"))[0], ["1", "2", "3"]);
    });
  });

  test("the first open of a new partition writes nothing in it (there is nothing to recover), and it stays clean", async () => {
    await withTempDir("fresh", async (dir) => {
      const log = await open(dir, { retentionCheckIntervalMs: 0 });
      const topic = await log.createTopic("t", { partitions: 2, config: { fsync: "always" } });
      const partitionDir = path.join(dir, "t-1");
      const made = fs.readdirSync(partitionDir).sort();
      // Opened to read (no writer holds it): before, this wrote two checkpoints, the clean-shutdown
      // marker and the published high watermark, each with an fsync of the file and the directory.
      const p = topic.partition(1);
      assert.equal(p.isWriter, false);
      assert.deepEqual(fs.readdirSync(partitionDir).sort(), made, "no file written or left behind");
      const [m] = await topic.append([{ value: "1", partition: 1 }]);
      assert.equal(m.offset, 0);
      assert.equal(p.isWriter, true);
      await log.close();
      assert.ok(fs.existsSync(path.join(partitionDir, CLEAN_SHUTDOWN_FILE)), "closed clean");
      const again = await open(dir, { retentionCheckIntervalMs: 0 });
      assert.deepEqual(again.topic("t").describe().map((d) => d.logEndOffset), [0, 1]);
      await again.close();
    });
  });

  test("a writer that keeps its role (acquireWriterLock) makes a waiting append fail after lockTimeoutMs", async () => {
    await withTempDir("timeout", async (dir) => {
      const holder = await open(dir, { retentionCheckIntervalMs: 0 });
      const topic = await holder.createTopic("t");
      topic.partition(0).acquireWriterLock();
      const other = await open(dir, { retentionCheckIntervalMs: 0, lockTimeoutMs: 150 });
      const started = Date.now();
      await assert.rejects(other.topic("t").append([{ value: "x" }]), PartitionLockedError);
      assert.ok(Date.now() - started >= 140, "waited for lockTimeoutMs");
      await other.close();
      await holder.close();
    });
  });

  test("a symbolic link in writer.wanted's place is left as it is, and nothing is created where it points", async () => {
    await withTempDir("wanted-link", async (dir) => {
      const holder = await open(dir, { retentionCheckIntervalMs: 0 });
      const topic = await holder.createTopic("t");
      topic.partition(0).acquireWriterLock();
      const outside = path.join(dir, "..", `${path.basename(dir)}-outside`);
      const link = path.join(topic.partition(0).dir, WRITER_WANTED_FILE);
      fs.symlinkSync(outside, link); // dangling: a write through it would create `outside`
      const other = await open(dir, { retentionCheckIntervalMs: 0, lockTimeoutMs: 150 });
      try {
        await assert.rejects(other.topic("t").append([{ value: "x" }]), PartitionLockedError);
        assert.equal(fs.existsSync(outside), false, "nothing was written through the link");
        assert.ok(fs.lstatSync(link).isSymbolicLink(), "the link is left as it was");
      } finally {
        await other.close();
        await holder.close();
        fs.rmSync(outside, { force: true });
      }
    });
  });

  for (const fsync of ["always", "interval", "never"] as const) {
    test(`with setMaxWriters(4), appends to 40 partitions (fsync ${fsync}) hold at most 4 writer roles`, async () => {
      await withTempDir("max-writers", async (dir) => {
        setMaxWriters(4);
        try {
          const log = await open(dir, { retentionCheckIntervalMs: 0 });
          const topic = await log.createTopic("t", { partitions: 40, config: { fsync } });
          let most = 0;
          const pending = [];
          for (let round = 0; round < 3; round++) {
            for (let p = 0; p < 40; p++) {
              pending.push(topic.append([{ partition: p, value: `${round}` }]));
              most = Math.max(most, writerCount());
            }
            await Promise.all(pending);
          }
          assert.ok(most <= 4, `at most 4 writer roles at once, saw ${most}`);
          assert.ok(topic.logs.filter((l) => l.isWriter).length <= 4);
          await log.close();
          const partitions = await readAll(dir, "t");
          for (const values of partitions) assert.deepEqual(values, ["0", "1", "2"]);
        } finally {
          setMaxWriters(DEFAULT_MAX_WRITERS);
        }
      });
    });
  }
});
