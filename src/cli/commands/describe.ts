/**
 * `reel describe`: a topic's partitions, offsets and sizes.
 *
 * @module
 */
import { choiceOption, optionalString, type OptionValues, requireString } from "../args.ts";
import { columns, type Command, openExisting } from "../command.ts";
import { StdoutWriter } from "../stdio.ts";
import type { Topic } from "../../../mod.ts";

/** `reel describe`. */
export const describe: Command = {
  name: "describe",
  summary: "Show topics' partitions: offsets, segments, bytes",
  help: `Usage: reel describe --dir D [--topic T] [--format table|json]

For the topic (every topic, sorted by name, without --topic), prints its record
count (log end minus log start offsets) and config, then one row per
partition: its log start offset (the first offset still stored), log end
offset (the offset the next record gets), high watermark (the end of what
readers see), segments and bytes on disk, and a total row.

Options:
  --dir D                 the log directory
  --topic T               the topic (default: every topic)
  --format F              table (default) or json (one line per topic:
                          {"topic","partitions","records","config",
                          "partitionInfo":[{"partition","logStartOffset",
                          "logEndOffset","highWatermark","segments","bytes"}]})
  --verbose               print the stack of an error
  -h, --help              show this help
`,
  options: { dir: { type: "string" }, topic: { type: "string" }, format: { type: "string" } },
  async run(values: OptionValues): Promise<number> {
    const dir = requireString(values, "dir");
    const name = optionalString(values, "topic");
    const format = choiceOption(values, "format", ["table", "json"] as const, "table");
    const log = await openExisting(dir);
    try {
      const out = new StdoutWriter();
      const names = name === undefined ? log.topics() : [name];
      for (let i = 0; i < names.length; i++) {
        const topic = log.topic(names[i]);
        if (format === "json") {
          const partitions = topic.describe();
          out.writeText(
            JSON.stringify({
              topic: topic.name,
              partitions: topic.partitions,
              records: recordCount(partitions),
              config: topic.config,
              partitionInfo: partitions,
            }) + "\n",
          );
        } else {
          if (i > 0) out.writeText("\n");
          writeTable(topic, out);
        }
        if (out.buffered >= 65536) await out.flush();
      }
      await out.end();
      return 0;
    } finally {
      await log.close();
    }
  },
};

function recordCount(partitions: { logStartOffset: number; logEndOffset: number }[]): number {
  let records = 0;
  for (const p of partitions) records += p.logEndOffset - p.logStartOffset;
  return records;
}

function writeTable(topic: Topic, out: StdoutWriter): void {
  const partitions = topic.describe();
  let segments = 0;
  let bytes = 0;
  const rows = [[
    "PARTITION",
    "LOG-START-OFFSET",
    "LOG-END-OFFSET",
    "HIGH-WATERMARK",
    "SEGMENTS",
    "BYTES",
  ]];
  for (const p of partitions) {
    rows.push(
      [p.partition, p.logStartOffset, p.logEndOffset, p.highWatermark, p.segments, p.bytes].map(String),
    );
    segments += p.segments;
    bytes += p.bytes;
  }
  rows.push(["total", "", "", "", String(segments), String(bytes)]);
  const config = Object.entries(topic.config).map(([k, v]) => `${k}=${v}`).join(" ");
  out.writeText(
    `Topic: ${topic.name}  Partitions: ${topic.partitions}  Records: ${recordCount(partitions)}\n`,
  );
  out.writeText(`Config: ${config}\n\n`);
  for (const line of columns(rows)) out.writeText(line.trimEnd() + "\n");
}
