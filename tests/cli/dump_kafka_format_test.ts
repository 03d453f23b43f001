// `reel dump` prints what Kafka's DumpLogSegments prints for the batches Kafka's producers write:
// producer ids, epochs and sequences (wrapping at 2^31 - 1 as Kafka's do), the delete horizon, and
// for a control batch its end-transaction marker instead of its key and value. Regression tests for
// the differences tests/interop/kafka/reel_reads_kafka_test.ts found against Kafka 4.1.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_LOG_CONFIG, PartitionLog } from "../../src/log/mod.ts";
import { batch } from "../log/_producer_batch.ts";
import { scriptCommand } from "../_runtime.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const MAIN = path.join(ROOT, "src", "cli", "main.ts");

function reelDump(args: string[]): string[] {
  const [bin, argv] = scriptCommand(MAIN, ["dump", ...args]);
  const r = spawnSync(bin, argv, { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split("\n").filter((l) => l !== "");
}

describe("reel dump in Kafka's DumpLogSegments format", () => {
  test("--deep-iteration prints sequences, transaction markers and the delete horizon as Kafka does", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-dump-kafka-"));
    try {
      const log = PartitionLog.open(path.join(dir, "t-0"), "t", 0, { ...DEFAULT_LOG_CONFIG, fsync: "never" });
      // An idempotent batch whose sequences wrap past 2^31 - 1.
      await log.append(
        batch(["a", "b", "c"], { id: 5, epoch: 2, sequence: 2 ** 31 - 2, transactional: false }),
      );
      await log.append(batch(["t"], { id: 9, epoch: 1, sequence: 0, transactional: true }));
      await log.append(batch([], { id: 9, epoch: 1, sequence: -1, transactional: true }, "ABORT"));
      await log.append(batch([], { id: 9, epoch: 1, sequence: -1, transactional: true }, "COMMIT"));
      // A batch the log cleaner rewrote with a delete horizon (KIP-534): its base timestamp.
      await log.append(
        batch(["d"], { id: 5, epoch: 2, sequence: 1, transactional: false, attributes: 0x40 }),
      );
      await log.close();
      const file = path.join(dir, "t-0", "00000000000000000000.log");

      const lines = reelDump(["--deep-iteration", file]);
      const batches = lines.filter((l) => l.startsWith("baseOffset: "));
      const records = lines.filter((l) => l.startsWith("| "));
      assert.equal(batches.length, 5);
      assert.match(batches[0], / baseSequence: 2147483646 lastSequence: 0 producerId: 5 producerEpoch: 2 /);
      assert.match(
        batches[0],
        / isTransactional: false isControl: false deleteHorizonMs: OptionalLong.empty position: 0 /,
      );
      assert.deepEqual(records.slice(0, 3).map((l) => /sequence: (-?\d+)/.exec(l)![1]), [
        "2147483646",
        "2147483647",
        "0",
      ]);
      assert.match(batches[1], / isTransactional: true isControl: false /);
      assert.match(
        batches[2],
        / baseSequence: -1 lastSequence: -1 producerId: 9 producerEpoch: 1 .* isTransactional: true isControl: true /,
      );
      assert.match(
        records[4],
        /^\| offset: 4 CreateTime: 1 keySize: 4 valueSize: 6 sequence: -1 headerKeys: \[\] endTxnMarker: ABORT coordinatorEpoch: 7$/,
      );
      assert.match(records[5], / endTxnMarker: COMMIT coordinatorEpoch: 7$/);
      assert.match(batches[4], / deleteHorizonMs: OptionalLong\[1\] /);
      // Without --print-data-log no key or value; with it, a data record shows its value and a
      // control record still only its marker.
      assert.ok(records.every((l) => !l.includes(" payload: ")));
      const data = reelDump(["--print-data-log", file]).filter((l) => l.startsWith("| "));
      assert.match(data[0], / payload: a$/);
      assert.match(data[4], / endTxnMarker: ABORT coordinatorEpoch: 7$/);
      // Without either, only the batches.
      assert.deepEqual(reelDump([file]).filter((l) => l.startsWith("| ")), []);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
