/**
 * The same Topic and Consumer API over a Kafka cluster: `connect()`, `ClusterTopic`,
 * `ClusterConsumer`, `Consumer` (either consumer), `createConsumer()`, and the shared shape (`LogDirectoryLike`, `TopicLike`,
 * `ConsumerLike`) that a log directory from `open()` satisfies too.
 *
 * @module
 */
export {
  ClusterConnection,
  type ClusterCreateTopicOptions,
  connect,
  type ConnectOptions,
  type SaslCredentials,
  type TlsOptions,
} from "./cluster_connection.ts";
export { ClusterTopic } from "./cluster_topic.ts";
export { ClusterConsumer } from "./cluster_consumer.ts";
export { Consumer, type ConsumerConstructor, createConsumer } from "./consumer.ts";
export type {
  Awaitable,
  ConsumerLike,
  LogDirectoryLike,
  OffsetAndTimestamp,
  PartitionOffsets,
  TopicLike,
} from "./log_directory_like.ts";
export {
  migrate,
  type MigratedOffset,
  type MigratedPartition,
  type MigratedTopic,
  type MigrateOptions,
  type MigrateSummary,
} from "./migrate.ts";
