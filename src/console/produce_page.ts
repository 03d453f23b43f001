/**
 * Producing from the console (only when it is started with `allowProduce`): a form for a key, a
 * value, headers and a partition, sent as a POST that must carry the console's CSRF token. The
 * record is appended with `topic.append()`, which takes the partitions' writer locks.
 *
 * @module
 */
import type { Topic } from "../topic/topic.ts";
import type { ProducerRecord } from "../record/producer_record.ts";
import type { RecordHeader } from "../record/record.ts";
import { BadRequest, escapeHtml, page, segment } from "./_page.ts";

/** The most bytes a produce form may send. */
export const MAX_FORM_BYTES = 1 << 20;

/**
 * The produce form of a topic.
 *
 * @param topic the topic
 * @param csrfToken the console's CSRF token, sent back with the form
 * @param error a message from a failed attempt, shown above the form
 * @returns the page
 *
 * @example The form carries the CSRF token
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../mod.ts";
 * import { producePage } from "./produce_page.ts";
 * const log = await open(Deno.makeTempDirSync());
 * const topic = await log.createTopic("events", { partitions: 2 });
 * const html = await producePage(topic, "abc").text();
 * assert.match(html, /<input type="hidden" name="csrf" value="abc">/);
 * assert.match(html, /<option value="1">1<\/option>/);
 * await log.close();
 * ```
 */
export function producePage(topic: Topic, csrfToken: string, error?: string): Response {
  const action = `/topics/${segment(topic.name)}/produce`;
  const partitions = [`<option value="">chosen by the key (or sticky)</option>`];
  for (let p = 0; p < topic.partitions; p++) partitions.push(`<option value="${p}">${p}</option>`);
  const body = `<h2>Produce to <span class="topic-name">${escapeHtml(topic.name)}</span></h2>` +
    (error === undefined ? "" : `<p class="error">${escapeHtml(error)}</p>`) +
    `<form class="produce" method="post" action="${escapeHtml(action)}">` +
    `<input type="hidden" name="csrf" value="${escapeHtml(csrfToken)}">` +
    `<label>partition <select name="partition">${partitions.join("")}</select></label>` +
    `<label>key (empty for none) <input name="key" size="40"></label>` +
    `<label>value <textarea name="value" rows="6"></textarea></label>` +
    `<label>headers (one <code>name: value</code> a line) <textarea name="headers" rows="3"></textarea></label>` +
    `<button type="submit">Produce</button></form>`;
  return page(`Produce · ${topic.name}`, body, { status: error === undefined ? 200 : 400 });
}

/**
 * The record a produce form describes.
 *
 * @param form the form's fields
 * @param partitions how many partitions the topic has
 * @returns the record to append
 * @throws {BadRequest} for a partition out of range or a malformed header line
 *
 * @example Key, value, headers and partition from the form
 * ```ts
 * import assert from "node:assert/strict";
 * import { recordFromForm } from "./produce_page.ts";
 * const form = new URLSearchParams({ partition: "1", key: "k", value: "v", headers: "trace: 42\r\nsource: web" });
 * const r = recordFromForm(form, 2);
 * assert.equal(r.partition, 1);
 * assert.deepEqual(r.headers, [{ key: "trace", value: new TextEncoder().encode("42") },
 *   { key: "source", value: new TextEncoder().encode("web") }]);
 * assert.throws(() => recordFromForm(new URLSearchParams({ partition: "2" }), 2), /Invalid partition/);
 * ```
 */
export function recordFromForm(form: URLSearchParams, partitions: number): ProducerRecord {
  const rawPartition = form.get("partition") ?? "";
  let partition: number | undefined;
  if (rawPartition !== "") {
    if (!/^\d{1,6}$/.test(rawPartition) || Number(rawPartition) >= partitions) {
      throw new BadRequest(
        `Invalid partition "${rawPartition}": the topic has partitions 0 to ${partitions - 1}`,
      );
    }
    partition = Number(rawPartition);
  }
  const encoder = new TextEncoder();
  const headers: RecordHeader[] = [];
  for (const line of (form.get("headers") ?? "").split(/\r?\n/)) {
    if (line.trim() === "") continue;
    const colon = line.indexOf(":");
    if (colon <= 0) throw new BadRequest(`Invalid header line "${line}": expected name: value`);
    headers.push({ key: line.slice(0, colon).trim(), value: encoder.encode(line.slice(colon + 1).trim()) });
  }
  const key = form.get("key") ?? "";
  return { key: key === "" ? null : key, value: form.get("value") ?? "", headers, partition };
}

/**
 * Reads a form body of at most `maxBytes`.
 *
 * @param request the POST
 * @param maxBytes the most bytes taken
 * @returns the fields
 * @throws {BadRequest} (413) for a longer body, (415) for one that is not `application/x-www-form-urlencoded`
 */
export async function readForm(
  request: Request,
  maxBytes: number = MAX_FORM_BYTES,
): Promise<URLSearchParams> {
  const type = request.headers.get("content-type") ?? "";
  if (!type.startsWith("application/x-www-form-urlencoded")) {
    throw new BadRequest("Cannot produce: expected a form (application/x-www-form-urlencoded)", 415);
  }
  const length = Number(request.headers.get("content-length") ?? 0);
  if (length > maxBytes) {
    throw new BadRequest(`Cannot produce: the form is larger than ${maxBytes} bytes`, 413);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (request.body) {
    for await (const chunk of request.body) {
      size += chunk.length;
      if (size > maxBytes) {
        throw new BadRequest(`Cannot produce: the form is larger than ${maxBytes} bytes`, 413);
      }
      chunks.push(chunk);
    }
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  return new URLSearchParams(new TextDecoder().decode(bytes));
}
