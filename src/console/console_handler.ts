/**
 * The web console's request handler: server-rendered HTML pages over an open log directory,
 * Web-standard `Request` → `Response`, so the same handler runs under `Deno.serve` and `Bun.serve`.
 * Every value taken from the log or the URL is escaped before it reaches the page.
 *
 * @module
 */
import type { LogDirectory } from "../topic/log_directory.ts";

/** Options of {@linkcode consoleHandler}. */
export interface ConsoleHandlerOptions {
  /**
   * An access token: when set, every request must carry it (`?token=` or
   * `Authorization: Bearer`), or it gets 401.
   */
  token?: string;
}

/**
 * Escapes text for HTML element content and attribute values.
 *
 * @param text any text
 * @returns the text with `&`, `<`, `>`, `"` and `'` as character references
 *
 * @example A script tag becomes text
 * ```ts
 * import assert from "node:assert/strict";
 * import { escapeHtml } from "./console_handler.ts";
 * assert.equal(escapeHtml("<script>alert('1')</script>"), "&lt;script&gt;alert(&#39;1&#39;)&lt;/script&gt;");
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

const ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

const SECURITY_HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "content-security-policy":
    "default-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

function page(title: string, body: string): Response {
  return new Response(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${
      escapeHtml(title)
    } · reel console</title></head>` +
      `<body><header><h1>reel console</h1><nav><a href="/">Topics</a></nav></header><main>${body}</main></body></html>`,
    { headers: SECURITY_HEADERS },
  );
}

function topicsPage(log: LogDirectory): Response {
  const parts: string[] = ["<h2>Topics</h2>"];
  for (const name of log.topics()) {
    const topic = log.topic(name);
    const rows = topic.describe().map((p) =>
      `<tr><td>${p.partition}</td><td>${p.logStartOffset}</td><td>${p.logEndOffset}</td>` +
      `<td>${p.highWatermark}</td><td>${p.segments}</td><td>${p.bytes}</td></tr>`
    ).join("");
    const config = Object.entries(topic.config).map(([k, v]) =>
      `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(String(v))}</dd>`
    ).join("");
    parts.push(
      `<section class="topic" data-topic="${escapeHtml(name)}"><h3>${escapeHtml(name)}</h3>` +
        `<table><thead><tr><th>partition</th><th>log start offset</th><th>log end offset</th>` +
        `<th>high watermark</th><th>segments</th><th>size (bytes)</th></tr></thead><tbody>${rows}</tbody></table>` +
        `<details><summary>config</summary><dl>${config}</dl></details></section>`,
    );
  }
  return page("Topics", parts.join(""));
}

/**
 * The console's handler over an open log directory. It only reads: it never takes a
 * partition's writer lock.
 *
 * @param log an open log directory
 * @param options access token
 * @returns a Web-standard handler: `GET /` is the topics page; unknown paths get 404, other
 * methods 405, a missing or wrong token 401
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
 * await log.close();
 * ```
 */
export function consoleHandler(
  log: LogDirectory,
  options: ConsoleHandlerOptions = {},
): (request: Request) => Promise<Response> {
  return (request) => {
    const url = new URL(request.url);
    if (options.token !== undefined) {
      const given = url.searchParams.get("token") ??
        request.headers.get("authorization")?.replace(/^Bearer /, "");
      if (given !== options.token) return Promise.resolve(new Response("Unauthorized", { status: 401 }));
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      return Promise.resolve(new Response("Method not allowed", { status: 405 }));
    }
    if (url.pathname === "/") return Promise.resolve(topicsPage(log));
    return Promise.resolve(new Response("Not found", { status: 404 }));
  };
}
