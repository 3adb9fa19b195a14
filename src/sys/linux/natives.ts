/** Linux: the kernel has every flag iomux needs, so each primitive is one atomic call. */
import type { EpollNatives, NativeContext, PlatformNatives } from '../abi.js';
import { bindAtomicCloexec } from '../atomic-cloexec.js';

type Bytes = Uint8Array;

export function bindNatives(ctx: NativeContext): PlatformNatives {
  const { libc, errno, abi } = ctx;
  const { O_CLOEXEC } = abi.fcntl;
  const dup3Native = libc.func('int dup3(int, int, int)') as (fd: number, fd2: number, flags: number) => number;
  return {
    ...bindAtomicCloexec(ctx),
    dup2: (fd, fd2, cloexec) => {
      const r = dup3Native(fd, fd2, cloexec ? O_CLOEXEC : 0);
      return r < 0 ? -errno() : r;
    },
    epoll: bindEpoll(ctx),
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
