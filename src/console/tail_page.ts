/**
 * The live tail page: an empty table that `/assets/tail.js` fills from the partition's event
 * stream (`tailEvents()` in tail_events.ts), with a pause button.
 *
 * @module
 */
import type { Topic } from "../topic/topic.ts";
import { escapeHtml, page, segment } from "./_page.ts";
import { recordsTable } from "./records_page.ts";

/** The most rows the tail page keeps: older rows are dropped as new ones come. */
export const TAIL_PAGE_ROWS = 500;

/**
 * The live tail page of a partition.
 *
 * @param topic the topic
 * @param partition the partition (checked by the caller)
 * @param rate the most records a second the page asks for
 * @returns the page
 *
 * @example The page points its script at the partition's event stream
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "../../mod.ts";
 * import { tailPage } from "./tail_page.ts";
 * const log = await open(Deno.makeTempDirSync());
 * const topic = await log.createTopic("events");
 * const html = await tailPage(topic, 0).text();
 * assert.match(html, /data-tail-events="\/topics\/events\/partitions\/0\/tail\/events"/);
 * assert.match(html, /<script src="\/assets\/tail.js" defer><\/script>/);
 * await log.close();
 * ```
 */
export function tailPage(topic: Topic, partition: number, rate?: number): Response {
  const base = `/topics/${segment(topic.name)}/partitions/${partition}`;
  const events = `${base}/tail/events${rate === undefined ? "" : `?rate=${rate}`}`;
  const body = `<h2>Live tail of <span class="topic-name">${escapeHtml(topic.name)}</span>, partition ` +
    `${partition}</h2><p class="links"><a href="${escapeHtml(`${base}/records?from=end`)}">Records</a></p>` +
    `<section class="tail" data-tail-events="${escapeHtml(events)}" data-max-rows="${TAIL_PAGE_ROWS}" ` +
    `data-state="connecting"><p><button type="button" class="pause">Pause</button> ` +
    `<span class="status">Connecting…</span></p>${recordsTable("")}</section>`;
  return page(`Live tail · ${topic.name}-${partition}`, body, { scripts: ["/assets/tail.js"] });
}
