/**
 * `Consumer` as the user's API exports it: `new Consumer(log, options)` over a log directory from
 * `open()`, and the same `new Consumer(connection, options)` over a Kafka cluster from `connect()`,
 * so application code does not change when the log moves. It lives here, above both consumers in
 * the layers, because the local consumer (`src/consumer/`) may not import the cluster one.
 *
 * @module
 */
import { Consumer as LocalConsumer, type ConsumerOptions } from "../consumer/consumer.ts";
import type { LogDirectoryView } from "../consumer/log_directory_view.ts";
import { ReelError } from "../errors.ts";
import { ClusterConnection } from "./cluster_connection.ts";
import { ClusterConsumer } from "./cluster_consumer.ts";
import type { ConsumerLike, LogDirectoryLike } from "./log_directory_like.ts";

/**
 * The constructor `Consumer` is: its type says which consumer each source gives (a log directory's
 * `Consumer`, a connection's `ClusterConsumer`, or a `ConsumerLike` for code typed against
 * `LogDirectoryLike`).
 */
export interface ConsumerConstructor {
  /**
   * A consumer over an open log directory (reel's own group coordination and committed offsets).
   *
   * @param log from `open()`
   * @param options Kafka's consumer configs in camelCase
   */
  new (log: LogDirectoryView, options?: ConsumerOptions): Consumer;
  /**
   * A consumer over a Kafka cluster: a {@linkcode ClusterConsumer} (Kafka's consumer group and
   * committed offsets).
   *
   * @param connection from `connect()`
   * @param options the same options
   */
  new (connection: ClusterConnection, options?: ConsumerOptions): ClusterConsumer;
  /**
   * Either, for code typed against the shared shape.
   *
   * @param log a log directory or a connection
   * @param options the same options
   */
  new (log: LogDirectoryLike, options?: ConsumerOptions): ConsumerLike;
  /** The local consumer's prototype: `Consumer.prototype.poll` and the like. */
  readonly prototype: Consumer;
}

function isLogDirectoryView(log: unknown): log is LogDirectoryView {
  return typeof log === "object" && log !== null && typeof (log as { dir?: unknown }).dir === "string" &&
    typeof (log as { topic?: unknown }).topic === "function";
}

/**
 * A Kafka-style consumer of a log directory (`open()`) or of a Kafka cluster (`connect()`), with
 * Kafka's `KafkaConsumer` calls: `subscribe`, `assign`, `poll`, `commit`, `committed`, `seek`,
 * `pause`/`resume`, `for await`, `close`. On a log directory it is reel's own consumer
 * (`src/consumer/consumer.ts`); on a connection it is a {@linkcode ClusterConsumer}, whose group
 * is Kafka's consumer group and whose commits are Kafka's committed offsets. `instanceof Consumer`
 * holds for both; `Consumer` as a type is the log directory's consumer.
 *
 * @throws {ReelError} `INVALID_REQUEST` for a source that is neither
 * @throws {InvalidGroupIdError} for an empty, malformed or too long group id (a log directory)
 * @throws {TypeError} for an invalid option, or when called without `new`
 * @example The same line on a directory (and on a connection from `connect()`)
 * ```ts
 * import assert from "node:assert/strict";
 * import { Consumer, open } from "../../mod.ts";
 * const log = await open(Deno.makeTempDirSync()); // or: await connect({ bootstrapServers })
 * await (await log.createTopic("orders")).append([{ value: "a" }, { value: "b" }]);
 * const consumer = new Consumer(log, { groupId: "billing", autoOffsetReset: "earliest" });
 * assert.ok(consumer instanceof Consumer);
 * consumer.subscribe(["orders"]);
 * assert.equal((await consumer.poll({ timeoutMs: 1_000 })).length, 2);
 * await consumer.commit();
 * assert.equal((await consumer.committed({ topic: "orders", partition: 0 }))?.offset, 2);
 * await consumer.close();
 * await log.close();
 * ```
 */
export const Consumer: ConsumerConstructor = function Consumer(
  this: unknown,
  log: LogDirectoryLike | LogDirectoryView,
  options: ConsumerOptions = {},
): ConsumerLike {
  if (new.target === undefined) throw new TypeError("Cannot call Consumer: use new Consumer(log, options)");
  if (log instanceof ClusterConnection) return new ClusterConsumer(log, options);
  if (isLogDirectoryView(log)) return new LocalConsumer(log, options);
  throw new ReelError(
    "INVALID_REQUEST",
    "Cannot make a consumer: expected a log directory from open() or a connection from connect()",
  );
} as unknown as ConsumerConstructor;
Object.defineProperty(Consumer, "prototype", { value: LocalConsumer.prototype });
Object.defineProperty(Consumer, Symbol.hasInstance, {
  value: (value: unknown) => value instanceof LocalConsumer || value instanceof ClusterConsumer,
});

/**
 * The consumer of a log directory from `open()` (the type of `new Consumer(log, options)`).
 */
export type Consumer = LocalConsumer;

/**
 * A consumer over either: `new Consumer(log, options)` as a function, for code that prefers one.
 *
 * @param log a log directory from `open()` or a connection from `connect()`
 * @param options as `Consumer`'s
 * @returns the consumer
 * @throws {ReelError} `INVALID_REQUEST` for anything else
 * @example On a log directory
 * ```ts
 * import assert from "node:assert/strict";
 * import { Consumer, createConsumer, open } from "../../mod.ts";
 * const log = await open(Deno.makeTempDirSync());
 * const consumer = createConsumer(log, { groupId: "g" });
 * assert.ok(consumer instanceof Consumer);
 * await consumer.close();
 * await log.close();
 * ```
 */
export function createConsumer(log: LogDirectoryLike, options: ConsumerOptions = {}): ConsumerLike {
  return new Consumer(log, options);
}
