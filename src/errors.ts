/**
 * Python's exception classes, as iomux raises them: `OSError` and the subclasses Python picks by errno,
 * plus `ValueError`, `KeyError`, `RuntimeError`, `OverflowError` and `MemoryError`. JavaScript's own `TypeError` is used
 * where Python raises TypeError.
 */
import { ERRNO, errnoName, strerror } from './sys/index.js';

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

  override get name(): string {
    return this.constructor.name;
  }

  /** The OSError subclass Python raises for `errnum`, with the C library's message. */
  static fromErrno(errnum: number, filename?: string): OSError {
    const Cls = classForErrno.get(errnum) ?? OSError;
    return new Cls(errnum, undefined, filename);
  }
}

export class BlockingIOError extends OSError {}
export class ChildProcessError extends OSError {}
export class ConnectionError extends OSError {}
export class BrokenPipeError extends ConnectionError {}
export class ConnectionAbortedError extends ConnectionError {}
export class ConnectionRefusedError extends ConnectionError {}
export class ConnectionResetError extends ConnectionError {}
export class FileExistsError extends OSError {}
export class FileNotFoundError extends OSError {}
export class InterruptedError extends OSError {}
export class IsADirectoryError extends OSError {}
export class NotADirectoryError extends OSError {}
export class PermissionError extends OSError {}
export class ProcessLookupError extends OSError {}

/** Python's TimeoutError: ETIMEDOUT from the kernel, or a socket timeout (`new TimeoutError()`: "timed out"). */
export class TimeoutError extends OSError {
  constructor(errnum: number | null = null, message?: string, filename?: string) {
    super(errnum, errnum === null ? (message ?? 'timed out') : message, filename);
  }
}

function named(cls: new (message?: string) => Error): void {
  Object.defineProperty(cls.prototype, 'name', { value: cls.name, configurable: true, writable: true });
}

export class ValueError extends Error {}
export class RuntimeError extends Error {}
export class OverflowError extends Error {}
/**
 * Python's MemoryError: a buffer that cannot be allocated. Python's own text is empty; iomux's message says
 * in parentheses what was asked for.
 */
export class MemoryError extends Error {}
/**
 * Python's BufferError: a buffer changed while a call held it. CPython refuses to resize or release a buffer
 * it has exported; JavaScript cannot refuse, so the call that finds its argument shrunk or detached raises.
 */
export class BufferError extends Error {}

/**
 * Python's KeyError. `key` is what was missing; the message is its text (Python shows the repr of the key).
 */
export class KeyError extends Error {
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
