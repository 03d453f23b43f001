#!/usr/bin/env node
// `node bench/long_line.mjs [MB ...]`: how long `reel produce` takes to store one line of MB mebibytes
// (default 40) on Deno and on Bun, and, when /usr/bin/time is there, its peak RSS. Line splitting is
// meant to be linear in the input on both runtimes (issue 13): before the split moved to bytes, a
// 40 MB line took 10.6 s on Deno and 0.76 s on Bun, 300 MB took 508 s. The topic's maxMessageBytes is
// raised to fit the line. Each run writes under os.tmpdir() and removes what it wrote; the consumed
// bytes are compared with the input, so a fast but wrong run does not count.

import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const main = join(root, "src", "cli", "main.ts");
const bin = (name) => join(root, "node_modules", ".bin", name);
const sizes = process.argv.slice(2).map(Number);
const runtimes = [
  { name: "deno", cmd: bin("deno"), pre: ["run", "-A", main] },
  { name: "bun", cmd: bin("bun"), pre: [main] },
];
const timeBin = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;

const work = mkdtempSync(join(os.tmpdir(), "reel-long-line-"));
try {
  console.log("| line | runtime | produce (wall, s) | peak RSS (MB) | consumed bytes equal |");
  console.log("| ---: | --- | ---: | ---: | --- |");
  for (const mb of sizes.length ? sizes : [40]) {
    const input = join(work, `line-${mb}.txt`);
    const line = Buffer.alloc(mb * 1024 * 1024 + 1, 0x61);
    line[line.length - 1] = 0x0a;
    writeFileSync(input, line);
    for (const rt of runtimes) {
      const dir = join(work, `log-${rt.name}-${mb}`);
      const args = [
        ...rt.pre,
        "produce",
        "--dir",
        dir,
        "--topic",
        "t",
        "--config",
        `maxMessageBytes=${line.length + 1024}`,
      ];
      // stdin is the file itself, as with `reel produce < file`.
      const fd = openSync(input, "r");
      const stdin = { stdio: [fd, "pipe", "pipe"] };
      const started = performance.now();
      const run = timeBin
        ? spawnSync(timeBin, ["-f", "RSS %M", rt.cmd, ...args], stdin)
        : spawnSync(rt.cmd, args, stdin);
      const seconds = (performance.now() - started) / 1000;
      closeSync(fd);
      if (run.status !== 0) throw new Error(`${rt.name} produce failed: ${run.stderr}`);
      const rss = /RSS (\d+)/.exec(String(run.stderr))?.[1];
      const consumed = spawnSync(rt.cmd, [...rt.pre, "consume", "--dir", dir, "--topic", "t"], {
        maxBuffer: line.length * 2,
      });
      const equal = consumed.status === 0 && Buffer.compare(consumed.stdout, line) === 0;
      console.log(
        `| ${mb} MB | ${rt.name} | ${seconds.toFixed(2)} | ${
          rss ? Math.round(Number(rss) / 1024) : "n/a"
        } | ${equal} |`,
      );
      rmSync(dir, { recursive: true, force: true });
    }
    rmSync(input, { force: true });
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
