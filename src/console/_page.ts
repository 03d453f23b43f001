/**
 * The console's page frame: HTML escaping, the layout every page shares, the security headers,
 * and the small answers (errors, redirects). Internal to `src/console/`.
 *
 * @module
 */

/**
 * Escapes text for HTML element content and attribute values.
 *
 * @param text any text
 * @returns the text with `&`, `<`, `>`, `"` and `'` as character references
 *
 * @example A script tag becomes text
 * ```ts
 * import assert from "node:assert/strict";
 * import { escapeHtml } from "./_page.ts";
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

/**
 * The headers of every HTML page: a Content-Security-Policy that runs only the console's own
 * scripts (no inline script, no inline style, nothing from elsewhere), no sniffing, no referrer.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": "default-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'; " +
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

/** A path segment of a console URL, percent-encoded. */
export const segment: (text: string) => string = encodeURIComponent;

/** What a page's frame needs beyond its title and body. */
export interface PageOptions {
  /** The HTTP status. @default 200 */
  status?: number;
  /** Scripts of the console's own (`/assets/…`) the page loads. */
  scripts?: string[];
  /** Stylesheets the page loads besides the console's own (`/assets/…`). */
  styles?: string[];
  /** Extra headers. */
  headers?: Record<string, string>;
  /** Whether the nav shows the produce link (only when producing is allowed). */
  allowProduce?: boolean;
}

/**
 * A whole HTML page: head, nav, the body given (already escaped by its maker).
 *
 * @param title the page title (escaped here)
 * @param body the page's HTML
 * @param options status, scripts, headers
 * @returns the response
 */
export function page(title: string, body: string, options: PageOptions = {}): Response {
  const scripts = (options.scripts ?? []).map((s) => `<script src="${escapeHtml(s)}" defer></script>`).join(
    "",
  );
  const styles = (options.styles ?? []).map((s) => `<link rel="stylesheet" href="${escapeHtml(s)}">`).join(
    "",
  );
  return new Response(
    `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
      `<meta name="viewport" content="width=device-width, initial-scale=1">` +
      `<title>${escapeHtml(title)} · reel console</title>` +
      `<link rel="stylesheet" href="/assets/console.css">${styles}${scripts}</head>` +
      `<body><header><h1><a href="/">reel console</a></h1><nav><a href="/">Topics</a> ` +
      `<a href="/groups">Consumer groups</a></nav></header><main>${body}</main></body></html>`,
    {
      status: options.status ?? 200,
      headers: { "content-type": "text/html; charset=utf-8", ...SECURITY_HEADERS, ...options.headers },
    },
  );
}

/**
 * An error page: the status and a sentence saying what was wrong.
 *
 * @param status the HTTP status
 * @param message what went wrong (escaped here)
 * @returns the response
 */
export function errorPage(status: number, message: string): Response {
  return page(`Error ${status}`, `<h2>Error ${status}</h2><p class="error">${escapeHtml(message)}</p>`, {
    status,
  });
}

/** A malformed request: what in it was wrong. */
export class BadRequest extends Error {
  /**
   * @param message what was wrong, shown to the user
   * @param status the HTTP status to answer with
   */
  constructor(message: string, readonly status: number = 400) {
    super(message);
    this.name = "BadRequest";
  }
}

/**
 * A query parameter as a non-negative integer (an offset, a partition, a count), or `undefined`
 * when absent or empty.
 *
 * @param params the URL's query
 * @param name the parameter
 * @param max the largest value allowed
 * @returns the integer
 * @throws {BadRequest} when it is not a decimal integer in [0, max]
 */
export function intParam(
  params: URLSearchParams,
  name: string,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  const raw = params.get(name);
  if (raw === null || raw === "") return undefined;
  if (!/^\d{1,16}$/.test(raw) || Number(raw) > max) {
    throw new BadRequest(`Invalid ${name} "${raw}": expected an integer from 0 to ${max}`);
  }
  return Number(raw);
}

/**
 * A link to a console path with a query, leaving out parameters that are unset.
 *
 * @param path the path (segments already encoded)
 * @param query the parameters
 * @returns the href, not yet HTML-escaped
 */
export function href(path: string, query: Record<string, string | number | undefined> = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== "") params.set(k, String(v));
  const q = params.toString();
  return q ? `${path}?${q}` : path;
}
