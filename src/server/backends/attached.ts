/**
 * `--driver loop`: the selectors backend without a loop of its own. The selector is attached to Node's
 * event loop, which dispatches each ready key to its callback (`key.data(key.fileobj, mask)`, as in the
 * blocking loop); the thread never blocks, so shutdown is a plain signal handler and the timers (--timeout,
 * --idle-timeout, the accept backoff) are a plain Node interval.
 */
import type { SelectorKey } from '../../selectors/index.js';
import type { Backend, EchoCore } from '../core/echo-core.js';
import type { SelectorName } from '../options.js';
import { openSelector, selectorInterest, type Callback } from './selectors.js';

/** How often the timers are checked. */
const TIMER_TICK_MS = 50;

export function attachedSelectorsBackend(core: EchoCore, selectorName: SelectorName, name: string): Backend {
  const selector = openSelector(core, selectorName);
  let events = 0;
  let turnQueued = false;
  // What the blocking loop does around each wait: the reads that wait for their turn, count the events
  // (for --timeout), run the timers, log "waiting for the next event" and write the collected lines. Run
  // once after each batch libuv dispatches (an immediate runs right after the poll phase), again on the
  // next loop turns while reads or sends still wait their turn (libuv then polls without blocking), and on a timer.
  const turn = (): void => {
    turnQueued = false;
    // The reads are not shared out per batch here (libuv dispatches the ready keys): full-size reads.
    core.afterWait(events, 1);
    events = 0;
    core.beforeWait();
    if (core.waitingTurns > 0) queueTurn();
  };
  const queueTurn = (): void => {
    if (turnQueued) return;
    turnQueued = true;
    setImmediate(turn);
  };

  return {
    ...selectorInterest(core, selector, name, ", attached to Node's event loop"),
    async run() {
      selector.attach((key: SelectorKey<Callback>, mask: number) => {
        events++;
        queueTurn();
        key.data(key.fileobj, mask);
      });
      const timers = setInterval(turn, Math.min(TIMER_TICK_MS, (core.options.timeout ?? 1) * 1000));
      core.beforeWait();
      try {
        await core.stopped;
      } finally {
        clearInterval(timers);
        selector.detach();
      }
    },
    close() {
      selector.close();
    },
  };
}
