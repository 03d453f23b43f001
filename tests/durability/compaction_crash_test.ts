// A real crash test of compaction: a child process (_compaction_child.ts) appends keyed records
// with fsync "always" and compacts its partition every 40 appends; the parent kills it with
// SIGKILL at random moments, often in the middle of a cleaning round, reopens the partition, and
// checks that no .cleaned, .swap or .deleted file is left, that offsets increase, that every record
// read is the one acknowledged at its offset, and that every key's last acknowledged value is
// still its last value (a tombstone may have gone: deleteRetentionMs is 0). Each round continues
// the same directory.
//
// REEL_COMPACTION_CRASH_ROUNDS sets the number of rounds (default 10, times REEL_STRESS);
// REEL_CRASH_SEED replays a run.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { PartitionLog } from "../../src/log/mod.ts";
import { resolveLogConfig } from "../../src/log/log_config.ts";
import { verifyPartition } from "../../src/cli/commands/verify.ts";
import {
  envInt,
  envRounds,
  prng,
  readLog,
  ROOT,
  RUNTIME,
  runtimeCommand,
  spawnLines,
  withTempDir,
} from "./_helpers.ts";

const ROUNDS = envRounds("REEL_COMPACTION_CRASH_ROUNDS", 10);
const SEED = envInt("REEL_CRASH_SEED", Math.floor(Math.random() * 2 ** 31));
const CHILD = path.join(ROOT, "tests", "durability", "_compaction_child.ts");
const decoder = new TextDecoder();

describe(`compaction under SIGKILL (${RUNTIME})`, () => {
  test(
    `every key keeps its last acknowledged value through ${ROUNDS} kills, many of them mid-clean`,
    { timeout: 60_000 + ROUNDS * 15_000 },
    async () => {
      await withTempDir("compaction-crash", async (dir) => {
        const random = prng(SEED);
        /** What was acknowledged, by offset: key and value ("-" for a tombstone). */
        const acked = new Map<number, [string, string]>();
        let midClean = 0, swaps = 0, otherLeftovers = 0;
        for (let round = 0; round < ROUNDS; round++) {
          const where = `seed ${SEED}, round ${round}`;
          const target = 50 + Math.floor(random() * 200);
          const [cmd, args] = runtimeCommand(CHILD, [dir, String(SEED + round), String(target)]);
          const child = spawnLines(cmd, args);
          let acks = 0;
          let killed = false;
          let killAtOp: number | undefined;
          let opsSeen = 0;
          for (;;) {
            const line = await child.nextLine();
            if (line === null) break;
            if (killed) continue;
            if (line === "clean") {
              // Kill before the k-th file operation of the round (the child waits there).
              if (acks >= target && random() < 0.75) killAtOp = Math.floor(random() * 30);
              opsSeen = 0;
              continue;
            }
            if (line.startsWith("op ")) {
              if (killAtOp !== undefined && opsSeen++ === killAtOp) {
                child.child.kill("SIGKILL");
                killed = true;
                midClean++;
              }
              continue;
            }
            if (killAtOp !== undefined) {
              // The round ended before that operation: kill now, after it.
              child.child.kill("SIGKILL");
              killed = true;
              continue;
            }
            const m = /^ack (\d+) (\S+) (\S+)$/.exec(line);
            assert.ok(m, `${where}: unexpected line from the child: ${line}`);
            acked.set(Number(m[1]), [m[2], m[3]]);
            if (++acks >= target + 60) {
              child.child.kill("SIGKILL");
              killed = true;
            }
          }
          const { signal, stderr } = await child.exited;
          assert.equal(signal, "SIGKILL", `${where}: ${stderr}`);

          const partitionDir = path.join(dir, "t-0");
          const leftovers = fs.readdirSync(partitionDir).filter((n) => /\.(cleaned|swap|deleted)$/.test(n));
          if (leftovers.some((n) => n.endsWith(".swap"))) swaps++;
          else if (leftovers.length > 0) otherLeftovers++;
          const log = PartitionLog.open(
            partitionDir,
            "t",
            0,
            resolveLogConfig({ segmentBytes: 2048, cleanupPolicy: "compact" }),
          );
          try {
            assert.deepEqual(
              fs.readdirSync(partitionDir).filter((n) => /\.(cleaned|swap|deleted)$/.test(n)),
              [],
              where,
            );
            const records = readLog(log);
            let previous = -1;
            const last = new Map<string, number>();
            for (const r of records) {
              assert.ok(r.offset > previous, `${where}: offset ${r.offset} after ${previous}`);
              previous = r.offset;
              const key = decoder.decode(r.key!);
              const value = r.value === null ? "-" : decoder.decode(r.value);
              const a = acked.get(r.offset);
              if (a) assert.deepEqual([key, value], a, `${where}: offset ${r.offset}`);
              last.set(key, r.offset);
            }
            const lastAcked = new Map<string, number>();
            for (const [offset, [key]] of [...acked].sort((x, y) => x[0] - y[0])) lastAcked.set(key, offset);
            for (const [key, offset] of lastAcked) {
              const found = last.get(key);
              if (acked.get(offset)![1] === "-" && (found === undefined || found === offset)) continue;
              assert.ok(
                found !== undefined && found >= offset,
                `${where}: ${key}'s last value (offset ${offset}) is gone`,
              );
            }
          } finally {
            await log.close();
          }
          assert.deepEqual(verifyPartition(partitionDir, "t", 0).problems, [], `${where}: reel verify`);
        }
        console.log(
          `compaction crash test: ${ROUNDS} rounds, ${midClean} killed mid-clean (${swaps} with a .swap to complete, ${otherLeftovers} with other leftovers), ${acked.size} acknowledged`,
        );
      });
    },
  );
});
