import { KQ } from '../sys/index.js';

export {
  POLLIN, POLLPRI, POLLOUT, POLLERR, POLLHUP, POLLNVAL, POLLRDNORM, POLLRDBAND, POLLWRNORM, POLLWRBAND, POLLMSG,
  POLLRDHUP,
  EPOLLIN, EPOLLOUT, EPOLLPRI, EPOLLERR, EPOLLHUP, EPOLLET, EPOLLONESHOT, EPOLLEXCLUSIVE, EPOLLRDHUP, EPOLLRDNORM,
  EPOLLRDBAND, EPOLLWRNORM, EPOLLWRBAND, EPOLLMSG, EPOLL_CLOEXEC,
  FD_SETSIZE, PIPE_BUF,
} from '../sys/index.js';


// kqueue (CPython's KQ_* names; the platform's <sys/event.h> values, libkqueue's on Linux).
export const KQ_FILTER_READ = KQ.EVFILT_READ;
export const KQ_FILTER_WRITE = KQ.EVFILT_WRITE;
export const KQ_FILTER_AIO = KQ.EVFILT_AIO;
export const KQ_FILTER_VNODE = KQ.EVFILT_VNODE;
export const KQ_FILTER_PROC = KQ.EVFILT_PROC;
export const KQ_FILTER_SIGNAL = KQ.EVFILT_SIGNAL;
export const KQ_FILTER_TIMER = KQ.EVFILT_TIMER;
export const KQ_EV_ADD = KQ.EV_ADD;
export const KQ_EV_DELETE = KQ.EV_DELETE;
export const KQ_EV_ENABLE = KQ.EV_ENABLE;
export const KQ_EV_DISABLE = KQ.EV_DISABLE;
export const KQ_EV_ONESHOT = KQ.EV_ONESHOT;
export const KQ_EV_CLEAR = KQ.EV_CLEAR;
export const KQ_EV_SYSFLAGS = KQ.EV_SYSFLAGS;
export const KQ_EV_FLAG1 = KQ.EV_FLAG1;
export const KQ_EV_EOF = KQ.EV_EOF;
export const KQ_EV_ERROR = KQ.EV_ERROR;
export const KQ_NOTE_LOWAT = KQ.NOTE_LOWAT;
export const KQ_NOTE_DELETE = KQ.NOTE_DELETE;
export const KQ_NOTE_WRITE = KQ.NOTE_WRITE;
export const KQ_NOTE_EXTEND = KQ.NOTE_EXTEND;
export const KQ_NOTE_ATTRIB = KQ.NOTE_ATTRIB;
export const KQ_NOTE_LINK = KQ.NOTE_LINK;
export const KQ_NOTE_RENAME = KQ.NOTE_RENAME;
export const KQ_NOTE_REVOKE = KQ.NOTE_REVOKE;
export const KQ_NOTE_EXIT = KQ.NOTE_EXIT;
export const KQ_NOTE_FORK = KQ.NOTE_FORK;
export const KQ_NOTE_EXEC = KQ.NOTE_EXEC;
export const KQ_NOTE_PCTRLMASK = KQ.NOTE_PCTRLMASK;
export const KQ_NOTE_PDATAMASK = KQ.NOTE_PDATAMASK;
/** Where the platform's header defines them (FreeBSD, libkqueue); undefined on macOS. */
export const KQ_NOTE_TRACK: number | undefined = KQ.NOTE_TRACK;
export const KQ_NOTE_CHILD: number | undefined = KQ.NOTE_CHILD;
export const KQ_NOTE_TRACKERR: number | undefined = KQ.NOTE_TRACKERR;
