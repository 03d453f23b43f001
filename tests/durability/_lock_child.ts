// A child process for the lock tests, run on any runtime and under any Deno permissions:
//   hold <dir> <topic> <partition>    open the log directory, append one record to the partition
//                                     (taking its writer lock, kept), print "locked", wait to be killed;
//                                     or print the error's name and exit 3 if the lock is held
import process from "node:process";
import { open } from "../../mod.ts";

const [role, dir, topicName, partition] = process.argv.slice(2);
if (role === "hold") {
  // lockTimeoutMs 0: a partition another process writes fails at once instead of waiting.
  const log = await open(dir, { retentionCheckIntervalMs: 0, lockTimeoutMs: 0 });
  try {
    await log.topic(topicName).append([{ partition: Number(partition), value: "held" }]);
    // Kept until the process ends, not given back once idle.
    log.topic(topicName).partition(Number(partition)).acquireWriterLock();
  } catch (err) {
    process.stdout.write(`${(err as Error).name}\n`);
    process.exit(3);
  }
  process.stdout.write("locked\n");
  setInterval(() => {}, 1000);
}
