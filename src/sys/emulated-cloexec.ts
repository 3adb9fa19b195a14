/**
 * The portable primitives for a kernel without SOCK_CLOEXEC/SOCK_NONBLOCK, accept4 and pipe2 (macOS): the
 * plain call, then fcntl(2) for each flag, closing the new fd(s) if a step fails so nothing leaks. The
 * window between the call and FD_CLOEXEC is the one CPython also has there (a fork+exec on another thread in
 * between would inherit the fd); SO_NOSIGPIPE replaces MSG_NOSIGNAL, which macOS does not have.
 */
import type { NativeContext, PlatformNatives } from './abi.js';

type Bytes = Uint8Array;

export function bindEmulatedCloexec({ libc, abi, orErrno, errno }: NativeContext): Omit<PlatformNatives, 'epoll' | 'timerfd' | 'uring'> {
  const { SOCK_NONBLOCK, SOCK_CLOEXEC, SOL_SOCKET, SO_NOSIGPIPE } = abi.socket;
  const { F_GETFL, F_SETFL, F_SETFD, FD_CLOEXEC, O_NONBLOCK } = abi.fcntl;
  const socketNative = libc.func('int socket(int, int, int)') as (d: number, t: number, p: number) => number;
  const socketpairNative = libc.func('int socketpair(int, int, int, _Out_ int *sv)') as (
    d: number, t: number, p: number, sv: Int32Array) => number;
  const acceptNative = libc.func('int accept(int, void *, void *)') as (fd: number, a: Bytes | null, l: Uint32Array | null) => number;
  const pipeNative = libc.func('int pipe(_Out_ int *fds)') as (fds: Int32Array) => number;
  const dup2Native = libc.func('int dup2(int, int)') as (fd: number, fd2: number) => number;
  const closeNative = libc.func('int close(int)') as (fd: number) => number;
  const fcntlNative = libc.func('int fcntl(int, int, ...)') as (fd: number, cmd: number, ...rest: unknown[]) => number;
  const setsockoptNative = libc.func('int setsockopt(int, int, int, const void *, uint32_t)') as (
    fd: number, level: number, name: number, v: Int32Array, l: number) => number;
  const one = new Int32Array([1]);

  /** Applies the flags to a new fd; on failure closes it and returns -errno (errno saved before close). */
  function finish(fd: number, nonblock: boolean, socket: boolean): number {
    let failed = fcntlNative(fd, F_SETFD, 'int', FD_CLOEXEC) < 0;
    if (!failed && nonblock) {
      const fl = fcntlNative(fd, F_GETFL);
      failed = fl < 0 || fcntlNative(fd, F_SETFL, 'int', fl | O_NONBLOCK) < 0;
    }
    if (!failed && socket && SO_NOSIGPIPE !== undefined) failed = setsockoptNative(fd, SOL_SOCKET, SO_NOSIGPIPE, one, 4) < 0;
    if (!failed) return fd;
    const e = errno();
    closeNative(fd);
    return -e;
  }

  /** finish() for both ends of a new pair: 0, or -errno with both closed. */
  function finishPair(out: Int32Array, nonblock: boolean, socket: boolean): number {
    const a = finish(out[0]!, nonblock, socket);
    if (a < 0) {
      closeNative(out[1]!);
      return a;
    }
    const b = finish(out[1]!, nonblock, socket);
    if (b < 0) {
      closeNative(out[0]!);
      return b;
    }
    return 0;
  }

  return {
    socket(family, type, proto) {
      const fd = orErrno(socketNative(family, type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC), proto));
      return fd < 0 ? fd : finish(fd, (type & SOCK_NONBLOCK) !== 0, true);
    },
    socketpair(family, type, proto, out) {
      const r = orErrno(socketpairNative(family, type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC), proto, out));
      if (r < 0) return r;
      return finishPair(out, (type & SOCK_NONBLOCK) !== 0, true);
    },
    accept(fd, addr, addrlen) {
      const r = orErrno(acceptNative(fd, addr, addrlen));
      if (r < 0) return r;
      // BSD accept() gives the new socket the listener's O_NONBLOCK; Linux's and CPython's contract is blocking.
      const fl = fcntlNative(r, F_GETFL);
      if (fl >= 0 && (fl & O_NONBLOCK) !== 0) fcntlNative(r, F_SETFL, 'int', fl & ~O_NONBLOCK);
      return finish(r, false, true);
    },
    pipe(out) {
      const r = orErrno(pipeNative(out));
      if (r < 0) return r;
      return finishPair(out, false, false);
    },
    dup2(fd, fd2, cloexec) {
      const r = orErrno(dup2Native(fd, fd2));
      if (r < 0) return r;
      return cloexec ? finish(r, false, false) : r;
    },
  };
}
