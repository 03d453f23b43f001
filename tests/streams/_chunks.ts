// Chunking for the stream tests: whole inputs cut into the chunks a stream may receive, and
// chunks joined back into the whole.

/**
 * Cuts `whole` at the given positions (any order, repeats allowed: empty chunks are kept; a
 * position past the end wraps around).
 *
 * @param whole the bytes or text to cut
 * @param positions where to cut
 * @returns the chunks, which join back into `whole`
 */
export function cut<T extends Uint8Array | string>(whole: T, positions: number[]): T[] {
  const points = positions.map((p) => p % (whole.length + 1)).sort((a, b) => a - b);
  const out: T[] = [];
  let start = 0;
  for (const p of points) {
    out.push(whole.slice(start, p) as T);
    start = p;
  }
  out.push(whole.slice(start) as T);
  return out;
}

/**
 * Joins byte arrays into one.
 *
 * @param parts the arrays, in order
 * @returns their bytes, one after another
 */
export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
