/**
 * Opens a log directory and prints every record of every topic (or of the topics named) as one
 * JSON document on stdout. The cross-runtime test runs it under the runtime that did not write the
 * log: `deno run -A tests/integration/read_log.ts <dir> [topic…]`, `bun tests/integration/read_log.ts <dir> [topic…]`
 * or `node --import tsx tests/integration/read_log.ts <dir> [topic…]`.
 *
 * Output: `{ runtime, topics: { [name]: { partitions, config, loadReports, records } } }`, with keys,
 * values and header values as hex strings (or null), in partition then offset order.
 *
 * @module
 */
import process from "node:process";
import { open } from "../../mod.ts";
import { RUNTIME } from "../_runtime.ts";
import { plain } from "../_plain_record.ts";

const [dir, ...names] = process.argv.slice(2);
if (!dir) {
  console.error("usage: read_log.ts <dir> [topic…]");
  process.exit(2);
}

const log = await open(dir);
const out: { runtime: string; topics: Record<string, unknown> } = {
  runtime: RUNTIME,
  topics: {},
};
for (const name of names.length > 0 ? names : log.topics()) {
  const topic = log.topic(name);
  const records = [];
  for (let p = 0; p < topic.partitions; p++) {
    for await (const r of topic.readable({ partitions: p })) records.push(plain(r));
  }
  out.topics[name] = {
    partitions: topic.partitions,
    config: topic.config,
    loadReports: topic.logs.map((l) => l.loadReport),
    records,
  };
}
await log.close();
process.stdout.write(JSON.stringify(out) + "\n");
