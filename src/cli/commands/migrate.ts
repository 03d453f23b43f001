/**
 * `reel migrate`: moves a log directory's topics, records and committed group offsets into a Kafka
 * cluster, resuming where an interrupted run stopped (see `src/cluster/migrate.ts`).
 *
 * @module
 */
import {
  choiceOption,
  integerOption,
  optionalString,
  type OptionValues,
  readOptionFile,
  requireString,
  UsageError,
} from "../args.ts";
import { type Command, openExisting } from "../command.ts";
import { connect, type ConnectOptions, migrate as migrateTo } from "../../../mod.ts";

const SASL_MECHANISMS = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] as const;
const text = new TextDecoder();

/**
 * `--tls`, `--tls-ca`, `--tls-cert`/`--tls-key` and `--sasl-*` as `connect()`'s `tls` and `sasl`.
 *
 * @throws {UsageError} for a half-given pair, an unreadable file, or an unknown mechanism
 */
function securityOptions(values: OptionValues): Pick<ConnectOptions, "tls" | "sasl"> {
  const out: Pick<ConnectOptions, "tls" | "sasl"> = {};
  const ca = optionalString(values, "tls-ca");
  const cert = optionalString(values, "tls-cert");
  const key = optionalString(values, "tls-key");
  if ((cert === undefined) !== (key === undefined)) {
    throw new UsageError("--tls-cert and --tls-key go together: give both or neither");
  }
  if (values.tls === true || ca !== undefined || cert !== undefined) {
    out.tls = {
      ...(ca !== undefined ? { ca: text.decode(readOptionFile(ca, "--tls-ca")) } : {}),
      ...(cert !== undefined && key !== undefined
        ? {
          cert: text.decode(readOptionFile(cert, "--tls-cert")),
          key: text.decode(readOptionFile(key, "--tls-key")),
        }
        : {}),
    };
  }
  const username = optionalString(values, "sasl-username");
  const passwordFile = optionalString(values, "sasl-password-file");
  if ((username === undefined) !== (passwordFile === undefined)) {
    throw new UsageError("--sasl-username and --sasl-password-file go together: give both or neither");
  }
  if (username !== undefined && passwordFile !== undefined) {
    const password = text.decode(readOptionFile(passwordFile, "--sasl-password-file")).replace(/\r?\n$/, "");
    out.sasl = {
      mechanism: choiceOption(values, "sasl-mechanism", SASL_MECHANISMS, "SCRAM-SHA-512"),
      username,
      password,
    };
  } else if (optionalString(values, "sasl-mechanism") !== undefined) {
    throw new UsageError("--sasl-mechanism needs --sasl-username and --sasl-password-file");
  }
  return out;
}
import { StdoutWriter } from "../stdio.ts";

/** `reel migrate`. */
export const migrate: Command = {
  name: "migrate",
  summary: "Move topics, records and committed offsets into a Kafka cluster",
  help: `Usage: reel migrate --dir D --to HOST:PORT[,HOST:PORT...] [--topic T]...
                    [--replication-factor N] [--client-id ID]
                    [--tls] [--tls-ca FILE] [--tls-cert FILE --tls-key FILE]
                    [--sasl-mechanism M --sasl-username U --sasl-password-file FILE]

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
  --tls                     connect with TLS (Kafka's SSL), trusting the
                            system's CAs
  --tls-ca FILE             trust these CA certificates (PEM); implies --tls
  --tls-cert FILE           a client certificate (PEM) for mutual TLS; needs
                            --tls-key; implies --tls
  --tls-key FILE            the client certificate's private key (PEM)
  --sasl-mechanism M        PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (default:
                            SCRAM-SHA-512); with --tls, Kafka's SASL_SSL
  --sasl-username U         the SASL user
  --sasl-password-file FILE the user's password, read from a file (one line;
                            never on the command line, where ps shows it)
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
    tls: { type: "boolean" },
    "tls-ca": { type: "string" },
    "tls-cert": { type: "string" },
    "tls-key": { type: "string" },
    "sasl-mechanism": { type: "string" },
    "sasl-username": { type: "string" },
    "sasl-password-file": { type: "string" },
  },
  async run(values: OptionValues): Promise<number> {
    const dir = requireString(values, "dir");
    const to = requireString(values, "to");
    if (!/^[^,\s]+:\d+(,[^,\s]+:\d+)*$/.test(to)) {
      throw new UsageError(`Invalid --to ${JSON.stringify(to)}: expected HOST:PORT[,HOST:PORT...]`);
    }
    const topics = values.topic as string[] | undefined;
    const replicationFactor = integerOption(values, "replication-factor", 1, 32767);
    const security = securityOptions(values);
    const log = await openExisting(dir);
    const out = new StdoutWriter();
    try {
      const connection = await connect({
        bootstrapServers: to,
        clientId: optionalString(values, "client-id") ?? "reel-migrate",
        ...security,
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
