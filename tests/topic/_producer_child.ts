// A producer process for writer_roles_test.ts:
//   <dir> <topic> <id> <count>   appends <count> records "<id>-<i>" (key "<id>-<i % 7>"), one
//                                append each, to the topic, prints "done", and exits without
//                                closing first (a process that ends keeps what was acknowledged)
import process from "node:process";
import { open } from "../../mod.ts";

const [dir, topicName, id, count] = process.argv.slice(2);
const log = await open(dir, { retentionCheckIntervalMs: 0 });
const topic = log.topic(topicName);
for (let i = 0; i < Number(count); i++) {
  await topic.append([{ key: `${id}-${i % 7}`, value: `${id}-${i}` }]);
}
await log.close();
process.stdout.write("done\n");
