// A model-based property test of log compaction: random appends over a small key space (with
// tombstones, and records without keys, which a compacted log refuses), rolls, compactions (some failing at a random file
// operation, as a crash mid-clean would), crashes and clean reopens. After every step the log is
// read whole and checked against the model: every key's last value, every record at or past the
// furthest cleaner point untouched, offsets increasing, gaps only where compaction may remove
// records, and tombstones gone neither before their delete horizon (KIP-534: the first round
// that rewrites a tombstone's batch sets it to that round's time + deleteRetentionMs) nor after a
// successful round at or past it.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { encodeRecordBatch, type Record } from "../../src/record/mod.ts";
import { PartitionLog } from "../../src/log/mod.ts";
import type { CleanerStats } from "../../src/log/log_cleaner.ts";
import { InvalidRecordError } from "../../src/errors.ts";
import { resolveLogConfig } from "../../src/log/log_config.ts";
import { fcParams, stress } from "../durability/_helpers.ts";
import { type FileOperation, setFaultInjector } from "../../src/runtime/file_system.ts";

const T0 = 1_700_000_000_000;
const RETENTION = 1000; // deleteRetentionMs
const encoder = new TextEncoder();
const decoder = new TextDecoder();

type Action =
  | { kind: "append"; records: { key: number | null; tombstone: boolean }[] }
  | { kind: "roll" }
  | { kind: "tick"; ms: number }
  | { kind: "compact"; failAt: number | null }
  | { kind: "crash" }
  | { kind: "reopen" };

const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant("append" as const),
      records: fc.array(
        fc.record({
          key: fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 0, max: 4 }) }, {
            weight: 1,
            arbitrary: fc.constant(null),
          }),
          tombstone: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
        }),
        { minLength: 1, maxLength: 3 },
      ),
    }),
  },
  { weight: 4, arbitrary: fc.constant({ kind: "roll" as const }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("tick" as const), ms: fc.integer({ min: 1, max: 800 }) }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("compact" as const),
      failAt: fc.option(fc.integer({ min: 0, max: 40 }), { freq: 2 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "crash" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "reopen" as const }) },
);

interface ModelRecord {
  offset: number;
  key: string | null;
  value: string | null;
  timestamp: number;
}

function readAll(log: PartitionLog): Record[] {
  const out: Record[] = [];
  let offset = log.logStartOffset;
  let cursor;
  for (;;) {
    const data = log.read(offset, 512, cursor);
    if (!data) break;
    out.push(...log.decode(data, offset));
    assert.ok(data.next.offset > offset);
    offset = data.next.offset;
    cursor = data.next;
  }
  return out;
}

/**
 * When tombstones may go (KIP-534): a tombstone's batch gets its delete horizon, now +
 * deleteRetentionMs, at the first round that rewrites it, and a round at or past the horizon
 * drops it. A round that failed midway may or may not have rewritten a given group.
 */
interface Horizons {
  /** Per offset: the time of the first round that covered it (failed or not): the horizon is at least this + RETENTION. */
  earliest: Map<number, number>;
  /** Per offset: the time of the first round that covered it and succeeded: the horizon is at most this + RETENTION. */
  latest: Map<number, number>;
  /** Tombstones a successful round had to drop: the last of their key, past a horizon already set. */
  mustBeGone: Set<number>;
}

function check(
  log: PartitionLog,
  model: ModelRecord[],
  cleanerPoint: number,
  lastCompactNow: number,
  horizons: Horizons,
): void {
  assert.equal(log.logEndOffset, model.length);
  const read = readAll(log);
  let previous = -1;
  const present = new Set<number>();
  for (const r of read) {
    assert.ok(r.offset > previous, `offsets increase: ${r.offset} after ${previous}`);
    previous = r.offset;
    const m = model[r.offset];
    assert.equal(r.key && decoder.decode(r.key), m.key, `key at ${r.offset}`);
    assert.equal(r.value && decoder.decode(r.value), m.value, `value at ${r.offset}`);
    assert.equal(r.timestamp, m.timestamp);
    present.add(r.offset);
  }
  const lastOfKey = new Map<string, ModelRecord>();
  for (const m of model) if (m.key !== null) lastOfKey.set(m.key, m);
  for (const m of model) {
    if (present.has(m.offset)) continue;
    // A gap only where compaction may remove a record: below the cleaner point, and superseded,
    // keyless, or an aged tombstone.
    assert.ok(m.offset < cleanerPoint, `record ${m.offset} is gone, past the cleaner point ${cleanerPoint}`);
    const superseded = m.key !== null && lastOfKey.get(m.key)!.offset > m.offset;
    // Never before its horizon: a round at least RETENTION after the first that covered it.
    const covered = horizons.earliest.get(m.offset);
    const agedTombstone = m.value === null && covered !== undefined && lastCompactNow >= covered + RETENTION;
    assert.ok(
      m.key === null || superseded || agedTombstone,
      `record ${m.offset} (${m.key}=${m.value}) is gone`,
    );
  }
  for (const offset of horizons.mustBeGone) {
    assert.ok(!present.has(offset), `tombstone ${offset} is kept past its delete horizon`);
  }
  for (const [key, m] of lastOfKey) {
    if (m.value !== null) {
      assert.ok(present.has(m.offset), `the last value of ${key} (offset ${m.offset}) is kept`);
    }
  }
}

describe("log compaction, model-based", () => {
  test(
    "after any sequence of appends, rolls, compactions, crashes and reopens, the log reads as the model allows",
    {
      timeout: stress(600_000),
    },
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(action, { minLength: 10, maxLength: 60 }), async (actions) => {
          const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-compaction-model-"));
          const config = resolveLogConfig({
            segmentBytes: 1024,
            indexIntervalBytes: 100,
            fsync: "never",
            cleanupPolicy: "compact",
            deleteRetentionMs: RETENTION,
          });
          const open = () => PartitionLog.open(path.join(dir, "t-0"), "t", 0, config);
          let log = open();
          const model: ModelRecord[] = [];
          let now = T0;
          let cleanerPoint = 0;
          let lastCompactNow = 0;
          const horizons: Horizons = { earliest: new Map(), latest: new Map(), mustBeGone: new Set() };
          try {
            for (const a of actions) {
              if (a.kind === "append") {
                const records = a.records.map((r, i) => ({
                  key: r.key === null ? null : `k${r.key}`,
                  value: r.tombstone ? null : `v${model.length + i}`.padEnd(40, "."),
                  timestamp: now,
                }));
                const append = log.append(encodeRecordBatch(records.map((r) => ({
                  key: r.key === null ? null : encoder.encode(r.key),
                  value: r.value === null ? null : encoder.encode(r.value),
                  timestamp: r.timestamp,
                }))));
                if (records.some((r) => r.key === null)) {
                  // A compacted topic refuses a keyless record, and with it its whole batch.
                  await assert.rejects(append, InvalidRecordError);
                } else {
                  const info = await append;
                  assert.equal(info.baseOffset, model.length);
                  for (const r of records) model.push({ offset: model.length, ...r });
                }
              } else if (a.kind === "roll") log.roll();
              else if (a.kind === "tick") now += a.ms;
              else if (a.kind === "compact") {
                const uncleanable = log.segments[log.segments.length - 1].baseOffset;
                cleanerPoint = Math.max(cleanerPoint, uncleanable);
                lastCompactNow = now;
                for (let o = 0; o < uncleanable; o++) {
                  if (!horizons.earliest.has(o)) horizons.earliest.set(o, now);
                }
                // A round that ran (stats.cleaned: not when nothing was dirty) rewrote every
                // batch below the first uncleanable offset.
                const succeeded = (stats: CleanerStats) => {
                  if (!stats.cleaned) return;
                  // The tombstones this round had to drop: every one below the first uncleanable
                  // offset whose horizon a previous successful round had set at the latest, now passed.
                  for (let o = 0; o < stats.firstUncleanableOffset; o++) {
                    const set = horizons.latest.get(o);
                    if (set === undefined) horizons.latest.set(o, now);
                    else if (model[o].value === null && now >= set + RETENTION) horizons.mustBeGone.add(o);
                  }
                };
                if (a.failAt === null) {
                  succeeded(await log.compact({ now }));
                } else {
                  let n = 0;
                  setFaultInjector((op: FileOperation) => {
                    if (op.op === "synced" || n++ !== a.failAt) return undefined;
                    return { error: Object.assign(new Error("EIO: injected"), { code: "EIO" }) };
                  });
                  const stats = await log.compact({ now }).catch(() => undefined);
                  setFaultInjector(undefined);
                  if (stats === undefined) {
                    log.abandon(); // the process dies mid-clean
                    log = open();
                  } else succeeded(stats);
                }
              } else if (a.kind === "crash") {
                log.abandon();
                log = open();
              } else {
                await log.close();
                log = open();
              }
              check(log, model, cleanerPoint, lastCompactNow, horizons);
            }
          } finally {
            setFaultInjector(undefined);
            if (!log.closed) await log.close();
            fs.rmSync(dir, { recursive: true, force: true });
          }
        }),
        fcParams(150),
      );
    },
  );
});
