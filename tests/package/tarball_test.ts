// The npm package as a user gets it: `npm pack` (which builds dist/ with tsc), the tarball installed
// into a fresh project of its own, and a produce/consume program run there on Node, Deno and Bun,
// plus the `reel` bin on bytes that are not UTF-8. Needs npm and node on PATH; the tarball's
// dependencies come from the npm cache, or the registry when they are not cached.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const BIN = path.join(ROOT, "node_modules", ".bin");
const TIMEOUT = { timeout: 300_000 };

interface Run {
  status: number | null;
  stdout: Buffer;
  stderr: string;
}

function run(cmd: string, args: string[], cwd: string, input?: Uint8Array, env: object = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd,
      env: { ...process.env, NO_COLOR: "1", PATH: `${BIN}${path.delimiter}${process.env.PATH}`, ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    const out: Uint8Array[] = [];
    const err: Uint8Array[] = [];
    child.stdout!.on("data", (c: Uint8Array) => out.push(c));
    child.stderr!.on("data", (c: Uint8Array) => err.push(c));
    child.on("error", reject);
    child.on("close", (status: number | null) => {
      resolve({ status, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString("utf8") });
    });
    child.stdin!.end(input ?? new Uint8Array(0));
  });
}

function assertOk(r: Run, what: string): void {
  assert.equal(r.status, 0, `${what} exited with ${r.status}: ${r.stderr}`);
}

/** A program that only uses the package's public entry points: "reel" and "reel/record". */
const PROGRAM = `
import { ByteLineStream, open } from "reel";
import { CRC32C_IMPLEMENTATION, crc32c } from "reel/record";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dir = mkdtempSync(join(tmpdir(), "reel-package-program-"));
try {
  const log = await open(dir);
  const topic = await log.createTopic("events", { partitions: 3 });
  await topic.append([{ key: "a", value: "one" }, { key: "b", value: "two" }], { compression: "gzip" });
  const lines = new Uint8Array([0x74, 0x68, 0x72, 0x65, 0x65, 0x0a, 0x66, 0xe9, 0x0a]);
  await ReadableStream.from([lines])
    .pipeThrough(new ByteLineStream())
    .pipeThrough(new TransformStream({ transform: (value, c) => c.enqueue({ key: "c", value }) }))
    .pipeTo(topic.writable({ compression: "lz4" }));
  await log.close();
  const again = await open(dir);
  const values = [];
  for await (const r of again.topic("events").readable()) values.push([...(r.value ?? [])]);
  await again.close();
  values.sort();
  console.log(JSON.stringify({
    values,
    crc: crc32c(new TextEncoder().encode("123456789")),
    native: CRC32C_IMPLEMENTATION === "reel-native",
  }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
`;

const EXPECTED = JSON.stringify({
  values: [[...Buffer.from("one")], [...Buffer.from("three")], [...Buffer.from("two")], [0x66, 0xe9]].sort(),
  crc: 0xe3069283,
  // reel's prebuilt CRC-32C module ships in the package and loads on all three runtimes where it
  // was built for: linux-x64 with SSE 4.2.
  native: process.platform === "linux" && process.arch === "x64" &&
    /^flags\s*:.*\bsse4_2\b/m.test(fs.readFileSync("/proc/cpuinfo", "utf8")),
});

describe("the npm package", () => {
  test(
    "npm pack gives a tarball that installs into a fresh project and runs on Node, Deno and Bun",
    TIMEOUT,
    async () => {
      const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "reel-package-"));
      try {
        const packed = await run("npm", ["pack", "--silent", "--pack-destination", tmp], ROOT);
        assertOk(packed, "npm pack");
        const tarball = path.join(tmp, packed.stdout.toString("utf8").trim().split("\n").at(-1)!);
        assert.ok(fs.existsSync(tarball), tarball);

        const project = path.join(tmp, "project");
        fs.mkdirSync(project);
        fs.writeFileSync(
          path.join(project, "package.json"),
          JSON.stringify({
            name: "uses-reel",
            private: true,
            type: "module",
            dependencies: { reel: `file:${tarball}` },
            // The program imports node:fs: Deno type-checks that against @types/node here.
            devDependencies: { "@types/node": "*" },
          }),
        );
        assertOk(
          await run(
            "npm",
            ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts"],
            project,
          ),
          "npm install",
        );
        const installed = JSON.parse(
          fs.readFileSync(path.join(project, "node_modules/reel/package.json"), "utf8"),
        );
        assert.equal(installed.private, undefined);
        // What the package holds: built JavaScript and types, no TypeScript source and no tests.
        const files = fs.readdirSync(path.join(project, "node_modules/reel"), { recursive: true }).map(
          String,
        );
        assert.ok(
          files.includes(path.join("dist", "mod.js")) && files.includes(path.join("dist", "mod.d.ts")),
        );
        assert.deepEqual(files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts")), []);
        assert.deepEqual(files.filter((f) => f.startsWith("tests") || f.startsWith("bench")), []);

        fs.writeFileSync(path.join(project, "program.mjs"), PROGRAM);
        for (
          const [name, cmd, args] of [
            ["node", "node", ["program.mjs"]],
            ["deno", path.join(BIN, "deno"), ["run", "-A", "program.mjs"]],
            ["bun", path.join(BIN, "bun"), ["program.mjs"]],
          ] as const
        ) {
          const r = await run(cmd, [...args], project);
          assertOk(r, `the program on ${name}`);
          assert.equal(r.stdout.toString("utf8").trim(), EXPECTED, `the program's output on ${name}`);
        }

        // The same program as TypeScript, type-checked against the package's .d.ts files by Deno.
        fs.writeFileSync(path.join(project, "program.ts"), PROGRAM);
        assertOk(
          await run(path.join(BIN, "deno"), ["check", "program.ts"], project),
          "deno check program.ts",
        );

        // The bin, on Node (the default for an installed package) and on Bun: bytes in, the same bytes out.
        const reel = path.join(project, "node_modules", ".bin", "reel");
        const input = Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a, 0xff, 0x00, 0x0a]);
        for (const runtime of ["node", "bun"]) {
          const dir = path.join(tmp, `log-${runtime}`);
          const env = { REEL_RUNTIME: runtime };
          const produced = await run(reel, ["produce", "--dir", dir, "--topic", "t"], project, input, env);
          assertOk(produced, `reel produce on ${runtime}`);
          assert.match(produced.stderr, /^created topic t; produced 2 records /);
          const consumed = await run(
            reel,
            ["consume", "--dir", dir, "--topic", "t"],
            project,
            undefined,
            env,
          );
          assertOk(consumed, `reel consume on ${runtime}`);
          assert.deepEqual(consumed.stdout, input);
        }
      } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
      }
    },
  );
});
