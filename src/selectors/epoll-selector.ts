/** The selector over epoll(7): the default on Linux. */
import { InterruptedError, ValueError } from '../errors.js';
import { Epoll, EPOLLIN, EPOLLOUT } from '../select/index.js';
import type { ReadyVisitor } from './selector-loop.js';
import type { SelectResult } from './base.js';
import type { SelectorKey } from './key.js';
import { PollLikeSelector, type PollLikeOptions } from './poll-like.js';
import { epollSelectorWaitMs, secondsForWholeMs, timeoutMs } from './timeout.js';

/**
 * Waits with `epoll_wait()`: the kernel keeps the interest list, so a wait costs what the ready fds cost.
 * The kernel refuses regular files (PermissionError) and closed fds (OSError EBADF) at `register`, which
 * then leaves nothing registered. `close()` closes the epoll fd; afterwards `register()`, `select()` and
 * `fileno()` raise ValueError("I/O operation on closed epoll object").
 *
 * @python selectors.EpollSelector
 */
export class EpollSelector<T = unknown> extends PollLikeSelector<T, Epoll> {
  /** The attached dispatch's batch: the key of each ready fd when the wait returned, and its events. */
  #batchKeys: Array<SelectorKey<T> | undefined> = new Array<SelectorKey<T> | undefined>(64).fill(undefined);
  #batchEvents = new Int32Array(64);

  constructor(options: PollLikeOptions<Epoll> = {}) {
    super(options.pollerClass ?? Epoll, EPOLLIN, EPOLLOUT);
  }

  /**
   * The epoll fd (readable when `select(0)` would report something).
   *
   * @python selectors.EpollSelector.fileno
   */
  fileno(): number {
    return this.poller.fileno();
  }

  /**
   * One `epoll_wait` for up to one event per registered fd, read from the poller's buffer: apart from the
   * result array and its `[key, events]` entries nothing is allocated.
   *
   * @python selectors.BaseSelector.select
   */
  select(timeout?: number | null): SelectResult<T> {
    const ms = timeoutMs(timeout);
    const epoll = this.poller;
    let count: number;
    try {
      // epoll_wait refuses maxevents 0, so an empty selector still asks for one (CPython issue #23009).
      count = epoll.wait(ms === null ? null : secondsForWholeMs(ms), Math.max(this.keyCount, 1));
    } catch (err) {
      if (err instanceof InterruptedError) return [];
      throw err;
    }
    return this.readyKeys(count);
  }

  /** @python selectors.BaseSelector.close */
  override close(): void {
    // The event loop's poll handle on the epoll fd goes first: libuv borrows the fd until it is stopped.
    this.releaseLoop();
    try {
      this.poller.close(); // raises when the epoll fd was closed behind the selector's back
    } finally {
      super.close();
    }
  }

  /** Attached or waiting asynchronously, the event loop watches the epoll fd itself: one poll handle. */
  protected override loopFd(): number | null {
    return this.poller.fileno();
  }

  /**
   * The attached dispatch: one `epoll_wait(0)`, the batch copied out of the poller's buffer (a handler may
   * call `select()`, which reuses that buffer) into arrays kept between batches — each ready fd as the key
   * registered for it right then — and each entry visited with the key its registration has at that moment:
   * skipped once unregistered, even if the fd number was registered again since (a new file may have the
   * number; the event was the old one's). Nothing is allocated per event.
   */
  protected override forEachReady(visit: ReadyVisitor<T>): void {
    const epoll = this.poller;
    let count: number;
    try {
      count = epoll.wait(0, Math.max(this.keyCount, 1));
    } catch (err) {
      if (err instanceof InterruptedError) return;
      throw err;
    }
    if (count > this.#batchKeys.length) {
      const size = Math.max(count, this.#batchKeys.length * 2);
      this.#batchKeys = new Array<SelectorKey<T> | undefined>(size).fill(undefined);
      this.#batchEvents = new Int32Array(size);
    }
    const keys = this.#batchKeys;
    const events = this.#batchEvents;
    for (let i = 0; i < count; i++) {
      keys[i] = this.keyForFd(epoll.readyFd(i));
      events[i] = this.selectorEvents(epoll.readyEvents(i));
    }
    let i = 0;
    try {
      for (; i < count; i++) {
        const then = keys[i];
        keys[i] = undefined; // the batch must not keep closed sockets alive
        if (then === undefined) continue;
        const key = this.currentKeyOf(then);
        if (key === undefined) continue;
        const ready = events[i]! & key.events;
        if (ready !== 0 && !visit(key, ready)) break;
      }
    } finally {
      keys.fill(undefined, i, count);
    }
  }

  protected override closedError(): Error {
    return new ValueError('I/O operation on closed epoll object');
  }

  /** The async waits' timeout: this selector's `select()` conversion (selectors/timeout.ts). */
  protected override waitMs(timeout: unknown): number | null {
    return epollSelectorWaitMs(timeout);
  }
}
