/**
 * The loader's first pass over a partition directory (Kafka's
 * `LogLoader.removeTempFilesAndCollectSwapFiles` and the swap passes after it), for
 * `log_loader.ts`: what a crash left of a segment swap or a deletion, completed or removed.
 *
 * @module
 */
import {
  fs,
  openFileAndSize,
  removeDirectory,
  removeFile,
  renameFile,
  syncDirectory,
} from "../runtime/file_system.ts";
import { batchesFrom } from "./file_records.ts";

/**
 * The offset after the last whole batch of a `.swap` file (Kafka's `readNextOffset`): the end of
 * the offsets the swapped-in segment covers.
 */
function swapNextOffset(path: string, baseOffset: number): number {
  const { fd, size } = openFileAndSize(path, "r");
  try {
    let next = baseOffset;
    const batches = batchesFrom(fd, 0, size);
    while (batches.nextBatch()) next = batches.lastOffset + 1;
    return next;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Kafka's `LogLoader.removeTempFilesAndCollectSwapFiles` and the swap passes after it: removes
 * `.deleted`, `.cleaned` and `.tmp` leftovers, and completes interrupted swaps. A `.swap` file was
 * renamed from a whole, fsynced `.cleaned` one, so it is swapped in: the segments whose base
 * offsets it covers are deleted, and it is renamed to its final name. The log reopens to the new
 * segments, never to a mix.
 *
 * @param dir the partition directory (its writer lock held)
 * @param names its entries, as just listed
 * @returns the directory's names afterwards
 * @example A deleted segment's leftover is removed; a directory with none is left as it is
 * ```ts
 * import assert from "node:assert/strict";
 * import * as fs from "node:fs";
 * import { completeInterruptedSwaps } from "./_complete_interrupted_swaps.ts";
 * const dir = Deno.makeTempDirSync();
 * fs.writeFileSync(`${dir}/00000000000000000000.log`, "");
 * fs.writeFileSync(`${dir}/00000000000000000000.log.deleted`, "old");
 * const names = completeInterruptedSwaps(dir, fs.readdirSync(dir));
 * assert.deepEqual(names, ["00000000000000000000.log"]);
 * assert.equal(completeInterruptedSwaps(dir, names), names); // nothing to do: no new listing
 * ```
 */
export function completeInterruptedSwaps(dir: string, names: string[]): string[] {
  let changed = false;
  const swaps: string[] = [];
  for (const name of names) {
    if (/\.(deleted|cleaned|tmp)$/.test(name)) {
      removeDirectory(`${dir}/${name}`); // a file, or what is left of a deleted directory
      changed = true;
    } else if (/\.swap$/.test(name)) swaps.push(name);
  }
  let min = Infinity, max = -Infinity;
  for (const name of swaps) {
    const m = /^(\d{20})\.log\.swap$/.exec(name);
    if (!m) continue;
    min = Math.min(min, Number(m[1]));
    max = Math.max(max, swapNextOffset(`${dir}/${name}`, Number(m[1])));
  }
  for (const name of names) {
    const m = /^(\d{20})\.(log|index|timeindex|txnindex)$/.exec(name);
    if (m && Number(m[1]) >= min && Number(m[1]) < max) {
      removeFile(`${dir}/${name}`);
      changed = true;
    }
  }
  for (const name of swaps) {
    renameFile(`${dir}/${name}`, `${dir}/${name.slice(0, -".swap".length)}`);
    changed = true;
  }
  if (!changed) return names;
  syncDirectory(dir);
  return fs.readdirSync(dir);
}
