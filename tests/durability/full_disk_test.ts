// Issue 10, failure 7: a full disk and a read-only file system, on a real tmpfs mounted for the
// test (root only: the suite runs as root in CI; elsewhere these tests say why they skip).
// - Full: appends fail with StorageError and nothing acknowledged is lost; a reader opens and reads
//   while the disk is full; close() reports a typed StorageError, releases the writer lock, and the
//   same process writes again once there is space.
// - Read-only: opening, reading, describe() and the CLI's consume and describe work; a write is a
//   typed StorageError.

import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { open, ReelError, StorageError } from "../../mod.ts";
import { scriptCommand } from "../_runtime.ts";

const MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
const skip = process.getuid?.() === 0 ? false : "mounting a tmpfs needs root";

/** Runs `fn` over a fresh 2 MiB tmpfs; unmounts and removes it after. */
async function withTmpfs(fn: (mnt: string) => Promise<void>): Promise<void> {
  const mnt = fs.mkdtempSync(path.join(os.tmpdir(), "reel-tmpfs-"));
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", mnt]);
  try {
    await fn(mnt);
  } finally {
    // Lazily: a test that failed with files still open must not hide its error behind EBUSY.
    spawnSync("umount", ["-l", mnt]);
    fs.rmSync(mnt, { recursive: true, force: true });
  }
}

/** Fills the file system with one file; returns its path (remove it to free the space). */
function fill(mnt: string): string {
  const filler = path.join(mnt, "filler");
  const fd = fs.openSync(filler, "w");
  try {
    for (;;) fs.writeSync(fd, new Uint8Array(4096));
  } catch (err) {
    assert.equal((err as { code?: string }).code, "ENOSPC");
  } finally {
    fs.closeSync(fd);
  }
  return filler;
}

async function readValues(dir: string): Promise<string[]> {
  const log = await open(dir);
  try {
    const values: string[] = [];
    for await (const r of log.topic("t").readable()) values.push(new TextDecoder().decode(r.value!));
    return values;
  } finally {
    await log.close();
  }
}

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const [bin, argv] = scriptCommand(MAIN, args);
  const run = spawnSync(bin, argv, { encoding: "utf8" });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe("a full disk and a read-only file system (issue 10, failure 7)", { skip }, () => {
  for (const fsync of ["always", "never"] as const) {
    test(`fsync ${fsync}: appends fail typed, a reader reads, close() releases the lock, nothing acknowledged is lost`, async () => {
      await withTmpfs(async (mnt) => {
        const dir = path.join(mnt, "log");
        const log = await open(dir);
        const topic = await log.createTopic("t", { config: { fsync, segmentBytes: 64 * 1024 } });
        const acked: string[] = [];
        let failure: unknown;
        let failedBatch: string[] = [];
        for (let i = 0; failure === undefined && i < 10_000; i++) {
          const batch = Array.from({ length: 10 }, (_, j) => `${i * 10 + j}:${"x".repeat(200)}`);
          try {
            await topic.append(batch.map((value) => ({ value })));
            acked.push(...batch);
          } catch (err) {
            failure = err;
            failedBatch = batch;
          }
        }
        assert.ok(failure instanceof StorageError, `the append failed with ${failure}`);
        assert.ok(acked.length > 0);
        const filler = fill(mnt);

        // Another reader opens and reads every acknowledged record while nothing can be written.
        assert.deepEqual(await readValues(dir), acked);

        // close() may find nothing left to write; when it cannot write, it says so with a typed error.
        try {
          await log.close();
        } catch (err) {
          assert.ok(err instanceof ReelError, `close() threw ${err}`);
        }

        // On a full disk a writer cannot even recover: a typed error, and the lock is not left behind.
        await assert.rejects(async () => {
          const writer = await open(dir);
          try {
            await writer.topic("t").append([{ value: "while full" }]);
          } finally {
            await writer.close().catch(() => {});
          }
        }, StorageError);

        fs.rmSync(filler);
        execFileSync("mount", ["-o", "remount,size=8m", mnt]); // space again
        const again = await open(dir);
        await again.topic("t").append([{ value: "after" }]); // not PartitionLockedError
        await again.close();
        // Every acknowledged record, in order; the batch whose append failed is there whole or not at
        // all (as with Kafka, a failed produce may have been written: the producer retries it).
        const read = await readValues(dir);
        assert.deepEqual(read.slice(0, acked.length), acked);
        const between = read.slice(acked.length, -1);
        assert.ok(
          between.length === 0 || between.join() === failedBatch.join(),
          `unexpected ${between.length} records`,
        );
        assert.equal(read.at(-1), "after");
      });
    });
  }

  test("read-only: open, readable(), describe() and the CLI's consume and describe work; a write is a StorageError", async () => {
    await withTmpfs(async (mnt) => {
      const dir = path.join(mnt, "log");
      const log = await open(dir);
      const topic = await log.createTopic("t", { partitions: 2 });
      const values = Array.from({ length: 50 }, (_, i) => `v${i}`);
      await topic.append(values.map((value, i) => ({ value, partition: i % 2 })));
      await log.close();
      execFileSync("mount", ["-o", "remount,ro", mnt]);

      const reader = await open(dir);
      const read: string[] = [];
      for await (const r of reader.topic("t").readable()) read.push(new TextDecoder().decode(r.value!));
      assert.deepEqual(read.sort(), [...values].sort());
      assert.deepEqual(reader.topic("t").describe().map((p) => p.logEndOffset), [25, 25]);
      await assert.rejects(reader.topic("t").append([{ value: "no" }]), StorageError);
      await reader.close();

      const consumed = cli(["consume", "--dir", dir, "--topic", "t", "--partition", "0"]);
      assert.equal(consumed.status, 0, consumed.stderr);
      assert.deepEqual(consumed.stdout.trim().split("\n"), values.filter((_, i) => i % 2 === 0));
      const described = cli(["describe", "--dir", dir, "--topic", "t", "--format", "json"]);
      assert.equal(described.status, 0, described.stderr);
      assert.match(described.stdout, /25/);
    });
  });
});
