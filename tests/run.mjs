#!/usr/bin/env node
// Runs the whole test suite under Deno (`deno test -A --parallel tests/`, with type-checking, two
// files at a time as on Node below: 11m41s → 8m3s for Deno's share on the loaded 2-core machine; then
// the doc comments' examples with `deno test --doc --parallel src/ mod.ts`: 82 → 63 s), then under
// Bun (`bun test --parallel=2 ./tests/`: two files at a time, each in a worker process of its own,
// 324 → 276 s; the leading `./` makes it a path, so only our `*_test.ts` files run, never anything
// under node_modules/), then under Node (`node --import tsx --test --test-concurrency=2 <files>`: the
// tsx loader runs the TypeScript as it is, and since Node 20's `--test` takes no globs, this script
// lists every `tests/**/*_test.ts` itself; two files at a time, each in a process of its own, which
// took Node's share from 5.6 to 4 minutes on the 2-core CI machine: the files share nothing but the
// machine, each with its own temporary directory and free ports). Each runtime's output streams
// through to the terminal while it is captured; its summary is then parsed:
//
//   Deno: `ok | 12 passed (3 steps) | 0 failed (1s)` or `FAILED | 1 passed | 2 failed (1 step) (1s)`
//         (tests and steps are both counted)
//   Bun:  ` 12 pass`, ` 0 fail` (and ` 1 error` for errors outside a test, counted as failures)
//   Node: `ℹ pass 12`, `ℹ fail 0` (and `ℹ cancelled 1`, a test cut short, counted as a failure)
//
// It prints one line per runtime (each followed by the names of its failed tests) and, last, one line alone: `N passed, N failed` (all runtimes added
// up). The exit status is non-zero if any runtime failed, exited non-zero, or ran no test; a runner
// whose summary cannot be found (it crashed, or found no test file) counts as one failure.
//
// The Kafka interop tests (tests/interop/kafka/) need Java 17+ (java, javac) and Maven: when both
// are on the PATH, the pinned Kafka release's jars are fetched first (once, into
// tests/interop/kafka/.cache/); otherwise, or when the fetch fails, one line says the interop tests
// were skipped and why (REEL_SKIP_KAFKA=1 is passed to the runners). With REEL_REQUIRE_KAFKA=1 (as
// .ci/run sets) nothing is skipped: a missing tool or a failed fetch fails the run.
//
// Usage: node tests/run.mjs [--deno-only | --bun-only | --node-only] [extra args passed to every runner]
//
// Extra args are paths (a directory or a test file) and options; Node is given the `*_test.ts` files
// under each path, and the options before them.

import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", process.platform === "win32" ? `${name}.cmd` : name);

let args = process.argv.slice(2);
let only;
if (args[0] === "--deno-only" || args[0] === "--bun-only" || args[0] === "--node-only") {
  only = args[0].slice(2, -5);
  args = args.slice(1);
}

const runtimes = [
  {
    name: "deno",
    cmd: bin("deno"),
    args: ["test", "-A", "--parallel", ...(args.length ? args : ["tests/"])],
    parse: parseDeno,
  },
  // Every @example in the source's doc comments, type-checked and run (Deno only: Bun has no
  // doc-test runner). Only in a whole run, not with extra args.
  ...(args.length ? [] : [{
    name: "deno",
    label: "deno doc examples",
    cmd: bin("deno"),
    args: ["test", "-A", "--doc", "--parallel", "src/", "mod.ts"],
    parse: parseDeno,
    // The examples make temp dirs (Deno.makeTempDirSync) and leave them: they get a TMPDIR of their
    // own, removed after the run.
    ownTmpdir: true,
  }]),
  {
    name: "bun",
    cmd: bin("bun"),
    args: ["test", "--parallel=2", ...(args.length ? args : ["./tests/"])],
    parse: parseBun,
  },
  {
    name: "node",
    cmd: process.execPath,
    args: [
      "--import",
      "tsx",
      "--test",
      "--test-concurrency=2",
      "--test-reporter=spec",
      ...args.filter((a) => a.startsWith("-")),
      ...testFiles(args.filter((a) => !a.startsWith("-")), ["tests"]),
    ],
    parse: parseNode,
    // The header names the files by their count: the list itself is long.
    shown: (
      a,
    ) => [
      ...a.filter((x) => !x.endsWith("_test.ts")),
      `<${a.filter((x) => x.endsWith("_test.ts")).length} test files>`,
    ],
  },
].filter((r) => !only || r.name === only);

/**
 * The `*_test.ts` files under each path (a directory, searched recursively, or a file), relative to
 * the root and sorted; `fallback` when no path is given.
 */
function testFiles(paths, fallback) {
  const out = [];
  const walk = (rel) => {
    const abs = join(root, rel);
    if (!existsSync(abs) || !statSync(abs).isDirectory()) {
      out.push(rel);
      return;
    }
    for (const entry of readdirSync(abs, { withFileTypes: true })) {
      if (entry.name === "node_modules" || entry.name.startsWith(".")) continue;
      const child = join(rel, entry.name);
      if (entry.isDirectory()) walk(child);
      else if (entry.name.endsWith("_test.ts")) out.push(child);
    }
  };
  for (const p of paths.length ? paths : fallback) walk(p);
  return [...new Set(out)].sort();
}

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]/g;

/** @param {string} out @returns {{passed: number, failed: number} | undefined} */
function parseDeno(out) {
  const re = /^(ok|FAILED) \| (\d+) passed(?: \((\d+) steps?\))? \| (\d+) failed(?: \((\d+) steps?\))?/gm;
  let last;
  for (const m of out.matchAll(re)) last = m;
  if (!last) return undefined;
  const n = (i) => Number(last[i] ?? 0);
  return { passed: n(2) + n(3), failed: n(4) + n(5) };
}

/** @param {string} out @returns {{passed: number, failed: number} | undefined} */
function parseBun(out) {
  const count = (word) => {
    let last;
    for (const m of out.matchAll(new RegExp(`^\\s*(\\d+) ${word}$`, "gm"))) last = m;
    return last ? Number(last[1]) : undefined;
  };
  const passed = count("pass");
  const failed = count("fail");
  if (passed === undefined || failed === undefined) return undefined;
  return { passed, failed: failed + (count("errors?") ?? 0) };
}

/** @param {string} out @returns {{passed: number, failed: number} | undefined} */
function parseNode(out) {
  const count = (word) => {
    let last;
    for (const m of out.matchAll(new RegExp(`^(?:ℹ|#) ${word} (\\d+)$`, "gm"))) last = m;
    return last ? Number(last[1]) : undefined;
  };
  const passed = count("pass");
  const failed = count("fail");
  if (passed === undefined || failed === undefined) return undefined;
  return { passed, failed: failed + (count("cancelled") ?? 0) };
}

/**
 * The names of the failed tests in a runner's output (at most 20), so that the last lines of a long
 * run (all a CI log may keep) say which tests failed: Deno's `FAILURES` section, Bun's `(fail)` lines,
 * Node's `✖` lines (a failed suite and its failed tests, each named once).
 * @param {string} name the runtime @param {string} out @returns {string[]}
 */
function failedTests(name, out) {
  let found = [];
  if (name === "deno") {
    const section = (out.split(/^ ?FAILURES ?$/m)[1] ?? "").split(/^(?:FAILED|ok) \|/m)[0];
    found = section.split("\n").map((l) => l.trim().replace(/ => \S+$/, "")).filter(Boolean);
  } else if (name === "bun") {
    found = [...out.matchAll(/^\(fail\) (.*?)(?: \[[\d.]+m?s\])?$/gm)].map((m) => m[1]);
  } else {
    found = [...out.matchAll(/^\s*✖ (.*?)(?: \([\d.]+m?s\))?$/gm)].map((m) => m[1])
      .filter((l) => l !== "failing tests:");
  }
  found = [...new Set(found)];
  return found.length > 20 ? [...found.slice(0, 20), `... and ${found.length - 20} more`] : found;
}

/** Runs one runtime's test command, streaming and capturing its output. */
function run(runtime) {
  return new Promise((resolve) => {
    if (!existsSync(runtime.cmd)) {
      resolve({ code: 127, out: `tests/run.mjs: ${runtime.cmd} not found (run npm ci)\n` });
      return;
    }
    const tmp = runtime.ownTmpdir ? mkdtempSync(join(tmpdir(), "reel-doc-examples-")) : undefined;
    const child = spawn(runtime.cmd, runtime.args, {
      cwd: root,
      env: {
        ...process.env,
        NO_COLOR: "1",
        FORCE_COLOR: "0",
        ...(tmp && { TMPDIR: tmp, TMP: tmp, TEMP: tmp }),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const chunks = [];
    child.stdout.on("data", (c) => {
      chunks.push(c);
      process.stdout.write(c);
    });
    child.stderr.on("data", (c) => {
      chunks.push(c);
      process.stderr.write(c);
    });
    child.on("error", (err) => resolve({ code: 127, out: String(err) }));
    child.on("close", (code, signal) => {
      if (tmp) rmSync(tmp, { recursive: true, force: true });
      resolve({
        code: code ?? (signal ? 128 : 1),
        out: Buffer.concat(chunks).toString("utf8").replace(ANSI, ""),
      });
    });
  });
}

let passed = 0;
let failed = 0;
let ok = true;
const lines = [];

/**
 * Makes the Kafka interop tests ready to run (Java and Maven found, jars fetched) or says why they
 * are skipped. @returns {string | undefined} why they cannot run, or undefined when they can
 */
function prepareKafka() {
  if (process.env.REEL_SKIP_KAFKA === "1") return "REEL_SKIP_KAFKA=1";
  const has = (cmd) => spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
  const missing = ["java", "javac", "mvn"].filter((cmd) => !has(cmd));
  if (missing.length) return `${missing.join(", ")} not found on the PATH (they need Java 17+ and Maven)`;
  const pom = join(root, "tests", "interop", "kafka", "pom.xml");
  const version = /<kafka\.version>([^<]+)</.exec(readFileSync(pom, "utf8"))?.[1];
  const jar = join(root, "tests", "interop", "kafka", ".cache", "lib", `kafka_2.13-${version}.jar`);
  if (existsSync(jar)) return undefined;
  console.log(`Fetching Kafka ${version}'s jars with Maven (once, into tests/interop/kafka/.cache/)`);
  const fetched = spawnSync("mvn", ["-q", "-B", "-f", pom, "dependency:copy-dependencies"], {
    cwd: root,
    encoding: "utf8",
  });
  if (fetched.status !== 0) {
    process.stderr.write(`${fetched.stdout ?? ""}${fetched.stderr ?? ""}`);
    return `fetching Kafka's jars with Maven failed (exit status ${fetched.status ?? fetched.error})`;
  }
  return undefined;
}

const kafkaSkipped = prepareKafka();
if (kafkaSkipped) {
  if (process.env.REEL_REQUIRE_KAFKA === "1") {
    ok = false;
    failed += 1;
    lines.push(`kafka interop tests required (REEL_REQUIRE_KAFKA=1) but cannot run: ${kafkaSkipped}`);
  } else {
    process.env.REEL_SKIP_KAFKA = "1";
    lines.push(`kafka interop tests skipped: ${kafkaSkipped}`);
  }
  console.log(lines.at(-1));
}

for (const runtime of runtimes) {
  console.log(`\n=== ${runtime.name} ${(runtime.shown?.(runtime.args) ?? runtime.args).join(" ")}\n`);
  const { code, out } = await run(runtime);
  const summary = runtime.parse(out);
  if (!summary) {
    ok = false;
    failed += 1;
    lines.push(`${runtime.label ?? runtime.name}: no test summary found (exit status ${code})`);
    continue;
  }
  passed += summary.passed;
  failed += summary.failed;
  const runtimeOk = code === 0 && summary.failed === 0 && summary.passed > 0;
  if (!runtimeOk) ok = false;
  lines.push(
    `${
      runtime.label ?? runtime.name
    }: ${summary.passed} passed, ${summary.failed} failed, exit status ${code}` +
      (summary.passed === 0 ? " (no test ran)" : ""),
  );
  if (summary.failed > 0) {
    for (const name of failedTests(runtime.name, out)) lines.push(`  failed: ${name}`);
  }
}

console.log("");
for (const line of lines) console.log(line);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = ok ? 0 : 1;
