import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type LogDirectory, open, type ProducerRecord, type Topic } from "../../mod.ts";
import { ROOT, RUNTIME, type Runtime, scriptCommand } from "../_runtime.ts";
import { plain } from "../_plain_record.ts";

const SCRIPT = path.join(ROOT, "tests", "integration", "read_log.ts");
const THIS_RUNTIME = RUNTIME;
/** The reader: the runtimes in a ring (Deno → Bun → Node → Deno), so each reads what another wrote. */
const OTHER_RUNTIME: Runtime = ({ deno: "bun", bun: "node", node: "deno" } as const)[THIS_RUNTIME];
const T0 = 1_700_000_000_000;

interface Dump {
  runtime: string;
  topics: Record<string, {
    partitions: number;
    config: Record<string, unknown>;
    loadReports: { clean: boolean; segmentsRecovered: number; truncatedBytes: number }[];
    records: ReturnType<typeof plain>[];
  }>;
}

/** Runs read_log.ts under the other runtime and parses what it prints. */
function readWithOtherRuntime(dir: string): Promise<Dump> {
  const [bin, args] = scriptCommand(SCRIPT, [dir], OTHER_RUNTIME);
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out: Uint8Array[] = [];
    const err: Uint8Array[] = [];
    child.stdout!.on("data", (c: Uint8Array) => out.push(c));
    child.stderr!.on("data", (c: Uint8Array) => err.push(c));
    child.on("error", reject);
    child.on("close", (code: number | null) => {
      const stdout = Buffer.concat(out).toString("utf8");
      const stderr = Buffer.concat(err).toString("utf8");
      if (code !== 0) {
        reject(new Error(`${OTHER_RUNTIME} read_log.ts exited with ${code}:\n${stderr}\n${stdout}`));
        return;
      }
      try {
        resolve(JSON.parse(stdout.trim().split("\n").at(-1)!));
      } catch (e) {
        reject(
          new Error(`cannot parse the output of ${OTHER_RUNTIME} read_log.ts: ${e}\n${stdout}\n${stderr}`),
        );
      }
    });
  });
}

async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-cross-runtime-"));
  try {
    return await fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A mixed set of records: keyed and not, null values, binary bytes, headers, old and new timestamps. */
function sampleRecords(n: number, label: string): ProducerRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    key: i % 5 === 0 ? null : `${label}-key-${i % 13}`,
    value: i % 17 === 0
      ? null
      : i % 3 === 0
      ? new Uint8Array([i & 0xff, 0, 255, (i * 7) & 0xff])
      : `${label} value ${i} ✓`,
    headers: i % 4 === 0 ? { trace: `t${i}`, empty: null } : undefined,
    timestamp: T0 + ((i * 7919) % 5000),
  }));
}

async function readEverything(topic: Topic) {
  const out = [];
  for (let p = 0; p < topic.partitions; p++) {
    for await (const r of topic.readable({ partitions: p })) out.push(plain(r));
  }
  return out;
}

async function writeTopics(log: LogDirectory) {
  const plainTopic = await log.createTopic("plain", {
    partitions: 3,
    config: { segmentBytes: 2048, indexIntervalBytes: 128, fsync: "never" },
  });
  await plainTopic.append(sampleRecords(300, "plain"));
  await ReadableStream.from(sampleRecords(200, "streamed")).pipeTo(
    plainTopic.writable({ batchSize: 400, lingerMs: 0 }),
  );
  const compressed = await log.createTopic("compressed", {
    partitions: 2,
    config: { segmentBytes: 4096, indexIntervalBytes: 256, fsync: "always" },
  });
  for (const compression of [1, 2, 3] as const) {
    await compressed.append(sampleRecords(60, `codec${compression}`), { compression });
  }
  return { plainTopic, compressed };
}

describe(`cross-runtime (written by ${THIS_RUNTIME}, read by ${OTHER_RUNTIME})`, () => {
  test(`${OTHER_RUNTIME} reads exactly what ${THIS_RUNTIME} wrote, after a clean close`, async () => {
    await withTempDir(async (dir) => {
      const log = await open(dir);
      const { plainTopic, compressed } = await writeTopics(log);
      const expected = {
        plain: await readEverything(plainTopic),
        compressed: await readEverything(compressed),
      };
      assert.equal(expected.plain.length, 500);
      assert.equal(expected.compressed.length, 180);
      assert.ok(plainTopic.describe().some((d) => d.segments > 1), "segments rolled");
      await log.close();

      const dump = await readWithOtherRuntime(dir);
      assert.equal(dump.runtime, OTHER_RUNTIME);
      assert.deepEqual(Object.keys(dump.topics).sort(), ["compressed", "plain"]);
      assert.equal(dump.topics.plain.partitions, 3);
      assert.equal(dump.topics.plain.config.segmentBytes, 2048);
      assert.equal(dump.topics.compressed.config.fsync, "always");
      assert.deepEqual(dump.topics.plain.records, expected.plain);
      assert.deepEqual(dump.topics.compressed.records, expected.compressed);
      for (const report of [...dump.topics.plain.loadReports, ...dump.topics.compressed.loadReports]) {
        assert.deepEqual(report, { clean: true, segmentsRecovered: 0, truncatedBytes: 0 });
      }

      // Back in this runtime: the other one closed cleanly too, and appends continue.
      const again = await open(dir);
      const t = again.topic("plain");
      assert.ok(t.logs.every((l) => l.loadReport.clean));
      assert.deepEqual(await readEverything(t), expected.plain);
      const [m] = await t.append([{ value: "one more", partition: 1 }]);
      assert.equal(m.offset, expected.plain.filter((r) => r.partition === 1).length);
      await again.close();
    });
  });

  test(`${OTHER_RUNTIME} recovers a log ${THIS_RUNTIME} left after a crash, torn tail included`, async () => {
    await withTempDir(async (dir) => {
      const log = await open(dir);
      const topic = await log.createTopic("crashed", {
        partitions: 2,
        config: { segmentBytes: 1024, indexIntervalBytes: 64, fsync: "never" },
      });
      await topic.append(sampleRecords(150, "crash"));
      const expected = await readEverything(topic);
      // A torn write at the end of partition 1: half a batch's worth of garbage.
      const active = topic.partition(1).segments.at(-1)!.path;
      for (const l of topic.logs) l.abandon();
      fs.appendFileSync(active, new Uint8Array(37).fill(0xab));

      const dump = await readWithOtherRuntime(dir);
      const got = dump.topics.crashed;
      assert.deepEqual(got.records, expected);
      assert.ok(got.loadReports.every((r) => !r.clean && r.segmentsRecovered >= 1));
      assert.equal(got.loadReports[1].truncatedBytes, 37);
      assert.equal(got.loadReports[0].truncatedBytes, 0);
    });
  });
});
