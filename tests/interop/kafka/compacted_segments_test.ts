// reel → Kafka, compacted files: Kafka's own DumpLogSegments reads the segments reel's log cleaner
// writes (batches re-encoded with gaps between their records, compressed ones recompressed, an
// idempotent producer's emptied last batch, the empty batch that ends a cleaned segment) with
// every CRC valid, every record what reel reads at its offset, every batch holding a tombstone
// carrying its delete horizon as Kafka's cleaner writes it (KIP-534: attributes bit 6, the horizon
// = the cleaning time + delete.retention.ms in baseTimestamp, records keeping their own
// timestamps), and the indexes clean under
// `--verify-index-only` and `--index-sanity-check`. The only thing it reports is what it reports
// of any compacted log, its own included: "Non-consecutive offsets", here checked to be the gaps
// compaction left.

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { CompressionType } from "../../../mod.ts";
import { crc32c, encodeRecordBatch, type Record } from "../../../src/record/mod.ts";
import { PartitionLog } from "../../../src/log/partition_log.ts";
import { resolveLogConfig } from "../../../src/log/log_config.ts";
import { RUNTIME } from "../../durability/_helpers.ts";
import { dumpLogSegments } from "./dump_log_segments.ts";
import { kafkaUnavailable, toHex } from "./harness.ts";

const SKIP = kafkaUnavailable();
const T0 = 1_700_000_000_000;
const DAY = 86_400_000;
/** The time of the first cleaning round: the horizon it gives batches holding tombstones is this + DAY. */
const FIRST_ROUND = T0 + 10_000;
const encoder = new TextEncoder();
let dir = "";

after(() => {
  if (dir && !process.env.KEEP) fs.rmSync(dir, { recursive: true, force: true });
});

/** An idempotent producer's batch: producer id, epoch and base sequence patched in, CRC recomputed. */
function idempotent(bytes: Uint8Array, producerId: number, sequence: number): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  view.setBigInt64(43, BigInt(producerId));
  view.setInt16(51, 0);
  view.setInt32(53, sequence);
  view.setUint32(17, crc32c(bytes, 21, bytes.length));
  return bytes;
}

/** Writes and compacts a partition; returns its directory and what reel reads of it. */
async function writeCompacted(): Promise<{ partitionDir: string; records: Record[] }> {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-kafka-compacted-"));
  const partitionDir = path.join(dir, "users-0");
  const log = PartitionLog.open(
    partitionDir,
    "users",
    0,
    resolveLogConfig({
      segmentBytes: 16 * 1024,
      indexIntervalBytes: 256,
      cleanupPolicy: "compact",
      deleteRetentionMs: DAY,
    }),
  );
  const codecs = [CompressionType.None, CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4];
  for (let i = 0; i < 400; i++) {
    const records = Array.from({ length: 1 + (i % 4) }, (_, j) => ({
      key: encoder.encode(`user-${(i * 7 + j) % 23}`),
      value: (i + j) % 17 === 0 ? null : encoder.encode(`value-${i}-${j}`.padEnd(40 + (i % 30), "~")),
      timestamp: T0 + i,
      headers: j === 1 ? [{ key: "h", value: encoder.encode("v") }] : undefined,
    }));
    let bytes = encodeRecordBatch(records, { compression: codecs[i % codecs.length] });
    if (i % 50 === 10) bytes = idempotent(bytes, 1000 + i, 0); // a producer's only (so last) batch
    await log.append(bytes);
  }
  log.roll();
  await log.compact({ now: FIRST_ROUND });
  // A second round over the merged, already cleaned segments.
  for (let i = 0; i < 50; i++) {
    await log.append(
      encodeRecordBatch([{
        key: encoder.encode(`user-${i % 5}`),
        value: encoder.encode(`late-${i}`),
        timestamp: T0 + 1000 + i,
      }]),
    );
  }
  log.roll();
  await log.compact({ now: FIRST_ROUND + 1000 }); // before the horizon: every tombstone stays
  const records: Record[] = [];
  let offset = 0;
  for (;;) {
    const data = log.read(offset, 1 << 20);
    if (!data) break;
    records.push(...log.decode(data, offset));
    offset = data.next.offset;
  }
  await log.close();
  return { partitionDir, records };
}

describe(`Kafka's DumpLogSegments reads compacted segments reel writes (${RUNTIME})`, { skip: SKIP }, () => {
  test(
    "every batch is valid, every record is the one reel reads, the indexes are sound, gaps are the only report",
    {
      timeout: 240_000,
    },
    async () => {
      const { partitionDir, records } = await writeCompacted();
      assert.ok(records.length < 1000, `${records.length} records left`);
      const names = fs.readdirSync(partitionDir).sort();
      const logs = names.filter((n) => n.endsWith(".log")).map((n) => path.join(partitionDir, n));
      const indexes = names.filter((n) => /\.(index|timeindex)$/.test(n)).map((n) =>
        path.join(partitionDir, n)
      );
      const [deep, verify, sanity] = await Promise.all([
        dumpLogSegments(logs),
        dumpLogSegments(indexes, { deep: false, verifyIndexOnly: true }),
        dumpLogSegments(indexes, { deep: false, indexSanityCheck: true }),
      ]);
      // The gaps Kafka reports are gaps in what reel reads: "a is followed by b" with nothing between.
      const offsets = records.map((r) => r.offset);
      const others = deep.problems.filter((line) => {
        if (/^Non-consecutive offsets in /.test(line)) return false;
        const m = /^\s+(\d+) is followed by (\d+)$/.exec(line);
        if (!m) return true;
        const at = offsets.indexOf(Number(m[1]));
        assert.ok(at >= 0 && offsets[at + 1] === Number(m[2]), `a reported gap: ${line}`);
        return false;
      });
      assert.deepEqual(others, [], `DumpLogSegments reported problems:\n${deep.stderr}`);
      assert.ok(deep.problems.length > 0, "compaction left gaps");
      assert.deepEqual(verify.problems, [], `--verify-index-only:\n${verify.stderr}`);
      assert.deepEqual(sanity.problems, [], `--index-sanity-check:\n${sanity.stderr}`);

      const dumped = [];
      let empty = 0, producerBatches = 0, horizons = 0;
      for (const file of logs) {
        for (const b of deep.logs.get(file) ?? []) {
          assert.equal(b.isvalid, true, `${file}: batch at ${b.position}`);
          // The first round gave every batch it kept with a tombstone its horizon; the second keeps it.
          if (b.records.some((r) => r.value === null)) {
            assert.equal(b.deleteHorizonMs, FIRST_ROUND + DAY, `${file}: batch at ${b.position}`);
          }
          if (b.deleteHorizonMs !== null) {
            assert.equal(b.deleteHorizonMs, FIRST_ROUND + DAY);
            horizons++;
          }
          if (b.count === 0) empty++;
          if (b.producerId >= 0) producerBatches++;
          dumped.push(...b.records);
        }
      }
      assert.ok(horizons > 0, "batches with a delete horizon");
      assert.ok(records.some((r) => r.value === null), "tombstones kept");
      assert.ok(empty > 0, "empty batches kept");
      assert.ok(producerBatches > 0, "producer batches kept");
      assert.deepEqual(
        dumped.map((r) => [r.offset, r.timestamp, r.key, r.value]),
        records.map((r) => [r.offset, r.timestamp, toHex(r.key), toHex(r.value)]),
      );
    },
  );
});
