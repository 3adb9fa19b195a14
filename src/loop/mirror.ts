/**
 * The wake-up source of an attached SelectSelector or PollSelector, which have no kernel object to watch: a
 * private epoll set that mirrors their registrations, readable when one of their fds may be ready. It only
 * says *when* to look; what is ready always comes from the selector's own select(2)/poll(2) with a zero
 * timeout, so results keep those primitives' semantics.
 */
import { OSError } from '../errors.js';
import { Epoll, EPOLLIN, EPOLLOUT } from '../select/index.js';
import { EVENT_READ, EVENT_WRITE } from '../selectors/key.js';
import * as sys from '../sys/index.js';

function epollMask(events: number): number {
  return (events & EVENT_READ ? EPOLLIN : 0) | (events & EVENT_WRITE ? EPOLLOUT : 0);
}

export class InterestMirror {
  readonly #epoll = new Epoll();
  /**
   * Registered fds epoll refuses: regular files (poll and select call them always ready) and fds that were
   * already closed (POLLNVAL, or EBADF from select). The selector is polled on every loop iteration while
   * there are any, as its blocking select() would return at once.
   */
  readonly #unwatchable = new Set<number>();

  /** The epoll fd to watch. */
  fileno(): number {
    return this.#epoll.fileno();
  }

  get hasUnwatchable(): boolean {
    return this.#unwatchable.size !== 0;
  }

  add(fd: number, events: number): void {
    try {
      this.#epoll.register(fd, epollMask(events));
    } catch (err) {
      if (!isRefusal(err)) throw err;
      this.#unwatchable.add(fd);
    }
  }

  modify(fd: number, events: number): void {
    if (this.#unwatchable.has(fd)) return;
    try {
      this.#epoll.modify(fd, epollMask(events));
    } catch (err) {
      // ENOENT: the fd was closed (the kernel dropped it) and the number reused; EBADF: closed.
      if (!(err instanceof OSError)) throw err;
      this.add(fd, events);
    }
  }

  remove(fd: number): void {
    if (this.#unwatchable.delete(fd)) return;
    try {
      this.#epoll.unregister(fd);
    } catch (err) {
      // Closed before being unregistered: the kernel forgot it already.
      if (!(err instanceof OSError)) throw err;
    }
  }

  close(): void {
    this.#unwatchable.clear();
    this.#epoll.close();
  }
}

function isRefusal(err: unknown): boolean {
  return err instanceof OSError && (err.errno === sys.ERRNO.EPERM || err.errno === sys.ERRNO.EBADF);
}
