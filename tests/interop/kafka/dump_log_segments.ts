/**
 * Kafka's `DumpLogSegments` (`kafka-dump-log.sh`) run over files and its output parsed: the
 * batches and records it found in `.log` files (keys and values printed as hex by `HexDecoder`),
 * the problems it reports (offsets not consecutive, index entries that do not match the log, time
 * index errors) and the index files that passed its sanity check.
 *
 * The output format is DumpLogSegments.scala's: one `baseOffset: … isvalid: …` line per batch, one
 * `| offset: … headerKeys: [...] key: … payload: …` line per record under `--deep-iteration`.
 *
 * @module
 */
import { runKafkaTool, TOOLS } from "./harness.ts";

/** One batch line of a dump: its fields as printed (numbers as numbers). */
export interface DumpedBatch {
  baseOffset: number;
  lastOffset: number;
  count: number;
  baseSequence: number;
  lastSequence: number;
  producerId: number;
  producerEpoch: number;
  partitionLeaderEpoch: number;
  isTransactional: boolean;
  isControl: boolean;
  position: number;
  /** `CreateTime` or `LogAppendTime`. */
  timestampType: string;
  /** The batch's max timestamp, ms. */
  maxTimestamp: number;
  size: number;
  magic: number;
  compresscodec: string;
  crc: number;
  isvalid: boolean;
  /**
   * The delete horizon, ms (`deleteHorizonMs: OptionalLong[…]`: attributes bit 6, KIP-534, the base
   * timestamp holds it), or `null` (`OptionalLong.empty`).
   */
  deleteHorizonMs: number | null;
  records: DumpedRecord[];
}

/** One record line of a dump (`--deep-iteration --print-data-log` with `HexDecoder`). */
export interface DumpedRecord {
  offset: number;
  timestamp: number;
  keySize: number;
  valueSize: number;
  sequence: number;
  headerKeys: string[];
  /** Hex, or `null` when the record has no key. */
  key: string | null;
  /** Hex, or `null` when the record has no value. */
  value: string | null;
  /** For a control record: `COMMIT` or `ABORT`. */
  endTxnMarker?: string;
  coordinatorEpoch?: number;
}

/** What DumpLogSegments said about a set of files. */
export interface Dump {
  /** The batches of each `.log` file, by the path given. */
  logs: Map<string, DumpedBatch[]>;
  /** `offset: … position: …` lines of each `.index` file, and `timestamp: … offset: …` of each `.timeindex`. */
  indexEntries: Map<string, { offset: number; position?: number; timestamp?: number }[]>;
  /** The files that `passed sanity check.` (with `--index-sanity-check`). */
  sane: Set<string>;
  /** Every problem it printed to standard error (mismatches, non-consecutive offsets, exceptions). */
  problems: string[];
  stdout: string;
  stderr: string;
}

function fieldsOf(line: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of line.matchAll(/(\w+): (\[[^\]]*\]|\S*)/g)) if (!out.has(m[1])) out.set(m[1], m[2]);
  return out;
}

function num(fields: Map<string, string>, key: string, line: string): number {
  const v = fields.get(key);
  if (v === undefined || !/^-?\d+$/.test(v)) throw new Error(`DumpLogSegments line without ${key}: ${line}`);
  return Number(v);
}

function hexField(v: string | undefined): string | null {
  if (v === undefined) return null;
  if (!v.startsWith("hex:")) {
    throw new Error(`Unexpected key or payload ${v}: expected hex:... from HexDecoder`);
  }
  return v.slice(4);
}

function horizonField(v: string | undefined, line: string): number | null {
  if (v === undefined || v === "OptionalLong.empty") return null;
  const m = /^OptionalLong\[(-?\d+)\]$/.exec(v);
  if (!m) throw new Error(`DumpLogSegments line with an unexpected deleteHorizonMs: ${line}`);
  return Number(m[1]);
}

/** Parses DumpLogSegments' output (see the module doc). */
export function parseDump(stdout: string, stderr: string): Dump {
  const dump: Dump = {
    logs: new Map(),
    indexEntries: new Map(),
    sane: new Set(),
    problems: [],
    stdout,
    stderr,
  };
  let file = "";
  let batches: DumpedBatch[] | undefined;
  for (const line of stdout.split("\n")) {
    if (line.startsWith("Dumping ")) {
      file = line.slice("Dumping ".length);
      batches = undefined;
      if (file.endsWith(".log")) dump.logs.set(file, batches = []);
      else dump.indexEntries.set(file, []);
      continue;
    }
    if (line.endsWith(" passed sanity check.")) {
      dump.sane.add(line.slice(0, -" passed sanity check.".length));
      continue;
    }
    const f = fieldsOf(line);
    if (line.startsWith("baseOffset: ") && batches) {
      const timestampType = f.has("CreateTime") ? "CreateTime" : "LogAppendTime";
      batches.push({
        baseOffset: num(f, "baseOffset", line),
        lastOffset: num(f, "lastOffset", line),
        count: num(f, "count", line),
        baseSequence: num(f, "baseSequence", line),
        lastSequence: num(f, "lastSequence", line),
        producerId: num(f, "producerId", line),
        producerEpoch: num(f, "producerEpoch", line),
        partitionLeaderEpoch: num(f, "partitionLeaderEpoch", line),
        isTransactional: f.get("isTransactional") === "true",
        isControl: f.get("isControl") === "true",
        position: num(f, "position", line),
        timestampType,
        maxTimestamp: num(f, timestampType, line),
        size: num(f, "size", line),
        magic: num(f, "magic", line),
        compresscodec: f.get("compresscodec") ?? "",
        crc: num(f, "crc", line),
        isvalid: f.get("isvalid") === "true",
        deleteHorizonMs: horizonField(f.get("deleteHorizonMs"), line),
        records: [],
      });
    } else if (line.startsWith("| offset: ") && batches?.length) {
      const headerKeys = f.get("headerKeys") ?? "[]";
      const record: DumpedRecord = {
        offset: num(f, "offset", line),
        timestamp: num(f, f.has("CreateTime") ? "CreateTime" : "LogAppendTime", line),
        keySize: num(f, "keySize", line),
        valueSize: num(f, "valueSize", line),
        sequence: num(f, "sequence", line),
        headerKeys: headerKeys === "[]" ? [] : headerKeys.slice(1, -1).split(","),
        key: hexField(f.get("key")),
        value: hexField(f.get("payload")),
      };
      if (f.has("endTxnMarker")) {
        record.endTxnMarker = f.get("endTxnMarker");
        record.coordinatorEpoch = num(f, "coordinatorEpoch", line);
      }
      batches[batches.length - 1].records.push(record);
    } else if (line.startsWith("offset: ") && f.has("position")) {
      dump.indexEntries.get(file)?.push({
        offset: num(f, "offset", line),
        position: num(f, "position", line),
      });
    } else if (line.startsWith("timestamp: ")) {
      dump.indexEntries.get(file)?.push({
        offset: num(f, "offset", line),
        timestamp: num(f, "timestamp", line),
      });
    }
  }
  // Standard error: the tool's own reports, and any exception. Log4j lines are not problems.
  for (const line of stderr.split("\n")) {
    if (line.trim() === "" || /^\[[\d-]+ [\d:,]+\] (WARN|INFO)/.test(line)) continue;
    dump.problems.push(line);
  }
  return dump;
}

/** Options of {@linkcode dumpLogSegments}. */
export interface DumpOptions {
  /** `--deep-iteration --print-data-log` with hex keys and values. @default true for `.log` files */
  deep?: boolean;
  /** `--deep-iteration` alone: record lines without keys and values. @default false */
  deepIteration?: boolean;
  /** `--verify-index-only` */
  verifyIndexOnly?: boolean;
  /** `--index-sanity-check` */
  indexSanityCheck?: boolean;
}

/**
 * Runs DumpLogSegments once over `files` and parses what it prints.
 *
 * @param files `.log`, `.index`, `.timeindex`, `.txnindex` or `.snapshot` files
 * @param options which checks
 * @returns the parsed dump (`problems` empty when Kafka found nothing wrong)
 */
export async function dumpLogSegments(files: readonly string[], options: DumpOptions = {}): Promise<Dump> {
  const args = ["--files", files.join(",")];
  if (options.deep ?? true) {
    args.push(
      "--deep-iteration",
      "--print-data-log",
      "--key-decoder-class",
      TOOLS.hexDecoder,
      "--value-decoder-class",
      TOOLS.hexDecoder,
    );
  }
  if (options.deepIteration) args.push("--deep-iteration");
  if (options.verifyIndexOnly) args.push("--verify-index-only");
  if (options.indexSanityCheck) args.push("--index-sanity-check");
  const { stdout, stderr, code } = await runKafkaTool(TOOLS.dumpLogSegments, args, { check: false });
  const dump = parseDump(stdout, stderr);
  if (code !== 0) dump.problems.push(`DumpLogSegments exited with ${code}`);
  return dump;
}
