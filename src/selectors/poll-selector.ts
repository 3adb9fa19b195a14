/** The selector over poll(2). */
import { InterruptedError } from '../errors.js';
import { Poll, POLLIN, POLLOUT } from '../select/index.js';
import type { SelectResult } from './base.js';
import { PollLikeSelector, type PollLikeOptions } from './poll-like.js';
import { timeoutMs } from './timeout.js';

/**
 * Waits with `poll()`: no fd limit, a cost per wait proportional to the number of registered fds.
 * Registering makes no syscall, so a closed fd registers and is then reported ready (POLLNVAL → READ)
 * until unregistered. Results come in registration order.
 */
export class PollSelector<T = unknown> extends PollLikeSelector<T, Poll> {
  constructor(options: PollLikeOptions<Poll> = {}) {
    super(options.pollerClass ?? Poll, POLLIN, POLLOUT);
  }

  select(timeout?: number | null): SelectResult<T> {
    this.assertOpen();
    const ms = timeoutMs(timeout);
    let polled: Array<[number, number]>;
    try {
      polled = this.poller.poll(ms);
    } catch (err) {
      if (err instanceof InterruptedError) return [];
      throw err;
    }
    const ready: SelectResult<T> = [];
    for (let i = 0; i < polled.length; i++) {
      const [fd, revents] = polled[i]!;
      const key = this.keyForFd(fd);
      if (key === undefined) continue;
      const events = this.selectorEvents(revents) & key.events;
      if (events !== 0) ready.push([key, events]);
    }
    return ready;
  }
}
