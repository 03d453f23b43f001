/**
 * The records page: one partition's records from an offset, a timestamp or the end, a page at a
 * time, each key, value and header shown as text, pretty JSON or hex; the records of a range of
 * offsets or of timestamps (found through the time index, as `offsetsForTimes` finds them); and a
 * search by key within either range. Records are read with `topic.readable()`, as any reader
 * reads them.
 *
 * @module
 */
import type { Topic } from "../topic/topic.ts";
import type { ConsumedRecord } from "../record/consumed_record.ts";
import { BYTES_FORMATS, type BytesFormat, formatBytes, type FormattedBytes } from "./format_bytes.ts";
import { BadRequest, escapeHtml, href, intParam, page, segment } from "./_page.ts";

/** The records a page shows when the URL does not say. */
export const DEFAULT_PAGE_SIZE = 50;
/** The most records a page shows. */
export const MAX_PAGE_SIZE = 500;
/** How many offsets a key search scans when the URL gives no `to`. */
export const DEFAULT_SEARCH_RANGE = 100_000;
/** The most offsets one key search scans. */
export const MAX_SEARCH_RANGE = 1_000_000;

/** What the records page was asked for, parsed from its URL. */
export interface RecordsQuery {
  /** The first offset to show, or `undefined` for the log start offset. */
  offset?: number;
  /** Start at the first record at or after this time (ms), instead of an offset. */
  timestamp?: number;
  /**
   * End before the first record at or after this time (ms): the range's end offset, from the
   * time index. Not with `to`.
   */
  toTimestamp?: number;
  /** Start a page before the high watermark (the newest records). */
  end: boolean;
  /** Records per page. */
  limit: number;
  /** How keys, values and headers are shown. */
  format: BytesFormat | "auto";
  /** Show only records whose key contains this text. */
  key?: string;
  /** The range's end offset (exclusive): pages and a key search stop there. Not with `toTimestamp`. */
  to?: number;
}

/**
 * Parses and validates the records page's query: `offset`, `timestamp` (ms since the epoch or
 * an ISO 8601 date), `from=end`, `limit`, `format` (`auto`, `text`, `json`, `hex`), `key`, and the
 * range's end: `to` (an offset) or `toTimestamp` (a time, as `timestamp`).
 *
 * @param params the URL's query
 * @returns the query
 * @throws {BadRequest} for a malformed or out-of-range parameter
 *
 * @example Offsets and formats from the URL, checked
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRecordsQuery } from "./records_page.ts";
 * const q = parseRecordsQuery(new URLSearchParams("offset=40&limit=10&format=hex"));
 * assert.deepEqual([q.offset, q.limit, q.format, q.end], [40, 10, "hex", false]);
 * assert.equal(parseRecordsQuery(new URLSearchParams("timestamp=2015-09-12T00:00:00Z")).timestamp, 1442016000000);
 * assert.throws(() => parseRecordsQuery(new URLSearchParams("offset=-1")), /Invalid offset/);
 * assert.throws(() => parseRecordsQuery(new URLSearchParams("format=html")), /Invalid format/);
 * const range = parseRecordsQuery(new URLSearchParams("timestamp=2015-09-12T00:00:00Z&toTimestamp=2015-09-12T01:00:00Z"));
 * assert.equal(range.toTimestamp! - range.timestamp!, 3_600_000);
 * assert.throws(() => parseRecordsQuery(new URLSearchParams("timestamp=2000&toTimestamp=1000")), /is not after/);
 * ```
 */
export function parseRecordsQuery(params: URLSearchParams): RecordsQuery {
  const offset = intParam(params, "offset");
  const limit = intParam(params, "limit", MAX_PAGE_SIZE) ?? DEFAULT_PAGE_SIZE;
  if (limit === 0) throw new BadRequest("Invalid limit 0: expected at least 1");
  const format = params.get("format") || "auto";
  if (!(BYTES_FORMATS as readonly string[]).includes(format)) {
    throw new BadRequest(`Invalid format "${format}": expected one of ${BYTES_FORMATS.join(", ")}`);
  }
  const timestamp = timeParam(params, "timestamp");
  const toTimestamp = timeParam(params, "toTimestamp");
  if (timestamp !== undefined && toTimestamp !== undefined && toTimestamp <= timestamp) {
    throw new BadRequest(
      `Invalid toTimestamp ${new Date(toTimestamp).toISOString()}: it is not after the timestamp ${
        new Date(timestamp).toISOString()
      }`,
    );
  }
  const from = params.get("from");
  if (from && from !== "end" && from !== "start") {
    throw new BadRequest(`Invalid from "${from}": expected start or end`);
  }
  const key = params.get("key") || undefined;
  if (key !== undefined && key.length > 1024) {
    throw new BadRequest("Invalid key: longer than 1024 characters");
  }
  const to = intParam(params, "to");
  if (to !== undefined && toTimestamp !== undefined) {
    throw new BadRequest(
      "Invalid range: give its end as an offset (to) or as a time (toTimestamp), not both",
    );
  }
  return {
    offset,
    timestamp,
    toTimestamp,
    end: from === "end",
    limit,
    format: format as BytesFormat | "auto",
    key,
    to,
  };
}

/** A time from the URL: ms since the epoch, or an ISO 8601 date. */
function timeParam(params: URLSearchParams, name: string): number | undefined {
  const raw = params.get(name);
  if (!raw) return undefined;
  const time = /^\d{1,16}$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(time)) {
    throw new BadRequest(`Invalid ${name} "${raw}": expected ms since the epoch or an ISO 8601 date`);
  }
  return time;
}

/** A key, value or header value as a cell: `null` shown as such, else the formatted bytes. */
function bytesCell(bytes: Uint8Array | null, format: BytesFormat | "auto"): string {
  if (bytes === null) return `<span class="null">null</span>`;
  return formattedHtml(formatBytes(bytes, { format }));
}

function formattedHtml(f: FormattedBytes): string {
  const more = f.truncated ? `<span class="truncated">… (${f.size} bytes)</span>` : "";
  return `<pre data-format="${f.format}">${escapeHtml(f.text)}</pre>${more}`;
}

/**
 * One record as a table row: offset, timestamp, key, value, headers, every part escaped.
 *
 * @param record the record
 * @param format how keys, values and headers are shown
 * @returns the row's HTML
 *
 * @example A value with markup is shown as text
 * ```ts
 * import assert from "node:assert/strict";
 * import { recordRow } from "./records_page.ts";
 * const row = recordRow({
 *   topic: "t", partition: 0, offset: 7, timestamp: 0, key: null,
 *   value: new TextEncoder().encode("<script>alert(1)</script>"), headers: [],
 * }, "auto");
 * assert.match(row, /<tr data-offset="7">/);
 * assert.match(row, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
 * assert.doesNotMatch(row, /<script>/);
 * ```
 */
export function recordRow(record: ConsumedRecord, format: BytesFormat | "auto"): string {
  const time = new Date(record.timestamp).toISOString();
  const headers = record.headers.length === 0
    ? ""
    : `<dl>${
      record.headers.map((h) => `<dt>${escapeHtml(h.key)}</dt><dd>${bytesCell(h.value, format)}</dd>`).join(
        "",
      )
    }</dl>`;
  return `<tr data-offset="${record.offset}"><td class="offset">${record.offset}</td>` +
    `<td class="timestamp"><time datetime="${time}">${time}</time></td>` +
    `<td class="key">${bytesCell(record.key, format)}</td>` +
    `<td class="value">${bytesCell(record.value, format)}</td><td class="headers">${headers}</td></tr>`;
}

/** The table of records, with its head. */
export function recordsTable(rows: string): string {
  return `<table class="records"><thead><tr><th>offset</th><th>timestamp</th><th>key</th><th>value</th>` +
    `<th>headers</th></tr></thead><tbody>${rows}</tbody></table>`;
}

const decoder = new TextDecoder();

/**
 * Renders the records page of one partition.
 *
 * @param topic the topic
 * @param partition the partition (checked by the caller)
 * @param query what to show (see {@linkcode parseRecordsQuery})
 * @param options whether the produce link shows
 * @returns the page
 * @throws {BadRequest} (416) for an offset outside the partition's log start offset and high watermark
 *
 * @example The records of a range of timestamps, found through the time index
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../mod.ts";
 * import { parseRecordsQuery, recordsPage } from "./records_page.ts";
 * const log = await open(Deno.makeTempDirSync());
 * const topic = await log.createTopic("events");
 * await topic.append([0, 1000, 2000, 3000].map((timestamp) => ({ value: "v", timestamp })));
 * const query = parseRecordsQuery(new URLSearchParams("timestamp=500&toTimestamp=3000"));
 * const html = await (await recordsPage(topic, 0, query)).text();
 * assert.deepEqual([...html.matchAll(/data-offset="(\d+)"/g)].map((m) => m[1]), ["1", "2"]);
 * await log.close();
 * ```
 *
 * @example The first page of a partition
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../mod.ts";
 * import { parseRecordsQuery, recordsPage } from "./records_page.ts";
 * const log = await open(Deno.makeTempDirSync());
 * const topic = await log.createTopic("events");
 * await topic.append([{ key: "k", value: "a" }, { key: "k", value: "b" }]);
 * const html = await (await recordsPage(topic, 0, parseRecordsQuery(new URLSearchParams("offset=1")))).text();
 * assert.deepEqual([...html.matchAll(/data-offset="(\d+)"/g)].map((m) => m[1]), ["1"]);
 * await log.close();
 * ```
 */
export async function recordsPage(
  topic: Topic,
  partition: number,
  query: RecordsQuery,
  options: { allowProduce?: boolean } = {},
): Promise<Response> {
  const { logStartOffset, highWatermark } = topic.describe()[partition];
  let start: number;
  let note = "";
  if (query.offset !== undefined) {
    start = query.offset;
  } else if (query.timestamp !== undefined) {
    const found = topic.offsetsForTimes(query.timestamp)[partition];
    start = found ? Math.max(found.offset, logStartOffset) : highWatermark;
    note = `<p class="note">From ${escapeHtml(new Date(query.timestamp).toISOString())}: ${
      found ? `the first record at or after it is offset ${start}` : "every record is older"
    }.</p>`;
  } else if (query.end) {
    start = Math.max(logStartOffset, highWatermark - query.limit);
  } else {
    start = logStartOffset;
  }
  if (start < logStartOffset || start > highWatermark) {
    throw new BadRequest(
      `Offset ${start} is outside partition ${partition} of "${topic.name}": its records are at offsets ` +
        `${logStartOffset} to ${highWatermark - 1}`,
      416,
    );
  }
  // The range's end (exclusive): an offset, the first offset at or after a time, or the high watermark.
  let end = highWatermark;
  const ranged = query.to !== undefined || query.toTimestamp !== undefined;
  if (query.toTimestamp !== undefined) {
    const found = topic.offsetsForTimes(query.toTimestamp)[partition];
    end = found ? Math.max(found.offset, logStartOffset) : highWatermark;
    note = `<p class="note range">Records timestamped ${
      query.timestamp === undefined ? "" : `from ${escapeHtml(new Date(query.timestamp).toISOString())} `
    }before ${escapeHtml(new Date(query.toTimestamp).toISOString())} (by the time index): ${
      end > start ? `offsets ${start} to ${end - 1}` : "none"
    }.</p>`;
  } else if (query.to !== undefined) {
    end = Math.min(query.to, highWatermark);
  }
  end = Math.max(end, start);
  const base = `/topics/${segment(topic.name)}/partitions/${partition}`;
  const keep = {
    limit: query.limit === DEFAULT_PAGE_SIZE ? undefined : query.limit,
    format: fmt(query.format),
  };
  const rows: string[] = [];
  let next: number | undefined;
  let scannedTo = start;
  if (query.key === undefined) {
    const to = Math.min(end, start + query.limit);
    if (to > start) {
      for await (const r of topic.readable({ partitions: partition, from: start, to })) {
        rows.push(recordRow(r, query.format));
      }
    }
    scannedTo = to;
    next = scannedTo < end ? scannedTo : undefined;
  } else {
    const to = Math.min(end, ranged ? end : start + DEFAULT_SEARCH_RANGE, start + MAX_SEARCH_RANGE);
    if (to > start) {
      const abort = new AbortController();
      const stream = topic.readable({ partitions: partition, from: start, to, signal: abort.signal });
      try {
        for await (const r of stream) {
          scannedTo = r.offset + 1;
          if (r.key !== null && decoder.decode(r.key).includes(query.key)) {
            rows.push(recordRow(r, query.format));
            if (rows.length === query.limit) break;
          }
        }
      } finally {
        abort.abort();
      }
      if (rows.length < query.limit) scannedTo = to;
    }
    next = scannedTo < end ? scannedTo : undefined;
    note += `<p class="note search">Records whose key contains “${escapeHtml(query.key)}”: ${rows.length} ` +
      `found in offsets ${start} to ${scannedTo - 1}.</p>`;
  }
  const link = (label: string, rel: string, q: Record<string, string | number | undefined>) =>
    `<a rel="${rel}" href="${escapeHtml(href(`${base}/records`, { ...q, ...keep }))}">${label}</a>`;
  const search = { key: query.key, to: ranged ? end : undefined };
  const nav = `<nav class="paging">` +
    (start > logStartOffset
      ? link("« first", "first", { ...search }) + " " +
        (query.key === undefined
          ? link("‹ previous", "prev", { ...search, offset: Math.max(logStartOffset, start - query.limit) })
          : "")
      : "") +
    (next !== undefined ? " " + link("next ›", "next", { ...search, offset: next }) : "") +
    (query.key === undefined && end > start + query.limit
      ? " " + link("last »", "last", ranged ? { ...search, offset: end - query.limit } : { from: "end" })
      : "") +
    `</nav>`;
  const formats = BYTES_FORMATS.map((f) =>
    f === query.format
      ? `<strong>${f}</strong>`
      : `<a href="${
        escapeHtml(href(`${base}/records`, { ...search, offset: start, limit: keep.limit, format: fmt(f) }))
      }">${f}</a>`
  ).join(" ");
  // The key search last asked for shows in the form it came from.
  const byTime = query.timestamp !== undefined || query.toTimestamp !== undefined;
  const forms = `<form class="jump" method="get" action="${escapeHtml(`${base}/records`)}">` +
    `<label>offset <input name="offset" inputmode="numeric" size="10"></label> ` +
    `<label>or time <input name="timestamp" placeholder="2015-09-12T12:00:00Z" size="24"></label>` +
    hidden("format", fmt(query.format)) + `<button>Go</button></form>` +
    `<form class="search" method="get" action="${escapeHtml(`${base}/records`)}">` +
    `<label>key contains <input name="key" value="${
      escapeHtml(byTime ? "" : query.key ?? "")
    }" size="24"></label> ` +
    `<label>from offset <input name="offset" inputmode="numeric" size="10" value="${start}"></label> ` +
    `<label>to <input name="to" inputmode="numeric" size="10" value="${query.to ?? ""}"></label>` +
    hidden("format", fmt(query.format)) + `<button>Search</button></form>` +
    `<form class="time-range" method="get" action="${escapeHtml(`${base}/records`)}">` +
    `<label>timestamps from <input name="timestamp" placeholder="2015-09-12T12:00:00Z" size="24" value="${
      timeValue(query.timestamp)
    }"></label> <label>to <input name="toTimestamp" placeholder="2015-09-12T13:00:00Z" size="24" value="${
      timeValue(query.toTimestamp)
    }"></label> <label>key contains <input name="key" size="16" value="${
      escapeHtml(byTime ? query.key ?? "" : "")
    }"></label>` +
    hidden("format", fmt(query.format)) + `<button>Show</button></form>`;
  const title = `${topic.name}-${partition}`;
  const links = `<p class="links"><a href="${escapeHtml(`${base}/tail`)}">Live tail</a>` +
    (options.allowProduce
      ? ` · <a href="/topics/${escapeHtml(segment(topic.name))}/produce">Produce</a>`
      : "") +
    `</p>`;
  const body = `<h2>Records of <span class="topic-name">${escapeHtml(topic.name)}</span>, partition ` +
    `${partition}</h2>${links}<p class="offsets" data-log-start-offset="${logStartOffset}" ` +
    `data-high-watermark="${highWatermark}">Offsets ${logStartOffset} to ${
      highWatermark - 1
    }; showing from ` +
    `${start}.</p>${forms}<p class="formats">Show as: ${formats}</p>${note}${nav}` +
    (rows.length === 0 ? `<p class="empty">No records.</p>` : recordsTable(rows.join(""))) + nav;
  return page(`Records · ${title}`, body);
}

function timeValue(time: number | undefined): string {
  return time === undefined ? "" : escapeHtml(new Date(time).toISOString());
}

function fmt(format: string): string | undefined {
  return format === "auto" ? undefined : format;
}

function hidden(name: string, value: string | undefined): string {
  return value === undefined ? "" : `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`;
}
