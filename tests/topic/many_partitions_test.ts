// Issue 13, item 3: a directory of 3 topics × 2,000 partitions works under `ulimit -n 1024` (the
// usual soft limit) for produce, consume, topics, describe and verify. Partitions open on first
// use, segment files stay open only up to a per-process bound (setMaxOpenFiles), and writer roles
// (each holding the partition's lock file) up to another (setMaxWriters), so no command runs out of
// file descriptors (EMFILE) however many partitions the directory holds. Each command runs as a
// child of `sh -c 'ulimit -n 1024; exec …'`, on the runtime running this test.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { scriptCommand } from "../_runtime.ts";

const CLI_MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "src", "cli", "main.ts");
const TOPICS = ["clicks", "orders", "views"];
const PARTITIONS = 2000;
/**
 * Records per topic, keyed: the first topic gets three per partition on average, so its produce
 * writes nearly every partition (far more than the process may hold writer roles or files for);
 * the others fewer, to keep the test short (their partitions all exist, and are all read).
 */
const RECORDS: Record<string, number> = { clicks: 6000, orders: 300, views: 300 };

/** Runs the CLI under `ulimit -n 1024`, with `input` on stdin. */
function reelLimited(
  args: string[],
  input = "",
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const [bin, argv] = scriptCommand(CLI_MAIN, args);
  return new Promise((resolve, reject) => {
    const child = spawn(
      "sh",
      ["-c", 'ulimit -n 1024 && exec "$@"', "sh", bin, ...argv],
      { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } },
    );
    let stdout = "", stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(input);
  });
}

describe("3 topics × 2,000 partitions under ulimit -n 1024", () => {
  // The timeout only guards against a hang: on a loaded 2-core machine this test takes minutes.
  test("produce, consume, topics, describe and verify all work", { timeout: 1_200_000 }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-many-"));
    try {
      // The limit applies: a child that opens more files than that fails.
      const limit = await new Promise<string>((resolve) => {
        const c = spawn("sh", ["-c", "ulimit -n 1024 && ulimit -n"]);
        let out = "";
        c.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
        c.on("close", () => resolve(out.trim()));
      });
      assert.equal(limit, "1024");

      const input = (topic: string) =>
        Array.from({ length: RECORDS[topic] }, (_, i) => `user-${i} ${topic} ${i}`).join("\n") + "\n";
      for (const topic of TOPICS) {
        const r = await reelLimited(
          [
            "produce",
            "--dir",
            dir,
            "--topic",
            topic,
            "--partitions",
            String(PARTITIONS),
            "--key-regex",
            "^(\\S+)",
          ],
          input(topic),
        );
        assert.equal(r.status, 0, r.stderr);
      }

      const topics = await reelLimited(["topics", "--dir", dir, "--format", "json"]);
      assert.equal(topics.status, 0, topics.stderr);
      const listed = topics.stdout.trim().split("\n").map((l) =>
        JSON.parse(l) as { topic: string; partitions: number }
      );
      assert.deepEqual(listed.map((t) => [t.topic, t.partitions]), TOPICS.map((t) => [t, PARTITIONS]));

      const described = await reelLimited(["describe", "--dir", dir, "--format", "json"]);
      assert.equal(described.status, 0, described.stderr);
      const all = described.stdout.trim().split("\n").map((l) =>
        JSON.parse(l) as { topic: string; records: number; partitionInfo: { logEndOffset: number }[] }
      );
      assert.deepEqual(all.map((t) => t.topic), TOPICS);
      for (const t of all) {
        assert.equal(t.partitionInfo.length, PARTITIONS);
        assert.equal(t.records, RECORDS[t.topic], `${t.topic}: every record`);
      }
      // Keys spread over the partitions: most of the first topic's partitions got records.
      assert.ok(all[0].partitionInfo.filter((p) => p.logEndOffset > 0).length > PARTITIONS * 0.9);

      for (const topic of TOPICS) {
        const consumed = await reelLimited(["consume", "--dir", dir, "--topic", topic]);
        assert.equal(consumed.status, 0, consumed.stderr);
        const got = consumed.stdout.split("\n").filter((l) => l !== "").sort();
        assert.equal(got.length, RECORDS[topic]);
        assert.deepEqual(got, input(topic).split("\n").filter((l) => l !== "").sort());
      }

      const verified = await reelLimited(["verify", "--dir", dir]);
      assert.equal(verified.status, 0, verified.stdout + verified.stderr);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
