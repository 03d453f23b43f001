// The classic group state machine on its own: rebalances, session expiry, static membership
// (KIP-345), MEMBER_ID_REQUIRED (KIP-394), protocol selection.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ClassicGroup, type JoinRequest } from "../../src/server/group/classic_group.ts";

const meta = (n: number) => new Uint8Array([n]);
const request = (over: Partial<JoinRequest> = {}): JoinRequest => ({
  memberId: "",
  groupInstanceId: null,
  clientId: "c",
  clientHost: "/127.0.0.1",
  sessionTimeoutMs: 60_000,
  rebalanceTimeoutMs: 60_000,
  protocolType: "consumer",
  protocols: [{ name: "range", metadata: meta(1) }],
  requireKnownMemberId: false,
  ...over,
});

/** Two members through join and sync; returns their IDs, the leader first. */
async function stableGroup(group: ClassicGroup, a: Partial<JoinRequest> = {}, b: Partial<JoinRequest> = {}) {
  const [ja, jb] = await Promise.all([group.join(request(a)), group.join(request(b))]);
  const leader = ja.leader === ja.memberId ? ja : jb;
  const follower = leader === ja ? jb : ja;
  assert.equal(leader.members.length, 2);
  assert.equal(follower.members.length, 0);
  const [sl, sf] = await Promise.all([
    group.sync(leader.memberId, leader.generationId, [
      { memberId: leader.memberId, assignment: meta(10) },
      { memberId: follower.memberId, assignment: meta(20) },
    ]),
    group.sync(follower.memberId, follower.generationId, []),
  ]);
  assert.deepEqual([sl.assignment, sf.assignment], [meta(10), meta(20)]);
  return { leader, follower };
}

describe("ClassicGroup", () => {
  test("JoinGroup v4+ without a member ID gets MEMBER_ID_REQUIRED and joins with the ID given", async () => {
    const group = new ClassicGroup("g", 0);
    const first = await group.join(request({ requireKnownMemberId: true }));
    assert.equal(first.errorCode, 79);
    const joined = await group.join(request({ memberId: first.memberId, requireKnownMemberId: true }));
    assert.deepEqual([joined.errorCode, joined.memberId, joined.generationId], [0, first.memberId, 1]);
    group.shutdown();
  });

  test("the protocol every member supports is chosen; a member with none in common is refused", async () => {
    const group = new ClassicGroup("g", 20);
    const [a, b] = await Promise.all([
      group.join(
        request({
          protocols: [{ name: "roundrobin", metadata: meta(1) }, { name: "range", metadata: meta(2) }],
        }),
      ),
      group.join(request({ protocols: [{ name: "range", metadata: meta(3) }] })),
    ]);
    assert.equal(a.protocolName, "range");
    assert.equal(b.protocolName, "range");
    const odd = await group.join(request({ protocols: [{ name: "sticky", metadata: meta(4) }] }));
    assert.equal(odd.errorCode, 23);
    group.shutdown();
  });

  test("a member that misses its session timeout is removed and the group rebalances without it", async () => {
    const group = new ClassicGroup("g", 20);
    const { leader } = await stableGroup(group, {}, { sessionTimeoutMs: 30 });
    // Only the leader heartbeats; it is told to rejoin once the other expires.
    for (;;) {
      const code = group.heartbeat(leader.memberId, leader.generationId);
      if (code === 27) break;
      assert.equal(code, 0);
      await new Promise((r) => setTimeout(r, 10));
    }
    const rejoined = await group.join(request({ memberId: leader.memberId }));
    assert.deepEqual([rejoined.generationId, rejoined.members.length], [2, 1]);
    group.shutdown();
  });

  test("a static follower that restarts gets a new member ID and its assignment, without a rebalance", async () => {
    const group = new ClassicGroup("g", 20);
    const { follower } = await stableGroup(group, { groupInstanceId: "i1" }, { groupInstanceId: "i2" });
    const instance =
      follower.memberId === [...group.members.values()].find((m) => m.groupInstanceId === "i1")!.memberId
        ? "i1"
        : "i2";
    const back = await group.join(request({ groupInstanceId: instance }));
    assert.equal(back.errorCode, 0);
    assert.notEqual(back.memberId, follower.memberId);
    assert.equal(back.generationId, 1);
    assert.equal(group.state, "Stable");
    assert.deepEqual((await group.sync(back.memberId, 1, [])).assignment, meta(20));
    assert.equal(group.heartbeat(follower.memberId, 1), 25); // the old ID is gone
    group.shutdown();
  });

  test("LeaveGroup by the last member empties the group; SyncGroup of a wrong generation is ILLEGAL_GENERATION", async () => {
    const group = new ClassicGroup("g", 0);
    const only = await group.join(request());
    assert.equal((await group.sync(only.memberId, only.generationId + 1, [])).errorCode, 22);
    assert.equal(group.leave(only.memberId, null), 0);
    assert.equal(group.state, "Empty");
    assert.equal(group.leave(only.memberId, null), 25);
    group.shutdown();
  });
});
