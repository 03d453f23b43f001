import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { TIME_INDEX_ENTRY_SIZE, TimeIndex } from "../../src/log/time_index.ts";

function withTempDir<T>(fn: (dir: string) => T | Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-time-index-"));
  return (async () => {
    try {
      return await fn(dir);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  })();
}

/** The bytes of a time index file holding `entries` (timestamp, relative offset), big-endian. */
function timeIndexBytes(entries: [number, number][]): Uint8Array {
  const bytes = new Uint8Array(entries.length * TIME_INDEX_ENTRY_SIZE);
  const view = new DataView(bytes.buffer);
  entries.forEach(([ts, rel], i) => {
    view.setBigInt64(i * 12, BigInt(ts));
    view.setInt32(i * 12 + 8, rel);
  });
  return bytes;
}

const T0 = 1_700_000_000_000;

/** Strictly increasing timestamps with non-decreasing offsets. */
const entriesArb = fc.array(fc.tuple(fc.integer({ min: 1, max: 100_000 }), fc.integer({ min: 0, max: 40 })), {
  maxLength: 40,
}).map((steps) => {
  const out: { timestamp: number; offset: number }[] = [];
  let timestamp = T0, offset = 0;
  for (const [dTs, dOffset] of steps) {
    timestamp += dTs;
    offset += dOffset;
    out.push({ timestamp, offset });
  }
  return out;
});

function scanLookup(base: number, entries: { timestamp: number; offset: number }[], target: number) {
  let found = { timestamp: -1, offset: base };
  for (const e of entries) if (e.timestamp <= target) found = e;
  return found;
}

describe("TimeIndex", () => {
  test("lookup() on an empty index returns timestamp -1 at the base offset", () => {
    const index = new TimeIndex("/nonexistent/00000000000000000042.timeindex", 42);
    assert.equal(index.entries, 0);
    assert.deepEqual(index.lookup(T0), { timestamp: -1, offset: 42 });
    assert.deepEqual(index.lookup(0), { timestamp: -1, offset: 42 });
  });

  test("lookup() returns the entry with the largest timestamp at or below the target", () => {
    const index = new TimeIndex("/nonexistent/x.timeindex", 100);
    assert.ok(index.maybeAppend(T0 + 10, 105));
    assert.ok(index.maybeAppend(T0 + 20, 110));
    assert.ok(index.maybeAppend(T0 + 30, 110));
    assert.deepEqual(index.lookup(T0), { timestamp: -1, offset: 100 });
    assert.deepEqual(index.lookup(T0 + 9), { timestamp: -1, offset: 100 });
    assert.deepEqual(index.lookup(T0 + 10), { timestamp: T0 + 10, offset: 105 });
    assert.deepEqual(index.lookup(T0 + 25), { timestamp: T0 + 20, offset: 110 });
    assert.deepEqual(index.lookup(T0 + 10_000), { timestamp: T0 + 30, offset: 110 });
  });

  test("maybeAppend() skips timestamps that do not grow and offsets that go back", () => {
    const index = new TimeIndex("/nonexistent/x.timeindex", 0);
    assert.ok(index.maybeAppend(T0 + 10, 5));
    assert.equal(index.maybeAppend(T0 + 10, 6), false);
    assert.equal(index.maybeAppend(T0 + 5, 7), false);
    assert.equal(index.maybeAppend(T0 + 20, 4), false);
    assert.equal(index.entries, 1);
    assert.deepEqual(index.lastEntry, { timestamp: T0 + 10, offset: 5 });
  });

  test("lookup() agrees with a plain scan for any entries and target", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000_000 }),
        entriesArb,
        fc.integer({ min: -10, max: 5_000_000 }),
        (base, rel, dt) => {
          const index = new TimeIndex("/nonexistent/x.timeindex", base);
          const entries = rel.map((e) => ({ timestamp: e.timestamp, offset: base + e.offset }));
          for (const e of entries) assert.ok(index.maybeAppend(e.timestamp, e.offset));
          assert.deepEqual(index.lookup(T0 + dt), scanLookup(base, entries, T0 + dt));
        },
      ),
      { numRuns: 200 },
    );
  });

  test("flush() then load() round-trips the entries, also across several flushes", async () => {
    await withTempDir((dir) => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 1_000_000 }), entriesArb, fc.nat(), (base, rel, split) => {
          const file = path.join(dir, `${String(base).padStart(20, "0")}.timeindex`);
          fs.rmSync(file, { force: true });
          const entries = rel.map((e) => ({ timestamp: e.timestamp, offset: base + e.offset }));
          const index = new TimeIndex(file, base);
          const cut = entries.length === 0 ? 0 : split % (entries.length + 1);
          for (const e of entries.slice(0, cut)) index.maybeAppend(e.timestamp, e.offset);
          index.flush();
          for (const e of entries.slice(cut)) index.maybeAppend(e.timestamp, e.offset);
          index.flush(true);
          assert.equal(fs.statSync(file).size, entries.length * TIME_INDEX_ENTRY_SIZE);
          const lastOffset = entries.at(-1)?.offset ?? base - 1;
          const loaded = TimeIndex.load(file, base, lastOffset);
          assert.ok(loaded, "a file just flushed must load");
          assert.equal(loaded.entries, entries.length);
          assert.deepEqual(loaded.lastEntry, entries.at(-1));
          for (const e of entries) {
            assert.deepEqual(loaded.lookup(e.timestamp), e);
            assert.deepEqual(loaded.lookup(e.timestamp - 1), scanLookup(base, entries, e.timestamp - 1));
          }
        }),
        { numRuns: 50 },
      );
    });
  });

  test("load() reads timestamps beyond 32 bits exactly", async () => {
    await withTempDir((dir) => {
      const file = path.join(dir, "00000000000000000000.timeindex");
      const ts = 2 ** 52 + 12345;
      fs.writeFileSync(file, timeIndexBytes([[T0, 0], [ts, 3]]));
      const loaded = TimeIndex.load(file, 0, 3);
      assert.deepEqual(loaded?.lastEntry, { timestamp: ts, offset: 3 });
    });
  });

  test("load() returns null when the file is missing", async () => {
    await withTempDir((dir) => {
      assert.equal(TimeIndex.load(path.join(dir, "00000000000000000000.timeindex"), 0, 10), null);
    });
  });

  test("load() returns null when the length is not a multiple of the entry size", async () => {
    await withTempDir((dir) => {
      const file = path.join(dir, "00000000000000000000.timeindex");
      const good = timeIndexBytes([[T0, 1], [T0 + 5, 2]]);
      for (const extra of [1, 8, 11]) {
        const bytes = new Uint8Array(good.length + extra);
        bytes.set(good);
        fs.writeFileSync(file, bytes);
        assert.equal(TimeIndex.load(file, 0, 10), null, `${extra} trailing bytes`);
      }
      fs.writeFileSync(file, good);
      assert.equal(TimeIndex.load(file, 0, 10)?.entries, 2);
    });
  });

  test("load() returns null when timestamps or offsets go down", async () => {
    await withTempDir((dir) => {
      const file = path.join(dir, "00000000000000000000.timeindex");
      const bad: [number, number][][] = [
        [[T0 + 5, 1], [T0, 2]], // timestamp goes down
        [[T0, 3], [T0 + 5, 2]], // offset goes down
      ];
      for (const entries of bad) {
        fs.writeFileSync(file, timeIndexBytes(entries));
        assert.equal(TimeIndex.load(file, 0, 10), null, JSON.stringify(entries));
      }
    });
  });

  test("load() returns null when an offset lies outside the segment", async () => {
    await withTempDir((dir) => {
      const file = path.join(dir, "00000000000000000100.timeindex");
      fs.writeFileSync(file, timeIndexBytes([[T0, 1], [T0 + 5, 8]]));
      assert.equal(TimeIndex.load(file, 100, 107), null, "offset past the segment's last offset");
      assert.equal(TimeIndex.load(file, 100, 108)?.entries, 2);
      fs.writeFileSync(file, timeIndexBytes([[T0, -1]]));
      assert.equal(TimeIndex.load(file, 100, 108), null, "offset before the base offset");
    });
  });

  test("truncateToOffset() drops entries at or past the offset, in memory and on disk", async () => {
    await withTempDir((dir) => {
      const file = path.join(dir, "00000000000000000000.timeindex");
      const index = new TimeIndex(file, 0);
      index.maybeAppend(T0 + 1, 2);
      index.maybeAppend(T0 + 2, 5);
      index.maybeAppend(T0 + 3, 9);
      index.flush();
      index.truncateToOffset(5);
      assert.equal(index.entries, 1);
      assert.equal(fs.statSync(file).size, TIME_INDEX_ENTRY_SIZE);
      assert.deepEqual(index.lookup(T0 + 100), { timestamp: T0 + 1, offset: 2 });
      index.reset();
      assert.equal(index.entries, 0);
      assert.equal(fs.statSync(file).size, 0);
    });
  });
});
