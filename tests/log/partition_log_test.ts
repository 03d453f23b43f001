import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { type LogConfig, OffsetOutOfRangeError, RecordTooLargeError, StorageError } from "../../mod.ts";
import { decodeRecordBatch, encodeRecordBatch, type Record, type RecordInput } from "../../src/record/mod.ts";
import { PartitionLog } from "../../src/log/mod.ts";
import { resolveLogConfig } from "../../src/log/log_config.ts";
import { fcParams } from "../durability/_helpers.ts";
import { batchSize } from "../../src/record/record_batch.ts";
import { setFaultInjector } from "../../src/runtime/file_system.ts";

const T0 = 1_700_000_000_000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-partition-log-"));
  try {
    return await fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function openLog(dir: string, config: Partial<LogConfig> = {}): PartitionLog {
  return PartitionLog.open(
    path.join(dir, "events-0"),
    "events",
    0,
    resolveLogConfig({ segmentBytes: 1024, indexIntervalBytes: 128, fsync: "never", ...config }),
  );
}

/** A batch of `count` records whose values name their index in `label`, with the given timestamps. */
function batchOf(label: string, count: number, timestamps?: number[], valueBytes = 20): Uint8Array {
  const records: RecordInput[] = [];
  for (let i = 0; i < count; i++) {
    const value = encoder.encode(`${label}:${i}:`.padEnd(valueBytes, "x"));
    records.push({ key: encoder.encode(`k${i % 3}`), value, timestamp: timestamps?.[i] ?? T0 + i });
  }
  return encodeRecordBatch(records);
}

interface ScannedBatch {
  file: string;
  position: number;
  size: number;
  baseOffset: number;
  lastOffset: number;
  records: Record[];
}

/** Decodes every batch of every `.log` file of a partition directory, back to back, in file order. */
function scanPartition(partitionDir: string): ScannedBatch[] {
  const out: ScannedBatch[] = [];
  const files = fs.readdirSync(partitionDir).filter((f) => f.endsWith(".log")).sort();
  for (const file of files) {
    const bytes = new Uint8Array(fs.readFileSync(path.join(partitionDir, file)));
    let position = 0;
    while (position < bytes.length) {
      const { header, records } = decodeRecordBatch(bytes, position);
      const size = header.batchLength + 12;
      out.push({
        file: path.join(partitionDir, file),
        position,
        size,
        baseOffset: header.baseOffset,
        lastOffset: header.baseOffset + header.lastOffsetDelta,
        records,
      });
      position += size;
    }
  }
  return out;
}

/** Every record of the log read through `read()`/`decode()` from `from` to the high watermark. */
function readAll(log: PartitionLog, from = log.logStartOffset, maxBytes = 1 << 20): Record[] {
  const out: Record[] = [];
  let offset = from;
  let cursor;
  while (offset < log.highWatermark) {
    const data = log.read(offset, maxBytes, cursor);
    if (!data) break;
    out.push(...log.decode(data, offset));
    cursor = data.next;
    offset = data.next.offset;
  }
  return out;
}

function readIndexFile(file: string): { rel: number; position: number }[] {
  const bytes = new Uint8Array(fs.readFileSync(file));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = [];
  for (let i = 0; i < bytes.length; i += 8) {
    out.push({ rel: view.getInt32(i), position: view.getInt32(i + 4) });
  }
  return out;
}

function readTimeIndexFile(file: string): { timestamp: number; rel: number }[] {
  const bytes = new Uint8Array(fs.readFileSync(file));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = [];
  for (let i = 0; i < bytes.length; i += 12) {
    out.push({ timestamp: Number(view.getBigInt64(i)), rel: view.getInt32(i + 8) });
  }
  return out;
}

describe("PartitionLog", () => {
  test("append() assigns dense offsets from 0, batch after batch", async () => {
    await withTempDir(async (dir) => {
      const log = openLog(dir);
      assert.equal(log.logEndOffset, 0);
      let expected = 0;
      for (const count of [1, 3, 7, 1, 12, 2]) {
        const info = await log.append(batchOf(`b${expected}`, count));
        assert.equal(info.baseOffset, expected);
        assert.equal(info.lastOffset, expected + count - 1);
        expected += count;
        assert.equal(log.logEndOffset, expected);
        assert.equal(log.highWatermark, expected);
      }
      const records = readAll(log);
      assert.deepEqual(records.map((r) => r.offset), Array.from({ length: expected }, (_, i) => i));
      await log.close();
    });
  });

  test("segments roll at segmentBytes and are named by their 20-digit base offset", async () => {
    await withTempDir(async (dir) => {
      const log = openLog(dir, { segmentBytes: 1024 });
      for (let i = 0; i < 40; i++) await log.append(batchOf(`b${i}`, 1 + (i % 4)));
      const segments = log.segments;
      assert.ok(segments.length > 3, `expected several segments, got ${segments.length}`);
      await log.close();

      const partitionDir = path.join(dir, "events-0");
      const batches = scanPartition(partitionDir);
      const logFiles = fs.readdirSync(partitionDir).filter((f) => f.endsWith(".log")).sort();
      assert.deepEqual(logFiles, segments.map((s) => `${String(s.baseOffset).padStart(20, "0")}.log`));
      for (const file of logFiles) {
        assert.match(file, /^\d{20}\.log$/);
        const base = Number(file.slice(0, 20));
        const inFile = batches.filter((b) => b.file === path.join(partitionDir, file));
        assert.ok(inFile.length > 0, `${file} holds no batch`);
        assert.equal(inFile[0].baseOffset, base, `${file} must start with offset ${base}`);
        const size = fs.statSync(path.join(partitionDir, file)).size;
        assert.ok(size <= 1024, `${file} is ${size} bytes, over segmentBytes`);
        for (const ext of [".index", ".timeindex"]) {
          assert.ok(
            fs.existsSync(path.join(partitionDir, file.replace(".log", ext))),
            `${file} has no ${ext}`,
          );
        }
      }
      // A segment is rolled only when the next batch would not fit.
      for (let i = 0; i + 1 < logFiles.length; i++) {
        const size = fs.statSync(path.join(partitionDir, logFiles[i])).size;
        const next = batches.find((b) => b.file === path.join(partitionDir, logFiles[i + 1]))!;
        assert.ok(size + next.size > 1024, `segment ${logFiles[i]} rolled early`);
      }
      // Offsets are dense from 0 across the segments.
      assert.deepEqual(
        batches.flatMap((b) => b.records.map((r) => r.offset)),
        Array.from({ length: batches.at(-1)!.lastOffset + 1 }, (_, i) => i),
      );
    });
  });

  test("a batch larger than segmentBytes gets a segment of its own", async () => {
    await withTempDir(async (dir) => {
      const log = openLog(dir, { segmentBytes: 1024 });
      await log.append(batchOf("small", 2));
      const big = await log.append(batchOf("big", 30, undefined, 60));
      await log.append(batchOf("after", 1));
      assert.deepEqual(log.segments.map((s) => s.baseOffset), [0, big.baseOffset, big.lastOffset + 1]);
      assert.ok(log.segments[1].size > 1024);
      assert.equal(readAll(log).length, 33);
      await log.close();
    });
  });

  test("each .index entry points at the start of a batch that holds the entry's offset", async () => {
    await withTempDir(async (dir) => {
      const log = openLog(dir, { segmentBytes: 4096, indexIntervalBytes: 100 });
      for (let i = 0; i < 80; i++) await log.append(batchOf(`b${i}`, 1 + (i % 5)));
      await log.close();
      const partitionDir = path.join(dir, "events-0");
      const batches = scanPartition(partitionDir);
      let entries = 0;
      for (const file of fs.readdirSync(partitionDir).filter((f) => f.endsWith(".log"))) {
        const base = Number(file.slice(0, 20));
        const logPath = path.join(partitionDir, file);
        const inFile = batches.filter((b) => b.file === logPath);
        const index = readIndexFile(logPath.replace(/\.log$/, ".index"));
        if (fs.statSync(logPath).size > 300) assert.ok(index.length > 0, `${file} has no index entry`);
        let last = -1;
        for (const { rel, position } of index) {
          entries++;
          const offset = base + rel;
          assert.ok(offset > last, "index offsets grow");
          last = offset;
          const batch = inFile.find((b) => b.position === position);
          assert.ok(batch, `index entry (${offset}, ${position}) of ${file} is not at a batch start`);
          assert.ok(
            batch.baseOffset <= offset && offset <= batch.lastOffset,
            `batch at ${position} does not hold ${offset}`,
          );
        }
        const timeIndex = readTimeIndexFile(logPath.replace(/\.log$/, ".timeindex"));
        let lastTs = -1;
        const maxTs = Math.max(...inFile.flatMap((b) => b.records.map((r) => r.timestamp)));
        for (const { timestamp, rel } of timeIndex) {
          assert.ok(timestamp > lastTs, "time index timestamps grow");
          lastTs = timestamp;
          const holder = inFile.find((b) => b.baseOffset <= base + rel && base + rel <= b.lastOffset);
          assert.ok(holder, `time index offset ${base + rel} is not in ${file}`);
          // The timestamp is the largest seen up to that offset.
          const upTo = inFile.flatMap((b) => b.records).filter((r) => r.offset <= holder.lastOffset);
          assert.ok(timestamp <= Math.max(...upTo.map((r) => r.timestamp)));
        }
        // An inactive segment's last time index entry is its largest timestamp (Kafka's onBecomeInactiveSegment).
        assert.equal(timeIndex.at(-1)?.timestamp, maxTs);
      }
      assert.ok(entries > 5, `expected a good number of index entries, got ${entries}`);
    });
  });

  test("read() at any offset returns the batch holding it, as a plain scan finds it", async () => {
    await withTempDir(async (dir) => {
      const log = openLog(dir, { segmentBytes: 2048, indexIntervalBytes: 64 });
      for (let i = 0; i < 60; i++) await log.append(batchOf(`b${i}`, 1 + (i % 6)));
      await log.flush();
      const batches = scanPartition(path.join(dir, "events-0"));
      for (let offset = 0; offset < log.logEndOffset; offset++) {
        const holder = batches.find((b) => b.baseOffset <= offset && offset <= b.lastOffset)!;
        const data = log.read(offset, 1);
        assert.ok(data, `read(${offset}) returned null`);
        assert.equal(data.segment, holder.file, `segment of offset ${offset}`);
        assert.equal(data.position, holder.position, `position of offset ${offset}`);
        assert.equal(data.bytes.length, holder.size, "maxBytes 1 still returns one whole batch");
        const records = log.decode(data, offset);
        assert.equal(records[0].offset, offset);
        assert.equal(records.at(-1)!.offset, holder.lastOffset);
        assert.deepEqual(records, holder.records.filter((r) => r.offset >= offset));
        // A large read returns whole batches only, starting with the holder.
        const big = log.read(offset, 700)!;
        const bigRecords = log.decode(big, offset);
        assert.equal(bigRecords[0].offset, offset);
        assert.equal(big.next.offset, bigRecords.at(-1)!.offset + 1);
      }
      assert.equal(log.read(log.logEndOffset, 1000), null);
      await log.close();
    });
  });

  test("read() and decode() return every record in order, also with a cursor and toOffset", async () => {
    await withTempDir(async (dir) => {
      const log = openLog(dir, { segmentBytes: 1024, indexIntervalBytes: 0 });
      const written: string[] = [];
      for (let i = 0; i < 30; i++) {
        const count = 1 + (i % 4);
        await log.append(batchOf(`b${i}`, count));
        for (let j = 0; j < count; j++) written.push(`b${i}:${j}:`);
      }
      for (const maxBytes of [1, 100, 1000, 1 << 20]) {
        const records = readAll(log, 0, maxBytes);
        assert.deepEqual(records.map((r) => decoder.decode(r.value!).replace(/x+$/, "")), written);
        assert.deepEqual(records.map((r) => r.offset), written.map((_, i) => i));
      }
      const data = log.read(5, 1 << 20)!;
      assert.deepEqual(log.decode(data, 5, 9).map((r) => r.offset), [5, 6, 7, 8]);
      await log.close();
    });
  });

  test("offsetForTimestamp() finds the first record at or after a time, as a plain scan does (also after reopen and crash)", async () => {
    await withTempDir(async (dir) => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.array(fc.integer({ min: 0, max: 2000 }), { minLength: 1, maxLength: 6 }), {
            minLength: 1,
            maxLength: 40,
          }),
          fc.array(fc.integer({ min: -10, max: 2010 }), { maxLength: 10 }),
          fc.constantFrom("none", "close", "abandon"),
          async (batchTimes, extraTargets, reopen) => {
            const sub = path.join(dir, `run-${run++}`);
            let log = openLog(sub, { segmentBytes: 1024, indexIntervalBytes: 50 });
            for (let b = 0; b < batchTimes.length; b++) {
              await log.append(batchOf(`b${b}`, batchTimes[b].length, batchTimes[b].map((t) => T0 + t)));
            }
            if (reopen !== "none") {
              if (reopen === "close") await log.close();
              else log.abandon();
              log = openLog(sub, { segmentBytes: 1024, indexIntervalBytes: 50 });
            }
            const times = batchTimes.flat().map((t) => T0 + t);
            const targets = new Set([...times, ...times.map((t) => t + 1), ...times.map((t) => t - 1)]);
            for (const t of extraTargets) targets.add(T0 + t);
            for (const target of targets) {
              const first = times.findIndex((t) => t >= target);
              const expected = first < 0 ? null : { offset: first, timestamp: times[first] };
              assert.deepEqual(log.offsetForTimestamp(target), expected, `target T0+${target - T0}`);
            }
            await log.close();
            fs.rmSync(sub, { recursive: true, force: true });
          },
        ),
        fcParams(30),
      );
    });
  });

  test("append() throws RecordTooLargeError over maxMessageBytes and earlier records stay readable", async () => {
    await withTempDir(async (dir) => {
      const log = openLog(dir, { maxMessageBytes: 500, segmentBytes: 1024 });
      await log.append(batchOf("a", 3));
      await log.append(batchOf("b", 2));
      const big = batchOf("big", 20);
      assert.ok(big.length > 500);
      await assert.rejects(log.append(big), (err: unknown) => {
        assert.ok(err instanceof RecordTooLargeError);
        assert.equal(err.code, "MESSAGE_TOO_LARGE");
        assert.equal(err.size, big.length);
        assert.equal(err.maxSize, 500);
        return true;
      });
      assert.throws(() => log.appendBatch(big), RecordTooLargeError);
      assert.equal(log.logEndOffset, 5);
      assert.deepEqual(readAll(log).map((r) => decoder.decode(r.value!).slice(0, 3)), [
        "a:0",
        "a:1",
        "a:2",
        "b:0",
        "b:1",
      ]);
      const next = await log.append(batchOf("c", 1));
      assert.equal(next.baseOffset, 5);
      await log.close();
      const reopened = openLog(dir, { maxMessageBytes: 500, segmentBytes: 1024 });
      assert.equal(reopened.logEndOffset, 6);
      assert.equal(readAll(reopened).length, 6);
      await reopened.close();
    });
  });

  test("read() throws OffsetOutOfRangeError for an offset past the log end offset", async () => {
    await withTempDir(async (dir) => {
      const log = openLog(dir);
      await log.append(batchOf("a", 4));
      assert.equal(log.read(4, 100), null, "the log end offset itself is in range: nothing to read yet");
      for (const offset of [5, 100]) {
        assert.throws(() => log.read(offset, 100), (err: unknown) => {
          assert.ok(err instanceof OffsetOutOfRangeError);
          assert.equal(err.code, "OFFSET_OUT_OF_RANGE");
          assert.equal(err.topic, "events");
          assert.equal(err.partition, 0);
          assert.equal(err.offset, offset);
          assert.equal(err.logStartOffset, 0);
          assert.equal(err.logEndOffset, 4);
          assert.match(err.message, new RegExp(`offset ${offset} of "events-0".*log end offset 4`));
          return true;
        });
      }
      await log.close();
    });
  });

  test('with fsync "always", append() resolves once the high watermark has reached the batch', async () => {
    await withTempDir(async (dir) => {
      const log = openLog(dir, { fsync: "always" });
      for (let i = 0; i < 5; i++) {
        const info = await log.append(batchOf(`b${i}`, 2));
        assert.ok(log.highWatermark >= info.lastOffset + 1);
      }
      // appendBatch() alone does not acknowledge: readers do not see the batch before its fsync.
      const info = log.appendBatch(batchOf("unsynced", 3));
      assert.equal(log.logEndOffset, info.lastOffset + 1);
      assert.equal(log.highWatermark, info.baseOffset);
      assert.equal(log.read(info.baseOffset, 1000), null);
      await log.flush();
      assert.equal(log.highWatermark, info.lastOffset + 1);
      assert.equal(readAll(log).length, 13);
      await log.close();
    });
  });

  for (const fsync of ["never", "interval"] as const) {
    test(`with fsync "${fsync}", appendDeferred() batches are written together by writeDeferred() and acknowledged then`, async () => {
      await withTempDir(async (dir) => {
        const log = openLog(dir, { fsync });
        await log.append(batchOf("first", 2));
        const logFile = log.segments[0].path;
        let writes = 0;
        setFaultInjector((op) => {
          if (op.op === "write" && fs.fstatSync(op.fd).ino === fs.statSync(logFile).ino) writes++;
          return undefined;
        });
        try {
          let acked = 0;
          const held = Array.from(
            { length: 5 },
            (_, i) => log.appendDeferred(batchOf(`held${i}`, 3)).then((info) => (acked++, info)),
          );
          await Promise.resolve();
          assert.equal(log.logEndOffset, 17);
          assert.equal(log.highWatermark, 2, "readers do not see held-back batches");
          assert.equal(log.read(2, 1000), null);
          assert.equal(fs.statSync(logFile).size, log.segments[0].size - 5 * batchOf("held0", 3).length);
          assert.equal(acked, 0);
          log.writeDeferred();
          const infos = await Promise.all(held);
          assert.equal(writes, 1, "one write for the five batches");
          assert.deepEqual(infos.map((i) => i.baseOffset), [2, 5, 8, 11, 14]);
          assert.equal(log.highWatermark, 17);
          // A plain append after held-back batches writes them first, and acknowledges them too.
          const more = log.appendDeferred(batchOf("more", 1));
          await log.append(batchOf("plain", 1));
          assert.equal((await more).baseOffset, 17);
          assert.deepEqual(readAll(log).map((r) => r.offset), Array.from({ length: 19 }, (_, i) => i));
        } finally {
          setFaultInjector(undefined);
        }
        await log.close();
      });
    });
  }

  test("a failed write of held-back batches fails all of them, and the log carries on at the first one's offset", async () => {
    await withTempDir(async (dir) => {
      const log = openLog(dir, { fsync: "never" });
      await log.append(batchOf("first", 2));
      const size = log.segments[0].size;
      setFaultInjector((op) =>
        op.op === "write" && op.length > 100
          ? { writtenBytes: 10, error: Object.assign(new Error("ENOSPC: no space left"), { code: "ENOSPC" }) }
          : undefined
      );
      let results: PromiseSettledResult<unknown>[];
      try {
        const held = [log.appendDeferred(batchOf("a", 2)), log.appendDeferred(batchOf("b", 2))];
        log.writeDeferred();
        results = await Promise.allSettled(held);
      } finally {
        setFaultInjector(undefined);
      }
      for (const r of results) {
        assert.equal(r.status, "rejected");
        assert.ok((r as PromiseRejectedResult).reason instanceof StorageError);
      }
      assert.equal(log.logEndOffset, 2);
      assert.equal(log.segments[0].size, size);
      assert.equal(fs.statSync(log.segments[0].path).size, size, "the torn write is cut off");
      assert.equal((await log.append(batchOf("c", 1))).baseOffset, 2);
      // abandon(): batches still held back are never acknowledged.
      const lost = log.appendDeferred(batchOf("lost", 1));
      log.abandon();
      await assert.rejects(lost, StorageError);
    });
  });

  test('with fsync "always", 300 producers share few writes and fdatasyncs, and each is acknowledged only once covered', async () => {
    await withTempDir(async (dir) => {
      const log = openLog(dir, { fsync: "always" });
      const logFile = log.segments[0].path;
      const isLog = (fd: number) => fs.fstatSync(fd).ino === fs.statSync(logFile).ino;
      let writes = 0;
      const syncedSizes: number[] = []; // the file size each fdatasync of the .log file covers
      setFaultInjector((op) => {
        if (!isLog(op.fd)) return undefined;
        if (op.op === "write") writes++;
        if (op.op === "sync") syncedSizes.push(fs.fstatSync(op.fd).size);
        return undefined;
      });
      try {
        const producers = Array.from({ length: 300 }, async (_, p) => {
          for (let round = 0; round < 3; round++) {
            const info = await log.append(batchOf(`p${p}r${round}`, 2));
            // Acknowledged: readers see it, and an fdatasync that started after it was written covered it.
            assert.ok(log.highWatermark > info.lastOffset);
            const end = log.read(info.baseOffset, 1 << 20)!;
            assert.ok(syncedSizes.some((size) => size >= end.position + batchSize(end.bytes, 0)));
          }
        });
        await Promise.all(producers);
      } finally {
        setFaultInjector(undefined);
      }
      assert.equal(log.logEndOffset, 1800);
      assert.ok(writes <= 900 / 20, `${writes} writes for 900 appends`);
      assert.ok(syncedSizes.length <= 900 / 20, `${syncedSizes.length} fdatasyncs for 900 appends`);
      assert.equal(readAll(log).length, 1800);
      await log.close();
    });
  });

  for (const fsync of ["always", "interval", "never"] as const) {
    test(`with fsync "${fsync}", 50 concurrent appends get distinct dense offsets`, async () => {
      await withTempDir(async (dir) => {
        const log = openLog(dir, { fsync, segmentBytes: 1024 });
        const counts = Array.from({ length: 50 }, (_, i) => 1 + (i % 3));
        const infos = await Promise.all(counts.map((n, i) => log.append(batchOf(`c${i}`, n))));
        const ranges = infos.map((info, i) => {
          assert.equal(info.lastOffset - info.baseOffset + 1, counts[i]);
          return [info.baseOffset, info.lastOffset] as const;
        }).sort((a, b) => a[0] - b[0]);
        let next = 0;
        for (const [base, last] of ranges) {
          assert.equal(base, next);
          next = last + 1;
        }
        const total = counts.reduce((a, b) => a + b, 0);
        assert.equal(next, total);
        assert.equal(log.highWatermark, total);
        // Each batch's records carry the batch's own values, at the offsets it was given.
        const records = readAll(log);
        infos.forEach((info, i) => {
          for (let j = 0; j < counts[i]; j++) {
            assert.equal(
              decoder.decode(records[info.baseOffset + j].value!).split(":").slice(0, 2).join(":"),
              `c${i}:${j}`,
            );
          }
        });
        await log.close();
      });
    });
  }

  test("roll() starts a new segment at the log end offset; an empty active segment is not rolled", async () => {
    await withTempDir(async (dir) => {
      const log = openLog(dir, { segmentBytes: 1 << 20 });
      assert.equal(log.roll(), 0, "rolling an empty segment keeps it");
      await log.append(batchOf("a", 3));
      assert.equal(log.roll(), 3);
      assert.equal(log.roll(), 3);
      await log.append(batchOf("b", 2));
      assert.deepEqual(log.segments.map((s) => s.baseOffset), [0, 3]);
      assert.equal(readAll(log).length, 5);
      await log.close();
    });
  });

  test("a segment is rolled when record timestamps span more than segmentMs", async () => {
    await withTempDir(async (dir) => {
      const log = openLog(dir, { segmentBytes: 1 << 20, segmentMs: 1000 });
      await log.append(batchOf("a", 1, [T0]));
      await log.append(batchOf("b", 1, [T0 + 1000]));
      assert.equal(log.segments.length, 1);
      await log.append(batchOf("c", 1, [T0 + 1001]));
      assert.deepEqual(log.segments.map((s) => s.baseOffset), [0, 2]);
      await log.close();
    });
  });

  test("append() and read() throw StorageError after close()", async () => {
    await withTempDir(async (dir) => {
      const log = openLog(dir);
      await log.append(batchOf("a", 1));
      await log.close();
      assert.equal(log.closed, true);
      await assert.rejects(log.append(batchOf("b", 1)), StorageError);
      assert.throws(() => log.read(0, 100), StorageError);
    });
  });
});
