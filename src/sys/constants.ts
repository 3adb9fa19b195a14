/**
 * The running platform's values of the constants iomux needs, named as C names them; the values come from the
 * platform table (src/sys/<platform>/abi.ts). epoll's values are the epoll ABI's: defined by Linux, the same
 * wherever an epoll exists, and only usable there (sys.epollCreate1 fails with ENOSYS elsewhere).
 */
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

// epoll(7)
export const EPOLLIN = 0x001;
export const EPOLLPRI = 0x002;
export const EPOLLOUT = 0x004;
export const EPOLLERR = 0x008;
export const EPOLLHUP = 0x010;
export const EPOLLRDNORM = 0x040;
export const EPOLLRDBAND = 0x080;
export const EPOLLWRNORM = 0x100;
export const EPOLLWRBAND = 0x200;
export const EPOLLMSG = 0x400;
export const EPOLLRDHUP = 0x2000;
export const EPOLLEXCLUSIVE = 0x10000000;
export const EPOLLONESHOT = 0x40000000;
export const EPOLLET = 0x80000000; // positive, as Python exposes it
export const EPOLL_CLOEXEC = 0o2000000;
export const EPOLL_CTL_ADD = 1;
export const EPOLL_CTL_DEL = 2;
export const EPOLL_CTL_MOD = 3;

// timerfd_create(2), Linux only (as CPython offers it), and the clocks it takes (Python's time.CLOCK_*).
export const TFD_CLOEXEC = 0o2000000;
export const TFD_NONBLOCK = 0o4000;
export const TFD_TIMER_ABSTIME = 1;
export const TFD_TIMER_CANCEL_ON_SET = 2;
export const CLOCK_REALTIME = 0;
export const CLOCK_MONOTONIC = 1;
export const CLOCK_BOOTTIME = 7;

// fcntl(2) and open(2)
export const F_DUPFD_CLOEXEC = fcntl.F_DUPFD_CLOEXEC;
export const F_GETFD = fcntl.F_GETFD;
export const F_SETFD = fcntl.F_SETFD;
export const F_GETFL = fcntl.F_GETFL;
export const F_SETFL = fcntl.F_SETFL;
export const FD_CLOEXEC = fcntl.FD_CLOEXEC;
export const O_NONBLOCK = fcntl.O_NONBLOCK;
export const O_CLOEXEC = fcntl.O_CLOEXEC;
