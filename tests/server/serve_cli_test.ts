// `reel serve` as a process on this test's runtime: it listens on the address asked for, answers
// Kafka clients, and on SIGTERM or SIGINT closes cleanly (exit 0, the log marked clean).

import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { open } from "../../mod.ts";
import { encodeRecordBatch } from "../../src/record/mod.ts";
import { RawClient } from "./_helpers.ts";
import { scriptCommand } from "../_runtime.ts";

const MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));

function startServe(args: string[]) {
  const [bin, argv] = scriptCommand(MAIN, ["serve", ...args]);
  const child = spawn(bin, argv, { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  const listening = new Promise<string>((resolve, reject) => {
    child.stderr.on("data", (d) => {
      stderr += d;
      const m = /listening on (\S+)/.exec(stderr);
      if (m) resolve(m[1]);
    });
    child.on("exit", () => reject(new Error(`reel serve exited before listening: ${stderr}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, listening, exited, stderr: () => stderr };
}

describe("reel serve (the command)", () => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    test(`serves produce requests and exits 0 on ${signal}, leaving a clean log`, async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-serve-cli-"));
      const serve = startServe(["--dir", dir, "--listen", "127.0.0.1:0", "--num-partitions", "2"]);
      try {
        const address = await serve.listening;
        const port = Number(address.slice(address.lastIndexOf(":") + 1));
        const client = await RawClient.connect(port);
        const res = await client.request(0, 7, {
          transactionalId: null,
          acks: -1,
          timeoutMs: 1000,
          topicData: [{
            name: "cli",
            partitionData: [{
              index: 1,
              records: encodeRecordBatch([{ value: new TextEncoder().encode("x") }]),
            }],
          }],
        });
        const p =
          (res.responses as { partitionResponses: { errorCode: number }[] }[])[0].partitionResponses[0];
        assert.equal(p.errorCode, 0);
        client.close();
        // process.kill, not child.kill: Deno's child_process reports a child it signalled as killed
        // by the signal, whatever its exit status.
        process.kill(serve.child.pid!, signal);
        assert.equal(await serve.exited, 0, serve.stderr());
        assert.match(serve.stderr(), /stopped/);
        const log = await open(dir);
        const topic = log.topic("cli");
        assert.equal(topic.partitions, 2);
        assert.equal(topic.partition(1).logEndOffset, 1);
        assert.equal(topic.partition(1).loadReport.clean, true);
        await log.close();
      } finally {
        serve.child.kill("SIGKILL");
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  test("an address in use is a one-line error and exit status 1", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-serve-cli-"));
    const first = startServe(["--dir", dir, "--listen", "127.0.0.1:0"]);
    try {
      const address = await first.listening;
      const second = startServe(["--dir", dir, "--listen", address]);
      second.listening.catch(() => {});
      assert.equal(await second.exited, 1);
      assert.match(second.stderr(), /^reel: .*(EADDRINUSE|in use)/im);
    } finally {
      first.child.kill("SIGKILL");
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  test("--tls-cert, --tls-key and --sasl-users: kcat authenticates with SCRAM-SHA-256 over TLS", {
    skip: spawnSync("kcat", ["-V"]).status !== 0,
  }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-serve-cli-"));
    const fixtures = fileURLToPath(new URL("./fixtures/", import.meta.url));
    const users = path.join(dir, "users.json");
    fs.writeFileSync(users, JSON.stringify({ carol: "carol-secret" }));
    const serve = startServe([
      "--dir",
      path.join(dir, "log"),
      "--listen",
      "127.0.0.1:0",
      "--tls-cert",
      path.join(fixtures, "localhost.cert.pem"),
      "--tls-key",
      path.join(fixtures, "localhost.key.pem"),
      "--sasl-users",
      users,
      "--sasl-mechanisms",
      "SCRAM-SHA-256",
    ]);
    try {
      const address = await serve.listening;
      const kcat = spawnSync("kcat", [
        "-b",
        address,
        ...[
          "security.protocol=sasl_ssl",
          `ssl.ca.location=${path.join(fixtures, "localhost.cert.pem")}`,
          "sasl.mechanisms=SCRAM-SHA-256",
          "sasl.username=carol",
          "sasl.password=carol-secret",
        ].flatMap((c) => ["-X", c]),
        "-P",
        "-t",
        "cli-secure",
      ], { input: "one\ntwo\n", encoding: "utf8" });
      assert.equal(kcat.status, 0, kcat.stderr);
      process.kill(serve.child.pid!, "SIGTERM");
      assert.equal(await serve.exited, 0, serve.stderr());
      const log = await open(path.join(dir, "log"));
      const values = [];
      for await (const r of log.topic("cli-secure").readable()) {
        values.push(new TextDecoder().decode(r.value!));
      }
      assert.deepEqual(values, ["one", "two"]);
      await log.close();
    } finally {
      serve.child.kill("SIGKILL");
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  for (
    const [args, message] of [
      [["--tls-cert", "cert.pem"], /--tls-cert and --tls-key go together/],
      [["--sasl-mechanisms", "PLAIN"], /--sasl-mechanisms needs --sasl-users/],
      [["--sasl-users", "/nonexistent/users.json"], /Cannot read --sasl-users/],
      [["--sasl-users", "u.json", "--sasl-mechanisms", "PLAIN,GSSAPI"], /Invalid --sasl-mechanisms "GSSAPI"/],
    ] as const
  ) {
    test(`${args.join(" ")}: a usage error, exit status 2`, async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-serve-cli-"));
      const serve = startServe(["--dir", dir, "--listen", "127.0.0.1:0", ...args]);
      serve.listening.catch(() => {});
      try {
        assert.equal(await serve.exited, 2, serve.stderr());
        assert.match(serve.stderr(), message);
      } finally {
        serve.child.kill("SIGKILL");
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
