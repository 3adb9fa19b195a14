/**
 * FreeBSD: SOCK_CLOEXEC/SOCK_NONBLOCK, accept4 and pipe2 exist (since 10.0), and MSG_NOSIGNAL, so sockets and
 * pipes are created atomically as on Linux; dup2 with close-on-exec is fcntl(F_DUP2FD_CLOEXEC), which predates
 * dup3 (13.0).
 */
import type { NativeContext, PlatformNatives } from '../abi.js';

type Bytes = Uint8Array;

/** <sys/fcntl.h>: F_DUP2FD_CLOEXEC. */
export const F_DUP2FD_CLOEXEC = 18;

export function bindNatives({ libc, errno, abi }: NativeContext): PlatformNatives {
  const { SOCK_CLOEXEC } = abi.socket;
  const { O_CLOEXEC } = abi.fcntl;
  const socketNative = libc.func('int socket(int, int, int)') as (d: number, t: number, p: number) => number;
  const socketpairNative = libc.func('int socketpair(int, int, int, _Out_ int *sv)') as (
    d: number, t: number, p: number, sv: Int32Array) => number;
  const accept4Native = libc.func('int accept4(int, void *, void *, int)') as (
    fd: number, a: Bytes | null, l: Uint32Array | null, flags: number) => number;
  const pipe2Native = libc.func('int pipe2(_Out_ int *fds, int flags)') as (fds: Int32Array, flags: number) => number;
  const dup2Native = libc.func('int dup2(int, int)') as (fd: number, fd2: number) => number;
  const fcntlNative = libc.func('int fcntl(int, int, ...)') as (fd: number, cmd: number, ...rest: unknown[]) => number;
  const result = (r: number): number => (r < 0 ? -errno() : r);
  return {
    socket: (family, type, proto) => result(socketNative(family, type | SOCK_CLOEXEC, proto)),
    socketpair: (family, type, proto, out) => result(socketpairNative(family, type | SOCK_CLOEXEC, proto, out)),
    accept: (fd, addr, addrlen) => result(accept4Native(fd, addr, addrlen, SOCK_CLOEXEC)),
    pipe: (out) => result(pipe2Native(out, O_CLOEXEC)),
    dup2: (fd, fd2, cloexec) => result(cloexec ? fcntlNative(fd, F_DUP2FD_CLOEXEC, 'int', fd2) : dup2Native(fd, fd2)),
    epoll: null,
  };
}
