/** The selector over kqueue(2): the default on macOS and the BSDs; on Linux wherever libkqueue is installed. */
import { OSError, ValueError } from '../errors.js';
import {
  Kevent, Kqueue, KQ_EV_ADD, KQ_EV_DELETE, KQ_FILTER_READ, KQ_FILTER_WRITE,
} from '../select/index.js';
import { kqueueFdIsPollable } from '../select/kqueue.js';
import { BaseSelector, type SelectResult } from './base.js';
import { EVENT_READ, EVENT_WRITE, type SelectorKey } from './key.js';
import { kqueueSelectorWaitMs, timeoutSeconds } from './timeout.js';

/** EBADF: the fd was closed before its filter was deleted; ENOENT: closed and the number reused. */
function isGone(err: unknown): boolean {
  return err instanceof OSError && (err.code === 'EBADF' || err.code === 'ENOENT');
}

/**
 * Waits with `kevent()`, CPython's rules: one kevent per filter (a READ|WRITE registration is two), so a
 * select may report the same key twice, once per direction. A `modify` that swaps READ for WRITE adds the new
 * filter and deletes the old one; if the kernel refuses, what this call added is deleted again before the
 * error is raised. `close()` closes the kqueue fd; afterwards `register()`, `select()` and `fileno()` raise
 * ValueError("I/O operation on closed kqueue object"). Under libkqueue (Linux), unregister before closing
 * an fd: libkqueue cannot notice a close (its upstream BUGS.md).
 *
 * @python selectors.KqueueSelector
 */
export class KqueueSelector<T = unknown> extends BaseSelector<T> {
  readonly #kq: Kqueue;
  /** Registered filters: the most events one kevent() can report. */
  #filters = 0;

  constructor() {
    super();
    this.#kq = new Kqueue();
  }

  /**
   * The kqueue fd.
   *
   * @python selectors.KqueueSelector.fileno
   */
  fileno(): number {
    return this.#kq.fileno();
  }

  /** @python selectors.BaseSelector.select */
  select(timeout?: number | null): SelectResult<T> {
    const s = timeoutSeconds(timeout);
    // kevent() with room for 0 events ignores the timeout: ask for at least one (CPython bpo-29255).
    const kq = this.#kq;
    const n = kq.wait(s === null ? null : Math.max(s, 0), Math.max(this.#filters, 1));
    const ready: SelectResult<T> = [];
    for (let i = 0; i < n; i++) {
      const key = this.keyForFd(kq.readyIdent(i));
      if (key === undefined) continue;
      const filter = kq.readyFilter(i);
      const bits = filter === KQ_FILTER_READ ? EVENT_READ : filter === KQ_FILTER_WRITE ? EVENT_WRITE : 0;
      ready.push([key, bits & key.events]);
    }
    return ready;
  }

  /** @python selectors.BaseSelector.close */
  override close(): void {
    this.releaseLoop();
    this.#kq.close();
    super.close();
  }

  protected override addInterest(key: SelectorKey<T>): void {
    this.#add(key.fd, key.events);
  }

  protected override removeInterest(key: SelectorKey<T>): void {
    this.#delete(key.fd, key.events);
  }

  protected override changeInterest(key: SelectorKey<T>, events: number): void {
    const added = events & ~key.events;
    const removed = key.events & ~events;
    this.#add(key.fd, added);
    try {
      for (const [bit, filter] of FILTERS) {
        if (removed & bit) {
          this.#kq.control([new Kevent(key.fd, filter, KQ_EV_DELETE)], 0, 0);
          this.#filters--;
        }
      }
    } catch (err) {
      this.#delete(key.fd, added);
      throw err;
    }
  }

  /** Adds one filter per bit; if one is refused, deletes the ones this call added and rethrows. */
  #add(fd: number, events: number): void {
    let done = 0;
    try {
      for (const [bit, filter] of FILTERS) {
        if (events & bit) {
          this.#kq.control([new Kevent(fd, filter, KQ_EV_ADD)], 0, 0);
          this.#filters++;
          done |= bit;
        }
      }
    } catch (err) {
      this.#delete(fd, done);
      throw err;
    }
  }

  /** Deletes one filter per bit; an fd closed meanwhile (EBADF, ENOENT) is already forgotten by the kernel. */
  #delete(fd: number, events: number): void {
    for (const [bit, filter] of FILTERS) {
      if (events & bit) {
        this.#filters--;
        try {
          this.#kq.control([new Kevent(fd, filter, KQ_EV_DELETE)], 0, 0);
        } catch (err) {
          if (!isGone(err)) throw err;
        }
      }
    }
  }

  /**
   * The event loop watches the kqueue fd itself where the kernel provides kqueue; under libkqueue that fd
   * never becomes readable, so the private interest mirror is watched instead.
   */
  protected override loopFd(): number | null {
    return kqueueFdIsPollable() ? this.#kq.fileno() : null;
  }

  protected override waitMs(timeout: unknown): number | null {
    return kqueueSelectorWaitMs(timeout);
  }

  protected override closedError(): Error {
    return new ValueError('I/O operation on closed kqueue object');
  }
}

const FILTERS: ReadonlyArray<readonly [number, number]> = [[EVENT_READ, KQ_FILTER_READ], [EVENT_WRITE, KQ_FILTER_WRITE]];
