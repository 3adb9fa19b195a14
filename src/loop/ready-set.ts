/**
 * The kernel readiness set behind the thread's one libuv handle (thread-poller.ts): epoll on Linux, kqueue
 * where there is no epoll (macOS, FreeBSD). Events are reported as EVENT_READ/EVENT_WRITE plus READY_ERROR
 * and READY_HANGUP; nothing is allocated per event.
 */
import { OSError } from '../errors.js';
import { EVENT_READ, EVENT_WRITE } from '../events.js';
import {
  Epoll, EPOLLERR, EPOLLHUP, EPOLLIN, EPOLLOUT, Kevent, Kqueue, KQ_EV_ADD, KQ_EV_DELETE, KQ_EV_EOF, KQ_EV_ERROR,
  KQ_FILTER_READ, KQ_FILTER_WRITE,
} from '../select/index.js';
import * as sys from '../sys/index.js';

const { EEXIST, ENOENT, EPERM } = sys.ERRNO;

/** The fd is in an error state (epoll's EPOLLERR, kqueue's EV_ERROR). */
export const READY_ERROR = 4;
/** The peer hung up (epoll's EPOLLHUP, kqueue's EV_EOF). */
export const READY_HANGUP = 8;

/**
 * What the thread poller needs from the kernel. Failures are OSErrors with the kernel's errno: EPERM (a
 * file the set cannot watch) or EBADF from `add`; ENOENT (the fd left the set when it was closed) or EBADF
 * from `modify` and `remove`.
 */
export interface ReadySet {
  /** The fd libuv polls: readable when a member may be ready. */
  fileno(): number;
  add(fd: number, events: number): void;
  modify(fd: number, events: number): void;
  remove(fd: number): void;
  /** Collects what is ready without waiting; `readyFd(i)`/`readyEvents(i)` read it until the next call. */
  waitNow(maxEvents: number): number;
  readyFd(i: number): number;
  readyEvents(i: number): number;
  close(): void;
}

function hasCode(err: unknown, code: string): boolean {
  return err instanceof OSError && err.code === code;
}

/** A new set of the kind this system has: epoll where it exists, else kqueue. */
export function newReadySet(): ReadySet {
  try {
    return new EpollReadySet();
  } catch (err) {
    if (!hasCode(err, 'ENOSYS')) throw err;
    return new KqueueReadySet();
  }
}

export class EpollReadySet implements ReadySet {
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

  waitNow(maxEvents: number): number {
    return this.#epoll.wait(0, maxEvents);
  }

  readyFd(i: number): number {
    return this.#epoll.readyFd(i);
  }

  readyEvents(i: number): number {
    const ev = this.#epoll.readyEvents(i);
    return (ev & EPOLLIN ? EVENT_READ : 0) | (ev & EPOLLOUT ? EVENT_WRITE : 0)
      | (ev & EPOLLERR ? READY_ERROR : 0) | (ev & EPOLLHUP ? READY_HANGUP : 0);
  }

  close(): void {
    this.#epoll.close();
  }
}

function epollMask(events: number): number {
  return (events & EVENT_READ ? EPOLLIN : 0) | (events & EVENT_WRITE ? EPOLLOUT : 0);
}

/**
 * The set where there is no epoll: a private kqueue, one filter per direction (so a fd ready both ways is
 * reported as two entries). NOT RUN where it is meant for (macOS, FreeBSD); its logic is exercised on Linux
 * over libkqueue by test/loop-ready-set.test.ts.
 */
export class KqueueReadySet implements ReadySet {
  readonly #kq = new Kqueue();
  readonly #events = new Map<number, number>();

  fileno(): number {
    return this.#kq.fileno();
  }

  add(fd: number, events: number): void {
    if (this.#events.has(fd)) throw OSError.fromErrno(EEXIST!); // as epoll
    try {
      this.#change(fd, 0, events);
    } catch (err) {
      // A filter the kernel has not for this kind of file is the kqueue form of epoll's EPERM.
      if (hasCode(err, 'EINVAL')) throw OSError.fromErrno(EPERM!);
      throw err;
    }
    this.#events.set(fd, events);
  }

  modify(fd: number, events: number): void {
    const before = this.#events.get(fd);
    if (before === undefined) throw OSError.fromErrno(ENOENT!); // as epoll
    this.#change(fd, before, events);
    this.#events.set(fd, events);
  }

  remove(fd: number): void {
    const before = this.#events.get(fd);
    this.#events.delete(fd);
    if (before === undefined) throw OSError.fromErrno(ENOENT!);
    this.#change(fd, before, 0);
  }

  waitNow(maxEvents: number): number {
    return this.#kq.wait(0, Math.max(2 * maxEvents, 1));
  }

  readyFd(i: number): number {
    return this.#kq.readyIdent(i);
  }

  readyEvents(i: number): number {
    const filter = this.#kq.readyFilter(i);
    const flags = this.#kq.readyFlags(i);
    return (filter === KQ_FILTER_READ ? EVENT_READ : 0) | (filter === KQ_FILTER_WRITE ? EVENT_WRITE : 0)
      | (flags & KQ_EV_ERROR ? READY_ERROR : 0) | (flags & KQ_EV_EOF ? READY_HANGUP : 0);
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
