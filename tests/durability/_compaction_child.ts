// The child of compaction_crash_test.ts: appends keyed records (fsync "always") to one partition,
// printing each acknowledgement, and every few appends rolls and compacts it, printing "clean"
// before each round and "op" before each file operation of the round (then waiting 20 ms, so that
// the parent's SIGKILL lands before that operation), until it is killed.
//
// Usage: _compaction_child.ts DIR SEED ARM_AT (the rounds after ARM_AT appends print their file
// operations and wait at each; the earlier ones run at full speed)

import * as fs from "node:fs";
import process from "node:process";
import { setFaultInjector } from "../../src/runtime/file_system.ts";
import { PartitionLog } from "../../src/log/mod.ts";
import { resolveLogConfig } from "../../src/log/log_config.ts";
import { encodeRecordBatch } from "../../src/record/mod.ts";
import { prng } from "./_helpers.ts";

const [dir, seedText, armAtText] = process.argv.slice(2);
const armAt = Number(armAtText);
const random = prng(Number(seedText));
const config = resolveLogConfig({
  segmentBytes: 2048,
  fsync: "always",
  cleanupPolicy: "compact",
  deleteRetentionMs: 0,
});
const log = PartitionLog.open(`${dir}/t-0`, "t", 0, config);
const encoder = new TextEncoder();
const pause = new Int32Array(new SharedArrayBuffer(4));
for (let n = 0;; n++) {
  const key = `k${Math.floor(random() * 12)}`;
  const value = random() < 0.1 ? null : `${key}:${n}:${"x".repeat(Math.floor(random() * 60))}`;
  const info = await log.append(encodeRecordBatch([{
    key: encoder.encode(key),
    value: value === null ? null : encoder.encode(value),
  }]));
  fs.writeSync(1, `ack ${info.baseOffset} ${key} ${value ?? "-"}\n`);
  if (n % 40 === 39) {
    log.roll();
    fs.writeSync(1, "clean\n");
    if (n >= armAt) {
      setFaultInjector((op) => {
        if (op.op === "synced") return undefined;
        fs.writeSync(1, `op ${op.op}\n`);
        Atomics.wait(pause, 0, 0, 20);
        return undefined;
      });
    }
    await log.compact({ stepBytes: 256 });
    setFaultInjector(undefined);
  }
}
