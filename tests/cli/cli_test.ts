import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { RUNTIME, type Runtime, scriptCommand } from "../_runtime.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const MAIN = path.join(ROOT, "src", "cli", "main.ts");
const APACHE_LOGS = path.join(ROOT, "data", "apache_logs", "apache_logs");
const THIS_RUNTIME = RUNTIME;
/** The runtime that reads what this one wrote: Bun after Deno, Deno after Bun or Node. */
const OTHER_RUNTIME: Runtime = THIS_RUNTIME === "deno" ? "bun" : "deno";
const TIMEOUT = { timeout: 120_000 };

interface Run {
  status: number | null;
  stdout: string;
  /** stdout as bytes, as the CLI wrote them. */
  stdoutBytes: Buffer;
  stderr: string;
}

/** The command line that runs the CLI on `runtime` (this one by default). */
function cliCommand(runtime: Runtime): [string, string[]] {
  return scriptCommand(MAIN, [], runtime);
}

/** Runs the CLI with `args`, feeding it `input` on stdin, and collects what it prints. */
function reel(args: string[], input: string | Uint8Array = "", runtime = THIS_RUNTIME): Promise<Run> {
  const [bin, pre] = cliCommand(runtime);
  return new Promise((resolve, reject) => {
    const child = spawn(bin, [...pre, ...args], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: "1" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    const out: Uint8Array[] = [];
    const err: Uint8Array[] = [];
    child.stdout!.on("data", (c: Uint8Array) => out.push(c));
    child.stderr!.on("data", (c: Uint8Array) => err.push(c));
    child.on("error", reject);
    child.on("close", (status: number | null) => {
      const stdoutBytes = Buffer.concat(out);
      resolve({
        status,
        stdout: stdoutBytes.toString("utf8"),
        stdoutBytes,
        stderr: Buffer.concat(err).toString("utf8"),
      });
    });
    child.stdin!.on("error", () => {}); // the CLI may exit before reading all of it
    child.stdin!.end(input);
  });
}

async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-cli-"));
  try {
    return await fn(path.join(dir, "log"));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function linesOf(text: string): string[] {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

/** The lines of `lines` grouped by their key (first word), in order. */
function byKey(lines: string[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const line of lines) {
    const key = /^(\S+)/.exec(line)![1];
    let group = groups.get(key);
    if (group === undefined) groups.set(key, group = []);
    group.push(line);
  }
  return groups;
}

function assertOk(run: Run, what: string): void {
  assert.equal(run.status, 0, `${what} exited with ${run.status}: ${run.stderr}`);
}

async function produceApacheLogs(dir: string): Promise<string[]> {
  const input = fs.readFileSync(APACHE_LOGS);
  const run = await reel(
    ["produce", "--dir", dir, "--topic", "access", "--partitions", "4", "--key-regex", "^(\\S+)"],
    input,
  );
  assertOk(run, "produce");
  assert.match(
    run.stderr,
    /produced 10000 records \(2370789 bytes read, \d+ bytes of log\) to access \(4 partitions\)/,
  );
  return linesOf(input.toString("utf8"));
}

function assertSameLinesInKeyOrder(actual: string[], expected: string[]): void {
  assert.equal(actual.length, expected.length);
  assert.deepEqual([...actual].sort(), [...expected].sort());
  const want = byKey(expected);
  const got = byKey(actual);
  assert.equal(got.size, want.size);
  for (const [key, lines] of want) assert.deepEqual(got.get(key), lines, `lines of ${key} out of order`);
}

describe("reel produce and consume", () => {
  test("consume prints every line produced, each key's lines in their original order", TIMEOUT, async () => {
    await withTempDir(async (dir) => {
      const expected = await produceApacheLogs(dir);
      const run = await reel(["consume", "--dir", dir, "--topic", "access"]);
      assertOk(run, "consume");
      assert.equal(run.stderr, "");
      assertSameLinesInKeyOrder(linesOf(run.stdout), expected);
    });
  });

  test(`consume on ${OTHER_RUNTIME} reads what produce wrote on ${THIS_RUNTIME}`, TIMEOUT, async () => {
    await withTempDir(async (dir) => {
      const expected = await produceApacheLogs(dir);
      const run = await reel(["consume", "--dir", dir, "--topic", "access"], "", OTHER_RUNTIME);
      assertOk(run, `consume on ${OTHER_RUNTIME}`);
      assertSameLinesInKeyOrder(linesOf(run.stdout), expected);
    });
  });

  test("consume --format full puts each key in one partition with dense offsets", TIMEOUT, async () => {
    await withTempDir(async (dir) => {
      await produceApacheLogs(dir);
      const run = await reel(["consume", "--dir", dir, "--topic", "access", "--format", "full"]);
      assertOk(run, "consume");
      const records = linesOf(run.stdout).map((l) => JSON.parse(l));
      assert.equal(records.length, 10000);
      const partitionOfKey = new Map<string, number>();
      const nextOffset = [0, 0, 0, 0];
      for (const r of records) {
        assert.deepEqual(Object.keys(r), ["partition", "offset", "timestamp", "key", "value", "headers"]);
        assert.equal(r.key, /^(\S+)/.exec(r.value)![1]);
        assert.equal(partitionOfKey.get(r.key) ?? r.partition, r.partition);
        partitionOfKey.set(r.key, r.partition);
        assert.equal(r.offset, nextOffset[r.partition]++);
        assert.equal(typeof r.timestamp, "number");
        assert.deepEqual(r.headers, []);
      }
    });
  });

  test("consume --partition --from --to prints that range only", TIMEOUT, async () => {
    await withTempDir(async (dir) => {
      await produceApacheLogs(dir);
      const run = await reel([
        "consume",
        "--dir",
        dir,
        "--topic",
        "access",
        "--partition",
        "1",
        "--from",
        "5",
        "--to",
        "8",
        "--format",
        "full",
      ]);
      assertOk(run, "consume");
      const records = linesOf(run.stdout).map((l) => JSON.parse(l));
      assert.deepEqual(records.map((r) => [r.partition, r.offset]), [[1, 5], [1, 6], [1, 7]]);
    });
  });

  test("consume exits quietly with status 0 when its reader closes the pipe", TIMEOUT, async () => {
    await withTempDir(async (dir) => {
      await produceApacheLogs(dir);
      const [bin, pre] = cliCommand(THIS_RUNTIME);
      const child = spawn(bin, [...pre, "consume", "--dir", dir, "--topic", "access"], {
        cwd: ROOT,
        env: { ...process.env, NO_COLOR: "1" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      const err: Uint8Array[] = [];
      child.stderr!.on("data", (c: Uint8Array) => err.push(c));
      const status = await new Promise<number | null>((resolve) => {
        child.stdout!.once("data", () => child.stdout!.destroy()); // like `| head -1`
        child.on("close", (code: number | null) => resolve(code));
      });
      assert.equal(Buffer.concat(err).toString("utf8"), "");
      assert.equal(status, 0);
    });
  });

  test("produce --format json takes keys and timestamps from dotted fields", TIMEOUT, async () => {
    await withTempDir(async (dir) => {
      const input = [
        '{"user":{"id":"ada"},"time":"2015-09-12T00:00:00Z","n":1}',
        '{"user":{"id":"bob"},"time":1442016060000,"n":2}',
        "",
        '{"user":{"id":"ada"},"time":"2015-09-12T00:02:00.000Z","n":3}',
      ].join("\n");
      const produced = await reel(
        ["produce", "--dir", dir, "--topic", "events", "--format", "json", "--key-field", "user.id"].concat(
          ["--timestamp-field", "time", "--config", "retentionMs=-1"],
        ),
        input,
      );
      assertOk(produced, "produce");
      const full = await reel(["consume", "--dir", dir, "--topic", "events", "--format", "full"]);
      assertOk(full, "consume");
      const records = linesOf(full.stdout).map((l) => JSON.parse(l));
      assert.deepEqual(records.map((r) => [r.key, r.timestamp]), [
        ["ada", 1442016000000],
        ["bob", 1442016060000],
        ["ada", 1442016120000],
      ]);
      const json = await reel(["consume", "--dir", dir, "--topic", "events", "--format", "json"]);
      assert.deepEqual(linesOf(json.stdout).map((l) => JSON.parse(l).n), [1, 2, 3]);
      const later = await reel([
        "consume",
        "--dir",
        dir,
        "--topic",
        "events",
        "--from",
        "2015-09-12T00:01:00Z",
      ]);
      assertOk(later, "consume --from <time>");
      assert.deepEqual(linesOf(later.stdout).map((l) => JSON.parse(l).n), [2, 3]);
    });
  });

  test(
    "produce --format json stops at a line that is not JSON and keeps the records before it",
    TIMEOUT,
    async () => {
      await withTempDir(async (dir) => {
        const input = '{"n":1}\n{"n":2}\n{"n": oops\n{"n":4}\n';
        const run = await reel(["produce", "--dir", dir, "--topic", "events", "--format", "json"], input);
        assert.equal(run.status, 1);
        const errors = linesOf(run.stderr).filter((l) => l.startsWith("reel: "));
        assert.equal(errors.length, 1, run.stderr);
        assert.match(errors[0], /^reel: Cannot parse line 3 as JSON: /);
        assert.doesNotMatch(run.stderr, /\n\s+at /, "no stack without --verbose");
        const consumed = await reel(["consume", "--dir", dir, "--topic", "events"]);
        assertOk(consumed, "consume");
        assert.deepEqual(linesOf(consumed.stdout), ['{"n":1}', '{"n":2}']);
      });
    },
  );

  test("produce into an existing topic appends after its records", TIMEOUT, async () => {
    await withTempDir(async (dir) => {
      assertOk(await reel(["produce", "--dir", dir, "--topic", "t"], "a\nb\n"), "produce");
      assertOk(
        await reel(["produce", "--dir", dir, "--topic", "t", "--compression", "gzip"], "c\r\nd"),
        "produce",
      );
      const run = await reel(["consume", "--dir", dir, "--topic", "t"]);
      assert.deepEqual(linesOf(run.stdout), ["a", "b", "c", "d"]);
    });
  });
});

describe("reel produce keeps bytes as bytes", () => {
  test("bytes that are not UTF-8 go through produce and consume unchanged", TIMEOUT, async () => {
    await withTempDir(async (dir) => {
      const input = Buffer.from([
        ...Buffer.from("caf"),
        0xe9,
        0x0a, // latin-1 "café"
        0xff,
        0xfe,
        0x00,
        0x0d,
        0x0a, // not UTF-8 at all, CRLF
        0xe2,
        0x82,
        0x0a, // a character cut short
        ...Buffer.from("plain €\n"),
      ]);
      assertOk(await reel(["produce", "--dir", dir, "--topic", "t"], input), "produce");
      const run = await reel(["consume", "--dir", dir, "--topic", "t"]);
      assertOk(run, "consume");
      // The CRLF comes back as LF, the line terminator consume writes; every other byte is the same.
      const expected = Buffer.from(input.filter((_, i) => !(input[i] === 0x0d && input[i + 1] === 0x0a)));
      assert.deepEqual(run.stdoutBytes, expected);
      const full = await reel(["consume", "--dir", dir, "--topic", "t", "--format", "full"]);
      const values = linesOf(full.stdout).map((l) => JSON.parse(l));
      assert.equal(values[0].valueEncoding, "base64");
      assert.deepEqual(Buffer.from(values[0].value, "base64"), Buffer.from([0x63, 0x61, 0x66, 0xe9]));
    });
  });

  test(
    "produce --format text stops at a line that is not UTF-8, naming it, and keeps the lines before",
    TIMEOUT,
    async () => {
      await withTempDir(async (dir) => {
        const input = Buffer.concat([
          Buffer.from("one\ntwo\n"),
          Buffer.from([0x74, 0xff, 0x0a]),
          Buffer.from("four\n"),
        ]);
        const run = await reel(["produce", "--dir", dir, "--topic", "t", "--format", "text"], input);
        assert.equal(run.status, 1);
        assert.match(run.stderr, /^reel: Cannot decode line 3 as UTF-8/m);
        const consumed = await reel(["consume", "--dir", dir, "--topic", "t"]);
        assert.deepEqual(linesOf(consumed.stdout), ["one", "two"]);
      });
    },
  );

  test(
    "a line over maxMessageBytes stops produce with an error naming the line and the option",
    TIMEOUT,
    async () => {
      await withTempDir(async (dir) => {
        const input = Buffer.concat([
          Buffer.from("short\n"),
          Buffer.alloc(2000, 0x61),
          Buffer.from("\nafter\n"),
        ]);
        const run = await reel(
          ["produce", "--dir", dir, "--topic", "t", "--config", "maxMessageBytes=1000"],
          input,
        );
        assert.equal(run.status, 1);
        const errors = linesOf(run.stderr).filter((l) => l.startsWith("reel: "));
        assert.equal(errors.length, 1, run.stderr);
        assert.match(errors[0], /^reel: Cannot produce line 2: .*maxMessageBytes/);
        const consumed = await reel(["consume", "--dir", dir, "--topic", "t"]);
        assert.deepEqual(linesOf(consumed.stdout), ["short"]);
      });
    },
  );

  test("empty stdin creates no topic; the summary says when produce created the topic", TIMEOUT, async () => {
    await withTempDir(async (dir) => {
      const empty = await reel(["produce", "--dir", dir, "--topic", "t"], "");
      assertOk(empty, "produce");
      assert.match(empty.stderr, /produced 0 records .*the topic was not created/);
      const none = await reel(["topics", "--dir", dir]);
      assertOk(none, "topics");
      assert.equal(none.stdout, "");
      const first = await reel(["produce", "--dir", dir, "--topic", "t"], "a\n");
      assert.match(first.stderr, /^created topic t; produced 1 record /);
      const second = await reel(["produce", "--dir", dir, "--topic", "t"], "b\n");
      assert.match(second.stderr, /^produced 1 record /);
    });
  });
});

describe("reel topics and describe --format json, describe of every topic", () => {
  test("topics --format json prints one object per topic", TIMEOUT, async () => {
    await withTempDir(async (dir) => {
      assertOk(await reel(["produce", "--dir", dir, "--topic", "b", "--partitions", "3"], "x\n"), "produce");
      assertOk(await reel(["produce", "--dir", dir, "--topic", "a"], "y\nz\n"), "produce");
      const run = await reel(["topics", "--dir", dir, "--format", "json"]);
      assertOk(run, "topics --format json");
      assert.deepEqual(linesOf(run.stdout).map((l) => JSON.parse(l)), [
        { topic: "a", partitions: 1 },
        { topic: "b", partitions: 3 },
      ]);
    });
  });

  test(
    "describe without --topic describes every topic; --format json gives each partition's offsets",
    TIMEOUT,
    async () => {
      await withTempDir(async (dir) => {
        assertOk(
          await reel(["produce", "--dir", dir, "--topic", "b", "--partitions", "2"], "x\n"),
          "produce",
        );
        assertOk(await reel(["produce", "--dir", dir, "--topic", "a"], "y\nz\n"), "produce");
        const table = await reel(["describe", "--dir", dir]);
        assertOk(table, "describe");
        assert.deepEqual(linesOf(table.stdout).filter((l) => l.startsWith("Topic: ")), [
          "Topic: a  Partitions: 1  Records: 2",
          "Topic: b  Partitions: 2  Records: 1",
        ]);
        const json = await reel(["describe", "--dir", dir, "--format", "json"]);
        assertOk(json, "describe --format json");
        const topics = linesOf(json.stdout).map((l) => JSON.parse(l));
        assert.deepEqual(topics.map((t) => [t.topic, t.partitions, t.records]), [["a", 1, 2], ["b", 2, 1]]);
        assert.deepEqual(
          topics[0].partitionInfo.map((
            p: { partition: number; logStartOffset: number; logEndOffset: number },
          ) => [
            p.partition,
            p.logStartOffset,
            p.logEndOffset,
          ]),
          [[0, 0, 2]],
        );
        assert.equal(typeof topics[0].config.maxMessageBytes, "number");
        const one = await reel(["describe", "--dir", dir, "--topic", "b", "--format", "json"]);
        assert.deepEqual(linesOf(one.stdout).map((l) => JSON.parse(l).topic), ["b"]);
      });
    },
  );
});

describe("reel dump and verify on the wrong kind of file", () => {
  test(
    "dump of a directory or a file that is not a segment prints one line naming it and exits 1",
    TIMEOUT,
    async () => {
      await withTempDir(async (dir) => {
        assertOk(await reel(["produce", "--dir", dir, "--topic", "t"], "one\n"), "produce");
        const notes = path.join(path.dirname(dir), "notes.txt");
        fs.writeFileSync(notes, "not a segment\n");
        const garbage = path.join(path.dirname(dir), "00000000000000000000.log");
        fs.writeFileSync(garbage, Buffer.alloc(200, 0xff));
        for (
          const [file, reason] of [
            [path.join(dir, "t-0"), /it is a directory/],
            [notes, /it is not a segment file/],
            [garbage, /it is not a segment file/],
          ] as const
        ) {
          const run = await reel(["dump", file]);
          assert.equal(run.status, 1, `${file}: ${run.stderr}`);
          const errors = linesOf(run.stderr);
          assert.equal(errors.length, 1, run.stderr);
          assert.ok(errors[0].startsWith(`reel: Cannot dump ${file}: `), errors[0]);
          assert.match(errors[0], reason);
        }
      });
    },
  );

  test("verify of a file says it is not a directory; an empty partition says empty", TIMEOUT, async () => {
    await withTempDir(async (dir) => {
      assertOk(
        await reel(["produce", "--dir", dir, "--topic", "t", "--partitions", "2"], "one\n"),
        "produce",
      );
      const file = path.join(dir, "t-0", "00000000000000000000.log");
      const onFile = await reel(["verify", "--dir", file]);
      assert.equal(onFile.status, 1);
      assert.equal(onFile.stderr, `reel: Cannot verify log directory ${file}: it is not a directory\n`);
      const run = await reel(["verify", "--dir", dir]);
      assertOk(run, "verify");
      const lines = linesOf(run.stdout);
      const empty = lines.filter((l) => l.includes("empty, next offset 0"));
      const full = lines.filter((l) => l.includes("offsets 0 to 0"));
      assert.equal(empty.length + full.length, 2, run.stdout);
      assert.equal(full.length, 1, run.stdout);
      assert.doesNotMatch(run.stdout, /to -1/);
    });
  });
});

describe("reel topics, describe and dump", () => {
  test("topics lists each topic with its partition count", TIMEOUT, async () => {
    await withTempDir(async (dir) => {
      assertOk(await reel(["produce", "--dir", dir, "--topic", "b", "--partitions", "3"], "x\n"), "produce");
      assertOk(await reel(["produce", "--dir", dir, "--topic", "a"], "y\n"), "produce");
      const run = await reel(["topics", "--dir", dir]);
      assertOk(run, "topics");
      assert.equal(run.stdout, "a\t1\nb\t3\n");
    });
  });

  test("describe shows each partition's offsets, segments and bytes", TIMEOUT, async () => {
    await withTempDir(async (dir) => {
      await produceApacheLogs(dir);
      const run = await reel(["describe", "--dir", dir, "--topic", "access"]);
      assertOk(run, "describe");
      const lines = linesOf(run.stdout);
      assert.match(lines[0], /^Topic: access {2}Partitions: 4 {2}Records: 10000$/);
      const header = lines.findIndex((l) => l.startsWith("PARTITION"));
      assert.deepEqual(lines[header].split(/\s+/), [
        "PARTITION",
        "LOG-START-OFFSET",
        "LOG-END-OFFSET",
        "HIGH-WATERMARK",
        "SEGMENTS",
        "BYTES",
      ]);
      const rows = lines.slice(header + 1, header + 5).map((l) => l.split(/\s+/).map(Number));
      assert.deepEqual(rows.map((r) => r[0]), [0, 1, 2, 3]);
      let total = 0;
      for (const [partition, start, end, hw, segments, bytes] of rows) {
        assert.equal(start, 0);
        assert.equal(hw, end);
        assert.equal(segments, 1);
        const file = path.join(dir, `access-${partition}`, "00000000000000000000.log");
        assert.equal(bytes, fs.statSync(file).size);
        total += end;
      }
      assert.equal(total, 10000);
    });
  });

  test(
    "dump shows every batch valid, offsets dense, and the records with --print-data-log",
    TIMEOUT,
    async () => {
      await withTempDir(async (dir) => {
        await produceApacheLogs(dir);
        let records = 0;
        for (let p = 0; p < 4; p++) {
          const file = path.join(dir, `access-${p}`, "00000000000000000000.log");
          const run = await reel(["dump", "--print-data-log", file]);
          assertOk(run, "dump");
          const lines = linesOf(run.stdout);
          assert.equal(lines[0], `Dumping ${file}`);
          assert.equal(lines[1], "Log starting offset: 0");
          let next = 0;
          let position = 0;
          for (const line of lines.slice(2)) {
            if (line.startsWith("| ")) {
              const m =
                /^\| offset: (\d+) CreateTime: \d+ keySize: (\d+) valueSize: (\d+) .* key: (\S+) payload: (.*)$/
                  .exec(line);
              assert.ok(m, line);
              assert.equal(Number(m[1]), next++);
              assert.equal(m[5].startsWith(m[4] + " "), true);
              records++;
              continue;
            }
            const m =
              /^baseOffset: (\d+) lastOffset: (\d+) count: (\d+) .* position: (\d+) CreateTime: \d+ size: (\d+) magic: 2 compresscodec: none crc: \d+ isvalid: (\w+)$/
                .exec(line);
            assert.ok(m, line);
            assert.equal(Number(m[1]), next);
            assert.equal(Number(m[2]) - Number(m[1]) + 1, Number(m[3]));
            assert.equal(Number(m[4]), position);
            assert.equal(m[6], "true");
            position += Number(m[5]);
          }
          assert.equal(position, fs.statSync(file).size);
        }
        assert.equal(records, 10000);
      });
    },
  );

  test("dump reports a torn batch at the end of a file as invalid bytes", TIMEOUT, async () => {
    await withTempDir(async (dir) => {
      assertOk(await reel(["produce", "--dir", dir, "--topic", "t"], "one\ntwo\n"), "produce");
      const file = path.join(dir, "t-0", "00000000000000000000.log");
      const torn = path.join(path.dirname(dir), "torn.log");
      const bytes = fs.readFileSync(file);
      fs.writeFileSync(torn, Buffer.concat([bytes, bytes.subarray(0, bytes.length - 3)]));
      const run = await reel(["dump", torn]);
      assertOk(run, "dump");
      const lines = linesOf(run.stdout);
      assert.match(lines[2], /isvalid: true$/);
      assert.match(lines[3], new RegExp(`^Found ${bytes.length - 3} invalid bytes at the end of `));
    });
  });
});

describe("reel errors", () => {
  test("an unknown topic exits with status 1 and a one-line error", TIMEOUT, async () => {
    await withTempDir(async (dir) => {
      assertOk(await reel(["produce", "--dir", dir, "--topic", "t"], "x\n"), "produce");
      for (const args of [["consume", "--topic", "nope"], ["describe", "--topic", "nope"]]) {
        const run = await reel([...args, "--dir", dir]);
        assert.equal(run.status, 1);
        assert.equal(run.stdout, "");
        assert.match(run.stderr, /^reel: .*"nope".*\n$/);
      }
      const verbose = await reel(["consume", "--topic", "nope", "--dir", dir, "--verbose"]);
      assert.equal(verbose.status, 1);
      assert.match(verbose.stderr, /\n\s+at /, "--verbose prints the stack");
    });
  });

  test("a directory that does not exist is an error, and is not created", TIMEOUT, async () => {
    await withTempDir(async (dir) => {
      const run = await reel(["topics", "--dir", dir]);
      assert.equal(run.status, 1);
      assert.match(run.stderr, /^reel: Cannot open log directory .*: it does not exist\n$/);
      assert.equal(fs.existsSync(dir), false);
    });
  });

  test("usage errors exit with status 2", TIMEOUT, async () => {
    const cases = [
      ["frobnicate"],
      ["consume", "--topic", "t"],
      ["consume", "--dir", "d", "--topic", "t", "--bogus"],
      ["consume", "--dir", "d", "--topic", "t", "--from", "yesterday"],
      ["consume", "--dir", "d", "--topic", "t", "--from=-1"],
      ["produce", "--dir", "d", "--topic", "t", "--partitions", "0"],
      // The API's limit (MAX_PARTITIONS), not a larger one of the CLI's own.
      ["produce", "--dir", "d", "--topic", "t", "--partitions", "100001"],
      ["produce", "--dir", "d", "--topic", "t", "--key-field", "a"],
      ["produce", "--dir", "d", "--topic", "t", "--key-regex", "("],
      ["dump"],
    ];
    for (const args of cases) {
      const run = await reel(args);
      assert.equal(run.status, 2, `${args.join(" ")}: ${run.stderr}`);
      assert.match(run.stderr, /^reel: [^\n]+\n$/, args.join(" "));
    }
  });

  test("--help prints a command's usage and exits with status 0", TIMEOUT, async () => {
    for (const command of ["produce", "consume", "topics", "describe", "dump"]) {
      const run = await reel([command, "--help"]);
      assertOk(run, `${command} --help`);
      assert.match(run.stdout, new RegExp(`^Usage: reel ${command} `));
    }
    const general = await reel(["--help"]);
    assertOk(general, "--help");
    assert.match(general.stdout, /^Usage: reel <command>/);
  });
});
