/**
 * Python's exception classes, as iomux raises them: `OSError` and the subclasses Python picks by errno,
 * plus `ValueError`, `KeyError`, `RuntimeError`, `OverflowError` and `MemoryError`. JavaScript's own `TypeError` is used
 * where Python raises TypeError.
 *
 * @module iomux/errors
 */
import { ERRNO, errnoName, strerror } from './sys/index.js';

/**
 * Python's OSError: a failed system call. `code` is the errno's name (`'EAGAIN'`): match on it, not on
 * `errno`, whose numbers differ between platforms (EAGAIN is 11 on Linux, 35 on macOS and FreeBSD).
 * `OSError.fromErrno(n)` builds the subclass Python picks for `n` (docs/errors.md has the table).
 *
 * @python OSError
 */
export class OSError extends Error {
  /** The errno value, or null for an OSError raised without one (Python's `OSError("invalid flags")`). */
  readonly errno: number | null;
  /** The C library's description of `errno` (empty when errno is null). */
  readonly strerror: string;
  /** The errno's symbolic name ('EBADF'), as Node names error codes. */
  readonly code: string | undefined;
  /** The file or path the error is about, when there is one. */
  readonly filename: string | undefined;

  /**
   * `new OSError(errno)` builds Python's "[Errno N] text" message; `new OSError(null, 'message')` an
   * OSError without an errno. Prefer `OSError.fromErrno`, which picks the right subclass.
   */
  constructor(errnum: number | null, message?: string, filename?: string) {
    const text = errnum === null ? '' : (message ?? strerror(errnum));
    let shown = errnum === null ? (message ?? '') : `[Errno ${errnum}] ${text}`;
    if (filename !== undefined) shown += `: '${filename}'`;
    super(shown);
    this.errno = errnum;
    this.strerror = text;
    this.code = errnum === null ? undefined : errnoName(errnum);
    this.filename = filename;
  }

  /** The class name (`'BlockingIOError'`), as Python shows it. */
  override get name(): string {
    return this.constructor.name;
  }

  /** The OSError subclass Python raises for `errnum`, with the C library's message. */
  static fromErrno(errnum: number, filename?: string): OSError {
    const Cls = classForErrno.get(errnum) ?? OSError;
    return new Cls(errnum, undefined, filename);
  }
}

/**
 * EAGAIN, EWOULDBLOCK, EALREADY, EINPROGRESS: a non-blocking fd or socket is not ready.
 *
 * @python BlockingIOError
 */
export class BlockingIOError extends OSError {}
/**
 * ECHILD.
 *
 * @python ChildProcessError
 */
export class ChildProcessError extends OSError {}
/**
 * The base of the connection errors below (never raised itself).
 *
 * @python ConnectionError
 */
export class ConnectionError extends OSError {}
/**
 * EPIPE, ESHUTDOWN: writing to a socket or pipe whose other end is closed.
 *
 * @python BrokenPipeError
 */
export class BrokenPipeError extends ConnectionError {}
/**
 * ECONNABORTED.
 *
 * @python ConnectionAbortedError
 */
export class ConnectionAbortedError extends ConnectionError {}
/**
 * ECONNREFUSED: nothing listens at the address.
 *
 * @python ConnectionRefusedError
 */
export class ConnectionRefusedError extends ConnectionError {}
/**
 * ECONNRESET: the peer reset the connection.
 *
 * @python ConnectionResetError
 */
export class ConnectionResetError extends ConnectionError {}
/**
 * EEXIST: already registered (epoll), already watched (`watch()`).
 *
 * @python FileExistsError
 */
export class FileExistsError extends OSError {}
/**
 * ENOENT: not registered (epoll), no such path (unix sockets).
 *
 * @python FileNotFoundError
 */
export class FileNotFoundError extends OSError {}
/**
 * EINTR. Never seen from iomux's own waits, which retry (PEP 475).
 *
 * @python InterruptedError
 */
export class InterruptedError extends OSError {}
/**
 * EISDIR.
 *
 * @python IsADirectoryError
 */
export class IsADirectoryError extends OSError {}
/**
 * ENOTDIR.
 *
 * @python NotADirectoryError
 */
export class NotADirectoryError extends OSError {}
/**
 * EACCES, EPERM: among others, a regular file given to epoll or `watch()`.
 *
 * @python PermissionError
 */
export class PermissionError extends OSError {}
/**
 * ESRCH.
 *
 * @python ProcessLookupError
 */
export class ProcessLookupError extends OSError {}

/**
 * Python's TimeoutError: ETIMEDOUT from the kernel, or a socket timeout (`new TimeoutError()`: "timed out"). */
export class TimeoutError extends OSError {
  constructor(errnum: number | null = null, message?: string, filename?: string) {
    super(errnum, errnum === null ? (message ?? 'timed out') : message, filename);
  }
}

function named(cls: new (message?: string) => Error): void {
  Object.defineProperty(cls.prototype, 'name', { value: cls.name, configurable: true, writable: true });
}

/**
 * Python's ValueError: an argument of the right type with a wrong value (`Invalid events: 8`, a closed object).
 *
 * @python ValueError
 */
export class ValueError extends Error {}
/**
 * Python's RuntimeError: an operation the object's state forbids (`Selector is closed`, a second `selectAsync()`).
 *
 * @python RuntimeError
 */
export class RuntimeError extends Error {}
/**
 * Python's OverflowError: a number outside the C type it must fit (`signed integer is greater than maximum`).
 *
 * @python OverflowError
 */
export class OverflowError extends Error {}
/**
 * Python's MemoryError: a buffer that cannot be allocated. Python's own text is empty; iomux's message says
 * in parentheses what was asked for.
 *
 * @python MemoryError
 */
export class MemoryError extends Error {}
/**
 * Python's BufferError: a buffer changed while a call held it. CPython refuses to resize or release a buffer
 * it has exported; JavaScript cannot refuse, so the call that finds its argument shrunk or detached raises.
 */
export class BufferError extends Error {}

/**
 * Python's KeyError. `key` is what was missing; the message is its text (Python shows the repr of the key).
 *
 * @python KeyError
 */
export class KeyError extends Error {
  /** The key that was missing (a file object, an fd). */
  readonly key: unknown;
  constructor(key: unknown, message?: string) {
    super(message ?? String(key));
    this.key = key;
  }
}
for (const cls of [ValueError, RuntimeError, OverflowError, MemoryError, BufferError, KeyError]) named(cls as never);

type OSErrorClass = new (errnum: number | null, message?: string, filename?: string) => OSError;

// Python's errno → class table (Objects/exceptions.c), restricted to the errnos this platform defines.
const classForErrno = new Map<number, OSErrorClass>();
const table: Array<[string[], OSErrorClass]> = [
  [['EAGAIN', 'EWOULDBLOCK', 'EALREADY', 'EINPROGRESS'], BlockingIOError],
  [['ECHILD'], ChildProcessError],
  [['EPIPE', 'ESHUTDOWN'], BrokenPipeError],
  [['ECONNABORTED'], ConnectionAbortedError],
  [['ECONNREFUSED'], ConnectionRefusedError],
  [['ECONNRESET'], ConnectionResetError],
  [['EEXIST'], FileExistsError],
  [['ENOENT'], FileNotFoundError],
  [['EISDIR'], IsADirectoryError],
  [['ENOTDIR'], NotADirectoryError],
  [['EINTR'], InterruptedError],
  [['EACCES', 'EPERM'], PermissionError],
  [['ESRCH'], ProcessLookupError],
  [['ETIMEDOUT'], TimeoutError],
];
for (const [names, cls] of table) {
  for (const n of names) {
    const value = ERRNO[n];
    if (value !== undefined) classForErrno.set(value, cls);
  }
}

/** Throws the OSError subclass for a `-errno` result of a sys call. */
export function raiseErrno(negErrno: number, filename?: string): never {
  throw OSError.fromErrno(-negErrno, filename);
}
