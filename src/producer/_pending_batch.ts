/**
 * The records of one partition that wait for their batch in a `RecordAccumulator`, kept
 * as columns (module-private to the producer).
 *
 * @module
 */
import type { RecordHeader, RecordInput } from "../record/record.ts";

/**
 * One partition's records waiting for their batch, as columns: no object per record, and the
 * usual record (no headers) is encoded straight from them.
 */
export class PendingBatch {
  /** Each record's key (`null`: none); `undefined` while no record has one. */
  keys: (Uint8Array | null)[] | undefined;
  readonly values: (Uint8Array | null)[] = [];
  /** Each record's timestamp (`undefined`: the append time); `undefined` while no record has one. */
  timestamps: (number | undefined)[] | undefined;
  /** Each record's headers (`undefined`: none); `undefined` while no record has any. */
  headers: (RecordHeader[] | undefined)[] | undefined;
  /** The records' sizes as `estimateSize` gives them, summed, bytes. */
  bytes = 0;
  /** The records' key and value bytes. */
  payload = 0;

  /** How many records wait. */
  get count(): number {
    return this.values.length;
  }

  /**
   * Adds a record at the end; a column made for the first record that has its field is filled
   * with the default for the records before it.
   *
   * @param size the record's `estimateSize`, bytes
   */
  push(
    key: Uint8Array | null,
    value: Uint8Array | null,
    timestamp: number | undefined,
    headers: RecordHeader[] | undefined,
    size: number,
  ): void {
    const i = this.values.length;
    if (key !== null) (this.keys ??= new Array(i).fill(null)).push(key);
    else if (this.keys !== undefined) this.keys.push(null);
    this.values.push(value);
    if (timestamp !== undefined) (this.timestamps ??= new Array(i).fill(undefined)).push(timestamp);
    else if (this.timestamps !== undefined) this.timestamps.push(undefined);
    if (headers !== undefined && headers.length > 0) {
      (this.headers ??= new Array(i).fill(undefined)).push(headers);
    } else if (this.headers !== undefined) this.headers.push(undefined);
    this.bytes += size;
    this.payload += (key === null ? 0 : key.length) + (value === null ? 0 : value.length);
  }

  /** The records as `encodeRecordBatch` takes them. */
  inputs(): RecordInput[] {
    const { keys, values, timestamps, headers } = this;
    const out = new Array<RecordInput>(values.length);
    for (let i = 0; i < out.length; i++) {
      out[i] = {
        key: keys?.[i] ?? null,
        value: values[i],
        headers: headers?.[i],
        timestamp: timestamps?.[i],
      };
    }
    return out;
  }
}
