/**
 * The console's static assets, served by reel itself from `/assets/` (no build step, no network:
 * the console works offline). The scripts only ever set `textContent`, never HTML.
 *
 * @module
 */

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
svg.lag { border: 1px solid #8884; } svg.lag polyline { fill: none; stroke: #26a; stroke-width: 2; }
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
// The consumer group page's lag chart: polls the group's lag (JSON) and draws the total lag
// over time as an SVG polyline (attributes only: no HTML is built from data).
(() => {
  const root = document.querySelector("[data-lag-url]");
  if (!root) return;
  const svg = root.querySelector("svg");
  const line = svg.querySelector("polyline");
  const label = root.querySelector(".lag-now");
  const samples = [];
  const W = 400, H = 100, KEEP = 120;
  const draw = () => {
    const max = Math.max(1, ...samples.map((s) => s.lag));
    const t0 = samples[0].t, t1 = Math.max(t0 + 1, samples[samples.length - 1].t);
    const y = (s) => (H - s.lag / max * (H - 4) - 2).toFixed(1);
    // One sample: a level line across; then each sample at its time.
    line.setAttribute("points", samples.length === 1
      ? "0," + y(samples[0]) + " " + W + "," + y(samples[0])
      : samples.map((s) => ((s.t - t0) / (t1 - t0) * W).toFixed(1) + "," + y(s)).join(" "));
    label.textContent = "Total lag now: " + samples[samples.length - 1].lag + " (max shown " + max + ")";
    root.dataset.samples = String(samples.length);
  };
  const poll = async () => {
    try {
      const res = await fetch(root.dataset.lagUrl, { headers: { accept: "application/json" } });
      if (res.ok) {
        const d = await res.json();
        samples.push({ t: d.time, lag: d.totalLag });
        if (samples.length > KEEP) samples.shift();
        draw();
      }
    } catch {
      // the console is gone for now: try again at the next tick
    }
  };
  poll();
  setInterval(poll, Number(root.dataset.intervalMs) || 2000);
})();
`;

/** The assets by path: body and content type. */
export const ASSETS: ReadonlyMap<string, { body: string; type: string }> = new Map([
  ["/assets/console.css", { body: CSS, type: "text/css; charset=utf-8" }],
  ["/assets/tail.js", { body: TAIL_JS, type: "text/javascript; charset=utf-8" }],
  ["/assets/lag.js", { body: LAG_JS, type: "text/javascript; charset=utf-8" }],
]);
