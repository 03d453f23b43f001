import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { crc32c, CRC32C_IMPLEMENTATION } from "../../src/record/crc32c.ts";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import process from "node:process";
import CRC32C from "crc-32/crc32c.js";
// CRC-32C vectors captured by kafkajs (MIT, tag v2.2.4): src/protocol/recordBatch/crc32C/fixtures and index.spec.js.
import samples from "../fixtures/kafka/recordBatch__crc32C__samples.json" with { type: "json" };
import crcPayload from "../fixtures/kafka/recordBatch__crc32C__crcPayload.json" with { type: "json" };

const utf8 = (s: string) => new TextEncoder().encode(s);

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

describe("crc32c", () => {
  test('crc32c() returns the check value 0xE3069283 for "123456789"', () => {
    assert.equal(crc32c(utf8("123456789")), 0xe3069283);
  });

  test("crc32c() returns 0 for no bytes and 1383945041 for one zero byte", () => {
    assert.equal(crc32c(new Uint8Array(0)), 0);
    assert.equal(crc32c(utf8("\u0000")), 1383945041);
  });

  test("crc32c() matches the kafkajs long-string and Java-payload vectors", () => {
    const lorem =
      "Lorem ipsum dolor sit amet, consectetur adipiscing elit. Morbi mollis cursus metus vel tristique. Proin congue massa massa, a malesuada dolor ullamcorper a. Nulla eget leo vel orci venenatis placerat. Donec semper condimentum justo, vel sollicitudin dolor consequat id. Nunc sed aliquet felis, eget congue nisi. Mauris eu justo suscipit, elementum turpis ut, molestie tellus. Mauris ornare rutrum fringilla. Nulla dignissim luctus pretium. Nullam nec eros hendrerit sapien pellentesque sollicitudin. Integer eget ligula dui. Mauris nec cursus nibh. Nunc interdum elementum leo, eu sagittis eros sodales nec. Duis dictum nulla sed tincidunt malesuada. Quisque in vulputate sapien. Sed sit amet tellus a est porta rhoncus sed eu metus. Mauris non pulvinar nisl, volutpat luctus enim. Suspendisse est nisi, sagittis at risus quis, ultricies rhoncus sem. Donec ullamcorper purus eget sapien facilisis, eu eleifend felis viverra. Suspendisse elit neque, semper aliquet neque sed, egestas tempus leo. Duis condimentum turpis duis.";
    assert.equal(crc32c(utf8(lorem)), 1796588439);
    assert.equal(crc32c(new Uint8Array(crcPayload.data)), 818496390);
  });

  test("crc32c() matches every kafkajs sample", () => {
    assert.equal(samples.samples.length, 10);
    for (const { input, output } of samples.samples) {
      assert.equal(crc32c(utf8(input)), output, input.slice(0, 20));
    }
  });

  test("crc32c() over [start, end) equals crc32c() of that slice", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), fc.nat(), (bytes, a, b) => {
        const start = bytes.length === 0 ? 0 : a % (bytes.length + 1);
        const end = start + (b % (bytes.length - start + 1));
        assert.equal(crc32c(bytes, start), crc32c(bytes.slice(start)));
        assert.equal(crc32c(bytes, start, end), crc32c(bytes.slice(start, end)));
      }),
    );
  });

  test("crc32c() returns an unsigned 32-bit value", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const crc = crc32c(bytes);
        assert.ok(Number.isInteger(crc) && crc >= 0 && crc <= 0xffffffff);
      }),
    );
  });

  test("crc32c() throws RangeError when the range is outside the bytes", () => {
    const bytes = new Uint8Array(10);
    assert.throws(() => crc32c(bytes, 5, 11), RangeError);
    assert.throws(() => crc32c(bytes, 6, 5), RangeError);
    assert.throws(() => crc32c(bytes, -1, 5), RangeError);
  });

  test("crc32c() of inputs around every size where the implementation changes equals the crc-32 tables' value", () => {
    // 16 B, 128 B and 1 KiB: the native thresholds; 3 × 64, 3 × 256, 3 × 1024, 3 × 8192: where
    // reel's module starts running three interleaved chains of each block size; unaligned starts
    // and odd tails.
    const sizes = fc.oneof(
      fc.integer({ min: 0, max: 200 }),
      fc.integer({ min: 3 * 256 - 16, max: 3 * 256 + 3 * 64 + 16 }),
      fc.integer({ min: 1000, max: 3 * 1024 + 40 }),
      fc.integer({ min: 3 * 8192 - 24, max: 3 * 8192 + 24 }),
      fc.integer({
        min: 6 * 8192 + 3 * 1024 + 3 * 256 + 3 * 64 - 9,
        max: 6 * 8192 + 3 * 1024 + 3 * 256 + 3 * 64 + 9,
      }),
    );
    fc.assert(
      fc.property(sizes, fc.nat(15), fc.nat(7), fc.integer(), (size, head, tail, seed) => {
        const bytes = new Uint8Array(head + size + tail);
        let x = seed | 1;
        for (let i = 0; i < bytes.length; i++) {
          x ^= x << 13;
          x ^= x >>> 17;
          x ^= x << 5;
          bytes[i] = x;
        }
        const expected = CRC32C.buf(bytes.subarray(head, head + size), 0) >>> 0;
        assert.equal(crc32c(bytes, head, head + size), expected);
        assert.equal(crc32c(bytes.slice(head, head + size)), expected);
        // A view that starts inside its buffer (byteOffset > 0) and ends before the buffer does.
        assert.equal(crc32c(bytes.subarray(head, head + size + tail), 0, size), expected);
      }),
      { numRuns: 300 },
    );
  });

  test("reel's own CRC-32C module loads on linux-x64 CPUs with SSE 4.2", (t) => {
    const flags = process.platform === "linux" ? fs.readFileSync("/proc/cpuinfo", "utf8") : "";
    if (process.arch !== "x64" || !/^flags\s*:.*\bsse4_2\b/m.test(flags)) {
      t.skip("reel's prebuilt module is for linux-x64 with SSE 4.2");
      return;
    }
    assert.equal(CRC32C_IMPLEMENTATION, "reel-native");
  });
});

describe("reel's prebuilt CRC-32C module", () => {
  const prebuiltPath = path.join(
    ROOT,
    "native",
    "prebuilt",
    `${process.platform}-${process.arch}`,
    "reel_crc32c.node",
  );

  test("folds with VPCLMULQDQ where the CPU has AVX-512 with it, and both of its paths give the tables' values", (t) => {
    const flags = process.platform === "linux" ? fs.readFileSync("/proc/cpuinfo", "utf8") : "";
    if (process.arch !== "x64" || !/^flags\s*:.*\bsse4_2\b/m.test(flags)) {
      t.skip("reel's prebuilt module is for linux-x64 with SSE 4.2");
      return;
    }
    const has = (flag: string) => new RegExp(`^flags\\s*:.*\\b${flag}\\b`, "m").test(flags);
    const module = createRequire(import.meta.url)(prebuiltPath) as {
      crc32c(bytes: Uint8Array, start: number, end: number): number;
      crc32cChains(bytes: Uint8Array, start: number, end: number): number;
      crc32cLevel(): number;
    };
    // 1: the CRC32 instruction; 2: and PCLMULQDQ; 3: and VPCLMULQDQ, for inputs of 256 B and more.
    const level = !has("pclmulqdq") ? 1 : has("avx512f") && has("avx512vl") && has("vpclmulqdq") ? 3 : 2;
    assert.equal(module.crc32cLevel(), level);
    const bytes = new Uint8Array((1 << 20) + 64);
    let x = 0x2545f491;
    for (let i = 0; i < bytes.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      bytes[i] = x;
    }
    const check = (start: number, end: number) => {
      const expected = CRC32C.buf(bytes.subarray(start, end), 0) >>> 0;
      assert.equal(module.crc32c(bytes, start, end), expected, `crc32c over [${start}, ${end})`);
      assert.equal(module.crc32cChains(bytes, start, end), expected, `chains over [${start}, ${end})`);
    };
    // Every length up to 1300 B (the fold starts at 256 B, then steps by 256, 64, 16 and 8 bytes),
    // at aligned and unaligned starts; then large inputs.
    for (let size = 0; size <= 1300; size++) {
      for (const start of [0, 1, 7, 13]) check(start, start + size);
    }
    for (const size of [4096, 4096 + 255, 65536 + 17, 1 << 20]) check(5, 5 + size);
  });

  test("is built from native/crc32c/crc32c.c as it stands: a fresh build gives the same checksums", (t) => {
    const prebuilt = prebuiltPath;
    if (!fs.existsSync(prebuilt)) {
      t.skip(`no prebuilt module for ${process.platform}-${process.arch}`);
      return;
    }
    if (spawnSync("cc", ["--version"]).status !== 0) {
      t.skip("no C compiler (cc) to build the module from source");
      return;
    }
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "reel-crc32c-build-"));
    try {
      const built = spawnSync("bash", [path.join(ROOT, "native", "crc32c", "build.sh"), out], {
        encoding: "utf8",
      });
      assert.equal(built.status, 0, built.stderr);
      const require = createRequire(import.meta.url);
      const fresh = require(path.join(out, "reel_crc32c.node")).crc32c;
      const shipped = require(prebuilt).crc32c;
      if (fresh === undefined || shipped === undefined) {
        t.skip("this CPU lacks the CRC32 instruction: the module exports nothing");
        return;
      }
      const bytes = new Uint8Array(70_000).map((_, i) => (i * 131 + (i >> 7)) & 0xff);
      for (
        const [start, end] of [
          [0, 0],
          [0, 9],
          [3, 200],
          [5, 3 * 256 + 3 * 64 + 7],
          [1, 3 * 1024 + 5],
          [7, 3 * 8192 + 11],
          [0, 70_000],
        ]
      ) {
        const expected = CRC32C.buf(bytes.subarray(start, end), 0) >>> 0;
        assert.equal(fresh(bytes, start, end), expected);
        assert.equal(shipped(bytes, start, end), expected);
      }
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});
