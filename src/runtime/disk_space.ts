/**
 * The size and free space of the file system a path is on (`statfs`), as Kafka's DescribeLogDirs
 * reports them for a log directory (KIP-827).
 *
 * @module
 */
import fs from "node:fs";

/** A file system's size and the space this process may still use, bytes. */
export interface DiskSpace {
  /** Its size, bytes. */
  totalBytes: number;
  /** The bytes an unprivileged process may still write (`f_bavail`), as Kafka's `usableBytes`. */
  usableBytes: number;
}

/**
 * The size and usable space of the file system `path` is on.
 *
 * @param path a file or directory on it
 * @returns both in bytes, or `undefined` when the runtime or the file system cannot tell
 * @example The file system of the temporary directory
 * ```ts
 * import assert from "node:assert/strict";
 * import { diskSpace } from "./disk_space.ts";
 * const space = diskSpace(Deno.makeTempDirSync())!;
 * assert.ok(space.totalBytes > 0);
 * assert.ok(space.usableBytes >= 0 && space.usableBytes <= space.totalBytes);
 * ```
 */
export function diskSpace(path: string): DiskSpace | undefined {
  try {
    const s = fs.statfsSync(path);
    return { totalBytes: s.bsize * s.blocks, usableBytes: s.bsize * s.bavail };
  } catch {
    return undefined; // no statfs here, or the path is gone: DescribeLogDirs says "unknown" (-1)
  }
}
