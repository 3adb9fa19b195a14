/**
 * File-descriptor syscalls. Every function returns its C result when it is non-negative and `-errno` when
 * the call failed, with errno read before anything else can overwrite it.
 */
import { nativeSpan } from './views.js';
import { libc, natives } from './lib.js';
import { orErrno } from './errno.js';
import { F_GETFD, F_GETFL, F_SETFD, F_SETFL, F_DUPFD_CLOEXEC } from './constants.js';

type Bytes = Uint8Array;

const readNative = libc.func('long read(int, void *, unsigned long)') as (fd: number, b: Bytes, n: number) => number;
const writeNative = libc.func('long write(int, const void *, unsigned long)') as (fd: number, b: Bytes, n: number) => number;
const closeNative = libc.func('int close(int)') as (fd: number) => number;
const dupNative = libc.func('int dup(int)') as (fd: number) => number;
const dup2Native = libc.func('int dup2(int, int)') as (fd: number, fd2: number) => number;
const fcntlNative = libc.func('int fcntl(int, int, ...)') as (fd: number, cmd: number, ...rest: unknown[]) => number;
const getpidNative = libc.func('int getpid(void)') as () => number;

/** read(2) into `buf[offset, offset + length)`. */
export function read(fd: number, buf: Bytes, offset: number, length: number): number {
  return orErrno(readNative(fd, nativeSpan(buf, offset, length), length));
}

/** write(2) from `buf[offset, offset + length)`. */
export function write(fd: number, buf: Bytes, offset: number, length: number): number {
  return orErrno(writeNative(fd, nativeSpan(buf, offset, length), length));
}

export function close(fd: number): number {
  return orErrno(closeNative(fd));
}

/** A pipe with both ends close-on-exec (pipe2(O_CLOEXEC), or pipe + fcntl): fills `out` with [read, write]. */
export function pipeCloexec(out: Int32Array): number {
  const r = natives.pipe(out);
  return r < 0 ? r : 0;
}

export function dup(fd: number): number {
  return orErrno(dupNative(fd));
}

/** A duplicate at the lowest free number, close-on-exec, as Python's os.dup() makes it. */
export function dupCloexec(fd: number): number {
  return orErrno(fcntlNative(fd, F_DUPFD_CLOEXEC, 'int', 0));
}

export function dup2(fd: number, fd2: number): number {
  return orErrno(dup2Native(fd, fd2));
}

/** dup2 of `fd` onto `fd2` (they must differ), close-on-exec when `cloexec` (dup3 where it exists). */
export function dup2Cloexec(fd: number, fd2: number, cloexec: boolean): number {
  return natives.dup2(fd, fd2, cloexec);
}

export function getFdFlags(fd: number): number {
  return orErrno(fcntlNative(fd, F_GETFD));
}

export function setFdFlags(fd: number, flags: number): number {
  return orErrno(fcntlNative(fd, F_SETFD, 'int', flags));
}

export function getStatusFlags(fd: number): number {
  return orErrno(fcntlNative(fd, F_GETFL));
}

export function setStatusFlags(fd: number, flags: number): number {
  return orErrno(fcntlNative(fd, F_SETFL, 'int', flags));
}

/** getpid(2): cannot fail. The cheapest real syscall, used to measure the cost of a native call. */
export function getpid(): number {
  return getpidNative();
}
