// A reader process for compaction_test.ts: opens the log directory (a second open(): another
// process writes and compacts the partition), keeps at most one segment file open (so that every
// step to another segment closes one and later reopens it by name), and answers commands on
// stdin with one JSON line each on stdout:
//   read <from> <count>   up to <count> records of kv-0 from offset <from>, through one
//                         PartitionLog kept from the start: [[offset, key, value], ...]
//   end                   closes the log and exits
import process from "node:process";
import { createInterface } from "node:readline";
import { open } from "../../mod.ts";
import { setMaxOpenFiles } from "../../src/log/mod.ts";

setMaxOpenFiles(1);
const log = await open(process.argv[2], { retentionCheckIntervalMs: 0 });
const partition = log.topic("kv").partition(0);
const text = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));

for await (const line of createInterface({ input: process.stdin })) {
  const [command, from, count] = line.trim().split(" ");
  if (command === "end") break;
  const out: [number, string | null, string | null][] = [];
  let offset = Number(from);
  let cursor;
  try {
    while (out.length < Number(count)) {
      const data = partition.read(offset, 512, cursor);
      if (!data) break;
      for (const r of partition.decode(data, offset)) {
        if (out.length < Number(count)) out.push([r.offset, text(r.key), text(r.value)]);
      }
      offset = data.next.offset;
      cursor = data.next;
    }
    process.stdout.write(JSON.stringify(out) + "\n");
  } catch (err) {
    process.stdout.write(
      JSON.stringify({ error: `${(err as Error).name}: ${(err as Error).message}` }) + "\n",
    );
  }
}
await log.close();
process.exit(0);
