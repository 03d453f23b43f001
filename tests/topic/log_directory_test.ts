import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  DEFAULT_LOG_CONFIG,
  InvalidTopicError,
  MAX_TOPIC_NAME_LENGTH,
  open,
  StorageError,
  TopicExistsError,
  UnknownTopicOrPartitionError,
} from "../../mod.ts";
import { setFaultInjector } from "../../src/runtime/file_system.ts";
import { toArray } from "../_runtime.ts";

const decoder = new TextDecoder();

/** Runs `fn` with a fresh parent directory and a log directory inside it (not yet created). */
async function withTempDir<T>(fn: (logDir: string, parent: string) => Promise<T>): Promise<T> {
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), "reel-log-directory-"));
  try {
    return await fn(path.join(parent, "log"), parent);
  } finally {
    fs.rmSync(parent, { recursive: true, force: true });
  }
}

/** Every path under `root`, relative to it, sorted. */
function listTree(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const r = rel ? `${rel}/${entry.name}` : entry.name;
      out.push(r);
      if (entry.isDirectory()) walk(path.join(dir, entry.name), r);
    }
  };
  walk(root, "");
  return out.sort();
}

describe("LogDirectory", () => {
  test("open() creates a missing directory with no topics", async () => {
    await withTempDir(async (logDir) => {
      const log = await open(logDir);
      assert.ok(fs.statSync(logDir).isDirectory());
      assert.deepEqual(log.topics(), []);
      assert.equal(log.hasTopic("x"), false);
      await log.close();
    });
  });

  test("createTopic() makes one directory per partition; topics() lists the names sorted", async () => {
    await withTempDir(async (logDir) => {
      const log = await open(logDir);
      const b = await log.createTopic("beta", { partitions: 3 });
      const a = await log.createTopic("alpha");
      assert.equal(b.name, "beta");
      assert.equal(b.partitions, 3);
      assert.equal(a.partitions, 1, "one partition by default");
      assert.deepEqual(log.topics(), ["alpha", "beta"]);
      assert.ok(log.hasTopic("alpha") && log.hasTopic("beta"));
      assert.equal(log.topic("beta"), b);
      for (const dir of ["alpha-0", "beta-0", "beta-1", "beta-2"]) {
        assert.ok(fs.statSync(path.join(logDir, dir)).isDirectory(), dir);
        assert.ok(fs.readdirSync(path.join(logDir, dir)).includes("00000000000000000000.log"), dir);
      }
      assert.ok(!fs.existsSync(path.join(logDir, "beta-3")));
      await log.close();
    });
  });

  test("createTopic() and createPartitions() fsync every file and directory entry they make before they resolve", async () => {
    // A crash after they resolve finds each partition as it was made: its directory in the log
    // directory, partition.metadata (the topic ID) and the empty first segment inside it.
    await withTempDir(async (logDir) => {
      const log = await open(logDir);
      const id = (file: string | number) => {
        const st = typeof file === "number" ? fs.fstatSync(file) : fs.statSync(file);
        return `${st.dev}:${st.ino}`;
      };
      const syncedFiles = new Set<string>();
      const directorySyncs: { dir: string; entries: string[] }[] = [];
      setFaultInjector((op) => {
        if (op.op !== "synced") return undefined;
        if (op.path === undefined) syncedFiles.add(id(op.fd));
        else directorySyncs.push({ dir: id(op.path), entries: fs.readdirSync(op.path) });
        return undefined;
      });
      try {
        await log.createTopic("events", { partitions: 2 });
        await log.createPartitions("events", 3);
      } finally {
        setFaultInjector(undefined);
      }
      const covered = (dir: string, name: string) =>
        directorySyncs.some((s) => s.dir === id(dir) && s.entries.includes(name));
      for (let p = 0; p < 3; p++) {
        const partitionDir = path.join(logDir, `events-${p}`);
        assert.ok(covered(logDir, `events-${p}`), `events-${p} in the log directory`);
        const names = fs.readdirSync(partitionDir).sort();
        assert.deepEqual(names, [
          "00000000000000000000.index",
          "00000000000000000000.log",
          "00000000000000000000.timeindex",
          "partition.metadata",
        ]);
        for (const name of names) assert.ok(covered(partitionDir, name), `${name} in events-${p}`);
        assert.ok(
          syncedFiles.has(id(path.join(partitionDir, "partition.metadata"))),
          `events-${p}'s topic ID`,
        );
      }
      assert.ok(covered(path.join(logDir, ".topics"), "events.json"));
      assert.ok(syncedFiles.has(id(path.join(logDir, ".topics", "events.json"))));
      await log.close();
    });
  });

  test("deleteTopic() removes the topic, its partition directories and its config", async () => {
    await withTempDir(async (logDir) => {
      const log = await open(logDir);
      const doomed = await log.createTopic("doomed", { partitions: 2 });
      await doomed.append([{ value: "a" }, { value: "b" }]);
      await log.createTopic("kept");
      await log.deleteTopic("doomed");
      assert.deepEqual(log.topics(), ["kept"]);
      assert.equal(log.hasTopic("doomed"), false);
      assert.throws(() => log.topic("doomed"), UnknownTopicOrPartitionError);
      assert.deepEqual(fs.readdirSync(logDir).filter((n) => n.startsWith("doomed")), []);
      assert.deepEqual(
        fs.readdirSync(path.join(logDir, ".topics")).filter((n) => n.startsWith("doomed")),
        [],
      );
      await assert.rejects(log.deleteTopic("doomed"), UnknownTopicOrPartitionError);
      // The name is free again, and the new topic starts empty.
      const again = await log.createTopic("doomed", { partitions: 1 });
      assert.equal(again.describe()[0].logEndOffset, 0);
      await log.close();
      const reopened = await open(logDir);
      assert.deepEqual(reopened.topics(), ["doomed", "kept"]);
      assert.equal(reopened.topic("doomed").partitions, 1);
      await reopened.close();
    });
  });

  test("reopening finds every topic with its partitions, config and records", async () => {
    await withTempDir(async (logDir) => {
      const log = await open(logDir, { defaults: { segmentBytes: 4096 } });
      const events = await log.createTopic("events", {
        partitions: 4,
        config: { segmentBytes: 2048, indexIntervalBytes: 256, fsync: "always", retentionMs: 60_000 },
      });
      const plain = await log.createTopic("plain.v1_x-y");
      const meta = await events.append(
        Array.from({ length: 50 }, (_, i) => ({ key: `k${i % 7}`, value: `v${i}` })),
      );
      await plain.append([{ value: "only" }]);
      const describedBefore = events.describe();
      await log.close();

      const reopened = await open(logDir);
      assert.deepEqual(reopened.topics(), ["events", "plain.v1_x-y"]);
      const e = reopened.topic("events");
      assert.equal(e.partitions, 4);
      assert.equal(e.config.segmentBytes, 2048);
      assert.equal(e.config.indexIntervalBytes, 256);
      assert.equal(e.config.fsync, "always");
      assert.equal(e.config.retentionMs, 60_000);
      assert.equal(e.config.maxMessageBytes, DEFAULT_LOG_CONFIG.maxMessageBytes);
      assert.equal(
        reopened.topic("plain.v1_x-y").config.segmentBytes,
        4096,
        "the directory default applied at creation",
      );
      assert.deepEqual(e.describe(), describedBefore);
      assert.ok(e.logs.every((l) => l.loadReport.clean));
      const records = await toArray(e.readable());
      assert.equal(records.length, 50);
      for (const m of meta) {
        const r = records.find((x) => x.partition === m.partition && x.offset === m.offset);
        assert.ok(r);
      }
      const only = await toArray(reopened.topic("plain.v1_x-y").readable());
      assert.deepEqual(only.map((r) => decoder.decode(r.value!)), ["only"]);
      await reopened.close();
    });
  });

  test("open() leaves stray directories alone: the config file says how many partitions a topic has", async () => {
    await withTempDir(async (logDir) => {
      let log = await open(logDir);
      await (await log.createTopic("foo", { partitions: 3 })).append([{ value: "kept", partition: 2 }]);
      await log.close();
      // A directory past the topic's partitions, one far past them, and names that are no topic.
      for (const d of ["foo-7", "foo-99999", "backup-2024", "notes-1"]) fs.mkdirSync(path.join(logDir, d));
      const before = listTree(logDir);
      log = await open(logDir);
      try {
        assert.deepEqual(log.topics(), ["foo"]);
        assert.equal(log.topic("foo").partitions, 3);
        assert.equal(log.topic("foo").partition(2).logEndOffset, 1);
      } finally {
        await log.close();
      }
      assert.deepEqual(
        listTree(logDir).filter((f) => /^(foo-[79]|backup|notes)/.test(f)),
        before.filter((f) => /^(foo-[79]|backup|notes)/.test(f)),
        "nothing created or removed in the strays",
      );
    });
  });

  test("without its config file, a topic's partitions are its directories numbered from 0 with none missing", async () => {
    await withTempDir(async (logDir) => {
      let log = await open(logDir);
      await (await log.createTopic("bar", { partitions: 2 })).append([{ value: "b1", partition: 1 }]);
      await log.close();
      fs.rmSync(path.join(logDir, ".topics", "bar.json"));
      fs.mkdirSync(path.join(logDir, "bar-5"));
      log = await open(logDir);
      try {
        assert.equal(log.topic("bar").partitions, 2);
        assert.equal(log.topic("bar").partition(1).logEndOffset, 1);
      } finally {
        await log.close();
      }
    });
  });

  test("open() defaults apply to topics created without their own config", async () => {
    await withTempDir(async (logDir) => {
      const log = await open(logDir, { defaults: { segmentBytes: 3000, fsync: "never" } });
      const t = await log.createTopic("t", { config: { fsync: "always" } });
      assert.equal(t.config.segmentBytes, 3000);
      assert.equal(t.config.fsync, "always");
      await log.close();
    });
  });

  test("createTopic() throws TopicExistsError for an existing name, before and after a reopen", async () => {
    await withTempDir(async (logDir) => {
      const log = await open(logDir);
      await log.createTopic("dup", { partitions: 2 });
      await assert.rejects(log.createTopic("dup"), (err: unknown) => {
        assert.ok(err instanceof TopicExistsError);
        assert.equal(err.code, "TOPIC_ALREADY_EXISTS");
        assert.equal(err.topic, "dup");
        return true;
      });
      await log.close();
      const reopened = await open(logDir);
      await assert.rejects(reopened.createTopic("dup", { partitions: 5 }), TopicExistsError);
      assert.equal(reopened.topic("dup").partitions, 2);
      await reopened.close();
    });
  });

  test("invalid topic names throw InvalidTopicError and create nothing, inside or outside the directory", async () => {
    await withTempDir(async (logDir, parent) => {
      const log = await open(logDir);
      const before = listTree(parent);
      const bad = [
        "../x",
        "a/b",
        "",
        ".",
        "..",
        "x".repeat(MAX_TOPIC_NAME_LENGTH + 1),
        "x".repeat(250),
        "café",
        "topic\u00e9",
        "tópico",
        "名前",
        "a b",
        "a\\b",
        "a:b",
        "..\\..\\evil",
        "/abs",
        "a\u0000b",
        "emoji-\u{1f600}",
      ];
      for (const name of bad) {
        await assert.rejects(log.createTopic(name, { partitions: 2 }), (err: unknown) => {
          assert.ok(err instanceof InvalidTopicError, `${JSON.stringify(name)}: ${err}`);
          assert.equal(err.code, "INVALID_TOPIC_EXCEPTION");
          assert.equal(err.topic, name);
          return true;
        });
      }
      assert.deepEqual(listTree(parent), before, "nothing was created anywhere");
      assert.deepEqual(log.topics(), []);
      await log.close();
    });
  });

  test("a 249-character topic name is accepted, survives a reopen and can be deleted", async () => {
    await withTempDir(async (logDir) => {
      assert.equal(MAX_TOPIC_NAME_LENGTH, 249);
      const name = "a-b.C_9".repeat(36).slice(0, 249);
      assert.equal(name.length, 249);
      const log = await open(logDir);
      const topic = await log.createTopic(name, { partitions: 2 });
      await topic.append([{ value: "x", partition: 1 }]);
      await log.close();
      const reopened = await open(logDir);
      assert.deepEqual(reopened.topics(), [name]);
      assert.equal(reopened.topic(name).partitions, 2);
      assert.equal(reopened.topic(name).describe()[1].logEndOffset, 1);
      await reopened.deleteTopic(name);
      assert.deepEqual(reopened.topics(), []);
      assert.deepEqual(fs.readdirSync(logDir).filter((n) => n !== ".topics"), []);
      await reopened.close();
    });
  });

  test("topic() and partition() throw UnknownTopicOrPartitionError for what does not exist", async () => {
    await withTempDir(async (logDir) => {
      const log = await open(logDir);
      assert.throws(() => log.topic("nope"), (err: unknown) => {
        assert.ok(err instanceof UnknownTopicOrPartitionError);
        assert.equal(err.code, "UNKNOWN_TOPIC_OR_PARTITION");
        assert.equal(err.topic, "nope");
        assert.equal(err.partition, undefined);
        return true;
      });
      const t = await log.createTopic("t", { partitions: 2 });
      for (const p of [2, 99, -1, 1.5]) {
        assert.throws(() => t.partition(p), (err: unknown) => {
          assert.ok(err instanceof UnknownTopicOrPartitionError);
          assert.equal(err.topic, "t");
          assert.equal(err.partition, p);
          return true;
        });
      }
      assert.throws(() => t.readable({ partitions: 5 }), UnknownTopicOrPartitionError);
      await assert.rejects(t.append([{ value: "x", partition: 2 }]), UnknownTopicOrPartitionError);
      assert.equal(t.partition(1).partition, 1);
      await log.close();
    });
  });

  test("createTopic() throws RangeError for a bad partition count and creates nothing", async () => {
    await withTempDir(async (logDir) => {
      const log = await open(logDir);
      for (const partitions of [0, -1, 1.5, Number.NaN]) {
        await assert.rejects(log.createTopic("t", { partitions }), RangeError);
      }
      assert.deepEqual(log.topics(), []);
      assert.deepEqual(fs.readdirSync(logDir), [".topics"]);
      await log.close();
    });
  });

  test("using the directory after close() throws StorageError", async () => {
    await withTempDir(async (logDir) => {
      const log = await open(logDir);
      await log.createTopic("t");
      await log.close();
      await log.close(); // idempotent
      assert.throws(() => log.topic("t"), StorageError);
      await assert.rejects(log.createTopic("u"), StorageError);
    });
  });
});
