/** `iomux/os`: the fd functions of Python's `os` module that event-driven programs need. */
import { allocBytes, fdArg, ssizeArg } from './args.js';
import { OSError, raiseErrno } from './errors.js';
import { describe } from './fileobj.js';
import { beforeFdClose } from './fd-close.js';
import * as sys from './sys/index.js';

function check(r: number): number {
  if (r < 0) raiseErrno(r);
  return r;
}

const pipeFds = new Int32Array(2);

/** A new pipe, both ends close-on-exec (non-inheritable) and blocking: `[readEnd, writeEnd]`. */
export function pipe(): [number, number] {
  check(sys.pipeCloexec(pipeFds));
  return [pipeFds[0]!, pipeFds[1]!];
}

/** Closes `fd`; OSError(EBADF) if it is not open. */
export function close(fd: number): void {
  fdArg(fd);
  beforeFdClose(fd); // a watch of the fd lets go of it first
  check(sys.close(fd));
}

/**
 * Reads at most `n` bytes; an empty Buffer means end of file. A non-blocking fd with nothing to read raises
 * BlockingIOError.
 */
export function read(fd: number, n: number): Buffer {
  fdArg(fd);
  n = ssizeArg(n, 'n');
  if (n < 0) throw new OSError(sys.ERRNO.EINVAL!);
  const buf = allocBytes(n, 'n');
  for (;;) {
    const got = sys.read(fd, buf, 0, n);
    if (got >= 0) return got === n ? buf : Buffer.from(buf.subarray(0, got));
    if (-got !== sys.ERRNO.EINTR) raiseErrno(got);
  }
}

/** Writes `data` (bytes, or a string as UTF-8) and returns how many bytes the kernel took. */
export function write(fd: number, data: Uint8Array | string): number {
  fdArg(fd);
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`data must be a Buffer, Uint8Array or string (got ${describe(data)})`);
  for (;;) {
    const n = sys.write(fd, bytes, 0, bytes.length);
    if (n >= 0) return n;
    if (-n !== sys.ERRNO.EINTR) raiseErrno(n);
  }
}

/** A duplicate of `fd` at the lowest free number, non-inheritable, as Python's os.dup(). */
export function dup(fd: number): number {
  return check(sys.dupCloexec(fdArg(fd)));
}

/** Makes `fd2` a duplicate of `fd` (closing what `fd2` was) and returns `fd2`; inheritable by default. */
export function dup2(fd: number, fd2: number, inheritable = true): number {
  fdArg(fd);
  fdArg(fd2, 'fd2');
  if (fd === fd2) {
    // dup3 refuses equal fds; dup2 would only check that fd is open: check it the same way everywhere.
    check(sys.getFdFlags(fd));
    return fd2;
  }
  return check(sys.dup2Cloexec(fd, fd2, !inheritable));
}

/** False when O_NONBLOCK is set on the fd. */
export function getBlocking(fd: number): boolean {
  return (check(sys.getStatusFlags(fdArg(fd))) & sys.O_NONBLOCK) === 0;
}

/** Clears (`true`) or sets (`false`) O_NONBLOCK. */
export function setBlocking(fd: number, blocking: boolean): void {
  const flags = check(sys.getStatusFlags(fdArg(fd)));
  const next = blocking ? flags & ~sys.O_NONBLOCK : flags | sys.O_NONBLOCK;
  if (next !== flags) check(sys.setStatusFlags(fd, next));
}

/** True when the fd survives exec (FD_CLOEXEC clear). */
export function getInheritable(fd: number): boolean {
  return (check(sys.getFdFlags(fdArg(fd))) & sys.FD_CLOEXEC) === 0;
}

export function setInheritable(fd: number, inheritable: boolean): void {
  const flags = check(sys.getFdFlags(fdArg(fd)));
  const next = inheritable ? flags & ~sys.FD_CLOEXEC : flags | sys.FD_CLOEXEC;
  if (next !== flags) check(sys.setFdFlags(fd, next));
}
