/**
 * The wake-up source of an attached SelectSelector or PollSelector, which have no kernel object to watch: a
 * private kernel set (epoll on Linux) that mirrors their registrations, readable when one of their fds may
 * be ready. It only says *when* to look; what is ready always comes from the selector's own
 * select(2)/poll(2) with a zero timeout, so results keep those primitives' semantics.
 */
import { OSError } from '../errors.js';
import { EVENT_READ, EVENT_WRITE } from '../events.js';
import { Epoll, EPOLLIN, EPOLLOUT, Kevent, Kqueue, KQ_EV_ADD, KQ_EV_DELETE, KQ_FILTER_READ, KQ_FILTER_WRITE } from '../select/index.js';
import * as sys from '../sys/index.js';

const { ENOENT, EPERM } = sys.ERRNO;

/**
 * A kernel readiness set the mirror drives: epoll here; a kqueue-based one where epoll does not exist.
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

/** The Linux mirror poller: a private epoll set. */
export class EpollMirrorPoller implements MirrorPoller {
  readonly #epoll = new Epoll();

  fileno(): number {
    return this.#epoll.fileno();
  }

  add(fd: number, events: number): void {
    this.#epoll.register(fd, epollMask(events));
  }

  modify(fd: number, events: number): void {
    this.#epoll.modify(fd, epollMask(events));
  }

  remove(fd: number): void {
    this.#epoll.unregister(fd);
  }

  close(): void {
    this.#epoll.close();
  }
}

/**
 * The mirror where there is no epoll (macOS, FreeBSD): a private kqueue, one filter per direction. Its fd is
 * pollable there (a kernel kqueue). Not used on Linux, where epoll always exists. NOT RUN: written for
 * macOS/FreeBSD, where it has not been executed yet (docs/architecture.md, Platforms).
 */
export class KqueueMirrorPoller implements MirrorPoller {
  readonly #kq = new Kqueue();
  readonly #events = new Map<number, number>();

  fileno(): number {
    return this.#kq.fileno();
  }

  add(fd: number, events: number): void {
    try {
      this.#change(fd, 0, events);
    } catch (err) {
      // A filter the kernel has not for this kind of file (FreeBSD: EVFILT_WRITE on a regular file) is the
      // kqueue form of epoll's EPERM: a file the set cannot watch.
      if (hasErrno(err, 'EINVAL')) throw OSError.fromErrno(EPERM!);
      throw err;
    }
    this.#events.set(fd, events);
  }

  modify(fd: number, events: number): void {
    const before = this.#events.get(fd);
    if (before === undefined) throw OSError.fromErrno(ENOENT!);
    this.#change(fd, before, events);
    this.#events.set(fd, events);
  }

  remove(fd: number): void {
    const before = this.#events.get(fd);
    this.#events.delete(fd);
    if (before === undefined) throw OSError.fromErrno(ENOENT!);
    this.#change(fd, before, 0);
  }

  close(): void {
    this.#events.clear();
    this.#kq.close();
  }

  #change(fd: number, from: number, to: number): void {
    const changes: Kevent[] = [];
    for (const [bit, filter] of [[EVENT_READ, KQ_FILTER_READ], [EVENT_WRITE, KQ_FILTER_WRITE]] as const) {
      if ((to & bit) && !(from & bit)) changes.push(new Kevent(fd, filter, KQ_EV_ADD));
      if (!(to & bit) && (from & bit)) changes.push(new Kevent(fd, filter, KQ_EV_DELETE));
    }
    if (changes.length > 0) this.#kq.control(changes, 0, 0);
  }
}

/** The mirror poller this system supports: epoll where it exists (ENOSYS elsewhere), else kqueue. */
export function defaultMirrorPoller(): MirrorPoller {
  try {
    return new EpollMirrorPoller();
  } catch (err) {
    if (!hasErrno(err, 'ENOSYS')) throw err;
    return new KqueueMirrorPoller();
  }
}

function epollMask(events: number): number {
  return (events & EVENT_READ ? EPOLLIN : 0) | (events & EVENT_WRITE ? EPOLLOUT : 0);
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
