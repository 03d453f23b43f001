// Topic IDs (KIP-516): every topic created gets a random version 4 UUID, printed as Kafka prints a
// Uuid (base64url, no padding), kept in its config and in each partition directory's
// `partition.metadata` in Kafka's format ("version: 0\ntopic_id: <id>").

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { open, StorageError } from "../../mod.ts";
import {
  formatPartitionMetadata,
  isTopicId,
  PARTITION_METADATA_FILE,
  randomTopicId,
  readPartitionMetadata,
} from "../../src/log/partition_metadata_file.ts";

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-topic-id-"));
  try {
    await fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe("topic IDs", () => {
  test("randomTopicId() is a version 4 UUID in Kafka's base64url text, never starting with '-'", () => {
    for (let i = 0; i < 2000; i++) {
      const id = randomTopicId();
      assert.ok(isTopicId(id), id);
      assert.ok(!id.startsWith("-"), id);
      const bytes = Buffer.from(id, "base64url");
      assert.equal(bytes.length, 16);
      assert.equal(bytes.toString("base64url"), id, "the canonical base64url of its 16 bytes");
      assert.equal(bytes[6] >> 4, 4, "version 4");
      assert.equal(bytes[8] >> 6, 2, "variant 2");
    }
  });

  test("isTopicId() accepts exactly the base64url text of 16 bytes other than the reserved 0 and 1", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
        const text = Buffer.from(bytes).toString("base64url");
        const reserved = bytes.slice(0, 15).every((b) => b === 0) && bytes[15] <= 1;
        assert.equal(isTopicId(text), !reserved);
        assert.equal(isTopicId(text + "A"), false);
        assert.equal(isTopicId(text.slice(1)), false);
      }),
    );
  });

  test("createTopic() writes partition.metadata in Kafka's format in every partition directory; the ID survives a reopen", async () => {
    await withTempDir(async (dir) => {
      let log = await open(dir, { retentionCheckIntervalMs: 0 });
      const topic = await log.createTopic("events", { partitions: 3 });
      const id = topic.topicId!;
      assert.ok(isTopicId(id));
      for (let p = 0; p < 3; p++) {
        const file = path.join(dir, `events-${p}`, PARTITION_METADATA_FILE);
        assert.equal(fs.readFileSync(file, "utf8"), `version: 0\ntopic_id: ${id}`);
      }
      assert.equal(JSON.parse(fs.readFileSync(path.join(dir, ".topics", "events.json"), "utf8")).topicId, id);
      const other = await log.createTopic("other");
      assert.notEqual(other.topicId, id);
      await log.close();
      log = await open(dir, { retentionCheckIntervalMs: 0 });
      assert.equal(log.topic("events").topicId, id);
      await log.close();
    });
  });

  test("a topic deleted and created again under its name has a new topic ID", async () => {
    await withTempDir(async (dir) => {
      const log = await open(dir, { retentionCheckIntervalMs: 0 });
      const first = (await log.createTopic("events", { partitions: 2 })).topicId;
      await log.deleteTopic("events");
      const second = (await log.createTopic("events", { partitions: 2 })).topicId;
      assert.notEqual(first, second);
      assert.equal(readPartitionMetadata(path.join(dir, "events-1")), second);
      await log.close();
    });
  });

  test("readPartitionMetadata() reads Kafka's file with or without a final newline and throws StorageError for anything else", async () => {
    await withTempDir((dir) => {
      const id = randomTopicId();
      const file = path.join(dir, PARTITION_METADATA_FILE);
      for (const text of [formatPartitionMetadata(id), formatPartitionMetadata(id) + "\n"]) {
        fs.writeFileSync(file, text);
        assert.equal(readPartitionMetadata(dir), id);
      }
      for (
        const bad of [
          "",
          "version: 1\ntopic_id: " + id,
          "version: 0\ntopic_id: AAAAAAAAAAAAAAAAAAAAAA",
          "garbage",
        ]
      ) {
        fs.writeFileSync(file, bad);
        assert.throws(() => readPartitionMetadata(dir), StorageError, JSON.stringify(bad));
      }
      return Promise.resolve();
    });
  });
});
