/**
 * The portable primitives for a kernel with SOCK_CLOEXEC/SOCK_NONBLOCK, accept4 and pipe2 (Linux; FreeBSD
 * since 10.0): each one atomic call, so no fork+exec on another thread can catch a new fd without its flag.
 * dup2 with close-on-exec differs between those kernels, so each platform's natives.ts adds its own.
 */
import type { NativeContext, PlatformNatives } from './abi.js';

type Bytes = Uint8Array;

export function bindAtomicCloexec({ libc, abi, orErrno }: NativeContext): Omit<PlatformNatives, 'dup2' | 'epoll' | 'timerfd' | 'uring'> {
  const { SOCK_CLOEXEC } = abi.socket;
  const { O_CLOEXEC } = abi.fcntl;
  const socketNative = libc.func('int socket(int, int, int)') as (d: number, t: number, p: number) => number;
  const socketpairNative = libc.func('int socketpair(int, int, int, _Out_ int *sv)') as (
    d: number, t: number, p: number, sv: Int32Array) => number;
  const accept4Native = libc.func('int accept4(int, void *, void *, int)') as (
    fd: number, a: Bytes | null, l: Uint32Array | null, flags: number) => number;
  const pipe2Native = libc.func('int pipe2(_Out_ int *fds, int flags)') as (fds: Int32Array, flags: number) => number;
  return {
    socket: (family, type, proto) => orErrno(socketNative(family, type | SOCK_CLOEXEC, proto)),
    socketpair: (family, type, proto, out) => orErrno(socketpairNative(family, type | SOCK_CLOEXEC, proto, out)),
    accept: (fd, addr, addrlen) => orErrno(accept4Native(fd, addr, addrlen, SOCK_CLOEXEC)),
    pipe: (out) => orErrno(pipe2Native(out, O_CLOEXEC)),
  };
}
