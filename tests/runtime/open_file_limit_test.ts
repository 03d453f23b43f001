import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseOpenFileLimit } from "../../src/runtime/open_file_limit.ts";
import { ROOT } from "../durability/_helpers.ts";
import { scriptCommand } from "../_runtime.ts";

const CHILD = path.join(ROOT, "tests/runtime/_open_file_limit_child.ts");

/** Runs the child under `ulimit -n <files>`, appending to `partitions` partitions. */
function runUnder(files: number, partitions: number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-nofile-"));
  try {
    const [bin, argv] = scriptCommand(CHILD, [path.join(dir, "log"), String(partitions)]);
    const r = spawnSync("sh", ["-c", `ulimit -n ${files} && exec "$@"`, "sh", bin, ...argv], {
      encoding: "utf8",
      timeout: 120_000,
    });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout.trim().split("\n").at(-1)!);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe("the per-process bounds follow the open-file limit", () => {
  test("parseOpenFileLimit reads the soft limit of /proc/self/limits", () => {
    const text = fs.existsSync("/proc/self/limits")
      ? fs.readFileSync("/proc/self/limits", "utf8")
      : undefined;
    if (text !== undefined) assert.ok((parseOpenFileLimit(text) ?? 0) >= 1);
    assert.equal(
      parseOpenFileLimit("Max open files            4096                 8192                 files\n"),
      4096,
    );
    assert.equal(parseOpenFileLimit("Max open files  x  y  files\n"), undefined);
  });

  // Linux only: elsewhere the limit is unknown and the bounds keep their floors. Each child opens
  // 150 partitions (a few seconds on a loaded machine: more than Bun's default 5 s test timeout).
  const linux = process.platform === "linux";
  test("under ulimit -n 1024 a process writes at most 128 partitions at once, keeping 256 files open", {
    skip: !linux && "no /proc/self/limits",
    timeout: 120_000,
  }, () => {
    const got = runUnder(1024, 150);
    assert.deepEqual(got, { limit: 1024, maxWriters: 128, maxOpenFiles: 256, writers: 128 });
  });

  test("under ulimit -n 4096 it writes 512 at once: 150 partitions keep their writer roles", {
    skip: !linux && "no /proc/self/limits",
    timeout: 120_000,
  }, () => {
    const got = runUnder(4096, 150);
    assert.deepEqual(got, { limit: 4096, maxWriters: 512, maxOpenFiles: 1024, writers: 150 });
  });
});
