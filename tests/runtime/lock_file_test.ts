// Lock files: who owns a lock is told from what every process can read for itself. An owner
// holding its advisory OS lock is live whatever its record says; a record whose owner holds none
// is dead; without an advisory lock, a pid that is gone or that now belongs to a later process is
// dead, and a lock naming host "localhost" (a Deno without --allow-sys wrote it) is this host's.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import {
  isLockOwnerAlive,
  LockFile,
  processIdentity,
  readLockOwner,
  tryLock,
} from "../../src/runtime/lock_file.ts";
import { advisoryLocksAvailable, isAdvisoryLockHeld } from "../../src/runtime/advisory_lock.ts";
import { RUNTIME } from "../_runtime.ts";

function withTempDir(fn: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-lock-file-"));
  return Promise.resolve().then(() => fn(dir)).finally(() =>
    fs.rmSync(dir, { recursive: true, force: true })
  );
}

/** A process that lives until killed, and its pid. */
async function sleeper(): Promise<{ pid: number; kill(): Promise<void> }> {
  const child = spawn("sleep", ["600"], { stdio: "ignore" });
  await new Promise((resolve) => child.once("spawn", resolve));
  return {
    pid: child.pid!,
    kill: () =>
      new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGKILL");
      }),
  };
}

const DEAD_PID = 2 ** 22 + 12345; // above Linux's largest pid_max (2^22): never a live process

describe("lock files", () => {
  test("this runtime takes advisory locks (Deno, Bun), and a held lock records osLock and holds one while held", async () => {
    // Node has no flock(2) (neither node:fs nor an FFI without a native addon): there a lock
    // records no osLock, and its owner is told live or dead by its pid and start time alone.
    const flock = RUNTIME !== "node";
    assert.equal(advisoryLocksAvailable, flock, "Deno and Bun on Linux both offer flock, Node does not");
    await withTempDir((dir) => {
      const file = path.join(dir, ".lock");
      const lock = tryLock(file);
      assert.ok(lock instanceof LockFile);
      assert.equal(readLockOwner(file)?.osLock, flock ? true : undefined);
      assert.equal(isAdvisoryLockHeld(file), flock ? true : undefined);
      assert.equal(typeof readLockOwner(file)?.startedAt, "number");
      lock.release();
      assert.equal(fs.existsSync(file), false);
      assert.deepEqual(fs.readdirSync(dir), []);
    });
  });

  test("a record claiming an advisory lock that nobody holds is stale, even naming a live process (where flock can be tested)", async () => {
    const live = await sleeper();
    try {
      await withTempDir((dir) => {
        const file = path.join(dir, ".lock");
        const me = processIdentity();
        fs.writeFileSync(
          file,
          JSON.stringify({
            version: 0,
            pid: live.pid,
            token: "old",
            hostname: me.hostname,
            osLock: true,
            acquiredAt: 0,
          }),
        );
        const lock = tryLock(file);
        if (!advisoryLocksAvailable) {
          // Node cannot test the advisory lock, so it goes by the pid, which is live: refused.
          assert.ok(!(lock instanceof LockFile), "a live pid's lock is never taken over");
          assert.equal(lock.pid, live.pid);
          return;
        }
        assert.ok(lock instanceof LockFile, "taken over");
        assert.notEqual(readLockOwner(file)?.token, "old");
        lock.release();
      });
    } finally {
      await live.kill();
    }
  });

  test('a lock written by a Deno without --allow-sys (host "localhost", no start time) whose process is gone is taken over', async () => {
    await withTempDir((dir) => {
      const file = path.join(dir, ".lock");
      fs.writeFileSync(
        file,
        JSON.stringify({ version: 0, pid: DEAD_PID, token: "old", hostname: "localhost", acquiredAt: 0 }),
      );
      const lock = tryLock(file);
      assert.ok(lock instanceof LockFile);
      lock.release();
    });
  });

  test("without an advisory lock, a live pid is live only if it started when the record says (a reused pid is dead)", async () => {
    const live = await sleeper();
    try {
      const hostname = processIdentity().hostname;
      // Started about now (spawned above): the recorded start time matches.
      assert.equal(isLockOwnerAlive({ pid: live.pid, hostname, startedAt: Date.now() }), true);
      assert.equal(isLockOwnerAlive({ pid: live.pid, hostname: "localhost", startedAt: Date.now() }), true);
      // Recorded as started an hour ago: the pid was reused by a later process.
      assert.equal(isLockOwnerAlive({ pid: live.pid, hostname, startedAt: Date.now() - 3_600_000 }), false);
      assert.equal(isLockOwnerAlive({ pid: DEAD_PID, hostname }), false);
      assert.equal(isLockOwnerAlive({ pid: DEAD_PID, hostname: "localhost" }), false);
      assert.equal(
        isLockOwnerAlive({ pid: DEAD_PID, hostname: "another-host.example" }),
        true,
        "another host: live",
      );
      assert.equal(
        isLockOwnerAlive({ pid: process.pid, hostname, startedAt: processIdentity().startedAt }),
        true,
      );
    } finally {
      await live.kill();
    }
  });
});
