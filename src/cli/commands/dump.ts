/**
 * `reel dump`: the batches and records of a segment file, with their offsets, positions and CRC
 * validity, in the format of Kafka's `kafka-dump-log.sh` (`kafka.tools.DumpLogSegments`).
 *
 * ```
 * Dumping 00000000000000000000.log
 * Log starting offset: 0
 * baseOffset: 0 lastOffset: 2 count: 3 baseSequence: -1 lastSequence: -1 producerId: -1 producerEpoch: -1 partitionLeaderEpoch: 0 isTransactional: false isControl: false deleteHorizonMs: OptionalLong.empty position: 0 CreateTime: 1700000000000 size: 217 magic: 2 compresscodec: none crc: 3595883880 isvalid: true
 * | offset: 0 CreateTime: 1700000000000 keySize: 5 valueSize: 12 sequence: -1 headerKeys: [] key: key-0 payload: some-value-0
 * ```
 *
 * `--deep-iteration` prints each record without its key and value, `--print-data-log` with them; a
 * control batch's record shows its transaction marker (`endTxnMarker: COMMIT coordinatorEpoch: 0`),
 * as Kafka's tool does.
 *
 * @module
 */
import { fs, readFully } from "../../runtime/file_system.ts";
import {
  compressionName,
  decodeRecordBatch,
  readRecordBatchHeader,
  RECORD_BATCH_OVERHEAD,
  type RecordBatchHeader,
  validateRecordBatch,
} from "../../record/mod.ts";
import { DELETE_HORIZON_MASK } from "../../record/record_batch.ts";
import { batchesFrom } from "../../log/file_records.ts";
import { OFFSET_INDEX_ENTRY_SIZE, OffsetIndex } from "../../log/offset_index.ts";
import { TIME_INDEX_ENTRY_SIZE, TimeIndex } from "../../log/time_index.ts";
import type { OptionValues } from "../args.ts";
import type { Command } from "../command.ts";
import { StdoutWriter } from "../stdio.ts";

/** `reel dump`. */
export const dump: Command = {
  name: "dump",
  summary: "Print the batches and records of a segment file (.log, .index, .timeindex)",
  help: `Usage: reel dump [--deep-iteration] [--print-data-log] FILE...

Prints each record batch of a segment's .log file, as Kafka's kafka-dump-log
does: offsets, byte position, size, codec, CRC-32C and whether it is valid.
Bytes at the end that do not make a whole batch are reported, not read. For an
.index file it prints its entries (offset, position); for a .timeindex file
(timestamp, offset).

Options:
  --deep-iteration        also print each record: offset, timestamp, key and
                          value sizes, sequence, header keys; for a control
                          batch its marker (endTxnMarker: COMMIT or ABORT)
  --print-data-log        --deep-iteration, and each record's key and value
                          as text
  --verbose               print the stack of an error
  -h, --help              show this help

Example:
  reel dump --print-data-log data/access-0/00000000000000000000.log
`,
  options: { "print-data-log": { type: "boolean" }, "deep-iteration": { type: "boolean" } },
  positionals: { min: 1, max: Infinity },
  async run(values: OptionValues, files: string[]): Promise<number> {
    const out = new StdoutWriter();
    for (const file of files) {
      if (fs.existsSync(file) && fs.statSync(file).isDirectory()) {
        throw new Error(`Cannot dump ${file}: it is a directory, not a segment file`);
      }
      out.writeText(`Dumping ${file}\n`);
      if (file.endsWith(".index")) {
        dumpIndex(
          file,
          out,
          OFFSET_INDEX_ENTRY_SIZE,
          (bytes, base) =>
            OffsetIndex.entries(bytes, base).map((e) => `offset: ${e.offset} position: ${e.position}`),
        );
      } else if (file.endsWith(".timeindex")) {
        dumpIndex(
          file,
          out,
          TIME_INDEX_ENTRY_SIZE,
          (bytes, base) =>
            TimeIndex.entries(bytes, base).map((e) => `timestamp: ${e.timestamp} offset: ${e.offset}`),
        );
      } else if (file.endsWith(".log")) {
        const printData = values["print-data-log"] === true;
        await dumpLog(file, out, printData || values["deep-iteration"] === true, printData);
      } else {
        throw new Error(`Cannot dump ${file}: it is not a segment file (.log, .index or .timeindex)`);
      }
      await out.flush();
    }
    await out.end();
    return 0;
  },
};

/** The base offset in a segment file's name (`00000000000000000042.log` → 42), or 0. */
function baseOffsetOf(file: string): number {
  const m = /(\d{20})\.[a-z]+$/.exec(file);
  return m ? Number(m[1]) : 0;
}

function openFile(file: string): { fd: number; size: number } {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (err) {
    throw new Error(`Cannot dump ${file}: ${(err as Error).message}`, { cause: err });
  }
  const stat = fs.fstatSync(fd);
  if (!stat.isFile()) {
    fs.closeSync(fd);
    throw new Error(
      `Cannot dump ${file}: it is ${stat.isDirectory() ? "a directory" : "not a regular file"}`,
    );
  }
  return { fd, size: stat.size };
}

function dumpIndex(
  file: string,
  out: StdoutWriter,
  entrySize: number,
  lines: (bytes: Uint8Array, baseOffset: number) => string[],
): void {
  const { fd, size } = openFile(file);
  try {
    const bytes = readFully(fd, 0, size);
    const whole = size - (size % entrySize);
    for (const line of lines(bytes, baseOffsetOf(file))) out.writeText(line + "\n");
    if (whole < size) out.writeText(`Found ${size - whole} invalid bytes at the end of ${file}\n`);
  } finally {
    fs.closeSync(fd);
  }
}

const decoder = new TextDecoder();

async function dumpLog(file: string, out: StdoutWriter, deep: boolean, printData: boolean): Promise<void> {
  const { fd, size } = openFile(file);
  try {
    out.writeText(`Log starting offset: ${baseOffsetOf(file)}\n`);
    const batches = batchesFrom(fd, 0, size, { whole: true });
    for (;;) {
      const whole = batches.nextBatch();
      if (batches.stop === "end") break;
      const position = batches.position;
      const left = size - position;
      if (batches.stop === "short") {
        out.writeText(`Found ${left} invalid bytes at the end of ${file}\n`);
        break;
      }
      const at = batches.at;
      const batch = batches.bytes.subarray(at, at + (whole ? batches.size : RECORD_BATCH_OVERHEAD));
      let header: RecordBatchHeader;
      try {
        header = readRecordBatchHeader(batch, 0);
      } catch (err) {
        if (position === 0) {
          throw new Error(`Cannot dump ${file}: it is not a segment file: ${(err as Error).message}`, {
            cause: err,
          });
        }
        out.writeText(
          `Found ${left} invalid bytes at position ${position} of ${file}: ${(err as Error).message}\n`,
        );
        break;
      }
      const batchBytes = batches.size;
      if (!whole) {
        out.writeText(
          `Found ${left} invalid bytes at the end of ${file}: the batch at position ${position} needs ${batchBytes}\n`,
        );
        break;
      }
      let valid = true;
      try {
        validateRecordBatch(batch, 0);
      } catch {
        valid = false;
      }
      out.writeText(batchLine(header, position, batchBytes, valid) + "\n");
      if (deep) printRecords(batch, header, valid, printData, out);
      if (out.buffered >= 64 * 1024) await out.flush();
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** Kafka's `DefaultRecordBatch.incrementSequence`: sequences wrap from 2^31 - 1 to 0. */
function sequenceAt(baseSequence: number, delta: number): number {
  if (baseSequence < 0) return -1;
  return baseSequence > 0x7fffffff - delta ? delta - (0x7fffffff - baseSequence) - 1 : baseSequence + delta;
}

function batchLine(h: RecordBatchHeader, position: number, size: number, valid: boolean): string {
  const lastSequence = sequenceAt(h.baseSequence, h.lastOffsetDelta);
  const deleteHorizonMs = h.attributes & DELETE_HORIZON_MASK
    ? `OptionalLong[${h.baseTimestamp}]`
    : "OptionalLong.empty";
  let codec: string;
  try {
    codec = compressionName(h.compression);
  } catch {
    codec = `unknown(${h.compression})`;
  }
  return `baseOffset: ${h.baseOffset} lastOffset: ${
    h.baseOffset + h.lastOffsetDelta
  } count: ${h.recordsCount} ` +
    `baseSequence: ${h.baseSequence} lastSequence: ${lastSequence} producerId: ${h.producerId} ` +
    `producerEpoch: ${h.producerEpoch} partitionLeaderEpoch: ${h.partitionLeaderEpoch} ` +
    `isTransactional: ${h.isTransactional} isControl: ${h.isControl} deleteHorizonMs: ${deleteHorizonMs} ` +
    `position: ${position} ` +
    `${timestampTypeName(h)}: ${h.maxTimestamp} size: ${size} magic: ${h.magic} compresscodec: ${codec} ` +
    `crc: ${h.crc} isvalid: ${valid}`;
}

function timestampTypeName(h: RecordBatchHeader): string {
  return h.timestampType === 1 ? "LogAppendTime" : "CreateTime";
}

/** Control record types (Kafka's `ControlRecordType`), by the type id in a control record's key. */
const CONTROL_TYPES = [
  "ABORT",
  "COMMIT",
  "LEADER_CHANGE",
  "SNAPSHOT_HEADER",
  "SNAPSHOT_FOOTER",
  "KRAFT_VERSION",
  "KRAFT_VOTERS",
];

/**
 * What Kafka's DumpLogSegments prints for a control record: a transaction marker's type and
 * coordinator epoch (key: version int16, type int16; value: version int16, coordinatorEpoch int32),
 * or the control type of any other.
 */
function controlText(key: Uint8Array | null, value: Uint8Array | null): string {
  if (!key || key.length < 4) return " controlType: UNKNOWN(-1)";
  const type = new DataView(key.buffer, key.byteOffset, key.byteLength).getInt16(2);
  const name = CONTROL_TYPES[type] ?? "UNKNOWN";
  if ((type === 0 || type === 1) && value && value.length >= 6) {
    const coordinatorEpoch = new DataView(value.buffer, value.byteOffset, value.byteLength).getInt32(2);
    return ` endTxnMarker: ${name} coordinatorEpoch: ${coordinatorEpoch}`;
  }
  return ` controlType: ${name}(${type})`;
}

function printRecords(
  batch: Uint8Array,
  h: RecordBatchHeader,
  valid: boolean,
  printData: boolean,
  out: StdoutWriter,
): void {
  let records;
  try {
    // An invalid batch is decoded anyway, for what can be seen of it.
    records = decodeRecordBatch(batch, 0, { verify: valid }).records;
  } catch (err) {
    out.writeText(`| cannot decode the records: ${(err as Error).message}\n`);
    return;
  }
  for (const r of records) {
    const sequence = sequenceAt(h.baseSequence, r.offset - h.baseOffset);
    let line =
      `| offset: ${r.offset} ${timestampTypeName(h)}: ${r.timestamp} keySize: ${r.key?.length ?? -1} ` +
      `valueSize: ${r.value?.length ?? -1} sequence: ${sequence} headerKeys: [${
        r.headers.map((x) => x.key).join(",")
      }]`;
    if (h.isControl) line += controlText(r.key, r.value);
    else if (printData) {
      if (r.key !== null) line += ` key: ${decoder.decode(r.key)}`;
      if (r.value !== null) line += ` payload: ${decoder.decode(r.value)}`;
    }
    out.writeText(line + "\n");
  }
}
