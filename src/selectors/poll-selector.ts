/** The selector over poll(2). */
import { InterruptedError } from '../errors.js';
import { Poll, POLLIN, POLLOUT } from '../select/index.js';
import type { SelectResult } from './base.js';
import { PollLikeSelector, type PollLikeOptions } from './poll-like.js';
import { pollSelectorWaitMs, timeoutMs } from './timeout.js';

/**
 * Waits with `poll()`: no fd limit, a cost per wait proportional to the number of registered fds.
 * Registering makes no syscall, so a closed fd registers and is then reported ready (POLLNVAL → READ)
 * until unregistered. Results come in registration order.
 *
 * @python selectors.PollSelector
 */
export class PollSelector<T = unknown> extends PollLikeSelector<T, Poll> {
  constructor(options: PollLikeOptions<Poll> = {}) {
    super(options.pollerClass ?? Poll, POLLIN, POLLOUT);
  }

  /**
   * One `poll()` over every registered fd, read with the poller's `wait()`/`readyFd()`/`readyEvents()`:
   * apart from the result array and its `[key, events]` entries nothing is allocated.
   *
   * @python selectors.BaseSelector.select
   */
  select(timeout?: number | null): SelectResult<T> {
    this.assertOpen();
    const ms = timeoutMs(timeout);
    const poller = this.poller;
    let count: number;
    try {
      count = poller.wait(ms);
    } catch (err) {
      if (err instanceof InterruptedError) return [];
      throw err;
    }
    return this.readyKeys(count);
  }

  /** The async waits' timeout: this selector's `select()` conversion (selectors/timeout.ts). */
  protected override waitMs(timeout: unknown): number | null {
    return pollSelectorWaitMs(timeout);
  }
}
