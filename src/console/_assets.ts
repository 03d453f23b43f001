/**
 * The console's static assets, served by reel itself from `/assets/` (no build step, no network:
 * the console works offline). The scripts only ever set `textContent`, never HTML.
 *
 * @module
 */
import { readPackageFile } from "../runtime/package_file.ts";

const CSS = `
:root { color-scheme: light dark; font-family: system-ui, sans-serif; }
body { margin: 0 1.5rem 2rem; }
header { display: flex; gap: 2rem; align-items: baseline; border-bottom: 1px solid #8884; }
header h1 { font-size: 1.2rem; } header h1 a { color: inherit; text-decoration: none; }
nav a { margin-right: 1rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; }
th, td { border: 1px solid #8884; padding: .2rem .5rem; text-align: left; vertical-align: top; }
td.offset, td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; max-width: 60rem; }
td.timestamp { white-space: nowrap; } td.key pre { max-width: 16rem; }
pre[data-format="hex"] { color: #a60; } pre[data-format="json"] { color: #26a; }
.null { color: #888; font-style: italic; }
.truncated, .note, .status { color: #888; }
.error { color: #c22; font-weight: bold; }
form { margin: .5rem 0; } form.produce label { display: block; margin: .5rem 0; }
form.produce textarea { width: 40rem; max-width: 100%; }
tr.skipped td { color: #888; font-style: italic; }
section.lag-chart .chart { max-width: 45rem; }
dl { margin: 0; } dt { font-weight: bold; }
`;

const TAIL_JS = `"use strict";
// The live tail page: follows the partition's event stream (Server-Sent Events), adds each
// record as a row (as text: textContent only), keeps the last rows, pauses and resumes.
(() => {
  const root = document.querySelector("[data-tail-events]");
  if (!root) return;
  const tbody = root.querySelector("tbody");
  const status = root.querySelector(".status");
  const button = root.querySelector("button.pause");
  const maxRows = Number(root.dataset.maxRows) || 500;
  let source = null;
  let next = null;

  const bytes = (td, f) => {
    if (f === null) {
      const span = document.createElement("span");
      span.className = "null";
      span.textContent = "null";
      td.append(span);
      return;
    }
    const pre = document.createElement("pre");
    pre.dataset.format = f.format;
    pre.textContent = f.text;
    td.append(pre);
    if (f.truncated) {
      const more = document.createElement("span");
      more.className = "truncated";
      more.textContent = "\u2026 (" + f.size + " bytes)";
      td.append(more);
    }
  };
  const td = (tr, cls) => {
    const cell = document.createElement("td");
    cell.className = cls;
    tr.append(cell);
    return cell;
  };
  const append = (tr) => {
    tbody.append(tr);
    while (tbody.rows.length > maxRows) tbody.deleteRow(0);
    root.dataset.rows = String(tbody.rows.length);
  };
  const addRecord = (r) => {
    const tr = document.createElement("tr");
    tr.dataset.offset = String(r.offset);
    td(tr, "offset").textContent = String(r.offset);
    const time = document.createElement("time");
    time.dateTime = time.textContent = new Date(r.timestamp).toISOString();
    td(tr, "timestamp").append(time);
    bytes(td(tr, "key"), r.key);
    bytes(td(tr, "value"), r.value);
    const headers = td(tr, "headers");
    if (r.headers.length > 0) {
      const dl = document.createElement("dl");
      for (const [k, v] of r.headers) {
        const dt = document.createElement("dt");
        dt.textContent = k;
        const dd = document.createElement("dd");
        bytes(dd, v);
        dl.append(dt, dd);
      }
      headers.append(dl);
    }
    append(tr);
  };
  const connect = () => {
    const url = new URL(root.dataset.tailEvents, location.href);
    if (next !== null) url.searchParams.set("from", String(next));
    source = new EventSource(url);
    source.addEventListener("start", (e) => {
      const d = JSON.parse(e.data);
      if (next === null) next = d.offset;
      root.dataset.state = "live";
      status.textContent = "Following from offset " + d.offset + ".";
    });
    source.addEventListener("record", (e) => {
      const r = JSON.parse(e.data);
      next = r.offset + 1;
      addRecord(r);
    });
    source.addEventListener("skipped", (e) => {
      const d = JSON.parse(e.data);
      next = d.to;
      const tr = document.createElement("tr");
      tr.className = "skipped";
      const cell = td(tr, "note");
      cell.colSpan = 5;
      cell.textContent = "Offsets " + d.from + " to " + (d.to - 1) + " skipped (rate limit).";
      append(tr);
    });
    source.onerror = () => {
      if (source && source.readyState !== EventSource.CLOSED) {
        root.dataset.state = "reconnecting";
        status.textContent = "Reconnecting\u2026";
      }
    };
  };
  button.addEventListener("click", () => {
    if (source) {
      source.close();
      source = null;
      root.dataset.state = "paused";
      button.textContent = "Resume";
      status.textContent = "Paused" + (next === null ? "." : " at offset " + next + ".");
    } else {
      button.textContent = "Pause";
      connect();
    }
  });
  connect();
})();
`;

const LAG_JS = `"use strict";
// The consumer group page's lag chart (uPlot, served by the console from its npm package): the
// console's samples of the group's total lag over the last hour, then the lag this page asks
// for every interval. Numbers only reach the chart; the label is set with textContent.
(() => {
  const root = document.querySelector("[data-lag-url]");
  if (!root) return;
  const chartEl = root.querySelector(".chart");
  const label = root.querySelector(".lag-now");
  const intervalMs = Number(root.dataset.intervalMs) || 5000;
  const KEEP_MS = 3600000;
  let recent = []; // samples this page took, newer than the console's last one
  let chart = null;
  const draw = (d) => {
    const history = d.history || [];
    const now = { time: d.time, totalLag: d.totalLag };
    const last = history.length > 0 ? history[history.length - 1].time : -Infinity;
    recent.push(now);
    recent = recent.filter((s) => s.time > last && s.time > now.time - KEEP_MS);
    const points = history.filter((s) => s.time > now.time - KEEP_MS).concat(recent);
    root.dataset.samples = String(points.length);
    root.dataset.firstSampleTime = String(points[0].time);
    label.textContent = "Total lag now: " + now.totalLag + " (" + points.length + " samples since " +
      new Date(points[0].time).toISOString() + ")";
    if (typeof uPlot !== "function") {
      label.textContent += "; the chart library (uplot) is not installed";
      return;
    }
    const data = [points.map((s) => s.time / 1000), points.map((s) => s.totalLag)];
    if (chart === null) {
      chart = new uPlot({
        width: Math.min(720, Math.max(320, chartEl.clientWidth || 720)),
        height: 200,
        scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(1, max * 1.1)] } },
        series: [{}, { label: "total lag (records)", stroke: "#26a", fill: "rgba(34, 102, 170, 0.1)", width: 2 }],
      }, data, chartEl);
      root.dataset.chart = "uplot";
    } else {
      chart.setData(data);
    }
  };
  const poll = async () => {
    try {
      const res = await fetch(root.dataset.lagUrl, { headers: { accept: "application/json" } });
      if (res.ok) draw(await res.json());
    } catch {
      // the console is gone for now: try again at the next tick
    }
  };
  poll();
  setInterval(poll, intervalMs);
})();
`;

/** A static asset: its body and content type. */
export interface Asset {
  /** The bytes or text served. */
  body: string | Uint8Array;
  /** The `content-type` header. */
  type: string;
}

const OWN: ReadonlyMap<string, Asset> = new Map([
  ["/assets/console.css", { body: CSS, type: "text/css; charset=utf-8" }],
  ["/assets/tail.js", { body: TAIL_JS, type: "text/javascript; charset=utf-8" }],
  ["/assets/lag.js", { body: LAG_JS, type: "text/javascript; charset=utf-8" }],
]);

/**
 * Files served from installed npm packages (read once, on first use): the chart library, uPlot
 * (MIT), as its own release built it. Its licence ships in the package (`node_modules/uplot/LICENSE`).
 */
const PACKAGED: ReadonlyMap<string, { specifier: string; type: string }> = new Map([
  ["/assets/uPlot.iife.min.js", {
    specifier: "uplot/dist/uPlot.iife.min.js",
    type: "text/javascript; charset=utf-8",
  }],
  ["/assets/uPlot.min.css", { specifier: "uplot/dist/uPlot.min.css", type: "text/css; charset=utf-8" }],
]);
const packaged = new Map<string, Asset | null>();

/**
 * The asset at a path: the console's own stylesheet and scripts, and the chart library's files
 * from its npm package.
 *
 * @param path the URL path (`/assets/…`)
 * @returns the asset, or `undefined` for an unknown path or a package that is not installed
 */
export function asset(path: string): Asset | undefined {
  const own = OWN.get(path);
  if (own !== undefined) return own;
  const from = PACKAGED.get(path);
  if (from === undefined) return undefined;
  let found = packaged.get(path);
  if (found === undefined) {
    const body = readPackageFile(from.specifier);
    found = body === undefined ? null : { body, type: from.type };
    packaged.set(path, found);
  }
  return found ?? undefined;
}
