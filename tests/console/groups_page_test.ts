// The console's consumer group pages, in process through the Web handler: a group that consumed
// part of a topic and committed shows its committed offsets, log end offsets and lag as
// describeGroup() (and so `reel groups`) reports them; a live member shows with its partitions.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Consumer, describeGroup, open } from "../../mod.ts";
import type { LogDirectory } from "../../src/topic/log_directory.ts";
import { consoleHandler } from "../../src/console/console_handler.ts";
import { LagHistory } from "../../src/console/lag_history.ts";
import { createRequire } from "node:module";

describe("reel console: consumer groups", () => {
  let dir: string;
  let log: LogDirectory;
  let handler: (request: Request) => Promise<Response>;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-console-groups-"));
    log = await open(dir);
    handler = consoleHandler(log);
  });

  after(async () => {
    await log?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const get = async (p: string) => {
    const response = await handler(new Request(`http://127.0.0.1${p}`));
    return { status: response.status, html: await response.text(), headers: response.headers };
  };

  /** [topic, partition, committed, log end, lag] of each row of a group page's offsets table. */
  const offsetRows = (html: string) =>
    [
      ...html.matchAll(
        /<tr data-topic="([^"]+)" data-partition="(\d+)">.*?<td class="num committed">([-\d]+)<\/td><td class="num end">([-\d]+)<\/td><td class="num lag">([-\d]+)<\/td>/g,
      ),
    ].map((m) => [m[1], Number(m[2]), m[3], m[4], m[5]]);

  test("no group yet: the list says so", async () => {
    const page = await get("/groups");
    assert.equal(page.status, 200);
    assert.match(page.html, /No consumer group/);
  });

  test("a group that consumed part of a topic shows its committed offsets and lag per partition", async () => {
    const topic = await log.createTopic("orders", { partitions: 3 });
    await topic.append(Array.from({ length: 30 }, (_, i) => ({ partition: i % 3, value: `o${i}` })));
    const consumer = new Consumer(log, {
      groupId: "billing",
      autoOffsetReset: "earliest",
      enableAutoCommit: false,
    });
    consumer.subscribe(["orders"]);
    try {
      // Consume, then commit part-way: partition 0 to 4, partition 1 to 10, partition 2 never.
      assert.ok((await consumer.poll({ timeoutMs: 5_000 })).length > 0);
      await consumer.commit([
        { topic: "orders", partition: 0, offset: 4 },
        { topic: "orders", partition: 1, offset: 10 },
      ]);
      const page = await get("/groups/billing");
      assert.equal(page.status, 200);
      const expected = describeGroup(log, "billing").offsets.map((o) => [
        o.topic,
        o.partition,
        String(o.committedOffset ?? "-"),
        String(o.logEndOffset ?? "-"),
        String(o.lag ?? "-"),
      ]);
      assert.deepEqual(offsetRows(page.html), expected);
      assert.deepEqual(offsetRows(page.html).slice(0, 2), [
        ["orders", 0, "4", "10", "6"],
        ["orders", 1, "10", "10", "0"],
      ]);
      assert.match(page.html, /<dd class="total-lag">6<\/dd>/);
      assert.match(page.html, /<script src="\/assets\/lag.js" defer>/);
      const list = await get("/groups");
      assert.match(list.html, /<tr data-group="billing"><td><a href="\/groups\/billing">billing<\/a><\/td>/);
      const lag = await handler(new Request("http://127.0.0.1/groups/billing/lag"));
      assert.equal(lag.headers.get("content-type"), "application/json; charset=utf-8");
      const json = await lag.json();
      assert.equal(json.totalLag, 6);
      assert.ok(typeof json.time === "number");
      // More records: the lag grows.
      await topic.append([{ partition: 0, value: "late" }]);
      assert.equal(
        (await (await handler(new Request("http://127.0.0.1/groups/billing/lag"))).json()).totalLag,
        7,
      );
    } finally {
      await consumer.close();
    }
  });

  test("a live member shows with the partitions it owns", async () => {
    const topic = await log.createTopic("clicks", { partitions: 2 });
    await topic.append([{ partition: 0, value: "a" }, { partition: 1, value: "b" }]);
    const consumer = new Consumer(log, {
      groupId: "live",
      clientId: "web-<1>",
      autoOffsetReset: "earliest",
      enableAutoCommit: false,
    });
    consumer.subscribe(["clicks"]);
    try {
      const records = await consumer.poll({ timeoutMs: 5_000 });
      assert.ok(records.length > 0);
      await consumer.commit();
      const page = await get("/groups/live");
      const group = describeGroup(log, "live");
      const member = group.members[0];
      assert.match(page.html, new RegExp(`<dd class="state">${group.state}</dd>`));
      assert.match(page.html, new RegExp(`<dd class="generation">${group.generation}</dd>`));
      assert.ok(page.html.includes(`<tr data-member="${member.memberId}">`));
      assert.ok(page.html.includes("web-&lt;1&gt;"), "the client id is escaped");
      assert.ok(page.html.includes(member.owned.map((tp) => `${tp.topic}-${tp.partition}`).join(", ")));
    } finally {
      await consumer.close();
    }
  });

  test("the lag JSON carries the console's samples, bounded; the chart library is served from its npm package", async () => {
    const topic = await log.createTopic("metrics");
    const consumer = new Consumer(log, { groupId: "charted" });
    await consumer.commit([{ topic: "metrics", partition: 0, offset: 0 }]);
    await consumer.close();
    const lagHistory = new LagHistory({ intervalMs: 5000, keepMs: 15_000 });
    const withHistory = consoleHandler(log, { lagHistory });
    const lagJson = async () =>
      await (await withHistory(new Request("http://127.0.0.1/groups/charted/lag"))).json() as {
        totalLag: number;
        history: { time: number; totalLag: number }[];
      };
    assert.deepEqual((await lagJson()).history, []);
    // Five samples 5 s apart, one more record before each: the last three are kept (15 s).
    for (let i = 1; i <= 5; i++) {
      await topic.append([{ value: `m${i}` }]);
      lagHistory.sample(log, 1_000_000 + i * 5000);
    }
    const json = await lagJson();
    assert.equal(json.totalLag, 5);
    assert.deepEqual(json.history, [
      { time: 1_015_000, totalLag: 3 },
      { time: 1_020_000, totalLag: 4 },
      { time: 1_025_000, totalLag: 5 },
    ]);
    // The page asks at the sampling interval and loads uPlot, its stylesheet and the chart script.
    const page = await (await withHistory(new Request("http://127.0.0.1/groups/charted"))).text();
    assert.match(page, /data-interval-ms="5000"/);
    assert.match(page, /<link rel="stylesheet" href="\/assets\/uPlot.min.css">/);
    assert.match(
      page,
      /<script src="\/assets\/uPlot.iife.min.js" defer><\/script><script src="\/assets\/lag.js" defer>/,
    );
    const require = createRequire(import.meta.url);
    for (
      const [asset, file, type] of [
        ["uPlot.iife.min.js", "uplot/dist/uPlot.iife.min.js", "text/javascript; charset=utf-8"],
        ["uPlot.min.css", "uplot/dist/uPlot.min.css", "text/css; charset=utf-8"],
      ]
    ) {
      const response = await withHistory(new Request(`http://127.0.0.1/assets/${asset}`));
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-type"), type);
      assert.deepEqual(
        new Uint8Array(await response.arrayBuffer()),
        new Uint8Array(fs.readFileSync(require.resolve(file))),
      );
    }
    assert.equal((await withHistory(new Request("http://127.0.0.1/assets/uPlot.esm.js"))).status, 404);
  });

  test("a group id with markup or slashes is escaped and encoded; an unknown one is 404, a malformed one 400", async () => {
    await log.createTopic("misc");
    const odd = `a/<b>"c"`;
    const consumer = new Consumer(log, { groupId: odd });
    await consumer.commit([{ topic: "misc", partition: 0, offset: 0 }]);
    await consumer.close();
    const list = await get("/groups");
    assert.ok(list.html.includes(`<a href="/groups/a%2F%3Cb%3E%22c%22">a/&lt;b&gt;&quot;c&quot;</a>`));
    assert.doesNotMatch(list.html, /<b>/);
    const page = await get(`/groups/${encodeURIComponent(odd)}`);
    assert.equal(page.status, 200);
    assert.match(page.html, /<span class="group-id">a\/&lt;b&gt;&quot;c&quot;<\/span>/);
    assert.equal((await get("/groups/nobody")).status, 404);
    assert.equal((await get(`/groups/${"x".repeat(300)}`)).status, 400);
    assert.equal((await get("/groups/billing/other")).status, 404);
  });
});
