/**
 * `reel describe`: a topic's partitions, offsets and sizes.
 *
 * @module
 */
import { type OptionValues, requireString } from "../args.ts";
import { columns, type Command, openExisting } from "../command.ts";
import { StdoutWriter } from "../stdio.ts";

/** `reel describe`. */
export const describe: Command = {
  name: "describe",
  summary: "Show a topic's partitions: offsets, segments, bytes",
  help: `Usage: reel describe --dir D --topic T

Prints the topic's record count (log end minus log start offsets) and config,
then one row per partition: its log start offset (the first offset still
stored), log end offset (the offset the next record gets), high watermark (the
end of what readers see), segments and bytes on disk, and a total row.

Options:
  --dir D                 the log directory
  --topic T               the topic
  --verbose               print the stack of an error
  -h, --help              show this help
`,
  options: { dir: { type: "string" }, topic: { type: "string" } },
  async run(values: OptionValues): Promise<number> {
    const log = await openExisting(requireString(values, "dir"));
    try {
      const topic = log.topic(requireString(values, "topic"));
      const out = new StdoutWriter();
      const partitions = topic.describe();
      let records = 0;
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
        records += p.logEndOffset - p.logStartOffset;
        segments += p.segments;
        bytes += p.bytes;
      }
      rows.push(["total", "", "", "", String(segments), String(bytes)]);
      const config = Object.entries(topic.config).map(([k, v]) => `${k}=${v}`).join(" ");
      out.writeText(`Topic: ${topic.name}  Partitions: ${topic.partitions}  Records: ${records}\n`);
      out.writeText(`Config: ${config}\n\n`);
      for (const line of columns(rows)) out.writeText(line.trimEnd() + "\n");
      await out.end();
      return 0;
    } finally {
      await log.close();
    }
  },
};
