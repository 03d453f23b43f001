// The child process of crash_test.ts and disk_full_test.ts. It appends records to a topic with
// fsync "always" and prints one line per acknowledged record, as soon as its append resolves:
//
//   ack <partition> <offset> <hash>        hash: recordHash() of key, value, headers, timestamp
//
// Modes (argv: <mode> <log dir> <seed> [<value bytes>]):
//   crash      three concurrent producers (so fsyncs are shared: group commit), 3 partitions,
//              small segments (preallocated when the seed is odd), records from empty to a few
//              KiB, some compressed batches; runs
//              until killed (or until stdin closes, or a cap of appends, so it never outlives a
//              dead parent)
//   disk-full  one producer, one partition, one record per batch (argv[4] value bytes, default 900,
//              plus up to 200), until an append fails; then
//              prints `error <name> <code> <message>`, tries once more (`error2 …` or `ack …`),
//              and exits without closing the log, as a writer that gives up would
//   open       opens the directory and prints `opened` or `threw <error name>`
//
// Run as: deno run -A tests/durability/crash_child.ts <mode> <dir> <seed>  (or bun …)

import process from "node:process";
import { open, type RecordHeader } from "../../mod.ts";
import { CODECS } from "../_runtime.ts";
import { prng, recordHash } from "./_helpers.ts";

const [mode, dir, seedText, valueText] = process.argv.slice(2);
const random = prng(Number(seedText ?? 1));
const encoder = new TextEncoder();
const MAX_APPENDS = 20_000;

function bytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (random() * 256) | 0;
  return out;
}

interface ChildRecord {
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: RecordHeader[];
  timestamp: number | undefined;
}

function makeRecord(i: number, maxValue: number): ChildRecord {
  const r = random();
  const size = r < 0.1 ? 0 : r < 0.8 ? (random() * 200) | 0 : (random() * maxValue) | 0;
  const headers: RecordHeader[] = [];
  if (random() < 0.3) headers.push({ key: `h${i % 5}`, value: random() < 0.2 ? null : bytes(8) });
  return {
    key: random() < 0.2 ? null : encoder.encode(`key-${(random() * 50) | 0}`),
    value: random() < 0.05 ? null : bytes(size),
    headers,
    timestamp: random() < 0.5 ? undefined : 1_700_000_000_000 + ((random() * 1e9) | 0),
  };
}

function print(line: string): void {
  process.stdout.write(line + "\n");
}

/** Exits once stdout has taken everything written. */
function exit(code: number): void {
  process.stdout.write("", () => process.exit(code));
}

process.stdin.on("end", () => process.exit(0));
process.stdin.resume();

if (mode === "open") {
  // Just open the directory (reported_bugs_test.ts: a corrupt topic config).
  try {
    const log = await open(dir);
    await log.close();
    print("opened");
  } catch (err) {
    print(`threw ${(err as Error).name}`);
  }
  exit(0);
  await new Promise(() => {}); // exit() ends the process once stdout is written
}

const log = await open(dir);

if (mode === "crash") {
  const topic = log.hasTopic("crash") ? log.topic("crash") : await log.createTopic("crash", {
    partitions: 3,
    config: { fsync: "always", segmentBytes: 16384, indexIntervalBytes: 512 },
  });
  // Every other round preallocates the active segments (zeros ahead of the data, cut at a roll
  // or close): a kill then leaves zeros after the last batch for the next open to cut.
  await log.alterTopicConfig("crash", { preallocate: Number(seedText) % 2 === 1 });
  let appends = 0;
  const producer = async () => {
    while (appends++ < MAX_APPENDS) {
      const records = Array.from({ length: 1 + ((random() * 5) | 0) }, (_, i) => makeRecord(i, 4000));
      const compression = random() < 0.2 ? CODECS[(random() * CODECS.length) | 0] : 0;
      const metas = await topic.append(records, { compression });
      let out = "";
      for (let i = 0; i < records.length; i++) {
        const r = records[i];
        const hash = recordHash({
          key: r.key,
          value: r.value,
          headers: r.headers,
          timestamp: metas[i].timestamp,
        });
        out += `ack ${metas[i].partition} ${metas[i].offset} ${hash}\n`;
      }
      process.stdout.write(out);
    }
  };
  await Promise.all([producer(), producer(), producer()]);
  exit(0);
} else if (mode === "disk-full") {
  const valueBytes = Number(valueText ?? 900);
  const topic = log.hasTopic("full") ? log.topic("full") : await log.createTopic("full", {
    partitions: 1,
    config: { fsync: "always", segmentBytes: 1 << 30, maxMessageBytes: 1 << 20 },
  });
  const appendOne = async (i: number) => {
    const records = [
      {
        key: encoder.encode(`k${i}`),
        value: bytes(valueBytes + ((random() * 200) | 0)),
        timestamp: 1_700_000_000_000 + i,
      },
    ];
    const [meta] = await topic.append(records);
    const hash = recordHash({
      key: records[0].key,
      value: records[0].value,
      headers: [],
      timestamp: meta.timestamp,
    });
    print(`ack ${meta.partition} ${meta.offset} ${hash}`);
  };
  const describe = (err: unknown) => {
    const e = err as { name?: string; code?: string; cause?: { code?: string }; message?: string };
    return `${e.name} ${e.code ?? "-"} ${e.cause?.code ?? "-"} ${String(e.message).replace(/\n/g, " ")}`;
  };
  let i = 0;
  for (;;) {
    try {
      await appendOne(i++);
    } catch (err) {
      print(`error ${describe(err)}`);
      break;
    }
    if (i > MAX_APPENDS) break;
  }
  try {
    await appendOne(i++);
  } catch (err) {
    print(`error2 ${describe(err)}`);
  }
  print("exit");
  exit(0);
} else {
  console.error(`crash_child: unknown mode ${mode}`);
  process.exit(2);
}
