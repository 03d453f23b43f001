// The console's live tail: a partition's records as Server-Sent Events, read in process through
// the Web handler and over loopback from the runtime's own server.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { open } from "../../mod.ts";
import type { LogDirectory } from "../../src/topic/log_directory.ts";
import { consoleHandler } from "../../src/console/console_handler.ts";
import { console as startConsole } from "../../src/console/console.ts";
import type { TailRecord } from "../../src/console/tail_events.ts";

interface SseEvent {
  event: string;
  id?: string;
  data: unknown;
}

/** Reads Server-Sent Events from a response body, one at a time (comments skipped). */
class EventReader {
  #reader: ReadableStreamDefaultReader<string>;
  #buffer = "";
  constructor(body: ReadableStream<Uint8Array>) {
    this.#reader = body.pipeThrough(new TextDecoderStream()).getReader();
  }
  async next(): Promise<SseEvent> {
    for (;;) {
      const end = this.#buffer.indexOf("\n\n");
      if (end >= 0) {
        const block = this.#buffer.slice(0, end);
        this.#buffer = this.#buffer.slice(end + 2);
        const fields = new Map<string, string>();
        for (const line of block.split("\n")) {
          if (line.startsWith(":")) continue;
          const colon = line.indexOf(": ");
          fields.set(line.slice(0, colon), line.slice(colon + 2));
        }
        if (!fields.has("event")) continue; // retry:, or a keep-alive comment
        return { event: fields.get("event")!, id: fields.get("id"), data: JSON.parse(fields.get("data")!) };
      }
      const { value, done } = await this.#reader.read();
      if (done) throw new Error("The event stream ended");
      this.#buffer += value;
    }
  }
  async take(n: number): Promise<SseEvent[]> {
    const out: SseEvent[] = [];
    while (out.length < n) out.push(await this.next());
    return out;
  }
  cancel(): Promise<void> {
    return this.#reader.cancel();
  }
}

const text = (r: TailRecord) => r.value?.text;

describe("reel console: live tail", () => {
  let dir: string;
  let log: LogDirectory;
  let handler: (request: Request) => Promise<Response>;
  const streams = new AbortController();

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-console-tail-"));
    log = await open(dir);
    handler = consoleHandler(log, { signal: streams.signal });
  });

  after(async () => {
    streams.abort();
    await log?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const events = async (p: string, headers?: HeadersInit) => {
    const response = await handler(new Request(`http://127.0.0.1${p}`, { headers }));
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
    return new EventReader(response.body!);
  };

  test("records appended after the tail opens arrive as record events, in order, as text", async () => {
    const topic = await log.createTopic("live", { partitions: 2 });
    await topic.append([{ partition: 1, value: "before" }]);
    const tail = await events("/topics/live/partitions/1/tail/events");
    try {
      assert.deepEqual(await tail.next(), {
        event: "start",
        id: undefined,
        data: { offset: 1, highWatermark: 1 },
      });
      await topic.append([
        { partition: 0, value: "elsewhere" },
        { partition: 1, key: "k", value: "<script>alert(1)</script>", headers: { h: "v" } },
        { partition: 1, value: "two" },
      ]);
      const [a, b] = await tail.take(2);
      assert.equal(a.event, "record");
      assert.equal(a.id, "1");
      const record = a.data as TailRecord;
      assert.equal(record.offset, 1);
      assert.deepEqual(record.key, { format: "text", text: "k", size: 1, truncated: false });
      assert.equal(text(record), "<script>alert(1)</script>");
      assert.deepEqual(record.headers, [["h", { format: "text", text: "v", size: 1, truncated: false }]]);
      assert.equal(b.id, "2");
      assert.equal(text(b.data as TailRecord), "two");
    } finally {
      await tail.cancel();
    }
  });

  test("from= starts at an offset, and a reconnect's Last-Event-ID resumes after it", async () => {
    const topic = await log.createTopic("resume");
    await topic.append(["a", "b", "c", "d"].map((value) => ({ value })));
    const fromOne = await events("/topics/resume/partitions/0/tail/events?from=1");
    try {
      const [start, ...records] = await fromOne.take(4);
      assert.deepEqual(start.data, { offset: 1, highWatermark: 4 });
      assert.deepEqual(records.map((e) => text(e.data as TailRecord)), ["b", "c", "d"]);
    } finally {
      await fromOne.cancel();
    }
    const again = await events("/topics/resume/partitions/0/tail/events?from=0", { "last-event-id": "2" });
    try {
      const [start, record] = await again.take(2);
      assert.deepEqual(start.data, { offset: 3, highWatermark: 4 });
      assert.equal(text(record.data as TailRecord), "d");
    } finally {
      await again.cancel();
    }
  });

  test("past the rate limit the tail skips to the high watermark and says which offsets it left out", async () => {
    const topic = await log.createTopic("fast");
    await topic.append(Array.from({ length: 100 }, (_, i) => ({ value: `r${i}` })));
    const tail = await events("/topics/fast/partitions/0/tail/events?from=0&rate=5");
    try {
      const got = await tail.take(1 + 5 + 1);
      assert.deepEqual(got.slice(1, 6).map((e) => (e.data as TailRecord).offset), [0, 1, 2, 3, 4]);
      assert.deepEqual(got[6], { event: "skipped", id: undefined, data: { from: 5, to: 100 } });
      await topic.append([{ value: "after" }]);
      const next = await tail.next();
      assert.equal((next.data as TailRecord).offset, 100);
      assert.equal(text(next.data as TailRecord), "after");
    } finally {
      await tail.cancel();
    }
  });

  test("a bad from, rate or partition is refused before the stream starts", async () => {
    await log.createTopic("checked");
    for (
      const [url, status] of [
        ["/topics/checked/partitions/0/tail/events?from=x", 400],
        ["/topics/checked/partitions/0/tail/events?rate=0", 400],
        ["/topics/checked/partitions/0/tail/events?rate=1000000", 400],
        ["/topics/checked/partitions/1/tail/events", 404],
        ["/topics/checked/partitions/0/tail/events/more", 404],
      ] as const
    ) {
      const response = await handler(new Request(`http://127.0.0.1${url}`));
      assert.equal(response.status, status, url);
      await response.body?.cancel();
    }
  });

  test("the tail page loads the console's own tail script and points it at the events", async () => {
    await log.createTopic("paged");
    const response = await handler(new Request("http://127.0.0.1/topics/paged/partitions/0/tail"));
    const html = await response.text();
    assert.match(html, /data-tail-events="\/topics\/paged\/partitions\/0\/tail\/events"/);
    assert.match(html, /<script src="\/assets\/tail.js" defer>/);
    const script = await handler(new Request("http://127.0.0.1/assets/tail.js"));
    assert.equal(script.headers.get("content-type"), "text/javascript; charset=utf-8");
    const js = await script.text();
    assert.match(js, /new EventSource/);
    assert.doesNotMatch(js, /innerHTML|insertAdjacentHTML|outerHTML|document\.write/);
  });

  test("closing the console ends the live tails it serves", async () => {
    const topic = await log.createTopic("closing");
    const server = await startConsole(log, { port: 0 });
    const response = await fetch(`http://127.0.0.1:${server.port}/topics/closing/partitions/0/tail/events`);
    const tail = new EventReader(response.body!);
    assert.equal((await tail.next()).event, "start");
    await topic.append([{ value: "x" }]);
    assert.equal((await tail.next()).event, "record");
    await server.close(); // returns: the open event stream does not hold the server up
    await assert.rejects(tail.next());
  });
});
