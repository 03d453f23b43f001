import { open } from "./mod.ts";
import fs from "node:fs";
const dir = process.argv[2] ?? Deno.args[0];
const step = process.argv[3] ?? Deno.args[1];
const fds = () => fs.readdirSync("/proc/self/fd").length;
const t0 = performance.now();
const log = await open(dir);
console.log("open", (performance.now()-t0).toFixed(0), "ms fds", fds());
if (step === "create") {
  for (const name of ["a", "b", "c"]) {
    if (!log.hasTopic(name)) await log.createTopic(name, { partitions: 2000 });
    console.log("created", name, "fds", fds(), (performance.now()-t0).toFixed(0));
  }
} else if (step === "produce") {
  for (const name of ["a", "b", "c"]) {
    const t = log.topic(name);
    const recs = [];
    for (let i = 0; i < 6000; i++) recs.push({ key: `k${i}`, value: `v${i}` });
    await t.append(recs);
    console.log("appended", name, "fds", fds(), (performance.now()-t0).toFixed(0));
  }
} else if (step === "consume") {
  for (const name of ["a", "b", "c"]) {
    let n = 0;
    for await (const _ of log.topic(name).readable()) n++;
    console.log("consumed", name, n, "fds", fds(), (performance.now()-t0).toFixed(0));
  }
}
await log.close();
console.log("closed", (performance.now()-t0).toFixed(0));
