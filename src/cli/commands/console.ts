/**
 * `reel console`: the web console over a log directory, until SIGINT or SIGTERM.
 *
 * @module
 */
import { untilStopSignal } from "../stdio.ts";
import process from "node:process";
import { console as startConsole } from "../../console/console.ts";
import { optionalString, type OptionValues, requireString } from "../args.ts";
import { type Command, openExisting } from "../command.ts";
import { parseHostPort } from "./serve.ts";

/** `reel console`. */
export const console: Command = {
  name: "console",
  summary: "Serve a web console over a log directory",
  help: `Usage: reel console --dir D [--listen HOST:PORT] [--token T] [--allow-produce]

Serves a web console over the log directory D until SIGINT or SIGTERM: topics
(partitions, offsets, sizes, config), records (paged, by offset or time, search
by key), a live tail, consumer groups (committed offsets, lag). It only reads
the log and never takes a writer lock, unless --allow-produce is given and a
record is produced from the page. Prints "listening on http://HOST:PORT/" once
ready.

Options:
  --dir D                 the log directory
  --listen HOST:PORT      where to listen (default 127.0.0.1:8080; port 0
                          picks a free one)
  --token T               an access token every request must carry
                          (?token=T or Authorization: Bearer T)
  --allow-produce         serve a produce form (POST with a CSRF token)
  --verbose               print the stack of an error
  -h, --help              show this help
`,
  options: {
    dir: { type: "string" },
    listen: { type: "string" },
    token: { type: "string" },
    "allow-produce": { type: "boolean" },
  },
  async run(values: OptionValues): Promise<number> {
    const dir = requireString(values, "dir");
    const listenAt = parseHostPort(optionalString(values, "listen") ?? "127.0.0.1:8080", "--listen");
    const token = optionalString(values, "token");
    const allowProduce = values["allow-produce"] === true;
    const log = await openExisting(dir);
    let server;
    try {
      server = await startConsole(log, { hostname: listenAt.host, port: listenAt.port, token, allowProduce });
    } catch (err) {
      await log.close();
      throw err;
    }
    const stopped = untilStopSignal();
    const host = listenAt.host.includes(":") ? `[${listenAt.host}]` : listenAt.host;
    process.stderr.write(`reel: listening on http://${host}:${server.port}/\n`);
    await stopped;
    await server.close();
    await log.close();
    process.stderr.write("reel: stopped\n");
    return 0;
  },
};
