import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import {
  CommitFailedError,
  type ConsumedRecord,
  Consumer,
  describeGroup,
  InconsistentGroupProtocolError,
  InvalidGroupIdError,
  listGroups,
  NoOffsetForPartitionError,
  open,
  type Topic,
  type TopicPartition,
  UnknownTopicOrPartitionError,
} from "../../mod.ts";
import { cleanup, eventually, text, withTempDir } from "./_helpers.ts";

const FAST = { heartbeatIntervalMs: 50 } as const;

async function fill(topic: Topic, n: number, from = 0): Promise<void> {
  await topic.append(
    Array.from({ length: n }, (_, i) => ({ key: `k${(from + i) % 13}`, value: `v${from + i}` })),
  );
}

const id = (r: ConsumedRecord) => `${r.partition}:${r.offset}`;

describe("Consumer with assign()", () => {
  test("poll() reads assigned partitions from autoOffsetReset; seek, seekToBeginning, seekToEnd and position move it", async () => {
    await withTempDir("assign", async (dir) => {
      const log = await open(dir);
      const topic = await log.createTopic("t", { partitions: 2 });
      await topic.append(Array.from({ length: 20 }, (_, i) => ({ partition: i % 2, value: `v${i}` })));
      const consumer = new Consumer(log, { autoOffsetReset: "earliest" });
      const tp0 = { topic: "t", partition: 0 };
      consumer.assign([tp0]);
      assert.deepEqual(consumer.assignment(), [tp0]);
      assert.equal(consumer.position(tp0), 0);
      const first = await consumer.poll({ maxRecords: 4 });
      assert.deepEqual(first.map((r) => [r.partition, r.offset, text(r.value)]), [
        [0, 0, "v0"],
        [0, 1, "v2"],
        [0, 2, "v4"],
        [0, 3, "v6"],
      ]);
      assert.equal(consumer.position(tp0), 4);
      consumer.seek(tp0, 8);
      assert.deepEqual((await consumer.poll()).map((r) => r.offset), [8, 9]);
      consumer.seekToBeginning();
      assert.equal(consumer.position(tp0), 0);
      consumer.seekToEnd([tp0]);
      assert.equal(consumer.position(tp0), 10);
      assert.deepEqual(await consumer.poll(), []);
      await topic.append([{ partition: 0, value: "new" }]);
      assert.deepEqual((await consumer.poll({ timeoutMs: 5000 })).map((r) => text(r.value)), ["new"]);
      assert.throws(() => consumer.seek({ topic: "t", partition: 1 }, 0), RangeError);
      assert.throws(() => consumer.seek(tp0, -1), RangeError);
      await consumer.close();
      await assert.rejects(() => consumer.poll(), /closed/);
      await log.close();
    });
  });

  test('autoOffsetReset "latest" starts at the end, "none" throws NoOffsetForPartitionError without a committed offset', async () => {
    await withTempDir("reset", async (dir) => {
      const log = await open(dir);
      const topic = await log.createTopic("t");
      await fill(topic, 5);
      const latest = new Consumer(log, { autoOffsetReset: "latest" });
      latest.assign([{ topic: "t", partition: 0 }]);
      assert.deepEqual(await latest.poll(), []);
      await fill(topic, 2, 5);
      assert.deepEqual((await latest.poll({ timeoutMs: 5000 })).map((r) => r.offset), [5, 6]);
      await latest.close();

      const none = new Consumer(log, { groupId: "g", autoOffsetReset: "none" });
      none.assign([{ topic: "t", partition: 0 }]);
      await assert.rejects(() => none.poll(), NoOffsetForPartitionError);
      assert.throws(() => none.position({ topic: "t", partition: 0 }), (err: unknown) => {
        assert.ok(err instanceof NoOffsetForPartitionError);
        assert.equal(err.code, "OFFSET_OUT_OF_RANGE");
        return true;
      });
      await none.commit([{ topic: "t", partition: 0, offset: 3 }]);
      assert.deepEqual((await none.poll()).map((r) => r.offset), [3, 4, 5, 6]);
      await none.close();
      await log.close();
    });
  });

  test("pause() skips partitions until resume(); the iterator and the readable stream return the same records", async () => {
    await withTempDir("pause", async (dir) => {
      const log = await open(dir);
      const topic = await log.createTopic("t", { partitions: 2 });
      await topic.append(Array.from({ length: 10 }, (_, i) => ({ partition: i % 2, value: `v${i}` })));
      const consumer = new Consumer(log, { autoOffsetReset: "earliest" });
      const tps = [{ topic: "t", partition: 0 }, { topic: "t", partition: 1 }];
      consumer.assign(tps);
      consumer.pause([tps[1]]);
      assert.deepEqual(consumer.paused(), [tps[1]]);
      assert.ok((await consumer.poll()).every((r) => r.partition === 0));
      consumer.resume([tps[1]]);
      assert.deepEqual((await consumer.poll()).map((r) => r.partition), [1, 1, 1, 1, 1]);
      consumer.seekToBeginning();
      const viaIterator: string[] = [];
      for await (const r of consumer) {
        viaIterator.push(id(r));
        if (viaIterator.length === 10) break;
      }
      consumer.seekToBeginning();
      const viaStream: string[] = [];
      const reader = consumer.readable.getReader();
      while (viaStream.length < 10) viaStream.push(id((await reader.read()).value!));
      reader.releaseLock();
      assert.deepEqual(viaStream.sort(), viaIterator.sort());
      await consumer.close();
      await log.close();
    });
  });
});

describe("Consumer lifetime", () => {
  test("iteration ends when the consumer closes, or when its log directory closes", async () => {
    await withTempDir("lifetime", async (dir) => {
      const log = await open(dir);
      const topic = await log.createTopic("t");
      await fill(topic, 3);
      const consumer = new Consumer(log, { autoOffsetReset: "earliest" });
      consumer.assign([{ topic: "t", partition: 0 }]);
      const seen: number[] = [];
      const done = (async () => {
        for await (const r of consumer) {
          seen.push(r.offset);
          if (seen.length === 3) void consumer.close();
        }
      })();
      await done;
      assert.deepEqual(seen, [0, 1, 2]);

      const other = new Consumer(log, { autoOffsetReset: "earliest" });
      other.assign([{ topic: "t", partition: 0 }]);
      const reader = other.readable.getReader();
      assert.equal((await reader.read()).value!.offset, 0);
      const pending = (async () => {
        for (let r = await reader.read(); !r.done; r = await reader.read()) { /* drain */ }
      })();
      await log.close();
      await pending; // the stream ends
      await other.close();
    });
  });
});

describe("committed offsets", () => {
  test("commit() is durable: a new consumer, after the directory is closed and reopened, sees it with its metadata", async () => {
    await withTempDir("durable", async (dir) => {
      let log = await open(dir);
      const topic = await log.createTopic("t", { partitions: 3 });
      await fill(topic, 30);
      const consumer = new Consumer(log, {
        groupId: "g",
        autoOffsetReset: "earliest",
        enableAutoCommit: false,
      });
      consumer.assign([{ topic: "t", partition: 1 }]);
      assert.equal(consumer.committed({ topic: "t", partition: 1 }), null);
      await consumer.commit([{ topic: "t", partition: 1, offset: 4, metadata: "checkpoint 1" }]);
      await consumer.close();
      await log.close();
      // Nothing half-written is left: the offset file and no temporary.
      const offsetsDir = path.join(dir, ".groups", "g", "offsets", "t");
      assert.deepEqual(fs.readdirSync(offsetsDir), ["1.json"]);

      log = await open(dir);
      const again = new Consumer(log, { groupId: "g", enableAutoCommit: false });
      const c = again.committed({ topic: "t", partition: 1 })!;
      assert.equal(c.offset, 4);
      assert.equal(c.metadata, "checkpoint 1");
      again.assign([{ topic: "t", partition: 1 }]);
      assert.equal(again.position({ topic: "t", partition: 1 }), 4);
      await again.close();
      assert.deepEqual(listGroups(log), ["g"]);
      await log.close();
    });
  });

  test(
    "property: a consumer closed mid-stream and a new one in the same group resume at the committed offset, with no gap and no repeat",
    { timeout: 60_000 },
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 4 }),
          fc.oneof(fc.integer({ min: 0, max: 60 }), fc.constantFrom(0, 1, 59, 60)),
          fc.constantFrom("commit-each", "auto-commit"),
          async (partitions, stopAfter, how) => {
            await withTempDir("resume", async (dir) => {
              const log = await open(dir);
              const topic = await log.createTopic("t", { partitions });
              await fill(topic, 60);
              const seen: string[] = [];
              const options = {
                groupId: "g",
                autoOffsetReset: "earliest" as const,
                enableAutoCommit: how === "auto-commit",
                autoCommitIntervalMs: 60_000,
                ...FAST,
              };
              const first = new Consumer(log, options);
              first.subscribe(["t"]);
              if (stopAfter > 0) {
                for await (const r of first) {
                  seen.push(id(r));
                  if (how === "commit-each") await first.commit();
                  if (seen.length === stopAfter) break;
                }
              }
              await first.close();
              // What the group committed is exactly what was processed.
              const committed = describeGroup(log, "g").offsets;
              for (let p = 0; p < partitions; p++) {
                const processed = seen.filter((s) => s.startsWith(`${p}:`)).length;
                const c = committed.find((o) => o.partition === p)?.committedOffset ?? 0;
                assert.equal(c, processed, `partition ${p}`);
              }
              const second = new Consumer(log, options);
              const firstOffsets = new Map<number, number>();
              second.subscribe(["t"]);
              if (seen.length < 60) {
                for await (const r of second) {
                  if (!firstOffsets.has(r.partition)) firstOffsets.set(r.partition, r.offset);
                  seen.push(id(r));
                  if (seen.length === 60) break;
                }
              }
              // Each partition resumes exactly where the first consumer stopped.
              for (const [p, offset] of firstOffsets) {
                assert.equal(
                  offset,
                  seen.slice(0, stopAfter).filter((s) => s.startsWith(`${p}:`)).length,
                  `partition ${p}`,
                );
              }
              assert.equal(new Set(seen).size, 60, "no record twice");
              await second.close();
              await log.close();
            });
          },
        ),
        { numRuns: 12, endOnFailure: true },
      );
    },
  );

  test("property: any group id works and is listed back as it was given", { timeout: 60_000 }, async () => {
    await withTempDir("ids", async (dir) => {
      const log = await open(dir);
      await log.createTopic("t");
      await fc.assert(
        fc.asyncProperty(fc.string({ minLength: 1, maxLength: 40, unit: "grapheme" }), async (groupId) => {
          const consumer = new Consumer(log, { groupId, enableAutoCommit: false });
          consumer.assign([{ topic: "t", partition: 0 }]);
          await consumer.commit([{ topic: "t", partition: 0, offset: 0, metadata: groupId }]);
          assert.equal(consumer.committed({ topic: "t", partition: 0 })?.metadata, groupId);
          await consumer.close();
          assert.ok(listGroups(log).includes(groupId));
          assert.equal(describeGroup(log, groupId).offsets[0].committedOffset, 0);
        }),
        { numRuns: 40 },
      );
      for (const name of fs.readdirSync(path.join(dir, ".groups"))) {
        assert.match(name, /^[A-Za-z0-9_%-][A-Za-z0-9._%-]*$/);
      }
      await log.close();
    });
  });

  test("commit() of a partition the member does not own throws CommitFailedError", async () => {
    await withTempDir("fenced", async (dir) => {
      const log = await open(dir);
      await log.createTopic("t", { partitions: 2 });
      await log.createTopic("other");
      const member = new Consumer(log, { groupId: "g", autoOffsetReset: "earliest", ...FAST });
      member.subscribe(["t"]);
      await member.poll();
      assert.equal(member.assignment().length, 2);
      const outsider = new Consumer(log, { groupId: "g", enableAutoCommit: false });
      outsider.assign([{ topic: "t", partition: 0 }]);
      await assert.rejects(
        () => outsider.commit([{ topic: "t", partition: 0, offset: 1 }]),
        (err: unknown) => {
          assert.ok(err instanceof CommitFailedError);
          assert.equal(err.code, "ILLEGAL_GENERATION");
          return true;
        },
      );
      await assert.rejects(
        () => member.commit([{ topic: "other", partition: 0, offset: 1 }]),
        CommitFailedError,
      );
      // A topic that does not exist is no one's to commit (Kafka: UNKNOWN_TOPIC_OR_PARTITION).
      await assert.rejects(
        () => member.commit([{ topic: "missing", partition: 0, offset: 1 }]),
        UnknownTopicOrPartitionError,
      );
      await member.close();
      // Nobody owns it now: a consumer without a subscription may commit it.
      await outsider.commit([{ topic: "t", partition: 0, offset: 1 }]);
      await outsider.close();
      await log.close();
    });
  });
});

describe("consumer groups", () => {
  test(
    "property: N consumers in one group over P partitions receive every record exactly once between them while members join and leave",
    { timeout: 60_000 },
    async () => {
      const opArb = fc.record({ at: fc.integer({ min: 0, max: 299 }), join: fc.boolean(), which: fc.nat() });
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 6 }),
          fc.integer({ min: 1, max: 3 }),
          fc.array(opArb, { maxLength: 5 }),
          fc.constantFrom("range", "roundrobin", "sticky"),
          fc.constantFrom("auto-commit", "commit-on-revoke"),
          async (partitions, initial, ops, assignor, how) => {
            await withTempDir("group", async (dir) => {
              const log = await open(dir);
              cleanup(() => log.close());
              const topic = await log.createTopic("t", { partitions });
              await fill(topic, 150);
              const got: { member: number; id: string }[] = [];
              const running = new Map<number, { consumer: Consumer; done: Promise<void> }>();
              let next = 0;
              const start = () => {
                const n = next++;
                const consumer = new Consumer(log, {
                  groupId: "g",
                  clientId: `m${n}`,
                  autoOffsetReset: "earliest",
                  enableAutoCommit: how === "auto-commit",
                  autoCommitIntervalMs: 60_000,
                  partitionAssignors: [assignor],
                  ...FAST,
                });
                consumer.subscribe(
                  ["t"],
                  how === "auto-commit" ? {} : { onPartitionsRevoked: () => consumer.commit() },
                );
                const done = (async () => {
                  for await (const r of consumer) got.push({ member: n, id: id(r) });
                })();
                running.set(n, { consumer, done });
                cleanup(() => consumer.close());
              };
              const stop = async (n: number) => {
                const m = running.get(n)!;
                running.delete(n);
                await m.consumer.close();
                await m.done;
              };
              for (let i = 0; i < initial; i++) start();
              const waitFor = (count: number) =>
                eventually(() => new Set(got.map((g) => g.id)).size >= count, `${count} records`);
              // Members join and leave as the group makes progress (counted in records received, not
              // in time); the second half of the records is appended halfway, while members follow.
              let filled = false;
              const fillSecondHalf = async () => {
                await waitFor(150);
                await fill(topic, 150, 150);
                filled = true;
              };
              for (const op of [...ops].sort((a, b) => a.at - b.at)) {
                if (op.at >= 150 && !filled) await fillSecondHalf();
                await waitFor(op.at);
                if (op.join || running.size === 1) start();
                else await stop([...running.keys()][op.which % running.size]);
              }
              if (!filled) await fillSecondHalf();
              await waitFor(300);
              for (const n of [...running.keys()]) await stop(n);
              const ids = got.map((g) => g.id);
              const dupes = ids.filter((x, i) => ids.indexOf(x) !== i);
              assert.deepEqual(dupes, [], "no record is delivered twice");
              assert.equal(new Set(ids).size, 300, "every record is delivered");
              assert.equal(describeGroup(log, "g").state, "Empty");
              await log.close();
            });
          },
        ),
        { numRuns: 10, endOnFailure: true },
      );
    },
  );

  test(
    "rebalance callbacks: every revoke comes before the partitions are assigned elsewhere; describeGroup() shows members, assignment and lag",
    { timeout: 60_000 },
    async () => {
      await withTempDir("callbacks", async (dir) => {
        const log = await open(dir);
        const topic = await log.createTopic("t", { partitions: 4 });
        await fill(topic, 40);
        const events: string[] = [];
        const member = (name: string) => {
          const c = new Consumer(log, {
            groupId: "g",
            clientId: name,
            autoOffsetReset: "earliest",
            enableAutoCommit: false,
            ...FAST,
          });
          c.subscribe(["t"], {
            onPartitionsAssigned: (tps) =>
              void events.push(`${name}+${tps.map((tp) => tp.partition).join(",")}`),
            onPartitionsRevoked: async (tps) => {
              events.push(`${name}-${tps.map((tp) => tp.partition).join(",")}`);
              await c.commit();
            },
          });
          return c;
        };
        const a = member("a");
        assert.equal((await a.poll({ maxRecords: 5 })).length, 5);
        const b = member("b");
        // b joins (a new generation) but owns nothing until a has handed its partitions over,
        // which a does inside its next poll.
        assert.deepEqual(await b.poll(), []);
        assert.deepEqual(b.assignment(), []);
        assert.deepEqual(describeGroup(log, "g").state, "CompletingRebalance");
        await a.poll({ maxRecords: 1 });
        assert.deepEqual(a.assignment().map((tp) => tp.partition), [0, 1]);
        assert.ok((await b.poll({ timeoutMs: 30_000 })).length > 0);
        assert.deepEqual(b.assignment().map((tp) => tp.partition), [2, 3]);
        assert.deepEqual(events, ["a+0,1,2,3", "a-0,1,2,3", "a+0,1", "b+2,3"]);
        const described = describeGroup(log, "g");
        assert.equal(described.state, "Stable");
        assert.equal(described.protocol, "range");
        assert.equal(described.generation, 2);
        assert.deepEqual(
          described.members.map((m) => [m.clientId, m.assignment.map((tp) => tp.partition)]).sort(),
          [["a", [0, 1]], ["b", [2, 3]]],
        );
        const committed = described.offsets.filter((o) => o.committedOffset !== null);
        assert.equal(
          committed.reduce((n, o) => n + o.committedOffset!, 0),
          5,
          "a committed the 5 records it had processed",
        );
        for (const o of described.offsets) {
          assert.equal(o.logEndOffset, topic.partition(o.partition).logEndOffset);
          assert.equal(o.lag, o.committedOffset === null ? null : o.logEndOffset! - o.committedOffset);
          assert.equal(
            o.memberId,
            described.members.find((m) => m.assignment.some((tp) => tp.partition === o.partition))!.memberId,
          );
        }
        await a.close();
        await b.close();
        await log.close();
      });
    },
  );

  test(
    "a member that stops polling stops heartbeating, is removed after sessionTimeoutMs, and its partitions move on",
    { timeout: 60_000 },
    async () => {
      await withTempDir("expiry", async (dir) => {
        const log = await open(dir);
        const topic = await log.createTopic("t", { partitions: 2 });
        await fill(topic, 20);
        const options = {
          groupId: "g",
          autoOffsetReset: "earliest" as const,
          enableAutoCommit: false,
          ...FAST,
        };
        const stuck = new Consumer(log, {
          ...options,
          clientId: "stuck",
          sessionTimeoutMs: 200,
          maxPollIntervalMs: 100,
        });
        stuck.subscribe(["t"]);
        await stuck.poll();
        const lost: TopicPartition[][] = [];
        const live = new Consumer(log, { ...options, clientId: "live" });
        live.subscribe(["t"]);
        const records: ConsumedRecord[] = [];
        await eventually(async () => {
          records.push(...await live.poll({ timeoutMs: 100 }));
          return live.assignment().length === 2;
        }, "the live member to get both partitions");
        while (records.length < 20) records.push(...await live.poll({ timeoutMs: 1000 }));
        assert.equal(new Set(records.map(id)).size, 20);
        assert.deepEqual(describeGroup(log, "g").members.map((m) => m.clientId), ["live"]);
        // The removed member notices at its next poll, and hears that its partitions were lost.
        stuck.subscribe(["t"], { onPartitionsLost: (tps) => void lost.push(tps) });
        await stuck.poll();
        assert.deepEqual(lost, [[{ topic: "t", partition: 0 }, { topic: "t", partition: 1 }]]);
        await assert.rejects(
          () => stuck.commit([{ topic: "t", partition: 0, offset: 1 }]),
          CommitFailedError,
          "a removed member's commits are refused",
        );
        await live.close();
        await stuck.close();
        await log.close();
      });
    },
  );

  test("joining with no assignor in common with the group throws InconsistentGroupProtocolError", async () => {
    await withTempDir("protocol", async (dir) => {
      const log = await open(dir);
      await log.createTopic("t");
      const a = new Consumer(log, { groupId: "g", partitionAssignors: ["range"], ...FAST });
      a.subscribe(["t"]);
      await a.poll();
      const b = new Consumer(log, { groupId: "g", partitionAssignors: ["roundrobin"], ...FAST });
      b.subscribe(["t"]);
      await assert.rejects(() => b.poll(), InconsistentGroupProtocolError);
      await b.close();
      await a.close();
      await log.close();
    });
  });

  test("the constructor checks its options", async () => {
    await withTempDir("options", async (dir) => {
      const log = await open(dir);
      assert.throws(() => new Consumer(log, { groupId: "" }), InvalidGroupIdError);
      assert.throws(() => new Consumer(log, { groupId: "\ud800" }), InvalidGroupIdError);
      assert.throws(() => new Consumer(log, { enableAutoCommit: true }), TypeError);
      assert.throws(() => new Consumer(log, { autoOffsetReset: "smallest" as "earliest" }), TypeError);
      assert.throws(() => new Consumer(log, { partitionAssignors: ["cooperative-sticky"] }), TypeError);
      assert.throws(() => new Consumer(log, { sessionTimeoutMs: 0 }), RangeError);
      assert.throws(() => new Consumer(log).subscribe(["t"]), TypeError);
      await log.close();
    });
  });
});
