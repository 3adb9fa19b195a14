/**
 * FreeBSD: SOCK_CLOEXEC/SOCK_NONBLOCK, accept4 and pipe2 exist (since 10.0), and MSG_NOSIGNAL, so sockets and
 * pipes are created atomically as on Linux; dup2 with close-on-exec is fcntl(F_DUP2FD_CLOEXEC), which predates
 * dup3 (13.0).
 */
import type { NativeContext, PlatformNatives } from '../abi.js';
import { bindAtomicCloexec } from '../atomic-cloexec.js';

export function bindNatives(ctx: NativeContext): PlatformNatives {
  const { libc, abi, orErrno } = ctx;
  const F_DUP2FD_CLOEXEC = abi.fcntl.F_DUP2FD_CLOEXEC!;
  const dup2Native = libc.func('int dup2(int, int)') as (fd: number, fd2: number) => number;
  const fcntlNative = libc.func('int fcntl(int, int, ...)') as (fd: number, cmd: number, ...rest: unknown[]) => number;
  return {
    ...bindAtomicCloexec(ctx),
    dup2: (fd, fd2, cloexec) => orErrno(cloexec ? fcntlNative(fd, F_DUP2FD_CLOEXEC, 'int', fd2) : dup2Native(fd, fd2)),
    epoll: null,
    // FreeBSD 14 has timerfd too, but iomux follows CPython, which offers it on Linux only.
    timerfd: null,
    uring: null,
  };
}
