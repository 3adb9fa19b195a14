/**
 * The integer conversions of CPython's argument parsing, shared by every module: a C int (`i`), a
 * Py_ssize_t (`n`), and the bytes buffer a read allocates. Errors are CPython's classes and texts, with the
 * argument's name in parentheses.
 */
import { constants as bufferConstants } from 'node:buffer';
import { MemoryError, OverflowError } from './errors.js';
import { describe } from './fileobj.js';
import { INT_MAX, INT_MIN, SSIZE_MAX } from './sys/index.js';

/** The largest Buffer Node can make: 4 GiB on Node 20, 2**53 − 1 from Node 22 (the memory decides below it). */
const MAX_BUFFER_BYTES = bufferConstants.MAX_LENGTH;

/**
 * A C int argument: TypeError for a non-integer, OverflowError outside C int. Booleans count as 0/1, as
 * Python's bool is an int (file descriptors are the exception: see `asFileDescriptor` and `fdArg`).
 */
export function intArg(value: unknown, name: string): number {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(`${name} must be an integer (got ${describe(value)})`);
  }
  if (value < INT_MIN || value > INT_MAX) {
    throw new OverflowError(`Python int too large to convert to C int (${name} ${value})`);
  }
  return value;
}

/** A file descriptor given as a C int: as `intArg`, but a boolean is refused (iomux's rule: booleans are not fds). */
export function fdArg(value: unknown, name = 'fd'): number {
  if (typeof value === 'boolean') throw new TypeError(`${name} must be an integer (got ${value})`);
  return intArg(value, name);
}

/**
 * A Py_ssize_t argument (a size or count): TypeError for a non-integer, OverflowError "Python int too large to
 * convert to C ssize_t" outside ±2**63. The caller decides what a negative value means.
 */
export function ssizeArg(value: unknown, name: string): number {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(`${name} must be an integer (got ${describe(value)})`);
  }
  // SSIZE_MAX is not exactly representable: 2**63 - 1 rounds up to 2**63, the first value out of range.
  if (value >= SSIZE_MAX || value < -SSIZE_MAX) {
    throw new OverflowError(`Python int too large to convert to C ssize_t (${name} ${value})`);
  }
  return value;
}

/**
 * An uninitialised buffer of `size` bytes (a valid Py_ssize_t ≥ 0) for a read to fill, tried as CPython tries
 * its bytes object: where the memory can be reserved the read goes ahead (recv(2**33) on an empty non-blocking
 * socket is BlockingIOError on a machine that overcommits, as in CPython), and where it cannot, MemoryError,
 * never Node's RangeError. Node 20 also has a hard ceiling of 4 GiB (buffer.constants.MAX_LENGTH): past it,
 * MemoryError there even where CPython would allocate — a deviation of that Node line only.
 */
export function allocBytes(size: number, what: string): Buffer {
  if (size > MAX_BUFFER_BYTES) throw new MemoryError(`(${what} ${size} is more than a buffer can hold, ${MAX_BUFFER_BYTES})`);
  try {
    return Buffer.allocUnsafe(size);
  } catch (err) {
    if (err instanceof RangeError) throw new MemoryError(`(cannot allocate ${size} bytes for ${what})`);
    throw err;
  }
}

/**
 * An options object (Python's keyword arguments): TypeError unless it is a plain object (not null, an array or
 * a function), and TypeError ("createServer() got an unexpected option 'x'") for an own property not among
 * `known`, as Python raises for an unknown keyword argument — a misspelt option would otherwise be silently
 * ignored and its default used.
 */
export function checkOptionNames(fn: string, options: unknown, known: ReadonlySet<string>): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`${fn}(): options must be an object (got ${describe(options)})`);
  }
  // for-in over own keys (not Object.keys): no array per call, so hot paths (iomux/uring's recv) may use it.
  for (const name in options) {
    if (!known.has(name) && Object.prototype.hasOwnProperty.call(options, name)) throw new TypeError(`${fn}() got an unexpected option '${name}'`);
  }
}
