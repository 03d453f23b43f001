/**
 * `reel serve`: a Kafka broker over a log directory, until SIGINT or SIGTERM.
 *
 * @module
 */
import { MAX_PARTITIONS } from "../../runtime/log_paths.ts";
import process from "node:process";
import { open } from "../../../mod.ts";
import { serve as startBroker } from "../../server/broker.ts";
import { SASL_MECHANISMS, type SaslMechanism } from "../../server/sasl/sasl_exchange.ts";
import {
  integerOption,
  optionalString,
  type OptionValues,
  parseInteger,
  readOptionFile,
  requireString,
  UsageError,
} from "../args.ts";
import type { Command } from "../command.ts";
import { untilStopSignal } from "../stdio.ts";

/**
 * Reads `--sasl-users`: a JSON object of user names and their passwords.
 *
 * @param path the file
 * @returns each user's password
 * @throws {UsageError} when the file cannot be read or is not such an object
 */
function readSaslUsers(path: string): Record<string, string> {
  let users: unknown;
  try {
    users = JSON.parse(new TextDecoder().decode(readOptionFile(path, "--sasl-users")));
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`Invalid --sasl-users ${JSON.stringify(path)}: ${(err as Error).message}`);
  }
  if (
    typeof users !== "object" || users === null || Array.isArray(users) ||
    Object.values(users).some((p) => typeof p !== "string" || p === "")
  ) {
    throw new UsageError(
      `Invalid --sasl-users ${JSON.stringify(path)}: expected a JSON object of user names and passwords`,
    );
  }
  return users as Record<string, string>;
}

/**
 * Splits `host:port` (`[v6]:port` for IPv6).
 *
 * @param text the address
 * @param what the option, for the message
 * @returns the host and port
 * @throws {UsageError} when it is not `host:port`
 * @example Parse --listen values, IPv6 in brackets
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseHostPort } from "./serve.ts";
 * assert.deepEqual(parseHostPort("127.0.0.1:9092", "--listen"), { host: "127.0.0.1", port: 9092 });
 * assert.deepEqual(parseHostPort("[::1]:0", "--listen"), { host: "::1", port: 0 });
 * ```
 */
export function parseHostPort(text: string, what: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(text);
  if (!m) throw new UsageError(`Invalid ${what} ${JSON.stringify(text)}: expected host:port`);
  return { host: m[1] ?? m[2], port: parseInteger(m[3], `${what} port`, 0, 65535) };
}

/** `reel serve`. */
export const serve: Command = {
  name: "serve",
  summary: "Serve a log directory to Kafka clients (the Kafka wire protocol)",
  help: `Usage: reel serve --dir D [--listen HOST:PORT] [options]

Runs a Kafka broker over the log directory D (created if missing) until SIGINT
or SIGTERM: Kafka clients (the Java client, librdkafka/kcat, kafkajs, ...)
produce to and consume from its topics. One node: it is the controller, the
leader of every partition. Prints "listening on HOST:PORT" once ready.

Options:
  --dir D                       the log directory
  --listen HOST:PORT            where to listen (default 127.0.0.1:9092; port 0
                                lets the system choose)
  --advertised-listener H:P     the address clients are told to connect to
                                (default: the listen address)
  --node-id N                   the broker's node ID (default 0)
  --num-partitions N            partitions of auto-created topics (default 1)
  --no-auto-create              do not create topics that Metadata or Produce
                                name (auto.create.topics.enable=false)
  --max-request-bytes N         refuse larger requests (socket.request.max.bytes,
                                default 104857600)
  --tls-cert FILE               serve TLS with this certificate chain (PEM);
                                needs --tls-key (Kafka's SSL / SASL_SSL)
  --tls-key FILE                the certificate's private key (PEM)
  --sasl-users FILE             require SASL authentication of these users: a
                                JSON object {"alice": "password", ...}
                                (SASL_PLAINTEXT, or SASL_SSL with --tls-cert)
  --sasl-mechanisms LIST        the mechanisms offered, comma-separated (default
                                PLAIN,SCRAM-SHA-256,SCRAM-SHA-512)
  --verbose                     print the stack of an error
  -h, --help                    show this help

Example:
  reel serve --dir data --listen 127.0.0.1:9092
  kcat -b 127.0.0.1:9092 -L
`,
  options: {
    dir: { type: "string" },
    listen: { type: "string" },
    "advertised-listener": { type: "string" },
    "node-id": { type: "string" },
    "num-partitions": { type: "string" },
    "no-auto-create": { type: "boolean" },
    "max-request-bytes": { type: "string" },
    "tls-cert": { type: "string" },
    "tls-key": { type: "string" },
    "sasl-users": { type: "string" },
    "sasl-mechanisms": { type: "string" },
  },
  async run(values: OptionValues): Promise<number> {
    const dir = requireString(values, "dir");
    const listenAt = parseHostPort(optionalString(values, "listen") ?? "127.0.0.1:9092", "--listen");
    const advertisedText = optionalString(values, "advertised-listener");
    const advertised = advertisedText !== undefined
      ? parseHostPort(advertisedText, "--advertised-listener")
      : undefined;
    const nodeId = integerOption(values, "node-id", 0, 2 ** 31 - 1) ?? 0;
    const numPartitions = integerOption(values, "num-partitions", 1, MAX_PARTITIONS) ?? 1;
    const maxRequestBytes = integerOption(values, "max-request-bytes", 8, 2 ** 31 - 1);
    const certPath = optionalString(values, "tls-cert");
    const keyPath = optionalString(values, "tls-key");
    if ((certPath === undefined) !== (keyPath === undefined)) {
      throw new UsageError("--tls-cert and --tls-key go together: give both or neither");
    }
    const tls = certPath !== undefined && keyPath !== undefined
      ? { cert: readOptionFile(certPath, "--tls-cert"), key: readOptionFile(keyPath, "--tls-key") }
      : undefined;
    const usersPath = optionalString(values, "sasl-users");
    const mechanisms = optionalString(values, "sasl-mechanisms")?.split(",").map((m) => m.trim());
    if (mechanisms !== undefined && usersPath === undefined) {
      throw new UsageError("--sasl-mechanisms needs --sasl-users");
    }
    const unknown = mechanisms?.find((m) => !SASL_MECHANISMS.includes(m as SaslMechanism));
    if (unknown !== undefined) {
      throw new UsageError(
        `Invalid --sasl-mechanisms ${JSON.stringify(unknown)}: expected ${SASL_MECHANISMS.join(", ")}`,
      );
    }
    const sasl = usersPath !== undefined ? { users: readSaslUsers(usersPath), mechanisms } : undefined;
    const log = await open(dir);
    const stop = new AbortController();
    let broker;
    try {
      broker = await startBroker(log, {
        hostname: listenAt.host,
        port: listenAt.port,
        advertisedHost: advertised?.host,
        advertisedPort: advertised?.port,
        nodeId,
        numPartitions,
        autoCreateTopics: values["no-auto-create"] !== true,
        maxRequestBytes,
        tls,
        sasl,
        signal: stop.signal,
      });
    } catch (err) {
      await log.close();
      throw err;
    }
    const stopped = untilStopSignal();
    process.stderr.write(`reel: listening on ${broker.address}\n`);
    await stopped;
    await broker.close();
    process.stderr.write("reel: stopped\n");
    return 0;
  },
};
