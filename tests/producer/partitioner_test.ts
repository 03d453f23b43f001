import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { murmur2, partitionForKey, StickyPartitioner, toPositive } from "../../src/producer/partitioner.ts";
// Apache Kafka UtilsTest.testMurmur2 and kafkajs murmur2.spec.js values (see the fixture's "about").
import fixture from "../fixtures/kafka/murmur2.json" with { type: "json" };

const utf8 = (s: string) => new TextEncoder().encode(s);

/** A seeded source of numbers in [0, 1) (tests must not depend on Math.random). */
function seeded(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

describe("murmur2", () => {
  test("murmur2() equals Kafka's Utils.murmur2 for every fixture key", () => {
    assert.equal(fixture.vectors.length, 23);
    for (const { key, murmur2: expected } of fixture.vectors) {
      assert.equal(murmur2(utf8(key)), expected, key);
    }
  });

  test("partitionForKey() picks the fixture's partition for 3 and 10 partitions", () => {
    for (const vector of fixture.vectors) {
      assert.equal(partitionForKey(utf8(vector.key), 3), vector.partition_of_3, `${vector.key} of 3`);
      assert.equal(partitionForKey(utf8(vector.key), 10), vector.partition_of_10, `${vector.key} of 10`);
    }
  });

  test("murmur2() returns a signed int32 for any bytes, of every tail length", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        const h = murmur2(bytes);
        assert.equal(h, h | 0);
      }),
    );
  });

  test("toPositive() clears the sign bit like Kafka's Utils.toPositive, not Math.abs", () => {
    assert.equal(toPositive(-973932308), 1173551340);
    assert.equal(toPositive(-1), 0x7fffffff);
    assert.equal(toPositive(-2147483648), 0);
    assert.equal(toPositive(479470107), 479470107);
  });

  test("partitionForKey() returns a partition in range for any key, and throws RangeError for no partitions", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.integer({ min: 1, max: 1000 }), (key, n) => {
        const p = partitionForKey(key, n);
        assert.ok(Number.isInteger(p) && p >= 0 && p < n);
      }),
    );
    assert.throws(() => partitionForKey(utf8("k"), 0), RangeError);
    assert.throws(() => partitionForKey(utf8("k"), 1.5), RangeError);
  });
});

describe("StickyPartitioner", () => {
  test("partition() stays on one partition until batchSizeBytes have gone to it, then switches", () => {
    const partitioner = new StickyPartitioner(5, 100, seeded(1));
    const first = partitioner.partition(30);
    assert.equal(partitioner.partition(30), first); // 60
    assert.equal(partitioner.partition(30), first); // 90
    assert.equal(partitioner.partition(30), first); // 120: reached, the next record moves
    const second = partitioner.partition(30);
    assert.notEqual(second, first);
    assert.equal(partitioner.partition(70), second); // 100: reached exactly
    assert.notEqual(partitioner.partition(1), second);
  });

  test("partition() switches only after batchSizeBytes, and always to another partition", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 12 }),
        fc.integer({ min: 1, max: 5000 }),
        fc.array(fc.integer({ min: 0, max: 2000 }), { minLength: 1, maxLength: 300 }),
        fc.integer(),
        (numPartitions, batchSizeBytes, sizes, seed) => {
          const partitioner = new StickyPartitioner(numPartitions, batchSizeBytes, seeded(seed));
          let current = -1;
          let bytesOnCurrent = 0;
          for (const size of sizes) {
            const p = partitioner.partition(size);
            assert.ok(p >= 0 && p < numPartitions);
            if (current !== -1) {
              if (p === current) {
                assert.ok(bytesOnCurrent < batchSizeBytes, "stayed on a partition past batchSizeBytes");
              } else {
                assert.ok(bytesOnCurrent >= batchSizeBytes, `switched after only ${bytesOnCurrent} bytes`);
                bytesOnCurrent = 0;
              }
            }
            current = p;
            bytesOnCurrent += size;
          }
        },
      ),
    );
  });

  test("partition() always returns 0 for a single partition", () => {
    const partitioner = new StickyPartitioner(1, 10);
    for (let i = 0; i < 100; i++) assert.equal(partitioner.partition(7), 0);
  });

  test("partition() spreads batches over every partition", () => {
    const partitioner = new StickyPartitioner(4, 100, seeded(42));
    const seen = new Set<number>();
    for (let i = 0; i < 400; i++) seen.add(partitioner.partition(100));
    assert.deepEqual([...seen].sort(), [0, 1, 2, 3]);
  });

  test("partition() uses the default batch size of 16384 bytes", () => {
    const partitioner = new StickyPartitioner(3, undefined, seeded(3));
    assert.equal(partitioner.batchSizeBytes, 16384);
    const first = partitioner.partition(16383);
    assert.equal(partitioner.partition(1), first);
    assert.notEqual(partitioner.partition(1), first);
  });

  test("the constructor and partition() throw RangeError for invalid arguments", () => {
    assert.throws(() => new StickyPartitioner(0), RangeError);
    assert.throws(() => new StickyPartitioner(3, 0), RangeError);
    assert.throws(() => new StickyPartitioner(3, 100).partition(-1), RangeError);
    assert.throws(() => new StickyPartitioner(3, 100).partition(NaN), RangeError);
  });
});
