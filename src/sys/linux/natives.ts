/** Linux: the kernel has every flag iomux needs, so each primitive is one atomic call. */
import type { EpollNatives, NativeContext, PlatformNatives, TimerfdNatives } from '../abi.js';
import { bindAtomicCloexec } from '../atomic-cloexec.js';
import { bindUring } from './uring.js';

type Bytes = Uint8Array;

export function bindNatives(ctx: NativeContext): PlatformNatives {
  const { libc, abi, orErrno } = ctx;
  const { O_CLOEXEC } = abi.fcntl;
  const dup3Native = libc.func('int dup3(int, int, int)') as (fd: number, fd2: number, flags: number) => number;
  return {
    ...bindAtomicCloexec(ctx),
    dup2: (fd, fd2, cloexec) => orErrno(dup3Native(fd, fd2, cloexec ? O_CLOEXEC : 0)),
    epoll: bindEpoll(ctx),
    timerfd: bindTimerfd(ctx),
    uring: bindUring(ctx),
  };
}

/** struct itimerspec is two struct timespec of 64-bit fields on both 64-bit Linux ABIs iomux runs on. */
function bindTimerfd({ libc, orErrno }: NativeContext): TimerfdNatives {
  const create = libc.func('int timerfd_create(int, int)') as (clockid: number, flags: number) => number;
  const settime = libc.func('int timerfd_settime(int, int, const void *, void *)') as (
    fd: number, flags: number, spec: BigInt64Array, old: BigInt64Array) => number;
  const gettime = libc.func('int timerfd_gettime(int, void *)') as (fd: number, spec: BigInt64Array) => number;
  return {
    create: (clockid, flags) => orErrno(create(clockid, flags)),
    settime: (fd, flags, spec, old) => orErrno(settime(fd, flags, spec, old)),
    gettime: (fd, spec) => orErrno(gettime(fd, spec)),
  };
}

function bindEpoll({ libc, orErrno }: NativeContext): EpollNatives {
  const create1 = libc.func('int epoll_create1(int)') as (flags: number) => number;
  const ctl = libc.func('int epoll_ctl(int, int, int, void *)') as (ep: number, op: number, fd: number, ev: Bytes) => number;
  const wait = libc.func('int epoll_wait(int, void *, int, int)') as (ep: number, evs: Bytes, max: number, ms: number) => number;
  return {
    create1: (flags) => orErrno(create1(flags)),
    ctl: (ep, op, fd, ev) => orErrno(ctl(ep, op, fd, ev)),
    wait: (ep, evs, max, ms) => orErrno(wait(ep, evs, max, ms)),
  };
}
