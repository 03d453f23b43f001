// Runs checkFileStatus in the directory given, then prints where this process took an open file's
// status from (file_status_test.ts runs it on Deno without every permission).
import process from "node:process";
import { fileStatusSource } from "../../src/runtime/file_system.ts";
import { checkFileStatus } from "./_file_status_checks.ts";

checkFileStatus(process.argv.at(-1)!);
console.log(fileStatusSource());
