/**
 * The values of epoll(7) and timerfd_create(2), Linux's own interfaces: glibc's <sys/epoll.h> (the kernel's
 * include/uapi/linux/eventpoll.h), <sys/timerfd.h> and <linux/time.h>. They are the same on x86_64 and aarch64,
 * so this is one table, not a column of the platform tables. Plain data, no koffi: test/python-constants checks
 * each value against CPython's select, os and time modules.
 */
export const EPOLL_ABI = Object.freeze({
  /** EPOLL* event bits (eventpoll.h); EPOLLET is bit 31, kept positive as Python shows it. */
  events: {
    EPOLLIN: 0x001, EPOLLPRI: 0x002, EPOLLOUT: 0x004, EPOLLERR: 0x008, EPOLLHUP: 0x010, EPOLLRDNORM: 0x040,
    EPOLLRDBAND: 0x080, EPOLLWRNORM: 0x100, EPOLLWRBAND: 0x200, EPOLLMSG: 0x400, EPOLLRDHUP: 0x2000,
    EPOLLEXCLUSIVE: 0x10000000, EPOLLONESHOT: 0x40000000, EPOLLET: 0x80000000,
  },
  /** epoll_ctl's operations. */
  ctl: { ADD: 1, DEL: 2, MOD: 3 },
  /** epoll_create1's flag: O_CLOEXEC's value. */
  CLOEXEC: 0o2000000,
} as const);

export const TIMERFD_ABI = Object.freeze({
  /** timerfd_create's flags (O_CLOEXEC's and O_NONBLOCK's values). */
  create: { TFD_CLOEXEC: 0o2000000, TFD_NONBLOCK: 0o4000 },
  /** timerfd_settime's flags. */
  settime: { TFD_TIMER_ABSTIME: 1, TFD_TIMER_CANCEL_ON_SET: 2 },
  /** The clocks it takes (<linux/time.h>; Python's time.CLOCK_*). */
  clocks: { CLOCK_REALTIME: 0, CLOCK_MONOTONIC: 1, CLOCK_BOOTTIME: 7 },
} as const);
