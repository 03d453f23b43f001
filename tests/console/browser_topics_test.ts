// The topics page in headless Chromium (Debian's `chromium`, driven by playwright-core from the test's own
// runtime: playwright-core imports and runs under both Deno and Bun). The console is served by the
// runtime the test runs in. A screenshot goes to tests/console/.screenshots/ (git-ignored).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium } from "playwright-core";
import { open } from "../../mod.ts";
import type { LogDirectory } from "../../src/topic/log_directory.ts";
import { console as startConsole } from "../../src/console/console.ts";
import type { HttpServer } from "../../src/runtime/http_server.ts";

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const APACHE_LOG = path.join(ROOT, "data", "apache_logs", "apache_logs");
const SCREENSHOTS = path.join(ROOT, "tests", "console", ".screenshots");
const RUNTIME = "Bun" in globalThis ? "bun" : "deno";
const CHROMIUM = process.env.REEL_CHROMIUM ?? "/usr/bin/chromium";

describe("reel console in headless Chromium", () => {
  let dir: string;
  let log: LogDirectory;
  let server: HttpServer;
  let browser: Browser;
  let lines: string[];

  before(async () => {
    assert.ok(fs.existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM} (apt-get install chromium)`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-console-browser-"));
    log = await open(dir);
    lines = fs.readFileSync(APACHE_LOG, "utf8").split("\n").filter((l) => l.length > 0);
    const apache = await log.createTopic("apache", { partitions: 4 });
    await apache.append(lines.map((line) => ({ key: line.slice(0, line.indexOf(" ")), value: line })));
    server = await startConsole(log, { port: 0 });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await log?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("the topics page shows the Apache log's 10,000 records over 4 partitions", async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`http://127.0.0.1:${server.port}/`);
      const section = page.locator('section[data-topic="apache"]');
      assert.equal(await section.locator("h3").textContent(), "apache");
      const cells = await section.locator("tbody tr").evaluateAll((rows) =>
        rows.map((row) => [...row.querySelectorAll("td")].map((td) => Number(td.textContent)))
      );
      assert.deepEqual(cells.map((c) => c[0]), [0, 1, 2, 3]);
      assert.equal(cells.reduce((sum, c) => sum + c[2], 0), lines.length);
      assert.deepEqual(cells.map((c) => c[2]), log.topic("apache").describe().map((p) => p.logEndOffset));
      await page.screenshot({ path: path.join(SCREENSHOTS, `topics-${RUNTIME}.png`), fullPage: true });
    } finally {
      await page.close();
    }
  });
});
