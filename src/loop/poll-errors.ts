/** The errors `watch()` raises or reports, with messages that say what went wrong with which fd. */
import { OSError, RuntimeError } from '../errors.js';
import * as sys from '../sys/index.js';
import { uvErrorName } from '../sys/uv.js';

const { EEXIST, EPERM, EBADF, ENOTSUP } = sys.ERRNO;

/** An OSError subclass for `errnum` (as Python picks it) whose message adds `detail`. */
function detailed(errnum: number, detail: string): OSError {
  const err = OSError.fromErrno(errnum);
  err.message = `${err.message}: ${detail}`;
  return err;
}

/** The error for a failed `pollOpen(fd)` (a negative errno). */
export function watchOpenError(fd: number, negErrno: number): Error {
  const errnum = -negErrno;
  if (errnum === EEXIST) {
    return detailed(errnum, `fd ${fd} is already watched on this thread's event loop (by another watch, or an attached selector)`);
  }
  if (errnum === EPERM) return detailed(errnum, `fd ${fd} cannot be watched: epoll does not support it (a regular file or a directory?)`);
  if (errnum === EBADF) return detailed(errnum, `fd ${fd} is not open`);
  if (errnum === ENOTSUP) {
    return new RuntimeError('cannot watch fds in this worker thread: the libuv handle layout is not the one iomux checks for, so the handle could not be made safe for worker exit');
  }
  return detailed(errnum, `cannot watch fd ${fd}`);
}

/** The error for a failed start of a watch (uv_poll_start). */
export function watchStartError(fd: number, negErrno: number): OSError {
  return detailed(-negErrno, `cannot start watching fd ${fd}`);
}

/** Raised by modify() when the fd was closed under the watch (or its number now names another file). */
export function closedUnderWatchError(fd: number): OSError {
  return detailed(EBADF, `fd ${fd} was closed while watched (or its number reused since): close this watcher and watch the new fd`);
}

/**
 * The error a watch reports when libuv stops it with a negative status. libuv says UV_EBADF both for a
 * closed fd and for POLLERR on an open one (a socket with a pending error, a pipe whose reader is gone), so
 * the message tells the two apart.
 */
export function pollStatusError(fd: number, status: number, fdOpen: boolean): OSError {
  const errnum = -status;
  if (errnum === EBADF && fdOpen) {
    return detailed(errnum, `poll reported an error condition (POLLERR) on fd ${fd}; the watch was stopped`);
  }
  if (sys.errnoName(errnum) === undefined) return new OSError(errnum, `${uvErrorName(status)}: watching fd ${fd} failed; the watch was stopped`);
  return detailed(errnum, `watching fd ${fd} failed; the watch was stopped`);
}
