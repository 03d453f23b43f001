// The console's records page, in process through its Web handler (no socket): paging by offset,
// from a timestamp and from the end; search by key; text, JSON and hex; escaping; and every
// offset, partition and topic taken from the URL validated.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { open } from "../../mod.ts";
import type { LogDirectory } from "../../src/topic/log_directory.ts";
import { consoleHandler } from "../../src/console/console_handler.ts";

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const APACHE_LOG = path.join(ROOT, "data", "apache_logs", "apache_logs");

/** The text of every `<pre>` of a cell class, in row order, with the escapes undone. */
function cells(html: string, cls: string): string[] {
  const re = new RegExp(`<td class="${cls}"><pre data-format="[a-z]+">([\\s\\S]*?)</pre>`, "g");
  return [...html.matchAll(re)].map((m) =>
    m[1].replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&quot;", '"').replaceAll("&#39;", "'")
      .replaceAll("&amp;", "&")
  );
}
const offsetsOf = (html: string) => [...html.matchAll(/<tr data-offset="(\d+)">/g)].map((m) => Number(m[1]));
const linkOf = (html: string, rel: string) => html.match(new RegExp(`<a rel="${rel}" href="([^"]*)"`))?.[1];

describe("reel console: records page", () => {
  let dir: string;
  let log: LogDirectory;
  let handler: (request: Request) => Promise<Response>;
  /** Partition 0 of "apache": its lines by offset. */
  let partition0: string[];
  let lines: string[];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-console-records-"));
    log = await open(dir);
    lines = fs.readFileSync(APACHE_LOG, "utf8").split("\n").filter((l) => l.length > 0);
    const apache = await log.createTopic("apache", { partitions: 4 });
    const meta = await apache.append(
      lines.map((line) => ({ key: line.slice(0, line.indexOf(" ")), value: line })),
    );
    partition0 = [];
    meta.forEach((m, i) => {
      if (m.partition === 0) partition0[m.offset] = lines[i];
    });
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

  test("the first page shows offsets 0 to 49, and next pages on from the last offset shown", async () => {
    const first = await get("/topics/apache/partitions/0/records");
    assert.equal(first.status, 200);
    assert.match(first.headers.get("content-security-policy") ?? "", /script-src 'self'/);
    assert.deepEqual(offsetsOf(first.html), Array.from({ length: 50 }, (_, i) => i));
    assert.deepEqual(cells(first.html, "value"), partition0.slice(0, 50));
    const next = linkOf(first.html, "next")!.replaceAll("&amp;", "&");
    assert.equal(next, "/topics/apache/partitions/0/records?offset=50");
    const second = await get(next);
    assert.deepEqual(offsetsOf(second.html), Array.from({ length: 50 }, (_, i) => 50 + i));
    assert.deepEqual(cells(second.html, "value"), partition0.slice(50, 100));
    assert.equal(
      linkOf(second.html, "prev")!.replaceAll("&amp;", "&"),
      "/topics/apache/partitions/0/records?offset=0",
    );
  });

  test("limit sets the page size and from=end shows the newest records, with no next page", async () => {
    const end = partition0.length;
    const last = await get("/topics/apache/partitions/0/records?from=end&limit=7");
    assert.deepEqual(offsetsOf(last.html), Array.from({ length: 7 }, (_, i) => end - 7 + i));
    assert.equal(linkOf(last.html, "next"), undefined);
    assert.match(linkOf(last.html, "prev")!, /offset=\d+&amp;limit=7/);
  });

  test("timestamp= starts at the first record at or after it", async () => {
    const topic = await log.createTopic("timed");
    const base = Date.parse("2015-09-12T00:00:00Z");
    await topic.append(
      Array.from({ length: 10 }, (_, i) => ({ value: `v${i}`, timestamp: base + i * 60_000 })),
    );
    const page = await get(
      `/topics/timed/partitions/0/records?timestamp=${encodeURIComponent("2015-09-12T00:04:30Z")}`,
    );
    assert.equal(page.status, 200);
    assert.deepEqual(offsetsOf(page.html), [5, 6, 7, 8, 9]);
    assert.match(page.html, /<time datetime="2015-09-12T00:05:00.000Z">/);
    const ms = await get(`/topics/timed/partitions/0/records?timestamp=${base + 8 * 60_000}`);
    assert.deepEqual(offsetsOf(ms.html), [8, 9]);
    const later = await get(`/topics/timed/partitions/0/records?timestamp=2016-01-01T00:00:00Z`);
    assert.deepEqual(offsetsOf(later.html), []);
    assert.match(later.html, /every record is older/);
  });

  test("a range of timestamps shows the records the time index finds for it, paged within the range", async () => {
    const topic = await log.createTopic("ranged", { config: { indexIntervalBytes: 256 } });
    const base = Date.parse("2015-09-12T00:00:00Z");
    // 200 records a second apart, keyed by parity; several batches so the time index has entries.
    for (let b = 0; b < 4; b++) {
      await topic.append(Array.from({ length: 50 }, (_, j) => {
        const i = b * 50 + j;
        return { key: i % 2 === 0 ? "even" : "odd", value: `r${i}`, timestamp: base + i * 1000 };
      }));
    }
    const iso = (i: number) => encodeURIComponent(new Date(base + i * 1000).toISOString());
    const range = (q: string) => get(`/topics/ranged/partitions/0/records?${q}`);
    // [base + 60.5 s, base + 130 s): offsets 61 to 129; 30 a page.
    const first = await range(`timestamp=${base + 60_500}&toTimestamp=${iso(130)}&limit=30`);
    assert.equal(first.status, 200);
    assert.deepEqual(offsetsOf(first.html), Array.from({ length: 30 }, (_, i) => 61 + i));
    assert.match(
      first.html,
      /Records timestamped from 2015-09-12T00:01:00.500Z before 2015-09-12T00:02:10.000Z \(by the time index\): offsets 61 to 129/,
    );
    const pages = [offsetsOf(first.html)];
    for (let html = first.html; linkOf(html, "next") !== undefined;) {
      const next = linkOf(html, "next")!.replaceAll("&amp;", "&");
      assert.match(next, /to=130/);
      html = (await get(next)).html;
      pages.push(offsetsOf(html));
    }
    assert.deepEqual(pages.map((p) => p.length), [30, 30, 9]);
    assert.deepEqual(pages.flat(), Array.from({ length: 69 }, (_, i) => 61 + i));
    // With a key: only the odd records of the range.
    const odd = await range(`timestamp=${iso(10)}&toTimestamp=${iso(20)}&key=odd`);
    assert.deepEqual(offsetsOf(odd.html), [11, 13, 15, 17, 19]);
    assert.match(odd.html, /5 found in offsets 10 to 19/);
    // Only an end: from the log start offset; an end before every record: none.
    assert.deepEqual(offsetsOf((await range(`toTimestamp=${iso(3)}`)).html), [0, 1, 2]);
    const none = await range(`toTimestamp=${base - 1}`);
    assert.deepEqual(offsetsOf(none.html), []);
    assert.match(none.html, /\(by the time index\): none/);
    // An end past every record: to the high watermark.
    assert.deepEqual(offsetsOf((await range(`timestamp=${iso(195)}&toTimestamp=${iso(10_000)}`)).html), [
      195,
      196,
      197,
      198,
      199,
    ]);
    // Malformed or inverted ranges are refused.
    for (
      const q of [
        `timestamp=${iso(20)}&toTimestamp=${iso(10)}`,
        `toTimestamp=soon`,
        `toTimestamp=${iso(5)}&to=3`,
      ]
    ) {
      assert.equal((await range(q)).status, 400, q);
    }
  });

  test("a key search finds a known line of the Apache log, and only records with that key", async () => {
    // A line of partition 0 from its second half, found by its client address.
    const wanted = partition0[Math.floor(partition0.length * 0.75)];
    const key = wanted.slice(0, wanted.indexOf(" "));
    const expected = partition0.filter((l) => l.slice(0, l.indexOf(" ")).includes(key));
    const page = await get(`/topics/apache/partitions/0/records?key=${encodeURIComponent(key)}&limit=500`);
    assert.equal(page.status, 200);
    assert.ok(cells(page.html, "value").includes(wanted));
    assert.deepEqual(cells(page.html, "value"), expected);
    for (const k of cells(page.html, "key")) assert.ok(k.includes(key));
    assert.match(page.html, new RegExp(`${expected.length} found in offsets 0 to ${partition0.length - 1}`));
    // Within a range that ends before the line, it is not found.
    const offset = partition0.indexOf(wanted);
    const before = await get(
      `/topics/apache/partitions/0/records?key=${encodeURIComponent(key)}&to=${offset}`,
    );
    assert.ok(!cells(before.html, "value").includes(wanted));
    // With a page size of 1, the next link continues the search after the first match.
    const one = await get(`/topics/apache/partitions/0/records?key=${encodeURIComponent(key)}&limit=1`);
    assert.deepEqual(cells(one.html, "value"), expected.slice(0, 1));
    if (expected.length > 1) {
      const next = await get(linkOf(one.html, "next")!.replaceAll("&amp;", "&"));
      assert.deepEqual(cells(next.html, "value"), expected.slice(1, 2));
    }
  });

  test("values are shown as text, pretty JSON or hex, and format= switches", async () => {
    const topic = await log.createTopic("mixed");
    await topic.append([
      { key: "text", value: "plain words" },
      { key: "json", value: '{"user":"ann","n":[1,2]}' },
      { key: "bytes", value: new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0x00]) },
      { key: null, value: null, headers: [{ key: "trace", value: new Uint8Array([1, 2]) }] },
    ]);
    const page = await get("/topics/mixed/partitions/0/records");
    assert.match(page.html, /<td class="value"><pre data-format="text">plain words<\/pre>/);
    assert.match(
      page.html,
      /<td class="value"><pre data-format="json">\{\n {2}&quot;user&quot;: &quot;ann&quot;/,
    );
    assert.match(page.html, /<td class="value"><pre data-format="hex">de ad be ef 00<\/pre>/);
    assert.match(
      page.html,
      /<td class="key"><span class="null">null<\/span><\/td><td class="value"><span class="null">null/,
    );
    assert.match(page.html, /<dt>trace<\/dt><dd><pre data-format="hex">01 02<\/pre><\/dd>/);
    const hex = await get("/topics/mixed/partitions/0/records?format=hex&limit=1");
    assert.match(hex.html, /<td class="value"><pre data-format="hex">70 6c 61 69 6e/);
    const text = await get("/topics/mixed/partitions/0/records?format=text&offset=1&limit=1");
    assert.match(
      text.html,
      /<pre data-format="text">\{&quot;user&quot;:&quot;ann&quot;,&quot;n&quot;:\[1,2\]\}/,
    );
  });

  test("a key, value or header of markup is escaped: the page holds no element from the record", async () => {
    const topic = await log.createTopic("xss");
    const payload = `<script>alert(1)</script><img src=x onerror="alert(2)">`;
    await topic.append([{
      key: `"><svg onload=alert(3)>`,
      value: payload,
      headers: [{ key: "<b>h</b>", value: new TextEncoder().encode("</pre><script>alert(4)</script>") }],
    }]);
    const page = await get("/topics/xss/partitions/0/records");
    assert.equal(page.status, 200);
    assert.doesNotMatch(page.html, /<script>alert|<img|<svg|<b>h/);
    assert.deepEqual(cells(page.html, "value"), [payload]);
    assert.deepEqual(cells(page.html, "key"), [`"><svg onload=alert(3)>`]);
  });

  test("offsets, partitions, topics and formats from the URL are validated", async () => {
    const cases: [string, number][] = [
      ["/topics/apache/partitions/0/records?offset=-1", 400],
      ["/topics/apache/partitions/0/records?offset=1e3", 400],
      ["/topics/apache/partitions/0/records?offset=99999999999999999999", 400],
      [`/topics/apache/partitions/0/records?offset=${partition0.length + 1}`, 416],
      ["/topics/apache/partitions/0/records?limit=0", 400],
      ["/topics/apache/partitions/0/records?limit=100000", 400],
      ["/topics/apache/partitions/0/records?format=html", 400],
      ["/topics/apache/partitions/0/records?timestamp=yesterday", 400],
      ["/topics/apache/partitions/0/records?from=middle", 400],
      ["/topics/apache/partitions/4/records", 404],
      ["/topics/apache/partitions/-1/records", 404],
      ["/topics/apache/partitions/0x1/records", 404],
      ["/topics/nope/partitions/0/records", 404],
      ["/topics/..%2F..%2Fetc/partitions/0/records", 400],
      ["/topics/%E0%A4%A/partitions/0/records", 400],
      ["/topics/apache/partitions/0/records/extra", 404],
    ];
    for (const [url, status] of cases) {
      const response = await get(url);
      assert.equal(response.status, status, `${url}: ${response.html.match(/class="error">([^<]*)/)?.[1]}`);
      assert.match(response.headers.get("content-type") ?? "", /text\/html/);
    }
    const outside = await get(`/topics/apache/partitions/0/records?offset=${partition0.length + 1}`);
    assert.match(outside.html, new RegExp(`its records are at offsets 0 to ${partition0.length - 1}`));
  });

  test("the topics page links each partition's records and live tail", async () => {
    const page = await get("/");
    assert.match(page.html, /<a href="\/topics\/apache\/partitions\/3\/records">records<\/a>/);
    assert.match(page.html, /<a href="\/topics\/apache\/partitions\/3\/tail">live tail<\/a>/);
    assert.doesNotMatch(page.html, /produce/i, "producing is off by default");
  });
});
