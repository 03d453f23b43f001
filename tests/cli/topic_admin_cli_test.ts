// Issue 15, item 3: `reel alter-config`, `reel add-partitions` and `reel delete-records`, on the
// runtime running this test: what they change, what they print, and usage and Kafka-coded errors.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { open } from "../../mod.ts";
import { reel, withTempDir } from "../consumer/_helpers.ts";

const TIMEOUT = { timeout: 60_000 };

describe("reel topic administration", () => {
  test("alter-config sets and resets configs, and refuses unknown keys and bad values", TIMEOUT, async () => {
    await withTempDir("cli-alter", async (dir) => {
      const log = await open(dir);
      await log.createTopic("t");
      await log.close();
      const set = await reel([
        "alter-config",
        "--dir",
        dir,
        "--topic",
        "t",
        "--config",
        "retentionMs=5000",
        "--config",
        "fsync=always",
        "--config",
        "cleanupPolicy=compact,delete",
        "--config",
        "minCleanableDirtyRatio=0.01",
        "--config",
        "preallocate=true",
      ]);
      assert.equal(set.status, 0, set.stderr);
      assert.equal(JSON.parse(set.stdout).preallocate, true);
      assert.equal(JSON.parse(set.stdout).retentionMs, 5000);
      assert.equal(JSON.parse(set.stdout).cleanupPolicy, "compact,delete");
      assert.equal(JSON.parse(set.stdout).minCleanableDirtyRatio, 0.01);
      const bad = await reel(["alter-config", "--dir", dir, "--topic", "t", "--config", "segmentBytes=10"]);
      assert.equal(bad.status, 1);
      assert.match(bad.stderr, /^reel: Cannot change the config of topic "t": .*segmentBytes/);
      const unknown = await reel(["alter-config", "--dir", dir, "--topic", "t", "--config", "colour=red"]);
      assert.equal(unknown.status, 1);
      const reset = await reel(["alter-config", "--dir", dir, "--topic", "t", "--reset", "retentionMs"]);
      assert.equal(reset.status, 0, reset.stderr);
      assert.equal(JSON.parse(reset.stdout).retentionMs, 604_800_000);
      assert.equal(JSON.parse(reset.stdout).fsync, "always");
      assert.equal(
        (await reel(["alter-config", "--dir", dir, "--topic", "t"])).status,
        2,
        "nothing to change",
      );
      const again = await open(dir);
      assert.equal(again.topic("t").config.fsync, "always");
      await again.close();
    });
  });

  test("add-partitions raises the count and refuses to lower it", TIMEOUT, async () => {
    await withTempDir("cli-add", async (dir) => {
      const log = await open(dir);
      await log.createTopic("t", { partitions: 2 });
      await log.close();
      const up = await reel(["add-partitions", "--dir", dir, "--topic", "t", "--partitions", "5"]);
      assert.equal(up.status, 0, up.stderr);
      const down = await reel(["add-partitions", "--dir", dir, "--topic", "t", "--partitions", "3"]);
      assert.equal(down.status, 1);
      assert.match(down.stderr, /partitions are never removed/);
      const topics = await reel(["topics", "--dir", dir]);
      assert.equal(topics.stdout, "t\t5\n");
    });
  });

  test("delete-records moves the log start offset; consume then starts there", TIMEOUT, async () => {
    await withTempDir("cli-delete", async (dir) => {
      const log = await open(dir);
      const topic = await log.createTopic("t");
      await topic.append(["a", "b", "c"].map((value) => ({ value })));
      await log.close();
      const run = await reel([
        "delete-records",
        "--dir",
        dir,
        "--topic",
        "t",
        "--partition",
        "0",
        "--offset",
        "2",
      ]);
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stdout, "2\n");
      assert.equal((await reel(["consume", "--dir", dir, "--topic", "t"])).stdout, "c\n");
      const past = await reel([
        "delete-records",
        "--dir",
        dir,
        "--topic",
        "t",
        "--partition",
        "0",
        "--offset",
        "9",
      ]);
      assert.equal(past.status, 1);
      const all = await reel([
        "delete-records",
        "--dir",
        dir,
        "--topic",
        "t",
        "--partition",
        "0",
        "--offset=-1",
      ]);
      assert.equal(all.stdout, "3\n");
      assert.equal((await reel(["consume", "--dir", dir, "--topic", "t"])).stdout, "");
    });
  });
});
