// The console's memory while a live tail follows a fast topic (issue 17): `reel console` runs as a
// child process of this runtime, a writer child appends 100-byte records at a fixed rate (default
// 100 k records/s), and this process reads the partition's live tail (Server-Sent Events) and
// samples the console's resident set size (VmRSS from /proc) once a second.
//
//   deno run -A bench/console_tail.ts [seconds=30] [records/s=100000] [tail rate=100] [--results]
//   bun bench/console_tail.ts [seconds=30] [records/s=100000] [tail rate=100] [--results]
//
// It prints one line per sample and a summary: the records appended, the tail's record and skipped
// events, and the RSS at the first sample, its maximum and at the end. Linux only (/proc).
// With --results it also puts its row (this runtime, tail rate, write rate and length) in the table of the
// `console-tail` section of bench/RESULTS.md, which `npm run bench` keeps.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { open } from "../mod.ts";
import { replaceSection } from "./_common.ts";

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

const args = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const writeResults = process.argv.includes("--results");
const seconds = Number(args[0] ?? 30);
const rate = Number(args[1] ?? 100_000);
const tailRate = Number(args[2] ?? 100);
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

if (writeResults) {
  const version = `${RUNTIME} ${RUNTIME === "bun" ? process.versions.bun : process.versions.deno}`;
  const row = [
    version,
    `${tailRate.toLocaleString("en-US")} records/s`,
    `${Math.round(appended / seconds / 1000)} k records/s for ${seconds} s`,
    `${records} records, ${skipped} skipped events`,
    [samples[0], samples[Math.floor(samples.length / 2) - 1], Math.max(...samples), samples.at(-1)!].map((
      m,
    ) => m.toFixed(1)).join(" / "),
    new Date().toISOString().slice(0, 10),
  ];
  writeResultsRow(row);
  console.log("wrote its row in bench/RESULTS.md (console-tail)");
}

/** Puts a row in the console-tail table of bench/RESULTS.md, replacing the row of the same runtime, tail rate and run. */
function writeResultsRow(row: string[]): void {
  const file = path.join(path.dirname(HERE), "RESULTS.md");
  const text = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
  const section = /<!-- console-tail:start -->[\s\S]*?<!-- console-tail:end -->/;
  const old = section.exec(text)?.[0] ?? "";
  const rows = old.split("\n").filter((l) =>
    l.startsWith("| ") && !l.startsWith("| runtime") && !l.startsWith("| ---")
  )
    .map((l) => l.slice(2, -2).split(" | "))
    .filter((r) => !(r[0].split(" ")[0] === row[0].split(" ")[0] && r[1] === row[1] && r[2] === row[2]));
  rows.push(row);
  rows.sort((a, b) =>
    a[0].localeCompare(b[0]) || Number(a[1].replace(/\D/g, "")) - Number(b[1].replace(/\D/g, ""))
  );
  const content =
    `Written by \`deno run -A bench/console_tail.ts S W R --results\` and \`bun bench/console_tail.ts S W R --results\`
(one row a runtime, tail rate and run length, each from its own run): \`reel console\` runs as a child process of the runtime,
a writer process appends 100-byte records to a one-partition topic at W records/s (1000 a batch) for S s, and the
bench reads that partition's live tail (Server-Sent Events, at most R records/s: past it the tail skips ahead) over
HTTP while it samples the console's resident set size (VmRSS) once a second. This 2-core machine is shared: the
write rate reached is shown.

| runtime | tail rate R | written | the tail sent | console RSS first / at S/2 / max / last, MiB | run on |
| --- | --- | --- | --- | ---: | --- |
${rows.map((r) => `| ${r.join(" | ")} |`).join("\n")}`;
  replaceSection(file, "console-tail", content, "The console's memory while tailing a fast topic");
}
