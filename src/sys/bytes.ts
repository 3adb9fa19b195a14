/**
 * The one byte codec of the native structs: little-endian integer fields (every platform iomux runs on is
 * little-endian, asserted once in platform.ts) and the network-order fields of socket addresses. Byte arrays
 * are read and written a byte at a time (any offset, no alignment, no DataView or BigInt to allocate);
 * 4-aligned fields of a hot loop are read through a Uint32Array view the caller keeps, and a 64-bit field
 * there is two words, the low one first. Each function is a few typed-array accesses: the JIT inlines them
 * into the loops that call them.
 */

type Bytes = Uint8Array;

const TWO_32 = 0x100000000;

export function getU16(b: Bytes, at: number): number {
  return b[at]! | (b[at + 1]! << 8);
}

export function putU16(b: Bytes, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
}

export function getI32(b: Bytes, at: number): number {
  return b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24);
}

export function getU32(b: Bytes, at: number): number {
  return getI32(b, at) >>> 0;
}

/** A 32-bit field, signed or unsigned (the bytes are the same). */
export function putU32(b: Bytes, at: number, v: number): void {
  const u = v >>> 0; // one conversion to a 32-bit integer, then only integer shifts and stores
  b[at] = u;
  b[at + 1] = u >>> 8;
  b[at + 2] = u >>> 16;
  b[at + 3] = u >>> 24;
}

/** An unsigned 64-bit field as a number (exact below 2**53). */
export function getU64(b: Bytes, at: number): number {
  return getU32(b, at + 4) * TWO_32 + getU32(b, at);
}

/** A signed 64-bit field as a number (exact within ±2**53). */
export function getI64(b: Bytes, at: number): number {
  return getI32(b, at + 4) * TWO_32 + getU32(b, at);
}

/** A 64-bit field from an integer within ±2**53: two's complement for a negative one (-1 is all ones). */
export function put64(b: Bytes, at: number, v: number): void {
  const high = Math.floor(v / TWO_32);
  putU32(b, at, v - high * TWO_32);
  putU32(b, at + 4, high);
}

/** An integer field of `size` bytes (4 or 8: time_t, suseconds_t and long differ between platforms). */
export function putInt(b: Bytes, at: number, size: number, v: number): void {
  if (size === 8) put64(b, at, v);
  else putU32(b, at, v);
}

// --- network byte order (big-endian): ports, IPv4 addresses, sin6_flowinfo, sll_protocol.

export function getNet16(b: Bytes, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

export function putNet16(b: Bytes, at: number, v: number): void {
  b[at] = (v >>> 8) & 0xff;
  b[at + 1] = v & 0xff;
}

export function getNet32(b: Bytes, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

export function putNet32(b: Bytes, at: number, v: number): void {
  const u = v >>> 0;
  b[at] = u >>> 24;
  b[at + 1] = u >>> 16;
  b[at + 2] = u >>> 8;
  b[at + 3] = u;
}

// --- 64-bit fields in a Uint32Array view (word index `w`: byte offset / 4).

/** An unsigned 64-bit field at word `w` as a number (exact below 2**53). */
export function getWords64(words: Uint32Array, w: number): number {
  return words[w + 1]! * TWO_32 + words[w]!;
}

/** A 64-bit field at word `w` from an integer within ±2**53 (-1 is all ones). */
export function putWords64(words: Uint32Array, w: number, v: number): void {
  const high = Math.floor(v / TWO_32);
  words[w] = v - high * TWO_32;
  words[w + 1] = high;
}
