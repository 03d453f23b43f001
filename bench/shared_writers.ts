// The cost of sharing a partition between producer processes (issue 13, item 6): the writer role
// passes between processes (given back when another waits, see src/log/writer_roles.ts), so two
// processes can produce to one topic; this measures what that costs against one process alone.
//
//   deno run -A bench/shared_writers.ts [records per producer=50000] [records per append=10]
//   bun bench/shared_writers.ts [records per producer=50000] [records per append=10]
//
// (ten times as many records per producer under "interval", so that the producers overlap).
//
// For each fsync policy ("always", "interval") and partition count (1, 4), it times:
//   - one producer process appending 2 × N records (`append` of R records of 100 bytes, awaited
//     one after the other);
//   - two producer processes appending N records each at the same time;
// and prints records/s of each and their ratio, plus how often the writer role changed hands
// (counted from the records' order in each partition). Each producer runs in a child process of
// this runtime; the time is from the first child's start to the last one's end.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { open } from "../mod.ts";
import type { FsyncPolicy } from "../src/log/log_config.ts";

const HERE = fileURLToPath(import.meta.url);
const RUNTIME = "Bun" in globalThis ? "bun" : "deno";

if (process.argv.includes("--producer")) {
  const [dir, id, count, perAppend] = process.argv.slice(process.argv.indexOf("--producer") + 1);
  const log = await open(dir, { retentionCheckIntervalMs: 0 });
  const topic = log.topic("shared");
  const value = new Uint8Array(100).fill(id.charCodeAt(0));
  const n = Number(count), r = Number(perAppend);
  for (let i = 0; i < n; i += r) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + r); j++) batch.push({ key: `${id}${j % 64}`, value });
    await topic.append(batch);
  }
  await log.close();
  process.exit(0);
}

function runProducer(dir: string, id: string, count: number, perAppend: number): Promise<void> {
  const args = [HERE, "--producer", dir, id, String(count), String(perAppend)];
  const child = spawn(process.execPath, RUNTIME === "deno" ? ["run", "-A", "--quiet", ...args] : args, {
    stdio: ["ignore", "inherit", "inherit"],
  });
  return new Promise((resolve, reject) =>
    child.on("close", (code) => code === 0 ? resolve() : reject(new Error(`producer ${id} exited ${code}`)))
  );
}

async function trial(
  fsync: FsyncPolicy,
  partitions: number,
  producers: string[],
  perProducer: number,
  perAppend: number,
) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-shared-bench-"));
  try {
    const setup = await open(dir, { retentionCheckIntervalMs: 0 });
    await setup.createTopic("shared", { partitions, config: { fsync } });
    await setup.close();
    const start = performance.now();
    await Promise.all(producers.map((id) => runProducer(dir, id, perProducer, perAppend)));
    const seconds = (performance.now() - start) / 1000;
    // Check and count: every record there, and how many times the writer changed.
    const log = await open(dir, { retentionCheckIntervalMs: 0 });
    let records = 0, handoffs = 0;
    for (let p = 0; p < partitions; p++) {
      let last = -1;
      for await (const batch of log.topic("shared").readableBatches({ partitions: p })) {
        for (const r of batch) {
          const owner = r.value![0];
          if (last >= 0 && owner !== last) handoffs++;
          last = owner;
          records++;
        }
      }
    }
    await log.close();
    if (records !== producers.length * perProducer) {
      throw new Error(`expected ${producers.length * perProducer} records, read ${records}`);
    }
    return { recordsPerSecond: records / seconds, handoffs };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const perProducer = Number(process.argv[2] ?? 50_000);
const perAppend = Number(process.argv[3] ?? 10);
console.log(
  `${RUNTIME} ${
    process.versions[RUNTIME === "bun" ? "bun" : "deno"]
  }: ${perAppend} records of 100 B per append`,
);
console.log("| fsync | partitions | 1 process, 2N records | 2 processes, N each | ratio | writer changes |");
console.log("|---|---|---|---|---|---|");
for (const fsync of ["always", "interval"] as const) {
  // Ten times the records without fsyncs, so that the two producers overlap for long.
  const n = fsync === "always" ? perProducer : 10 * perProducer;
  for (const partitions of [1, 4]) {
    const one = await trial(fsync, partitions, ["a"], 2 * n, perAppend);
    const two = await trial(fsync, partitions, ["a", "b"], n, perAppend);
    const k = (x: number) => `${(x / 1000).toFixed(1)} k rec/s`;
    console.log(
      `| ${fsync} | ${partitions} | ${k(one.recordsPerSecond)} | ${k(two.recordsPerSecond)} | ${
        (two.recordsPerSecond / one.recordsPerSecond).toFixed(2)
      } | ${two.handoffs} |`,
    );
  }
}
