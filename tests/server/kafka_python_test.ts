// kafka-python (PyPI; a Kafka client none of us wrote) against `serve()`: admin, producer with
// gzip and acks=all, a group consumer that commits; reel reads the records and the commits.
// Skipped when python3 cannot import kafka (`pip install kafka-python`).

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { describeGroup } from "../../mod.ts";
import { runCommand } from "../_runtime.ts";
import { withBroker } from "./_helpers.ts";

const HAS_KAFKA_PYTHON = spawnSync("python3", ["-c", "import kafka"]).status === 0;
const SCRIPT = fileURLToPath(new URL("./kafka_python_client.py", import.meta.url));

function python(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return runCommand("python3", [SCRIPT, ...args]);
}

// Skipped without kafka-python, except where it is required (CI sets REEL_REQUIRE_KAFKA=1): there it fails.
describe("kafka-python against reel serve", {
  skip: !HAS_KAFKA_PYTHON && process.env.REEL_REQUIRE_KAFKA !== "1",
}, () => {
  test("creates a topic, produces with gzip, consumes in a group and commits; reel sees both", async () => {
    await withBroker(async (broker, log) => {
      const res = await python([broker.address, "py", "pyg", "30"]);
      assert.equal(res.status, 0, res.stderr);
      const consumed = res.stdout.trim().split("\n").map((l) => JSON.parse(l));
      assert.equal(consumed.length, 30);
      for (const r of consumed) assert.deepEqual(r, { key: `k${r.n}`, value: `v${r.n}`, n: r.n });
      assert.deepEqual(new Set(consumed.map((r) => Number(r.n))).size, 30);
      assert.equal(log.topic("py").partitions, 2);
      const stored = [];
      for await (const r of log.topic("py").readable()) stored.push(new TextDecoder().decode(r.value!));
      assert.deepEqual(stored.sort(), Array.from({ length: 30 }, (_, i) => `v${i}`).sort());
      const committed = describeGroup(log, "pyg").offsets.reduce((n, o) => n + (o.committedOffset ?? 0), 0);
      assert.equal(committed, 30);
    }, { groupInitialRebalanceDelayMs: 0 });
  });
});
