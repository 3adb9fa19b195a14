/**
 * The integer conversions of CPython's argument parsing, shared by every module: a C int (`i`), a
 * Py_ssize_t (`n`), and the bytes buffer a read allocates. Errors are CPython's classes and texts, with the
 * argument's name in parentheses.
 */
import { constants as bufferConstants } from 'node:buffer';
import { BufferError, MemoryError, OverflowError, ValueError } from './errors.js';
import { describe } from './fileobj.js';
import { INT_MAX, INT_MIN, SSIZE_MAX, bytesView, isUnusable, viewLength } from './sys/index.js';

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

// ─── Byte buffers: caller memory a call reads or writes ─────────────────────────────────────────────────

/**
 * Bytes a call reads (a send, a write): a Uint8Array (Buffer) as is, any other ArrayBufferView, an
 * ArrayBuffer or SharedArrayBuffer as a view of its bytes, a string as its UTF-8 encoding (a convenience
 * Python does not offer). TypeError for anything else (a Proxy included); ValueError for a detached buffer,
 * as CPython's for a released memoryview. Read the result only through sys/views (viewLength, subview,
 * copyInto): its own members may lie.
 */
export function bytesArg(data: unknown, name = 'data', index = -1): Uint8Array {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  const view = bytesView(data);
  if (view === null) throw new TypeError(`${itemName(name, index)} must be a Buffer, Uint8Array, ArrayBufferView or string (got ${describe(data)})`);
  if (viewLength(view) === 0 && isUnusable(view)) throw detachedError(itemName(name, index));
  return view;
}

/** A buffer a call writes into (a receive): as bytesArg, without strings. */
export function writableBytesArg(buffer: unknown, name = 'buffer', index = -1): Uint8Array {
  const view = typeof buffer === 'string' ? null : bytesView(buffer);
  if (view === null) throw new TypeError(`${itemName(name, index)} must be a Buffer, Uint8Array or other ArrayBufferView (got ${describe(buffer)})`);
  if (viewLength(view) === 0 && isUnusable(view)) throw detachedError(itemName(name, index));
  return view;
}

/** `name`, or `name index` for an item of a list argument: built only for an error message, never per call. */
export function itemName(name: string, index: number): string {
  return index < 0 ? name : `${name} ${index}`;
}

/** CPython's error for a released memoryview, for a detached (transferred) or out-of-bounds buffer. */
export function detachedError(name: string): ValueError {
  return new ValueError(`operation forbidden on a detached buffer (${name})`);
}

/**
 * The check after caller code ran between taking a buffer and using it (an address getter, a later item's
 * iterator): the buffer must still have the `length` it had. CPython refuses to resize or release a buffer
 * while a call holds it (BufferError in the code that tries); JavaScript cannot refuse, so the call raises.
 */
export function checkUnchanged(view: Uint8Array, length: number, name: string, caller: string, index = -1): void {
  const now = viewLength(view);
  if (now !== length || (now === 0 && isUnusable(view))) {
    throw new BufferError(`${caller}(): ${itemName(name, index)} changed from ${length} to ${now} bytes (detached or resized) while the arguments were converted`);
  }
}
