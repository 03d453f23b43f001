/**
 * The live tail: a partition's new records as Server-Sent Events, read with
 * `topic.readable({ follow: true })`, with a rate limit so that a fast topic does not flood the
 * page (nor the console's memory: at most `maxRecordsPerSecond` records are read a second).
 *
 * @module
 */
import type { Topic } from "../topic/topic.ts";
import type { ConsumedRecord } from "../record/consumed_record.ts";
import { formatBytes, type FormattedBytes } from "./format_bytes.ts";

/** The records a tail sends a second when not told otherwise. */
export const DEFAULT_TAIL_RATE = 100;
/** The most records a tail may be asked to send a second. */
export const MAX_TAIL_RATE = 10_000;

/** Options of {@linkcode tailEvents}. */
export interface TailEventsOptions {
  /**
   * The first offset to send; `undefined` for the high watermark (only records appended from
   * now on). An offset before the log start offset starts there, one past the log end offset at it.
   */
  from?: number;
  /**
   * The most records sent a second. When more arrive, the tail sends this many, then skips to
   * the high watermark and sends a `skipped` event saying which offsets it left out.
   * @default 100
   */
  maxRecordsPerSecond?: number;
  /**
   * How often a comment line is sent while no record comes, ms (it keeps proxies from closing
   * the connection and lets the server notice a client that is gone).
   * @default 15000
   */
  keepAliveMs?: number;
  /** Ends the stream when aborted. */
  signal?: AbortSignal;
}

/** One record as a tail's `record` event carries it (JSON). */
export interface TailRecord {
  /** The record's offset. */
  offset: number;
  /** Its timestamp, ms since the epoch. */
  timestamp: number;
  /** The key, formatted, or `null`. */
  key: FormattedBytes | null;
  /** The value, formatted, or `null` (a tombstone). */
  value: FormattedBytes | null;
  /** The headers: key and formatted value. */
  headers: [string, FormattedBytes | null][];
}

const encoder = new TextEncoder();
const MAX_SHOWN_BYTES = 4096;

function show(bytes: Uint8Array | null): FormattedBytes | null {
  return bytes === null ? null : formatBytes(bytes, { maxBytes: MAX_SHOWN_BYTES });
}

/**
 * A record as the tail's JSON: key, value and headers formatted as text, JSON or hex (the page
 * sets them as text, never as HTML).
 *
 * @param record the record
 * @returns the event's data
 *
 * @example A record's value as text
 * ```ts
 * import assert from "node:assert/strict";
 * import { tailRecord } from "./tail_events.ts";
 * const r = tailRecord({
 *   topic: "t", partition: 0, offset: 3, timestamp: 5, key: null,
 *   value: new TextEncoder().encode("<b>"), headers: [],
 * });
 * assert.deepEqual(r, { offset: 3, timestamp: 5, key: null, headers: [],
 *   value: { format: "text", text: "<b>", size: 3, truncated: false } });
 * ```
 */
export function tailRecord(record: ConsumedRecord): TailRecord {
  return {
    offset: record.offset,
    timestamp: record.timestamp,
    key: show(record.key),
    value: show(record.value),
    headers: record.headers.map((h) => [h.key, show(h.value)]),
  };
}

function eventText(name: string, data: unknown, id?: number): string {
  return `${id === undefined ? "" : `id: ${id}\n`}event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}

function event(name: string, data: unknown, id?: number): Uint8Array {
  return encoder.encode(eventText(name, data, id));
}

/**
 * A partition's records as a `text/event-stream` body, following the log: a `start` event
 * (`{ offset, highWatermark }`), then a `record` event per record ({@linkcode TailRecord}, with
 * the offset as the event id, so a reconnecting `EventSource` says where it was), and a `skipped`
 * event (`{ from, to }`: offsets left out) whenever the rate limit skips ahead. The stream is
 * pulled: nothing is read while the client does not take what was sent.
 *
 * @param topic the topic
 * @param partition the partition
 * @param options the start offset, the rate limit, an abort signal
 * @returns the event stream's bytes
 * @throws {UnknownTopicOrPartitionError} for a partition the topic does not have
 *
 * @example Two records appended while tailing
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../mod.ts";
 * import { tailEvents } from "./tail_events.ts";
 * const log = await open(Deno.makeTempDirSync());
 * const topic = await log.createTopic("events");
 * await topic.append([{ value: "old" }]);
 * const stop = new AbortController();
 * const reader = tailEvents(topic, 0, { signal: stop.signal }).pipeThrough(new TextDecoderStream()).getReader();
 * assert.match((await reader.read()).value!, /event: start\ndata: \{"offset":1,"highWatermark":1\}/);
 * await topic.append([{ value: "new" }]);
 * let text = "";
 * while (!text.includes("\n\n")) text += (await reader.read()).value;
 * assert.match(text, /^id: 1\nevent: record\ndata: .*"text":"new"/);
 * stop.abort();
 * await reader.cancel();
 * await log.close();
 * ```
 */
export function tailEvents(
  topic: Topic,
  partition: number,
  options: TailEventsOptions = {},
): ReadableStream<Uint8Array> {
  const rate = options.maxRecordsPerSecond ?? DEFAULT_TAIL_RATE;
  if (!Number.isSafeInteger(rate) || rate < 1) {
    throw new RangeError(`Invalid maxRecordsPerSecond ${rate}: expected a whole number, 1 or more`);
  }
  const keepAliveMs = options.keepAliveMs ?? 15_000;
  const signal = options.signal;
  const { logStartOffset, logEndOffset, highWatermark } = topic.describe()[partition];
  let next = options.from === undefined
    ? highWatermark
    : Math.min(Math.max(options.from, logStartOffset), logEndOffset);
  const stop = new AbortController();
  let reader: ReadableStreamDefaultReader<ConsumedRecord> | undefined;
  let pending: Promise<ReadableStreamReadResult<ConsumedRecord>> | undefined;
  let windowStart = 0;
  let sentInWindow = 0;
  let started = false;
  const onAbort = () => stop.abort(signal?.reason);
  signal?.addEventListener("abort", onAbort, { once: true });

  const open = () => {
    reader = topic.readable({
      partitions: partition,
      from: next,
      follow: true,
      maxBytes: 256 * 1024,
      signal: stop.signal,
    }).getReader();
  };
  const release = () => {
    signal?.removeEventListener("abort", onAbort);
    if (!stop.signal.aborted) stop.abort();
    reader?.cancel().catch(() => {}); // the tail is over: how its reader ends changes nothing
    reader = undefined;
  };
  /** Resolves after `ms`, or at once when the tail stops. */
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        stop.signal.removeEventListener("abort", done);
        resolve();
      }
      stop.signal.addEventListener("abort", done, { once: true });
    });

  return new ReadableStream<Uint8Array>({
    pull: async (controller) => {
      if (stop.signal.aborted) {
        release();
        controller.close();
        return;
      }
      if (!started) {
        started = true;
        controller.enqueue(
          encoder.encode(`retry: 2000\n\n${eventText("start", { offset: next, highWatermark })}`),
        );
        return;
      }
      const now = Date.now();
      if (now - windowStart >= 1000) {
        windowStart = now;
        sentInWindow = 0;
      }
      if (sentInWindow >= rate) {
        // The window's quota is spent: wait for the next window, then skip what a window cannot
        // carry (the records between here and the high watermark), reading none of them.
        await sleep(windowStart + 1000 - now);
        if (stop.signal.aborted) return;
        windowStart = Date.now();
        sentInWindow = 0;
        const hw = topic.describe()[partition].highWatermark;
        if (hw - next > rate) {
          controller.enqueue(event("skipped", { from: next, to: hw }));
          reader?.cancel().catch(() => {}); // replaced by a reader from the high watermark
          reader = undefined;
          pending = undefined;
          next = hw;
        }
        return;
      }
      if (reader === undefined) open();
      pending ??= reader!.read();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const keepAlive = new Promise<"keepalive">((resolve) =>
        timer = setTimeout(() => resolve("keepalive"), keepAliveMs)
      );
      let result: ReadableStreamReadResult<ConsumedRecord> | "keepalive";
      try {
        result = await Promise.race([pending, keepAlive]);
      } catch (err) {
        clearTimeout(timer);
        release();
        if (stop.signal.aborted) controller.close();
        else controller.error(err);
        return;
      }
      clearTimeout(timer);
      if (result === "keepalive") {
        controller.enqueue(encoder.encode(": keepalive\n\n"));
        return;
      }
      pending = undefined;
      if (result.done) {
        const cancelled = reader === undefined; // cancel() came while the read was pending
        release();
        if (!cancelled) controller.close();
        return;
      }
      const record = result.value;
      next = record.offset + 1;
      sentInWindow++;
      controller.enqueue(event("record", tailRecord(record), record.offset));
    },
    cancel: () => release(),
  }, { highWaterMark: 0 });
}
