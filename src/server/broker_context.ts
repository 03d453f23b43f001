/**
 * What every request handler of the broker shares: the log directory, the broker's identity and
 * settings, topic auto-creation and the mapping of errors to Kafka error codes.
 *
 * @module
 */
import { InvalidTopicError, ReelError, TopicExistsError } from "../errors.ts";
import type { Topic } from "../topic/topic.ts";
import type { LogDirectory } from "../topic/log_directory.ts";
import type { GroupCoordinatorService } from "./group/group_coordinator_service.ts";
import type { Message } from "./protocol/message_codec.ts";
import type { RequestHeader } from "./protocol/request_header.ts";
import type { SaslAuthenticator, SaslExchange } from "./sasl/sasl_exchange.ts";

/** Kafka error codes the broker answers with (Apache Kafka `protocol/Errors.java`). */
export const ErrorCode = {
  UNKNOWN_SERVER_ERROR: -1,
  NONE: 0,
  OFFSET_OUT_OF_RANGE: 1,
  CORRUPT_MESSAGE: 2,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  INVALID_FETCH_SIZE: 4,
  LEADER_NOT_AVAILABLE: 5,
  NOT_LEADER_OR_FOLLOWER: 6,
  REQUEST_TIMED_OUT: 7,
  MESSAGE_TOO_LARGE: 10,
  COORDINATOR_NOT_AVAILABLE: 15,
  NOT_COORDINATOR: 16,
  INVALID_TOPIC_EXCEPTION: 17,
  INVALID_REQUIRED_ACKS: 21,
  ILLEGAL_GENERATION: 22,
  INCONSISTENT_GROUP_PROTOCOL: 23,
  INVALID_GROUP_ID: 24,
  UNKNOWN_MEMBER_ID: 25,
  INVALID_SESSION_TIMEOUT: 26,
  REBALANCE_IN_PROGRESS: 27,
  UNSUPPORTED_VERSION: 35,
  TOPIC_ALREADY_EXISTS: 36,
  INVALID_PARTITIONS: 37,
  INVALID_REPLICATION_FACTOR: 38,
  INVALID_CONFIG: 40,
  INVALID_REQUEST: 42,
  UNSUPPORTED_FOR_MESSAGE_FORMAT: 43,
  OUT_OF_ORDER_SEQUENCE_NUMBER: 45,
  DUPLICATE_SEQUENCE_NUMBER: 46,
  INVALID_PRODUCER_EPOCH: 47,
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 53,
  KAFKA_STORAGE_ERROR: 56,
  UNSUPPORTED_SASL_MECHANISM: 33,
  ILLEGAL_SASL_STATE: 34,
  SASL_AUTHENTICATION_FAILED: 58,
  GROUP_ID_NOT_FOUND: 69,
  FETCH_SESSION_ID_NOT_FOUND: 70,
  NON_EMPTY_GROUP: 68,
  MEMBER_ID_REQUIRED: 79,
  FENCED_INSTANCE_ID: 82,
  UNSUPPORTED_COMPRESSION_TYPE: 76,
  INVALID_RECORD: 87,
  UNKNOWN_TOPIC_ID: 100,
} as const;

/** Settings of a running broker (see `ServeOptions` for their defaults). */
export interface BrokerConfig {
  /** This broker's node ID: the leader of every partition, the controller, every group's coordinator. */
  nodeId: number;
  /** The host clients are told to connect to. */
  advertisedHost: string;
  /** The port clients are told to connect to. */
  advertisedPort: number;
  /** The cluster ID Metadata reports. */
  clusterId: string;
  /** Kafka's `auto.create.topics.enable`. */
  autoCreateTopics: boolean;
  /** Kafka's `num.partitions`: partitions of an auto-created topic. */
  numPartitions: number;
  /** Kafka's `socket.request.max.bytes`. */
  maxRequestBytes: number;
}

/** What the broker knows of one client connection. */
export interface ConnectionSession {
  /**
   * Whether requests other than ApiVersions, SaslHandshake and SaslAuthenticate are served: from
   * the start when SASL is off, after a successful SaslAuthenticate when it is on.
   */
  authenticated: boolean;
  /** The user SASL authenticated, once it has. */
  principal?: string;
  /** The SASL exchange SaslHandshake started, until it ends. */
  sasl?: SaslExchange;
  /** After SaslHandshake v0: the exchange's tokens come as bare size-prefixed frames (no request header). */
  bareSaslTokens?: boolean;
  /** Set by a handler when the connection must close once its response is sent (why, for the log line). */
  closeAfterResponse?: string;
}

/** What a handler is given with each request. */
export interface RequestContext {
  /** The request's header. */
  header: RequestHeader;
  /** The request's API version (the response uses the same). */
  version: number;
  /** The broker's shared state. */
  broker: BrokerContext;
  /** Aborted when the broker is shutting down: long polls answer at once. */
  signal: AbortSignal;
  /** The client's address as Kafka reports it (`/127.0.0.1`). */
  clientHost: string;
  /** The connection the request came on. */
  session: ConnectionSession;
}

/** One API the broker serves. */
export interface ApiHandler {
  /** Kafka's API key. */
  apiKey: number;
  /** The lowest version served. */
  minVersion: number;
  /** The highest version served. */
  maxVersion: number;
  /**
   * Answers one request.
   *
   * @returns the response fields, or `undefined` for no response (Produce with acks 0)
   */
  handle(request: Message, context: RequestContext): Promise<Message | undefined> | Message | undefined;
}

/**
 * The broker's shared state: its log directory and settings, and the one place topics are
 * looked up or auto-created and errors turned into Kafka codes.
 */
export class BrokerContext {
  /**
   * @param log the open log directory the broker serves
   * @param config the broker's settings
   * @param groups the group coordinator
   * @param logLine writes one line to the broker's log (connection errors, unexpected failures)
   * @param sasl the users and mechanisms of SASL authentication, when it is on
   */
  constructor(
    readonly log: LogDirectory,
    readonly config: BrokerConfig,
    readonly groups: GroupCoordinatorService,
    readonly logLine: (line: string) => void,
    readonly sasl?: SaslAuthenticator,
  ) {}

  /**
   * A topic, created with `numPartitions` partitions when it does not exist and auto-creation is
   * on and allowed by the request.
   *
   * @param name the topic name
   * @param allowAutoCreate whether the request allows auto-creation
   * @returns the topic, or an error code (UNKNOWN_TOPIC_OR_PARTITION, INVALID_TOPIC_EXCEPTION)
   */
  async topicOrCreate(name: string, allowAutoCreate: boolean): Promise<Topic | number> {
    if (this.log.hasTopic(name)) return this.log.topic(name);
    if (!allowAutoCreate || !this.config.autoCreateTopics) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    try {
      return await this.log.createTopic(name, { partitions: this.config.numPartitions });
    } catch (err) {
      if (err instanceof TopicExistsError) return this.log.topic(name);
      if (err instanceof InvalidTopicError) return ErrorCode.INVALID_TOPIC_EXCEPTION;
      return this.errorCode(err, `auto-create topic "${name}"`);
    }
  }

  /**
   * An existing topic, or UNKNOWN_TOPIC_OR_PARTITION.
   *
   * @param name the topic name
   */
  topicOrError(name: string): Topic | number {
    return this.log.hasTopic(name) ? this.log.topic(name) : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
  }

  /**
   * The Kafka error code for an error a handler caught: a {@linkcode ReelError}'s own code,
   * UNKNOWN_SERVER_ERROR (with one log line) for anything else.
   *
   * @param err the error
   * @param action what failed, for the log line
   */
  errorCode(err: unknown, action: string): number {
    if (err instanceof ReelError) return err.errorCode;
    this.logLine(`Cannot ${action}: ${err instanceof Error ? err.message : String(err)}`);
    return ErrorCode.UNKNOWN_SERVER_ERROR;
  }
}
