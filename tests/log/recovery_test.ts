import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { CorruptRecordError, type LogConfig } from "../../mod.ts";
import { decodeRecordBatch, encodeRecordBatch, type Record, type RecordInput } from "../../src/record/mod.ts";
import { PartitionLog } from "../../src/log/mod.ts";
import { resolveLogConfig } from "../../src/log/log_config.ts";
import { fcParams } from "../durability/_helpers.ts";
import { readCheckpoint, RECOVERY_POINT_CHECKPOINT } from "../../src/log/checkpoint.ts";

const T0 = 1_700_000_000_000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const CONFIG: Partial<LogConfig> = { segmentBytes: 1024, indexIntervalBytes: 100, fsync: "never" };

async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-recovery-"));
  try {
    return await fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function partitionDir(dir: string): string {
  return path.join(dir, "events-0");
}

function openLog(dir: string, config: Partial<LogConfig> = CONFIG): PartitionLog {
  return PartitionLog.open(partitionDir(dir), "events", 0, resolveLogConfig({ ...CONFIG, ...config }));
}

/** Timestamps grow from batch to batch but go back now and then, within and across batches. */
function batchOf(label: string, count: number, tsBase = 0): Uint8Array {
  const records: RecordInput[] = [];
  for (let i = 0; i < count; i++) {
    records.push({
      key: encoder.encode(`k${i % 3}`),
      value: encoder.encode(`${label}:${i}`),
      headers: i % 2 ? [{ key: "h", value: encoder.encode(String(i)) }] : [],
      timestamp: T0 + tsBase + ((i * 7919) % 150),
    });
  }
  return encodeRecordBatch(records);
}

/** Appends `n` batches of 1–4 records; returns the values written, in offset order. */
async function fill(log: PartitionLog, n: number, label = "b"): Promise<string[]> {
  const values: string[] = [];
  for (let i = 0; i < n; i++) {
    const count = 1 + (i % 4);
    await log.append(batchOf(`${label}${i}`, count, i * 100));
    for (let j = 0; j < count; j++) values.push(`${label}${i}:${j}`);
  }
  return values;
}

function readAll(log: PartitionLog): Record[] {
  const out: Record[] = [];
  let offset = log.logStartOffset;
  let cursor;
  while (offset < log.highWatermark) {
    const data = log.read(offset, 1 << 20, cursor);
    if (!data) break;
    out.push(...log.decode(data, offset));
    cursor = data.next;
    offset = data.next.offset;
  }
  return out;
}

const values = (records: Record[]) => records.map((r) => decoder.decode(r.value!));

interface ScannedBatch {
  position: number;
  size: number;
  baseOffset: number;
  lastOffset: number;
}

function scanFile(file: string): ScannedBatch[] {
  const bytes = new Uint8Array(fs.readFileSync(file));
  const out: ScannedBatch[] = [];
  let position = 0;
  while (position < bytes.length) {
    const { header } = decodeRecordBatch(bytes, position);
    const size = header.batchLength + 12;
    out.push({
      position,
      size,
      baseOffset: header.baseOffset,
      lastOffset: header.baseOffset + header.lastOffsetDelta,
    });
    position += size;
  }
  return out;
}

function logFiles(dir: string): string[] {
  return fs.readdirSync(partitionDir(dir)).filter((f) => f.endsWith(".log")).sort().map((f) =>
    path.join(partitionDir(dir), f)
  );
}

/** Copies the (flat) partition directory's files, to restore them between damage trials. */
function snapshot(dir: string): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  for (const name of fs.readdirSync(partitionDir(dir))) {
    files.set(name, new Uint8Array(fs.readFileSync(path.join(partitionDir(dir), name))));
  }
  return files;
}

function restore(dir: string, files: Map<string, Uint8Array>): void {
  fs.rmSync(partitionDir(dir), { recursive: true, force: true });
  fs.mkdirSync(partitionDir(dir));
  for (const [name, bytes] of files) fs.writeFileSync(path.join(partitionDir(dir), name), bytes);
}

/** Checks that every offset of the log reads back through the index as a plain scan of its files finds it. */
function assertReadsMatchScan(dir: string, log: PartitionLog): void {
  for (const file of logFiles(dir)) {
    for (const batch of scanFile(file)) {
      for (let offset = batch.baseOffset; offset <= batch.lastOffset; offset++) {
        const data = log.read(offset, 1);
        assert.ok(data, `read(${offset}) returned null`);
        assert.equal(data.segment, file);
        assert.equal(data.position, batch.position, `position of offset ${offset}`);
      }
    }
  }
}

describe("PartitionLog recovery", () => {
  test("after a clean close, reopening scans nothing and returns every record", async () => {
    await withTempDir(async (dir) => {
      const log = openLog(dir);
      const written = await fill(log, 40);
      const segments = log.segments;
      assert.ok(segments.length > 2);
      await log.close();
      const reopened = openLog(dir);
      assert.deepEqual(reopened.loadReport, { clean: true, segmentsRecovered: 0, truncatedBytes: 0 });
      assert.deepEqual(reopened.segments, segments);
      assert.equal(reopened.logEndOffset, written.length);
      assert.deepEqual(values(readAll(reopened)), written);
      assert.equal((await reopened.append(batchOf("next", 1))).baseOffset, written.length);
      await reopened.close();
    });
  });

  test("a newly created log reports clean and empty", async () => {
    await withTempDir(async (dir) => {
      const log = openLog(dir);
      assert.deepEqual(log.loadReport, { clean: true, segmentsRecovered: 0, truncatedBytes: 0 });
      assert.equal(log.logEndOffset, 0);
      await log.close();
    });
  });

  test("after abandon() (a crash) only the active segment is recovered and every record is kept", async () => {
    await withTempDir(async (dir) => {
      const log = openLog(dir);
      const first = await fill(log, 40, "a");
      await log.close();
      // The clean close moved the recovery point to the log end; the appends below stay in the
      // active segment (no roll), so after the crash only that segment needs a scan.
      const again = openLog(dir);
      const active = again.segments.at(-1)!;
      const more: string[] = [];
      for (let i = 0; i < 3 && again.segments.at(-1)!.size + 200 < 1024; i++) {
        await again.append(batchOf(`c${i}`, 1));
        more.push(`c${i}:0`);
      }
      assert.equal(again.segments.at(-1)!.baseOffset, active.baseOffset, "no roll happened");
      again.abandon();
      const reopened = openLog(dir);
      assert.equal(reopened.loadReport.clean, false);
      assert.equal(reopened.loadReport.segmentsRecovered, 1);
      assert.equal(reopened.loadReport.truncatedBytes, 0);
      assert.deepEqual(values(readAll(reopened)), [...first, ...more]);
      assert.equal((await reopened.append(batchOf("next", 1))).baseOffset, first.length + more.length);
      await reopened.close();
    });
  });

  test("after abandon() with rolls since the last checkpoint, exactly the segments from the recovery point are recovered", async () => {
    await withTempDir(async (dir) => {
      const log = openLog(dir);
      const written = await fill(log, 60);
      await log.flush();
      const bases = log.segments.map((s) => s.baseOffset);
      log.abandon();
      // abandon() stops any further checkpoint write: what is on disk now is what open() reads.
      const recoveryPoint =
        readCheckpoint(path.join(partitionDir(dir), RECOVERY_POINT_CHECKPOINT), "events", 0) ?? 0;
      const expected = bases.filter((_, i) =>
        !(i + 1 < bases.length && bases[i + 1] <= recoveryPoint)
      ).length;
      const reopened = openLog(dir);
      assert.equal(reopened.loadReport.clean, false);
      assert.equal(reopened.loadReport.segmentsRecovered, expected);
      assert.ok(expected >= 1 && expected <= bases.length);
      assert.equal(reopened.loadReport.truncatedBytes, 0);
      assert.deepEqual(reopened.segments.map((s) => s.baseOffset), bases);
      assert.deepEqual(values(readAll(reopened)), written);
      await reopened.close();
    });
  });

  for (const ending of ["close", "abandon"] as const) {
    test(`after ${ending}(), cutting the active .log at every byte inside its last batch keeps exactly the batches before it`, async () => {
      await withTempDir(async (dir) => {
        const log = openLog(dir);
        const written = await fill(log, 30);
        if (ending === "close") await log.close();
        else log.abandon();
        const files = logFiles(dir);
        const active = files.at(-1)!;
        const batches = scanFile(active);
        const last = batches.at(-1)!;
        const original = snapshot(dir);
        const activeName = path.basename(active);
        const full = original.get(activeName)!;
        assert.equal(last.position + last.size, full.length);
        const kept = written.slice(0, last.baseOffset);
        for (let cut = last.position; cut < full.length; cut++) {
          restore(dir, original);
          fs.truncateSync(active, cut);
          const reopened = openLog(dir);
          assert.equal(reopened.loadReport.clean, false, `cut ${cut}`);
          assert.equal(reopened.loadReport.segmentsRecovered >= 1, true);
          assert.equal(reopened.loadReport.truncatedBytes, cut - last.position, `cut ${cut}`);
          assert.equal(reopened.logEndOffset, last.baseOffset, `cut ${cut}`);
          assert.equal(fs.statSync(active).size, last.position);
          assert.deepEqual(values(readAll(reopened)), kept, `cut ${cut}`);
          const info = await reopened.append(batchOf("after", 2));
          assert.equal(info.baseOffset, last.baseOffset, `cut ${cut}: next offset`);
          assert.deepEqual(values(readAll(reopened)), [...kept, "after:0", "after:1"]);
          reopened.abandon();
        }
        // The control: the whole file reopens with everything.
        restore(dir, original);
        const whole = openLog(dir);
        assert.deepEqual(values(readAll(whole)), written);
        await whole.close();
      });
    });
  }

  test("overwriting the tail from any position with garbage or zeros truncates at the last valid batch", async () => {
    await withTempDir(async (dir) => {
      const log = openLog(dir, { segmentBytes: 4096 });
      const written = await fill(log, 25);
      log.abandon();
      const active = logFiles(dir).at(-1)!;
      const activeName = path.basename(active);
      const batches = scanFile(active);
      const original = snapshot(dir);
      const full = original.get(activeName)!;
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: full.length - 1 }),
          fc.boolean(),
          fc.integer({ min: 0, max: 2 ** 31 }),
          async (start, zeros, seed) => {
            restore(dir, original);
            const damaged = full.slice();
            let x = seed | 1;
            for (let i = start; i < damaged.length; i++) {
              // xorshift: a nonzero XOR mask changes every byte of the garbage range.
              x ^= x << 13;
              x ^= x >>> 17;
              x ^= x << 5;
              damaged[i] = zeros ? 0 : damaged[i] ^ ((x & 0xff) || 0x5a);
            }
            fs.writeFileSync(active, damaged);
            let changed = start;
            while (changed < full.length && damaged[changed] === full[changed]) changed++;
            const firstBad = batches.find((b) => b.position <= changed && changed < b.position + b.size);
            const keptBatches = firstBad ? batches.filter((b) => b.position < firstBad.position) : batches;
            const keptBytes = firstBad ? firstBad.position : full.length;
            const nextOffset = firstBad ? firstBad.baseOffset : batches.at(-1)!.lastOffset + 1;
            const segmentBase = Number(activeName.slice(0, 20));
            const reopened = openLog(dir, { segmentBytes: 4096 });
            assert.equal(reopened.logEndOffset, nextOffset);
            assert.equal(reopened.loadReport.truncatedBytes, full.length - keptBytes);
            assert.equal(fs.statSync(active).size, keptBytes);
            assert.deepEqual(values(readAll(reopened)), written.slice(0, nextOffset));
            assert.equal(
              keptBatches.length === 0 ? segmentBase : keptBatches.at(-1)!.lastOffset + 1,
              nextOffset,
            );
            assert.equal((await reopened.append(batchOf("next", 1))).baseOffset, nextOffset);
            reopened.abandon();
          },
        ),
        fcParams(60),
      );
    });
  });

  test("a corrupt batch in the middle of the active segment drops it and every batch after it", async () => {
    await withTempDir(async (dir) => {
      const log = openLog(dir, { segmentBytes: 1 << 20 });
      const written = await fill(log, 12);
      log.abandon();
      const active = logFiles(dir).at(-1)!;
      const batches = scanFile(active);
      const victim = batches[5];
      const bytes = new Uint8Array(fs.readFileSync(active));
      bytes[victim.position + victim.size - 2] ^= 0x01; // inside the records: the CRC no longer matches
      fs.writeFileSync(active, bytes);
      const reopened = openLog(dir, { segmentBytes: 1 << 20 });
      assert.equal(reopened.logEndOffset, victim.baseOffset);
      assert.equal(reopened.loadReport.truncatedBytes, bytes.length - victim.position);
      assert.deepEqual(values(readAll(reopened)), written.slice(0, victim.baseOffset));
      await reopened.close();
    });
  });

  test("a batch whose baseOffset field was overwritten (outside the CRC) is treated as corrupt", async () => {
    await withTempDir(async (dir) => {
      const log = openLog(dir, { segmentBytes: 1 << 20 });
      const written = await fill(log, 6);
      log.abandon();
      const active = logFiles(dir).at(-1)!;
      const batches = scanFile(active);
      const victim = batches[3];
      const bytes = new Uint8Array(fs.readFileSync(active));
      new DataView(bytes.buffer).setBigInt64(victim.position, BigInt(victim.baseOffset + 1000));
      fs.writeFileSync(active, bytes);
      const reopened = openLog(dir, { segmentBytes: 1 << 20 });
      assert.equal(reopened.logEndOffset, victim.baseOffset, "offsets must stay dense");
      assert.deepEqual(values(readAll(reopened)), written.slice(0, victim.baseOffset));
      await reopened.close();
    });
  });

  test("a torn tail in the segment before an empty active segment truncates it and removes the later segment", async () => {
    await withTempDir(async (dir) => {
      const log = openLog(dir, { segmentBytes: 1 << 20 });
      const written = await fill(log, 10);
      const rolledAt = log.roll();
      assert.equal(rolledAt, written.length);
      log.abandon(); // before the roll's checkpoint could be written
      const first = logFiles(dir)[0];
      const batches = scanFile(first);
      const last = batches.at(-1)!;
      fs.truncateSync(first, last.position + 20);
      const reopened = openLog(dir, { segmentBytes: 1 << 20 });
      assert.equal(reopened.logEndOffset, last.baseOffset);
      assert.deepEqual(reopened.segments.map((s) => s.baseOffset), [0]);
      assert.equal(logFiles(dir).length, 1);
      assert.ok(!fs.existsSync(path.join(partitionDir(dir), `${String(rolledAt).padStart(20, "0")}.index`)));
      assert.deepEqual(values(readAll(reopened)), written.slice(0, last.baseOffset));
      assert.equal((await reopened.append(batchOf("next", 1))).baseOffset, last.baseOffset);
      await reopened.close();
    });
  });

  for (const which of [".index", ".timeindex"] as const) {
    for (
      const damage of [
        "deleted",
        "of odd length",
        "with entries out of order",
        "with a position past the log",
      ] as const
    ) {
      if (which === ".timeindex" && damage === "with a position past the log") continue;
      test(`a sealed segment's ${which} ${damage} is rebuilt on open`, async () => {
        await withTempDir(async (dir) => {
          const log = openLog(dir, { indexIntervalBytes: 60 });
          const written = await fill(log, 40);
          const segments = log.segments;
          assert.ok(segments.length >= 3);
          await log.close();
          const victimLog = segments[1].path;
          const victim = victimLog.replace(/\.log$/, which);
          const original = new Uint8Array(fs.readFileSync(victim));
          assert.ok(original.length >= 24, "the victim index has entries");
          const other = segments[0].path.replace(/\.log$/, which);
          const otherBefore = new Uint8Array(fs.readFileSync(other));
          if (damage === "deleted") fs.rmSync(victim);
          else if (damage === "of odd length") fs.appendFileSync(victim, new Uint8Array([1, 2, 3]));
          else if (damage === "with entries out of order") {
            const bytes = original.slice();
            const size = which === ".index" ? 8 : 12;
            const firstEntry = bytes.slice(0, size);
            bytes.copyWithin(0, size, 2 * size);
            bytes.set(firstEntry, size);
            fs.writeFileSync(victim, bytes);
          } else {
            const bytes = original.slice();
            new DataView(bytes.buffer).setInt32(bytes.length - 4, fs.statSync(victimLog).size + 10);
            fs.writeFileSync(victim, bytes);
          }
          const reopened = openLog(dir, { indexIntervalBytes: 60 });
          assert.equal(reopened.loadReport.segmentsRecovered, 1, "only the damaged segment is scanned");
          assert.equal(reopened.loadReport.truncatedBytes, 0);
          assert.equal(reopened.logEndOffset, written.length);
          assert.deepEqual(values(readAll(reopened)), written);
          assertReadsMatchScan(dir, reopened);
          for (let i = -10; i < 4200; i += 37) {
            const expected = readAll(reopened).find((r) => r.timestamp >= T0 + i);
            const found = reopened.offsetForTimestamp(T0 + i);
            assert.deepEqual(
              found,
              expected ? { offset: expected.offset, timestamp: expected.timestamp } : null,
            );
          }
          await reopened.close();
          assert.deepEqual(
            new Uint8Array(fs.readFileSync(victim)),
            original,
            `${which} regenerated as it was`,
          );
          assert.deepEqual(new Uint8Array(fs.readFileSync(other)), otherBefore, "other indexes untouched");
        });
      });
    }
  }

  test("a deleted .index of the active segment after a crash is rebuilt", async () => {
    await withTempDir(async (dir) => {
      const log = openLog(dir, { segmentBytes: 1 << 20, indexIntervalBytes: 60 });
      const written = await fill(log, 30);
      await log.flush();
      log.abandon();
      const active = logFiles(dir).at(-1)!;
      fs.rmSync(active.replace(/\.log$/, ".index"));
      fs.rmSync(active.replace(/\.log$/, ".timeindex"));
      const reopened = openLog(dir, { segmentBytes: 1 << 20, indexIntervalBytes: 60 });
      assert.ok(fs.statSync(active.replace(/\.log$/, ".index")).size > 0);
      assert.ok(fs.existsSync(active.replace(/\.log$/, ".timeindex")));
      assert.deepEqual(values(readAll(reopened)), written);
      assertReadsMatchScan(dir, reopened);
      await reopened.close();
    });
  });

  test("a flipped CRC inside a sealed segment makes reading it throw CorruptRecordError naming where", async () => {
    await withTempDir(async (dir) => {
      const log = openLog(dir);
      const written = await fill(log, 40);
      const segments = log.segments;
      await log.close();
      const sealed = segments[1].path;
      const batches = scanFile(sealed);
      const victim = batches[1];
      const bytes = new Uint8Array(fs.readFileSync(sealed));
      bytes[victim.position + 17] ^= 0xff; // the stored CRC-32C
      fs.writeFileSync(sealed, bytes);
      const reopened = openLog(dir);
      assert.equal(reopened.loadReport.clean, true, "a sealed segment is not scanned on a clean open");
      // Records before the bad batch still read.
      const before = reopened.decode(reopened.read(0, 1)!, 0);
      assert.equal(decoder.decode(before[0].value!), written[0]);
      for (const offset of [victim.baseOffset, victim.lastOffset]) {
        const data = reopened.read(offset, 1)!;
        assert.equal(data.position, victim.position);
        assert.throws(() => reopened.decode(data, offset), (err: unknown) => {
          assert.ok(err instanceof CorruptRecordError);
          assert.equal(err.code, "CORRUPT_MESSAGE");
          assert.equal(err.topic, "events");
          assert.equal(err.partition, 0);
          assert.equal(err.segment, sealed);
          assert.equal(err.position, victim.position);
          assert.ok(err.message.includes('"events-0"'), err.message);
          assert.ok(err.message.includes(sealed), err.message);
          assert.ok(err.message.includes(`position ${victim.position}`), err.message);
          return true;
        });
      }
      // A read that starts earlier in the segment returns the records before the bad batch and
      // moves its cursor to it; the read from there fails the same way.
      const early = reopened.read(batches[0].baseOffset, 1 << 20)!;
      const upToVictim = reopened.decode(early, batches[0].baseOffset);
      assert.deepEqual(
        upToVictim.map((r) => r.offset),
        Array.from(
          { length: victim.baseOffset - batches[0].baseOffset },
          (_, i) => batches[0].baseOffset + i,
        ),
      );
      assert.equal(early.next.offset, victim.baseOffset);
      assert.equal(early.next.position, victim.position);
      const bad = reopened.read(early.next.offset, 1 << 20, early.next)!;
      assert.throws(() => reopened.decode(bad, early.next.offset), (err: unknown) => {
        assert.ok(err instanceof CorruptRecordError);
        assert.equal(err.position, victim.position);
        return true;
      });
      await reopened.close();
    });
  });
});
