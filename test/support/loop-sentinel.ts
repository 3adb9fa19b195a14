/**
 * "Nothing else happened" on Node's event loop, without a sleep: a watched pipe made readable after everything
 * a test did. Once its callback has run, and the turn after it, the loop has polled again and dispatched all
 * that was ready, so any event still owed to the test's fds (level-triggered, as iomux's watches and attached
 * selectors are) would have been delivered.
 */
import { EVENT_READ, watch, type Watcher } from 'iomux/loop';
import * as os from 'iomux/os';
import { drain, type Fds } from './fds.js';
import { nextTurn } from './timing.js';

export class LoopSentinel {
  readonly #w: number;
  readonly #watcher: Watcher;
  #fired: (() => void) | undefined;

  /**
   * Opens the sentinel's pipe and watch now, owned by `fds`: a test that closes a watched fd makes the sentinel
   * first, so that its pipe does not take over the closed fd's number.
   */
  constructor(fds: Fds) {
    const [r, w] = fds.pipe();
    os.setBlocking(r, false);
    this.#w = w;
    this.#watcher = fds.own(
      watch(r, EVENT_READ, () => {
        drain(r);
        this.#watcher.modify(0);
        this.#fired?.();
      }).modify(0),
    );
  }

  /** Resolves once the loop has polled again after this call and finished that turn's callbacks. */
  async polled(): Promise<void> {
    const fired = new Promise<void>((resolve) => (this.#fired = resolve));
    os.write(this.#w, 's');
    this.#watcher.modify(EVENT_READ);
    await fired;
    await nextTurn();
  }

  /** Stops the watch now (its pipe stays with `fds`), for a test that then counts the loop's handles. */
  close(): void {
    this.#watcher.close();
  }
}
