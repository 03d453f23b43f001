// Issue 10, failure 4: commit(), committed() and seek() took any topic and partition, so
// `commit([{ topic: "../../../../tmp/x", partition: 0, offset: 7 }])` created tmp/x/0.json outside the
// log directory and partition 1e9 of a real topic was accepted. Every topic-partition a caller names
// is now checked against the log directory (UnknownTopicOrPartitionError), and every path built
// from input goes through runtime/log_paths.ts. The property: whatever names a caller passes —
// "..", "/", "\", NUL, very long, unicode — nothing is created outside the log directory.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import { Consumer, InvalidGroupIdError, open, UnknownTopicOrPartitionError } from "../../mod.ts";
import { withTempDir } from "./_helpers.ts";

/** Every file and directory under `root`, relative to it, sorted. */
function tree(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      out.push(path.relative(root, p));
      if (entry.isDirectory()) walk(p);
    }
  };
  walk(root);
  return out.sort();
}

const hostileName = fc.oneof(
  fc.constantFrom(
    "..",
    ".",
    "../../../../tmp/x",
    "../x",
    "/",
    "/tmp/x",
    "\\",
    "..\\..\\x",
    "a\0b",
    "\0",
    "",
    "x".repeat(300),
    "é".repeat(200),
    "events/../../x",
    "events\u2215x",
    "\uD800",
    "😀",
  ),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 300 }),
  fc.array(fc.constantFrom("..", ".", "x", "", "\0", "\\"), { minLength: 1, maxLength: 8 }).map((a) =>
    a.join("/")
  ),
);

const anyPartition = fc.oneof(
  fc.constantFrom(0, 1, 2, 3, -1, 1e9, 2 ** 31, 1.5, Number.NaN, Infinity, -0),
  fc.integer(),
);

describe("commit paths (issue 10, failure 4)", () => {
  test("commit() of ../../../../tmp/x or of partition 1e9 throws UnknownTopicOrPartitionError and writes nothing", async () => {
    await withTempDir("commit-paths", async (sandbox) => {
      const dir = path.join(sandbox, "a", "b", "c", "log");
      fs.mkdirSync(dir, { recursive: true });
      const log = await open(dir);
      // Partitions open (and make their first segment) on first use: open both before looking.
      (await log.createTopic("events", { partitions: 2 })).logs;
      const consumer = new Consumer(log, { groupId: "billing", enableAutoCommit: false });
      const before = tree(sandbox);
      await assert.rejects(
        consumer.commit([{ topic: "../../../../tmp/x", partition: 0, offset: 7 }]),
        UnknownTopicOrPartitionError,
      );
      await assert.rejects(
        consumer.commit([{ topic: "events", partition: 1e9, offset: 7 }]),
        UnknownTopicOrPartitionError,
      );
      await assert.rejects(
        consumer.commit([{ topic: "events", partition: 2, offset: 7 }]),
        UnknownTopicOrPartitionError,
      );
      // One bad entry fails the whole commit: the good one before it is not written either.
      await assert.rejects(
        consumer.commit([{ topic: "events", partition: 0, offset: 7 }, {
          topic: "nope",
          partition: 0,
          offset: 1,
        }]),
        UnknownTopicOrPartitionError,
      );
      assert.throws(
        () => consumer.committed({ topic: "../../../../tmp/x", partition: 0 }),
        UnknownTopicOrPartitionError,
      );
      assert.throws(
        () => consumer.committed({ topic: "events", partition: 1e9 }),
        UnknownTopicOrPartitionError,
      );
      consumer.assign([{ topic: "events", partition: 0 }]);
      assert.throws(() => consumer.seek({ topic: "../x", partition: 0 }, 0), UnknownTopicOrPartitionError);
      assert.throws(
        () => consumer.seek({ topic: "events", partition: 1e9 }, 0),
        UnknownTopicOrPartitionError,
      );
      assert.deepEqual(tree(sandbox), before);
      assert.equal(consumer.committed({ topic: "events", partition: 0 }), null);
      await consumer.commit([{ topic: "events", partition: 1, offset: 7 }]);
      assert.equal(consumer.committed({ topic: "events", partition: 1 })?.offset, 7);
      await consumer.close();
      await log.close();
    });
  });

  test("property: whatever topic, partition and group id a caller names, nothing is created outside the log directory", async () => {
    await withTempDir("commit-paths-property", async (sandbox) => {
      const dir = path.join(sandbox, "a", "b", "c", "log");
      fs.mkdirSync(dir, { recursive: true });
      const log = await open(dir);
      await log.createTopic("events", { partitions: 4 });
      const outside = () => tree(sandbox).filter((p) => !p.startsWith(path.join("a", "b", "c", "log")));
      const before = outside();
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(hostileName, fc.constant("billing")),
          fc.oneof(hostileName, fc.constant("events")),
          anyPartition,
          async (groupId, topic, partition) => {
            let consumer: Consumer;
            try {
              consumer = new Consumer(log, { groupId, enableAutoCommit: false });
            } catch (err) {
              assert.ok(err instanceof InvalidGroupIdError, `new Consumer({ groupId }) threw ${err}`);
              return;
            }
            const valid = topic === "events" && Number.isInteger(partition) && partition >= 0 &&
              partition < 4;
            const tp = { topic, partition };
            if (valid) {
              await consumer.commit([{ ...tp, offset: 3 }]);
              assert.equal(consumer.committed(tp)?.offset, 3);
            } else {
              await assert.rejects(consumer.commit([{ ...tp, offset: 3 }]), UnknownTopicOrPartitionError);
              assert.throws(() => consumer.committed(tp), UnknownTopicOrPartitionError);
            }
            await consumer.close();
            assert.deepEqual(outside(), before);
            // Inside the log directory, group files live under .groups/ only.
            const top = fs.readdirSync(dir).filter((n) => !/^events-\d$/.test(n)).sort();
            for (const name of top) assert.ok([".groups", ".topics"].includes(name), `unexpected ${name}`);
            const groups = path.join(dir, ".groups");
            if (valid) assert.ok(fs.existsSync(path.join(groups)), "a valid commit lands under .groups/");
            for (const name of fs.existsSync(groups) ? fs.readdirSync(groups, { withFileTypes: true }) : []) {
              assert.ok(
                name.isDirectory() && !name.name.startsWith("."),
                `unexpected group entry ${name.name}`,
              );
            }
          },
        ),
        { numRuns: 60 },
      );
      await log.close();
    });
  });
});
