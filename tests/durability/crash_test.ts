// A real crash test: a child process on this runtime (crash_child.ts) appends with fsync "always"
// from three concurrent producers and prints every acknowledged record; the parent kills it with
// SIGKILL after a random number of acknowledgements, reopens the log directory, and checks that
// every acknowledged record is there, byte for byte, at its offset, with offsets dense from 0 and
// what the previous rounds recovered still in place. Each round continues the same directory, so
// later rounds recover logs that earlier rounds recovered.
//
// REEL_CRASH_ROUNDS sets the number of rounds (default 20, times REEL_STRESS); REEL_CRASH_SEED replays a run.
// At the end it prints: crash test: N rounds, N records acknowledged, N recovered

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { type ConsumedRecord, open } from "../../mod.ts";
import { verifyLogDirectory } from "../../src/cli/commands/verify.ts";
import {
  envInt,
  envRounds,
  prng,
  recordHash,
  ROOT,
  RUNTIME,
  runtimeCommand,
  spawnLines,
  withTempDir,
} from "./_helpers.ts";

const ROUNDS = envRounds("REEL_CRASH_ROUNDS", 20);
const SEED = envInt("REEL_CRASH_SEED", Math.floor(Math.random() * 2 ** 31));
const CHILD = path.join(ROOT, "tests", "durability", "crash_child.ts");
const PARTITIONS = 3;

/** Opens the directory once (recovering it), reads every partition, closes it. */
async function recoverAndRead(dir: string): Promise<{ records: ConsumedRecord[][]; truncatedBytes: number }> {
  const log = await open(dir);
  try {
    const topic = log.topic("crash");
    const truncatedBytes = topic.logs.reduce((n, l) => n + l.loadReport.truncatedBytes, 0);
    const records: ConsumedRecord[][] = [];
    for (let p = 0; p < topic.partitions; p++) {
      const out: ConsumedRecord[] = [];
      for await (const r of topic.readable({ partitions: p, from: "earliest" })) out.push(r);
      records.push(out);
    }
    return { records, truncatedBytes };
  } finally {
    await log.close();
  }
}

describe(`crash recovery with SIGKILL (${RUNTIME})`, () => {
  test(
    `every acknowledged record survives ${ROUNDS} rounds of SIGKILL at random moments, byte for byte and in order`,
    { timeout: 60_000 + ROUNDS * 10_000 },
    async () => {
      await withTempDir("crash", async (dir) => {
        const random = prng(SEED);
        /** Per partition: the hash of each record the parent knows to be in the log, by offset. */
        const known: string[][] = Array.from({ length: PARTITIONS }, () => []);
        let acknowledged = 0;
        let tornTails = 0;
        let truncatedBytes = 0;
        for (let round = 0; round < ROUNDS; round++) {
          const where = `seed ${SEED}, round ${round}`;
          const target = 1 + Math.floor(random() * (random() < 0.3 ? 20 : 400));
          const [cmd, args] = runtimeCommand(CHILD, ["crash", dir, String(SEED + round)]);
          const child = spawnLines(cmd, args);
          const acks: { partition: number; offset: number; hash: string }[] = [];
          let killed = false;
          for (;;) {
            const line = await child.nextLine();
            if (line === null) break;
            const m = /^ack (\d+) (\d+) ([0-9a-f]{16})$/.exec(line);
            assert.ok(m, `${where}: unexpected line from the child: ${line}`);
            acks.push({ partition: Number(m[1]), offset: Number(m[2]), hash: m[3] });
            if (!killed && acks.length >= target) {
              child.child.kill("SIGKILL");
              killed = true;
            }
          }
          const { code, signal, stderr } = await child.exited;
          assert.equal(
            signal,
            "SIGKILL",
            `${where}: the child ended with code ${code}, signal ${signal}: ${stderr}`,
          );

          // Every acknowledgement names a new offset; none contradicts what is known.
          for (const a of acks) {
            const prior = known[a.partition][a.offset];
            assert.equal(
              prior,
              undefined,
              `${where}: offset ${a.offset} of partition ${a.partition} acknowledged twice`,
            );
          }
          const recovery = await recoverAndRead(dir);
          if (recovery.truncatedBytes > 0) tornTails++;
          truncatedBytes += recovery.truncatedBytes;
          for (let p = 0; p < PARTITIONS; p++) {
            const records = recovery.records[p];
            const before = known[p];
            // Offsets dense from 0.
            records.forEach((r, i) =>
              assert.equal(r.offset, i, `${where}: partition ${p} offsets are not dense`)
            );
            const hashes = records.map((r) => recordHash(r));
            // What earlier rounds recovered is still there, unchanged.
            assert.ok(
              hashes.length >= before.length,
              `${where}: partition ${p} lost records of earlier rounds`,
            );
            for (let o = 0; o < before.length; o++) {
              assert.equal(
                hashes[o],
                before[o],
                `${where}: partition ${p} offset ${o} changed after recovery`,
              );
            }
            // Every record acknowledged this round is there, byte for byte.
            for (const a of acks.filter((a) => a.partition === p)) {
              assert.ok(
                a.offset < hashes.length,
                `${where}: acknowledged offset ${a.offset} of partition ${p} is lost (log end ${hashes.length})`,
              );
              assert.equal(
                hashes[a.offset],
                a.hash,
                `${where}: partition ${p} offset ${a.offset} differs from what was acknowledged`,
              );
            }
            known[p] = hashes;
          }
          acknowledged += acks.length;
          // After the parent's clean close every batch and index checks out.
          for (const report of verifyLogDirectory(dir)) {
            assert.deepEqual(
              report.problems,
              [],
              `${where}: reel verify on ${report.topic}-${report.partition}`,
            );
          }
        }
        const recovered = known.reduce((n, p) => n + p.length, 0);
        assert.ok(recovered >= acknowledged);
        console.log(
          `crash test: ${ROUNDS} rounds, ${acknowledged} records acknowledged, ${recovered} recovered ` +
            `(${RUNTIME}, seed ${SEED}; ${
              recovered - acknowledged
            } more written but not yet acknowledged when killed; ` +
            `${tornTails} rounds cut a torn tail, ${truncatedBytes} bytes in all)`,
        );
      });
    },
  );
});
