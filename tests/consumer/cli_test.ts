import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { open } from "../../mod.ts";
import { reel, RUNTIME, withTempDir } from "./_helpers.ts";

describe(`reel groups, offsets and consume --group (${RUNTIME})`, () => {
  test(
    "consume --group commits as it goes and resumes where the group left off; groups shows offsets and lag",
    { timeout: 60_000 },
    async () => {
      await withTempDir("cli", async (dir) => {
        const log = await open(dir);
        const topic = await log.createTopic("t", { partitions: 2 });
        await topic.append(Array.from({ length: 10 }, (_, i) => ({ partition: i % 2, value: `a${i}` })));
        await log.close();

        const first = await reel(["consume", "--dir", dir, "--topic", "t", "--group", "g"]);
        assert.equal(first.status, 0, first.stderr);
        assert.deepEqual(
          first.stdout.trim().split("\n").sort(),
          Array.from({ length: 10 }, (_, i) => `a${i}`).sort(),
        );
        const again = await reel(["consume", "--dir", dir, "--topic", "t", "--group", "g"]);
        assert.equal(again.status, 0, again.stderr);
        assert.equal(again.stdout, "", "nothing new: the group resumes after what it printed");

        const more = await open(dir);
        await more.topic("t").append([{ partition: 1, value: "b0" }, { partition: 1, value: "b1" }]);
        await more.close();
        const groups = await reel(["groups", "--dir", dir, "--format", "json"]);
        assert.equal(groups.status, 0, groups.stderr);
        const described = JSON.parse(groups.stdout);
        assert.equal(described.groupId, "g");
        assert.equal(described.state, "Empty");
        assert.deepEqual(
          described.offsets.map((
            o: { partition: number; committedOffset: number; logEndOffset: number; lag: number },
          ) => [o.partition, o.committedOffset, o.logEndOffset, o.lag]),
          [[0, 5, 5, 0], [1, 5, 7, 2]],
        );
        const table = await reel(["groups", "--dir", dir]);
        assert.match(table.stdout, /^GROUP g: Empty, generation \d+/);
        assert.match(table.stdout, /TOPIC +PARTITION +CURRENT-OFFSET +LOG-END-OFFSET +LAG +CONSUMER-ID/);
        assert.match(table.stdout, /\nt +1 +5 +7 +2 +-/);

        const rest = await reel(["consume", "--dir", dir, "--topic", "t", "--group", "g"]);
        assert.equal(rest.stdout, "b0\nb1\n");
        const other = await reel([
          "consume",
          "--dir",
          dir,
          "--topic",
          "t",
          "--group",
          "other",
          "--from",
          "latest",
        ]);
        assert.equal(other.stdout, "", "a new group with --from latest starts at the end");
        const bad = await reel(["consume", "--dir", dir, "--topic", "t", "--group", "g", "--from", "3"]);
        assert.equal(bad.status, 2);
      });
    },
  );

  test(
    "offsets --time prints each partition's first offset at or after the time",
    { timeout: 60_000 },
    async () => {
      await withTempDir("cli-offsets", async (dir) => {
        const log = await open(dir);
        const topic = await log.createTopic("t", { partitions: 2 });
        const t0 = Date.parse("2015-09-12T00:00:00Z");
        await topic.append([
          { partition: 0, value: "x", timestamp: t0 + 5000 },
          { partition: 0, value: "y", timestamp: t0 + 1000 },
          { partition: 0, value: "z", timestamp: t0 + 9000 },
          { partition: 1, value: "w", timestamp: t0 },
        ]);
        await log.close();
        const run = await reel(["offsets", "--dir", dir, "--topic", "t", "--time", "2015-09-12T00:00:02Z"]);
        assert.equal(run.status, 0, run.stderr);
        assert.equal(run.stdout, `0\t0\t2015-09-12T00:00:05.000Z\n1\t-\t-\n`);
        const later = await reel([
          "offsets",
          "--dir",
          dir,
          "--topic",
          "t",
          "--partition",
          "0",
          "--time",
          String(t0 + 6000),
        ]);
        assert.equal(later.stdout, `0\t2\t2015-09-12T00:00:09.000Z\n`);
        assert.equal((await reel(["offsets", "--dir", dir, "--topic", "t", "--time", "soon"])).status, 2);
      });
    },
  );
});
