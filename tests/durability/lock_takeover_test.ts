// Writer locks across runtimes and permission sets (issue 10, failure 8): a writer killed with -9
// leaves a lock that the next writer takes over, whoever it is (Bun, `deno -A`, or Deno without
// --allow-sys/--allow-run/--allow-env); a live writer's lock is never taken over by any of them.
// A Deno writer without those permissions used to leave a lock naming host "localhost" and no start
// time, which every other process took for a live writer on another host, forever.
// The one exception: a Node writer (no flock) killed with -9 is taken over by processes that can
// check its pid, not by a Deno that may look at neither locks nor processes.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { open, PartitionLockedError } from "../../mod.ts";
import { WRITER_LOCK_FILE } from "../../src/log/mod.ts";
import { advisoryLocksAvailable } from "../../src/runtime/advisory_lock.ts";
import { type LineChild, ROOT, runtimeCommand, spawnLines, withTempDir } from "./_helpers.ts";

const CHILD = path.join(ROOT, "tests/durability/_lock_child.ts");
const DENO = path.join(ROOT, "node_modules/.bin/deno");

type Kind = "restricted-deno" | "this-runtime";

/** The command running the lock child as `kind`: Deno limited to the log directory, or this runtime with every permission. */
function command(kind: Kind, dir: string, partition: number): [string, string[]] {
  const args = ["hold", dir, "t", String(partition)];
  if (kind === "restricted-deno") {
    return [DENO, ["run", "--quiet", `--allow-read=${dir}`, `--allow-write=${dir}`, CHILD, ...args]];
  }
  return runtimeCommand(CHILD, args);
}

/** Runs the lock child; resolves with its first line ("locked" or an error name) and the child. */
async function hold(kind: Kind, dir: string, partition: number) {
  const [cmd, args] = command(kind, dir, partition);
  const c = spawnLines(cmd, args);
  const line = await c.nextLine();
  if (line === null) {
    const { stderr } = await c.exited;
    throw new Error(`The ${kind} lock child printed nothing; stderr: ${stderr}`);
  }
  return { line, c };
}

async function kill9(c: LineChild) {
  c.child.kill("SIGKILL");
  await c.exited;
}

describe("writer locks across runtimes and permissions", () => {
  for (const writer of ["restricted-deno", "this-runtime"] as const) {
    test(
      `a ${writer} writer's lock is refused while it lives and taken over after kill -9, in this process and by a restricted Deno`,
      {
        timeout: 60_000,
      },
      async () => {
        await withTempDir("lock-takeover", async (dir) => {
          const setup = await open(dir, { retentionCheckIntervalMs: 0 });
          await setup.createTopic("t", { partitions: 2 });
          await setup.close();
          for (const partition of [0, 1]) {
            const w = await hold(writer, dir, partition);
            try {
              assert.equal(w.line, "locked");
              // Live: refused here and in a restricted Deno.
              const here = await open(dir, { retentionCheckIntervalMs: 0, lockTimeoutMs: 0 });
              await assert.rejects(
                () => here.topic("t").append([{ partition, value: "x" }]),
                PartitionLockedError,
              );
              await here.close();
              const live = await hold("restricted-deno", dir, partition);
              assert.equal(live.line, "PartitionLockedError");
              await live.c.exited;
            } finally {
              await kill9(w.c);
            }
            // Dead: partition 0 is taken over by this process, partition 1 by a restricted Deno.
            if (partition === 0) {
              const here = await open(dir, { retentionCheckIntervalMs: 0 });
              const [m] = await here.topic("t").append([{ partition, value: "after" }]);
              assert.equal(m.offset, 1);
              await here.close();
              assert.ok(!fs.existsSync(path.join(dir, `t-${partition}`, WRITER_LOCK_FILE)));
            } else if (writer === "this-runtime" && !advisoryLocksAvailable) {
              // A Node writer holds no flock (Node has none), and a Deno without --allow-sys or
              // --allow-run cannot look at processes: it cannot tell this dead writer from a live
              // one, so it leaves the lock alone. This process can check the pid, and takes it over.
              const next = await hold("restricted-deno", dir, partition);
              assert.equal(next.line, "PartitionLockedError");
              await next.c.exited;
              const here = await open(dir, { retentionCheckIntervalMs: 0 });
              const [m] = await here.topic("t").append([{ partition, value: "after" }]);
              assert.equal(m.offset, 1);
              await here.close();
            } else {
              const next = await hold("restricted-deno", dir, partition);
              try {
                assert.equal(next.line, "locked");
              } finally {
                await kill9(next.c);
              }
              // And the restricted Deno's own dead lock is taken over here.
              const here = await open(dir, { retentionCheckIntervalMs: 0 });
              const [m] = await here.topic("t").append([{ partition, value: "after" }]);
              assert.equal(m.offset, 2);
              await here.close();
            }
          }
        });
      },
    );
  }
});
