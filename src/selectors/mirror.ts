/**
 * The wake-up source of an attached SelectSelector or PollSelector, which have no kernel object to watch: a
 * private kernel set (epoll on Linux) that mirrors their registrations, readable when one of their fds may
 * be ready. It only says *when* to look; what is ready always comes from the selector's own
 * select(2)/poll(2) with a zero timeout, so results keep those primitives' semantics.
 */
import { OSError } from '../errors.js';
/**
 * A kernel readiness set the mirror drives: the same kind as the thread's own ready set
 * (src/loop/ready-set.ts, epoll here, kqueue where epoll does not exist), which satisfies this interface.
 * Failures are OSErrors with the errno the kernel gave: EPERM (a file it cannot poll) or EBADF (a closed
 * fd) from `add`; ENOENT (the fd left the set when it was closed) or EBADF from `modify` and `remove`.
 */
export interface MirrorPoller {
  /** The fd to watch: readable when a member may be ready. */
  fileno(): number;
  /** Starts following `fd` for `events` (EVENT_READ and/or EVENT_WRITE). */
  add(fd: number, events: number): void;
  modify(fd: number, events: number): void;
  remove(fd: number): void;
  close(): void;
}

/** Whether `err` is an OSError whose errno is one of `codes` ('EBADF', …). */
function hasErrno(err: unknown, ...codes: string[]): boolean {
  return err instanceof OSError && err.code !== undefined && codes.includes(err.code);
}

export class InterestMirror {
  readonly #poller: MirrorPoller;
  /**
   * Registered fds the kernel set refuses: regular files (poll and select call them always ready) and fds
   * that were already closed (POLLNVAL, or EBADF from select). The selector is polled on every loop
   * iteration while there are any, as its blocking select() would return at once.
   */
  readonly #unwatchable = new Set<number>();

  constructor(poller: MirrorPoller) {
    this.#poller = poller;
  }

  /** The fd to watch. */
  fileno(): number {
    return this.#poller.fileno();
  }

  get hasUnwatchable(): boolean {
    return this.#unwatchable.size !== 0;
  }

  add(fd: number, events: number): void {
    try {
      this.#poller.add(fd, events);
    } catch (err) {
      if (!hasErrno(err, 'EPERM', 'EBADF')) throw err;
      this.#unwatchable.add(fd);
    }
  }

  modify(fd: number, events: number): void {
    if (this.#unwatchable.has(fd)) return;
    try {
      this.#poller.modify(fd, events);
    } catch (err) {
      // ENOENT: the fd was closed (the kernel dropped it) and the number reused; EBADF: closed.
      if (!hasErrno(err, 'ENOENT', 'EBADF')) throw err;
      this.add(fd, events);
    }
  }

  remove(fd: number): void {
    if (this.#unwatchable.delete(fd)) return;
    try {
      this.#poller.remove(fd);
    } catch (err) {
      // Closed before being unregistered (EBADF), or closed and the number reused (ENOENT): the kernel
      // forgot it already.
      if (!hasErrno(err, 'ENOENT', 'EBADF')) throw err;
    }
  }

  close(): void {
    this.#unwatchable.clear();
    this.#poller.close();
  }
}
