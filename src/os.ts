/**
 * `iomux/os`: the fd functions of Python's `os` module that event-driven programs need.
 *
 * @module iomux/os
 */
import { allocBytes, detachedError, fdArg, ssizeArg } from './args.js';
import { OSError, raiseErrno } from './errors.js';
import { describe } from './fileobj.js';
import { retryInterrupted } from './timeout.js';
import { beforeFdClose } from './fd-close.js';
import * as sys from './sys/index.js';

const pipeFds = new Int32Array(2);

// read(2) and write(2) of a whole buffer, in the argument order `retryInterrupted` passes (no timeout).
const readInto = (fd: number, buf: Uint8Array, n: number): number => sys.read(fd, buf, 0, n);
const writeFrom = (fd: number, buf: Uint8Array, n: number): number => sys.write(fd, buf, 0, n);

/** fcntl(F_GETFL), raising on failure. */
function statusFlags(fd: number): number {
  const r = sys.getStatusFlags(fdArg(fd));
  if (r < 0) raiseErrno(r);
  return r;
}

/** fcntl(F_GETFD), raising on failure. */
function fdFlags(fd: number): number {
  const r = sys.getFdFlags(fdArg(fd));
  if (r < 0) raiseErrno(r);
  return r;
}

/**
 * A new pipe, both ends close-on-exec (non-inheritable) and blocking: `[readEnd, writeEnd]`.
 *
 * @python os.pipe
 */
export function pipe(): [number, number] {
  const r = sys.pipeCloexec(pipeFds);
  if (r < 0) raiseErrno(r);
  return [pipeFds[0]!, pipeFds[1]!];
}

/**
 * Closes `fd`; OSError(EBADF) if it is not open.
 *
 * @python os.close
 */
export function close(fd: number): void {
  fdArg(fd);
  beforeFdClose(fd); // a watch of the fd lets go of it first
  const r = sys.close(fd);
  if (r < 0) raiseErrno(r);
}

/**
 * Reads at most `n` bytes; an empty Buffer means end of file. A non-blocking fd with nothing to read raises
 * BlockingIOError.
 *
 * @python os.read
 */
export function read(fd: number, n: number): Buffer {
  fdArg(fd);
  n = ssizeArg(n, 'n');
  if (n < 0) throw new OSError(sys.ERRNO.EINVAL!);
  const buf = allocBytes(n, 'n');
  const got = retryInterrupted(readInto, fd, buf, n, -1);
  if (got < 0) raiseErrno(got);
  return got === n ? buf : Buffer.from(buf.subarray(0, got));
}

/**
 * Writes `data` (bytes, or a string as UTF-8) and returns how many bytes the kernel took.
 *
 * @python os.write
 */
export function write(fd: number, data: Uint8Array | string): number {
  fdArg(fd);
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  // Its internal length, never its own members (which may lie), is what the kernel may read.
  if (!sys.isUint8Array(bytes)) throw new TypeError(`data must be a Buffer, Uint8Array or string (got ${describe(data)})`);
  const length = sys.viewLength(bytes);
  if (length === 0 && sys.isUnusable(bytes)) throw detachedError('data');
  const n = retryInterrupted(writeFrom, fd, bytes, length, -1);
  if (n < 0) raiseErrno(n);
  return n;
}

/**
 * A duplicate of `fd` at the lowest free number, non-inheritable, as Python's os.dup().
 *
 * @python os.dup
 */
export function dup(fd: number): number {
  const r = sys.dupCloexec(fdArg(fd));
  if (r < 0) raiseErrno(r);
  return r;
}

/**
 * Makes `fd2` a duplicate of `fd` (closing what `fd2` was) and returns `fd2`; inheritable by default.
 *
 * @python os.dup2
 */
export function dup2(fd: number, fd2: number, inheritable = true): number {
  fdArg(fd);
  fdArg(fd2, 'fd2');
  if (fd === fd2) {
    // dup3 refuses equal fds; dup2 would only check that fd is open: check it the same way everywhere.
    const r = sys.getFdFlags(fd);
    if (r < 0) raiseErrno(r);
    return fd2;
  }
  const r = sys.dup2Cloexec(fd, fd2, !inheritable);
  if (r < 0) raiseErrno(r);
  return r;
}

/**
 * False when O_NONBLOCK is set on the fd.
 *
 * @python os.get_blocking
 */
export function getBlocking(fd: number): boolean {
  return (statusFlags(fd) & sys.O_NONBLOCK) === 0;
}

/**
 * Clears (`true`) or sets (`false`) O_NONBLOCK.
 *
 * @python os.set_blocking
 */
export function setBlocking(fd: number, blocking: boolean): void {
  setFlag(fd, statusFlags(fd), sys.O_NONBLOCK, !blocking, sys.setStatusFlags);
}

/**
 * True when the fd survives exec (FD_CLOEXEC clear).
 *
 * @python os.get_inheritable
 */
export function getInheritable(fd: number): boolean {
  return (fdFlags(fd) & sys.FD_CLOEXEC) === 0;
}

/**
 * Clears (`true`) or sets (`false`) FD_CLOEXEC.
 *
 * @python os.set_inheritable
 */
export function setInheritable(fd: number, inheritable: boolean): void {
  setFlag(fd, fdFlags(fd), sys.FD_CLOEXEC, !inheritable, sys.setFdFlags);
}

/** Sets or clears `bit` in `flags` with `write`, skipping the call when nothing changes. */
function setFlag(fd: number, flags: number, bit: number, on: boolean, write: (fd: number, flags: number) => number): void {
  const next = on ? flags | bit : flags & ~bit;
  const r = next === flags ? 0 : write(fd, next);
  if (r < 0) raiseErrno(r);
}
export * from './os-timerfd.js';
