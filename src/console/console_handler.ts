/**
 * The web console's request handler: server-rendered HTML pages over an open log directory,
 * Web-standard `Request` → `Response`, so the same handler runs under `Deno.serve`, `Bun.serve` and
 * Node's `node:http` (through src/runtime/http_server.ts).
 * Every value taken from the log or the URL is escaped before it reaches the page, and every
 * topic, partition, offset and group id taken from the URL is validated first.
 *
 * Pages: `/` topics; `/topics/T/partitions/P/records` records; `/topics/T/partitions/P/tail` the
 * live tail (its events at `…/tail/events`); `/groups` and `/groups/G` consumer groups (the lag
 * as JSON at `/groups/G/lag`); `/topics/T/produce` the produce form, only with `allowProduce`.
 *
 * @module
 */
import type { LogDirectory } from "../topic/log_directory.ts";
import type { Topic } from "../topic/topic.ts";
import {
  InvalidGroupIdError,
  InvalidTopicError,
  OffsetOutOfRangeError,
  PartitionLockedError,
  RecordTooLargeError,
  UnknownTopicOrPartitionError,
} from "../errors.ts";
import { validateTopicName } from "../runtime/log_paths.ts";
import { asset as assetAt } from "./_assets.ts";
import { BadRequest, errorPage, escapeHtml, intParam, page, segment } from "./_page.ts";
import { groupLag, groupPage, groupsPage } from "./groups_page.ts";
import type { LagHistory } from "./lag_history.ts";
import { producePage, readForm, recordFromForm } from "./produce_page.ts";
import { parseRecordsQuery, recordsPage } from "./records_page.ts";
import { MAX_TAIL_RATE, tailEvents } from "./tail_events.ts";
import { tailPage } from "./tail_page.ts";

export { escapeHtml };

/** Options of {@linkcode consoleHandler}. */
export interface ConsoleHandlerOptions {
  /**
   * An access token: when set, every request must carry it (`?token=`, `Authorization: Bearer`,
   * or the cookie the console sets when a page is opened with `?token=`), or it gets 401.
   */
  token?: string;
  /**
   * Whether the produce form is served and its POSTs are taken (each must carry the console's
   * CSRF token). Producing takes the partitions' writer locks.
   * @default false
   */
  allowProduce?: boolean;
  /**
   * The host names a request's `Host` header may name (any port); others get 403. This keeps a
   * console on loopback from being reached through DNS rebinding. @default any host
   */
  hosts?: readonly string[];
  /** Ends the live tails' event streams when aborted (the server is closing). */
  signal?: AbortSignal;
  /**
   * The groups' lag over time, kept by whoever samples it (`console()` does): the group
   * pages' charts open with it. Without it a chart starts empty when its page opens.
   */
  lagHistory?: LagHistory;
}

/** The same length and the same characters, in time that does not depend on where they differ. */
function sameSecret(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function cookie(request: Request, name: string): string | undefined {
  for (const part of (request.headers.get("cookie") ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function hostOf(header: string): string {
  return header.startsWith("[") ? header.slice(0, header.indexOf("]") + 1) : header.replace(/:\d*$/, "");
}

/**
 * Each partition's records a second over the last minute: the records timestamped from a minute
 * ago on (found through the time index, as `offsetsForTimes` does), divided by 60. Stateless, so
 * right from the console's start; for records whose timestamps are not their append times (an
 * old data set), it counts by their timestamps.
 */
function recordsPerSecond(topic: Topic, now: number): number[] {
  const described = topic.describe();
  return topic.offsetsForTimes(now - 60_000).map((found, p) =>
    found === null ? 0 : Math.max(0, described[p].highWatermark - found.offset) / 60
  );
}

function topicsPage(log: LogDirectory, allowProduce: boolean, now: number = Date.now()): Response {
  const parts: string[] = ["<h2>Topics</h2>"];
  const names = log.topics();
  if (names.length === 0) parts.push(`<p class="empty">No topic yet.</p>`);
  for (const name of names) {
    const topic = log.topic(name);
    const base = `/topics/${escapeHtml(segment(name))}`;
    const perSecond = recordsPerSecond(topic, now);
    const rows = topic.describe().map((p) =>
      `<tr><td>${p.partition}</td><td>${p.logStartOffset}</td><td>${p.logEndOffset}</td>` +
      `<td>${p.highWatermark}</td><td>${p.segments}</td><td>${p.bytes}</td>` +
      `<td class="rate">${perSecond[p.partition].toFixed(1)}</td>` +
      `<td class="links"><a href="${base}/partitions/${p.partition}/records">records</a> ` +
      `<a href="${base}/partitions/${p.partition}/records?from=end">newest</a> ` +
      `<a href="${base}/partitions/${p.partition}/tail">live tail</a></td></tr>`
    ).join("");
    const config = Object.entries(topic.config).map(([k, v]) =>
      `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(String(v))}</dd>`
    ).join("");
    parts.push(
      `<section class="topic" data-topic="${escapeHtml(name)}"><h3>${escapeHtml(name)}</h3>` +
        (allowProduce ? `<p><a class="produce" href="${base}/produce">Produce</a></p>` : "") +
        `<table><thead><tr><th>partition</th><th>log start offset</th><th>log end offset</th>` +
        `<th>high watermark</th><th>segments</th><th>size (bytes)</th><th title="records timestamped in the last ` +
        `minute, a second">records/s (last min)</th><th></th></tr></thead><tbody>${rows}</tbody></table>` +
        `<details><summary>config</summary><dl>${config}</dl></details></section>`,
    );
  }
  return page("Topics", parts.join(""));
}

/** The topic a URL names, checked: an invalid name is a 400, a missing topic a 404. */
function topicOf(log: LogDirectory, name: string): Topic {
  validateTopicName(name);
  if (!log.hasTopic(name)) throw new UnknownTopicOrPartitionError(name);
  return log.topic(name);
}

/** The partition a URL names, checked against the topic. */
function partitionOf(topic: Topic, raw: string): number {
  if (!/^\d{1,6}$/.test(raw) || Number(raw) >= topic.partitions) {
    throw new BadRequest(`No partition "${raw}" in topic "${topic.name}": it has ${topic.partitions}`, 404);
  }
  return Number(raw);
}

function statusOf(err: unknown): number | undefined {
  if (err instanceof BadRequest) return err.status;
  if (err instanceof UnknownTopicOrPartitionError) return 404;
  if (err instanceof InvalidTopicError || err instanceof InvalidGroupIdError) return 400;
  if (err instanceof OffsetOutOfRangeError) return 416;
  if (err instanceof PartitionLockedError) return 409;
  if (err instanceof RecordTooLargeError) return 413;
  return undefined;
}

/**
 * The console's handler over an open log directory. It only reads (it never takes a partition's
 * writer lock), unless `allowProduce` is set and a record is produced from the page.
 *
 * @param log an open log directory
 * @param options access token, producing, allowed hosts, abort signal
 * @returns a Web-standard handler: the pages above; unknown paths get 404, a method a path does
 * not take 405, a missing or wrong token 401, a bad or missing CSRF token 403
 *
 * @example The topics page lists a topic's partitions
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../mod.ts";
 * import { consoleHandler } from "./console_handler.ts";
 * const log = await open(Deno.makeTempDirSync());
 * await (await log.createTopic("events", { partitions: 2 })).append([{ value: "a" }]);
 * const handler = consoleHandler(log, { token: "s3cret" });
 * assert.equal((await handler(new Request("http://localhost/"))).status, 401);
 * const html = await (await handler(new Request("http://localhost/?token=s3cret"))).text();
 * assert.match(html, /data-topic="events"/);
 * assert.equal((await handler(new Request("http://localhost/topics/events/produce?token=s3cret"))).status, 404);
 * await log.close();
 * ```
 */
export function consoleHandler(
  log: LogDirectory,
  options: ConsoleHandlerOptions = {},
): (request: Request) => Promise<Response> {
  const allowProduce = options.allowProduce ?? false;
  const csrfToken = randomToken();
  const hosts = options.hosts === undefined ? undefined : new Set(options.hosts.map((h) => h.toLowerCase()));

  const route = async (request: Request, url: URL, parts: string[]): Promise<Response> => {
    const method = request.method === "HEAD" ? "GET" : request.method;
    const only = (allowed: string) => {
      if (method !== allowed) throw new BadRequest(`Method ${request.method} is not allowed here`, 405);
    };
    const [first, second, third, fourth, fifth, sixth, ...rest] = parts;
    if (parts.length === 1 && first === "") {
      only("GET");
      return topicsPage(log, allowProduce);
    }
    if (first === "assets" && parts.length === 2) {
      only("GET");
      const asset = assetAt(url.pathname);
      if (asset) {
        return new Response(asset.body as BodyInit, {
          headers: {
            "content-type": asset.type,
            "x-content-type-options": "nosniff",
            "cache-control": "no-cache",
          },
        });
      }
    }
    if (first === "groups") {
      only("GET");
      if (parts.length === 1) return groupsPage(log);
      if (parts.length === 2) return groupPage(log, second, options.lagHistory?.intervalMs);
      if (parts.length === 3 && third === "lag") return groupLag(log, second, options.lagHistory);
    }
    if (first === "topics" && parts.length >= 3) {
      const topic = topicOf(log, second);
      if (parts.length === 3 && third === "produce") {
        if (!allowProduce) {
          throw new BadRequest("Producing is off: start the console with --allow-produce to produce", 404);
        }
        if (method === "GET") return producePage(topic, csrfToken);
        only("POST");
        return await produce(request, topic);
      }
      if (third === "partitions" && rest.length === 0 && parts.length >= 5) {
        const partition = partitionOf(topic, fourth);
        only("GET");
        if (parts.length === 5 && fifth === "records") {
          return await recordsPage(topic, partition, parseRecordsQuery(url.searchParams), { allowProduce });
        }
        if (parts.length === 5 && fifth === "tail") {
          return tailPage(topic, partition, intParam(url.searchParams, "rate", MAX_TAIL_RATE));
        }
        if (parts.length === 6 && fifth === "tail" && sixth === "events") {
          return tail(request, url, topic, partition);
        }
      }
    }
    return errorPage(404, `No page at ${url.pathname}`);
  };

  const tail = (request: Request, url: URL, topic: Topic, partition: number): Response => {
    const lastEventId = request.headers.get("last-event-id");
    let from: number | undefined;
    if (lastEventId !== null && /^\d{1,16}$/.test(lastEventId)) from = Number(lastEventId) + 1;
    else from = intParam(url.searchParams, "from");
    const rate = intParam(url.searchParams, "rate", MAX_TAIL_RATE);
    if (rate === 0) throw new BadRequest("Invalid rate 0: expected at least 1");
    // No request.signal: both runtimes cancel the body when the client goes (even an idle one),
    // and on Deno reading request.signal makes every finished response abort it with a warning.
    const body = tailEvents(topic, partition, { from, maxRecordsPerSecond: rate, signal: options.signal });
    return new Response(body, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
        "x-accel-buffering": "no",
      },
    });
  };

  const produce = async (request: Request, topic: Topic): Promise<Response> => {
    // A cross-site form cannot know the CSRF token (the pages that carry it cannot be read from
    // another origin); a browser's Origin header, when sent, must also name this host.
    const origin = request.headers.get("origin");
    if (origin !== null && origin !== "null") {
      let originHost: string | undefined;
      try {
        originHost = new URL(origin).host;
      } catch {
        originHost = undefined;
      }
      if (originHost !== (request.headers.get("host") ?? new URL(request.url).host)) {
        return errorPage(403, "Cannot produce: the request comes from another origin");
      }
    }
    const form = await readForm(request, topic.config.maxMessageBytes * 3 + 4096);
    if (!sameSecret(form.get("csrf") ?? "", csrfToken)) {
      return errorPage(403, "Cannot produce: the form's CSRF token is missing or wrong (reload the page)");
    }
    let record;
    try {
      record = recordFromForm(form, topic.partitions);
    } catch (err) {
      if (err instanceof BadRequest) return producePage(topic, csrfToken, err.message);
      throw err;
    }
    let meta;
    try {
      [meta] = await topic.append([record]);
    } catch (err) {
      const status = statusOf(err);
      if (status === undefined) throw err;
      return producePage(topic, csrfToken, (err as Error).message);
    }
    const location = `/topics/${
      segment(topic.name)
    }/partitions/${meta.partition}/records?offset=${meta.offset}`;
    return new Response(null, { status: 303, headers: { location } });
  };

  return async (request) => {
    const url = new URL(request.url);
    if (hosts !== undefined) {
      const host = hostOf(request.headers.get("host") ?? url.host).toLowerCase();
      if (!hosts.has(host)) return errorPage(403, `Host "${host}" is not one this console answers to`);
    }
    let setCookie: string | undefined;
    if (options.token !== undefined) {
      const name = `reel-console-token-${url.port || "80"}`;
      const query = url.searchParams.get("token");
      const bearer = request.headers.get("authorization")?.replace(/^Bearer /, "");
      const given = query ?? bearer ?? cookie(request, name);
      if (given === undefined || !sameSecret(given, options.token)) {
        return new Response("Unauthorized", { status: 401, headers: { "www-authenticate": "Bearer" } });
      }
      // Links, forms and the live tail's EventSource carry no token: the cookie does.
      if (query !== null) {
        setCookie = `${name}=${encodeURIComponent(options.token)}; Path=/; HttpOnly; SameSite=Strict`;
      }
    }
    let parts: string[];
    try {
      parts = url.pathname.slice(1).split("/").map(decodeURIComponent);
    } catch {
      return errorPage(400, "The path is not valid percent-encoding");
    }
    let response: Response;
    try {
      response = await route(request, url, parts);
    } catch (err) {
      const status = statusOf(err);
      if (status === undefined) {
        response = errorPage(500, `The console failed: ${err instanceof Error ? err.message : String(err)}`);
      } else response = errorPage(status, (err as Error).message);
    }
    if (setCookie !== undefined) response.headers.append("set-cookie", setCookie);
    return response;
  };
}
