// Writes through the runtime's FFI (pwrite(2) from the C library) put the same bytes at the same
// positions as node:fs, and a write that fails reports node:fs's error.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { NATIVE_PWRITE, pwriteNative } from "../../src/runtime/native_pwrite.ts";
import { writeFully } from "../../src/runtime/fault_injector.ts";
import { RUNTIME } from "../_runtime.ts";

function withFile(fn: (file: string) => void): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-pwrite-"));
  try {
    fn(path.join(dir, "file"));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** `length` pseudo-random bytes, in a buffer of their own after `offset` bytes of other data. */
function bytesAt(offset: number, length: number, seed: number): Uint8Array {
  const buffer = new Uint8Array(offset + length + 3);
  let x = seed | 1;
  for (let i = 0; i < buffer.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    buffer[i] = x;
  }
  return buffer.subarray(offset, offset + length);
}

describe("pwriteNative", () => {
  test("is used on Linux by Bun and by Deno with FFI permission, not by Node", () => {
    if (process.platform !== "linux") return;
    assert.equal(NATIVE_PWRITE, RUNTIME !== "node");
  });

  test("writes a view's bytes (its offset in its buffer counted) at each position, as node:fs does", () => {
    withFile((file) => {
      const expected = path.join(path.dirname(file), "expected");
      const fd = fs.openSync(file, "w+");
      const fdExpected = fs.openSync(expected, "w+");
      try {
        let position = 0;
        for (const [offset, length] of [[0, 1], [1, 7], [13, 4096], [5, 1151], [0, 65537], [3, 1 << 20]]) {
          const bytes = bytesAt(offset, length, length);
          const written = pwriteNative(fd, bytes, position);
          assert.equal(written, NATIVE_PWRITE ? length : -1);
          if (!NATIVE_PWRITE) fs.writeSync(fd, bytes, 0, length, position);
          fs.writeSync(fdExpected, bytes, 0, length, position);
          position += length + 100; // a hole between writes
        }
        // Overwrite in the middle.
        const over = bytesAt(2, 300, 99);
        assert.equal(pwriteNative(fd, over, 50), NATIVE_PWRITE ? 300 : -1);
        if (!NATIVE_PWRITE) fs.writeSync(fd, over, 0, 300, 50);
        fs.writeSync(fdExpected, over, 0, 300, 50);
      } finally {
        fs.closeSync(fd);
        fs.closeSync(fdExpected);
      }
      assert.deepEqual(fs.readFileSync(file), fs.readFileSync(expected));
    });
  });

  test("writes at a position past 4 GiB (a 64-bit offset)", () => {
    withFile((file) => {
      const fd = fs.openSync(file, "w+");
      try {
        const position = 5_000_000_123; // sparse: no blocks below it
        assert.equal(pwriteNative(fd, new Uint8Array([1, 2, 3]), position), NATIVE_PWRITE ? 3 : -1);
        writeFully(fd, new Uint8Array([4, 5]), position + 3);
        assert.equal(fs.fstatSync(fd).size, position + 5);
        const back = new Uint8Array(5);
        fs.readSync(fd, back, 0, 5, position);
        assert.deepEqual([...back], NATIVE_PWRITE ? [1, 2, 3, 4, 5] : [0, 0, 0, 4, 5]);
      } finally {
        fs.closeSync(fd);
      }
    });
  });

  test("a failed write answers -1 and writeFully then throws node:fs's error (EBADF on a read-only descriptor)", () => {
    withFile((file) => {
      fs.writeFileSync(file, "abc");
      const fd = fs.openSync(file, "r");
      try {
        assert.equal(pwriteNative(fd, new Uint8Array([1]), 0), -1);
        let expected: unknown;
        try {
          fs.writeSync(fd, new Uint8Array([1]), 0, 1, 0);
        } catch (err) {
          expected = (err as { code?: string }).code;
        }
        assert.equal(expected, "EBADF");
        assert.throws(
          () => writeFully(fd, new Uint8Array([1, 2]), 0),
          (err: { code?: string }) => err.code === "EBADF",
        );
        assert.equal(fs.readFileSync(file, "utf8"), "abc");
      } finally {
        fs.closeSync(fd);
      }
    });
  });

  test("nothing to write is not a call", () => {
    withFile((file) => {
      const fd = fs.openSync(file, "w+");
      try {
        assert.equal(pwriteNative(fd, new Uint8Array(0), 0), -1);
        writeFully(fd, new Uint8Array(0), 10);
        assert.equal(fs.fstatSync(fd).size, 0);
      } finally {
        fs.closeSync(fd);
      }
    });
  });
});
