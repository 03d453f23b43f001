// A child process for the cross-process consumer tests, run on the same runtime as the test:
//   write <dir> <topic> <count> <every>   append <count> records to partition 0, one per append,
//                                         pausing a moment after every <every>; prints "done"
//   hold <dir> <topic>                    append one record to partition 0 (taking the writer
//                                         lock), print "locked", then wait to be killed
//   consume <dir> <topic> <group> [ms]    a member of <group>: prints {"partition","offset","value"}
//                                         per record, then commits it, then waits [ms]; "close"
//                                         on stdin closes the consumer and exits
import process from "node:process";
import { CommitFailedError, Consumer, open } from "../../mod.ts";

const [role, dir, topicName, ...rest] = process.argv.slice(2);
const out = (line: string) => process.stdout.write(line + "\n");

if (role === "write") {
  const [count, every] = rest.map(Number);
  const log = await open(dir);
  const topic = log.topic(topicName);
  for (let i = 0; i < count; i++) {
    await topic.append([{ partition: 0, value: `r${i}`, key: `k${i % 7}` }]);
    if (i === 0) out("started");
    if ((i + 1) % every === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await log.close();
  out("done");
} else if (role === "hold") {
  const log = await open(dir);
  await log.topic(topicName).append([{ partition: 0, value: "held" }]);
  log.topic(topicName).partition(0).acquireWriterLock(); // kept until close, not given back when idle
  out("locked");
  setInterval(() => {}, 1000);
} else if (role === "consume") {
  const [group] = rest;
  const log = await open(dir);
  const consumer = new Consumer(log, {
    groupId: group,
    clientId: "child",
    autoOffsetReset: "earliest",
    enableAutoCommit: false,
    heartbeatIntervalMs: 50,
  });
  consumer.subscribe([topicName], {
    onPartitionsAssigned: (tps) => out(JSON.stringify({ assigned: tps.map((tp) => tp.partition) })),
    onPartitionsRevoked: (tps) => out(JSON.stringify({ revoked: tps.map((tp) => tp.partition) })),
  });
  let closing = false;
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (chunk: string) => {
    if (chunk.includes("close") && !closing) {
      closing = true;
      consumer.close().then(() => log.close()).then(() => {
        out("closed");
        process.exit(0);
      });
    }
  });
  out("ready");
  const delayMs = Number(rest[1] ?? 0);
  for await (const r of consumer) {
    // Process (print), then commit: at-least-once.
    out(
      JSON.stringify({ partition: r.partition, offset: r.offset, value: new TextDecoder().decode(r.value!) }),
    );
    try {
      await consumer.commit([{ topic: r.topic, partition: r.partition, offset: r.offset + 1 }]);
    } catch (err) {
      if (!(err instanceof CommitFailedError)) throw err; // lost the partition: its next owner reads it again
    }
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
  }
} else {
  console.error(`unknown role ${role}`);
  process.exit(2);
}
