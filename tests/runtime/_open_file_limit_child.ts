// Child of open_file_limit_test.ts, run under a `ulimit -n` of the test's choosing: prints the
// bounds this process took, then appends one record to each of the partitions named by its first
// argument and prints how many writer roles it holds.
import process from "node:process";
import * as fs from "node:fs";
import { open } from "../../mod.ts";
import { DEFAULT_MAX_OPEN_FILES, DEFAULT_MAX_WRITERS, writerCount } from "../../src/log/mod.ts";
import { openFileLimit } from "../../src/runtime/open_file_limit.ts";

const [dir, count] = [process.argv.at(-2)!, Number(process.argv.at(-1))];
const log = await open(dir, { retentionCheckIntervalMs: 0 });
const topic = await log.createTopic("t", { partitions: count, config: { fsync: "never" } });
await topic.append(Array.from({ length: count }, (_, p) => ({ value: `r${p}`, partition: p })));
const writers = writerCount();
await log.close();
fs.rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify({
  limit: openFileLimit(),
  maxWriters: DEFAULT_MAX_WRITERS,
  maxOpenFiles: DEFAULT_MAX_OPEN_FILES,
  writers,
}));
