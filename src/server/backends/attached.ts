/**
 * `--driver loop`: the selectors backend without a wait of its own. The selector is attached to Node's
 * event loop, which reports each ready key (serve.ts dispatches it as the blocking loop does); the thread
 * never blocks, so shutdown is a plain signal handler and the timers a plain Node interval.
 */
import type { AttachedBackend } from '../core/backend.js';
import type { EchoCore } from '../core/echo-core.js';
import type { SelectorName } from '../options.js';
import { openSelector, selectorInterest } from './selectors.js';

export function attachedSelectorsBackend(core: EchoCore, selectorName: SelectorName, name: string): AttachedBackend {
  const selector = openSelector(core, selectorName);
  return {
    ...selectorInterest(core, selector, name, ", attached to Node's event loop"),
    driver: 'loop',
    attach(onReady) {
      selector.attach((key, mask) => onReady(key.fd, mask));
    },
    detach() {
      selector.detach();
    },
    close() {
      selector.close();
    },
  };
}
