// The console's topics page over the demo's real data (data/apache_logs), served by the runtime the
// test runs in (Deno.serve under deno test, Bun.serve under bun test, node:http under node --test),
// read over loopback HTTP.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { open } from "../../mod.ts";
import type { LogDirectory } from "../../src/topic/log_directory.ts";
import { console as startConsole } from "../../src/console/console.ts";
import type { HttpServer } from "../../src/runtime/http_server.ts";

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const APACHE_LOG = path.join(ROOT, "data", "apache_logs", "apache_logs");

describe("reel console: topics page", () => {
  let dir: string;
  let log: LogDirectory;
  let server: HttpServer;
  let lines: string[];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-console-"));
    log = await open(dir);
    lines = fs.readFileSync(APACHE_LOG, "utf8").split("\n").filter((l) => l.length > 0);
    const topic = await log.createTopic("apache", { partitions: 4 });
    await topic.append(lines.map((line) => ({ key: line.slice(0, line.indexOf(" ")), value: line })));
    await log.createTopic("empty", { partitions: 1 });
    server = await startConsole(log, { port: 0, token: "t0ken" });
  });

  after(async () => {
    await server?.close();
    await log?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const get = (p: string, init?: RequestInit) => fetch(`http://127.0.0.1:${server.port}${p}`, init);

  test("the topics page shows each partition's offsets, and the log end offsets add up to the lines", async () => {
    const response = await get("/?token=t0ken");
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-security-policy") ?? "", /script-src 'self'/);
    const html = await response.text();
    const section = html.slice(html.indexOf('data-topic="apache"'), html.indexOf('data-topic="empty"'));
    const rows = [...section.matchAll(/<tr><td>(\d+)<\/td><td>(\d+)<\/td><td>(\d+)<\/td><td>(\d+)<\/td>/g)];
    assert.deepEqual(rows.map((r) => Number(r[1])), [0, 1, 2, 3]);
    assert.equal(lines.length, 10_000);
    assert.equal(rows.reduce((sum, r) => sum + Number(r[3]), 0), lines.length);
    for (const r of rows) {
      assert.equal(r[2], "0"); // log start offset
      assert.equal(r[4], r[3]); // high watermark = log end offset
    }
    assert.deepEqual(
      rows.map((r) => Number(r[3])),
      log.topic("apache").describe().map((p) => p.logEndOffset),
    );
    assert.match(html, /data-topic="empty"/);
  });

  test("records/s over the last minute counts the records timestamped in the last minute", async () => {
    const topic = await log.createTopic("rated", { partitions: 2 });
    const now = Date.now();
    await topic.append([
      ...Array.from(
        { length: 30 },
        (_, i) => ({ partition: 0, value: `old${i}`, timestamp: now - 3_600_000 }),
      ),
      ...Array.from({ length: 120 }, (_, i) => ({ partition: 0, value: `new${i}`, timestamp: now - 1_000 })),
      { partition: 1, value: "old", timestamp: now - 3_600_000 },
    ]);
    const html = await (await get("/?token=t0ken")).text();
    const section = html.slice(html.indexOf('data-topic="rated"'));
    const rates = [...section.matchAll(/<td class="rate">([\d.]+)<\/td>/g)].slice(0, 2).map((m) => m[1]);
    assert.deepEqual(rates, ["2.0", "0.0"]);
  });

  test("a request without the access token gets 401, with the token as a Bearer header 200", async () => {
    assert.equal((await get("/")).status, 401);
    assert.equal((await get("/?token=wrong")).status, 401);
    const ok = await get("/", { headers: { authorization: "Bearer t0ken" } });
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
  });

  test("an unknown path gets 404 and a POST 405", async () => {
    const missing = await get("/nothing?token=t0ken");
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
    const post = await get("/?token=t0ken", { method: "POST" });
    assert.equal(post.status, 405);
    await post.body?.cancel();
  });

  test("a console over a reader's open of the directory takes no partition's writer lock", async () => {
    const reader = await open(dir);
    const second = await startConsole(reader, { port: 0 });
    try {
      const html = await (await fetch(`http://127.0.0.1:${second.port}/`)).text();
      assert.match(html, /data-topic="apache"/);
      for (let p = 0; p < 4; p++) assert.equal(reader.topic("apache").partition(p).isWriter, false);
    } finally {
      await second.close();
      await reader.close();
    }
  });
});
