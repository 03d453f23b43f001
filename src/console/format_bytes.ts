/**
 * How the console shows a key, a value or a header value: as text, as pretty JSON or as hex,
 * chosen automatically from the bytes or asked for.
 *
 * @module
 */

/** How bytes are shown: `"text"` (UTF-8), `"json"` (pretty-printed), `"hex"`. */
export type BytesFormat = "text" | "json" | "hex";

/** The formats a page may ask for: one of {@linkcode BytesFormat}, or `"auto"`. */
export const BYTES_FORMATS: readonly (BytesFormat | "auto")[] = ["auto", "text", "json", "hex"];

/** Bytes made ready to show. */
export interface FormattedBytes {
  /** The format used: the one asked for, or for `"auto"` (or one that does not fit) the one that fits. */
  format: BytesFormat;
  /** The text to show (not HTML-escaped: the caller escapes it, or sets it as `textContent`). */
  text: string;
  /** The size of the bytes. */
  size: number;
  /** Whether `text` shows only the first `maxBytes` of them. */
  truncated: boolean;
}

/** Options of {@linkcode formatBytes}. */
export interface FormatBytesOptions {
  /** The format wanted. @default "auto" */
  format?: BytesFormat | "auto";
  /**
   * The most bytes shown: longer keys and values are cut (a page of large records stays small).
   * @default 16384
   */
  maxBytes?: number;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Control characters other than tab, line feed and carriage return: such bytes are shown as hex. */
// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/;

function hex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) {
    if (i > 0) out += i % 16 === 0 ? "\n" : " ";
    out += bytes[i].toString(16).padStart(2, "0");
  }
  return out;
}

/**
 * Shows bytes as text when they are UTF-8 without control characters, as pretty JSON when that
 * text is a JSON object or array, and as hex otherwise. A format asked for that does not fit
 * (`"text"` or `"json"` for bytes that are not UTF-8, `"json"` for text that is not JSON) falls
 * back to the one that does.
 *
 * @param bytes the key, value or header value
 * @param options the format wanted, the most bytes shown
 * @returns the text and the format used
 *
 * @example Text, JSON and hex, chosen from the bytes
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatBytes } from "./format_bytes.ts";
 * const utf8 = (s: string) => new TextEncoder().encode(s);
 * assert.deepEqual(formatBytes(utf8("<b>hi</b>")), { format: "text", text: "<b>hi</b>", size: 9, truncated: false });
 * assert.equal(formatBytes(utf8('{"a":1}')).text, '{\n  "a": 1\n}');
 * assert.equal(formatBytes(new Uint8Array([0xff, 0x00, 0x41])).text, "ff 00 41");
 * assert.equal(formatBytes(utf8("AB"), { format: "hex" }).text, "41 42");
 * assert.equal(formatBytes(utf8("abcdef"), { maxBytes: 3 }).text, "abc");
 * ```
 */
export function formatBytes(bytes: Uint8Array, options: FormatBytesOptions = {}): FormattedBytes {
  const wanted = options.format ?? "auto";
  const maxBytes = options.maxBytes ?? 16384;
  const size = bytes.length;
  let shown = bytes;
  let truncated = false;
  if (size > maxBytes) {
    shown = bytes.subarray(0, maxBytes);
    truncated = true;
  }
  if (wanted === "hex") return { format: "hex", text: hex(shown), size, truncated };
  let text: string | undefined;
  try {
    // A cut may split a character: decode what is whole.
    text = strictUtf8.decode(truncated ? trimPartialUtf8(shown) : shown);
  } catch {
    text = undefined;
  }
  if (text === undefined || CONTROL.test(text)) return { format: "hex", text: hex(shown), size, truncated };
  if (wanted !== "text" && !truncated && /^\s*[[{]/.test(text)) {
    try {
      return { format: "json", text: JSON.stringify(JSON.parse(text), null, 2), size, truncated };
    } catch {
      // not JSON: text
    }
  }
  return { format: "text", text, size, truncated };
}

/** The bytes without a UTF-8 sequence cut short at their end. */
function trimPartialUtf8(bytes: Uint8Array): Uint8Array {
  let i = bytes.length - 1;
  let back = 0;
  while (i >= 0 && back < 3 && (bytes[i] & 0xc0) === 0x80) {
    i--;
    back++;
  }
  if (i < 0) return bytes;
  const lead = bytes[i];
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return need > back + 1 ? bytes.subarray(0, i) : bytes;
}
