// Topics created and deleted by several processes at once (issue 10, failure 5): real child
// processes, half on Deno and half on Bun, open the same log directory, wait for one signal, and
// race createTopic on the same name with different partition counts. Exactly one creates it; the
// others get TopicExistsError and then see the winner's partition count; nobody gets an untyped
// error; and every record any of them had acknowledged is readable after a reopen, on a partition
// the stored config has. Each round repeats it in a fresh directory.
//
// REEL_TOPIC_RACE_ROUNDS sets the number of rounds (default 3, times REEL_STRESS).

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { open } from "../../mod.ts";
import { envRounds, type LineChild, ROOT, spawnLines, stress, withTempDir } from "./_helpers.ts";

const ROUNDS = envRounds("REEL_TOPIC_RACE_ROUNDS", 3);
const CHILD = path.join(ROOT, "tests/durability/_topic_child.ts");
const DENO = path.join(ROOT, "node_modules/.bin/deno");
const BUN = path.join(ROOT, "node_modules/.bin/bun");

/** Starts the topic child on Deno (even `i`) or Bun (odd `i`). */
function child(i: number, args: string[]): LineChild {
  return i % 2 === 0
    ? spawnLines(DENO, ["run", "-A", "--quiet", CHILD, ...args])
    : spawnLines(BUN, [CHILD, ...args]);
}

/** Waits for every child's "ready", sends "go" to all at once, and collects their JSON lines until "done". */
async function race(children: LineChild[]): Promise<Record<string, unknown>[][]> {
  for (const c of children) {
    const line = await c.nextLine();
    if (line !== "ready") throw new Error(`A child did not start: ${line}; ${(await c.exited).stderr}`);
  }
  for (const c of children) c.child.stdin!.write("go\n");
  return await Promise.all(children.map(async (c) => {
    const lines: Record<string, unknown>[] = [];
    for (;;) {
      const line = await c.nextLine();
      if (line === null) throw new Error(`A child ended early; stderr: ${(await c.exited).stderr}`);
      if (line === "done") break;
      lines.push(JSON.parse(line));
    }
    await c.exited;
    return lines;
  }));
}

describe("topics across processes", () => {
  test(
    "processes on Deno and Bun racing createTopic on one name: one wins, the others see its config, no acknowledged record is lost",
    {
      timeout: stress(120_000),
    },
    async () => {
      for (let round = 0; round < ROUNDS; round++) {
        await withTempDir("topic-race", async (dir) => {
          const counts = [1, 2, 3, 4];
          const results = await race(
            counts.map((n, i) => child(i + round, ["create", dir, "raced", String(n), `c${i}`])),
          );
          const errors = results.flat().filter((r) => "error" in r);
          assert.deepEqual(errors, [], "no child failed with another error");
          const winners = results.filter((lines) => lines.some((r) => "created" in r));
          assert.equal(winners.length, 1, `exactly one child created the topic: ${JSON.stringify(results)}`);
          const partitions = winners[0].find((r) => "created" in r)!.created as number;
          for (const lines of results) {
            const seen = lines.find((r) => "created" in r || "exists" in r)!;
            assert.equal(
              seen.created ?? seen.exists,
              partitions,
              "every child sees the winner's partition count",
            );
          }
          const log = await open(dir, { retentionCheckIntervalMs: 0 });
          try {
            const topic = log.topic("raced");
            assert.equal(topic.partitions, partitions);
            const stored: string[] = [];
            for await (const r of topic.readable({ from: "earliest" })) {
              stored.push(`${r.partition}/${r.offset}/${new TextDecoder().decode(r.value!)}`);
            }
            const acked = results.flat().filter((r) => "acked" in r).map((r) =>
              `${r.acked}/${r.offset}/${r.value}`
            );
            assert.ok(acked.length >= partitions, "each partition got at least one acknowledged record");
            assert.deepEqual(stored.sort(), acked.sort(), "exactly the acknowledged records are stored");
          } finally {
            await log.close();
          }
          assert.deepEqual(
            fs.readdirSync(path.join(dir, ".topics")),
            ["raced.json"],
            "no temporary file is left",
          );
        });
      }
    },
  );
});
