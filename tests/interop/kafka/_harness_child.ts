// The child process of harness_test.ts: starts a broker with the harness, prints
// `serving <its temporary directory>`, and then dies without stopping it: with an uncaught error
// once a line arrives on stdin (mode `throws`), or when its parent kills it (mode `sigkill`).
//
// Run as: deno run -A tests/interop/kafka/_harness_child.ts throws|sigkill  (or bun …)

import process from "node:process";
import { startKafka } from "./harness.ts";

const mode = process.argv[2];
const kafka = await startKafka();
console.log(`serving ${kafka.dir}`);
if (mode === "throws") {
  process.stdin.once("data", () => {
    throw new Error("a test failed without stopping its broker");
  });
} else {
  // Until killed (stdin closing means the parent is gone: stop then, so nothing is left either way).
  process.stdin.resume();
  process.stdin.once("end", () => kafka.stop());
}
