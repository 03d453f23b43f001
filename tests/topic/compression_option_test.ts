import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  type Compression,
  CompressionType,
  open,
  type Topic,
  UnsupportedCompressionTypeError,
} from "../../mod.ts";
import { batchSize, readRecordBatchHeader } from "../../src/record/mod.ts";
import { CODECS, HAS_ZSTD, toArray } from "../_runtime.ts";

async function withTopic(fn: (topic: Topic, dir: string) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-compression-"));
  const log = await open(dir);
  try {
    await fn(await log.createTopic("events", { config: { fsync: "never" } }), dir);
  } finally {
    await log.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The codec numbers of the batches in partition 0's first segment, in file order. */
function codecsOnDisk(dir: string): number[] {
  const bytes = new Uint8Array(fs.readFileSync(path.join(dir, "events-0", "00000000000000000000.log")));
  const codecs: number[] = [];
  for (let position = 0; position < bytes.length; position += batchSize(bytes, position)) {
    codecs.push(readRecordBatchHeader(bytes, position).compression);
  }
  return codecs;
}

/** The codecs this runtime has, by name and number (no zstd on Node 20). */
const NAMES: [Compression, number][] = ([
  ["none", CompressionType.None],
  ["gzip", CompressionType.Gzip],
  ["snappy", CompressionType.Snappy],
  ["lz4", CompressionType.Lz4],
  ["zstd", CompressionType.Zstd],
] as [Compression, CompressionType][]).filter(([, n]) => CODECS.includes(n));

/** A value that every codec shrinks, so a batch that claims a codec really went through it. */
const value = "reel ".repeat(200);

describe("compression by name", () => {
  test("topic.append() takes Kafka's codec names and writes batches with that codec", async () => {
    await withTopic(async (topic, dir) => {
      for (const [name] of NAMES) await topic.append([{ value }], { compression: name });
      if (!HAS_ZSTD) {
        // Node 20's node:zlib has no zstd: the append is refused and leaves nothing behind.
        await assert.rejects(
          topic.append([{ value }], { compression: "zstd" }),
          UnsupportedCompressionTypeError,
        );
      }
      assert.deepEqual(codecsOnDisk(dir), NAMES.map(([, n]) => n));
      const values = (await toArray(topic.readable())).map((r) => new TextDecoder().decode(r.value!));
      assert.deepEqual(values, NAMES.map(() => value));
    });
  });

  test("topic.append() still takes the numbers", async () => {
    await withTopic(async (topic, dir) => {
      for (const [, n] of NAMES) await topic.append([{ value }], { compression: n as Compression });
      assert.deepEqual(codecsOnDisk(dir), NAMES.map(([, n]) => n));
    });
  });

  test("topic.writable() and topic.writableBatches() take the names", async () => {
    await withTopic(async (topic, dir) => {
      await ReadableStream.from([{ value }]).pipeTo(topic.writable({ compression: "lz4" }));
      await ReadableStream.from([[{ value }]]).pipeTo(topic.writableBatches({ compression: "snappy" }));
      assert.deepEqual(codecsOnDisk(dir), [CompressionType.Lz4, CompressionType.Snappy]);
    });
  });

  test("a name or number that is not a Kafka codec throws UnsupportedCompressionTypeError, and nothing is appended", async () => {
    await withTopic(async (topic, dir) => {
      for (const bad of ["brotli", "GZIP", 5, -1, 1.5]) {
        const compression = bad as Compression;
        await assert.rejects(topic.append([{ value }], { compression }), UnsupportedCompressionTypeError);
        assert.throws(() => topic.writable({ compression }), UnsupportedCompressionTypeError);
        assert.throws(() => topic.writableBatches({ compression }), UnsupportedCompressionTypeError);
      }
      assert.equal(topic.partition(0).logEndOffset, 0);
      assert.deepEqual(codecsOnDisk(dir), []);
    });
  });
});
