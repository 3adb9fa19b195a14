/**
 * The running platform's values of the constants iomux needs, named as C names them; the values come from the
 * platform table (src/sys/<platform>/abi.ts). epoll's and timerfd's are Linux's own (src/sys/linux/epoll-abi.ts),
 * exported everywhere but only usable there (sys.epollCreate1 and sys.timerfdCreate fail with ENOSYS elsewhere).
 */
import { EPOLL_ABI, TIMERFD_ABI } from './linux/epoll-abi.js';
import { abi } from './platform.js';

const { poll, fcntl, limits } = abi;

/** The number of fds an `fd_set` holds: `select()` refuses an fd at or above it (1024). */
export const FD_SETSIZE = limits.FD_SETSIZE;
/** The largest write to a pipe the kernel makes atomic (Python: `select.PIPE_BUF`). */
export const PIPE_BUF = limits.PIPE_BUF;
/** C's INT_MAX and INT_MIN: int is 32 bits on every platform iomux supports. */
export const INT_MAX = 0x7fffffff;
export const INT_MIN = -0x80000000;
/** Py_ssize_t's range is ssize_t's: 64 bits on every platform iomux supports. */
export const SSIZE_MAX = 2 ** 63 - 1;

// poll(2)
export const POLLIN = poll.POLLIN;
export const POLLPRI = poll.POLLPRI;
export const POLLOUT = poll.POLLOUT;
export const POLLERR = poll.POLLERR;
export const POLLHUP = poll.POLLHUP;
export const POLLNVAL = poll.POLLNVAL;
export const POLLRDNORM = poll.POLLRDNORM;
export const POLLRDBAND = poll.POLLRDBAND;
export const POLLWRNORM = poll.POLLWRNORM;
export const POLLWRBAND = poll.POLLWRBAND;
/** Linux only (undefined elsewhere, where CPython has no select.POLLMSG either). */
export const POLLMSG: number | undefined = poll.POLLMSG;
/** Linux only. */
export const POLLRDHUP: number | undefined = poll.POLLRDHUP;

// epoll(7): Linux's values (sys/linux/epoll-abi.ts), the same wherever an epoll exists.
export const { EPOLLIN, EPOLLPRI, EPOLLOUT, EPOLLERR, EPOLLHUP, EPOLLRDNORM, EPOLLRDBAND, EPOLLWRNORM, EPOLLWRBAND,
  EPOLLMSG, EPOLLRDHUP, EPOLLEXCLUSIVE, EPOLLONESHOT, EPOLLET } = EPOLL_ABI.events;
export const EPOLL_CLOEXEC = EPOLL_ABI.CLOEXEC;
export const { ADD: EPOLL_CTL_ADD, DEL: EPOLL_CTL_DEL, MOD: EPOLL_CTL_MOD } = EPOLL_ABI.ctl;

// timerfd_create(2), Linux only (as CPython offers it), and the clocks it takes (Python's time.CLOCK_*).
export const { TFD_CLOEXEC, TFD_NONBLOCK } = TIMERFD_ABI.create;
export const { TFD_TIMER_ABSTIME, TFD_TIMER_CANCEL_ON_SET } = TIMERFD_ABI.settime;
export const { CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME } = TIMERFD_ABI.clocks;

// fcntl(2) and open(2)
export const F_DUPFD_CLOEXEC = fcntl.F_DUPFD_CLOEXEC;
export const F_GETFD = fcntl.F_GETFD;
export const F_SETFD = fcntl.F_SETFD;
export const F_GETFL = fcntl.F_GETFL;
export const F_SETFL = fcntl.F_SETFL;
export const FD_CLOEXEC = fcntl.FD_CLOEXEC;
export const O_NONBLOCK = fcntl.O_NONBLOCK;
export const O_CLOEXEC = fcntl.O_CLOEXEC;
