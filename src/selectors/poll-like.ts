/** What PollSelector and EpollSelector share (CPython's `_PollLikeSelector`). */
import { OSError } from '../errors.js';
import { BaseSelector, type SelectResult } from './base.js';
import { EVENT_READ, EVENT_WRITE, type SelectorKey } from './key.js';

/** The part of `Poll` and `Epoll` a poll-like selector drives. */
export interface Poller {
  /** Adds `fd` with `eventmask`, as `Poll.register` / `Epoll.register`. */
  register(fd: number, eventmask: number): void;
  /** Changes the mask of a registered fd. */
  modify(fd: number, eventmask: number): void;
  /** Removes `fd`. */
  unregister(fd: number): void;
  /** The fd and the events of entry `i` of the last wait. */
  readyFd(i: number): number;
  /** The events of entry `i` of the last wait. */
  readyEvents(i: number): number;
}

/** Options of `PollSelector` and `EpollSelector`. */
export interface PollLikeOptions<P> {
  /**
   * The poller class to instantiate (default: `Poll` or `Epoll`). A subclass can observe or fail calls,
   * as CPython's tests do by replacing `_selector_cls`.
   */
  pollerClass?: new () => P;
}

/**
 * A selector over a poller that keeps the interest list (poll's array, epoll's kernel set): interest
 * changes go to the poller, and readiness bits are translated back to EVENT_READ/EVENT_WRITE.
 */
export abstract class PollLikeSelector<T, P extends Poller> extends BaseSelector<T> {
  /** The underlying poll or epoll object. */
  protected readonly poller: P;
  readonly #inBit: number;
  readonly #outBit: number;

  constructor(pollerClass: new () => P, inBit: number, outBit: number) {
    super();
    this.poller = new pollerClass();
    this.#inBit = inBit;
    this.#outBit = outBit;
  }

  protected override addInterest(key: SelectorKey<T>): void {
    this.poller.register(key.fd, this.#pollerMask(key.events));
  }

  protected override removeInterest(key: SelectorKey<T>): void {
    try {
      this.poller.unregister(key.fd);
    } catch (err) {
      // EBADF: closed without unregistering first; ENOENT: closed and the number reused. Either way the
      // kernel already forgot the old file. Anything else is a real failure.
      if (!(err instanceof OSError && (err.code === 'EBADF' || err.code === 'ENOENT'))) throw err;
    }
  }

  protected override changeInterest(key: SelectorKey<T>, events: number): void {
    this.poller.modify(key.fd, this.#pollerMask(events));
  }

  /**
   * `select()`'s result from the poller's last wait of `count` entries: `[key, events]` for each fd still
   * registered whose events (translated) meet its key's. Nothing else is allocated.
   */
  protected readyKeys(count: number): SelectResult<T> {
    const poller = this.poller;
    const ready: SelectResult<T> = [];
    for (let i = 0; i < count; i++) {
      const key = this.keyForFd(poller.readyFd(i));
      if (key === undefined) continue;
      const events = this.selectorEvents(poller.readyEvents(i)) & key.events;
      if (events !== 0) ready.push([key, events]);
    }
    return ready;
  }

  /**
   * Poller readiness → EVENT_READ/EVENT_WRITE. Anything besides IN/OUT (ERR, HUP, NVAL, PRI, RDHUP) counts
   * as both, so a failed or hung-up fd wakes whichever direction its owner waits for.
   */
  protected selectorEvents(ready: number): number {
    let events = 0;
    if (ready & ~this.#inBit) events |= EVENT_WRITE;
    if (ready & ~this.#outBit) events |= EVENT_READ;
    return events;
  }

  #pollerMask(events: number): number {
    let mask = 0;
    if (events & EVENT_READ) mask |= this.#inBit;
    if (events & EVENT_WRITE) mask |= this.#outBit;
    return mask;
  }
}
