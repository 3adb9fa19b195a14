/** The backend `--backend` and `--driver` name, made for a core. */
import type { Backend } from '../core/backend.js';
import type { EchoCore } from '../core/echo-core.js';
import { attachedSelectorsBackend } from './attached.js';
import { epollBackend } from './epoll.js';
import { kqueueBackend } from './kqueue.js';
import { pollBackend } from './poll.js';
import { selectBackend } from './select.js';
import { selectorsBackend } from './selectors.js';
import { uringBackend } from './uring.js';

export function createBackend(core: EchoCore): Backend {
  const { backend, selector, driver } = core.options;
  if (driver === 'loop') {
    if (backend === 'selectors') return attachedSelectorsBackend(core, selector, 'selectors');
    if (backend === 'default') return attachedSelectorsBackend(core, 'default', 'default');
    throw new Error(`--driver loop needs a selectors backend (got ${backend})`);
  }
  switch (backend) {
    case 'select':
      return selectBackend(core);
    case 'poll':
      return pollBackend(core);
    case 'epoll':
      return epollBackend(core);
    case 'kqueue':
      return kqueueBackend(core);
    case 'uring':
      return uringBackend(core);
    case 'selectors':
      return selectorsBackend(core, selector, 'selectors');
    case 'default':
      return selectorsBackend(core, 'default', 'default');
  }
}
