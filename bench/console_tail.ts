// The console's memory while a live tail follows a fast topic (issue 17): `reel console` runs as a
// child process of this runtime, a writer child appends 100-byte records at a fixed rate (default
// 100 k records/s), and this process reads the partition's live tail (Server-Sent Events) and
// samples the console's resident set size (VmRSS from /proc) once a second.
//
//   deno run -A bench/console_tail.ts [seconds=30] [records/s=100000] [tail rate=100]
//   bun bench/console_tail.ts [seconds=30] [records/s=100000] [tail rate=100]
//
// It prints one line per sample and a summary: the records appended, the tail's record and skipped
// events, and the RSS at the first sample, its maximum and at the end. Linux only (/proc).
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { open } from "../mod.ts";

const HERE = fileURLToPath(import.meta.url);
const MAIN = path.join(path.dirname(HERE), "..", "src", "cli", "main.ts");
const RUNTIME = "Bun" in globalThis ? "bun" : "deno";
const run = (script: string, args: string[]) =>
  spawn(
    process.execPath,
    RUNTIME === "deno" ? ["run", "-A", "--quiet", script, ...args] : [script, ...args],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );

if (process.argv.includes("--writer")) {
  // The writer: appends `rate` records a second, 1000 at a time, for `seconds`.
  const [dir, rate, seconds] = process.argv.slice(process.argv.indexOf("--writer") + 1);
  const log = await open(dir);
  const topic = log.topic("fast");
  const value = new Uint8Array(100).fill(97);
  const batch = Array.from({ length: 1000 }, () => ({ value, partition: 0 }));
  const start = performance.now();
  let sent = 0;
  while (performance.now() - start < Number(seconds) * 1000) {
    await topic.append(batch);
    sent += batch.length;
    const due = start + (sent / Number(rate)) * 1000;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  process.stdout.write(`${sent}\n`);
  await log.close();
  process.exit(0);
}

const seconds = Number(process.argv[2] ?? 30);
const rate = Number(process.argv[3] ?? 100_000);
const tailRate = Number(process.argv[4] ?? 100);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-console-bench-"));
const setup = await open(dir);
await setup.createTopic("fast", {
  partitions: 1,
  config: { segmentBytes: 64 << 20, retentionBytes: 256 << 20 },
});
await setup.close();

const consoleChild = run(MAIN, ["console", "--dir", dir, "--listen", "127.0.0.1:0"]);
const port = await new Promise<number>((resolve, reject) => {
  let err = "";
  consoleChild.stderr!.setEncoding("utf8").on("data", (c: string) => {
    err += c;
    const m = err.match(/listening on http:\/\/127\.0\.0\.1:(\d+)\//);
    if (m) resolve(Number(m[1]));
  });
  consoleChild.on("exit", (code) => reject(new Error(`reel console exited (${code}): ${err}`)));
});
const rss = () => {
  const status = fs.readFileSync(`/proc/${consoleChild.pid}/status`, "utf8");
  return Number(status.match(/VmRSS:\s+(\d+) kB/)![1]) / 1024;
};

const abort = new AbortController();
const response = await fetch(
  `http://127.0.0.1:${port}/topics/fast/partitions/0/tail/events?rate=${tailRate}`,
  {
    signal: abort.signal,
  },
);
let records = 0, skipped = 0, skippedOffsets = 0;
const reading = (async () => {
  let buffer = "";
  try {
    for await (const chunk of response.body!.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (block.includes("event: record")) records++;
        else if (block.includes("event: skipped")) {
          skipped++;
          const d = JSON.parse(block.slice(block.indexOf("data: ") + 6));
          skippedOffsets += d.to - d.from;
        }
      }
    }
  } catch {
    // aborted at the end
  }
})();

const writer = run(HERE, ["--writer", dir, String(rate), String(seconds)]);
let appended = 0;
writer.stdout!.setEncoding("utf8").on("data", (c: string) => (appended += Number(c.trim()) || 0));
const writerDone = new Promise((resolve) => writer.on("exit", resolve));

const samples: number[] = [];
const started = Date.now();
console.log(
  `${RUNTIME}: tailing at most ${tailRate} records/s of a topic written at ${rate} records/s, ${seconds} s`,
);
for (let s = 1; s <= seconds; s++) {
  await new Promise((r) => setTimeout(r, started + s * 1000 - Date.now()));
  samples.push(rss());
  console.log(
    `t=${s}s  console RSS ${
      samples.at(-1)!.toFixed(1)
    } MiB  tail records ${records}  skipped events ${skipped}`,
  );
}
await writerDone;
abort.abort();
await reading;
consoleChild.kill("SIGTERM");
await new Promise((resolve) => consoleChild.on("exit", resolve));
fs.rmSync(dir, { recursive: true, force: true });
console.log(
  `${RUNTIME}: appended ${appended} records (${
    Math.round(appended / seconds)
  }/s); the tail sent ${records} records ` +
    `and ${skipped} skipped events (${skippedOffsets} offsets left out); console RSS first ${
      samples[0].toFixed(1)
    } MiB, max ${Math.max(...samples).toFixed(1)} MiB, last ${samples.at(-1)!.toFixed(1)} MiB`,
);
