/**
 * `reel topics`: the topics of a log directory.
 *
 * @module
 */
import { choiceOption, type OptionValues, requireString } from "../args.ts";
import { type Command, openExisting } from "../command.ts";
import { StdoutWriter } from "../stdio.ts";

/** `reel topics`. */
export const topics: Command = {
  name: "topics",
  summary: "List the topics of a log directory",
  help: `Usage: reel topics --dir D [--format table|json]

Prints one line per topic, sorted by name: the name and the number of
partitions, separated by a tab.

Options:
  --dir D                 the log directory
  --format F              table (default) or json (one line per topic:
                          {"topic","partitions"})
  --verbose               print the stack of an error
  -h, --help              show this help
`,
  options: { dir: { type: "string" }, format: { type: "string" } },
  async run(values: OptionValues): Promise<number> {
    const dir = requireString(values, "dir");
    const format = choiceOption(values, "format", ["table", "json"] as const, "table");
    const log = await openExisting(dir);
    try {
      const out = new StdoutWriter();
      for (const name of log.topics()) {
        const partitions = log.topic(name).partitions;
        out.writeText(
          format === "json" ? JSON.stringify({ topic: name, partitions }) + "\n" : `${name}\t${partitions}\n`,
        );
      }
      await out.end();
      return 0;
    } finally {
      await log.close();
    }
  },
};
