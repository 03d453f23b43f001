// Corruption inside a sealed segment, and `reel verify`.
//
// A sealed segment is not scanned when a directory opens (after a clean close, or when it lies
// before the recovery point): damage there is caught by the CRC-32C on every read, as a
// CorruptRecordError (CORRUPT_MESSAGE) naming the topic, partition, segment file and position;
// never a damaged record handed out. `reel verify --dir D`, run here as a child process, reads
// everything without changing anything and reports such damage per partition, with exit status 1.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import { type ConsumedRecord, CorruptRecordError, type LogDirectory, open, type Topic } from "../../mod.ts";
import { CODECS } from "../_runtime.ts";
import {
  envInt,
  fcParams,
  fraction,
  prng,
  recordHash,
  ROOT,
  RUNTIME,
  runtimeCommand,
  scanValidBatches,
  segmentFiles,
  snapshot,
  spawnLines,
  stress,
  withTempDir,
} from "./_helpers.ts";

const RUNS = envInt("REEL_CORRUPTION_RUNS", 40);
const MAIN = path.join(ROOT, "src", "cli", "main.ts");
const T0 = 1_700_000_000_000;

/** A topic of two partitions with several sealed segments each; returns each partition's record hashes. */
async function fill(dir: string, seed: number): Promise<string[][]> {
  const log = await open(dir);
  const topic = await log.createTopic("events", {
    partitions: 2,
    config: { segmentBytes: 1500, indexIntervalBytes: 200 },
  });
  const random = prng(seed);
  const hashes: string[][] = [[], []];
  for (let i = 0; i < 40; i++) {
    const p = i % 2;
    const records = Array.from({ length: 1 + Math.floor(random() * 4) }, (_, j) => ({
      partition: p,
      key: `k${j}`,
      value: Uint8Array.from({ length: Math.floor(random() * 120) }, () => (random() * 256) | 0),
      timestamp: T0 + i * 10 + j,
    }));
    const compression = random() < 0.15 ? CODECS[1 + Math.floor(random() * (CODECS.length - 1))] : 0;
    await topic.append(records, { compression });
    for (const r of records) {
      hashes[p].push(
        recordHash({
          key: new TextEncoder().encode(r.key),
          value: r.value,
          headers: [],
          timestamp: r.timestamp,
        }),
      );
    }
  }
  await log.close();
  return hashes;
}

/**
 * Reads a partition one batch at a time (maxBytes 1): with bigger reads the records before a
 * damaged batch in the same read are lost, the reported bug "records before a corrupt batch …"
 * (reported_bugs_test.ts).
 */
async function read(topic: Topic, partition: number, from: number | "earliest" = "earliest") {
  const records: ConsumedRecord[] = [];
  try {
    for await (const r of topic.readable({ partitions: partition, from, maxBytes: 1 })) records.push(r);
    return { records };
  } catch (error) {
    return { records, error };
  }
}

/** Runs `reel …` on this runtime. */
async function reel(args: string[]): Promise<{ status: number | null; stdout: string[]; stderr: string }> {
  const [cmd, cmdArgs] = runtimeCommand(MAIN, args);
  const child = spawnLines(cmd, cmdArgs);
  const stdout: string[] = [];
  for (let line = await child.nextLine(); line !== null; line = await child.nextLine()) stdout.push(line);
  const { code, stderr } = await child.exited;
  return { status: code, stdout, stderr };
}

describe(`corruption in a sealed segment (${RUNTIME})`, () => {
  test(
    "a damaged byte in a sealed segment: reads give every record before the damaged batch, then CORRUPT_MESSAGE naming where; never a damaged record",
    { timeout: stress(300_000) },
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1 }),
          fc.integer({ min: 0, max: 1 }),
          fraction,
          fraction,
          fc.integer({ min: 1, max: 255 }),
          fc.constantFrom("close", "crash"),
          async (seed, p, pickSegment, pickByte, xor, ending) => {
            await withTempDir("sealed", async (dir) => {
              const written = await fill(dir, seed);
              const files = segmentFiles(path.join(dir, `events-${p}`));
              assert.ok(files.length >= 2, "the partition has sealed segments");
              const sealed = files[Math.floor(pickSegment * (files.length - 1))];
              const bytes = new Uint8Array(fs.readFileSync(sealed));
              const batches = scanValidBatches(bytes);
              // A byte the CRC-32C or the magic check covers, from the magic byte (16) to the
              // batch's end, but for those a read steps over batches by (baseOffset and batchLength,
              // outside the CRC, and lastOffsetDelta, bytes 23-26): reported_bugs_test.ts.
              const covered = batches.flatMap((b) =>
                Array.from({ length: b.size - 16 }, (_, i) => b.position + 16 + i)
                  .filter((x) => x - b.position < 23 || x - b.position >= 27)
              );
              const at = covered[Math.floor(pickByte * covered.length)];
              const victim = batches.find((b) => at >= b.position && at < b.position + b.size)!;
              bytes[at] ^= xor;
              fs.writeFileSync(sealed, bytes);
              let log: LogDirectory = await open(dir);
              if (ending === "crash") {
                // A crash after this open: the next open scans only from the recovery point on.
                const topic = log.topic("events");
                await topic.append([{ partition: p, value: "x" }]);
                written[p].push(
                  recordHash({ key: null, value: new TextEncoder().encode("x"), headers: [], timestamp: 0 }),
                );
                for (const l of topic.logs) l.abandon();
                log = await open(dir);
              }
              try {
                const topic = log.topic("events");
                const { records, error } = await read(topic, p);
                assert.deepEqual(
                  records.map((r) => `${r.offset}:${recordHash(r)}`),
                  written[p].slice(0, victim.baseOffset).map((h, i) => `${i}:${h}`),
                  "every record before the damaged batch, and nothing else",
                );
                assert.ok(
                  error instanceof CorruptRecordError,
                  `reading on fails with CorruptRecordError, not ${error}`,
                );
                assert.equal(error.code, "CORRUPT_MESSAGE");
                assert.equal(error.errorCode, 2);
                assert.equal(error.topic, "events");
                assert.equal(error.partition, p);
                assert.equal(error.segment, sealed);
                assert.equal(error.position, victim.position);
                for (const part of [`"events-${p}"`, sealed, `position ${victim.position}`]) {
                  assert.ok(error.message.includes(part), `the message names ${part}: ${error.message}`);
                }
                // Any read that reaches the damaged batch fails the same way.
                for (const from of [victim.baseOffset, victim.lastOffset]) {
                  const again = await read(topic, p, from);
                  assert.deepEqual(again.records, []);
                  assert.ok(again.error instanceof CorruptRecordError);
                }
                // Records after it still read.
                const after = victim.lastOffset + 1;
                const rest = await read(topic, p, after);
                assert.equal(rest.error, undefined);
                const expectedRest = written[p].slice(after);
                if (ending === "crash") expectedRest.pop(); // its timestamp was the append time
                assert.deepEqual(
                  rest.records.slice(0, expectedRest.length).map((r) => recordHash(r)),
                  expectedRest,
                );
                // The other partition is untouched.
                const other = await read(topic, 1 - p);
                assert.equal(other.error, undefined);
                assert.equal(other.records.length, written[1 - p].length);
              } finally {
                await log.close();
              }
            });
          },
        ),
        fcParams(RUNS),
      );
    },
  );
});

describe(`reel verify (${RUNTIME})`, () => {
  test(
    "reports every partition ok and exits 0 on a healthy directory, changing nothing",
    { timeout: stress(60_000) },
    async () => {
      await withTempDir("verify-ok", async (dir) => {
        await fill(dir, 1);
        const before = snapshot(dir);
        const { status, stdout, stderr } = await reel(["verify", "--dir", dir]);
        assert.equal(status, 0, stderr);
        assert.equal(stdout.length, 3, stdout.join("\n"));
        assert.match(
          stdout[0],
          /^events-0: ok \(\d+ segments, \d+ batches, \d+ records, offsets 0 to \d+, \d+ bytes\)$/,
        );
        assert.match(stdout[1], /^events-1: ok /);
        assert.equal(stdout[2], "verified 2 partitions: 2 ok, 0 with problems");
        assert.deepEqual(snapshot(dir), before, "verify changes nothing");
      });
    },
  );

  test(
    "finds a CRC error, a torn tail, a missing index, a misplaced index entry and an offset gap, exits 1, and changes nothing",
    {
      timeout: stress(120_000),
    },
    async () => {
      await withTempDir("verify-bad", async (dir) => {
        await fill(dir, 2);
        const p0 = segmentFiles(path.join(dir, "events-0"));
        const p1 = segmentFiles(path.join(dir, "events-1"));
        // events-0: a flipped byte in a sealed segment's second batch, and the active segment torn.
        const sealed = new Uint8Array(fs.readFileSync(p0[0]));
        const second = scanValidBatches(sealed)[1];
        sealed[second.position + second.size - 1] ^= 0x01;
        fs.writeFileSync(p0[0], sealed);
        const active = p0.at(-1)!;
        fs.truncateSync(active, fs.statSync(active).size - 5);
        // events-1: the first segment's .index deleted, the second's first entry moved, and the
        // last batch's baseOffset (outside the CRC) changed.
        fs.rmSync(p1[0].replace(/\.log$/, ".index"));
        const index = p1[1].replace(/\.log$/, ".index");
        const entries = new Uint8Array(fs.readFileSync(index));
        assert.ok(entries.length >= 8, "the segment has index entries");
        new DataView(entries.buffer).setInt32(4, new DataView(entries.buffer).getInt32(4) + 3);
        fs.writeFileSync(index, entries);
        const last = p1.at(-1)!;
        const lastBytes = new Uint8Array(fs.readFileSync(last));
        const lastBatch = scanValidBatches(lastBytes).at(-1)!;
        new DataView(lastBytes.buffer).setInt32(lastBatch.position + 4, lastBatch.baseOffset + 7);
        fs.writeFileSync(last, lastBytes);
        const before = snapshot(dir);

        const { status, stdout } = await reel(["verify", "--dir", dir]);
        assert.equal(status, 1, stdout.join("\n"));
        const text = stdout.join("\n");
        const name = (f: string) => path.basename(f);
        assert.match(text, /^events-0: \d+ problems? /m);
        assert.ok(text.includes(`${name(p0[0])} position ${second.position}: CRC-32C mismatch`), text);
        assert.ok(new RegExp(`${name(active)} position \\d+: a torn tail`).test(text), text);
        assert.match(text, /^events-1: \d+ problems? /m);
        assert.ok(text.includes(`${name(p1[0]).replace(".log", ".index")}: missing`), text);
        assert.ok(
          text.includes(`${name(index)} entry 0: position`) && text.includes("is not the start of a batch"),
          text,
        );
        assert.ok(
          text.includes(
            `${name(last)} position ${lastBatch.position}: the batch starts at offset ${
              lastBatch.baseOffset + 7
            }`,
          ),
          text,
        );
        assert.equal(stdout.at(-1), "verified 2 partitions: 0 ok, 2 with problems");
        assert.deepEqual(snapshot(dir), before, "verify changes nothing");

        // --topic picks one topic; an unknown one is an error.
        const one = await reel(["verify", "--dir", dir, "--topic", "events"]);
        assert.equal(one.status, 1);
        const unknown = await reel(["verify", "--dir", dir, "--topic", "nope"]);
        assert.equal(unknown.status, 1);
        assert.match(unknown.stderr, /^reel: Cannot find topic "nope"/);
      });
    },
  );

  test(
    "after an open repairs a torn tail and rebuilds a missing index, verify exits 0",
    { timeout: stress(60_000) },
    async () => {
      await withTempDir("verify-repair", async (dir) => {
        await fill(dir, 3);
        const files = segmentFiles(path.join(dir, "events-1"));
        fs.truncateSync(files.at(-1)!, fs.statSync(files.at(-1)!).size - 3);
        fs.rmSync(files[0].replace(/\.log$/, ".timeindex"));
        assert.equal((await reel(["verify", "--dir", dir])).status, 1);
        const log = await open(dir);
        await log.close();
        const { status, stdout } = await reel(["verify", "--dir", dir]);
        assert.equal(status, 0, stdout.join("\n"));
      });
    },
  );

  test(
    "a directory that does not exist is an error with one line on stderr",
    { timeout: stress(60_000) },
    async () => {
      await withTempDir("verify-none", async (dir) => {
        const { status, stdout, stderr } = await reel(["verify", "--dir", path.join(dir, "nope")]);
        assert.equal(status, 1);
        assert.deepEqual(stdout, []);
        assert.match(stderr, /^reel: Cannot verify log directory .*nope: it does not exist\n$/);
        const usage = await reel(["verify"]);
        assert.equal(usage.status, 2);
      });
    },
  );
});
