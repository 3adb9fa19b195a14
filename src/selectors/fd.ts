/** How selectors turn a registered object into an fd: CPython's `_fileobj_to_fd` and `_fileobj_lookup`. */
import { ValueError } from '../errors.js';
import { describe } from '../fileobj.js';
import type { SelectorKey } from './key.js';

const INT_PATTERN = /^\s*[-+]?\d+\s*$/;

/** Python's `int()` on what `fileno()` returned, or undefined where int() would raise. */
function toInt(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : undefined;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' && INT_PATTERN.test(value)) return Number.parseInt(value, 10);
  return undefined;
}

function invalidFileObject(fileobj: unknown): ValueError {
  return new ValueError(`Invalid file object: ${describe(fileobj)}`);
}

/**
 * CPython's `_fileobj_to_fd`: an integer is the fd itself; otherwise `int(fileobj.fileno())`. A missing or
 * failing `fileno` (TypeError or ValueError) or a result that is not an integer gives
 * ValueError("Invalid file object: …"); other errors from `fileno()` propagate. A negative fd — a closed
 * socket's -1 — gives ValueError("Invalid file descriptor: -1"). There is no upper bound.
 */
export function fileobjToFd(fileobj: unknown): number {
  let fd: number | undefined;
  if (typeof fileobj === 'number') {
    if (!Number.isInteger(fileobj)) throw invalidFileObject(fileobj);
    fd = fileobj;
  } else if (typeof fileobj === 'bigint') {
    fd = Number(fileobj);
  } else {
    const fileno = typeof fileobj === 'object' && fileobj !== null ? (fileobj as { fileno?: unknown }).fileno : undefined;
    if (typeof fileno !== 'function') throw invalidFileObject(fileobj);
    let result: unknown;
    try {
      result = fileno.call(fileobj);
    } catch (err) {
      if (err instanceof TypeError || err instanceof ValueError) throw invalidFileObject(fileobj);
      throw err;
    }
    fd = toInt(result);
    if (fd === undefined) throw invalidFileObject(fileobj);
  }
  if (fd < 0) throw new ValueError(`Invalid file descriptor: ${fd}`);
  return fd;
}

/**
 * CPython's `_fileobj_lookup`: the fd of `fileobj`, or — when it no longer has a valid one, such as a socket
 * closed since it was registered — the fd of the key registered with that very object (identity).
 */
export function lookupFd(keys: ReadonlyMap<number, SelectorKey<unknown>>, fileobj: unknown): number {
  if (typeof fileobj === 'number' && fileobj >= 0 && Number.isInteger(fileobj)) return fileobj;
  try {
    return fileobjToFd(fileobj);
  } catch (err) {
    if (!(err instanceof ValueError)) throw err;
    for (const key of keys.values()) if (key.fileobj === fileobj) return key.fd;
    throw err;
  }
}
