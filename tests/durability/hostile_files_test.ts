// Issue 10, failure 3 and the log half of failure 9: a symbolic link, a directory or a named pipe
// in the place of any file reel keeps (every segment's .log, .index and .timeindex, the
// checkpoints, the clean-shutdown marker, the published high watermark, the writer lock,
// partition.metadata, the topic's config, a group's committed offset) and a 2 GiB sparse index.
// In every case: opening, appending and reading either work or end in one of reel's typed errors;
// the entry is left as it was; a symbolic link's target outside the log directory is never
// written; no segment is deleted or cut.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, test } from "node:test";
import { Consumer, open, ReelError } from "../../mod.ts";
import { exercise, kindOf, makeLog, plant, POSITIONS, RECORDS, withPlantedEntry } from "./_hostile.ts";

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
        await withPlantedEntry(position, kind, async (dir) => {
          const { error, values } = await exercise(dir);
          return { errorMessage: error?.message, values: values?.length };
        });
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
