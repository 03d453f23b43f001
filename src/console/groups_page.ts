/**
 * The consumer group pages: every group with its state and total lag; one group's state,
 * generation, members with their partitions, and per partition the committed offset, the log
 * end offset and the lag (what `reel groups --describe` prints), with a lag-over-time chart.
 * Read through `listGroups()` and `describeGroup()`: nothing is changed.
 *
 * @module
 */
import type { LogDirectoryView } from "../consumer/log_directory_view.ts";
import { describeGroup, listGroups } from "../consumer/group_admin.ts";
import { escapeHtml, page, segment } from "./_page.ts";
import { type LagHistory, type LagSample, totalLag } from "./lag_history.ts";

function cell(value: number | string | null): string {
  return value === null ? `<td class="num null">-</td>` : `<td class="num">${escapeHtml(String(value))}</td>`;
}

/**
 * The list of consumer groups: state, live members, partitions with a committed offset, total lag.
 *
 * @param log the open log directory
 * @returns the page
 *
 * @example A group that committed shows with its lag
 * ```ts
 * import assert from "node:assert/strict";
 * import { Consumer, open } from "../../mod.ts";
 * import { groupsPage } from "./groups_page.ts";
 * const log = await open(Deno.makeTempDirSync());
 * await (await log.createTopic("events")).append([{ value: "a" }, { value: "b" }]);
 * const consumer = new Consumer(log, { groupId: "billing" });
 * await consumer.commit([{ topic: "events", partition: 0, offset: 1 }]);
 * await consumer.close();
 * const html = await groupsPage(log).text();
 * assert.match(html, /<tr data-group="billing">.*<td class="num total-lag">1<\/td>/);
 * await log.close();
 * ```
 */
export function groupsPage(log: LogDirectoryView): Response {
  const rows = listGroups(log).map((id) => {
    const group = describeGroup(log, id);
    const live = group.members.filter((m) => !m.expired).length;
    const committed = group.offsets.filter((o) => o.committedOffset !== null).length;
    return `<tr data-group="${escapeHtml(id)}"><td><a href="/groups/${escapeHtml(segment(id))}">${
      escapeHtml(id)
    }</a></td><td class="state">${group.state}</td>${cell(live)}${cell(committed)}` +
      `<td class="num total-lag">${totalLag(group)}</td></tr>`;
  });
  const body = `<h2>Consumer groups</h2>` +
    (rows.length === 0
      ? `<p class="empty">No consumer group has joined or committed yet.</p>`
      : `<table class="groups"><thead><tr><th>group</th><th>state</th><th>members</th>` +
        `<th>partitions committed</th><th>total lag</th></tr></thead><tbody>${
          rows.join("")
        }</tbody></table>`);
  return page("Consumer groups", body);
}

/**
 * One consumer group's page: state, generation, assignor, members and their partitions, and per
 * partition the committed offset, log end offset, lag and owner; a chart of the total lag over
 * time (uPlot, served by the console), fed by {@linkcode groupLag}.
 *
 * @param log the open log directory
 * @param groupId the group (checked: an invalid id throws)
 * @param intervalMs how often the page asks for the lag (ms): the console's sampling interval
 * @returns the page (404 when no such group exists)
 * @throws {InvalidGroupIdError} for a malformed group id
 *
 * @example Committed offset, log end offset and lag per partition
 * ```ts
 * import assert from "node:assert/strict";
 * import { Consumer, open } from "../../mod.ts";
 * import { groupPage } from "./groups_page.ts";
 * const log = await open(Deno.makeTempDirSync());
 * await (await log.createTopic("events")).append([{ value: "a" }, { value: "b" }, { value: "c" }]);
 * const consumer = new Consumer(log, { groupId: "billing" });
 * await consumer.commit([{ topic: "events", partition: 0, offset: 1 }]);
 * await consumer.close();
 * const html = await groupPage(log, "billing").text();
 * assert.match(html, /<tr data-topic="events" data-partition="0"><td>events<\/td><td class="num">0<\/td>/);
 * assert.match(html, /<td class="num committed">1<\/td><td class="num end">3<\/td><td class="num lag">2<\/td>/);
 * assert.equal(groupPage(log, "nobody").status, 404);
 * await log.close();
 * ```
 */
export function groupPage(log: LogDirectoryView, groupId: string, intervalMs = 5000): Response {
  const group = describeGroup(log, groupId); // checks the id first
  if (!listGroups(log).includes(groupId)) {
    return page(
      "No such group",
      `<h2>Error 404</h2><p class="error">No consumer group "${
        escapeHtml(groupId)
      }" in this log directory</p>`,
      { status: 404 },
    );
  }
  const id = escapeHtml(groupId);
  const members = group.members.map((m) =>
    `<tr data-member="${escapeHtml(m.memberId)}"><td>${escapeHtml(m.memberId)}</td><td>${
      escapeHtml(m.clientId)
    }</td><td>${escapeHtml(m.hostname)}</td>${cell(m.pid)}<td>${
      escapeHtml(m.owned.map((tp) => `${tp.topic}-${tp.partition}`).join(", "))
    }</td><td>${m.expired ? "expired" : "live"}</td></tr>`
  ).join("");
  const offsets = group.offsets.map((o) => {
    const records = o.logEndOffset === null
      ? ""
      : ` <a href="/topics/${escapeHtml(segment(o.topic))}/partitions/${o.partition}/records?offset=${
        o.committedOffset !== null && o.logStartOffset !== null && o.committedOffset >= o.logStartOffset &&
          o.committedOffset <= o.logEndOffset
          ? o.committedOffset
          : (o.logStartOffset ?? 0)
      }">records</a>`;
    return `<tr data-topic="${escapeHtml(o.topic)}" data-partition="${o.partition}"><td>${
      escapeHtml(o.topic)
    }</td><td class="num">${o.partition}</td>` +
      `<td class="num committed">${o.committedOffset ?? "-"}</td><td class="num end">${
        o.logEndOffset ?? "-"
      }</td>` +
      `<td class="num lag">${o.lag ?? "-"}</td><td>${
        escapeHtml(o.memberId ?? "-")
      }</td><td>${records}</td></tr>`;
  }).join("");
  const body = `<h2>Consumer group <span class="group-id">${id}</span></h2>` +
    `<dl class="group"><dt>state</dt><dd class="state">${group.state}</dd><dt>generation</dt>` +
    `<dd class="generation">${group.generation}</dd><dt>assignor</dt><dd>${
      escapeHtml(group.protocol ?? "-")
    }</dd>` +
    `<dt>total lag</dt><dd class="total-lag">${totalLag(group)}</dd></dl>` +
    `<section class="lag-chart" data-lag-url="/groups/${escapeHtml(segment(groupId))}/lag" ` +
    `data-interval-ms="${intervalMs}"><h3>Lag over time</h3>` +
    `<div class="chart" role="img" aria-label="total lag over time"></div><p class="lag-now"></p></section>` +
    `<h3>Members</h3>` +
    (members === ""
      ? `<p class="empty">No live member.</p>`
      : `<table class="members"><thead><tr><th>member</th><th>client</th><th>host</th><th>pid</th>` +
        `<th>partitions</th><th></th></tr></thead><tbody>${members}</tbody></table>`) +
    `<h3>Offsets</h3><table class="offsets"><thead><tr><th>topic</th><th>partition</th>` +
    `<th>committed offset</th><th>log end offset</th><th>lag</th><th>member</th><th></th></tr></thead>` +
    `<tbody>${offsets}</tbody></table>`;
  return page(`Group ${groupId}`, body, {
    scripts: ["/assets/uPlot.iife.min.js", "/assets/lag.js"],
    styles: ["/assets/uPlot.min.css"],
  });
}

/**
 * A group's lag now, and the samples the console kept, as JSON for the lag chart: `{ time,
 * totalLag, partitions: [{ topic, partition, committedOffset, logEndOffset, lag }], history:
 * [{ time, totalLag }] }` (times in ms since the epoch, history oldest first).
 *
 * @param log the open log directory
 * @param groupId the group
 * @param history the console's lag history (none: an empty `history`)
 * @returns the JSON response
 * @throws {InvalidGroupIdError} for a malformed group id
 *
 * @example The total lag of a group
 * ```ts
 * import assert from "node:assert/strict";
 * import { Consumer, open } from "../../mod.ts";
 * import { groupLag } from "./groups_page.ts";
 * const log = await open(Deno.makeTempDirSync());
 * await (await log.createTopic("events")).append([{ value: "a" }, { value: "b" }]);
 * const consumer = new Consumer(log, { groupId: "billing" });
 * await consumer.commit([{ topic: "events", partition: 0, offset: 0 }]);
 * await consumer.close();
 * assert.equal((await groupLag(log, "billing").json()).totalLag, 2);
 * await log.close();
 * ```
 */
export function groupLag(log: LogDirectoryView, groupId: string, history?: LagHistory): Response {
  const group = describeGroup(log, groupId);
  const samples: LagSample[] = history?.history(groupId) ?? [];
  return Response.json({
    time: Date.now(),
    totalLag: totalLag(group),
    partitions: group.offsets.map((o) => ({
      topic: o.topic,
      partition: o.partition,
      committedOffset: o.committedOffset,
      logEndOffset: o.logEndOffset,
      lag: o.lag,
    })),
    history: samples,
  }, {
    headers: {
      "content-type": "application/json; charset=utf-8",
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    },
  });
}
