/**
 * The reading half of bench.ts's `memory` section: `for await` over `topic.readable()` from the
 * earliest offset, RSS sampled every 1024 records (and every 10 ms by the caller's timer).
 *
 * Run as a script, it is a reader process of its own, as a consumer is: it opens a log directory
 * another process wrote, reads topic `t` through, and prints `{ baselineRss, peakReadRss, read }`
 * as JSON (`deno run -A bench/_memory_reader.ts <dir> <records> <valueSize>`, or `bun …`).
 * bench.ts also calls {@linkcode readTopic} in the process that wrote the records.
 *
 * @module
 */
import { open, type Topic } from "../mod.ts";
import { getPeakRss, now, type Rate, rate, resetPeakRss, sampleRss, scriptArgs } from "./_common.ts";

/** What one read through a topic measured. */
export interface ReadMemory {
  /** The peak RSS while reading, bytes. */
  peakReadRss: number;
  /** The read rate. */
  read: Rate;
}

/**
 * Reads every record of `topic` from the earliest offset, checking each value's size, and
 * measures the peak RSS meanwhile (the peak is reset first).
 */
export async function readTopic(topic: Topic, records: number, valueSize: number): Promise<ReadMemory> {
  resetPeakRss();
  let seen = 0;
  const t = now();
  for await (const r of topic.readable({ from: "earliest" })) {
    if (r.value!.length !== valueSize) throw new Error("bad value");
    if ((++seen & 1023) === 0) sampleRss();
  }
  const read = rate(records, valueSize, now() - t);
  if (seen !== records) throw new Error(`read ${seen} of ${records} records`);
  return { peakReadRss: getPeakRss(), read };
}

if (import.meta.main) {
  const [dir, records, valueSize] = scriptArgs();
  const timer = setInterval(sampleRss, 10);
  const baselineRss = resetPeakRss();
  const log = await open(dir);
  const result = await readTopic(log.topic("t"), Number(records), Number(valueSize));
  clearInterval(timer);
  await log.close();
  console.log(JSON.stringify({ baselineRss, ...result }));
}
