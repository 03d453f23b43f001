// kafkajs running on Node, in a subprocess, against `serve()` running on this test's runtime
// (Deno or Bun): an idempotent producer and a group consumer, read back byte for byte.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { runCommand } from "../_runtime.ts";
import { withBroker } from "./_helpers.ts";

const CLIENT = fileURLToPath(new URL("./kafkajs_node_client.mjs", import.meta.url));

function node(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return runCommand("node", [CLIENT, ...args]);
}

describe("kafkajs on Node against reel serve", () => {
  test("produces idempotently and consumes in a group what it produced; reel reads the same", async () => {
    await withBroker(async (broker, log) => {
      const res = await node([broker.address, "from-node", "ng", "25"]);
      assert.equal(res.status, 0, res.stderr);
      const lines = res.stdout.trim().split("\n").map((l) => JSON.parse(l));
      assert.equal(lines.length, 25);
      for (const l of lines) assert.deepEqual(l, { key: `k${l.n}`, value: `v${l.n}`, n: l.n });
      const stored = [];
      for await (const r of log.topic("from-node").readable()) {
        stored.push(new TextDecoder().decode(r.value!));
      }
      assert.deepEqual(stored, Array.from({ length: 25 }, (_, i) => `v${i}`));
    }, { groupInitialRebalanceDelayMs: 0 });
  });
});
