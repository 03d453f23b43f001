// Compaction throughput: writes a topic of MB megabytes over KEYS keys (100-byte values, 1000
// records per batch, 64 MiB segments), compacts it with `topic.compact()` and prints the MB/s read
// by the cleaner, then the append rate of a second producer while a cleaning round runs and
// without one.
//
// Usage: deno run -A bench/compaction.ts [MB=1024] [KEYS=1000000]   (or: bun bench/compaction.ts …)

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { open } from "../mod.ts";

const MB = Number(process.argv[2] ?? 1024);
const KEYS = Number(process.argv[3] ?? 1_000_000);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-bench-compaction-"));
const value = "v".repeat(100);

async function fill(
  topic: Awaited<ReturnType<Awaited<ReturnType<typeof open>>["createTopic"]>>,
  bytes: number,
) {
  let written = 0, i = 0;
  while (written < bytes) {
    const records = Array.from(
      { length: 1000 },
      () => ({ key: `key-${(i++ * 7919) % KEYS}`, value, partition: 0 }),
    );
    await topic.append(records);
    written += 1000 * 130;
  }
}

/** Appends for `ms` and returns records per second. */
async function appendRate(
  topic: Awaited<ReturnType<Awaited<ReturnType<typeof open>>["createTopic"]>>,
  ms: number,
): Promise<number> {
  const end = performance.now() + ms;
  let n = 0, i = 0;
  const start = performance.now();
  while (performance.now() < end) {
    await topic.append(
      Array.from({ length: 1000 }, () => ({ key: `hot-${i++ % 1000}`, value, partition: 0 })),
    );
    n += 1000;
  }
  return n / ((performance.now() - start) / 1000);
}

try {
  const log = await open(dir, { retentionCheckIntervalMs: 0 });
  const topic = await log.createTopic("table", {
    config: { cleanupPolicy: "compact", segmentBytes: 64 * 1024 * 1024, fsync: "never" },
  });
  await fill(topic, MB * 1024 * 1024);
  const baseline = await appendRate(topic, 3000);
  topic.partition(0).roll();
  const before = topic.describe()[0].bytes;
  const started = performance.now();
  const round = topic.compact();
  const during = await appendRate(topic, 3000);
  const [stats] = await round;
  const seconds = (performance.now() - started) / 1000;
  const segments = topic.partition(0).segments;
  const after = segments.filter((s) => s.baseOffset < stats.firstUncleanableOffset).reduce(
    (n, s) => n + s.size,
    0,
  );
  console.log(
    `compacted ${(stats.bytesRead / 1e6).toFixed(0)} MB (${stats.recordsRead} records, ${stats.keys} keys) ` +
      `into ${(stats.bytesWritten / 1e6).toFixed(0)} MB in ${seconds.toFixed(1)} s: ` +
      `${(stats.bytesRead / 1e6 / seconds).toFixed(0)} MB/s; the cleaned part ${
        (before / 1e6).toFixed(0)
      } MB -> ` +
      `${(after / 1e6).toFixed(0)} MB`,
  );
  console.log(
    `append rate (1000-record batches, 100 B values): ${
      (baseline / 1e3).toFixed(0)
    } k/s without the cleaner, ` +
      `${(during / 1e3).toFixed(0)} k/s while it runs`,
  );
  await log.close();
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
