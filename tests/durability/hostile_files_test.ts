// Issue 10, failure 3 and the log half of failure 9: a symbolic link, a directory or a named pipe
// in the place of any file reel keeps (every segment's .log, .index and .timeindex, the
// checkpoints, the clean-shutdown marker, the published high watermark, the writer lock,
// partition.metadata, the topic's config, a group's committed offset) and a 2 GiB sparse index.
// In every case: opening, appending and reading either work or end in one of reel's typed errors;
// the entry is left as it was; a symbolic link's target outside the log directory is never
// written; no segment is deleted or cut.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, test } from "node:test";
import { Consumer, open, ReelError } from "../../mod.ts";

const RECORDS = 30;

/** A partition of 3+ segments, a group's committed offset, closed cleanly. Returns the partition's directory. */
async function makeLog(dir: string): Promise<string> {
  const log = await open(dir);
  const topic = await log.createTopic("t", { config: { segmentBytes: 1024 } });
  for (let i = 0; i < RECORDS; i += 10) {
    await topic.append(Array.from({ length: 10 }, (_, j) => ({ value: `${"v".repeat(60)}${i + j}` })));
  }
  const consumer = new Consumer(log, { groupId: "g" });
  await consumer.commit([{ topic: "t", partition: 0, offset: 5 }]);
  await consumer.close();
  await log.close();
  return path.join(dir, "t-0");
}

type Kind = "symlink" | "directory" | "fifo";

/** Puts an entry of `kind` at `entry` (replacing what was there); a symlink points at `target`. */
function plant(entry: string, kind: Kind, target: string): void {
  fs.rmSync(entry, { force: true, recursive: true });
  if (kind === "symlink") fs.symlinkSync(target, entry);
  else if (kind === "directory") fs.mkdirSync(entry);
  else assert.equal(spawnSync("mkfifo", [entry]).status, 0, "mkfifo");
}

function kindOf(entry: string): string {
  const s = fs.lstatSync(entry);
  return s.isSymbolicLink() ? "symlink" : s.isDirectory() ? "directory" : s.isFIFO() ? "fifo" : "file";
}

/** Every .log file's bytes, by name. */
function segments(partitionDir: string): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const name of fs.readdirSync(partitionDir).filter((n) => n.endsWith(".log")).sort()) {
    const p = path.join(partitionDir, name);
    if (fs.lstatSync(p).isFile()) out.set(name, new Uint8Array(fs.readFileSync(p)));
  }
  return out;
}

/** Opens, appends one record, reads everything, closes; any error must be one of reel's. */
async function exercise(dir: string): Promise<{ error?: ReelError; values?: string[] }> {
  let log;
  try {
    log = await open(dir);
    const topic = log.topic("t");
    await topic.append([{ value: "after" }]);
    const values: string[] = [];
    for await (const r of topic.readable()) values.push(new TextDecoder().decode(r.value!));
    const consumer = new Consumer(log, { groupId: "g" });
    consumer.committed({ topic: "t", partition: 0 });
    await consumer.close();
    await log.close();
    return { values };
  } catch (err) {
    await log?.close().catch(() => {});
    if (!(err instanceof ReelError)) throw err;
    return { error: err };
  }
}

const POSITIONS: { name: string; entry: (dir: string, partitionDir: string) => string }[] = [
  { name: "the first (sealed) segment's .log", entry: (_, p) => path.join(p, "00000000000000000000.log") },
  {
    name: "the active segment's .log",
    entry: (_, p) => path.join(p, fs.readdirSync(p).filter((n) => n.endsWith(".log")).sort().at(-1)!),
  },
  { name: "a sealed segment's .index", entry: (_, p) => path.join(p, "00000000000000000000.index") },
  { name: "a sealed segment's .timeindex", entry: (_, p) => path.join(p, "00000000000000000000.timeindex") },
  {
    name: "the active segment's .index",
    entry: (_, p) => path.join(p, fs.readdirSync(p).filter((n) => n.endsWith(".index")).sort().at(-1)!),
  },
  {
    name: "recovery-point-offset-checkpoint",
    entry: (_, p) => path.join(p, "recovery-point-offset-checkpoint"),
  },
  { name: "log-start-offset-checkpoint", entry: (_, p) => path.join(p, "log-start-offset-checkpoint") },
  { name: ".kafka_cleanshutdown", entry: (_, p) => path.join(p, ".kafka_cleanshutdown") },
  { name: ".high-watermark", entry: (_, p) => path.join(p, ".high-watermark") },
  { name: "the writer lock .lock", entry: (_, p) => path.join(p, ".lock") },
  { name: "partition.metadata", entry: (_, p) => path.join(p, "partition.metadata") },
  { name: "the topic's config .topics/t.json", entry: (d) => path.join(d, ".topics", "t.json") },
  { name: "a committed offset", entry: (d) => path.join(d, ".groups", "g", "offsets", "t", "0.json") },
];

describe("hostile files in the log directory (issue 10, failures 3 and 9)", () => {
  // A group's state.json: a subscribed consumer's poll reports it. (Not a named pipe here: while a
  // consumer watches the group's directory, Deno's file watcher thread opens a new entry to look at
  // it, and a pipe with no writer blocks that thread for good; reel checks with lstat before it
  // watches, but cannot stop the watcher thread of another consumer in the same process.)
  for (const kind of ["symlink", "directory"] as const) {
    test(`${kind} as a group's state.json: poll() ends in StorageError naming it, and it is left alone`, async () => {
      const sandbox = fs.mkdtempSync(path.join(os.tmpdir(), "reel-hostile-"));
      try {
        const dir = path.join(sandbox, "log");
        let log = await open(dir);
        await log.createTopic("t");
        let consumer = new Consumer(log, { groupId: "g" });
        consumer.subscribe(["t"]);
        await consumer.poll({ timeoutMs: 10 });
        await consumer.close();
        await log.close();
        const entry = path.join(dir, ".groups", "g", "state.json");
        const target = path.join(sandbox, "outside");
        fs.copyFileSync(entry, target);
        const targetBytes = fs.readFileSync(target);
        plant(entry, kind, target);
        log = await open(dir);
        consumer = new Consumer(log, { groupId: "g" });
        consumer.subscribe(["t"]);
        await assert.rejects(consumer.poll({ timeoutMs: 10 }), (err: Error) => {
          assert.ok(err instanceof ReelError && err.code === "KAFKA_STORAGE_ERROR", String(err));
          assert.match(err.message, /state\.json/);
          return true;
        });
        await consumer.close().catch(() => {});
        await log.close();
        assert.equal(kindOf(entry), kind);
        assert.deepEqual(fs.readFileSync(target), targetBytes);
      } finally {
        fs.rmSync(sandbox, { recursive: true, force: true });
      }
    });
  }

  for (const position of POSITIONS) {
    for (const kind of ["symlink", "directory", "fifo"] as const) {
      test(`${kind} as ${position.name}: a typed error or a working log; nothing followed, cut or deleted`, async () => {
        const sandbox = fs.mkdtempSync(path.join(os.tmpdir(), "reel-hostile-"));
        try {
          const dir = path.join(sandbox, "log");
          const partitionDir = await makeLog(dir);
          const entry = position.entry(dir, partitionDir);
          // The target outside the log directory: a copy of what was there (or a small file).
          const target = path.join(sandbox, "outside");
          if (fs.existsSync(entry)) fs.copyFileSync(entry, target);
          else fs.writeFileSync(target, "outside the log directory\n");
          const targetBytes = fs.readFileSync(target);
          plant(entry, kind, target);
          const before = segments(partitionDir);

          const { error, values } = await exercise(dir);

          assert.equal(kindOf(entry), kind, "the entry is left as it was");
          assert.deepEqual(
            fs.readFileSync(target),
            targetBytes,
            "nothing is written through a symbolic link",
          );
          const after = segments(partitionDir);
          for (const [name, bytes] of before) {
            assert.ok(after.has(name), `${name} is still there`);
            assert.deepEqual(after.get(name)!.subarray(0, bytes.length), bytes, `${name} is not cut`);
          }
          if (error) {
            assert.match(
              error.message,
              new RegExp(path.basename(entry).replace(/\./g, "\\.")),
              "the error names the entry",
            );
          } else {
            // Only an entry reel can do without may be ignored: every record is still there.
            assert.equal(values!.length, RECORDS + 1);
          }
        } finally {
          fs.rmSync(sandbox, { recursive: true, force: true });
        }
      });
    }
  }

  test("a 2 GiB sparse .index is rebuilt, not read into memory; every record reads back", async () => {
    const sandbox = fs.mkdtempSync(path.join(os.tmpdir(), "reel-hostile-"));
    try {
      const dir = path.join(sandbox, "log");
      const partitionDir = await makeLog(dir);
      for (const name of ["00000000000000000000.index", "00000000000000000000.timeindex"]) {
        const fd = fs.openSync(path.join(partitionDir, name), "r+");
        fs.ftruncateSync(fd, 2 ** 31);
        fs.closeSync(fd);
      }
      // A clean shutdown marker says nothing about indexes; remove it so that recovery runs too.
      const { error, values } = await exercise(dir);
      assert.equal(error, undefined, String(error));
      assert.equal(values!.length, RECORDS + 1);
      assert.ok(fs.statSync(path.join(partitionDir, "00000000000000000000.index")).size < 2 ** 20);
    } finally {
      fs.rmSync(sandbox, { recursive: true, force: true });
    }
  });
});
