// The JSR side of packaging: `deno publish --dry-run` accepts the package (no slow types, a license,
// every import resolvable through deno.json's import map), and a Deno project in another directory
// that links this checkout (deno.json "links", Deno's way to use a local copy of a JSR package)
// imports it by name. JSR itself is not contacted; npm packages come from the registry or the cache.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const DENO = path.join(ROOT, "node_modules", ".bin", "deno");
const TIMEOUT = { timeout: 300_000 };
const env = { ...process.env, NO_COLOR: "1" };

describe("the JSR package", () => {
  test("deno publish --dry-run accepts it, with no slow types", TIMEOUT, () => {
    const r = spawnSync(DENO, ["publish", "--dry-run", "--allow-dirty"], {
      cwd: ROOT,
      env,
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr + r.stdout);
    // deno-lint-ignore no-control-regex
    const out = (r.stderr + r.stdout).replace(/\x1b\[[0-9;]*m/g, "");
    assert.match(out, /Checking for slow types in the public API/);
    assert.match(out, /Success Dry run complete/);
    assert.doesNotMatch(out, /error\[/);
    // What goes to JSR: the source, no tests, benchmarks or data.
    const files = [...out.matchAll(/file:\/\/\S+/g)].map((m) => path.relative(ROOT, fileURLToPath(m[0])));
    assert.ok(files.includes("mod.ts"), out);
    assert.deepEqual(files.filter((f) => !/^(mod\.ts|deno\.json|README\.md|src\/)/.test(f)), []);
  });

  test("a Deno project in another directory imports it by name through deno.json links", TIMEOUT, () => {
    const project = fs.mkdtempSync(path.join(os.tmpdir(), "reel-deno-link-"));
    try {
      fs.writeFileSync(
        path.join(project, "deno.json"),
        JSON.stringify({ imports: { "@reel/reel": "jsr:@reel/reel@^0.1.0" }, links: [ROOT] }),
      );
      fs.writeFileSync(
        path.join(project, "main.ts"),
        `import { open } from "@reel/reel";
const dir = Deno.makeTempDirSync();
const log = await open(dir);
const topic = await log.createTopic("events");
await topic.append([{ value: "a" }, { value: "b" }], { compression: "snappy" });
const values: string[] = [];
for await (const r of topic.readable()) values.push(new TextDecoder().decode(r.value ?? undefined));
await log.close();
Deno.removeSync(dir, { recursive: true });
console.log(values.join(","));
`,
      );
      const r = spawnSync(DENO, ["run", "-A", "main.ts"], { cwd: project, env, encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), "a,b");
    } finally {
      fs.rmSync(project, { recursive: true, force: true });
    }
  });
});
