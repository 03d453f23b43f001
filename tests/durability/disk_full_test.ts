// Disk full and I/O errors: an append that fails part-way through its batch leaves the log
// readable up to the last acknowledged batch, the writer gets the error and no acknowledgement,
// and the next open (or the next append, once there is room) carries on at the right offset.
//
// Two ways to fill the disk:
// - the file layer's fault-injection seam (setFaultInjector): a write of a .log file stops after
//   a random number of bytes with ENOSPC; a data sync fails with EIO;
// - a real file-size limit: crash_child.ts in a child process under `ulimit -f` (bash). Bun
//   ignores SIGXFSZ, so its write fails with EFBIG after a short write. Deno does not: by default
//   the kernel's SIGXFSZ kills it in the middle of the batch (a real crash, with a torn batch on
//   disk); with `trap '' XFSZ` (the signal ignored, which exec keeps) its write fails with EFBIG.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import {
  type ConsumedRecord,
  type LogDirectory,
  open,
  StorageError,
  type Topic,
  type TopicConfig,
} from "../../mod.ts";
import { verifyLogDirectory } from "../../src/cli/commands/verify.ts";
import { type FileOperation, setFaultInjector } from "../../src/runtime/file_system.ts";
import {
  envInt,
  fcParams,
  fraction,
  recordHash,
  ROOT,
  RUNTIME,
  runtimeCommand,
  segmentFiles,
  shellQuote,
  spawnLines,
  stress,
  withTempDir,
} from "./_helpers.ts";

const RUNS = envInt("REEL_DISK_FULL_RUNS", 30);
const CHILD = path.join(ROOT, "tests", "durability", "crash_child.ts");
const T0 = 1_700_000_000_000;
const encoder = new TextEncoder();

function errnoError(code: string, message: string): Error {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

/**
 * Makes the next data sync of a segment's `.log` file under `dir` fail with EIO (until
 * `setFaultInjector(undefined)`). Other syncs (a checkpoint written after a roll) pass.
 */
function failNextSync(dir: string): void {
  let armed = true;
  setFaultInjector((op) => {
    if (op.op !== "sync" || !armed || !isSegmentLog(op.fd, dir)) return undefined;
    armed = false;
    return { error: errnoError("EIO", "i/o error, fdatasync") };
  });
}

/** Whether `fd` is one of the `.log` files under `dir`. */
function isSegmentLog(fd: number, dir: string): boolean {
  const st = fs.fstatSync(fd);
  for (const entry of fs.readdirSync(dir, { recursive: true }) as string[]) {
    if (!entry.endsWith(".log")) continue;
    const other = fs.statSync(path.join(dir, entry));
    if (other.ino === st.ino && other.dev === st.dev) return true;
  }
  return false;
}

async function readAll(topic: Topic, partition: number): Promise<ConsumedRecord[]> {
  const out: ConsumedRecord[] = [];
  for await (const r of topic.readable({ partitions: partition, from: "earliest" })) out.push(r);
  return out;
}

interface Acked {
  hashes: string[][];
}

async function appendAcked(
  topic: Topic,
  acked: Acked,
  partition: number,
  n: number,
  size: number,
  tag: string,
) {
  for (let i = 0; i < n; i++) {
    const value = encoder.encode(`${tag}-${i}-${"x".repeat(size)}`);
    const [meta] = await topic.append([{ partition, value, timestamp: T0 + i }]);
    assert.equal(meta.offset, acked.hashes[partition].length);
    acked.hashes[partition].push(recordHash({ key: null, value, headers: [], timestamp: T0 + i }));
  }
}

async function assertHolds(topic: Topic, acked: Acked, where: string): Promise<void> {
  for (let p = 0; p < acked.hashes.length; p++) {
    const records = await readAll(topic, p);
    assert.deepEqual(
      records.map((r) => r.offset),
      acked.hashes[p].map((_, i) => i),
      `${where}: partition ${p} offsets`,
    );
    assert.deepEqual(records.map((r) => recordHash(r)), acked.hashes[p], `${where}: partition ${p} records`);
    assert.equal(
      topic.partition(p).logEndOffset,
      acked.hashes[p].length,
      `${where}: partition ${p} log end offset`,
    );
  }
}

describe(`disk full and I/O errors (${RUNTIME})`, () => {
  test(
    "a write that stops part-way with ENOSPC fails the append with StorageError, leaves no partial batch, and the log carries on",
    { timeout: stress(300_000) },
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom<TopicConfig["fsync"]>("always", "interval", "never"),
          fc.integer({ min: 0, max: 12 }),
          fc.integer({ min: 1, max: 3 }),
          fraction,
          fc.integer({ min: 0, max: 2000 }),
          fc.constantFrom("append", "writable"),
          async (fsync, before, failures, cut, size, via) => {
            await withTempDir("disk-full", async (dir) => {
              let log: LogDirectory = await open(dir);
              let topic = await log.createTopic("full", {
                partitions: 2,
                config: { fsync, segmentBytes: 4096, indexIntervalBytes: 100 },
              });
              const acked: Acked = { hashes: [[], []] };
              try {
                await appendAcked(topic, acked, 0, before, size, "before");
                await appendAcked(topic, acked, 1, 2, 10, "other");
                const sizes = topic.partition(0).segments.map((s) => s.size);
                // The disk is full for the next `failures` writes of a .log file.
                let left = failures;
                let failed = 0;
                setFaultInjector((op: FileOperation) => {
                  if (op.op !== "write" || left === 0 || !isSegmentLog(op.fd, dir)) return undefined;
                  left--;
                  failed++;
                  return {
                    writtenBytes: Math.floor(cut * op.length),
                    error: errnoError("ENOSPC", "no space left on device, write"),
                  };
                });
                try {
                  for (let i = 0; i < failures; i++) {
                    const value = encoder.encode(`lost-${i}-${"y".repeat(size)}`);
                    const attempt = via === "append"
                      ? topic.append([{ partition: 0, value }])
                      : ReadableStream.from([{ partition: 0, value }]).pipeTo(
                        topic.writable({ lingerMs: 0 }),
                      );
                    await assert.rejects(attempt, (err: unknown) => {
                      assert.ok(err instanceof StorageError, `expected StorageError, got ${err}`);
                      assert.equal(err.code, "KAFKA_STORAGE_ERROR");
                      assert.equal((err.cause as { code?: string })?.code, "ENOSPC");
                      return true;
                    });
                  }
                } finally {
                  setFaultInjector(undefined);
                }
                assert.equal(failed, failures, "each failed append tried one write");
                // Nothing of the failed batches is in the files or visible.
                const now = topic.partition(0).segments;
                assert.deepEqual(
                  now.slice(0, sizes.length).map((s) => s.size),
                  sizes,
                  "no partial batch left in the file",
                );
                for (const s of now.slice(sizes.length)) assert.equal(s.size, 0);
                for (const s of now) assert.equal(fs.statSync(s.path).size, s.size);
                await assertHolds(topic, acked, "after the failed appends");
                // Room again: the log carries on at the right offset.
                await appendAcked(topic, acked, 0, 2, size, "after");
                await assertHolds(topic, acked, "after room came back");
                // And a crash now recovers exactly that.
                for (const l of topic.logs) l.abandon();
                log = await open(dir);
                topic = log.topic("full");
                assert.equal(topic.logs.reduce((n, l) => n + l.loadReport.truncatedBytes, 0), 0);
                await assertHolds(topic, acked, "after a crash");
              } finally {
                await log.close();
              }
              for (const report of verifyLogDirectory(dir)) assert.deepEqual(report.problems, []);
            });
          },
        ),
        fcParams(RUNS),
      );
    },
  );

  test(
    'with fsync "always", concurrent appends share one write; when it fails every one of them fails and the log carries on at the first one\'s offset',
    async () => {
      await withTempDir("disk-group", async (dir) => {
        let log = await open(dir);
        try {
          let topic = await log.createTopic("group", {
            config: { fsync: "always", segmentBytes: 1 << 20, indexIntervalBytes: 64 },
          });
          const acked: Acked = { hashes: [[]] };
          await appendAcked(topic, acked, 0, 5, 40, "before");
          const segmentSizes = topic.partition(0).segments.map((s) => s.size);
          const writes: number[] = [];
          setFaultInjector((op: FileOperation) => {
            if (op.op !== "write" || !isSegmentLog(op.fd, dir)) return undefined;
            writes.push(op.length);
            return {
              writtenBytes: Math.floor(op.length / 2),
              error: errnoError("ENOSPC", "no space left on device, write"),
            };
          });
          let outcomes: PromiseSettledResult<unknown>[];
          try {
            // Twelve producers append before the group commit runs: their batches go out in one write.
            outcomes = await Promise.allSettled(
              Array.from(
                { length: 12 },
                (_, i) => topic.append([{ value: `lost-${i}-${"z".repeat(60)}`, timestamp: T0 + 10 + i }]),
              ),
            );
          } finally {
            setFaultInjector(undefined);
          }
          assert.equal(writes.length, 1, "one write for the twelve batches");
          assert.ok(writes[0] > 12 * 60, `the write held every batch (${writes[0]} bytes)`);
          for (const outcome of outcomes) {
            assert.equal(outcome.status, "rejected");
            const err = (outcome as PromiseRejectedResult).reason;
            assert.ok(err instanceof StorageError, `expected StorageError, got ${err}`);
            assert.equal((err.cause as { code?: string })?.code, "ENOSPC");
          }
          const p = topic.partition(0);
          assert.equal(p.logEndOffset, 5);
          assert.equal(p.highWatermark, 5);
          assert.deepEqual(p.segments.map((s) => s.size), segmentSizes);
          assert.equal(fs.statSync(p.segments[0].path).size, segmentSizes[0], "the torn write is cut off");
          await assertHolds(topic, acked, "after the failed write");
          // Room again: the next appends take the offsets the failed ones had.
          await appendAcked(topic, acked, 0, 3, 30, "after");
          await assertHolds(topic, acked, "after room came back");
          for (const l of topic.logs) l.abandon();
          log = await open(dir);
          topic = log.topic("group");
          assert.equal(topic.partition(0).loadReport.truncatedBytes, 0);
          await assertHolds(topic, acked, "after a crash");
          assert.deepEqual(
            topic.offsetsForTimes(T0 + 2)[0]?.offset,
            (await readAll(topic, 0)).find((r) => r.timestamp >= T0 + 2)?.offset,
            "the time index agrees with the records",
          );
        } finally {
          await log.close();
        }
        for (const report of verifyLogDirectory(dir)) assert.deepEqual(report.problems, []);
      });
    },
  );

  test('with fsync "always", a data sync failing with EIO fails the append with StorageError; readers never see the record', async () => {
    await withTempDir("disk-eio", async (dir) => {
      const log = await open(dir);
      try {
        const topic = await log.createTopic("eio", { config: { fsync: "always" } });
        const acked: Acked = { hashes: [[]] };
        await appendAcked(topic, acked, 0, 3, 10, "before");
        failNextSync(dir);
        try {
          await assert.rejects(topic.append([{ value: "not durable" }]), (err: unknown) => {
            assert.ok(err instanceof StorageError, `expected StorageError, got ${err}`);
            assert.equal((err.cause as { code?: string })?.code, "EIO");
            return true;
          });
        } finally {
          setFaultInjector(undefined);
        }
        assert.equal(
          topic.partition(0).highWatermark,
          3,
          "the high watermark stays at the last durable record",
        );
        assert.deepEqual((await readAll(topic, 0)).map((r) => recordHash(r)), acked.hashes[0]);
      } finally {
        await log.close();
      }
    });
  });

  test('with fsync "always", a reader of another open (as another process would) sees no record before its fdatasync succeeded', async () => {
    await withTempDir("disk-eio-reader", async (dir) => {
      const writer = await open(dir);
      let reader: LogDirectory | undefined;
      try {
        const topic = await writer.createTopic("eio", { config: { fsync: "always" } });
        const acked: Acked = { hashes: [[]] };
        await appendAcked(topic, acked, 0, 3, 10, "before");
        reader = await open(dir); // its partition logs only read: the writer holds the lock
        const seen = reader.topic("eio");
        assert.equal(seen.partition(0).isWriter, false);
        assert.deepEqual((await readAll(seen, 0)).map((r) => recordHash(r)), acked.hashes[0]);
        failNextSync(dir);
        try {
          await assert.rejects(topic.append([{ value: "not durable" }]), StorageError);
        } finally {
          setFaultInjector(undefined);
        }
        assert.ok(fs.statSync(topic.partition(0).segments[0].path).size > 0);
        assert.equal(topic.partition(0).logEndOffset, 4, "the batch is in the file");
        assert.deepEqual(
          (await readAll(seen, 0)).map((r) => recordHash(r)),
          acked.hashes[0],
          "the other reader sees only what was fsynced",
        );
        await writer.close(); // fsyncs everything, and says so
        assert.equal((await readAll(seen, 0)).length, 4);
      } finally {
        await writer.close();
        await reader?.close();
      }
    });
  });

  for (const signal of ["ignored", "default"] as const) {
    test(
      `a child appending under a file-size limit (ulimit -f, SIGXFSZ ${signal}): every acknowledged record survives and the log reopens`,
      { timeout: stress(120_000) },
      async () => {
        await withTempDir("ulimit", async (dir) => {
          const limitKiB = 16 * 1024; // above the runtime's own cache files, so only the log hits it
          const [cmd, args] = runtimeCommand(CHILD, ["disk-full", dir, "7", "60000"]);
          const script = `${signal === "ignored" ? "trap '' XFSZ; " : ""}ulimit -f ${limitKiB}; exec ${
            [cmd, ...args].map(shellQuote).join(" ")
          }`;
          const child = spawnLines("bash", ["-c", script]);
          const acks: string[] = [];
          const errors: string[] = [];
          let exitLine = false;
          for (let line = await child.nextLine(); line !== null; line = await child.nextLine()) {
            const m = /^ack 0 (\d+) ([0-9a-f]{16})$/.exec(line);
            if (m) {
              assert.equal(Number(m[1]), acks.length, "offsets acknowledged in order");
              acks.push(m[2]);
            } else if (line.startsWith("error")) errors.push(line);
            else if (line === "exit") exitLine = true;
            else assert.fail(`unexpected line from the child: ${line}`);
          }
          const { code, signal: killedBy, stderr } = await child.exited;
          const logFile = segmentFiles(path.join(dir, "full-0"))[0];
          const sizeAtEnd = logFile ? fs.statSync(logFile).size : 0;
          assert.ok(sizeAtEnd <= limitKiB * 1024, "the limit held");
          let outcome: string;
          if (killedBy === "SIGXFSZ") {
            // Killed by the kernel in the middle of a write: a crash like any other.
            assert.ok(signal === "default" && RUNTIME === "deno", `${RUNTIME} was killed by SIGXFSZ`);
            outcome = `killed by SIGXFSZ after ${acks.length} acknowledged appends`;
          } else {
            assert.equal(code, 0, `the child exited with ${code}, ${killedBy}: ${stderr}`);
            assert.ok(exitLine, "the child reported its end");
            assert.equal(
              errors.length,
              2,
              `the failed append and the retry are reported: ${errors.join(" | ")}`,
            );
            for (const e of errors) {
              assert.match(
                e,
                /^error2? StorageError KAFKA_STORAGE_ERROR (EFBIG|-) .*(EFBIG|File too large)/,
                e,
              );
            }
            assert.ok(acks.length > 0, "the log grew to the limit");
            outcome = `append failed with EFBIG after ${acks.length} acknowledged appends`;
          }
          // The next open, without the limit, recovers: every acknowledged record, at most one more
          // (a batch written whole but not yet acknowledged when the process died), offsets dense.
          const log = await open(dir);
          let truncated = 0;
          try {
            const topic = log.topic("full");
            truncated = topic.partition(0).loadReport.truncatedBytes;
            const records = await readAll(topic, 0);
            records.forEach((r, i) => assert.equal(r.offset, i));
            const extra = killedBy === "SIGXFSZ" ? 1 : 0;
            assert.ok(
              records.length >= acks.length && records.length <= acks.length + extra,
              `${records.length} records recovered, ${acks.length} acknowledged`,
            );
            assert.deepEqual(records.slice(0, acks.length).map((r) => recordHash(r)), acks);
            const [meta] = await topic.append([{ value: "room again" }]);
            assert.equal(meta.offset, records.length);
          } finally {
            await log.close();
          }
          for (const report of verifyLogDirectory(dir)) assert.deepEqual(report.problems, []);
          console.log(
            `disk full (${RUNTIME}, SIGXFSZ ${signal}): ${outcome}; the next open cut ${truncated} bytes`,
          );
        });
      },
    );
  }
});
