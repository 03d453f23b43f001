/**
 * The segments a group-commit round looks at (`src/log/_unflushed_segments.ts`): every segment that
 * may still need a write or an fsync, however the list of segments changed in between, and no
 * acknowledgement before a rolled segment's fsync succeeded.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { UnflushedSegments } from "../../src/log/_unflushed_segments.ts";
import type { LogSegment } from "../../src/log/log_segment.ts";
import { PartitionLog } from "../../src/log/mod.ts";
import { resolveLogConfig } from "../../src/log/log_config.ts";
import { encodeRecordBatch } from "../../src/record/mod.ts";
import { setFaultInjector } from "../../src/runtime/file_system.ts";
import { fcParams } from "../durability/_helpers.ts";

/** What `UnflushedSegments` reads of a segment. */
interface FakeSegment {
  id: number;
  dirty: boolean;
  syncing: boolean;
  pendingBytes: number;
}

const settled = (s: FakeSegment) => !s.dirty && !s.syncing && s.pendingBytes === 0;

type Step =
  | { kind: "roll" }
  | { kind: "write"; pending: boolean }
  | { kind: "settle" | "startSync" | "failSync"; at: number }
  | { kind: "dropOldest"; inPlace: boolean }
  | { kind: "replaceAll"; states: number[] }
  | { kind: "swap"; at: number; count: number; state: number }
  | { kind: "look" };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.constant({ kind: "roll" as const }),
  fc.record({ kind: fc.constant("write" as const), pending: fc.boolean() }),
  fc.record({
    kind: fc.constantFrom("settle" as const, "startSync" as const, "failSync" as const),
    at: fc.nat(20),
  }),
  fc.record({ kind: fc.constant("dropOldest" as const), inPlace: fc.boolean() }),
  fc.record({
    kind: fc.constant("replaceAll" as const),
    states: fc.array(fc.nat(7), { minLength: 1, maxLength: 6 }),
  }),
  fc.record({
    kind: fc.constant("swap" as const),
    at: fc.nat(20),
    count: fc.integer({ min: 1, max: 3 }),
    state: fc.nat(7),
  }),
  fc.constant({ kind: "look" as const }),
  fc.constant({ kind: "look" as const }),
);

describe("UnflushedSegments", () => {
  test("gives exactly the sealed segments that are not settled, then the active one, as the log changes", () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        let next = 0;
        const make = (state: number): FakeSegment => ({
          id: next++,
          dirty: (state & 1) !== 0,
          syncing: (state & 2) !== 0,
          pendingBytes: (state & 4) !== 0 ? 10 : 0,
        });
        let segments: FakeSegment[] = [make(0)];
        const unflushed = new UnflushedSegments();
        const look = () => {
          const got = unflushed.of(segments as unknown as LogSegment[]) as unknown as FakeSegment[];
          const want = segments.filter((s, i) => i === segments.length - 1 || !settled(s));
          assert.deepEqual(got.map((s) => s.id), want.map((s) => s.id));
        };
        for (const s of steps) {
          const sealed = segments.length - 1;
          switch (s.kind) {
            case "roll": // the old active segment's write went out first; it may still be dirty
              segments.push(make(1));
              break;
            case "write": { // appends go to the active segment only
              const active = segments[sealed];
              active.dirty = true;
              if (s.pending) active.pendingBytes += 10;
              break;
            }
            case "settle":
            case "startSync":
            case "failSync": {
              const segment = segments[s.at % segments.length];
              // A sealed segment that settled stays settled (nothing writes to it).
              if (segment !== segments[sealed] && settled(segment)) break;
              if (s.kind === "settle") {
                Object.assign(segment, { dirty: false, syncing: false, pendingBytes: 0 });
              } else if (s.kind === "startSync" && segment.dirty) {
                Object.assign(segment, { dirty: false, syncing: true });
              } else if (s.kind === "failSync" && segment.syncing) {
                Object.assign(segment, { dirty: true, syncing: false });
              }
              break;
            }
            case "dropOldest": // retention, or another process's retention seen by a reader
              if (segments.length > 1) {
                if (s.inPlace) segments.shift();
                else segments = segments.slice(1);
              }
              break;
            case "replaceAll": // a reload
              segments = s.states.map(make);
              break;
            case "swap": { // the cleaner's swap of sealed segments for one
              if (sealed === 0) break;
              const at = s.at % sealed;
              const count = Math.min(s.count, sealed - at);
              segments = [...segments.slice(0, at), make(s.state), ...segments.slice(at + count)];
              break;
            }
            case "look":
              look();
          }
        }
        look();
      }),
      fcParams(300),
    );
  });
});

describe("a group-commit round after a roll", () => {
  test('with fsync "always", an append held in a rolled segment is acknowledged only after that segment\'s fsync succeeded', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-unflushed-"));
    const batch = (n: number) =>
      encodeRecordBatch(Array.from({ length: n }, (_, i) => ({ value: new Uint8Array(40).fill(i) })));
    try {
      const log = PartitionLog.open(
        path.join(dir, "events-0"),
        "events",
        0,
        resolveLogConfig({ segmentBytes: 1024, fsync: "always" }),
      );
      // Sealed segments first, all of them settled.
      for (let i = 0; i < 13; i++) await log.append(batch(8)); // two batches a segment; one in the active
      const sealedBefore = log.segments.length - 1;
      assert.ok(sealedBefore >= 4, `${sealedBefore} sealed segments`);
      const active = log.segments[log.segments.length - 1].path;
      const activeIno = fs.statSync(active).ino;
      // The first fsync of the segment about to be rolled fails; the next succeeds.
      const events: string[] = [];
      let failed = false;
      setFaultInjector((op) => {
        if ((op.op !== "sync" && op.op !== "synced") || fs.fstatSync(op.fd).ino !== activeIno) {
          return undefined;
        }
        if (op.op === "sync" && !failed) {
          failed = true;
          events.push("failed");
          return { error: Object.assign(new Error("EIO: injected"), { code: "EIO" }) };
        }
        events.push(op.op);
        return undefined;
      });
      try {
        // Two appends in one tick: the first is held in the active segment, the second rolls it.
        const first = log.append(batch(8)).then((info) => (events.push("acked"), info));
        const second = log.append(batch(8));
        await Promise.all([first, second]);
        assert.ok(log.segments.length - 1 > sealedBefore, "the second append rolled the segment");
        assert.equal(events[0], "failed");
        assert.ok(
          events.indexOf("synced") >= 0 && events.indexOf("synced") < events.indexOf("acked"),
          `the held append waited for a successful fsync of its segment: ${events.join(", ")}`,
        );
      } finally {
        setFaultInjector(undefined);
      }
      await log.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
