/**
 * The segments of one log that may still need a write or an fsync ({@linkcode UnflushedSegments}),
 * so that a group-commit round looks at one or two segments instead of every segment of a long
 * log. Kafka flushes the segments past its recovery point (`LocalLog.flush`); reel keeps the list
 * itself. Internal to `src/log/`.
 *
 * @module
 */
import type { LogSegment } from "./log_segment.ts";

/** Whether a sealed segment needs nothing more: clean, no fsync running, nothing held back. */
function settled(segment: LogSegment): boolean {
  return !segment.dirty && !segment.syncing && segment.pendingBytes === 0;
}

/**
 * The sealed segments of a log that may be dirty, have an fsync running or hold batches back,
 * then its active segment: a superset, pruned as segments settle. A sealed segment that settled
 * stays settled while the list of segments is unchanged, because appends go to the active segment
 * only and a roll writes what the old one held back first. Every other change (a roll, retention,
 * the cleaner's swap, a truncation, a reload) replaces the list, lengthens or shortens it, or
 * changes its first or last segment, and then every segment is looked at once more.
 *
 * @example Sealed segments drop out once clean; the active one always stays
 * ```ts
 * import assert from "node:assert/strict";
 * import { UnflushedSegments } from "./_unflushed_segments.ts";
 * import type { LogSegment } from "./log_segment.ts";
 * const segment = (dirty: boolean) => ({ dirty, syncing: false, pendingBytes: 0 }) as unknown as LogSegment;
 * const segments = [segment(false), segment(true), segment(false)];
 * const unflushed = new UnflushedSegments();
 * assert.deepEqual(unflushed.of(segments), [segments[1], segments[2]]);
 * (segments[1] as unknown as { dirty: boolean }).dirty = false;
 * assert.deepEqual(unflushed.of(segments), [segments[2]]);
 * segments.push(segment(true)); // a roll: every segment is looked at again
 * assert.deepEqual(unflushed.of(segments), [segments[3]]);
 * ```
 */
export class UnflushedSegments {
  #list: readonly LogSegment[] = [];
  /** The segments `#list` was made from, and their length, first and last segment then. */
  #of: readonly LogSegment[] | undefined;
  #length = 0;
  #first: LogSegment | undefined;
  #last: LogSegment | undefined;

  /**
   * The segments among `segments` that may need a write or an fsync.
   *
   * @param segments the log's segments, oldest first (at least one)
   * @returns those segments, oldest first, the active (last) one always: an array not changed
   *   afterwards, so it may be walked across awaits
   */
  of(segments: readonly LogSegment[]): readonly LogSegment[] {
    const n = segments.length;
    const last = segments[n - 1];
    let list = this.#list;
    if (segments !== this.#of || n !== this.#length || segments[0] !== this.#first || last !== this.#last) {
      list = segments;
      this.#of = segments;
      this.#length = n;
      this.#first = segments[0];
      this.#last = last;
    }
    let kept = 0;
    for (let i = 0; i < list.length - 1; i++) if (!settled(list[i])) kept++;
    if (list === segments || kept !== list.length - 1) {
      const next: LogSegment[] = [];
      for (let i = 0; i < list.length - 1; i++) if (!settled(list[i])) next.push(list[i]);
      next.push(last);
      list = next;
    }
    this.#list = list;
    return list;
  }
}
