// Producing from the console, in process through the Web handler: off unless allowProduce; a POST
// needs the console's CSRF token (and, when a browser sends one, an Origin of this host); the
// record lands with its key, value, headers and partition. Also: the access token's cookie and
// the Host check that keeps a loopback console from DNS rebinding.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { open } from "../../mod.ts";
import type { LogDirectory } from "../../src/topic/log_directory.ts";
import { consoleHandler } from "../../src/console/console_handler.ts";

const decode = (b: Uint8Array | null) => b === null ? null : new TextDecoder().decode(b);

describe("reel console: produce", () => {
  let dir: string;
  let log: LogDirectory;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-console-produce-"));
    log = await open(dir);
    await log.createTopic("inbox", { partitions: 3 });
  });

  after(async () => {
    await log?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const post = (
    handler: (r: Request) => Promise<Response>,
    p: string,
    form: Record<string, string>,
    headers = {},
  ) =>
    handler(
      new Request(`http://127.0.0.1:8080${p}`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
        body: new URLSearchParams(form).toString(),
      }),
    );
  const csrfOf = async (handler: (r: Request) => Promise<Response>) => {
    const html = await (await handler(new Request("http://127.0.0.1:8080/topics/inbox/produce"))).text();
    return html.match(/name="csrf" value="([0-9a-f]{64})"/)![1];
  };
  const records = async (partition: number) => {
    const out = [];
    for await (const r of log.topic("inbox").readable({ partitions: partition })) out.push(r);
    return out;
  };

  test("producing is off by default: no form, no POST, no writer lock", async () => {
    const handler = consoleHandler(log);
    const form = await handler(new Request("http://127.0.0.1/topics/inbox/produce"));
    assert.equal(form.status, 404);
    assert.match(await form.text(), /--allow-produce/);
    const response = await post(handler, "/topics/inbox/produce", { value: "x" });
    assert.equal(response.status, 404);
    await response.body?.cancel();
    assert.equal((await records(0)).length + (await records(1)).length + (await records(2)).length, 0);
    for (let p = 0; p < 3; p++) assert.equal(log.topic("inbox").partition(p).isWriter, false);
  });

  test("with allowProduce, a POST with the CSRF token appends the record and redirects to it", async () => {
    const handler = consoleHandler(log, { allowProduce: true });
    const topics = await (await handler(new Request("http://127.0.0.1/"))).text();
    assert.match(topics, /<a class="produce" href="\/topics\/inbox\/produce">Produce<\/a>/);
    const csrf = await csrfOf(handler);
    const response = await post(handler, "/topics/inbox/produce", {
      csrf,
      partition: "2",
      key: "user-1",
      value: `<script>alert("x")</script>`,
      headers: "trace: 42\nsource: console",
    }, { origin: "http://127.0.0.1:8080" });
    assert.equal(response.status, 303);
    assert.equal(response.headers.get("location"), "/topics/inbox/partitions/2/records?offset=0");
    const [record] = await records(2);
    assert.equal(decode(record.key), "user-1");
    assert.equal(decode(record.value), `<script>alert("x")</script>`);
    assert.deepEqual(record.headers.map((h) => [h.key, decode(h.value)]), [["trace", "42"], [
      "source",
      "console",
    ]]);
    assert.equal(
      log.topic("inbox").partition(2).isWriter,
      true,
      "producing takes the partition's writer lock",
    );
    // The page it redirects to shows the record as text.
    const page = await (await handler(new Request(`http://127.0.0.1${response.headers.get("location")}`)))
      .text();
    assert.ok(page.includes("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"));
    assert.doesNotMatch(page, /<script>alert/);
  });

  test("a POST without the CSRF token, with a wrong one or from another origin is refused and appends nothing", async () => {
    const handler = consoleHandler(log, { allowProduce: true });
    const csrf = await csrfOf(handler);
    const before = (await records(0)).length;
    const refused = [
      await post(handler, "/topics/inbox/produce", { partition: "0", value: "no token" }),
      await post(handler, "/topics/inbox/produce", { csrf: "0".repeat(64), partition: "0", value: "wrong" }),
      await post(handler, "/topics/inbox/produce", { csrf, partition: "0", value: "evil" }, {
        origin: "http://evil.example",
      }),
      // Another console's token is not this one's.
      await post(handler, "/topics/inbox/produce", {
        csrf: await csrfOf(consoleHandler(log, { allowProduce: true })),
        partition: "0",
        value: "other",
      }),
    ];
    for (const response of refused) {
      assert.equal(response.status, 403);
      await response.body?.cancel();
    }
    assert.equal((await records(0)).length, before);
  });

  test("a bad partition, header line, content type or oversized form is refused with a reason", async () => {
    const handler = consoleHandler(log, { allowProduce: true });
    const csrf = await csrfOf(handler);
    const badPartition = await post(handler, "/topics/inbox/produce", { csrf, partition: "3", value: "v" });
    assert.equal(badPartition.status, 400);
    assert.match(
      await badPartition.text(),
      /Invalid partition &quot;3&quot;: the topic has partitions 0 to 2/,
    );
    const badHeader = await post(handler, "/topics/inbox/produce", { csrf, value: "v", headers: "no colon" });
    assert.equal(badHeader.status, 400);
    await badHeader.body?.cancel();
    const json = await handler(
      new Request("http://127.0.0.1/topics/inbox/produce", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ csrf, value: "v" }),
      }),
    );
    assert.equal(json.status, 415);
    await json.body?.cancel();
    const huge = await post(handler, "/topics/inbox/produce", { csrf, value: "x".repeat(4 << 20) });
    assert.equal(huge.status, 413);
    await huge.body?.cancel();
    const put = await handler(new Request("http://127.0.0.1/topics/inbox/produce", { method: "PUT" }));
    assert.equal(put.status, 405);
    await put.body?.cancel();
  });

  test("the access token may come once in the URL: the console sets a cookie that carries it after", async () => {
    const handler = consoleHandler(log, { token: "t0k" });
    const first = await handler(new Request("http://127.0.0.1:8080/?token=t0k"));
    assert.equal(first.status, 200);
    await first.body?.cancel();
    const setCookie = first.headers.get("set-cookie")!;
    assert.match(setCookie, /^reel-console-token-8080=t0k; Path=\/; HttpOnly; SameSite=Strict$/);
    const cookie = setCookie.split(";")[0];
    const withCookie = await handler(new Request("http://127.0.0.1:8080/groups", { headers: { cookie } }));
    assert.equal(withCookie.status, 200);
    await withCookie.body?.cancel();
    const wrong = await handler(
      new Request("http://127.0.0.1:8080/groups", { headers: { cookie: "reel-console-token-8080=nope" } }),
    );
    assert.equal(wrong.status, 401);
    await wrong.body?.cancel();
  });

  test("a console that answers only to loopback names refuses any other Host (DNS rebinding)", async () => {
    const handler = consoleHandler(log, { hosts: ["127.0.0.1", "localhost", "[::1]"] });
    for (const url of ["http://127.0.0.1:8080/", "http://localhost:9/", "http://[::1]:8080/"]) {
      const response = await handler(new Request(url));
      assert.equal(response.status, 200, url);
      await response.body?.cancel();
    }
    const rebound = await handler(new Request("http://attacker.example:8080/"));
    assert.equal(rebound.status, 403);
    await rebound.body?.cancel();
  });
});
