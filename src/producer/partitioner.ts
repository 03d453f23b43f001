/**
 * Kafka's default partitioner: keyed records go to `toPositive(murmur2(key)) % numPartitions`;
 * records without a key stick to one partition until `batchSize` bytes have gone to it, then move
 * to another partition chosen at random ("uniform sticky", KIP-794, Kafka ≥ 3.3).
 *
 * ```
 * murmur2(data) => int32, seed 0x9747b28c, m 0x5bd1e995, r 24, h = seed ^ length,
 *                  4-byte little-endian blocks, tail bytes, then h ^= h >>> 13; h *= m; h ^= h >>> 15
 * partition     => (murmur2(keyBytes) & 0x7fffffff) % numPartitions
 * ```
 *
 * Sources: Apache Kafka `clients/src/main/java/org/apache/kafka/common/utils/Utils.java`
 * (`murmur2`, `toPositive`) and `clients/src/main/java/org/apache/kafka/clients/producer/internals/BuiltInPartitioner.java`
 * (`partitionForKey`, `updatePartitionInfo`); KIP-794.
 *
 * @example Partition for a key, as the Java producer picks it
 * ```ts
 * import assert from "node:assert/strict";
 * import { murmur2, partitionForKey, toPositive } from "./partitioner.ts";
 * const key = new TextEncoder().encode("foobar");
 * assert.equal(partitionForKey(key, 10), toPositive(murmur2(key)) % 10);
 * ```
 *
 * @module
 */

const SEED = 0x9747b28c;
const M = 0x5bd1e995;
const R = 24;

/**
 * Kafka's murmur2 hash (`Utils.murmur2`), with Java's int32 wraparound.
 *
 * @param bytes the data to hash (for a key: its serialized bytes, UTF-8 for a string key)
 * @returns the hash as a signed int32, equal to the Java value
 *
 * @example Kafka's own test vector (UtilsTest: murmur2 of "21")
 * ```ts
 * import assert from "node:assert/strict";
 * import { murmur2 } from "./partitioner.ts";
 * assert.equal(murmur2(new TextEncoder().encode("21")), -973932308);
 * ```
 */
export function murmur2(bytes: Uint8Array): number {
  const length = bytes.length;
  let h = SEED ^ length;
  const blocksEnd = length & ~3;
  for (let i = 0; i < blocksEnd; i += 4) {
    let k = bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    k = Math.imul(k, M);
    k ^= k >>> R;
    k = Math.imul(k, M);
    h = Math.imul(h, M);
    h ^= k;
  }
  const tail = length & 3; // Java's switch falls through from case 3 to case 1
  if (tail !== 0) {
    if (tail === 3) h ^= bytes[blocksEnd + 2] << 16;
    if (tail >= 2) h ^= bytes[blocksEnd + 1] << 8;
    h ^= bytes[blocksEnd];
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/**
 * Kafka's `Utils.toPositive`: clears the sign bit (not `Math.abs`, which differs for negatives and
 * overflows for −2^31).
 *
 * @param n an int32
 * @returns `n & 0x7fffffff`, 0 to 2^31 − 1
 *
 * @example The sign bit cleared, as Kafka's Utils.toPositive
 * ```ts
 * import assert from "node:assert/strict";
 * import { toPositive } from "./partitioner.ts";
 * assert.equal(toPositive(-973932308), 1173551340);
 * assert.equal(toPositive(-(2 ** 31)), 0); // where Math.abs would overflow
 * ```
 */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

function checkPartitions(numPartitions: number): void {
  if (!Number.isInteger(numPartitions) || numPartitions < 1) {
    throw new RangeError(`Invalid partition count ${numPartitions}: it must be an integer of at least 1`);
  }
}

/**
 * The partition of a keyed record, as Kafka's `BuiltInPartitioner.partitionForKey` computes it.
 *
 * @param key the serialized key bytes
 * @param numPartitions the topic's partition count, at least 1
 * @returns the partition, 0 to numPartitions − 1
 * @throws {RangeError} when `numPartitions` is not a positive integer
 *
 * @example The same key, the same partition
 * ```ts
 * import assert from "node:assert/strict";
 * import { partitionForKey } from "./partitioner.ts";
 * const key = new TextEncoder().encode("user-42");
 * const p = partitionForKey(key, 12);
 * assert.ok(p >= 0 && p < 12);
 * assert.equal(partitionForKey(new TextEncoder().encode("user-42"), 12), p);
 * ```
 */
export function partitionForKey(key: Uint8Array, numPartitions: number): number {
  checkPartitions(numPartitions);
  return toPositive(murmur2(key)) % numPartitions;
}

/**
 * Picks partitions for records without a key the way Kafka ≥ 3.3 does (KIP-794, "uniform sticky"):
 * every record goes to the current partition until at least `batchSizeBytes` have been sent to it;
 * then the next record goes to another partition chosen at random. Kafka's load-weighted choice
 * (adaptive partitioning) is left out: there is no broker queue to weigh here.
 *
 * @example Records stick to a partition for one batch's worth of bytes
 * ```ts
 * import assert from "node:assert/strict";
 * import { StickyPartitioner } from "./partitioner.ts";
 * const partitioner = new StickyPartitioner(4, 1000);
 * const first = partitioner.partition(400);
 * assert.equal(partitioner.partition(400), first);
 * assert.equal(partitioner.partition(400), first); // 1200 bytes have gone to `first` now
 * assert.notEqual(partitioner.partition(400), first);
 * ```
 */
export class StickyPartitioner {
  /** The topic's partition count. */
  readonly numPartitions: number;
  /** Bytes to send to one partition before switching (Kafka's `batch.size`). */
  readonly batchSizeBytes: number;
  readonly #random: () => number;
  #current: number;
  #producedBytes = 0;

  /**
   * Makes a partitioner that starts on a random partition.
   *
   * @param numPartitions the topic's partition count, at least 1
   * @param batchSizeBytes bytes per partition before switching (Kafka's `batch.size`), at least 1;
   *   defaults to 16384
   * @param random a source of numbers in [0, 1); defaults to `Math.random`
   * @throws {RangeError} when `numPartitions` or `batchSizeBytes` is not a positive integer
   */
  constructor(numPartitions: number, batchSizeBytes: number = 16384, random: () => number = Math.random) {
    checkPartitions(numPartitions);
    if (!Number.isInteger(batchSizeBytes) || batchSizeBytes < 1) {
      throw new RangeError(
        `Invalid batch size ${batchSizeBytes}: it must be an integer of at least 1 (bytes)`,
      );
    }
    this.numPartitions = numPartitions;
    this.batchSizeBytes = batchSizeBytes;
    this.#random = random;
    this.#current = this.#pick(numPartitions);
  }

  /** A random integer in [0, n). */
  #pick(n: number): number {
    const r = Math.floor(this.#random() * n);
    return r >= 0 && r < n ? r : 0;
  }

  /**
   * The partition for the next record without a key, counting its size towards the switch.
   *
   * @param recordBytes the record's size in bytes (as it will be appended), at least 0
   * @returns the partition, 0 to numPartitions − 1
   * @throws {RangeError} when `recordBytes` is negative or not a number
   *
   * @example Always a partition of the topic
   * ```ts
   * import assert from "node:assert/strict";
   * import { StickyPartitioner } from "./partitioner.ts";
   * const p = new StickyPartitioner(3);
   * for (let i = 0; i < 100; i++) {
   *   const partition = p.partition(100);
   *   assert.ok(Number.isInteger(partition) && partition >= 0 && partition < 3);
   * }
   * ```
   */
  partition(recordBytes: number): number {
    if (!(recordBytes >= 0)) {
      throw new RangeError(`Invalid record size ${recordBytes}: it must be a number of bytes, at least 0`);
    }
    const partition = this.#current;
    this.#producedBytes += recordBytes;
    if (this.#producedBytes >= this.batchSizeBytes) {
      // Switch for the next record, to any partition but this one (when there is another).
      const n = this.numPartitions;
      if (n > 1) {
        const r = this.#pick(n - 1);
        this.#current = r >= partition ? r + 1 : r;
      }
      this.#producedBytes = 0;
    }
    return partition;
  }
}
