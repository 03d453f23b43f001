// Sums a V8 / JavaScriptCore `.cpuprofile` (the Chrome DevTools format both `deno --cpu-prof` and
// `bun --cpu-prof` write) into self time per function and per file.
//
// A profile is a tree of nodes ({ id, callFrame: { functionName, url, lineNumber }, children }),
// plus `samples` (the node on top of the stack at each tick) and `timeDeltas` (µs between ticks).
// A function's self time is the time of the ticks whose top node is that function.

import { readFileSync } from "node:fs";

/**
 * @param {string} path the .cpuprofile file
 * @param {string} root the repository root, stripped from file URLs
 * @param {boolean} [withLines] sum positionTicks per source line too (Bun's lines are the source's;
 *   Deno's are those of the JavaScript it emitted from the TypeScript, so they are left out there)
 * @returns {{ totalMs: number, functions: {name: string, location: string, selfMs: number, percent: number}[], files: {file: string, selfMs: number, percent: number}[], lines: {location: string, name: string, percent: number}[] }}
 */
export function summarizeProfile(path, root, withLines = false) {
  const profile = JSON.parse(readFileSync(path, "utf8"));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let total = 0;
  for (let i = 0; i < samples.length; i++) {
    // timeDeltas[i] is the time before sample i; the time a sample stands for is the next delta.
    const dt = Math.max(0, deltas[i + 1] ?? deltas[i] ?? 0);
    const id = samples[i];
    self.set(id, (self.get(id) ?? 0) + dt);
    total += dt;
  }
  const functions = new Map();
  const files = new Map();
  for (const [id, us] of self) {
    const frame = byId.get(id)?.callFrame ?? { functionName: "?", url: "", lineNumber: -1 };
    const name = frame.functionName || "(anonymous)";
    const file = shortUrl(frame.url, root);
    const location = file ? `${file}:${frame.lineNumber + 1}` : "";
    const key = `${name}\u0000${location}`;
    const f = functions.get(key) ?? { name, location, selfMs: 0 };
    f.selfMs += us / 1000;
    functions.set(key, f);
    const fileKey = file || (name.startsWith("(") ? name : "(native / runtime)");
    files.set(fileKey, (files.get(fileKey) ?? 0) + us / 1000);
  }
  // Line-level self time, from each node's positionTicks (ticks on each source line).
  const lines = new Map();
  for (const node of profile.nodes) {
    const file = shortUrl(node.callFrame?.url ?? "", root);
    if (!withLines || !file || !node.positionTicks) continue;
    for (const { line, ticks } of node.positionTicks) {
      const key = `${file}:${line}`;
      const l = lines.get(key) ??
        { location: key, name: node.callFrame.functionName || "(anonymous)", ticks: 0 };
      l.ticks += ticks;
      lines.set(key, l);
    }
  }
  const totalMs = total / 1000;
  return {
    totalMs,
    functions: [...functions.values()]
      .sort((a, b) => b.selfMs - a.selfMs)
      .map((f) => ({ ...f, percent: (100 * f.selfMs) / totalMs })),
    files: [...files]
      .map(([file, selfMs]) => ({ file, selfMs, percent: (100 * selfMs) / totalMs }))
      .sort((a, b) => b.selfMs - a.selfMs),
    lines: [...lines.values()]
      .sort((a, b) => b.ticks - a.ticks)
      .map((l) => ({
        location: l.location,
        name: l.name,
        percent: (100 * l.ticks) / Math.max(1, samples.length),
      })),
  };
}

/** `file:///work/main/src/x.ts` → `src/x.ts`; `ext:deno_web/…` and `node:…` stay as they are. */
function shortUrl(url, root) {
  if (!url) return "";
  let u = url.replace(/^file:\/\//, "");
  if (u.startsWith(root + "/")) u = u.slice(root.length + 1);
  return u;
}
