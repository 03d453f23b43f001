/**
 * The Apache Kafka harness of reel's interop tests (test tooling, not product code): a pinned
 * Kafka release's jars (fetched by `pom.xml` into the git-ignored `.cache/lib/`), KRaft brokers
 * started on loopback with free ports and their data in a temporary directory, and Kafka's own
 * tools (`kafka.tools.DumpLogSegments`, the console producer and consumer, the consumer group
 * command, the perf tools) and small Java clients (`ReelInterop.java`) run through `java -cp`.
 * Runs under Deno and Bun (node: APIs only).
 *
 * No process outlives the test that started it. Every Java process runs in a process group of its
 * own, beside a watcher that reads a pipe from this process and kills the group (SIGKILL) when the
 * pipe closes: when this process exits, however it exits (a failed test, an uncaught error,
 * SIGKILL), its pipes close and the brokers die with it. `stopAll()` and an exit hook also kill
 * every group still running.
 *
 * @example A broker, a topic, and DumpLogSegments on its first segment
 * ```ts
 * import assert from "node:assert/strict";
 * if (!kafkaUnavailable()) {
 *   const kafka = await startKafka();
 *   try {
 *     await kafka.createTopic("events", 1);
 *     const { stdout } = await runKafkaTool(TOOLS.dumpLogSegments, ["--files", kafka.segmentPath("events", 0, 0)]);
 *     assert.match(stdout, /Log starting offset: 0/);
 *   } finally {
 *     await kafka.destroy();
 *   }
 * }
 * ```
 *
 * @module
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

/** The Kafka release the harness runs (the `kafka.version` of `pom.xml`). */
export const KAFKA_VERSION = "4.1.1";
/** This folder: `pom.xml`, the Java sources and the `.cache/`. */
export const HARNESS_DIR = path.dirname(fileURLToPath(import.meta.url));
/** Where `mvn dependency:copy-dependencies` puts the jars. */
export const LIB_DIR = path.join(HARNESS_DIR, ".cache", "lib");
/** Where the harness compiles its Java sources (suffixed with a hash of them). */
export const CLASSES_DIR = path.join(HARNESS_DIR, ".cache", "classes");
const LOG4J_CONFIG = path.join(HARNESS_DIR, "log4j2.properties");
const JAVA_SOURCES = ["ReelInterop.java", "HexDecoder.java"];

/** Main classes of Kafka's command-line tools (what the `bin/kafka-*.sh` scripts run), in 4.x. */
export const TOOLS = {
  /** `kafka-dump-log.sh` */
  dumpLogSegments: "kafka.tools.DumpLogSegments",
  /** `kafka-storage.sh` */
  storageTool: "kafka.tools.StorageTool",
  /** `kafka-topics.sh` */
  topicCommand: "org.apache.kafka.tools.TopicCommand",
  /** `kafka-console-producer.sh` */
  consoleProducer: "org.apache.kafka.tools.ConsoleProducer",
  /** `kafka-console-consumer.sh` */
  consoleConsumer: "org.apache.kafka.tools.consumer.ConsoleConsumer",
  /** `kafka-consumer-groups.sh` */
  consumerGroups: "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
  /** `kafka-producer-perf-test.sh` */
  producerPerformance: "org.apache.kafka.tools.ProducerPerformance",
  /** `kafka-consumer-perf-test.sh` */
  consumerPerformance: "org.apache.kafka.tools.ConsumerPerformance",
  /** `kafka-log-dirs.sh` */
  logDirs: "org.apache.kafka.tools.LogDirsCommand",
  /** `kafka-get-offsets.sh` */
  getOffsets: "org.apache.kafka.tools.GetOffsetShell",
  /** reel's own Java client (`ReelInterop.java`): `produce` and `consume` with any client config. */
  reelInterop: "ReelInterop",
  /** A key/value decoder for DumpLogSegments that prints bytes as hex (`HexDecoder.java`). */
  hexDecoder: "HexDecoder",
} as const;

/**
 * JVM options: a small heap, the serial collector and the C1 compiler only, which start fastest on
 * a shared 2-core machine (a broker serves within about 2 s).
 */
const JVM_OPTIONS = [
  "-XX:+UseSerialGC",
  "-XX:TieredStopAtLevel=1",
  "-Xshare:auto",
  "-Djava.awt.headless=true",
  `-Dlog4j2.configurationFile=${LOG4J_CONFIG}`,
];
const BROKER_HEAP = ["-Xms256m", "-Xmx512m"];
const TOOL_HEAP = ["-Xms64m", "-Xmx256m"];

const START_TIMEOUT_MS = 90_000;
const TOOL_TIMEOUT_MS = 120_000;

// ---------------------------------------------------------------------------------------------
// Availability

function onPath(cmd: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function jarsPresent(): boolean {
  return fs.existsSync(path.join(LIB_DIR, `kafka_2.13-${KAFKA_VERSION}.jar`)) &&
    fs.existsSync(path.join(LIB_DIR, `kafka-tools-${KAFKA_VERSION}.jar`));
}

/** Whether the interop tests must run (`REEL_REQUIRE_KAFKA=1`, as `.ci/run` sets): then nothing skips. */
export function kafkaRequired(): boolean {
  return process.env.REEL_REQUIRE_KAFKA === "1";
}

/**
 * Why the Kafka interop tests cannot run here, or `undefined` when they can (Java is on the PATH and
 * the jars are in `.cache/lib/`; `fetchKafka()` or `tests/run.mjs` fetches them).
 *
 * @throws {Error} when they cannot run but `REEL_REQUIRE_KAFKA=1` says they must
 */
export function kafkaUnavailable(): string | undefined {
  let reason: string | undefined;
  if (process.env.REEL_SKIP_KAFKA === "1") reason = "REEL_SKIP_KAFKA=1";
  else if (!onPath("java") || !onPath("javac")) reason = "java/javac not found on the PATH";
  else if (!jarsPresent()) {
    reason = `Kafka ${KAFKA_VERSION} jars not in ${LIB_DIR} (run: mvn -q -f tests/interop/kafka/pom.xml ` +
      `dependency:copy-dependencies)`;
  }
  if (reason && kafkaRequired()) {
    throw new Error(`Kafka interop tests are required but cannot run: ${reason}`);
  }
  return reason;
}

/**
 * Fetches the pinned Kafka release's jars into `.cache/lib/` with Maven (once: nothing is done when
 * they are there).
 *
 * @throws {Error} when Maven fails (its output in the message)
 */
export function fetchKafka(): void {
  if (jarsPresent()) return;
  try {
    execFileSync(
      "mvn",
      ["-q", "-B", "-f", path.join(HARNESS_DIR, "pom.xml"), "dependency:copy-dependencies"],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
  } catch (err) {
    const e = err as { stdout?: Uint8Array; stderr?: Uint8Array; message: string };
    throw new Error(
      `Cannot fetch Kafka ${KAFKA_VERSION} with Maven: ${e.message}\n${e.stdout ?? ""}${e.stderr ?? ""}`,
    );
  }
}

/**
 * Compiles the harness's Java sources, once per content: into `.cache/classes-<hash of the
 * sources>/`, made in a temporary directory and renamed into place, so that two test processes
 * (Deno's and Bun's, or two checkouts sharing a cache) never see half-written classes.
 *
 * @returns the directory of the compiled classes
 */
function compileJava(): string {
  const hash = createHash("sha256");
  for (const f of JAVA_SOURCES) hash.update(f).update(fs.readFileSync(path.join(HARNESS_DIR, f)));
  const dir = `${CLASSES_DIR}-${hash.digest("hex").slice(0, 16)}`;
  if (fs.existsSync(dir)) return dir;
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  try {
    execFileSync("javac", [
      "-nowarn",
      "-cp",
      path.join(LIB_DIR, "*"),
      "-d",
      tmp,
      ...JAVA_SOURCES.map((f) => path.join(HARNESS_DIR, f)),
    ], { stdio: ["ignore", "pipe", "pipe"] });
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    const e = err as { stdout?: Uint8Array; stderr?: Uint8Array; message: string };
    throw new Error(
      `Cannot compile ${JAVA_SOURCES.join(", ")}: ${e.message}\n${e.stdout ?? ""}${e.stderr ?? ""}`,
    );
  }
  try {
    fs.renameSync(tmp, dir);
  } catch {
    // Another process renamed its copy first: the same classes.
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
}

/**
 * The Java classpath of Kafka's jars and the harness's own classes (compiled on first use), for
 * `java -cp`.
 */
export function kafkaClasspath(): string {
  return [path.join(LIB_DIR, "*"), compileJava()].join(path.delimiter);
}

// ---------------------------------------------------------------------------------------------
// Processes: each in a group of its own, killed when this process goes

const live = new Set<ChildProcess>();
let hooked = false;

function killGroup(child: ChildProcess, signal: "SIGKILL" | "SIGTERM" = "SIGKILL"): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch { /* already gone */ }
}

/** Kills every Java process the harness started that is still running (SIGKILL to its group). */
export function killAll(): void {
  for (const child of live) {
    killGroup(child);
    child.stdin?.destroy();
  }
  live.clear();
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on("exit", killAll);
}

// The wrapper: fd 3 keeps the pipe from this process; a background `cat` waits for it to close
// (this process ended) and then kills the whole group. The Java process replaces the shell, so its
// pid is the child's pid and the group's id.
const WRAPPER = 'exec 3<&0 <"${REEL_STDIN:-/dev/null}"; (cat <&3 >/dev/null; kill -9 0) & exec "$@"';

interface Spawned {
  child: ChildProcess;
  exited: Promise<number>;
}

/**
 * Starts one of Kafka's tools with its standard output and error as pipes, for the tools that
 * report as they go (VerifiableProducer, VerifiableConsumer: one JSON line per event). Like every
 * process the harness starts, it is killed when this process ends.
 *
 * @param mainClass the tool's class (`org.apache.kafka.tools.VerifiableConsumer`)
 * @param args its arguments
 * @returns the process; its `pid` is the Java process's, so SIGTERM reaches the tool's shutdown hook
 */
export function spawnKafkaTool(mainClass: string, args: readonly string[]): ChildProcess {
  hookExit();
  const java = [...JVM_OPTIONS, ...TOOL_HEAP, "-cp", kafkaClasspath(), mainClass, ...args];
  const child = spawn("setsid", ["sh", "-c", WRAPPER, "sh", "java", ...java], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  live.add(child);
  child.on("exit", () => {
    child.stdin?.destroy();
    killGroup(child);
    live.delete(child);
  });
  return child;
}

function spawnJava(args: string[], stdoutFile: string, stderrFile: string, stdinFile?: string): Spawned {
  hookExit();
  const out = fs.openSync(stdoutFile, "a");
  const err = stderrFile === stdoutFile ? out : fs.openSync(stderrFile, "a");
  let child: ChildProcess;
  try {
    child = spawn("setsid", ["sh", "-c", WRAPPER, "sh", "java", ...args], {
      stdio: ["pipe", out, err],
      env: { ...process.env, REEL_STDIN: stdinFile ?? "/dev/null" },
    });
  } finally {
    fs.closeSync(out);
    if (err !== out) fs.closeSync(err);
  }
  live.add(child);
  const exited = new Promise<number>((resolve) => {
    child.on("error", () => {
      live.delete(child);
      resolve(127);
    });
    child.on("exit", (code, signal) => {
      // Java is gone: close the pipe so that its watcher ends too.
      child.stdin?.destroy();
      killGroup(child);
      live.delete(child);
      resolve(code ?? (signal === "SIGKILL" ? 137 : 143));
    });
  });
  return { child, exited };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function tail(file: string, lines = 40): string {
  try {
    return fs.readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

// ---------------------------------------------------------------------------------------------
// Tools

/** What a tool printed and how it exited. */
export interface ToolResult {
  /** The exit status (137 after SIGKILL). */
  code: number;
  /** Its standard output, UTF-8. */
  stdout: string;
  /** Its standard error, UTF-8. */
  stderr: string;
}

/** Options of {@linkcode runKafkaTool}. */
export interface ToolOptions {
  /** Bytes or text for its standard input. @default none (/dev/null) */
  input?: string | Uint8Array;
  /** Throw when it exits non-zero. @default true */
  check?: boolean;
  /** Kill it (and fail) after this long, ms: a safety net, never a pass/fail condition. @default 120000 */
  timeoutMs?: number;
  /** Extra JVM options, e.g. `-Dkey=value`. */
  jvmOptions?: string[];
}

/**
 * Runs one of Kafka's tools, or a harness Java class, as `java -cp <classpath> <mainClass> ...args`
 * and waits for it to exit.
 *
 * @param mainClass a class of {@linkcode TOOLS}, or any main class on the classpath
 * @param args its command-line arguments
 * @param options input, exit-status check, timeout
 * @returns its exit status and output
 * @throws {Error} when it exits non-zero (unless `check: false`) or runs past the timeout
 */
export async function runKafkaTool(
  mainClass: string,
  args: readonly string[],
  options: ToolOptions = {},
): Promise<ToolResult> {
  const classpath = kafkaClasspath();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-kafka-tool-"));
  try {
    let stdin: string | undefined;
    if (options.input !== undefined) {
      stdin = path.join(dir, "stdin");
      fs.writeFileSync(stdin, options.input);
    }
    const stdoutFile = path.join(dir, "stdout");
    const stderrFile = path.join(dir, "stderr");
    const { child, exited } = spawnJava(
      [...JVM_OPTIONS, ...TOOL_HEAP, ...(options.jvmOptions ?? []), "-cp", classpath, mainClass, ...args],
      stdoutFile,
      stderrFile,
      stdin,
    );
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child);
    }, options.timeoutMs ?? TOOL_TIMEOUT_MS);
    const code = await exited;
    clearTimeout(timer);
    const result = {
      code,
      stdout: fs.readFileSync(stdoutFile, "utf8"),
      stderr: fs.readFileSync(stderrFile, "utf8"),
    };
    if (timedOut) throw new Error(`${mainClass} ${args.join(" ")} ran past its timeout:\n${result.stderr}`);
    if (code !== 0 && options.check !== false) {
      throw new Error(
        `${mainClass} ${args.join(" ")} exited with ${code}:\n${result.stderr}\n${
          result.stdout.slice(0, 4000)
        }`,
      );
    }
    return result;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Brokers

/** Finds `count` free TCP ports on 127.0.0.1 (each bound and released). */
export async function freePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = net.createServer();
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve());
      });
      servers.push(server);
    }
    return servers.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

/** One KRaft node of a {@linkcode KafkaCluster}: broker and controller in one process. */
export class KafkaBroker {
  #process: Spawned | undefined;
  #starts = 0;

  constructor(
    /** Its `node.id`. */
    readonly nodeId: number,
    /** Its client (PLAINTEXT) port on 127.0.0.1. */
    readonly port: number,
    /** Its controller port on 127.0.0.1. */
    readonly controllerPort: number,
    /** Its folder: `server.properties`, `broker.log`, and `data/` (its `log.dirs`). */
    readonly dir: string,
    /** The JVM's options (heap, collector, compiler); the harness's quick-start ones by default. */
    readonly jvmOptions: readonly string[] = [...JVM_OPTIONS, ...BROKER_HEAP],
  ) {}

  /** The Java process's ID while it runs. */
  get pid(): number | undefined {
    return this.#process?.child.pid;
  }

  /** Its `log.dirs`: one partition directory `<topic>-<partition>` per replica it holds. */
  get logDir(): string {
    return path.join(this.dir, "data");
  }

  /** The file its output goes to. */
  get logFile(): string {
    return path.join(this.dir, "broker.log");
  }

  /** Whether its process is running. */
  get running(): boolean {
    return this.#process !== undefined;
  }

  /** Starts the process; `ready()` waits until it serves. */
  start(): void {
    if (this.#process) throw new Error(`Broker ${this.nodeId} is already running`);
    this.#starts++;
    fs.appendFileSync(this.logFile, `\n==== start ${this.#starts}\n`);
    this.#process = spawnJava(
      [
        ...this.jvmOptions,
        "-cp",
        kafkaClasspath(),
        "kafka.Kafka",
        path.join(this.dir, "server.properties"),
      ],
      this.logFile,
      this.logFile,
    );
    const proc = this.#process;
    proc.exited.then(() => {
      if (this.#process === proc) this.#process = undefined;
    });
  }

  /** What the broker has logged since it last started (warnings, errors, and the line that it serves). */
  currentLog(): string {
    const text = fs.readFileSync(this.logFile, "utf8");
    return text.slice(text.lastIndexOf(`==== start ${this.#starts}\n`));
  }

  /** Waits until this start of the broker has logged `Kafka Server started`. */
  async ready(timeoutMs = START_TIMEOUT_MS): Promise<void> {
    const marker = `==== start ${this.#starts}\n`;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = fs.readFileSync(this.logFile, "utf8");
      const since = text.slice(text.lastIndexOf(marker));
      if (since.includes("Kafka Server started")) return;
      if (!this.#process) {
        throw new Error(`Broker ${this.nodeId} exited before it served:\n${tail(this.logFile)}`);
      }
      if (Date.now() > deadline) {
        this.kill();
        throw new Error(`Broker ${this.nodeId} did not serve within ${timeoutMs} ms:\n${tail(this.logFile)}`);
      }
      await sleep(50);
    }
  }

  /** Stops it cleanly (SIGTERM: a controlled shutdown, logs flushed) and waits for it to exit. */
  async stop(timeoutMs = 60_000): Promise<void> {
    const proc = this.#process;
    if (!proc) return;
    killGroupPid(proc.child, "SIGTERM");
    const timer = setTimeout(() => killGroup(proc.child), timeoutMs);
    await proc.exited;
    clearTimeout(timer);
    this.#process = undefined;
  }

  /** Kills it with SIGKILL (no shutdown: what a crash leaves) and waits for it to exit. */
  async kill(): Promise<void> {
    const proc = this.#process;
    if (!proc) return;
    killGroup(proc.child);
    await proc.exited;
    this.#process = undefined;
  }
}

/** SIGTERM to the Java process only (its watcher ends when the pipe closes after Java exits). */
function killGroupPid(child: ChildProcess, signal: "SIGTERM"): void {
  try {
    if (child.pid !== undefined) process.kill(child.pid, signal);
  } catch { /* already gone */ }
}

/** Options of {@linkcode startKafka}. */
export interface KafkaOptions {
  /** How many nodes, each a broker and a controller quorum voter. @default 1 */
  brokers?: number;
  /** Extra broker configs (`server.properties` lines), over the harness's. */
  config?: Record<string, string | number | boolean>;
  /**
   * The brokers' JVM options instead of the harness's quick-start ones (serial GC, C1 only, 512 MiB):
   * {@linkcode KAFKA_DEFAULT_JVM_OPTIONS} for what `kafka-server-start.sh` runs, as benchmarks want.
   */
  jvmOptions?: readonly string[];
}

/**
 * The JVM options `kafka-server-start.sh` gives a broker (`KAFKA_HEAP_OPTS` and
 * `KAFKA_JVM_PERFORMANCE_OPTS` of `kafka-run-class.sh`), with the harness's log4j config.
 */
export const KAFKA_DEFAULT_JVM_OPTIONS: readonly string[] = [
  "-Xmx1G",
  "-Xms1G",
  "-server",
  "-XX:+UseG1GC",
  "-XX:MaxGCPauseMillis=20",
  "-XX:InitiatingHeapOccupancyPercent=35",
  "-XX:+ExplicitGCInvokesConcurrent",
  "-Djava.awt.headless=true",
  `-Dlog4j2.configurationFile=${LOG4J_CONFIG}`,
];

/** A running Kafka cluster of KRaft nodes on loopback, its data in a temporary directory. */
export class KafkaCluster {
  constructor(
    /** Its nodes, by index (node ids 1..N). */
    readonly brokers: readonly KafkaBroker[],
    /** The temporary directory that holds everything (removed by `stop()`). */
    readonly dir: string,
  ) {}

  /** `host:port,...` of every broker, for `bootstrap.servers`. */
  get bootstrapServers(): string {
    return this.brokers.map((b) => `127.0.0.1:${b.port}`).join(",");
  }

  /** The partition directory `<topic>-<partition>` in broker `broker`'s log dir. */
  partitionDir(topic: string, partition: number, broker = 0): string {
    return path.join(this.brokers[broker].logDir, `${topic}-${partition}`);
  }

  /** The path of a segment's `.log` file (its name is the 20-digit base offset). */
  segmentPath(topic: string, partition: number, baseOffset: number, broker = 0): string {
    return path.join(
      this.partitionDir(topic, partition, broker),
      `${String(baseOffset).padStart(20, "0")}.log`,
    );
  }

  /** Starts every stopped broker and waits until all serve. */
  async start(): Promise<void> {
    for (const b of this.brokers) if (!b.running) b.start();
    await Promise.all(this.brokers.map((b) => b.ready()));
  }

  /** Stops every broker cleanly (a clean shutdown), keeping the data. */
  async stopBrokers(): Promise<void> {
    // All at once: a controller quorum that loses its majority one by one would stall the last ones.
    await Promise.all(this.brokers.map((b) => b.stop()));
  }

  /**
   * Kills every broker (SIGKILL: nothing to wait for) and removes the temporary directory: the
   * quick end for an `after` hook, whose data is thrown away (Bun gives hooks 5 s).
   */
  async destroy(): Promise<void> {
    try {
      await Promise.all(this.brokers.map((b) => b.kill()));
    } finally {
      fs.rmSync(this.dir, { recursive: true, force: true });
    }
  }

  /** Stops every broker cleanly and removes the temporary directory. */
  async stop(): Promise<void> {
    try {
      await this.stopBrokers();
    } finally {
      await Promise.all(this.brokers.map((b) => b.kill()));
      fs.rmSync(this.dir, { recursive: true, force: true });
    }
  }

  /**
   * Creates a topic with `kafka-topics.sh --create`.
   *
   * @param name the topic
   * @param partitions how many partitions
   * @param config topic configs (`segment.bytes`, `compression.type`, ...)
   * @param replicationFactor replicas of each partition @default 1
   */
  async createTopic(
    name: string,
    partitions = 1,
    config: Record<string, string | number> = {},
    replicationFactor = 1,
  ): Promise<void> {
    const args = [
      "--bootstrap-server",
      this.bootstrapServers,
      "--create",
      "--topic",
      name,
      "--partitions",
      String(partitions),
      "--replication-factor",
      String(replicationFactor),
    ];
    for (const [k, v] of Object.entries(config)) args.push("--config", `${k}=${v}`);
    await runKafkaTool(TOOLS.topicCommand, args);
  }
}

/**
 * Starts a Kafka cluster of `brokers` KRaft nodes (each broker and controller, all of them quorum
 * voters) on free loopback ports, formats their storage, and waits until every node serves.
 *
 * @param options how many nodes, extra broker configs
 * @returns the running cluster; `stop()` it in a `finally` or an `after` hook
 * @throws {Error} when a node exits or does not serve in time (its log's tail in the message)
 */
export async function startKafka(options: KafkaOptions = {}): Promise<KafkaCluster> {
  const count = options.brokers ?? 1;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-kafka-"));
  const ports = await freePorts(2 * count);
  const brokers = Array.from(
    { length: count },
    (_, i) =>
      new KafkaBroker(
        i + 1,
        ports[2 * i],
        ports[2 * i + 1],
        path.join(dir, `broker-${i + 1}`),
        options.jvmOptions ?? [...JVM_OPTIONS, ...BROKER_HEAP],
      ),
  );
  const voters = brokers.map((b) => `${b.nodeId}@127.0.0.1:${b.controllerPort}`).join(",");
  const replicas = Math.min(3, count);
  const cluster = new KafkaCluster(brokers, dir);
  try {
    for (const b of brokers) {
      fs.mkdirSync(b.dir, { recursive: true });
      const config: Record<string, string | number | boolean> = {
        "process.roles": "broker,controller",
        "node.id": b.nodeId,
        "controller.quorum.voters": voters,
        "listeners": `PLAINTEXT://127.0.0.1:${b.port},CONTROLLER://127.0.0.1:${b.controllerPort}`,
        "advertised.listeners": `PLAINTEXT://127.0.0.1:${b.port}`,
        "controller.listener.names": "CONTROLLER",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "inter.broker.listener.name": "PLAINTEXT",
        "log.dirs": b.logDir,
        "num.partitions": 1,
        "default.replication.factor": 1,
        "offsets.topic.replication.factor": replicas,
        "offsets.topic.num.partitions": 1,
        "transaction.state.log.replication.factor": replicas,
        "transaction.state.log.min.isr": 1,
        "transaction.state.log.num.partitions": 1,
        "group.initial.rebalance.delay.ms": 0,
        "auto.create.topics.enable": false,
        "num.network.threads": 2,
        "num.io.threads": 2,
        "num.recovery.threads.per.data.dir": 1,
        "log.cleaner.threads": 1,
        "log.cleaner.dedupe.buffer.size": 2 * 1024 * 1024,
        ...options.config,
      };
      fs.writeFileSync(
        path.join(b.dir, "server.properties"),
        Object.entries(config).map(([k, v]) => `${k}=${v}`).join("\n") + "\n",
      );
    }
    const clusterId = randomClusterId();
    await Promise.all(brokers.map((b) =>
      runKafkaTool(TOOLS.storageTool, [
        "format",
        "--cluster-id",
        clusterId,
        "--config",
        path.join(b.dir, "server.properties"),
        "--ignore-formatted",
      ])
    ));
    await cluster.start();
    return cluster;
  } catch (err) {
    await cluster.stop().catch(() => {});
    throw err;
  }
}

/** A random cluster id: 16 bytes as URL-safe base64 without padding (22 characters), as Kafka's Uuid. */
function randomClusterId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  // Never a leading "-" (the top 6 bits 62 in base64url), which Kafka's tools would read as an
  // option ("--cluster-id -Xb5..."): Kafka's Uuid.randomUuid() skips such IDs too.
  bytes[0] &= 0x7f;
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

// ---------------------------------------------------------------------------------------------
// reel's Java client

/** One record as `ReelInterop` reads and prints it (bytes as hex, `null` for none). */
export interface JavaRecord {
  partition: number;
  offset?: number;
  timestamp?: number;
  key: string | null;
  value: string | null;
  headers: [string, string | null][];
}

const hexOf = (b: Uint8Array | null | undefined): string | null =>
  b == null ? null : Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

/** Bytes (or `null`) as the lowercase hex `JavaRecord` uses. */
export function toHex(b: Uint8Array | string | null | undefined): string | null {
  return typeof b === "string" ? hexOf(new TextEncoder().encode(b)) : hexOf(b);
}

/** A record reel delivered, in the shape the Java consumer's records are compared in. */
export function toJavaRecord(
  r: {
    partition: number;
    offset: number;
    timestamp: number;
    key: Uint8Array | null;
    value: Uint8Array | null;
    headers: { key: string; value: Uint8Array | null }[];
  },
): Required<JavaRecord> {
  return {
    partition: r.partition,
    offset: r.offset,
    timestamp: r.timestamp,
    key: toHex(r.key),
    value: toHex(r.value),
    headers: r.headers.map((h) => [h.key, toHex(h.value)]),
  };
}

function field(v: string | null): string {
  return v === null ? "-" : v === "" ? "=" : v;
}

function parseField(v: string): string | null {
  return v === "-" ? null : v === "=" ? "" : v;
}

/** A step of a Java producer's script: send a record, or begin/commit/abort a transaction, or flush. */
export type ProduceStep =
  | { send: JavaRecord }
  | "begin"
  | "commit"
  | "abort"
  | "flush";

/**
 * Runs a Java `KafkaProducer` (`ReelInterop produce`) with the given configs over a script of sends
 * and transaction steps. With a `transactional.id` config it calls `initTransactions()` first.
 *
 * @param bootstrap `bootstrap.servers`
 * @param topic the topic
 * @param steps what to do, in order
 * @param config producer configs (`compression.type`, `transactional.id`, `acks`, ...)
 * @returns the offset each send got, in order (`-1` for a send whose transaction was aborted before it was acknowledged)
 */
export async function javaProduce(
  bootstrap: string,
  topic: string,
  steps: readonly ProduceStep[],
  config: Record<string, string | number | boolean> = {},
): Promise<{ partition: number; offset: number }[]> {
  const lines = steps.map((s) => {
    if (typeof s === "string") return s;
    const r = s.send;
    const headers = r.headers.map(([k, v]) => `${toHex(k)}:${field(v)}`).join(",");
    return ["send", r.partition, r.timestamp ?? -1, field(r.key), field(r.value), headers || "~"].join("\t");
  });
  const props = Object.entries(config).map(([k, v]) => `${k}=${v}`);
  const { stdout } = await runKafkaTool(TOOLS.reelInterop, ["produce", bootstrap, topic, ...props], {
    input: lines.join("\n") + "\n",
  });
  return stdout.split("\n").filter((l) => l.startsWith("ack\t")).map((l) => {
    const [, partition, offset] = l.split("\t");
    return { partition: Number(partition), offset: Number(offset) };
  });
}

/**
 * Reads every record of a topic with a Java `KafkaConsumer` (`ReelInterop consume`): all partitions
 * assigned, from the beginning to the end offsets (the last stable offset under read_committed).
 *
 * @param bootstrap `bootstrap.servers`
 * @param topic the topic
 * @param isolationLevel `read_committed` or `read_uncommitted`
 * @returns the records, each partition in offset order, partitions in order
 */
export async function javaConsume(
  bootstrap: string,
  topic: string,
  isolationLevel: "read_committed" | "read_uncommitted" = "read_uncommitted",
): Promise<Required<JavaRecord>[]> {
  return (await javaConsumeTopics(bootstrap, [topic], isolationLevel)).get(topic)!;
}

/**
 * Like {@linkcode javaConsume}, for several topics with one consumer (one JVM start).
 *
 * @returns each topic's records, each partition in offset order, partitions in order
 */
export async function javaConsumeTopics(
  bootstrap: string,
  topics: readonly string[],
  isolationLevel: "read_committed" | "read_uncommitted" = "read_uncommitted",
): Promise<Map<string, Required<JavaRecord>[]>> {
  const { stdout } = await runKafkaTool(TOOLS.reelInterop, [
    "consume",
    bootstrap,
    topics.join(","),
    isolationLevel,
  ]);
  const out = new Map<string, Required<JavaRecord>[]>(topics.map((t) => [t, []]));
  for (const line of stdout.split("\n")) {
    if (!line.startsWith("record\t")) continue;
    const [, topic, partition, offset, timestamp, key, value, headers] = line.split("\t");
    out.get(topic)!.push({
      partition: Number(partition),
      offset: Number(offset),
      timestamp: Number(timestamp),
      key: parseField(key),
      value: parseField(value),
      headers: headers === "~" ? [] : headers.split(",").map((h) => {
        const [k, v] = h.split(":");
        return [new TextDecoder().decode(fromHex(k)), parseField(v)] as [string, string | null];
      }),
    });
  }
  return out;
}

/** Lowercase hex to bytes. */
export function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
