import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { crc32c, NATIVE_CRC_MIN_BYTES } from "../../src/record/crc32c.ts";
import CRC32C from "crc-32/crc32c.js";
// CRC-32C vectors captured by kafkajs (MIT, tag v2.2.4): src/protocol/recordBatch/crc32C/fixtures and index.spec.js.
import samples from "../fixtures/kafka/recordBatch__crc32C__samples.json" with { type: "json" };
import crcPayload from "../fixtures/kafka/recordBatch__crc32C__crcPayload.json" with { type: "json" };

const utf8 = (s: string) => new TextEncoder().encode(s);

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

  test("crc32c() of inputs on both sides of the native threshold equals the crc-32 tables' value", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: NATIVE_CRC_MIN_BYTES - 8, maxLength: NATIVE_CRC_MIN_BYTES * 4 }),
        fc.nat(16),
        (bytes, cut) => {
          const start = Math.min(cut, bytes.length);
          assert.equal(crc32c(bytes, start), CRC32C.buf(bytes.subarray(start), 0) >>> 0);
        },
      ),
      { numRuns: 200 },
    );
  });
});
