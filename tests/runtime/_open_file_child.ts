// Child of open_file_test.ts: prints _open_file_cases.ts's outcomes for the directory given, as JSON.
import process from "node:process";
import { openFileOutcomes } from "./_open_file_cases.ts";

console.log(JSON.stringify(openFileOutcomes(process.argv[2])));
