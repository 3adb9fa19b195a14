/** Argument checks shared by the socket functions: what Python's argument parsing rejects, with messages that say what was wrong. */
import { describe } from '../fileobj.js';

/**
 * An options object (Python's keyword arguments): TypeError unless it is an object, and TypeError
 * ("createServer() got an unexpected option 'x'") for an own property not among `known`, as Python raises
 * for an unknown keyword argument — a misspelt option would otherwise be silently ignored.
 */
export function checkOptionNames(fn: string, options: unknown, known: ReadonlySet<string>): void {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${fn}(): options must be an object (got ${describe(options)})`);
  }
  // for-in over own keys (not Object.keys): no array per call, so hot paths (iomux/uring's recv) may use it.
  for (const name in options) {
    if (!known.has(name) && Object.prototype.hasOwnProperty.call(options, name)) throw new TypeError(`${fn}() got an unexpected option '${name}'`);
  }
}

/**
 * Bytes to send: a Uint8Array (Buffer) as is, any other ArrayBufferView or an ArrayBuffer as a view of its
 * bytes, and a string as its UTF-8 encoding (a convenience Python does not offer).
 */
export function bytesArg(data: unknown, name = 'data'): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  throw new TypeError(`${name} must be a Buffer, Uint8Array, ArrayBufferView or string (got ${describe(data)})`);
}

/** A buffer to receive into: a Uint8Array (Buffer) as is, any other ArrayBufferView as a view of its bytes. */
export function writableBytesArg(buffer: unknown, name = 'buffer'): Uint8Array {
  if (buffer instanceof Uint8Array) return buffer;
  if (ArrayBuffer.isView(buffer)) return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  if (buffer instanceof ArrayBuffer) return new Uint8Array(buffer);
  throw new TypeError(`${name} must be a Buffer, Uint8Array or other ArrayBufferView (got ${describe(buffer)})`);
}

/**
 * A `[offset, offset + length)` range inside a buffer of `size` bytes. It is what the kernel will write to
 * or read from, so it is always checked: a range past the end would corrupt memory.
 */
export function checkRange(size: number, offset: number, length: number): void {
  // The common, valid case in a few comparisons the JIT inlines; the messages are built out of line.
  if (!(Number.isInteger(offset) && Number.isInteger(length) && offset >= 0 && length >= 0 && offset <= size && length <= size - offset)) {
    badRange(size, offset, length);
  }
}

function badRange(size: number, offset: number, length: number): never {
  if (!Number.isInteger(offset) || offset < 0 || offset > size) {
    throw new RangeError(`offset must be an integer from 0 to ${size} (got ${describe(offset)})`);
  }
  // The offset is fine, so the length is what is wrong.
  throw new RangeError(`length must be an integer from 0 to ${size - offset} (got ${describe(length)})`);
}
