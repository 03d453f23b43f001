/**
 * Fetch from Kafka partition leaders through the client's low-level `fetch()` (Fetch v12–17 with
 * topic IDs): one request per leader, batches decoded into `ConsumedRecord`s, control batches
 * skipped and, under `read_committed`, aborted transactions' batches too (KIP-98). Leader moves
 * (NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH, …) refresh the metadata and fetch again. Internal
 * to `src/cluster/`: `ClusterTopic.readable()` and `ClusterConsumer` share it.
 *
 * @module
 */
import type { Consumer as KafkaConsumer, RecordsBatch } from "@platformatic/kafka";
import { OffsetOutOfRangeError, UnknownTopicOrPartitionError } from "../errors.ts";
import type { ConsumedRecord } from "../record/consumed_record.ts";
import { CONTROL_BATCH, kafkaErrorNames, toConsumedRecord, TRANSACTIONAL_BATCH } from "./_kafka_mapping.ts";

/** The answer of a Fetch, as the client decodes it. */
type FetchResponse = Awaited<ReturnType<KafkaConsumer["fetch"]>>;

/** A partition to fetch and where from. */
export interface FetchPosition {
  topic: string;
  partition: number;
  /** The next offset to fetch. */
  offset: number;
}

/** What one round of fetches brought for one partition. */
export interface FetchedPartition {
  topic: string;
  partition: number;
  /** Records at or after the fetch offset, in order. */
  records: ConsumedRecord[];
  /** The offset to fetch next (past control batches and aborted records too). */
  nextOffset: number;
  /** The partition's high watermark, as the leader answered it. */
  highWatermark: number;
  /** Set when the fetch offset was out of range (the caller resets or fails). */
  outOfRange?: { logStartOffset: number };
}

/** Errors that mean the metadata is stale or the leader is moving: refresh and fetch again. */
const RETRIABLE = new Set([
  "NOT_LEADER_OR_FOLLOWER",
  "LEADER_NOT_AVAILABLE",
  "FENCED_LEADER_EPOCH",
  "UNKNOWN_LEADER_EPOCH",
  "UNKNOWN_TOPIC_ID",
  "UNKNOWN_TOPIC_OR_PARTITION",
  "REPLICA_NOT_AVAILABLE",
  "KAFKA_STORAGE_ERROR",
  "OFFSET_NOT_AVAILABLE",
  "NETWORK_EXCEPTION",
  "REQUEST_TIMED_OUT",
]);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Fetches from many partitions of many topics with one client.
 */
export class Fetcher {
  #refresh = false;

  constructor(
    readonly client: KafkaConsumer,
    readonly options: { maxBytes: number; isolationLevel: "read_uncommitted" | "read_committed" },
  ) {}

  /**
   * One round: a Fetch to each leader of the given partitions, waiting up to `maxWaitMs` for data.
   * Partitions whose leader is moving come back with no records (fetch again).
   */
  async fetch(positions: readonly FetchPosition[], maxWaitMs: number): Promise<FetchedPartition[]> {
    if (positions.length === 0) return [];
    const topics = [...new Set(positions.map((p) => p.topic))];
    let metadata;
    try {
      metadata = await this.client.metadata({ topics, forceUpdate: this.#refresh });
      this.#refresh = false;
    } catch (err) {
      this.#refresh = true;
      if (kafkaErrorNames(err).has("UNKNOWN_TOPIC_OR_PARTITION")) {
        throw new UnknownTopicOrPartitionError(topics[0]);
      }
      await sleep(100);
      return [];
    }
    const byNode = new Map<number, FetchPosition[]>();
    const ids = new Map<string, string>();
    for (const p of positions) {
      const topic = metadata.topics.get(p.topic);
      if (!topic) throw new UnknownTopicOrPartitionError(p.topic);
      if (p.partition >= topic.partitionsCount) throw new UnknownTopicOrPartitionError(p.topic, p.partition);
      ids.set(topic.id, p.topic);
      const leader = topic.partitions[p.partition].leader;
      if (leader < 0) {
        this.#refresh = true;
        continue;
      }
      const list = byNode.get(leader) ?? [];
      list.push(p);
      byNode.set(leader, list);
    }
    const results = await Promise.all(
      [...byNode].map(([node, list]) => this.#fetchFrom(node, list, ids, metadata, maxWaitMs)),
    );
    if (byNode.size === 0) await sleep(100);
    return results.flat();
  }

  async #fetchFrom(
    node: number,
    list: FetchPosition[],
    ids: Map<string, string>,
    metadata: Awaited<ReturnType<KafkaConsumer["metadata"]>>,
    maxWaitMs: number,
  ): Promise<FetchedPartition[]> {
    const byTopic = new Map<string, FetchPosition[]>();
    for (const p of list) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p]);
    const request = [...byTopic].map(([topic, ps]) => ({
      topicId: metadata.topics.get(topic)!.id,
      partitions: ps.map((p) => ({
        partition: p.partition,
        fetchOffset: BigInt(p.offset),
        partitionMaxBytes: this.options.maxBytes,
        currentLeaderEpoch: -1,
        lastFetchedEpoch: -1,
      })),
    }));
    let response: FetchResponse | undefined;
    try {
      response = await this.client.fetch({
        node,
        topics: request,
        maxWaitTime: maxWaitMs,
        minBytes: 1,
        maxBytes: this.options.maxBytes,
        isolationLevel: this.options.isolationLevel === "read_committed" ? 1 : 0,
      });
    } catch (err) {
      // A partition-level error fails the whole call; the response still has every partition.
      response = (err as { response?: FetchResponse }).response;
      const names = kafkaErrorNames(err);
      if (!response || typeof response !== "object" || !Array.isArray(response.responses)) {
        if (
          [...names].some((n) => !RETRIABLE.has(n)) && names.size > 0 && !names.has("OFFSET_OUT_OF_RANGE")
        ) {
          throw err;
        }
        this.#refresh = true;
        await sleep(100);
        return [];
      }
    }
    const wanted = new Map(list.map((p) => [`${p.topic}:${p.partition}`, p]));
    const out: FetchedPartition[] = [];
    let stale = false;
    for (const t of response.responses) {
      const topic = ids.get(t.topicId);
      if (topic === undefined) continue;
      for (const part of t.partitions) {
        const pos = wanted.get(`${topic}:${part.partitionIndex}`);
        if (!pos) continue;
        if (part.errorCode === 1) { // OFFSET_OUT_OF_RANGE
          out.push({
            topic,
            partition: part.partitionIndex,
            records: [],
            nextOffset: pos.offset,
            highWatermark: Number(part.highWatermark),
            outOfRange: { logStartOffset: Number(part.logStartOffset) },
          });
          continue;
        }
        if (part.errorCode !== 0) {
          stale = true;
          continue;
        }
        out.push(this.#decode(topic, part.partitionIndex, pos.offset, part));
      }
    }
    if (stale) {
      this.#refresh = true;
      if (out.every((p) => p.records.length === 0)) await sleep(100);
    }
    return out;
  }

  #decode(
    topic: string,
    partition: number,
    fetchOffset: number,
    part: FetchResponse["responses"][number]["partitions"][number],
  ): FetchedPartition {
    const records: ConsumedRecord[] = [];
    let next = fetchOffset;
    // Under read_committed: the aborted transactions' first offsets by producer (KIP-98).
    const aborted = new Map<bigint, bigint[]>();
    for (const a of part.abortedTransactions ?? []) {
      aborted.set(
        a.producerId,
        [...(aborted.get(a.producerId) ?? []), a.firstOffset].sort((x, y) => x < y ? -1 : 1),
      );
    }
    const abortedNow = new Set<bigint>();
    for (const batch of (part.records ?? []) as RecordsBatch[]) {
      const last = Number(batch.firstOffset) + batch.lastOffsetDelta;
      if (this.options.isolationLevel === "read_committed") {
        const starts = aborted.get(batch.producerId);
        if (starts && starts.length > 0 && starts[0] <= batch.firstOffset) {
          starts.shift();
          abortedNow.add(batch.producerId);
        }
      }
      if ((batch.attributes & CONTROL_BATCH) !== 0) {
        abortedNow.delete(batch.producerId); // the marker ends the (aborted or committed) transaction
      } else if (!((batch.attributes & TRANSACTIONAL_BATCH) !== 0 && abortedNow.has(batch.producerId))) {
        for (const r of batch.records) {
          const record = toConsumedRecord(topic, partition, batch, r);
          if (record.offset >= fetchOffset) records.push(record);
        }
      }
      if (last + 1 > next) next = last + 1;
    }
    return { topic, partition, records, nextOffset: next, highWatermark: Number(part.highWatermark) };
  }
}

/** An `OffsetOutOfRangeError` from a fetch's answer. */
export function outOfRangeError(p: FetchedPartition, offset: number): OffsetOutOfRangeError {
  return new OffsetOutOfRangeError(
    p.topic,
    p.partition,
    offset,
    p.outOfRange!.logStartOffset,
    p.highWatermark,
  );
}
