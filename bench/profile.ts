/**
 * The two hot paths, alone, for a CPU profiler (`deno run --cpu-prof`, `bun --cpu-prof`):
 *
 * - `write <dir>`: `pipeTo(topic.writable())` of 100-byte records into a 1-partition topic
 *   (`fsync: "never"`), three times;
 * - `append <dir>`: `topic.append` of batches of 1000 records, three times;
 * - `prepare <dir>`: fills a topic for `read` (run it without the profiler);
 * - `read <dir>`: `for await` over `topic.readable()` from earliest, three times.
 *
 * `bench/run.mjs` runs it and sums the profiles' self time per function.
 *
 * Usage: `deno run -A bench/profile.ts write|append|prepare|read <dir> [--records N] [--value bytes]`.
 *
 * @module
 */
import { open } from "../mod.ts";
import type { ProducerRecord } from "../mod.ts";
import { log, now, parseArgs, scriptArgs, valueOf } from "./_common.ts";

const argv = scriptArgs();
const [mode, dir] = argv;
const records = Number(parseArgs(argv).get("records") ?? 500_000);
const VALUE = Number(parseArgs(argv).get("value") ?? 100);

// The values are built before the profiled part, so that making them is not in the profile.
const VALUES = Array.from({ length: 4096 }, (_, i) => valueOf(i, VALUE));

function source(): ReadableStream<ProducerRecord> {
  let i = 0;
  return new ReadableStream<ProducerRecord>({
    pull(controller) {
      if (i >= records) {
        controller.close();
        return;
      }
      const end = Math.min(records, i + 1000);
      for (; i < end; i++) controller.enqueue({ value: VALUES[i & 4095] });
    },
  }, { highWaterMark: 0 });
}

if (mode === "write") {
  for (let round = 0; round < 3; round++) {
    const log_ = await open(`${dir}/${round}`, { defaults: { fsync: "never" } });
    const topic = await log_.createTopic("t");
    const t = now();
    await source().pipeTo(topic.writable());
    log(`profile write: ${(records / (now() - t) / 1e3).toFixed(2)}M rec/s`);
    await log_.close();
  }
} else if (mode === "append") {
  const batch: ProducerRecord[] = Array.from({ length: 1000 }, (_, i) => ({ value: valueOf(i, VALUE) }));
  for (let round = 0; round < 3; round++) {
    const log_ = await open(`${dir}/${round}`, { defaults: { fsync: "never" } });
    const topic = await log_.createTopic("t");
    const t = now();
    for (let i = 0; i < records; i += 1000) await topic.append(batch);
    log(`profile append: ${(records / (now() - t) / 1e3).toFixed(2)}M rec/s`);
    await log_.close();
  }
} else if (mode === "prepare") {
  const log_ = await open(dir, { defaults: { fsync: "never" } });
  const topic = await log_.createTopic("t");
  const batch: ProducerRecord[] = Array.from({ length: 1000 }, (_, i) => ({ value: valueOf(i, VALUE) }));
  for (let i = 0; i < records; i += 1000) await topic.append(batch);
  await log_.close();
} else if (mode === "read") {
  const log_ = await open(dir);
  const topic = log_.topic("t");
  for (let round = 0; round < 3; round++) {
    let n = 0;
    const t = now();
    for await (const r of topic.readable({ from: "earliest" })) n += r.value!.length > 0 ? 1 : 0;
    log(`profile read: ${(n / (now() - t) / 1e3).toFixed(2)}M rec/s`);
  }
  await log_.close();
} else {
  throw new TypeError(`Unknown mode ${mode}: expected write, append, prepare or read`);
}
