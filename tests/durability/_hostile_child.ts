// Child of restricted_deno_test.ts: runs _hostile.ts's `exercise` on the log directory given (open,
// append one record, read every record, look at a group's committed offset) and prints one JSON
// line: `{"values": n}`, or `{"errorMessage": ...}` for one of reel's errors (any other error is
// thrown). Meant for Deno run with fewer than all permissions, where Deno resolves symbolic links
// before it opens a path.
import process from "node:process";
import { exercise } from "./_hostile.ts";

const { error, values } = await exercise(process.argv[2]);
console.log(JSON.stringify(error ? { errorMessage: error.message } : { values: values!.length }));
