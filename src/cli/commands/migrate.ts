/**
 * `reel migrate`: moves a log directory's topics, records and committed group offsets into a Kafka
 * cluster, resuming where an interrupted run stopped (see `src/cluster/migrate.ts`).
 *
 * @module
 */
import { integerOption, optionalString, type OptionValues, requireString, UsageError } from "../args.ts";
import { type Command, openExisting } from "../command.ts";
import { connect, migrate as migrateTo } from "../../../mod.ts";
import { StdoutWriter } from "../stdio.ts";

/** `reel migrate`. */
export const migrate: Command = {
  name: "migrate",
  summary: "Move topics, records and committed offsets into a Kafka cluster",
  help: `Usage: reel migrate --dir D --to HOST:PORT[,HOST:PORT...] [--topic T]...
                    [--replication-factor N] [--client-id ID]

Copies each topic of D (or only those named) into the Kafka cluster: the topic
with the same partition count and the configs set away from the defaults,
then its records (keys, values, headers, timestamps) partition by partition in
order, then every consumer group's committed offsets. Run it again after an
interruption, or after more records were appended: it counts what Kafka has
and copies only the rest, so nothing is copied twice (nothing else may write
to those topics in Kafka meanwhile).

Kafka numbers a new partition's records from 0. Where reel's log start offset
is not 0 (retention deleted old segments), committed offsets are translated
through the copy's offset mapping, and the summary says so per partition and
per group. Records older than a topic's retention.ms are deleted by Kafka's
retention as by reel's.

Options:
  --dir D                   the log directory
  --to SERVERS              Kafka's bootstrap.servers
  --topic T                 only topic T (repeatable; default: every topic)
  --replication-factor N    replicas of each partition of the topics it
                            creates (default: the brokers' default)
  --client-id ID            Kafka's client.id (default: reel-migrate)
  --verbose                 print the stack of an error
  -h, --help                show this help

Example:
  reel migrate --dir data --to 127.0.0.1:9092 --topic edits
`,
  options: {
    dir: { type: "string" },
    to: { type: "string" },
    topic: { type: "string", multiple: true },
    "replication-factor": { type: "string" },
    "client-id": { type: "string" },
  },
  async run(values: OptionValues): Promise<number> {
    const dir = requireString(values, "dir");
    const to = requireString(values, "to");
    if (!/^[^,\s]+:\d+(,[^,\s]+:\d+)*$/.test(to)) {
      throw new UsageError(`Invalid --to ${JSON.stringify(to)}: expected HOST:PORT[,HOST:PORT...]`);
    }
    const topics = values.topic as string[] | undefined;
    const replicationFactor = integerOption(values, "replication-factor", 1, 32767);
    const log = await openExisting(dir);
    const out = new StdoutWriter();
    try {
      const connection = await connect({
        bootstrapServers: to,
        clientId: optionalString(values, "client-id") ?? "reel-migrate",
      });
      try {
        const summary = await migrateTo(log, connection, {
          topics,
          replicationFactor,
          onLine: (line) => out.writeText(line + "\n"),
        });
        const records = summary.topics.flatMap((t) => t.partitions).reduce((n, p) => n + p.copied, 0);
        const translated = summary.topics.flatMap((t) => t.partitions).filter((p) => p.translated).length;
        out.writeText(
          `migrated ${summary.topics.length} topic(s), ${records} record(s), ${summary.offsets.length} committed offset(s)` +
            (translated > 0
              ? `; offsets translated in ${translated} partition(s)`
              : "; offsets equal to reel's") +
            "\n",
        );
      } finally {
        await connection.close();
      }
      await out.end();
      return 0;
    } finally {
      await log.close();
    }
  },
};
