/**
 * The bytes the load generator sends, and their verification. Every message is distinct and can be
 * recomputed from (connection id, sequence number) alone, so the echo is checked byte for byte without
 * keeping copies of what was sent:
 *
 *   message(id, seq) = PATTERN[off, off + size) with off = hash(id, seq) mod 64 Ki, whose first (up to)
 *                      8 bytes are replaced by the tag: seq and id as little-endian uint32.
 *
 * PATTERN is pseudo-random bytes from a fixed seed. Checking the body is one native compare against it.
 */
const WINDOW = 1 << 16;
export const TAG_BYTES = 8;

/** Fixed pseudo-random bytes (xorshift32), long enough for any offset plus `maxSize`. */
function makePattern(length: number): Buffer {
  const p = Buffer.allocUnsafe(length);
  let x = 0x9e3779b9;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    p[i] = x & 0xff;
  }
  return p;
}

function offsetOf(id: number, seq: number): number {
  return (Math.imul(id + 1, 0x9e3779b1) ^ Math.imul(seq, 0x85ebca6b)) & (WINDOW - 1);
}

/** The tag byte at `pos` (< TAG_BYTES) of message (id, seq). */
function tagByte(id: number, seq: number, pos: number): number {
  return pos < 4 ? (seq >>> (8 * pos)) & 0xff : (id >>> (8 * (pos - 4))) & 0xff;
}

export class MessageCodec {
  readonly #pattern: Buffer;
  readonly maxSize: number;

  constructor(maxSize: number) {
    this.maxSize = maxSize;
    this.#pattern = makePattern(WINDOW + maxSize);
  }

  /** Writes message (id, seq) of `size` bytes into `dst` at `at`. */
  write(dst: Buffer, at: number, id: number, seq: number, size: number): void {
    const off = offsetOf(id, seq);
    this.#pattern.copy(dst, at, off, off + size);
    const tag = size < TAG_BYTES ? size : TAG_BYTES;
    for (let i = 0; i < tag; i++) dst[at + i] = tagByte(id, seq, i);
  }

  /**
   * How many of `len` received bytes at `src[from]` differ from bytes [pos, pos + len) of message (id, seq):
   * 0 when the echo is intact.
   */
  countBad(src: Buffer, from: number, len: number, id: number, seq: number, pos: number): number {
    let bad = 0;
    let i = 0;
    for (; i < len && pos + i < TAG_BYTES; i++) if (src[from + i] !== tagByte(id, seq, pos + i)) bad++;
    if (i === len) return bad;
    const off = offsetOf(id, seq) + pos;
    if (this.#pattern.compare(src, from + i, from + len, off + i, off + len) === 0) return bad;
    // Rare path: count the differing bytes one by one.
    for (; i < len; i++) if (src[from + i] !== this.#pattern[off + i]) bad++;
    return bad;
  }
}
