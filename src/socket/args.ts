/** Argument checks shared by the socket functions: what Python's argument parsing rejects, with messages that say what was wrong. */
import { describe } from '../fileobj.js';

/** The options-object check every module shares (Python's unknown keyword argument → TypeError). */
export { checkOptionNames } from '../args.js';

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
