/** Turning the things users pass as "a file descriptor" into an fd, by CPython's rules. */
import { OverflowError, ValueError } from './errors.js';
import { INT_MAX, INT_MIN } from './sys/index.js';

/** An fd, or anything with a `fileno()` method that returns one (sockets, Python-style file objects). */
export type FileLike = number | {
  /** The fd the object stands for (a non-negative C int). */
  fileno(): number;
};


function hasFileno(obj: unknown): obj is { fileno(): unknown } {
  return typeof obj === 'object' && obj !== null && typeof (obj as { fileno?: unknown }).fileno === 'function';
}

/**
 * CPython's `PyObject_AsFileDescriptor`, used by select(), poll and epoll: an integer, or the integer
 * `fileno()` returns. TypeError for anything else, ValueError for a negative fd, OverflowError past C int.
 * Whether the fd is open is not checked here.
 */
export function asFileDescriptor(obj: unknown): number {
  let fd: unknown;
  if (typeof obj === 'number' || typeof obj === 'bigint') {
    fd = obj;
  } else if (hasFileno(obj)) {
    fd = obj.fileno();
    if (!isInteger(fd)) throw new TypeError('fileno() returned a non-integer');
  } else {
    throw new TypeError(`argument must be an int, or have a fileno() method (got ${describe(obj)})`);
  }
  if (!isInteger(fd)) throw new TypeError(`argument must be an int, or have a fileno() method (got ${describe(obj)})`);
  const n = Number(fd);
  if (n < INT_MIN || n > INT_MAX) throw new OverflowError(`file descriptor ${String(fd)} is too large to convert to C int`);
  if (n < 0) throw new ValueError(`file descriptor cannot be a negative integer (${n})`);
  return n;
}

function isInteger(v: unknown): v is number | bigint {
  return (typeof v === 'number' && Number.isInteger(v)) || typeof v === 'bigint';
}

/** A short, safe description of a value for error messages (Python's repr, roughly). */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return `[function ${value.name || 'anonymous'}]`;
  if (Array.isArray(value)) return `[array of ${value.length}]`;
  const ctor = (value as { constructor?: { name?: string } }).constructor?.name;
  if (hasFileno(value)) {
    let fd: unknown;
    try {
      fd = value.fileno();
    } catch {
      fd = '?';
    }
    return `<${ctor ?? 'object'} fd=${String(fd)}>`;
  }
  return `[object ${ctor ?? 'Object'}]`;
}
