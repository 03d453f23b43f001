// Entries under the log directory that are not what reel wrote (issue 10, failure 9): a group's
// state.json that is a directory, a partition directory that is a file or a symbolic link, a
// topic config that is a directory. Each ends in one of reel's typed errors with a Kafka code
// (never a raw EISDIR / EEXIST / ENOTDIR), names the entry, leaves it as it is, and touches
// nothing outside the log directory.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Consumer, open, ReelError, StorageError } from "../../mod.ts";

async function withTempDir(fn: (dir: string, outside: string) => Promise<void>): Promise<void> {
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), "reel-hostile-"));
  const outside = path.join(parent, "outside");
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, "precious"), "keep me");
  try {
    await fn(path.join(parent, "log"), outside);
    assert.deepEqual(fs.readdirSync(outside), ["precious"], "nothing created outside the log directory");
    assert.equal(fs.readFileSync(path.join(outside, "precious"), "utf8"), "keep me");
  } finally {
    fs.rmSync(parent, { recursive: true, force: true });
  }
}

/** Runs `fn`; it must succeed or throw a ReelError (with a Kafka code); returns the error, if any. */
async function typedOutcome(fn: () => Promise<unknown>): Promise<ReelError | undefined> {
  try {
    await fn();
    return undefined;
  } catch (err) {
    assert.ok(
      err instanceof ReelError,
      `a typed error, not ${(err as Error).name}: ${(err as Error).message}`,
    );
    assert.equal(typeof err.errorCode, "number");
    return err;
  }
}

describe("hostile entries in the log directory", () => {
  test("a group's state.json that is a directory: poll() throws StorageError naming it, and leaves it", async () => {
    await withTempDir(async (dir) => {
      const log = await open(dir, { retentionCheckIntervalMs: 0 });
      try {
        await log.createTopic("t");
        await log.topic("t").append([{ value: "a" }]);
        const state = path.join(dir, ".groups", "g", "state.json");
        fs.mkdirSync(state, { recursive: true });
        const consumer = new Consumer(log, { groupId: "g", autoOffsetReset: "earliest" });
        consumer.subscribe(["t"]);
        const err = await typedOutcome(() => consumer.poll({ timeoutMs: 200 }));
        assert.ok(err instanceof StorageError);
        assert.match(err.message, /state\.json/);
        await typedOutcome(() => consumer.close());
        assert.ok(fs.statSync(state).isDirectory(), "left as it is");
      } finally {
        await log.close();
      }
    });
  });

  for (
    const kind of ["a file", "a symbolic link to a directory outside", "a dangling symbolic link"] as const
  ) {
    test(`a partition directory that is ${kind}: using it throws StorageError naming it, and leaves it`, async () => {
      await withTempDir(async (dir, outside) => {
        const setup = await open(dir, { retentionCheckIntervalMs: 0 });
        await setup.createTopic("t", { partitions: 2 });
        await setup.topic("t").append([{ partition: 0, value: "kept" }]);
        await setup.close();
        const p1 = path.join(dir, "t-1");
        fs.rmSync(p1, { recursive: true });
        if (kind === "a file") fs.writeFileSync(p1, "not a directory");
        else if (kind === "a dangling symbolic link") fs.symlinkSync(path.join(outside, "nothing"), p1);
        else fs.symlinkSync(outside, p1);
        // Partitions open on first use: the directory opens, the bad partition fails when used.
        const log = await open(dir, { retentionCheckIntervalMs: 0 });
        try {
          const err = await typedOutcome(() => Promise.resolve().then(() => log.topic("t").partition(1)));
          assert.ok(err instanceof StorageError);
          assert.ok(err.message.includes(p1), err.message);
          const all = await typedOutcome(() => log.topic("t").append([{ partition: 1, value: "x" }]));
          assert.ok(all instanceof StorageError, "an append to it fails the same way");
          assert.equal(fs.lstatSync(p1).isDirectory(), false, "left as it is");
          // The healthy partition is untouched, and still serves.
          const seen = [];
          for await (const r of log.topic("t").readable({ partitions: 0 })) seen.push(r.offset);
          assert.deepEqual(seen, [0]);
        } finally {
          await log.close();
        }
        assert.ok(fs.existsSync(path.join(dir, "t-0", "00000000000000000000.log")));
      });
    });
  }

  test("a topic whose creation fails partway leaves nothing behind: no config, no partition directory", async () => {
    await withTempDir(async (dir) => {
      const log = await open(dir, { retentionCheckIntervalMs: 0 });
      try {
        // Partition 3's place holds a file: placing that partition fails after 0–2 were placed.
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(dir, "half-3"), "not a directory");
        const err = await typedOutcome(() => log.createTopic("half", { partitions: 5 }));
        assert.ok(err instanceof StorageError, String(err));
        assert.equal(log.hasTopic("half"), false);
        assert.deepEqual(
          fs.readdirSync(dir).filter((n) => n.startsWith("half") || n.startsWith(".create-")).sort(),
          ["half-3"],
          "only the file that was there",
        );
        assert.equal(fs.existsSync(path.join(dir, ".topics", "half.json")), false);
        assert.equal(fs.readFileSync(path.join(dir, "half-3"), "utf8"), "not a directory", "left as it is");
        // The name is free: once the file is gone, the topic is created.
        fs.rmSync(path.join(dir, "half-3"));
        assert.equal((await log.createTopic("half", { partitions: 5 })).partitions, 5);
      } finally {
        await log.close();
      }
    });
  });

  test("a topic config that is a directory, and creating topics over entries that are not directories: typed errors only", async () => {
    await withTempDir(async (dir) => {
      const log = await open(dir, { retentionCheckIntervalMs: 0 });
      try {
        fs.mkdirSync(path.join(dir, ".topics", "cfg.json"));
        await typedOutcome(() => log.createTopic("cfg"));
        fs.writeFileSync(path.join(dir, "file-0"), "x");
        await typedOutcome(() => log.createTopic("file"));
        assert.equal(fs.readFileSync(path.join(dir, "file-0"), "utf8"), "x", "left as it is");
        await typedOutcome(() => Promise.resolve().then(() => log.topics()));
      } finally {
        await log.close();
      }
      await typedOutcome(async () => (await open(dir, { retentionCheckIntervalMs: 0 })).close());
    });
  });
});
