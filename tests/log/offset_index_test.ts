import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { OFFSET_INDEX_ENTRY_SIZE, OffsetIndex } from "../../src/log/offset_index.ts";

function withTempDir<T>(fn: (dir: string) => T | Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-offset-index-"));
  return (async () => {
    try {
      return await fn(dir);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  })();
}

/** The bytes of an index file holding `entries` (relative offset, position), big-endian. */
function indexBytes(entries: [number, number][]): Uint8Array {
  const bytes = new Uint8Array(entries.length * OFFSET_INDEX_ENTRY_SIZE);
  const view = new DataView(bytes.buffer);
  entries.forEach(([rel, pos], i) => {
    view.setInt32(i * 8, rel);
    view.setInt32(i * 8 + 4, pos);
  });
  return bytes;
}

/** Strictly increasing (offset delta, position delta) pairs → absolute entries. */
const entriesArb = fc.array(fc.tuple(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 5000 })), {
  maxLength: 40,
}).map((steps) => {
  const out: { offset: number; position: number }[] = [];
  let offset = -1, position = -1;
  for (const [dOffset, dPosition] of steps) {
    offset += dOffset;
    position += dPosition;
    out.push({ offset, position });
  }
  return out;
});

/** The entry a plain scan picks: the last with offset ≤ target, else the base. */
function scanLookup(base: number, entries: { offset: number; position: number }[], target: number) {
  let found = { offset: base, position: 0 };
  for (const e of entries) if (e.offset <= target) found = e;
  return found;
}

describe("OffsetIndex", () => {
  test("lookup() on an empty index returns the base offset at position 0", () => {
    const index = new OffsetIndex("/nonexistent/00000000000000000100.index", 100);
    assert.equal(index.entries, 0);
    assert.equal(index.lastEntry, undefined);
    assert.deepEqual(index.lookup(100), { offset: 100, position: 0 });
    assert.deepEqual(index.lookup(5_000), { offset: 100, position: 0 });
    assert.deepEqual(index.lookup(0), { offset: 100, position: 0 });
  });

  test("lookup() returns the largest entry at or below the target", () => {
    const index = new OffsetIndex("/nonexistent/00000000000000000010.index", 10);
    index.append(15, 100);
    index.append(20, 300);
    index.append(31, 700);
    assert.deepEqual(index.lookup(10), { offset: 10, position: 0 });
    assert.deepEqual(index.lookup(14), { offset: 10, position: 0 });
    assert.deepEqual(index.lookup(15), { offset: 15, position: 100 });
    assert.deepEqual(index.lookup(19), { offset: 15, position: 100 });
    assert.deepEqual(index.lookup(20), { offset: 20, position: 300 });
    assert.deepEqual(index.lookup(30), { offset: 20, position: 300 });
    assert.deepEqual(index.lookup(31), { offset: 31, position: 700 });
    assert.deepEqual(index.lookup(1_000_000), { offset: 31, position: 700 });
    assert.deepEqual(index.lastEntry, { offset: 31, position: 700 });
  });

  test("lookup() agrees with a plain scan for any entries and target", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000_000 }),
        entriesArb,
        fc.integer({ min: -5, max: 2_100 }),
        (base, rel, t) => {
          const index = new OffsetIndex("/nonexistent/x.index", base);
          const entries = rel.map((e) => ({ offset: base + e.offset, position: e.position }));
          for (const e of entries) index.append(e.offset, e.position);
          assert.equal(index.entries, entries.length);
          assert.deepEqual(index.lookup(base + t), scanLookup(base, entries, base + t));
        },
      ),
      { numRuns: 200 },
    );
  });

  test("append() throws RangeError when an entry does not follow the last one", () => {
    const index = new OffsetIndex("/nonexistent/x.index", 0);
    index.append(5, 100);
    assert.throws(() => index.append(5, 200), RangeError);
    assert.throws(() => index.append(4, 200), RangeError);
    assert.throws(() => index.append(6, 100), RangeError);
    assert.throws(() => index.append(6, 50), RangeError);
    assert.equal(index.entries, 1);
  });

  test("flush() then load() round-trips the entries, also across several flushes", async () => {
    await withTempDir((dir) => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 1_000_000 }), entriesArb, fc.nat(), (base, rel, split) => {
          const file = path.join(dir, `${String(base).padStart(20, "0")}.index`);
          fs.rmSync(file, { force: true });
          const entries = rel.map((e) => ({ offset: base + e.offset, position: e.position }));
          const index = new OffsetIndex(file, base);
          const cut = entries.length === 0 ? 0 : split % (entries.length + 1);
          for (const e of entries.slice(0, cut)) index.append(e.offset, e.position);
          index.flush();
          for (const e of entries.slice(cut)) index.append(e.offset, e.position);
          index.flush(true);
          assert.equal(fs.statSync(file).size, entries.length * OFFSET_INDEX_ENTRY_SIZE);
          const logSize = (entries.at(-1)?.position ?? 0) + 1;
          const loaded = OffsetIndex.load(file, base, logSize);
          assert.ok(loaded, "a file just flushed must load");
          assert.equal(loaded.entries, entries.length);
          assert.deepEqual(loaded.lastEntry, entries.at(-1));
          for (const e of entries) {
            assert.deepEqual(loaded.lookup(e.offset), e);
            assert.deepEqual(loaded.lookup(e.offset + 1), scanLookup(base, entries, e.offset + 1));
          }
        }),
        { numRuns: 50 },
      );
    });
  });

  test("flush() on an empty index creates an empty file", async () => {
    await withTempDir((dir) => {
      const file = path.join(dir, "00000000000000000000.index");
      new OffsetIndex(file, 0).flush();
      assert.equal(fs.statSync(file).size, 0);
      const loaded = OffsetIndex.load(file, 0, 0);
      assert.ok(loaded);
      assert.equal(loaded.entries, 0);
    });
  });

  test("load() returns null when the file is missing", async () => {
    await withTempDir((dir) => {
      assert.equal(OffsetIndex.load(path.join(dir, "00000000000000000000.index"), 0, 100), null);
    });
  });

  test("load() returns null when the length is not a multiple of the entry size", async () => {
    await withTempDir((dir) => {
      const file = path.join(dir, "00000000000000000000.index");
      const good = indexBytes([[1, 10], [2, 20]]);
      for (const extra of [1, 3, 7]) {
        const bytes = new Uint8Array(good.length + extra);
        bytes.set(good);
        fs.writeFileSync(file, bytes);
        assert.equal(OffsetIndex.load(file, 0, 1000), null, `${extra} trailing bytes`);
      }
      fs.writeFileSync(file, good);
      assert.equal(OffsetIndex.load(file, 0, 1000)?.entries, 2);
    });
  });

  test("load() returns null when offsets or positions do not grow strictly", async () => {
    await withTempDir((dir) => {
      const file = path.join(dir, "00000000000000000000.index");
      const bad: [number, number][][] = [
        [[5, 10], [5, 20]], // same offset
        [[5, 10], [4, 20]], // offset goes down
        [[5, 10], [6, 10]], // same position
        [[5, 10], [6, 5]], // position goes down
        [[-1, 10]], // negative relative offset
        [[1, -4]], // negative position
      ];
      for (const entries of bad) {
        fs.writeFileSync(file, indexBytes(entries));
        assert.equal(OffsetIndex.load(file, 0, 1000), null, JSON.stringify(entries));
      }
    });
  });

  test("load() returns null when a position lies at or past the log size", async () => {
    await withTempDir((dir) => {
      const file = path.join(dir, "00000000000000000000.index");
      fs.writeFileSync(file, indexBytes([[1, 100], [2, 500]]));
      assert.equal(OffsetIndex.load(file, 0, 500), null);
      assert.equal(OffsetIndex.load(file, 0, 400), null);
      assert.equal(OffsetIndex.load(file, 0, 501)?.entries, 2);
    });
  });

  test("truncateToPosition() drops the entries at or past the position, in memory and on disk", async () => {
    await withTempDir((dir) => {
      const file = path.join(dir, "00000000000000000000.index");
      const index = new OffsetIndex(file, 0);
      index.append(3, 100);
      index.append(7, 200);
      index.append(9, 300);
      index.flush();
      index.truncateToPosition(200);
      assert.equal(index.entries, 1);
      assert.deepEqual(index.lookup(9), { offset: 3, position: 100 });
      assert.equal(fs.statSync(file).size, OFFSET_INDEX_ENTRY_SIZE);
      index.append(8, 250);
      index.flush();
      assert.deepEqual(OffsetIndex.load(file, 0, 251)?.lastEntry, { offset: 8, position: 250 });
      index.reset();
      assert.equal(index.entries, 0);
      assert.equal(fs.statSync(file).size, 0);
    });
  });
});
