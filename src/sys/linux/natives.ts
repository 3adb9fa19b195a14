/** Linux: the kernel has every flag iomux needs, so each primitive is one atomic call. */
import type { EpollNatives, NativeContext, PlatformNatives } from '../abi.js';

type Bytes = Uint8Array;

export function bindNatives({ libc, errno, abi }: NativeContext): PlatformNatives {
  const { SOCK_CLOEXEC } = abi.socket;
  const { O_CLOEXEC } = abi.fcntl;
  const socketNative = libc.func('int socket(int, int, int)') as (d: number, t: number, p: number) => number;
  const socketpairNative = libc.func('int socketpair(int, int, int, _Out_ int *sv)') as (
    d: number, t: number, p: number, sv: Int32Array) => number;
  const accept4Native = libc.func('int accept4(int, void *, void *, int)') as (
    fd: number, a: Bytes | null, l: Uint32Array | null, flags: number) => number;
  const pipe2Native = libc.func('int pipe2(_Out_ int *fds, int flags)') as (fds: Int32Array, flags: number) => number;
  const dup3Native = libc.func('int dup3(int, int, int)') as (fd: number, fd2: number, flags: number) => number;
  const result = (r: number): number => (r < 0 ? -errno() : r);
  return {
    socket: (family, type, proto) => result(socketNative(family, type | SOCK_CLOEXEC, proto)),
    socketpair: (family, type, proto, out) => result(socketpairNative(family, type | SOCK_CLOEXEC, proto, out)),
    accept: (fd, addr, addrlen) => result(accept4Native(fd, addr, addrlen, SOCK_CLOEXEC)),
    pipe: (out) => result(pipe2Native(out, O_CLOEXEC)),
    dup2: (fd, fd2, cloexec) => result(dup3Native(fd, fd2, cloexec ? O_CLOEXEC : 0)),
    epoll: bindEpoll({ libc, errno, abi }),
  };
}

function bindEpoll({ libc, errno }: NativeContext): EpollNatives {
  const create1 = libc.func('int epoll_create1(int)') as (flags: number) => number;
  const ctl = libc.func('int epoll_ctl(int, int, int, void *)') as (ep: number, op: number, fd: number, ev: Bytes) => number;
  const wait = libc.func('int epoll_wait(int, void *, int, int)') as (ep: number, evs: Bytes, max: number, ms: number) => number;
  return {
    create1: (flags) => {
      const r = create1(flags);
      return r < 0 ? -errno() : r;
    },
    ctl: (ep, op, fd, ev) => (ctl(ep, op, fd, ev) < 0 ? -errno() : 0),
    wait: (ep, evs, max, ms) => {
      const r = wait(ep, evs, max, ms);
      return r < 0 ? -errno() : r;
    },
  };
}
