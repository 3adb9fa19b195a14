/** The selector over select(2): portable, but limited to fds below FD_SETSIZE (1024). */
import { InterruptedError } from '../errors.js';
import { select } from '../select/index.js';
import { BaseSelector, type SelectResult } from './base.js';
import { EVENT_READ, EVENT_WRITE, type SelectorKey } from './key.js';
import { timeoutSeconds } from './timeout.js';

/**
 * Waits with `select()`. Registering makes no syscall, so any fd registers — a closed one, or one at or
 * above 1024 — and `select()` then raises (OSError EBADF, or ValueError("filedescriptor out of range in
 * select()")). The timeout is used as given, without rounding to milliseconds.
 *
 * @python selectors.SelectSelector
 */
export class SelectSelector<T = unknown> extends BaseSelector<T> {
  readonly #readers = new Set<number>();
  readonly #writers = new Set<number>();

  /** @python selectors.BaseSelector.select */
  select(timeout?: number | null): SelectResult<T> {
    this.assertOpen();
    const seconds = timeoutSeconds(timeout);
    let readable: number[];
    let writable: number[];
    try {
      [readable, writable] = select(this.#readers, this.#writers, [], seconds === null ? null : Math.max(seconds, 0));
    } catch (err) {
      if (err instanceof InterruptedError) return [];
      throw err;
    }
    const bits = new Map<number, number>();
    for (const fd of readable) bits.set(fd, EVENT_READ);
    for (const fd of writable) bits.set(fd, (bits.get(fd) ?? 0) | EVENT_WRITE);
    const ready: SelectResult<T> = [];
    for (const [fd, events] of bits) {
      const key = this.keyForFd(fd);
      if (key !== undefined && (events & key.events) !== 0) ready.push([key, events & key.events]);
    }
    return ready;
  }

  /** @python selectors.BaseSelector.close */
  override close(): void {
    this.#readers.clear();
    this.#writers.clear();
    super.close();
  }

  protected override addInterest(key: SelectorKey<T>): void {
    this.#track(key.fd, key.events);
  }

  protected override removeInterest(key: SelectorKey<T>): void {
    this.#readers.delete(key.fd);
    this.#writers.delete(key.fd);
  }

  protected override changeInterest(key: SelectorKey<T>, events: number): void {
    this.removeInterest(key);
    this.#track(key.fd, events);
  }

  #track(fd: number, events: number): void {
    if (events & EVENT_READ) this.#readers.add(fd);
    if (events & EVENT_WRITE) this.#writers.add(fd);
  }
}
