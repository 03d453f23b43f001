// Damage found after a clean close (issue 10, failures 1 and 2).
//
// A clean close leaves a marker that lets the next open scan nothing. Two ways that went wrong:
//
// 1. The writer appended after a damaged tail of the active segment without looking at it: the
//    appends were acknowledged, then the next recovery cut the log at the damage, took them away
//    and handed their offsets to other records. Now the writer checks the active segment's tail
//    when it takes the writer role: a torn tail (nothing valid after the damage) is cut as after
//    a crash, damage with valid batches after it is refused with CorruptRecordError (writes fail,
//    reads up to the damage work). Either way, an acknowledged record keeps its offset and its
//    bytes through any later crash, and no offset is acknowledged twice.
// 2. A sealed segment with a bad byte and no `.index` was "recovered" by cutting it at the bad
//    batch and deleting every later segment. Now damage in a sealed segment below the recovery
//    point never deletes or cuts anything: its index is rebuilt up to the damage, reads of the
//    damaged batch throw CorruptRecordError, every other record reads, and `reel verify` finds it.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import { CorruptRecordError, type LogConfig } from "../../mod.ts";
import { encodeRecordBatch } from "../../src/record/mod.ts";
import { PartitionLog } from "../../src/log/mod.ts";
import { resolveLogConfig } from "../../src/log/log_config.ts";
import { verifyPartition } from "../../src/cli/commands/verify.ts";
import {
  envInt,
  fcParams,
  fraction,
  scanValidBatches,
  segmentFiles,
  stress,
  withTempDir,
} from "./_helpers.ts";

const RUNS = envInt("REEL_CLEAN_DAMAGE_RUNS", 40);
const T0 = 1_700_000_000_000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function openLog(dir: string, config: Partial<LogConfig>, writer = true): PartitionLog {
  return PartitionLog.open(dir, "events", 0, resolveLogConfig(config), { writer });
}

function batch(label: string, count: number, ts: number): Uint8Array {
  return encodeRecordBatch(
    Array.from({ length: count }, (_, i) => ({
      key: encoder.encode(`k${i}`),
      value: encoder.encode(`${label}:${i}`),
      timestamp: ts + i,
    })),
  );
}

/** The value stored at `offset`, `CorruptRecordError` when reading it fails so, or `null` past the end. */
function readOffset(log: PartitionLog, offset: number): string | CorruptRecordError | null {
  try {
    const data = log.read(offset, 1);
    if (!data) return null;
    const record = log.decode(data, offset, offset + 1)[0];
    if (record === undefined) return null;
    assert.equal(record.offset, offset);
    return decoder.decode(record.value!);
  } catch (err) {
    if (err instanceof CorruptRecordError) return err;
    throw err;
  }
}

type Damage =
  | { kind: "zero-last-batch" }
  | { kind: "flip-byte"; at: number }
  | { kind: "overwrite-tail"; from: number; zeros: boolean }
  | { kind: "cut"; at: number };

const damageArb: fc.Arbitrary<Damage> = fc.oneof(
  fc.constant({ kind: "zero-last-batch" as const }),
  fraction.map((at) => ({ kind: "flip-byte" as const, at })),
  fc.record({ from: fraction, zeros: fc.boolean() }).map((d) => ({ kind: "overwrite-tail" as const, ...d })),
  fraction.map((at) => ({ kind: "cut" as const, at })),
);

/** Damages the active segment's `.log` (as a disk or an operator might); returns the first changed byte. */
function damage(file: string, d: Damage, lastBatchPosition: number): number {
  const bytes = new Uint8Array(fs.readFileSync(file));
  let first: number;
  switch (d.kind) {
    case "zero-last-batch":
      first = lastBatchPosition;
      bytes.fill(0, first);
      break;
    case "flip-byte":
      first = Math.floor(d.at * bytes.length);
      bytes[first] ^= 0xff;
      break;
    case "overwrite-tail":
      first = Math.floor(d.from * bytes.length);
      for (let i = first; i < bytes.length; i++) {
        bytes[i] = d.zeros ? 0 : bytes[i] ^ (((i * 7919) & 0xff) || 0x5a);
      }
      break;
    case "cut":
      first = Math.floor(d.at * bytes.length);
      fs.writeFileSync(file, bytes.subarray(0, first));
      return first;
  }
  fs.writeFileSync(file, bytes);
  return first;
}

describe("damage after a clean close", () => {
  test(
    "1. appends after a damaged active segment are never lost by a later crash, and no offset is acknowledged twice",
    { timeout: stress(600_000) },
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 3, maxLength: 25 }),
          damageArb,
          fc.integer({ min: 1, max: 5 }),
          fc.constantFrom("always" as const, "never" as const),
          async (counts, d, extra, fsync) => {
            await withTempDir("clean-tail", async (root) => {
              const dir = path.join(root, "events-0");
              const config = { segmentBytes: 2048, indexIntervalBytes: 150, fsync };
              let log = openLog(dir, config);
              const stored = new Map<number, string>();
              for (let i = 0; i < counts.length; i++) {
                const info = await log.append(batch(`a${i}`, counts[i], T0 + i * 10));
                for (let j = 0; j < counts[i]; j++) stored.set(info.baseOffset + j, `a${i}:${j}`);
              }
              await log.close();
              const active = segmentFiles(dir).at(-1)!;
              const activeBase = Number(path.basename(active).slice(0, 20));
              const batches = scanValidBatches(new Uint8Array(fs.readFileSync(active)), activeBase);
              if (batches.length === 0) return; // a roll left the active segment empty: nothing to damage
              const firstChanged = damage(active, d, batches.at(-1)!.position);
              // Records in batches wholly before the damage are intact and stay readable.
              const intact = batches.filter((b) => b.position + b.size <= firstChanged);
              const intactEnd = intact.length > 0 ? intact.at(-1)!.lastOffset + 1 : activeBase;

              log = openLog(dir, config);
              const acked = new Map<number, string>();
              let refused: unknown;
              for (let i = 0; i < extra; i++) {
                try {
                  const info = await log.append(batch(`b${i}`, 2, T0 + 10_000 + i));
                  for (let j = 0; j < 2; j++) {
                    assert.ok(
                      !acked.has(info.baseOffset + j),
                      `offset ${info.baseOffset + j} acknowledged twice`,
                    );
                    acked.set(info.baseOffset + j, `b${i}:${j}`);
                  }
                } catch (err) {
                  refused = err;
                  break;
                }
              }
              if (refused !== undefined) {
                assert.ok(refused instanceof CorruptRecordError, `refused with ${refused}`);
                assert.equal(acked.size, 0, "a refusing log refuses from its first append");
              }
              for (let o = 0; o < intactEnd; o++) {
                assert.equal(readOffset(log, o), stored.get(o), `offset ${o}`);
              }
              log.abandon(); // a crash

              for (const writer of [false, true]) {
                const reopened = openLog(dir, config, writer);
                try {
                  for (let o = 0; o < intactEnd; o++) {
                    assert.equal(readOffset(reopened, o), stored.get(o), `offset ${o} after the crash`);
                  }
                  for (const [o, value] of acked) {
                    assert.equal(readOffset(reopened, o), value, `acknowledged offset ${o} after the crash`);
                  }
                  if (writer && refused === undefined) {
                    const next = await reopened.append(batch("c", 1, T0 + 20_000));
                    for (const o of acked.keys()) {
                      assert.ok(next.baseOffset > o, `offset ${o} assigned again`);
                    }
                  }
                } finally {
                  await reopened.close();
                }
              }
            });
          },
        ),
        fcParams(RUNS),
      );
    },
  );

  test("1. a byte flipped in the middle of the active segment after a clean close refuses appends with CorruptRecordError; reads up to it work", async () => {
    await withTempDir("clean-middle", async (root) => {
      const dir = path.join(root, "events-0");
      const config = { segmentBytes: 1 << 20, indexIntervalBytes: 100, fsync: "always" as const };
      let log = openLog(dir, config);
      for (let i = 0; i < 10; i++) await log.append(batch(`a${i}`, 1, T0 + i));
      await log.close();
      const file = segmentFiles(dir)[0];
      const batches = scanValidBatches(new Uint8Array(fs.readFileSync(file)), 0);
      const bytes = new Uint8Array(fs.readFileSync(file));
      bytes[batches[8].position + batches[8].size - 1] ^= 1; // batch 8's records: its CRC fails
      fs.writeFileSync(file, bytes);
      for (let round = 0; round < 2; round++) {
        log = openLog(dir, config);
        await assert.rejects(log.append(batch("x", 1, T0 + 100)), (err: unknown) => {
          assert.ok(err instanceof CorruptRecordError);
          assert.equal(err.segment, file);
          assert.equal(err.position, batches[8].position);
          return true;
        });
        assert.equal(log.logEndOffset, 10, "the log end offset is where the clean close left it");
        for (let o = 0; o < 8; o++) assert.equal(readOffset(log, o), `a${o}:0`);
        assert.ok(readOffset(log, 8) instanceof CorruptRecordError);
        assert.equal(readOffset(log, 9), "a9:0", "the batch after the damage still reads");
        if (round === 0) log.abandon();
        else await log.close();
      }
      assert.equal(fs.statSync(file).size, bytes.length, "nothing was cut");
    });
  });

  test(
    "2. damage in a sealed segment with a missing or damaged index deletes and cuts nothing; reads and verify report it",
    { timeout: stress(600_000) },
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: 1_000_000 }),
          fraction,
          fc.constantFrom("deleted", "emptied", "odd length"),
          fc.boolean(),
          fc.boolean(),
          async (segmentPick, bytePick, indexDamage, writer, timeIndexToo) => {
            await withTempDir("clean-sealed", async (root) => {
              const dir = path.join(root, "events-0");
              const config = { segmentBytes: 1200, indexIntervalBytes: 100, fsync: "never" as const };
              let log = openLog(dir, config);
              const stored: string[] = [];
              for (let i = 0; i < 60; i++) {
                const count = 1 + (i % 3);
                await log.append(batch(`a${i}`, count, T0 + i * 10));
                for (let j = 0; j < count; j++) stored.push(`a${i}:${j}`);
              }
              await log.close();
              const files = segmentFiles(dir);
              assert.ok(files.length >= 4);
              const victim = files[segmentPick % (files.length - 1)]; // any sealed segment
              const victimBase = Number(path.basename(victim).slice(0, 20));
              const bytes = new Uint8Array(fs.readFileSync(victim));
              const at = Math.floor(bytePick * bytes.length);
              bytes[at] ^= 0xff;
              fs.writeFileSync(victim, bytes);
              const index = victim.replace(/\.log$/, ".index");
              if (indexDamage === "deleted") fs.rmSync(index);
              else if (indexDamage === "emptied") fs.writeFileSync(index, new Uint8Array(0));
              else fs.appendFileSync(index, new Uint8Array([1, 2, 3]));
              if (timeIndexToo) fs.rmSync(victim.replace(/\.log$/, ".timeindex"));
              const sizes = files.map((f) => fs.statSync(f).size);
              const original = scanValidBatches(bytes, victimBase);
              const damagedBatch = original.length; // the first batch that no longer decodes

              log = openLog(dir, config, writer);
              try {
                assert.deepEqual(segmentFiles(dir), files, "no segment deleted");
                assert.deepEqual(files.map((f) => fs.statSync(f).size), sizes, "no segment cut");
                assert.equal(log.logEndOffset, stored.length);
                for (let o = 0; o < stored.length; o++) {
                  const got = readOffset(log, o);
                  const inVictim = o >= victimBase && files.indexOf(victim) + 1 < files.length &&
                    o < Number(path.basename(files[files.indexOf(victim) + 1]).slice(0, 20));
                  const beforeDamage = damagedBatch > 0 && o <= original[damagedBatch - 1].lastOffset;
                  if (!inVictim || beforeDamage) assert.equal(got, stored[o], `offset ${o}`);
                  else if (!(got instanceof CorruptRecordError)) assert.equal(got, stored[o], `offset ${o}`);
                }
                const info = await log.append(batch("next", 1, T0 + 100_000));
                assert.equal(info.baseOffset, stored.length, "appends carry on at the log end offset");
              } finally {
                await log.close();
              }
              assert.deepEqual(segmentFiles(dir), files, "no segment deleted by the close");
              // (A flipped partitionLeaderEpoch, outside the CRC, damages nothing a read checks.)
              const damaged = original.length === 0 ||
                original.at(-1)!.position + original.at(-1)!.size < bytes.length;
              if (damaged) {
                const report = verifyPartition(dir, "events", 0);
                assert.ok(
                  report.problems.some((p) => p.includes(path.basename(victim))),
                  `verify names ${path.basename(victim)}: ${report.problems.join("; ")}`,
                );
              }
            });
          },
        ),
        fcParams(RUNS),
      );
    },
  );
});
