// The console in headless Chromium (Debian's `chromium`, driven by playwright-core from the test's
// own runtime: playwright-core imports and runs under Deno, Bun and Node). The console is served by
// the runtime the test runs in, over the demo's real data (data/apache_logs). Each view leaves a
// screenshot in tests/console/.screenshots/ (git-ignored).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { Consumer, open } from "../../mod.ts";
import type { LogDirectory } from "../../src/topic/log_directory.ts";
import { console as startConsole } from "../../src/console/console.ts";
import type { HttpServer } from "../../src/runtime/http_server.ts";
import { reel } from "../consumer/_helpers.ts";
import { RUNTIME, toArray } from "../_runtime.ts";

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const APACHE_LOG = path.join(ROOT, "data", "apache_logs", "apache_logs");
const SCREENSHOTS = path.join(ROOT, "tests", "console", ".screenshots");
const CHROMIUM = process.env.REEL_CHROMIUM ?? "/usr/bin/chromium";
/** Generous: how long the page may take to show what it must (a slow CI machine); never a pass/fail on speed. */
const WAIT_MS = 10_000;
const XSS = `<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">`;

/**
 * A page load in Chromium takes seconds on a loaded 2-core machine, past Bun's default of 5 s per
 * test: pass or fail must not depend on it, so each test only has a hang guard.
 */
const HANG_GUARD = { timeout: 300_000 };

describe("reel console in headless Chromium", () => {
  let dir: string;
  let log: LogDirectory;
  let server: HttpServer;
  let browser: Browser;
  let lines: string[];
  let base: string;

  before(async () => {
    assert.ok(fs.existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM} (apt-get install chromium)`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-console-browser-"));
    log = await open(dir);
    lines = fs.readFileSync(APACHE_LOG, "utf8").split("\n").filter((l) => l.length > 0);
    const apache = await log.createTopic("apache", { partitions: 4 });
    await apache.append(lines.map((line) => ({ key: line.slice(0, line.indexOf(" ")), value: line })));
    // The lag is sampled every 100 ms here (5 s by default), so the group page has a history to show.
    server = await startConsole(log, { port: 0, allowProduce: true, lagSampleMs: 100 });
    base = `http://127.0.0.1:${server.port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await log?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A fresh page that fails the test on a dialog (alert) and records script errors and CSP reports. */
  async function withPage(view: string, fn: (page: Page, errors: string[]) => Promise<void>): Promise<void> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on("dialog", (d) => {
      errors.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
    try {
      await fn(page, errors);
      await page.screenshot({ path: path.join(SCREENSHOTS, `${view}-${RUNTIME}.png`), fullPage: true });
    } finally {
      await page.close();
    }
  }

  const offsetsShown = (page: Page) =>
    page.locator("table.records tbody tr[data-offset]").evaluateAll((rows) =>
      rows.map((r) => Number(r.getAttribute("data-offset")))
    );
  const valuesShown = (page: Page) =>
    page.locator("table.records tbody td.value").evaluateAll((cells) => cells.map((c) => c.textContent));

  test("the topics page shows the Apache log's 10,000 records over 4 partitions", HANG_GUARD, async () => {
    await withPage("topics", async (page) => {
      await page.goto(`${base}/`);
      const section = page.locator('section[data-topic="apache"]');
      assert.equal(await section.locator("h3").textContent(), "apache");
      const cells = await section.locator("tbody tr").evaluateAll((rows) =>
        rows.map((row) => [...row.querySelectorAll("td")].map((td) => Number(td.textContent)))
      );
      assert.deepEqual(cells.map((c) => c[0]), [0, 1, 2, 3]);
      assert.equal(cells.reduce((sum, c) => sum + c[2], 0), lines.length);
      assert.deepEqual(cells.map((c) => c[2]), log.topic("apache").describe().map((p) => p.logEndOffset));
    });
  });

  test(
    "paging through a partition's records, then finding a known line of the Apache log by key",
    HANG_GUARD,
    async () => {
      // The lines of partition 0, by offset.
      const partition0: string[] = [];
      for await (const r of log.topic("apache").readable({ partitions: 0 })) {
        partition0.push(new TextDecoder().decode(r.value!));
      }
      await withPage("records", async (page, errors) => {
        await page.goto(`${base}/`);
        await page.locator('section[data-topic="apache"] tbody tr').first().getByRole("link", {
          name: "records",
        })
          .click();
        assert.deepEqual(await offsetsShown(page), Array.from({ length: 50 }, (_, i) => i));
        await page.getByRole("link", { name: "next ›" }).first().click();
        assert.deepEqual(await offsetsShown(page), Array.from({ length: 50 }, (_, i) => 50 + i));
        assert.deepEqual(await valuesShown(page), partition0.slice(50, 100));

        const wanted = partition0[Math.floor(partition0.length * 0.8)];
        const key = wanted.slice(0, wanted.indexOf(" "));
        const search = page.locator("form.search");
        await search.locator('input[name="key"]').fill(key);
        await search.locator('input[name="offset"]').fill("0");
        await search.getByRole("button", { name: "Search" }).click();
        await page.locator("p.search").waitFor();
        const values = await valuesShown(page);
        assert.ok(values.includes(wanted), `the line with key ${key} is found`);
        const keys = await page.locator("table.records tbody td.key").evaluateAll((c) =>
          c.map((td) => td.textContent)
        );
        for (const k of keys) assert.ok(k?.includes(key));
        assert.deepEqual(errors, []);
      });
    },
  );

  test(
    "a range of timestamps, from the records page's form, shows the records the time index finds",
    HANG_GUARD,
    async () => {
      const topic = await log.createTopic("readings");
      const start = Date.parse("2015-09-12T00:00:00Z");
      await topic.append(
        Array.from(
          { length: 120 },
          (_, i) => ({ key: `sensor-${i % 3}`, value: `reading ${i}`, timestamp: start + i * 60_000 }),
        ),
      );
      await withPage("records-time", async (page, errors) => {
        await page.goto(`${base}/topics/readings/partitions/0/records`);
        const form = page.locator("form.time-range");
        await form.locator('input[name="timestamp"]').fill("2015-09-12T00:30:00Z");
        await form.locator('input[name="toTimestamp"]').fill("2015-09-12T00:45:00Z");
        await form.getByRole("button", { name: "Show" }).click();
        await page.locator("p.range").waitFor();
        assert.deepEqual(await offsetsShown(page), Array.from({ length: 15 }, (_, i) => 30 + i));
        assert.deepEqual(await valuesShown(page), Array.from({ length: 15 }, (_, i) => `reading ${30 + i}`));
        assert.match((await page.locator("p.range").textContent())!, /offsets 30 to 44/);
        // The same range with a key: every third reading.
        await form.locator('input[name="key"]').fill("sensor-1");
        await form.getByRole("button", { name: "Show" }).click();
        await page.locator("p.search").waitFor();
        assert.deepEqual(await offsetsShown(page), [31, 34, 37, 40, 43]);
        assert.deepEqual(errors, []);
      });
    },
  );

  test(
    "records appended while the live tail is open appear on the page; pause holds them until resume",
    HANG_GUARD,
    async () => {
      const topic = await log.createTopic("live", { partitions: 2 });
      await topic.append([{ partition: 1, value: "from before" }]);
      await withPage("tail", async (page, errors) => {
        await page.goto(`${base}/topics/live/partitions/1/tail`);
        const tail = page.locator("section.tail");
        await page.locator('section.tail[data-state="live"]').waitFor({ timeout: WAIT_MS });
        const appendedAt = Date.now();
        await topic.append([
          { partition: 1, key: "k1", value: "first new line" },
          { partition: 1, key: "k2", value: XSS },
          { partition: 1, key: "k3", value: '{"json":true}' },
        ]);
        await page.locator('section.tail tr[data-offset="3"]').waitFor({ timeout: WAIT_MS });
        const shownAfterMs = Date.now() - appendedAt;
        assert.deepEqual(await offsetsShown(page), [1, 2, 3]);
        assert.deepEqual(await valuesShown(page), ["first new line", XSS, '{\n  "json": true\n}']);
        assert.ok(shownAfterMs < WAIT_MS, `shown after ${shownAfterMs} ms`);

        await tail.getByRole("button", { name: "Pause" }).click();
        assert.equal(await tail.getAttribute("data-state"), "paused");
        assert.match((await tail.locator(".status").textContent())!, /Paused at offset 4/);
        await topic.append([{ partition: 1, value: "while paused" }]);
        await tail.getByRole("button", { name: "Resume" }).click();
        await page.locator('section.tail tr[data-offset="4"]').waitFor({ timeout: WAIT_MS });
        assert.equal((await valuesShown(page)).at(-1), "while paused");
        assert.equal(await page.evaluate(() => (globalThis as { __xss?: number }).__xss), undefined);
        assert.deepEqual(errors, []);
      });
    },
  );

  test(
    "a consumer group that committed part-way shows the lag `reel groups` reports",
    HANG_GUARD,
    async () => {
      const consumer = new Consumer(log, {
        groupId: "billing",
        autoOffsetReset: "earliest",
        enableAutoCommit: false,
      });
      consumer.subscribe(["apache"]);
      try {
        assert.ok((await consumer.poll({ timeoutMs: 5_000 })).length > 0);
        const ends = log.topic("apache").describe().map((p) => p.logEndOffset);
        // The console samples the group's lag in the background (every 100 ms here). Commit a
        // sixth of each partition, wait for samples of that lag, then commit a third.
        type Sample = { time: number; totalLag: number };
        const samplesUntil = async (done: (history: Sample[]) => boolean) => {
          let history: Sample[] = [];
          for (const deadline = Date.now() + WAIT_MS; !done(history) && Date.now() < deadline;) {
            await new Promise((resolve) => setTimeout(resolve, 50));
            history = (await (await fetch(`${base}/groups/billing/lag`)).json()).history;
          }
          assert.ok(done(history), `lag samples: ${JSON.stringify(history)}`);
          return history;
        };
        const lagAt = (part: number) => ends.reduce((sum, end) => sum + end - Math.floor(end / part), 0);
        await consumer.commit(
          ends.map((end, partition) => ({ topic: "apache", partition, offset: Math.floor(end / 6) })),
        );
        await samplesUntil((h) => h.filter((s) => s.totalLag === lagAt(6)).length >= 2);
        await consumer.commit(
          ends.map((end, partition) => ({ topic: "apache", partition, offset: Math.floor(end / 3) })),
        );
        const history = await samplesUntil((h) => h.filter((s) => s.totalLag === lagAt(3)).length >= 2);
        const cli = await reel(["groups", "--dir", dir, "--group", "billing", "--format", "json"]);
        assert.equal(cli.status, 0, cli.stderr);
        const reported = JSON.parse(cli.stdout) as {
          state: string;
          offsets: { partition: number; committedOffset: number; logEndOffset: number; lag: number }[];
        };
        assert.deepEqual(reported.offsets.map((o) => o.lag), ends.map((end) => end - Math.floor(end / 3)));
        await withPage("groups", async (page, errors) => {
          await page.goto(`${base}/groups`);
          await page.getByRole("link", { name: "billing" }).click();
          // No named function inside a function run in the page: on Node, the tsx loader wraps each
          // one in a helper (__name) that exists only in this process.
          const rows = await page.locator("table.offsets tbody tr").evaluateAll((trs) =>
            trs.map((tr) => [
              Number(tr.getAttribute("data-partition")),
              ...["committed", "end", "lag"].map((cls) => Number(tr.querySelector(`td.${cls}`)!.textContent)),
            ])
          );
          assert.deepEqual(
            rows,
            reported.offsets.map((o) => [o.partition, o.committedOffset, o.logEndOffset, o.lag]),
          );
          assert.equal(await page.locator("dd.state").textContent(), reported.state);
          // The chart (uPlot) opens with the samples the console took before the page was opened.
          const chart = page.locator('section.lag-chart[data-chart="uplot"]');
          await chart.waitFor({ timeout: WAIT_MS });
          assert.equal(await chart.locator(".uplot canvas").count(), 1);
          const shown = Number(await chart.getAttribute("data-samples"));
          assert.ok(shown >= history.length, `${shown} samples shown, ${history.length} taken before`);
          assert.equal(Number(await chart.getAttribute("data-first-sample-time")), history[0].time);
          const total = reported.offsets.reduce((s, o) => s + o.lag, 0);
          assert.equal(total, lagAt(3));
          assert.match(
            (await page.locator(".lag-now").textContent())!,
            new RegExp(`Total lag now: ${total}\\b`),
          );
          assert.deepEqual(errors, []);
        });
      } finally {
        await consumer.close();
      }
    },
  );

  test(
    "a record whose key, value and headers are HTML and JS renders as text and runs nothing",
    HANG_GUARD,
    async () => {
      const topic = await log.createTopic("xss");
      await topic.append([{
        key: `"><img src=x onerror="window.__xss = 3">`,
        value: XSS,
        headers: { "<b onmouseover=alert(1)>h</b>": "</pre><script>window.__xss = 4</script>" },
      }]);
      await withPage("xss", async (page, errors) => {
        await page.goto(`${base}/topics/xss/partitions/0/records`);
        assert.deepEqual(await valuesShown(page), [XSS]);
        assert.equal(
          await page.locator("table.records td.key").textContent(),
          `"><img src=x onerror="window.__xss = 3">`,
        );
        assert.equal(
          await page.locator("table.records td.headers dt").textContent(),
          "<b onmouseover=alert(1)>h</b>",
        );
        assert.equal(
          await page.locator("table.records img, table.records script, table.records b").count(),
          0,
        );
        assert.equal(await page.evaluate(() => (globalThis as { __xss?: number }).__xss), undefined);
        assert.deepEqual(errors, []);
      });
    },
  );

  test("producing from the page appends the record and shows it", HANG_GUARD, async () => {
    await log.createTopic("inbox", { partitions: 2 });
    await withPage("produce", async (page, errors) => {
      await page.goto(`${base}/`);
      await page.locator('section[data-topic="inbox"]').getByRole("link", { name: "Produce" }).click();
      const form = page.locator("form.produce");
      await form.locator('select[name="partition"]').selectOption("1");
      await form.locator('input[name="key"]').fill("user-7");
      await form.locator('textarea[name="value"]').fill("hello from the browser");
      await form.locator('textarea[name="headers"]').fill("source: console");
      await form.getByRole("button", { name: "Produce" }).click();
      await page.waitForURL(/\/topics\/inbox\/partitions\/1\/records\?offset=0$/);
      assert.deepEqual(await valuesShown(page), ["hello from the browser"]);
      const [record] = await toArray(log.topic("inbox").readable({ partitions: 1 }));
      assert.equal(new TextDecoder().decode(record.key!), "user-7");
      assert.deepEqual(errors, []);
    });
  });
});
