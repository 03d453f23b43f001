#!/usr/bin/env node
// `npm run bench`: runs the benchmarks on Deno and then on Bun (both from node_modules/.bin), collects
// the JSON each run writes, and writes bench/RESULTS.md, bench/throughput.svg and bench/results.json.
//
// Per runtime, each step in a process of its own:
//   1. bench/bench.ts (throughput, durable, latency, seek): reel, the limit and the peers side by side;
//   2. bench/bench.ts --sections memory: peak RSS while streaming (its own process, so that the
//      baseline is not the other sections' heap; the read is measured in a reader process of its
//      own, bench/_memory_reader.ts, and again in the writing process);
//   3. bench/micro.ts: mitata micro-benchmarks;
//   4. bench/profile.ts under --cpu-prof: the pipeTo and readable paths, summed per function.
//
// Usage: node bench/run.mjs [--full] [--deno-only | --bun-only] [--no-profile]
// A short run (the default) takes about 3 minutes on 2 cores; --full is the issue's sizes (10 M-record
// partition, 2 GB streamed) and takes much longer. Everything is written under os.tmpdir() and removed.

import { spawn, spawnSync } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import * as os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { summarizeProfile } from "./_cpuprofile.mjs";
import { markdown, svg } from "./_report.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const full = args.includes("--full");
const profile = !args.includes("--no-profile");
const profileRecords = full ? "2000000" : "1000000";
const only = args.includes("--deno-only") ? "deno" : args.includes("--bun-only") ? "bun" : undefined;
const bin = (name) => join(root, "node_modules", ".bin", name);

const RUNTIMES = [
  {
    name: "Deno",
    id: "deno",
    cmd: bin("deno"),
    run: (script, extra = []) => ["run", "-A", "--unstable-kv", "--v8-flags=--expose-gc", ...extra, script],
    profile: (dir) => [`--cpu-prof`, `--cpu-prof-dir=${dir}`],
  },
  {
    name: "Bun",
    id: "bun",
    cmd: bin("bun"),
    run: (script, extra = []) => [...extra, script],
    profile: (dir) => [`--cpu-prof`, `--cpu-prof-dir=${dir}`],
  },
].filter((r) => !only || r.id === only);

/** Runs a command with stderr passed through; resolves with its exit code. */
function exec(cmd, argv, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, {
      cwd: root,
      stdio: ["ignore", "inherit", "inherit"],
      env: { ...process.env, NO_COLOR: "1", ...env },
    });
    child.on("error", (err) => {
      console.error(`bench: cannot run ${cmd}: ${err.message}`);
      resolve(127);
    });
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

function sh(command) {
  return new Promise((resolve) => {
    const child = spawn("sh", ["-c", command], { stdio: ["ignore", "pipe", "ignore"] });
    let out = "";
    child.stdout.on("data", (c) => (out += c));
    child.on("exit", () => resolve(out.trim()));
    child.on("error", () => resolve(""));
  });
}

const loadAtStart = os.loadavg();

async function machine() {
  let cpu = "unknown";
  try {
    cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ??
      os.cpus()[0]?.model ?? cpu;
  } catch {
    cpu = os.cpus()[0]?.model ?? cpu;
  }
  const nproc = (await sh("nproc")) || String(os.availableParallelism?.() ?? os.cpus().length);
  const fsType = await sh(`df -PT ${os.tmpdir()} | awk 'NR==2 {print $2 " on " $1}'`);
  return {
    "cores (`nproc`)": nproc,
    "CPU (/proc/cpuinfo)": cpu,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    "OS": `${os.type()} ${os.release()} ${os.arch()}`,
    "temp dir": `${os.tmpdir()}${fsType ? ` (${fsType})` : ""}`,
    "load average (1 min) at start / end": `${loadAtStart[0].toFixed(2)} / ${
      os.loadavg()[0].toFixed(2)
    } (other work shares the cores)`,
    "launcher": `node ${process.version}`,
  };
}

const readJson = (path) => (existsSync(path) ? JSON.parse(readFileSync(path, "utf8")) : undefined);

const started = Date.now();
const work = mkdtempSync(join(os.tmpdir(), "reel-bench-run-"));
const cleanup = () => rmSync(work, { recursive: true, force: true });
/** @type {{ dir?: string, where?: string, unmount?: () => void, error?: string }} */
let ext4 = { error: "not tried" };
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    ext4.unmount?.();
    cleanup();
    process.exit(130);
  });
}

/**
 * Makes a journaled ext4 (mkfs.ext4's defaults: a journal, data=ordered) in a 4 GiB sparse image file
 * and mounts it on a loop device, for the durable section: there an fdatasync that grows a file also
 * commits the journal, as on most users' disks, unlike this machine's temp dir. Needs Linux, root and
 * mkfs.ext4; otherwise says why not.
 * @returns {{ dir: string, where: string, unmount: () => void } | { error: string }}
 */
function journaledExt4() {
  if (process.platform !== "linux") return { error: "not Linux" };
  if (process.getuid?.() !== 0) return { error: "mounting a loop device needs root" };
  const img = join(work, "ext4.img");
  const dir = join(work, "ext4");
  mkdirSync(dir);
  closeSync(openSync(img, "w"));
  truncateSync(img, 4 * 2 ** 30);
  const run = (cmd, ...argv) => {
    const r = spawnSync(cmd, argv, { encoding: "utf8" });
    if (r.status !== 0) {
      throw new Error(`${cmd} ${argv.join(" ")}: ${(r.stderr || r.error?.message || "").trim()}`);
    }
    return r.stdout;
  };
  try {
    run("mkfs.ext4", "-q", "-F", img);
    if (!/has_journal/.test(run("dumpe2fs", "-h", img))) return { error: "mkfs.ext4 made no journal" };
    run("mount", "-o", "loop", img, dir);
  } catch (err) {
    return { error: err.message };
  }
  const options = spawnSync("findmnt", ["-no", "OPTIONS", dir], { encoding: "utf8" }).stdout.trim();
  return {
    dir,
    where:
      `ext4 with a journal (mkfs.ext4 defaults, mounted ${
        options || "with defaults"
      }) on a loop device over a ` +
      "sparse file in the temp dir",
    unmount: () => spawnSync("umount", [dir]),
  };
}

const results = [];
let failed = false;
ext4 = journaledExt4();
try {
  for (const rt of RUNTIMES) {
    const result = { name: rt.name, errors: [] };
    results.push(result);
    if (!existsSync(rt.cmd)) {
      result.errors.push(`${rt.cmd} not found (run npm ci)`);
      failed = true;
      continue;
    }
    const size = full ? ["--full"] : [];
    const step = async (label, argv, out, env) => {
      const t = Date.now();
      console.error(`\n== ${rt.name}: ${label}`);
      const code = await exec(rt.cmd, argv, env);
      console.error(
        `== ${rt.name}: ${label} done in ${((Date.now() - t) / 1000).toFixed(1)} s (exit ${code})`,
      );
      if (code !== 0) {
        result.errors.push(`${label} exited with ${code}`);
        failed = true;
      }
      return out ? readJson(out) : undefined;
    };
    const macroOut = join(work, `${rt.id}-bench.json`);
    result.bench = await step(
      "bench.ts",
      [...rt.run("bench/bench.ts"), ...size, "--out", macroOut],
      macroOut,
    );
    result.version = result.bench?.version;
    const memOut = join(work, `${rt.id}-memory.json`);
    result.memory = await step("bench.ts --sections memory", [
      ...rt.run("bench/bench.ts"),
      ...size,
      "--sections",
      "memory",
      "--out",
      memOut,
    ], memOut);
    if (ext4.dir) {
      const journaledOut = join(work, `${rt.id}-journaled.json`);
      const bench = await step(
        "bench.ts --sections durable on a journaled ext4",
        [
          ...rt.run("bench/bench.ts"),
          ...size,
          "--sections",
          "durable",
          "--out",
          journaledOut,
        ],
        journaledOut,
        { TMPDIR: ext4.dir },
      );
      result.journaled = { where: ext4.where, durable: bench?.durable };
    } else {
      result.journaled = { error: ext4.error };
    }
    const microOut = join(work, `${rt.id}-micro.json`);
    result.micro = await step("micro.ts", [...rt.run("bench/micro.ts"), "--out", microOut], microOut);
    result.version ??= result.micro?.version;
    if (profile) {
      result.profiles = {};
      for (const path of ["write", "read"]) {
        const profDir = join(work, `${rt.id}-prof-${path}`);
        const data = join(work, `${rt.id}-prof-data-${path}`);
        if (path === "read") {
          await step("profile.ts prepare", [
            ...rt.run("bench/profile.ts"),
            "prepare",
            data,
            "--records",
            profileRecords,
          ]);
        }
        await step(`profile.ts ${path} (--cpu-prof)`, [
          ...rt.run("bench/profile.ts", rt.profile(profDir)),
          path,
          data,
          "--records",
          profileRecords,
        ]);
        rmSync(data, { recursive: true, force: true });
        const file = existsSync(profDir)
          ? readdirSync(profDir).find((f) => f.endsWith(".cpuprofile"))
          : undefined;
        if (!file) {
          result.errors.push(`no CPU profile for ${path}`);
          continue;
        }
        const summary = summarizeProfile(join(profDir, file), root, rt.id === "bun");
        result.profiles[path] = {
          totalMs: summary.totalMs,
          functions: summary.functions.slice(0, 30),
          files: summary.files.slice(0, 15),
          lines: summary.lines.slice(0, 30),
        };
      }
    }
  }
} finally {
  ext4.unmount?.();
  cleanup();
}

const seconds = (Date.now() - started) / 1000;
const all = {
  when: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
  mode: full ? "full" : "short",
  machine: await machine(),
  seconds,
  runtimes: results,
};
// The tables of the benchmarks run on their own (bench/serve_vs_kafka.ts, bench/shared_writers.ts,
// bench/cluster_vs_kafka.ts, bench/console_tail.ts)
// are kept across regenerations.
const resultsPath = join(root, "bench", "RESULTS.md");
const kept = (name) => {
  const found = existsSync(resultsPath)
    ? new RegExp(`<!-- ${name}:start -->[\\s\\S]*?<!-- ${name}:end -->`).exec(
      readFileSync(resultsPath, "utf8"),
    )?.[0]
    : undefined;
  return found ?? `<!-- ${name}:start -->\n<!-- ${name}:end -->`;
};
writeFileSync(
  resultsPath,
  markdown(all) +
    `\n## reel serve vs Apache Kafka\n\n${kept("serve-bench")}\n` +
    `\n## Several producers of one topic\n\n${kept("shared-writers")}\n` +
    `\n## Through connect() against a Kafka cluster\n\n${kept("cluster-bench")}\n` +
    `\n## The console's memory while tailing a fast topic\n\n${kept("console-tail")}\n`,
);
writeFileSync(join(root, "bench", "throughput.svg"), svg(all));
writeFileSync(join(root, "bench", "results.json"), JSON.stringify(all, null, 2) + "\n");
// `deno fmt` (the repository's fmt task) formats JSON and SVG too: leave them as it would.
if (existsSync(bin("deno"))) {
  await exec(bin("deno"), [
    "fmt",
    "--quiet",
    ...["throughput.svg", "results.json"].map((f) => join(root, "bench", f)),
  ]);
}
console.error(
  `\nbench: wrote bench/RESULTS.md, bench/throughput.svg and bench/results.json in ${seconds.toFixed(0)} s`,
);
if (failed) {
  console.error(
    "bench: some steps failed: " + results.flatMap((r) => r.errors.map((e) => `${r.name}: ${e}`)).join("; "),
  );
  process.exit(1);
}
