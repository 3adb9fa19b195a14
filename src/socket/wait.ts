/** Waiting for one socket to become ready, as CPython's sock_call does in timeout mode: poll(2) against a monotonic deadline. */
import { raiseErrno } from '../errors.js';
import { INT_MAX } from '../sys/index.js';
import { allocPollfds, poll, setPollfd } from '../sys/multiplex.js';
import { monotonicMs, retryInterrupted } from '../timeout.js';

const pollfd = allocPollfds(1);

/**
 * Waits until `fd` reports one of `events` (or an error/hangup), or until `deadline` (monotonic ms;
 * Infinity waits for ever). True when ready, false when the deadline passed. EINTR resumes the wait with the
 * time left (retryInterrupted); any other poll failure raises.
 */
export function waitForFd(fd: number, events: number, deadline: number): boolean {
  for (;;) {
    let ms = -1;
    if (deadline !== Infinity) {
      const left = deadline - monotonicMs();
      if (left < 0) return false;
      ms = Math.min(Math.ceil(left), INT_MAX);
    }
    const r = retryInterrupted(pollOne, fd, events, undefined, ms);
    if (r > 0) return true;
    if (r < 0) raiseErrno(r);
    if (ms === 0) return false;
    // 0 after a wait: the loop decides whether the deadline really passed (or a huge one needs another round).
  }
}

/** poll(2) on one fd, in the argument order `retryInterrupted` passes. */
function pollOne(fd: number, events: number, _: undefined, ms: number): number {
  setPollfd(pollfd, 0, fd, events);
  return poll(pollfd, 1, ms);
}
