/**
 * The topic administration commands, as Kafka's tools offer them:
 * - `reel alter-config` (`kafka-configs --alter`): set or reset a topic's configs;
 * - `reel add-partitions` (`kafka-topics --alter --partitions`): more partitions, never fewer;
 * - `reel delete-records` (`kafka-delete-records`): move a partition's log start offset.
 *
 * @module
 */
import process from "node:process";
import { integerOption, type OptionValues, requireString, UsageError } from "../args.ts";
import { type Command, openExisting } from "../command.ts";
import { StdoutWriter } from "../stdio.ts";
import { parseConfig } from "./produce.ts";
import { MAX_PARTITIONS } from "../../runtime/log_paths.ts";

/** `reel alter-config`. */
export const alterConfig: Command = {
  name: "alter-config",
  summary: "Change a topic's configs (checked, stored, in effect without a restart)",
  help: `Usage: reel alter-config --dir D --topic T (--config K=V | --reset K)...

Sets configs of an existing topic, or resets them to the default, as
kafka-configs --alter does: every change is checked before any is made, stored
in the topic's config file, and takes effect in every process that has the
topic open within a second (the next append, roll and retention check use it).
Prints the topic's config afterwards as JSON.

Options:
  --dir D                 the log directory
  --topic T               the topic
  --config K=V            set config K (segmentBytes, segmentMs, retentionMs,
                          retentionBytes, fsync, maxMessageBytes, cleanupPolicy,
                          minCleanableDirtyRatio, deleteRetentionMs,
                          preallocate, ...),
                          repeatable
  --reset K               reset config K to the default, repeatable
  --verbose               print the stack of an error
  -h, --help              show this help
`,
  options: {
    dir: { type: "string" },
    topic: { type: "string" },
    config: { type: "string", multiple: true },
    reset: { type: "string", multiple: true },
  },
  async run(values: OptionValues): Promise<number> {
    const dir = requireString(values, "dir");
    const topic = requireString(values, "topic");
    const changes: { [key: string]: string | number | boolean | null } = parseConfig(
      (values.config as string[]) ?? [],
    );
    for (const key of (values.reset as string[]) ?? []) changes[key] = null;
    if (Object.keys(changes).length === 0) {
      throw new UsageError("Nothing to change: give --config K=V or --reset K");
    }
    const log = await openExisting(dir);
    try {
      const config = await log.alterTopicConfig(topic, changes as never);
      const out = new StdoutWriter();
      out.writeText(JSON.stringify(config) + "\n");
      await out.end();
      return 0;
    } finally {
      await log.close();
    }
  },
};

/** `reel add-partitions`. */
export const addPartitions: Command = {
  name: "add-partitions",
  summary: "Add partitions to a topic (never removes any)",
  help: `Usage: reel add-partitions --dir D --topic T --partitions N

Raises the topic's partition count to N, as kafka-topics --alter --partitions
does: N must be more than the topic has (partitions are never removed) and at
most ${MAX_PARTITIONS}. Keyed records may go to other partitions afterwards, as
in Kafka.

Options:
  --dir D                 the log directory
  --topic T               the topic
  --partitions N          the new partition count
  --verbose               print the stack of an error
  -h, --help              show this help
`,
  options: { dir: { type: "string" }, topic: { type: "string" }, partitions: { type: "string" } },
  async run(values: OptionValues): Promise<number> {
    const dir = requireString(values, "dir");
    const topic = requireString(values, "topic");
    const partitions = integerOption(values, "partitions", 1, MAX_PARTITIONS);
    if (partitions === undefined) throw new UsageError("Missing --partitions");
    const log = await openExisting(dir);
    try {
      const count = await log.createPartitions(topic, partitions);
      process.stderr.write(`topic ${topic} has ${count} partitions\n`);
      return 0;
    } finally {
      await log.close();
    }
  },
};

/** `reel delete-records`. */
export const deleteRecords: Command = {
  name: "delete-records",
  summary: "Delete a partition's records before an offset",
  help: `Usage: reel delete-records --dir D --topic T --partition P --offset O

Deletes the records of partition P before offset O, as kafka-delete-records
does: the partition's log start offset moves to O (-1: the high watermark,
which deletes every record), and segments wholly below it are removed.
Prints the log start offset afterwards (the low watermark).

Options:
  --dir D                 the log directory
  --topic T               the topic
  --partition P           the partition
  --offset O              the first offset to keep, or --offset=-1
  --verbose               print the stack of an error
  -h, --help              show this help
`,
  options: {
    dir: { type: "string" },
    topic: { type: "string" },
    partition: { type: "string" },
    offset: { type: "string" },
  },
  async run(values: OptionValues): Promise<number> {
    const dir = requireString(values, "dir");
    const topic = requireString(values, "topic");
    const partition = integerOption(values, "partition", 0, MAX_PARTITIONS - 1);
    const offset = integerOption(values, "offset", -1);
    if (partition === undefined) throw new UsageError("Missing --partition");
    if (offset === undefined) throw new UsageError("Missing --offset");
    const log = await openExisting(dir);
    try {
      const [{ lowWatermark }] = await log.deleteRecords(topic, [{ partition, offset }]);
      const out = new StdoutWriter();
      out.writeText(`${lowWatermark}\n`);
      await out.end();
      return 0;
    } finally {
      await log.close();
    }
  },
};
