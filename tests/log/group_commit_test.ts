// Group commit under fsync "always": a producer appending alone gets a round (an fdatasync) per
// append without waiting for company, and producers that join it, at once or later, through
// shallow or deep promise chains, still share their fdatasyncs.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { open } from "../../mod.ts";
import { setFaultInjector } from "../../src/runtime/file_system.ts";

describe("group commit", () => {
  test("a lone producer's rounds, then producers joining it, share fdatasyncs as before", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-group-commit-"));
    let syncs = 0;
    setFaultInjector((op) => {
      if (op.op === "sync") syncs++;
      return undefined;
    });
    const log = await open(dir, { defaults: { fsync: "always" } });
    try {
      const topic = await log.createTopic("t");
      const value = new Uint8Array(100);
      /** An append behind `depth` more async functions: a producer's own layers of promises. */
      const append = async (depth: number): Promise<unknown> =>
        depth === 0 ? topic.append([{ value }]) : await append(depth - 1);
      const alone = async (count: number) => {
        syncs = 0;
        for (let i = 0; i < count; i++) await append(0);
        assert.ok(syncs <= count, `alone: ${syncs} fdatasyncs for ${count} appends`);
      };
      await alone(300); // long enough for the rounds to stop gathering
      for (const depth of [0, 3, 8]) {
        for (const producers of [2, 4]) {
          syncs = 0;
          await Promise.all(Array.from({ length: producers }, async () => {
            for (let i = 0; i < 200; i++) await append(depth);
          }));
          const perAppend = syncs / (producers * 200);
          assert.ok(perAppend <= 1.2 / producers, `${producers} producers at depth ${depth}: ${perAppend}`);
        }
        await alone(300);
        // A second producer that starts while the first appends alone, one chain deeper.
        let before = 0;
        let second: Promise<void> | undefined;
        syncs = 0;
        for (let i = 0; i < 400; i++) {
          if (i === 100) {
            before = syncs;
            second = (async () => {
              for (let j = 0; j < 300; j++) await append(depth + 2);
            })();
          }
          await append(depth);
        }
        await second;
        const shared = (syncs - before) / 600;
        assert.ok(
          shared <= 0.6,
          `a producer joining a lone one at depth ${depth}: ${shared} fdatasyncs per append`,
        );
      }
      assert.equal(topic.partition(0).logEndOffset, 300 * 4 + 3 * (200 * 2 + 200 * 4 + 400 + 300));
    } finally {
      setFaultInjector(undefined);
      await log.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
