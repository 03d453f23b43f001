// Turns the JSON that bench/bench.ts, bench/micro.ts and the profiles produced on each runtime into
// bench/RESULTS.md (tables, ratios, targets) and bench/throughput.svg (a hand-written chart of
// throughput against value size for reel, the limit and the peers).

/** @typedef {{ recordsPerSec: number, mbPerSec: number, ms: number, records: number }} Rate */

const M = (
  n,
) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : `${n.toFixed(0)}`);
const MB = (n) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
const X = (a, b) => (a > 0 && b > 0 ? `${(a / b).toFixed(a / b >= 10 ? 0 : 2)}×` : "–");
const ms = (
  n,
) => (n === undefined || Number.isNaN(n)
  ? "–"
  : n >= 100
  ? n.toFixed(0)
  : n >= 10
  ? n.toFixed(1)
  : n.toFixed(2));
const MiB = (n) => `${(n / 2 ** 20).toFixed(0)} MiB`;
const sizeName = (b) => (b >= 1024 ? `${b / 1024} KiB` : `${b} B`);

/**
 * @param {string[]} header
 * @param {string[][]} rows
 */
function table(header, rows) {
  const out = [
    `| ${header.join(" | ")} |`,
    `| ${header.map((_h, i) => (i === 0 ? "---" : "---:")).join(" | ")} |`,
  ];
  for (const r of rows) out.push(`| ${r.join(" | ")} |`);
  return out.join("\n");
}

const reelRow = (tp, api, partitions) => tp.reel.find((r) => r.api === api && r.partitions === partitions);
const peerRow = (tp, name) => tp.peers.find((p) => p.name === name);

/** The targets of issue 5, each evaluated on one runtime's results. */
function targets(r) {
  const b = r.bench ?? {};
  const tp100 = b.throughput?.find((t) => t.valueSize === 100);
  const tp1k = b.throughput?.find((t) => t.valueSize === 1024);
  const out = [];
  const verdict = (value, goal, unit, text) => {
    if (value === undefined || Number.isNaN(value)) return "n/a";
    const met = value >= goal;
    const by = met
      ? `${((value / goal - 1) * 100).toFixed(0)}% above`
      : `${((1 - value / goal) * 100).toFixed(0)}% short`;
    return `${met ? "**met**" : "**missed**"}: ${text ?? `${unit(value)} vs ${unit(goal)}`} (${by})`;
  };
  const sqlite = (tp) => peerRow(tp, "node:sqlite");
  const x = (v) => `${v.toFixed(2)}×`;
  // 1. append 100 B, never: topic.append ≥ 2× node:sqlite (OFF); pipeTo ≥ 1 M records/s
  {
    const reel = tp100 && reelRow(tp100, "append", 1)?.write?.recordsPerSec;
    const peer = tp100 && sqlite(tp100)?.write?.recordsPerSec;
    const bun = tp100 && peerRow(tp100, "bun:sqlite")?.write?.recordsPerSec;
    out.push([
      "append 100 B, never: `topic.append` (1000/batch, 1 partition) ≥ 2× node:sqlite (synchronous=OFF)",
      verdict(reel / peer, 2, x, `${M(reel)}/s ÷ ${M(peer)}/s = ${x(reel / peer)}`) +
      (bun ? `; vs bun:sqlite ${x(reel / bun)}` : ""),
    ]);
    const pipe = tp100 && reelRow(tp100, "pipeTo", 1)?.write?.recordsPerSec;
    const pipe8 = tp100 && reelRow(tp100, "pipeTo", 8)?.write?.recordsPerSec;
    out.push([
      "append 100 B, never: `pipeTo(topic.writable())` ≥ 1 M records/s",
      verdict(pipe, 1e6, (v) => `${M(v)}/s`) + (pipe8 ? `; 8 partitions ${M(pipe8)}/s` : ""),
    ]);
  }
  // 2. append 1 KiB, never: ≥ 60% of the plain-write limit in bytes/s
  {
    const reel = tp1k && reelRow(tp1k, "append", 1)?.write?.mbPerSec;
    const pipe = tp1k && reelRow(tp1k, "pipeTo", 1)?.write?.mbPerSec;
    const limit = tp1k?.limit.write.mbPerSec;
    out.push([
      "append 1 KiB, never: ≥ 60% of the writeSync limit (bytes/s)",
      verdict(
        reel / limit,
        0.6,
        (v) => `${(v * 100).toFixed(0)}%`,
        `append ${MB(reel)} MB/s = ${(100 * reel / limit).toFixed(0)}% of ${MB(limit)} MB/s`,
      ) +
      (pipe ? `; pipeTo ${(100 * pipe / limit).toFixed(0)}%` : "") +
      // What Web Streams alone allow pipeTo: the no-op sink's rate, and that with the least a
      // batch writer does (copy + CRC-32C + writeSync) done after it on the same thread.
      (pipe && tp1k?.streamsFloor && tp1k?.checksummedWrite
        ? ` (the streams floor alone, a no-op sink: ${
          (100 * tp1k.streamsFloor.mbPerSec / limit).toFixed(0)
        }%; ` +
          `it and copy + CRC-32C + writeSync one after the other on one thread: ${
            (100 / (limit / tp1k.streamsFloor.mbPerSec + limit / tp1k.checksummedWrite.mbPerSec)).toFixed(0)
          }%)`
        : "") +
      (tp1k?.checksummedWrite
        ? `; copy + CRC-32C + writeSync of the same bytes alone: ${
          (100 * tp1k.checksummedWrite.mbPerSec / limit).toFixed(0)
        }%, so reel is at ${(100 * reel / tp1k.checksummedWrite.mbPerSec).toFixed(0)}% of that`
        : ""),
    ]);
  }
  // 3. consume 100 B: readable ≥ 2 M records/s; readableBatches ≥ node:sqlite scan
  {
    const row = tp100 && reelRow(tp100, "append", 1);
    out.push([
      "consume 100 B from earliest: `topic.readable()` ≥ 2 M records/s (1 partition)",
      verdict(row?.read?.recordsPerSec, 2e6, (v) => `${M(v)}/s`),
    ]);
    const peer = tp100 && sqlite(tp100)?.read?.recordsPerSec;
    const bun = tp100 && peerRow(tp100, "bun:sqlite")?.read?.recordsPerSec;
    const batches = row?.readBatches?.recordsPerSec;
    out.push([
      "consume 100 B: `topic.readableBatches()` ≥ node:sqlite scan",
      verdict(batches / peer, 1, x, `${M(batches)}/s ÷ ${M(peer)}/s = ${x(batches / peer)}`) +
      (bun ? `; vs bun:sqlite ${x(batches / bun)}` : ""),
    ]);
  }
  // 4. durable, 256 producers ≥ 3× node:sqlite FULL
  {
    const d = b.durable;
    const reel = d?.reel.find((p) => p.producers === 256)?.rate.recordsPerSec;
    const peer = d?.peers.find((p) => p.name === "node:sqlite");
    const ref = peer?.runs.find((p) => p.batch === 1000)?.rate.recordsPerSec;
    const same = peer?.runs.find((p) => p.producers === 256)?.rate.recordsPerSec;
    out.push([
      "durable append, 256 producers × 10 records: ≥ 3× node:sqlite synchronous=FULL (its best: 1000/transaction)",
      verdict(reel / ref, 3, x, `${M(reel)}/s ÷ ${M(ref)}/s = ${x(reel / ref)}`) +
      (same ? `; vs node:sqlite under the same 256 × 10 load ${x(reel / same)}` : ""),
    ]);
  }
  // issue 16: durable 1 × 10 ≥ 90% of the write + fdatasync loop and ≥ the best SQLite
  {
    const d = b.durable;
    const one = (runs) => runs?.find((p) => p.producers === 1 && p.batch === 10)?.rate.recordsPerSec;
    const loop = one(d?.limit);
    const sqlite = Math.max(
      ...["node:sqlite", "bun:sqlite"].map((n) => one(d?.peers.find((p) => p.name === n)?.runs) ?? 0),
    );
    const says = (label, v) =>
      v === undefined || !loop
        ? `${label}: n/a`
        : `${v >= 0.9 * loop && v >= sqlite ? "**met**" : "**missed**"} ${label}: ${M(v)}/s = ${
          x(v / loop)
        } of the loop (${M(loop)}/s), ${x(v / sqlite)} of the best SQLite (${M(sqlite)}/s)`;
    out.push([
      "durable append, 1 producer × 10 records (issue 16): ≥ 0.9× the write + fdatasync loop and ≥ the best SQLite",
      `${says("default", one(d?.reel))}; ${says("`preallocate: true`", one(d?.reelPreallocate))}`,
    ]);
  }
  // 5. latency at 10 k/s: p99 ≤ 5 ms
  {
    const l = b.latency?.find((l) => l.targetRate === 10000 && l.fsync === "never");
    const p99 = l?.latency.p99;
    out.push([
      "append → follow reader at 10 k records/s: p99 ≤ 5 ms",
      p99 === undefined
        ? "n/a"
        : `${p99 <= 5 ? "**met**" : "**missed**"}: p99 ${ms(p99)} ms (${
          p99 <= 5 ? `${(5 / p99).toFixed(0)}× under` : `${((p99 / 5 - 1) * 100).toFixed(0)}% over`
        })`,
    ]);
  }
  return out;
}

/**
 * Appends the durable-append table of `get(runtime)` (the plain run, or the journaled ext4 one) to `L`.
 * @param {string[]} L
 * @param {any[]} rts
 * @param {string[]} names
 * @param {(r: any) => any} get
 * @param {boolean} [explain] whether to say what the columns mean
 */
function durableTable(L, rts, names, get, explain = true) {
  const d0 = rts.map(get).find((d) => d);
  if (d0) {
    if (explain) {
      L.push(
        `${d0.valueSize}-byte values; N producers, each appending a batch of records and awaiting the acknowledgement, for ${d0.seconds} s ` +
          `(best of ${d0.rounds} interleaved rounds). *limit*: \`writeSync\` of one batch's value bytes + \`fdatasync\`, in a loop (one fsync per batch, nothing grouped). ` +
          "reel groups the fsyncs of concurrent appends. Peers: node:sqlite / bun:sqlite synchronous=FULL (a synchronous API: concurrent producers commit one after another), " +
          "classic-level `sync: true`, lmdb synced commits, Deno KV. Ratio: for reel, reel ÷ limit (same batch); for a peer, reel ÷ the peer under the same load.",
        "",
      );
    }
    const dh = ["what", "producers × batch"];
    for (const n of names) dh.push(`${n} records/s`, `${n} ack p50 / p99 ms`, `${n} ratio`);
    const rows = [];
    const line = (label, load, pick, ratio) => {
      const row = [label, load];
      for (const r of rts) {
        const d = get(r);
        const v = d && pick(d);
        row.push(
          v ? M(v.rate.recordsPerSec) : "–",
          v?.ack ? `${ms(v.ack.p50)} / ${ms(v.ack.p99)}` : "–",
          v ? ratio(d, v) : "–",
        );
      }
      return row;
    };
    const limitFor = (d, batch) => d.limit.find((l) => l.batch === batch);
    for (const l of d0.limit) {
      rows.push(line("limit: write + fdatasync", `1 × ${l.batch}`, (d) => limitFor(d, l.batch), () => "1"));
    }
    for (
      const [label, pickReel] of [
        ["reel topic.append", (d) => d.reel],
        ["reel topic.append, `preallocate: true`", (d) => d.reelPreallocate],
      ]
    ) {
      if (!rts.some((r) => get(r) && pickReel(get(r))?.length)) continue;
      for (const [n, bsz] of d0.loads) {
        rows.push(
          line(
            label,
            `${n} × ${bsz}`,
            (d) => pickReel(d)?.find((p) => p.producers === n && p.batch === bsz),
            (d, v) => X(v.rate.recordsPerSec, limitFor(d, bsz)?.rate.recordsPerSec),
          ),
        );
      }
    }
    const peerNames = [...new Set(rts.flatMap((r) => get(r)?.peers.map((p) => p.name) ?? []))];
    for (const name of peerNames) {
      for (const [n, bsz] of d0.loads) {
        rows.push(
          line(
            name,
            `${n} × ${bsz}`,
            (d) =>
              d.peers.find((p) => p.name === name)?.runs.find((p) => p.producers === n && p.batch === bsz),
            (d, v) =>
              X(
                d.reel.find((p) => p.producers === n && p.batch === bsz)?.rate.recordsPerSec,
                v.rate.recordsPerSec,
              ),
          ),
        );
      }
    }
    L.push(table(dh, rows), "");
    for (const r of rts) {
      for (const p of get(r)?.peers ?? []) {
        if (p.error) L.push(`- ${r.name}, ${p.name}: failed: ${p.error}`);
      }
    }
  }
}

/**
 * @param {{ when: string, mode: string, machine: Record<string, string>, runtimes: any[], seconds: number }} all
 */
export function markdown(all) {
  const rts = all.runtimes;
  const names = rts.map((r) => r.name);
  const L = [];
  L.push("# reel benchmarks", "");
  L.push(
    `Written by \`npm run bench${all.mode === "full" ? " -- --full" : ""}\` (${all.mode} run, ${
      all.seconds.toFixed(0)
    } s) on ${all.when}. ` +
      "Every figure in a table comes from the same run, reel next to the disk's limit and the peers on the same runtime, " +
      "over the same records (values from one pseudo-random pool, no keys). On a 2-core, noisy machine read the ratios, not the absolute figures.",
    "",
  );
  L.push("## Machine", "");
  L.push(table(["", ""], Object.entries(all.machine).map(([k, v]) => [k, v])));
  L.push("");
  L.push(table(
    ["runtime", "version", "macro run", "peers n/a"],
    rts.map((r) => [
      r.name,
      r.version ?? "–",
      r.bench ? `${r.bench.seconds.toFixed(0)} s` : "failed",
      (r.bench?.unavailable ?? []).map((u) => `${u.name} (${u.reason})`).join("; ") || "none",
    ]),
  ));
  for (const r of rts) for (const e of r.errors ?? []) L.push("", `**${r.name}: ${e}**`);
  L.push("");

  L.push("## Targets (issue 5)", "");
  const tRows = rts.map((r) => targets(r));
  L.push(
    table(
      ["target", ...names],
      (tRows[0] ?? []).map((row, i) => [row[0], ...tRows.map((t) => t[i]?.[1] ?? "n/a")]),
    ),
  );
  L.push("");
  // Ceilings that this run's own figures put on the targets.
  const ceilings = rts.map((r) => {
    const crc = r.micro?.micro.find((m) => /^crc32c, \d+ B \(one batch of 1000 /.test(m.name))?.mbPerSec;
    const crcMiB = r.micro?.micro.find((m) => m.name.startsWith("crc32c, 1 MiB"));
    const crcSmall = r.micro?.micro.find((m) => /^crc32c, \d+ B \(one batch of 10 /.test(m.name));
    const tp1k = r.bench?.throughput?.find((t) => t.valueSize === 1024);
    const tp100 = r.bench?.throughput?.find((t) => t.valueSize === 100);
    const parts = [];
    if (crc && tp1k) {
      parts.push(
        `CRC-32C (\`crc32c()\` on a 110 kB batch) runs at ${MB(crc)} MB/s, ${
          (100 * crc / tp1k.limit.write.mbPerSec).toFixed(0)
        }% of the 1 KiB write limit (every appended byte is checksummed once, and copied once into its batch)` +
          (crcMiB
            ? `; on 1 MiB ${MB(crcMiB.mbPerSec)} MB/s (${crcMiB.name.match(/\((.*)\)/)?.[1] ?? "?"}; ${
              (crcMiB.mbPerSec / tp1k.limit.write.mbPerSec).toFixed(1)
            }× the write limit)`
            : "") +
          (crcSmall
            ? `; on a ${
              crcSmall.name.match(/^crc32c, (\d+) B/)?.[1]
            } B batch of 10 × 100 B (a durable 1 × 10 append's) ${
              MB(crcSmall.mbPerSec)
            } MB/s, a call included`
            : ""),
      );
    }
    if (tp100?.streamsFloor) {
      parts.push(
        `Web Streams alone (pipeTo into a no-op sink) move ${
          M(tp100.streamsFloor.recordsPerSec)
        } records/s of 100 B`,
      );
    }
    return parts.length ? `- ${r.name}: ${parts.join("; ")}.` : "";
  }).filter(Boolean);
  if (ceilings.length) L.push("Ceilings measured in the same run:", "", ...ceilings, "");

  // ---- throughput
  const sizes = [...new Set(rts.flatMap((r) => r.bench?.throughput?.map((t) => t.valueSize) ?? []))];
  L.push('## 1. Append, `fsync: "never"`', "");
  L.push(
    "Records/s and MB/s of value bytes (10⁶ B). *limit*: `writeSync` of the same value bytes in the same chunks (one chunk per batch of " +
      "1000 records, split at 1 MiB as reel's maxMessageBytes splits it) to a fresh file. *copy + CRC-32C + writeSync*: each chunk's values copied one by one into a reused buffer, checksummed with CRC-32C and written (the least a RecordBatch writer does). *streams floor*: the same source piped into a no-op `WritableStream` (what Web Streams alone cost). " +
      "reel: `pipeTo(topic.writable())` (default batchSize 128 KiB, lingerMs 5), the arrays of 1000 piped to `topic.writableBatches()`, and `await topic.append(batch of 1000)`. " +
      "Ratio column: for reel, reel ÷ limit; for a peer, reel `append` (1 partition) ÷ the peer.",
    "",
  );
  const header = ["value", "what"];
  for (const n of names) header.push(`${n} records/s`, `${n} MB/s`, `${n} ratio`);
  const appendRows = [];
  const consumeRows = [];
  for (const size of sizes) {
    const per = rts.map((r) => r.bench?.throughput?.find((t) => t.valueSize === size));
    const line = (label, pick, ratio) => {
      const row = [sizeName(size), label];
      per.forEach((tp) => {
        const rate = tp && pick(tp);
        row.push(
          rate ? M(rate.recordsPerSec) : "–",
          rate ? MB(rate.mbPerSec) : "–",
          rate && tp ? ratio(tp, rate) : "–",
        );
      });
      return row;
    };
    appendRows.push(line("limit: writeSync", (tp) => tp.limit.write, () => "1"));
    appendRows.push(
      line(
        "copy + CRC-32C + writeSync",
        (tp) => tp.checksummedWrite,
        (tp, r) => X(r.recordsPerSec, tp.limit.write.recordsPerSec),
      ),
    );
    appendRows.push(
      line(
        "streams floor (no-op sink)",
        (tp) => tp.streamsFloor,
        (tp, r) => X(r.recordsPerSec, tp.limit.write.recordsPerSec),
      ),
    );
    for (const p of [1, 8]) {
      for (const api of ["pipeTo", "pipeBatches", "append"]) {
        const what = api === "pipeBatches" ? "pipeTo(writableBatches())" : api;
        appendRows.push(
          line(
            `reel ${what}, ${p} partition${p > 1 ? "s" : ""}`,
            (tp) => reelRow(tp, api, p)?.write,
            (tp, r) => X(r.recordsPerSec, tp.limit.write.recordsPerSec),
          ),
        );
      }
    }
    const peerNames = [...new Set(per.flatMap((tp) => tp?.peers.map((p) => p.name) ?? []))];
    for (const name of peerNames) {
      appendRows.push(
        line(
          name,
          (tp) => peerRow(tp, name)?.write,
          (tp, r) => X(reelRow(tp, "append", 1).write.recordsPerSec, r.recordsPerSec),
        ),
      );
    }
    consumeRows.push(line("limit: readSync", (tp) => tp.limit.read, () => "1"));
    for (const p of [1, 8]) {
      consumeRows.push(
        line(
          `reel readable(), ${p} partition${p > 1 ? "s" : ""}`,
          (tp) => reelRow(tp, "append", p)?.read,
          (tp, r) => X(r.recordsPerSec, tp.limit.read.recordsPerSec),
        ),
      );
      consumeRows.push(
        line(
          `reel readableBatches(), ${p} partition${p > 1 ? "s" : ""}`,
          (tp) => reelRow(tp, "append", p)?.readBatches,
          (tp, r) => X(r.recordsPerSec, tp.limit.read.recordsPerSec),
        ),
      );
    }
    for (const name of peerNames) {
      consumeRows.push(
        line(
          `${name} scan`,
          (tp) => peerRow(tp, name)?.read,
          (tp, r) => X(reelRow(tp, "append", 1).readBatches.recordsPerSec, r.recordsPerSec),
        ),
      );
    }
  }
  L.push(table(header, appendRows), "");
  const settings = new Map();
  for (const r of rts) {
    for (const tp of r.bench?.throughput ?? []) {
      for (const p of tp.peers) if (p.settings) settings.set(p.name, p.settings);
    }
  }
  for (const r of rts) {
    for (const tp of r.bench?.throughput ?? []) {
      for (const p of tp.peers) {
        if (p.error) L.push(`- ${r.name}, ${p.name}, ${sizeName(tp.valueSize)}: failed: ${p.error}`);
      }
    }
  }
  L.push("Peers: " + [...settings].map(([k, v]) => `**${k}**: ${v}`).join("; ") + ".", "");
  const disk = rts.map((r) => {
    const tp = r.bench?.throughput?.find((t) => t.valueSize === 100);
    const row = tp && reelRow(tp, "append", 1);
    return row ? `${r.name} ${(row.diskBytes / tp.records).toFixed(1)} B on disk per 100 B record` : "";
  }).filter(Boolean);
  if (disk.length) L.push(`Record format overhead: ${disk.join(", ")} (RecordBatch v2 of 1000 records).`, "");

  L.push("## 2. Consume from earliest", "");
  L.push(
    "Every record read and its value touched. *limit*: `readSync` of the limit file in the same chunks into one reused buffer. " +
      "The page cache holds everything (same for all). Ratio: for reel, reel ÷ limit; for a peer, reel `readableBatches()` (1 partition) ÷ the peer's scan.",
    "",
  );
  L.push(table(header, consumeRows), "");

  // ---- durable
  L.push('## 3. Durable append, `fsync: "always"`', "");
  durableTable(L, rts, names, (r) => r.bench?.durable);
  L.push("### On a journaled ext4", "");
  if (rts.some((r) => r.journaled?.durable)) {
    L.push(
      `The same cases, run by \`bench/run.mjs\` on ${rts.find((r) => r.journaled)?.journaled.where}: ` +
        "an fdatasync there also commits the journal when it changes the file's size (a growing segment), as on most users' disks.",
      "",
    );
    durableTable(L, rts, names, (r) => r.journaled?.durable, false);
  } else {
    L.push(
      `Not run: ${rts.find((r) => r.journaled?.error)?.journaled.error ?? "no journaled ext4 here"}.`,
      "",
    );
  }

  // ---- latency
  L.push("## 4. Latency", "");
  L.push(
    'Append → delivery to a follow reader (`topic.readable({ from: "latest", follow: true })`) in the same process: a producer calls ' +
      "`topic.append` every ~1 ms with the records due at the fixed rate (100-byte values); latency = delivery time − the time of the append call. ms.",
    "",
  );
  const lh = ["rate", "fsync"];
  for (const n of names) lh.push(`${n} p50`, `${n} p99`, `${n} p99.9`, `${n} max`);
  const lrows = [];
  for (const l0 of rts.find((r) => r.bench?.latency)?.bench.latency ?? []) {
    const row = [`${M(l0.targetRate)}/s`, l0.fsync];
    for (const r of rts) {
      const l = r.bench?.latency?.find((x) => x.targetRate === l0.targetRate && x.fsync === l0.fsync);
      row.push(
        ...(l
          ? [ms(l.latency.p50), ms(l.latency.p99), ms(l.latency.p999), ms(l.latency.max)]
          : ["–", "–", "–", "–"]),
      );
    }
    lrows.push(row);
  }
  L.push(table(lh, lrows), "");

  const s0 = rts.find((r) => r.bench?.seek)?.bench.seek;
  if (s0) {
    L.push(
      `Seek in one partition of ${
        M(s0.records)
      } records of ${s0.valueSize} B (timestamps 1 ms apart), ${s0.queries} random targets: ` +
        "time from creating the stream to holding the first record (then cancelled), ms. Open: `open(dir)` of that log after `log.close()` (clean) " +
        "and after `topic.logs[0].abandon()` (unclean: the active segment is validated batch by batch and its indexes rebuilt).",
      "",
    );
    const sh = ["", ...names.flatMap((n) => [`${n} p50`, `${n} p99`])];
    const srow = (label, pick) => [
      label,
      ...rts.flatMap((r) => {
        const p = r.bench?.seek && pick(r.bench.seek);
        return p ? [ms(p.p50), ms(p.p99)] : ["–", "–"];
      }),
    ];
    L.push(
      table(sh, [
        srow("`readable({ from: offset })` (default maxBytes 1 MiB)", (s) => s.byOffset),
        srow("`readable({ from: offset, maxBytes: 16384 })`", (s) => s.byOffsetSmallFetch),
        srow("`readable({ from: { timestamp } })`", (s) => s.byTimestamp),
        srow("`topic.offsetsForTimes(ms)`", (s) => s.offsetsForTimes),
      ]),
      "",
    );
    L.push(
      table(["", ...names], [
        [
          "partition",
          ...rts.map((r) =>
            r.bench?.seek ? `${MiB(r.bench.seek.diskBytes)}, ${r.bench.seek.segments} segment(s)` : "–"
          ),
        ],
        [
          "build (topic.append, 1000/batch)",
          ...rts.map((r) => r.bench?.seek ? `${M(r.bench.seek.build.recordsPerSec)}/s` : "–"),
        ],
        ["open after a clean close, ms", ...rts.map((r) => r.bench?.seek ? ms(r.bench.seek.openClean) : "–")],
        [
          "open after an unclean shutdown, ms",
          ...rts.map((r) => {
            const x = r.bench?.seek;
            if (!x) return "–";
            const rep = x.uncleanReport ?? {};
            return ms(x.openUnclean) +
              (rep.clean || !rep.segmentsRecovered
                ? " (**nothing was recovered**: not a recovery time)"
                : ` (${rep.segmentsRecovered} segment(s) validated)`);
          }),
        ],
        [
          "unclean open: active segment validated, and the rate",
          ...rts.map((r) => {
            const x = r.bench?.seek;
            if (!x) return "–";
            const bytes = x.activeSegmentBytes ?? x.diskBytes;
            return `${MiB(bytes)} at ${MB(bytes / x.openUnclean / 1e3)} MB/s`;
          }),
        ],
      ]),
      "",
    );
  }

  // ---- memory
  L.push("## 5. Memory", "");
  L.push(
    "Peak RSS (`process.memoryUsage.rss()`, sampled every 10 ms and every 256 records) while streaming N bytes of 1 KiB records " +
      "through `pipeTo(topic.writable())` (RSS before, peak writing: the writing process), then `for await` over `topic.readable()` " +
      "from the earliest offset in a reader process of its own, as a consumer reads (reader RSS before, peak reading: the issue's measure), " +
      "and again in the writing process, whose heap the writes grew (peak reading in the writer). Bounded means: the peak does not grow with N.",
    "",
  );
  const mh = [
    "bytes streamed",
    ...names.flatMap((
      n,
    ) => [
      `${n} RSS before`,
      `${n} peak writing`,
      `${n} reader RSS before`,
      `${n} peak reading`,
      `${n} peak reading in the writer`,
      `${n} write / read MB/s`,
    ]),
  ];
  const m0 = rts.find((r) => r.memory?.memory)?.memory.memory ?? [];
  L.push(
    table(
      mh,
      m0.map((m, i) => [
        `${(m.bytes / 1e6).toFixed(0)} MB`,
        ...rts.flatMap((r) => {
          const x = r.memory?.memory?.[i];
          return x
            ? [
              MiB(x.baselineRss),
              MiB(x.peakWriteRss),
              x.readerBaselineRss === undefined ? "–" : MiB(x.readerBaselineRss),
              MiB(x.peakReadRss),
              x.peakReadRssInWriter === undefined ? "–" : MiB(x.peakReadRssInWriter),
              `${MB(x.write.mbPerSec)} / ${MB(x.read.mbPerSec)}`,
            ]
            : ["–", "–", "–", "–", "–", "–"];
        }),
      ]),
    ),
    "",
  );

  // ---- micro
  L.push("## 6. Micro-benchmarks (mitata)", "");
  const mic = rts.find((r) => r.micro)?.micro.micro ?? [];
  L.push(
    table(
      ["function", ...names.flatMap((n) => [`${n} per call`, `${n} MB/s`])],
      mic.map((m0) => [
        m0.name,
        ...rts.flatMap((r) => {
          const m = r.micro?.micro.find((x) => x.name === m0.name);
          if (!m?.avgNs) return ["–", "–"];
          const t = m.avgNs >= 1e6
            ? `${(m.avgNs / 1e6).toFixed(2)} ms`
            : m.avgNs >= 1e3
            ? `${(m.avgNs / 1e3).toFixed(1)} µs`
            : `${m.avgNs.toFixed(1)} ns`;
          return [t, MB(m.mbPerSec)];
        }),
      ]),
    ),
    "",
  );

  // ---- profiles
  if (rts.some((r) => r.profiles)) {
    L.push("## 7. Where the time goes (CPU profiles)", "");
    L.push(
      "`deno run --cpu-prof` / `bun --cpu-prof` of `bench/profile.ts`: `write` = `pipeTo(topic.writable())` of 100-byte records, " +
        "`read` = `for await` over `topic.readable()`, three rounds each. Self time per function (file:line of the function), and per file.",
      "",
    );
    for (const r of rts) {
      for (const [path, p] of Object.entries(r.profiles ?? {})) {
        if (!p) continue;
        L.push(`**${r.name}, ${path}** (${p.totalMs.toFixed(0)} ms sampled)`, "");
        L.push(
          table(
            ["self %", "function", "where"],
            p.functions.slice(0, 15).map((
              f,
            ) => [f.percent.toFixed(1), `\`${f.name}\``, f.location || "(runtime)"]),
          ),
        );
        L.push(
          "",
          "By file: " + p.files.slice(0, 8).map((f) => `${f.file} ${f.percent.toFixed(1)}%`).join(", ") + ".",
          "",
        );
        const lines = (p.lines ?? []).filter((l) => l.location.startsWith("src/")).slice(0, 10);
        if (lines.length) {
          L.push(
            "Hottest lines of src/ (Bun reports source lines): " + lines.map((l) =>
              `${l.location} (\`${l.name}\`) ${l.percent.toFixed(1)}%`
            ).join(", ") + ".",
            "",
          );
        }
      }
    }
  }
  return L.join("\n") + "\n";
}

// ---------------------------------------------------------------------------------------------
// The chart

const COLORS = {
  "limit": "#222222",
  "reel append": "#1f5fd6",
  "reel pipeTo": "#1f5fd6",
  "reel readableBatches": "#1f5fd6",
  "reel readable": "#1f5fd6",
  "node:sqlite": "#e07b00",
  "bun:sqlite": "#a0522d",
  "classic-level": "#2a9d3a",
  "lmdb": "#8e44ad",
  "Deno KV": "#d62728",
};
const DASH = { "limit": "6 4", "reel pipeTo": "3 3", "reel readable": "3 3" };

const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;");

/**
 * Throughput (MB/s of values, log scale) against value size (log scale): append on the top row,
 * consume on the bottom, one column per runtime.
 */
export function svg(all) {
  const rts = all.runtimes.filter((r) => r.bench?.throughput?.length);
  const panelW = 460, panelH = 300, top = 60, left = 70, gapX = 100, gapY = 90;
  const W = left + 2 * panelW + gapX + 30;
  const H = top + 2 * panelH + gapY + 120;
  const out = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(
    `<text x="${
      W / 2
    }" y="28" text-anchor="middle" font-size="16" font-weight="bold">reel vs the disk's limit and the peers: MB/s of values against value size (${
      esc(all.mode)
    } run, ${esc(all.when.slice(0, 10))})</text>`,
  );
  const series = (r, kind) => {
    const s = new Map();
    const put = (name, size, rate) => {
      if (!rate) return;
      if (!s.has(name)) s.set(name, []);
      s.get(name).push([size, rate.mbPerSec]);
    };
    for (const tp of r.bench.throughput) {
      if (kind === "append") {
        put("limit", tp.valueSize, tp.limit.write);
        put("reel append", tp.valueSize, reelRow(tp, "append", 1)?.write);
        put("reel pipeTo", tp.valueSize, reelRow(tp, "pipeTo", 1)?.write);
        for (const p of tp.peers) put(p.name, tp.valueSize, p.write);
      } else {
        put("limit", tp.valueSize, tp.limit.read);
        put("reel readableBatches", tp.valueSize, reelRow(tp, "append", 1)?.readBatches);
        put("reel readable", tp.valueSize, reelRow(tp, "append", 1)?.read);
        for (const p of tp.peers) put(p.name, tp.valueSize, p.read);
      }
    }
    return s;
  };
  const all_ = rts.flatMap((r) => ["append", "consume"].flatMap((k) => [...series(r, k).values()].flat()));
  const sizes = [...new Set(all_.map((p) => p[0]))].sort((a, b) => a - b);
  const ys = all_.map((p) => p[1]).filter((v) => v > 0);
  const yMin = 10 ** Math.floor(Math.log10(Math.min(...ys))),
    yMax = 10 ** Math.ceil(Math.log10(Math.max(...ys)));
  const xMin = Math.log2(sizes[0]) - 0.3, xMax = Math.log2(sizes[sizes.length - 1]) + 0.3;
  const legend = new Set();
  rts.forEach((r, col) => {
    ["append", "consume"].forEach((kind, row) => {
      const x0 = left + col * (panelW + gapX), y0 = top + row * (panelH + gapY);
      const px = (size) => x0 + ((Math.log2(size) - xMin) / (xMax - xMin)) * panelW;
      const py = (v) =>
        y0 + panelH - ((Math.log10(v) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * panelH;
      out.push(
        `<text x="${x0 + panelW / 2}" y="${y0 - 10}" text-anchor="middle" font-size="13" font-weight="bold">${
          esc(r.name)
        }: ${kind === "append" ? "append, fsync never (1 partition)" : "consume from earliest"}</text>`,
      );
      out.push(`<rect x="${x0}" y="${y0}" width="${panelW}" height="${panelH}" fill="none" stroke="#999"/>`);
      for (let e = Math.log10(yMin); e <= Math.log10(yMax); e++) {
        const y = py(10 ** e);
        out.push(`<line x1="${x0}" y1="${y}" x2="${x0 + panelW}" y2="${y}" stroke="#e4e4e4"/>`);
        out.push(
          `<text x="${x0 - 6}" y="${y + 4}" text-anchor="end">${
            10 ** e >= 1 ? 10 ** e : (10 ** e).toFixed(-e)
          }</text>`,
        );
      }
      for (const size of sizes) {
        const x = px(size);
        out.push(`<line x1="${x}" y1="${y0}" x2="${x}" y2="${y0 + panelH}" stroke="#f0f0f0"/>`);
        out.push(`<text x="${x}" y="${y0 + panelH + 16}" text-anchor="middle">${sizeName(size)}</text>`);
      }
      out.push(
        `<text x="${x0 + panelW / 2}" y="${
          y0 + panelH + 34
        }" text-anchor="middle" fill="#555">value size</text>`,
      );
      out.push(
        `<text x="${x0 - 50}" y="${y0 + panelH / 2}" text-anchor="middle" fill="#555" transform="rotate(-90 ${
          x0 - 50
        } ${y0 + panelH / 2})">MB/s (log)</text>`,
      );
      for (const [name, pts] of series(r, kind)) {
        legend.add(name);
        const color = COLORS[name] ?? "#777";
        const width = name.startsWith("reel") ? 3 : name === "limit" ? 2 : 1.5;
        const d = pts.sort((a, b) => a[0] - b[0]).map(([s, v], i) =>
          `${i ? "L" : "M"}${px(s).toFixed(1)},${py(v).toFixed(1)}`
        ).join(" ");
        out.push(
          `<path d="${d}" fill="none" stroke="${color}" stroke-width="${width}"${
            DASH[name] ? ` stroke-dasharray="${DASH[name]}"` : ""
          }/>`,
        );
        for (const [s, v] of pts) {
          out.push(
            `<circle cx="${px(s).toFixed(1)}" cy="${py(v).toFixed(1)}" r="3" fill="${color}"><title>${
              esc(name)
            } ${sizeName(s)}: ${MB(v)} MB/s</title></circle>`,
          );
        }
      }
    });
  });
  // legend
  let lx = left, ly = top + 2 * panelH + gapY + 50;
  for (const name of legend) {
    const color = COLORS[name] ?? "#777";
    out.push(
      `<line x1="${lx}" y1="${ly}" x2="${lx + 28}" y2="${ly}" stroke="${color}" stroke-width="${
        name.startsWith("reel") ? 3 : 2
      }"${DASH[name] ? ` stroke-dasharray="${DASH[name]}"` : ""}/>`,
    );
    out.push(`<text x="${lx + 34}" y="${ly + 4}">${esc(name)}</text>`);
    lx += 44 + name.length * 7;
    if (lx > W - 150) {
      lx = left;
      ly += 22;
    }
  }
  out.push(
    `<text x="${left}" y="${
      H - 12
    }" fill="#555">limit = writeSync / readSync of the same value bytes in the same chunks; peers on the same runtime over the same records. Source: bench/RESULTS.md.</text>`,
  );
  out.push("</svg>");
  return out.join("\n") + "\n";
}
