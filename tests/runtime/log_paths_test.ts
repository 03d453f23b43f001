// The one validator of paths built from input (src/runtime/log_paths.ts): for any string, a topic
// name is accepted exactly when it follows Kafka's rule; a group id or member id becomes one plain
// directory entry that decodes back to it (or a typed error); a partition is a whole number in
// range; and no joined path leaves the log directory.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import fc from "fast-check";
import {
  InvalidGroupIdError,
  InvalidPathError,
  InvalidTopicError,
  UnknownTopicOrPartitionError,
} from "../../mod.ts";
import {
  committedOffsetPath,
  decodeGroupId,
  decodeMemberId,
  encodeGroupId,
  encodeMemberId,
  groupDirPath,
  joinLogPath,
  memberFilePath,
  parsePartitionDirName,
  partitionDirPath,
  topicConfigPath,
  validatePartition,
  validateTopicName,
} from "../../src/runtime/log_paths.ts";

const RUNS = Number(process.env.REEL_FUZZ_RUNS ?? 200);
const ROOT = "/data/log";

/** Strings biased towards path tricks: dots, slashes, backslashes, NUL, percent signs, non-ASCII. */
const nasty = fc.oneof(
  fc.string({
    unit: fc.constantFrom(".", "/", "\\", "\0", "%", "a", "-", "_", "é", "\u{1F600}", " "),
    maxLength: 12,
  }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.string({ unit: "binary", maxLength: 20 }),
  fc.constantFrom("", ".", "..", "../x", "../../../../tmp/x", "a/..", "/etc/passwd", "x".repeat(300)),
);

/** Whether `p` resolves to a path strictly inside `root`. */
function inside(root: string, p: string): boolean {
  const rel = path.relative(root, path.resolve(root, p));
  // "..." is a legal name inside root: only ".." itself or a "../" prefix leaves it.
  return rel.length > 0 && rel !== ".." && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}

describe("log paths", () => {
  test("validateTopicName() accepts exactly Kafka's legal names and throws InvalidTopicError otherwise", () => {
    fc.assert(
      fc.property(nasty, (name) => {
        const legal = /^[a-zA-Z0-9._-]{1,249}$/.test(name) && name !== "." && name !== "..";
        let threw: unknown;
        try {
          validateTopicName(name);
        } catch (err) {
          threw = err;
        }
        assert.equal(threw === undefined, legal, JSON.stringify(name));
        if (threw !== undefined) assert.ok(threw instanceof InvalidTopicError);
      }),
      { numRuns: RUNS },
    );
    assert.throws(() => validateTopicName(42), InvalidTopicError);
  });

  test("partitionDirPath() and topicConfigPath() stay one level inside the log directory for every name", () => {
    fc.assert(
      fc.property(nasty, fc.integer({ min: -5, max: 200_000 }), (topic, partition) => {
        for (
          const build of [() => partitionDirPath(ROOT, topic, partition), () => topicConfigPath(ROOT, topic)]
        ) {
          let p: string;
          try {
            p = build();
          } catch (err) {
            assert.ok(
              err instanceof InvalidTopicError || err instanceof UnknownTopicOrPartitionError,
              String(err),
            );
            continue;
          }
          assert.ok(inside(ROOT, p), p);
        }
      }),
      { numRuns: RUNS },
    );
    assert.equal(partitionDirPath(ROOT, "events", 7), `${ROOT}/events-7`);
    assert.deepEqual(parsePartitionDirName("events-7"), { topic: "events", partition: 7 });
  });

  test("validatePartition() throws UnknownTopicOrPartitionError for anything but a whole number in range", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant(undefined)),
        fc.integer({ min: 1, max: 50 }),
        (partition, count) => {
          const ok = Number.isSafeInteger(partition) && (partition as number) >= 0 &&
            (partition as number) < count;
          if (ok) validatePartition("t", partition, count);
          else assert.throws(() => validatePartition("t", partition, count), UnknownTopicOrPartitionError);
        },
      ),
      { numRuns: RUNS },
    );
    assert.throws(() => validatePartition("t", 1e9), UnknownTopicOrPartitionError);
  });

  test("a group id becomes one directory entry that decodes back to it, or InvalidGroupIdError", () => {
    fc.assert(
      fc.property(nasty, (groupId) => {
        let name: string;
        try {
          name = encodeGroupId(groupId);
        } catch (err) {
          assert.ok(err instanceof InvalidGroupIdError, String(err));
          return;
        }
        assert.match(name, /^[A-Za-z0-9_%-][A-Za-z0-9._%-]*$/);
        assert.equal(decodeGroupId(name), groupId);
        assert.ok(inside(ROOT, groupDirPath(ROOT, groupId)));
      }),
      { numRuns: RUNS },
    );
    assert.throws(() => encodeGroupId(""), InvalidGroupIdError);
    assert.throws(() => encodeGroupId("\uD800"), InvalidGroupIdError);
    assert.throws(() => encodeGroupId("é".repeat(100)), InvalidGroupIdError);
  });

  test("a member id becomes part of one file name that decodes back to it, or InvalidPathError", () => {
    fc.assert(
      fc.property(nasty, (memberId) => {
        let file: string;
        try {
          file = memberFilePath(`${ROOT}/.groups/g`, memberId);
        } catch (err) {
          assert.ok(err instanceof InvalidPathError, String(err));
          return;
        }
        assert.equal(path.dirname(file), `${ROOT}/.groups/g`);
        assert.equal(decodeMemberId(encodeMemberId(memberId)), memberId);
      }),
      { numRuns: RUNS },
    );
  });

  test("committedOffsetPath() refuses a topic or partition that is not legal (../../../../tmp/x, 1e9)", () => {
    const groupDir = groupDirPath(ROOT, "g");
    assert.throws(() => committedOffsetPath(groupDir, "../../../../tmp/x", 0), InvalidTopicError);
    assert.throws(() => committedOffsetPath(groupDir, "events", 1e9), UnknownTopicOrPartitionError);
    assert.throws(() => committedOffsetPath(groupDir, "events", -1), UnknownTopicOrPartitionError);
    assert.equal(committedOffsetPath(groupDir, "events", 3), `${groupDir}/offsets/events/3.json`);
  });

  test("joinLogPath() joins only plain names and throws InvalidPathError for anything that could leave the directory", () => {
    fc.assert(
      fc.property(fc.array(nasty, { minLength: 1, maxLength: 3 }), (components) => {
        let p: string;
        try {
          p = joinLogPath(ROOT, ...components);
        } catch (err) {
          assert.ok(err instanceof InvalidPathError, String(err));
          return;
        }
        assert.ok(inside(ROOT, p), p);
        assert.equal(p.split("/").length, ROOT.split("/").length + components.length);
      }),
      { numRuns: RUNS },
    );
  });
});
