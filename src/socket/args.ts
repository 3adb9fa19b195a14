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
  for (const name of Object.keys(options)) {
    if (!known.has(name)) throw new TypeError(`${fn}() got an unexpected option '${name}'`);
  }
}

export { bytesArg, writableBytesArg } from '../args.js';

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
