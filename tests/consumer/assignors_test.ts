import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { MemberSubscription, TopicPartition } from "../../mod.ts";
import { RangeAssignor, RoundRobinAssignor, selectProtocol, StickyAssignor } from "../../src/consumer/mod.ts";

const names = (tps: TopicPartition[]) => tps.map((tp) => `${tp.topic}-${tp.partition}`);

describe("RangeAssignor", () => {
  test("gives each member a contiguous range per topic, the first n % m members one more (Kafka's example)", () => {
    // Kafka RangeAssignor javadoc: C0, C1 subscribed to t0 and t1, three partitions each.
    const out = new RangeAssignor().assign(
      [{ memberId: "C0", topics: ["t0", "t1"] }, { memberId: "C1", topics: ["t0", "t1"] }],
      { t0: 3, t1: 3 },
    );
    assert.deepEqual(names(out.C0), ["t0-0", "t0-1", "t1-0", "t1-1"]);
    assert.deepEqual(names(out.C1), ["t0-2", "t1-2"]);
  });

  test("orders members by id and skips members not subscribed to a topic", () => {
    const out = new RangeAssignor().assign(
      [{ memberId: "b", topics: ["t"] }, { memberId: "a", topics: ["t"] }, { memberId: "c", topics: ["u"] }],
      { t: 5, u: 1 },
    );
    assert.deepEqual(names(out.a), ["t-0", "t-1", "t-2"]);
    assert.deepEqual(names(out.b), ["t-3", "t-4"]);
    assert.deepEqual(names(out.c), ["u-0"]);
  });
});

describe("RoundRobinAssignor", () => {
  test("deals partitions sorted by topic and partition round the members (Kafka's example)", () => {
    // Kafka RoundRobinAssignor javadoc: C0, C1 subscribed to t0 and t1, three partitions each.
    const out = new RoundRobinAssignor().assign(
      [{ memberId: "C0", topics: ["t0", "t1"] }, { memberId: "C1", topics: ["t0", "t1"] }],
      { t0: 3, t1: 3 },
    );
    assert.deepEqual(names(out.C0), ["t0-0", "t0-2", "t1-1"]);
    assert.deepEqual(names(out.C1), ["t0-1", "t1-0", "t1-2"]);
  });

  test("skips members not subscribed to the partition's topic (Kafka's second example)", () => {
    // C0: t0; C1: t0, t1; C2: t0, t1, t2 — t0 has 1 partition, t1 2, t2 3.
    const out = new RoundRobinAssignor().assign(
      [
        { memberId: "C0", topics: ["t0"] },
        { memberId: "C1", topics: ["t0", "t1"] },
        { memberId: "C2", topics: ["t0", "t1", "t2"] },
      ],
      { t0: 1, t1: 2, t2: 3 },
    );
    assert.deepEqual(names(out.C0), ["t0-0"]);
    assert.deepEqual(names(out.C1), ["t1-0"]);
    assert.deepEqual(names(out.C2), ["t1-1", "t2-0", "t2-1", "t2-2"]);
  });
});

describe("assignors", () => {
  const subscriptions = fc.record({
    topics: fc.dictionary(fc.constantFrom("a", "b", "c", "d"), fc.integer({ min: 0, max: 12 }), {
      minKeys: 1,
    }),
    members: fc.uniqueArray(
      fc.record({
        memberId: fc.string({ minLength: 1, maxLength: 6 }),
        pick: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
      }),
      { minLength: 1, maxLength: 7, selector: (m) => m.memberId },
    ),
  });

  for (const assignor of [new RangeAssignor(), new RoundRobinAssignor(), new StickyAssignor()]) {
    test(`property: ${assignor.name} assigns every partition exactly once, to a member subscribed to its topic, balanced per topic`, () => {
      fc.assert(
        fc.property(subscriptions, ({ topics, members }) => {
          const all = Object.keys(topics);
          const subs: MemberSubscription[] = members.map((m) => ({
            memberId: m.memberId,
            topics: all.filter((_, i) => m.pick[i % m.pick.length]),
          }));
          const out = assignor.assign(subs, topics);
          assert.deepEqual(Object.keys(out).sort(), subs.map((s) => s.memberId).sort());
          const seen = new Map<string, string>();
          for (const [memberId, tps] of Object.entries(out)) {
            const sub = subs.find((s) => s.memberId === memberId)!;
            for (const tp of tps) {
              assert.ok(sub.topics.includes(tp.topic), `${memberId} got ${tp.topic} it did not subscribe to`);
              const key = `${tp.topic}-${tp.partition}`;
              assert.ok(!seen.has(key), `${key} assigned twice`);
              seen.set(key, memberId);
            }
          }
          for (const [topic, n] of Object.entries(topics)) {
            const subscribed = subs.filter((s) => s.topics.includes(topic));
            for (let p = 0; p < n; p++) assert.equal(seen.has(`${topic}-${p}`), subscribed.length > 0);
            if (assignor.name === "range" && subscribed.length > 0) {
              const counts = subscribed.map((s) => out[s.memberId].filter((tp) => tp.topic === topic).length);
              assert.ok(
                Math.max(...counts) - Math.min(...counts) <= 1,
                `range is balanced per topic: ${counts}`,
              );
            }
          }
          // The same input gives the same output: any member may compute it.
          assert.deepEqual(assignor.assign([...subs].reverse(), topics), out);
        }),
        { numRuns: 200 },
      );
    });
  }

  test("property: sticky keeps balance within one over members of the same subscription, and moves only what balance needs", () => {
    const sticky = new StickyAssignor();
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 40 }),
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 8 }),
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 8 }),
        (partitions, before, after) => {
          const topics = { t: partitions };
          const sub = (memberId: string, owned?: Record<string, TopicPartition[]>) => ({
            memberId,
            topics: ["t"],
            ...(owned?.[memberId] ? { ownedPartitions: owned[memberId] } : {}),
          });
          const first = sticky.assign(before.map((m) => sub(m)), topics);
          const second = sticky.assign(after.map((m) => sub(m, first)), topics);
          const counts = after.map((m) => second[m].length);
          assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `balanced: ${counts}`);
          assert.equal(counts.reduce((a, b) => a + b, 0), partitions);
          // Whoever stays keeps as many of its partitions as its new share allows.
          const share = Math.floor(partitions / after.length);
          for (const m of after) {
            const kept = (first[m] ?? []).filter((tp) => second[m].some((n) => n.partition === tp.partition));
            assert.ok(
              kept.length >= Math.min((first[m] ?? []).length, share),
              `${m} kept ${kept.length} of ${(first[m] ?? []).length} (share ${share})`,
            );
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  test("sticky: when a member leaves, only its partitions move", () => {
    const sticky = new StickyAssignor();
    const members = ["a", "b", "c", "d"].map((memberId) => ({ memberId, topics: ["t", "u"] }));
    const first = sticky.assign(members, { t: 6, u: 5 });
    const rest = members.filter((m) => m.memberId !== "c").map((m) => ({
      ...m,
      ownedPartitions: first[m.memberId],
    }));
    const second = sticky.assign(rest, { t: 6, u: 5 });
    for (const m of rest) {
      for (const tp of first[m.memberId]) {
        assert.ok(
          second[m.memberId].some((n) => n.topic === tp.topic && n.partition === tp.partition),
          `${m.memberId} kept ${tp.topic}-${tp.partition}`,
        );
      }
    }
    assert.deepEqual(
      rest.flatMap((m) => names(second[m.memberId])).sort(),
      ["t-0", "t-1", "t-2", "t-3", "t-4", "t-5", "u-0", "u-1", "u-2", "u-3", "u-4"],
    );
  });

  test("selectProtocol() picks the most-voted name every member supports, or undefined", () => {
    assert.equal(selectProtocol([{ memberId: "a", assignors: ["range", "roundrobin"] }]), "range");
    assert.equal(
      selectProtocol([
        { memberId: "a", assignors: ["range", "roundrobin"] },
        { memberId: "b", assignors: ["roundrobin", "range"] },
        { memberId: "c", assignors: ["roundrobin"] },
      ]),
      "roundrobin",
    );
    assert.equal(
      selectProtocol([{ memberId: "a", assignors: ["range"] }, { memberId: "b", assignors: ["roundrobin"] }]),
      undefined,
    );
    assert.equal(selectProtocol([]), undefined);
  });
});
