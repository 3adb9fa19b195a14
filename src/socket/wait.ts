/** Waiting for one socket to become ready, as CPython's sock_call does in timeout mode: poll(2) against a monotonic deadline. */
import { raiseErrno } from '../errors.js';
import { ERRNO, INT_MAX } from '../sys/index.js';
import { allocPollfds, poll, setPollfd } from '../sys/multiplex.js';
import { monotonicMs } from '../timeout.js';

const EINTR = ERRNO.EINTR!;
const pollfd = allocPollfds(1);

/**
 * Waits until `fd` reports one of `events` (or an error/hangup), or until `deadline` (monotonic ms;
 * Infinity waits for ever). True when ready, false when the deadline passed. EINTR resumes the wait with the
 * time left; any other poll failure raises.
 */
export function waitForFd(fd: number, events: number, deadline: number): boolean {
  for (;;) {
    let ms = -1;
    if (deadline !== Infinity) {
      const left = deadline - monotonicMs();
      if (left < 0) return false;
      ms = Math.min(Math.ceil(left), INT_MAX);
    }
    setPollfd(pollfd, 0, fd, events);
    const r = poll(pollfd, 1, ms);
    if (r > 0) return true;
    if (r === 0 && ms === 0) return false;
    if (r < 0 && r !== -EINTR) raiseErrno(r);
    // 0: the wait ended; the loop decides whether the deadline really passed (or a huge one needs another round).
  }
}
