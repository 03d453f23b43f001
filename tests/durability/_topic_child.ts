// A child process for the topic race tests (any runtime). It opens the log directory, prints
// "ready", and on a line "go" on stdin does its part, printing one JSON line per result:
//   create <dir> <topic> <partitions> <tag>   createTopic(topic, { partitions }); on success
//       {"created":N}, on TopicExistsError {"exists":N} with the partition count it then sees;
//       either way it appends one record "<tag>-<p>" to each partition it sees and prints
//       {"acked":p,"offset":o,"value":v} for each ({"locked":p} when another child writes it);
//       any other error: {"error":name,"message":...}
//   delete <dir> <topic>                      deleteTopic(topic): {"deleted":true}, or the error
//   follow <dir> <topic>                      reads the topic from the earliest offset, following:
//       {"read":n} after each record (n so far), then {"error":name} when the stream fails
//   consume <dir> <topic> <group>             a member of <group> reading the topic and committing
//       each record: {"read":n} after each, then {"error":name} when it fails
// then closes the directory and prints "done".
import process from "node:process";
import { Consumer, open, PartitionLockedError, TopicExistsError } from "../../mod.ts";

const [role, dir, name, ...rest] = process.argv.slice(2);
const out = (value: unknown) =>
  process.stdout.write((typeof value === "string" ? value : JSON.stringify(value)) + "\n");

const log = await open(dir, { retentionCheckIntervalMs: 0 });
out("ready");
if (role === "create" || role === "delete") {
  await new Promise<void>((resolve) => {
    let seen = "";
    process.stdin.setEncoding("utf8");
    process.stdin.on("data", (chunk: string) => {
      seen += chunk;
      if (seen.includes("go")) resolve();
    });
  });
}
try {
  if (role === "create") {
    const [partitions, tag] = [Number(rest[0]), rest[1]];
    let topic;
    try {
      topic = await log.createTopic(name, { partitions });
      out({ created: topic.partitions, topicId: topic.topicId });
    } catch (err) {
      if (!(err instanceof TopicExistsError)) throw err;
      topic = log.topic(name);
      out({ exists: topic.partitions, topicId: topic.topicId });
    }
    for (let p = 0; p < topic.partitions; p++) {
      const value = `${tag}-${p}`;
      try {
        const [m] = await topic.append([{ partition: p, value }]);
        out({ acked: p, offset: m.offset, value, topicId: topic.topicId });
      } catch (err) {
        // Another child writes this partition (one writer per partition): not a failure.
        if (!(err instanceof PartitionLockedError)) throw err;
        out({ locked: p });
      }
    }
  } else if (role === "delete") {
    await log.deleteTopic(name);
    out({ deleted: true });
  } else if (role === "follow") {
    let n = 0;
    for await (const _ of log.topic(name).readable({ from: "earliest", follow: true })) out({ read: ++n });
  } else if (role === "consume") {
    const consumer = new Consumer(log, {
      groupId: rest[0],
      autoOffsetReset: "earliest",
      enableAutoCommit: false,
    });
    consumer.subscribe([name]);
    let n = 0;
    try {
      for await (const r of consumer) {
        await consumer.commit([{ topic: r.topic, partition: r.partition, offset: r.offset + 1 }]);
        out({ read: ++n });
      }
    } finally {
      await consumer.close().catch(() => {});
    }
  }
} catch (err) {
  out({ error: (err as Error).name, message: (err as Error).message, stack: (err as Error).stack });
}
await log.close();
out("done");
process.exit(0);
