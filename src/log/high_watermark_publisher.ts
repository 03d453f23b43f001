/**
 * The writer's side of the published high watermark (`.high-watermark`, `fsync: "always"` only):
 * after each group commit's fdatasync the writer rewrites the file in place, so that readers in
 * other processes (`log_follower.ts`) never show a record a power loss could take back. The file's
 * format is `checkpoint.ts`'s.
 *
 * @module
 */
import { fs } from "../runtime/file_system.ts";
import { HIGH_WATERMARK_FILE, openHighWatermark, writeHighWatermark } from "./checkpoint.ts";

/**
 * Publishes one partition's high watermark for readers in other processes, keeping the file open
 * between publishes.
 *
 * @example Publish, then close
 * ```ts
 * import assert from "node:assert/strict";
 * import { HighWatermarkPublisher } from "./high_watermark_publisher.ts";
 * import { HIGH_WATERMARK_FILE, readHighWatermark } from "./checkpoint.ts";
 * const dir = Deno.makeTempDirSync();
 * const publisher = new HighWatermarkPublisher(dir);
 * publisher.publish(42);
 * assert.equal(readHighWatermark(`${dir}/${HIGH_WATERMARK_FILE}`), 42);
 * publisher.close();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export class HighWatermarkPublisher {
  /** The descriptor of the file, while open. */
  #fd: number | undefined;

  /** @param dir the partition directory */
  constructor(readonly dir: string) {}

  /**
   * Rewrites the published high watermark, opening the file (creating it if needed) on first use.
   * A failure is ignored: readers in other processes lag until the next publish.
   *
   * @param offset the high watermark
   */
  publish(offset: number): void {
    try {
      this.#fd ??= openHighWatermark(`${this.dir}/${HIGH_WATERMARK_FILE}`);
      writeHighWatermark(this.#fd, offset);
    } catch { /* readers in other processes lag until the next publish */ }
  }

  /** Closes the file, if open (the writer role was given back, or the log closed). */
  close(): void {
    if (this.#fd === undefined) return;
    try {
      fs.closeSync(this.#fd);
    } catch { /* already closed */ }
    this.#fd = undefined;
  }
}
