// The `preallocate` topic config: the active segment is filled with zeros ahead of its data, and
// the zeros are cut off when the segment rolls, when the log closes, and by the next open after a
// crash. (tests/durability/crash_test.ts kills a preallocating writer in every other round.)
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import * as fs from "node:fs";
import * as path from "node:path";
import { open } from "../../mod.ts";
import { ROOT, scriptCommand } from "../_runtime.ts";
import { setFaultInjector } from "../../src/runtime/file_system.ts";
import { withTempDir } from "../durability/_helpers.ts";

const STEP = 4 << 20; // PREALLOCATE_STEP_BYTES in src/log/_log_appender.ts
const LARGE_WRITE = 32 << 10; // PREALLOCATE_LARGE_WRITE_BYTES in src/log/_log_appender.ts

/** Sizes of the partition's `.log` files, by name order. */
function logFileSizes(dir: string): number[] {
  return fs.readdirSync(dir).filter((f) => f.endsWith(".log")).sort().map((f) =>
    fs.statSync(path.join(dir, f)).size
  );
}

const value = (i: number) => new TextEncoder().encode(`record ${i} `.padEnd(100, "."));

describe("preallocate", () => {
  test("the active segment holds zeros past its data while open; a close cuts them, and the next open is clean", async () => {
    await withTempDir("prealloc", async (dir) => {
      let log = await open(dir);
      let topic = await log.createTopic("t", { config: { fsync: "always", preallocate: true } });
      for (let i = 0; i < 50; i++) await topic.append([{ value: value(i) }]);
      const dataBytes = topic.describe()[0].bytes;
      assert.ok(dataBytes > 50 * 100);
      assert.deepEqual(logFileSizes(path.join(dir, "t-0")), [STEP]);
      await log.close();
      assert.deepEqual(logFileSizes(path.join(dir, "t-0")), [dataBytes]);

      log = await open(dir);
      topic = log.topic("t");
      assert.deepEqual(topic.partition(0).loadReport, {
        clean: true,
        segmentsRecovered: 0,
        truncatedBytes: 0,
      });
      const meta = await topic.append([{ value: value(50) }]);
      assert.equal(meta[0].offset, 50);
      const read = [];
      for await (const r of topic.readable()) read.push(new TextDecoder().decode(r.value!));
      assert.deepEqual(read, Array.from({ length: 51 }, (_, i) => new TextDecoder().decode(value(i))));
      await log.close();
    });
  });

  test("a write of 32 KiB or more grows the file itself, without zeros; smaller ones after it are preallocated", async () => {
    await withTempDir("prealloc", async (dir) => {
      const log = await open(dir);
      const topic = await log.createTopic("t", { config: { fsync: "always", preallocate: true } });
      const files = path.join(dir, "t-0");
      const sizes: number[] = [];
      // Just under the limit, then just over it: one batch each (framing adds under 100 bytes).
      for (const bytes of [LARGE_WRITE - 200, LARGE_WRITE]) {
        const before = topic.describe()[0].bytes;
        await topic.append([{ value: new Uint8Array(bytes).fill(7) }]);
        sizes.push(logFileSizes(files)[0], topic.describe()[0].bytes - before);
      }
      const [firstFile, firstBatch, secondFile, secondBatch] = sizes;
      assert.ok(firstBatch < LARGE_WRITE && secondBatch >= LARGE_WRITE, `${firstBatch}, ${secondBatch}`);
      assert.equal(firstFile, STEP, "a small write is preceded by a step of zeros");
      assert.equal(secondFile, STEP, "within the zeros already there, a large write overwrites them");
      // Past the zeros: a large write grows the file to its own end, and a small one after it
      // writes the next step of zeros.
      const big = new Uint8Array(512 << 10).fill(8);
      for (let i = 0; i < 8; i++) await topic.append([{ value: big }]);
      const dataBytes = topic.describe()[0].bytes;
      assert.ok(dataBytes > STEP);
      assert.deepEqual(logFileSizes(files), [dataBytes], "no zeros after the large writes");
      await topic.append([{ value: value(0) }]);
      assert.deepEqual(logFileSizes(files), [dataBytes + STEP]);
      await log.close();
      assert.deepEqual(logFileSizes(files), [topic.describe()[0].bytes]);
    });
  });

  test("a roll cuts the zeros of the segment it seals; no segment is preallocated past segmentBytes", async () => {
    await withTempDir("prealloc", async (dir) => {
      const log = await open(dir);
      const topic = await log.createTopic("t", {
        config: { fsync: "never", preallocate: true, segmentBytes: 4096 },
      });
      for (let i = 0; i < 200; i++) await topic.append([{ value: value(i) }]);
      const segments = topic.partition(0).segments;
      assert.ok(segments.length > 3);
      const sizes = logFileSizes(path.join(dir, "t-0"));
      // Sealed segments: exactly their data. The active one: zeros up to segmentBytes.
      assert.deepEqual(sizes.slice(0, -1), segments.slice(0, -1).map((s) => s.size));
      assert.equal(sizes[sizes.length - 1], 4096);
      await log.close();
      assert.deepEqual(logFileSizes(path.join(dir, "t-0")), segments.map((s) => s.size));
    });
  });

  test("turned off by alterTopicConfig, the zeros already written are still cut at the close", async () => {
    await withTempDir("prealloc", async (dir) => {
      const log = await open(dir);
      const topic = await log.createTopic("t", { config: { fsync: "never", preallocate: true } });
      await topic.append([{ value: value(0) }]);
      await log.alterTopicConfig("t", { preallocate: false });
      await topic.append([{ value: value(1) }]);
      assert.deepEqual(logFileSizes(path.join(dir, "t-0")), [STEP]);
      const dataBytes = topic.describe()[0].bytes;
      await log.close();
      assert.deepEqual(logFileSizes(path.join(dir, "t-0")), [dataBytes]);
    });
  });

  for (const fsync of ["always", "never"] as const) {
    test(`a reader in another process reads every record, stops before the zeros, and sees appends that overwrite them (fsync "${fsync}")`, async () => {
      await withTempDir("prealloc", async (dir) => {
        const log = await open(dir, { retentionCheckIntervalMs: 0 });
        const topic = await log.createTopic("kv", { config: { fsync, preallocate: true } });
        const append = async (from: number, to: number) => {
          for (let i = from; i < to; i++) await topic.append([{ key: `k${i}`, value: `v${i}` }]);
        };
        const expected = (from: number, to: number) =>
          Array.from({ length: to - from }, (_, i) => [from + i, `k${from + i}`, `v${from + i}`]);
        await append(0, 30);
        assert.deepEqual(logFileSizes(path.join(dir, "kv-0")), [STEP]);
        const [cmd, args] = scriptCommand(path.join(ROOT, "tests/topic/_compaction_reader_child.ts"), [dir]);
        const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
        let stderr = "";
        child.stderr.on("data", (d) => (stderr += d));
        const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
        const ask = async (line: string) => {
          child.stdin.write(line + "\n");
          const next = await lines.next();
          assert.ok(!next.done, `the reader ended: ${stderr}`);
          const answer = JSON.parse(next.value);
          assert.ok(Array.isArray(answer), `the reader failed: ${next.value} ${stderr}`);
          return answer;
        };
        try {
          assert.deepEqual(await ask("read 0 1000"), expected(0, 30));
          // More appends, into the zeros (the reader's open may have had the writer hand its role over
          // and take it back, which cuts the zeros and fills the next 4 MiB): the reader finds them.
          await append(30, 45);
          const [size] = logFileSizes(path.join(dir, "kv-0"));
          assert.ok(size >= STEP && size > topic.describe()[0].bytes, `preallocated: ${size} bytes`);
          assert.deepEqual(await ask("read 30 1000"), expected(30, 45));
          child.stdin.write("end\n");
        } finally {
          child.stdin.end();
          await new Promise((resolve) => child.once("exit", resolve));
          await log.close();
        }
      });
    });
  }

  test("with no room for the zeros, appends are written without them (a full disk fails no append that fits)", async () => {
    await withTempDir("prealloc", async (dir) => {
      const log = await open(dir);
      const topic = await log.createTopic("t", { config: { fsync: "always", preallocate: true } });
      const enospc = Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" });
      // Every write of 1 MiB (the zero fill's) fails after half of it; the records' own writes pass.
      setFaultInjector((op) =>
        op.op === "write" && op.length === 1 << 20 ? { writtenBytes: 1 << 19, error: enospc } : undefined
      );
      try {
        for (let i = 0; i < 20; i++) await topic.append([{ value: value(i) }]);
      } finally {
        setFaultInjector(undefined);
      }
      const dataBytes = topic.describe()[0].bytes;
      assert.deepEqual(logFileSizes(path.join(dir, "t-0")), [dataBytes]);
      // With room again, the next append preallocates the next step from where the data ends.
      await topic.append([{ value: value(20) }]);
      assert.deepEqual(logFileSizes(path.join(dir, "t-0")), [dataBytes + STEP]);
      await log.close();
      const again = await open(dir);
      let n = 0;
      for await (const r of again.topic("t").readable()) assert.deepEqual(r.value, value(n++));
      assert.equal(n, 21);
      await again.close();
    });
  });

  test("preallocate must be a boolean", async () => {
    await withTempDir("prealloc", async (dir) => {
      const log = await open(dir);
      await assert.rejects(log.createTopic("t", { config: { preallocate: "yes" as never } }), TypeError);
      await log.close();
    });
  });
});
