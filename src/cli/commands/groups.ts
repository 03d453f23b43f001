/**
 * `reel groups`: the consumer groups of a log directory, with members, assignments, committed
 * offsets and lag (as `kafka-consumer-groups.sh --describe`); and `reel consume --group`, which
 * reads as a member of a group and commits as it goes.
 *
 * @module
 */
import process from "node:process";
import {
  type ConsumedRecord,
  Consumer,
  describeGroup,
  type GroupDescription,
  listGroups,
  type LogDirectory,
  type TopicPartition,
} from "../../../mod.ts";
import { choiceOption, optionalString, type OptionValues, requireString, UsageError } from "../args.ts";
import { columns, type Command, openExisting } from "../command.ts";
import { BrokenPipeError, StdoutWriter } from "../stdio.ts";

/** `reel groups`. */
export const groups: Command = {
  name: "groups",
  summary: "List consumer groups: members, assignments, committed offsets, lag",
  help: `Usage: reel groups --dir D [--group G] [--format table|json]

For each consumer group of the log directory (or only G): its state,
generation and assignor, its members with the partitions assigned to them,
and per partition the committed offset, the log end offset and the lag (log
end offset minus committed offset), as kafka-consumer-groups.sh --describe.

Options:
  --dir D                 the log directory
  --group G               only this group
  --format F              table (default) or json (one describeGroup() object
                          per line)
  --verbose               print the stack of an error
  -h, --help              show this help

Example:
  reel groups --dir data --group billing
`,
  options: { dir: { type: "string" }, group: { type: "string" }, format: { type: "string" } },
  async run(values: OptionValues): Promise<number> {
    const format = choiceOption(values, "format", ["table", "json"] as const, "table");
    const log = await openExisting(requireString(values, "dir"));
    try {
      const only = optionalString(values, "group");
      const ids = only !== undefined ? [only] : listGroups(log);
      const out = new StdoutWriter();
      for (const [i, id] of ids.entries()) {
        const group = describeGroup(log, id);
        if (format === "json") out.writeText(JSON.stringify(group) + "\n");
        else out.writeText((i > 0 ? "\n" : "") + formatGroup(group));
      }
      await out.endUnlessBrokenPipe();
      return 0;
    } finally {
      await log.close();
    }
  },
};

const tps = (list: TopicPartition[]) => list.map((tp) => `${tp.topic}-${tp.partition}`).join(",") || "-";

/**
 * A group as text: a summary line, the members, and the partitions with offsets and lag.
 *
 * @param group what `describeGroup()` returned
 * @returns the lines, each ending in a newline
 */
export function formatGroup(group: GroupDescription): string {
  const lines = [
    `GROUP ${group.groupId}: ${group.state}, generation ${group.generation}, assignor ${
      group.protocol ?? "-"
    }, ${group.members.filter((m) => !m.expired).length} member(s)`,
  ];
  if (group.members.length > 0) {
    lines.push(
      ...columns([
        ["MEMBER-ID", "CLIENT-ID", "HOST", "PID", "ASSIGNMENT", "LAST-HEARTBEAT"],
        ...group.members.map((m) => [
          m.memberId,
          m.clientId,
          m.hostname,
          String(m.pid),
          tps(m.assignment),
          new Date(m.lastHeartbeat).toISOString() + (m.expired ? " (expired)" : ""),
        ]),
      ]),
    );
  }
  if (group.offsets.length > 0) {
    lines.push(
      ...columns([
        ["TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID"],
        ...group.offsets.map((o) => [
          o.topic,
          String(o.partition),
          o.committedOffset === null ? "-" : String(o.committedOffset),
          o.logEndOffset === null ? "-" : String(o.logEndOffset),
          o.lag === null ? "-" : String(o.lag),
          o.memberId ?? "-",
        ]),
      ]),
    );
  }
  return lines.join("\n") + "\n";
}

/** What `reel consume --group` needs from the consume command. */
export interface GroupConsumeOptions {
  /** The open log directory (closed by the caller). */
  log: LogDirectory;
  /** The topic. */
  topic: string;
  /** The group. */
  group: string;
  /** Read only these partitions (assigned by hand, not by the group); empty for a subscription. */
  partitions: number[];
  /** `--from`: where to start without a committed offset. */
  from: "earliest" | "latest";
  /** Keep waiting for records. */
  follow: boolean;
  /** Prints one record. */
  print: (record: ConsumedRecord, out: StdoutWriter) => void;
}

/**
 * `reel consume --group G`: reads as a member of group G (or, with `--partition`, the given
 * partitions with G's offsets), prints each record, and commits after each chunk is written to
 * stdout, so a later run resumes after the last record printed. Without `--follow` it stops once
 * it has caught up on its partitions.
 *
 * @param options the parsed command line
 * @returns the exit status
 * @throws {UsageError} for options that do not go with `--group`
 */
export async function consumeWithGroup(options: GroupConsumeOptions): Promise<number> {
  const { log, topic, group } = options;
  log.topic(topic); // fails early for an unknown topic
  const consumer = new Consumer(log, {
    groupId: group,
    clientId: "reel-cli",
    autoOffsetReset: options.from,
    enableAutoCommit: false,
    heartbeatIntervalMs: 1000,
  });
  let stopping = false;
  const stop = () => {
    stopping = true;
    void consumer.close();
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  const out = new StdoutWriter();
  try {
    if (options.partitions.length > 0) {
      consumer.assign(options.partitions.map((partition) => ({ topic, partition })));
    } else consumer.subscribe([topic]);
    for (;;) {
      const records = await consumer.poll({ timeoutMs: options.follow ? 1000 : 100 });
      if (stopping) break;
      for (const record of records) options.print(record, out);
      if (records.length > 0) {
        // Committed only once written: a later run starts after the last record printed.
        await out.flush();
        await consumer.commit();
      } else if (!options.follow && caughtUp(consumer, log, group, options.partitions.length === 0)) {
        break;
      }
    }
    await out.end();
    return 0;
  } catch (err) {
    if (err instanceof BrokenPipeError) return 0;
    if (stopping) return 0;
    throw err;
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    await consumer.close();
  }
}

/** Whether the consumer holds its settled share of the group and has read it to the end. */
function caughtUp(consumer: Consumer, log: LogDirectory, group: string, subscribed: boolean): boolean {
  if (subscribed && describeGroup(log, group).state !== "Stable") return false;
  const assigned = consumer.assignment();
  const ends = consumer.endOffsets(assigned);
  return assigned.every((tp, i) => consumer.position(tp) >= ends[i]);
}

/**
 * Checks that `--from` fits `--group`: only `earliest` or `latest`, where to start when the group
 * has no committed offset.
 *
 * @param from the `--from` text
 * @returns the reset policy
 * @throws {UsageError} for anything else
 */
export function groupStart(from: string | undefined): "earliest" | "latest" {
  if (from === undefined || from === "earliest") return "earliest";
  if (from === "latest") return "latest";
  throw new UsageError(
    `Invalid --from ${
      JSON.stringify(from)
    } with --group: expected earliest or latest (where to start without a committed offset)`,
  );
}
