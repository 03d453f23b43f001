/**
 * `reel topics`: the topics of a log directory.
 *
 * @module
 */
import { type OptionValues, requireString } from "../args.ts";
import { type Command, openExisting } from "../command.ts";
import { StdoutWriter } from "../stdio.ts";

/** `reel topics`. */
export const topics: Command = {
  name: "topics",
  summary: "List the topics of a log directory",
  help: `Usage: reel topics --dir D

Prints one line per topic, sorted by name: the name and the number of
partitions, separated by a tab.

Options:
  --dir D                 the log directory
  --verbose               print the stack of an error
  -h, --help              show this help
`,
  options: { dir: { type: "string" } },
  async run(values: OptionValues): Promise<number> {
    const log = await openExisting(requireString(values, "dir"));
    try {
      const out = new StdoutWriter();
      for (const name of log.topics()) out.writeText(`${name}\t${log.topic(name).partitions}\n`);
      await out.end();
      return 0;
    } finally {
      await log.close();
    }
  },
};
