// deleteGroup() (Kafka's DeleteGroups): a group with live members is refused with
// GroupNotEmptyError (NON_EMPTY_GROUP) and keeps everything; a group without members loses its
// committed offsets and files, so a consumer of the same group id starts over as autoOffsetReset says.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  Consumer,
  deleteGroup,
  describeGroup,
  GroupNotEmptyError,
  InvalidGroupIdError,
  listGroups,
  open,
} from "../../mod.ts";
import { withTempDir } from "./_helpers.ts";

describe("deleteGroup()", () => {
  test("refuses a group with a live member, then deletes it once the member has left", async () => {
    await withTempDir("delete-group", async (dir) => {
      const log = await open(dir);
      const topic = await log.createTopic("t", { partitions: 2 });
      await topic.append(Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })));
      const member = new Consumer(log, {
        groupId: "g",
        autoOffsetReset: "earliest",
        enableAutoCommit: false,
      });
      member.subscribe(["t"]);
      let read = 0;
      while (read < 10) read += (await member.poll({ timeoutMs: 100 })).length;
      await member.commit();
      await assert.rejects(deleteGroup(log, "g"), (err: unknown) => {
        assert.ok(err instanceof GroupNotEmptyError);
        assert.equal(err.errorCode, 68);
        return true;
      });
      assert.equal(describeGroup(log, "g").offsets.length, 2, "nothing was deleted");
      await member.close();

      assert.equal(await deleteGroup(log, "g"), true);
      assert.deepEqual(listGroups(log), []);
      assert.equal(await deleteGroup(log, "g"), false);
      await assert.rejects(deleteGroup(log, ""), InvalidGroupIdError);

      // The same group id starts over: no committed offsets, so from the earliest record.
      const again = new Consumer(log, { groupId: "g", autoOffsetReset: "earliest" });
      again.subscribe(["t"]);
      let count = 0;
      while (count < 10) count += (await again.poll({ timeoutMs: 100 })).length;
      assert.equal(count, 10);
      await again.close();
      await log.close();
    });
  });
});
