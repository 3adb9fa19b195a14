/**
 * `iomux/loop`: readiness from Node's own event loop, without blocking the thread. `watch()` is the
 * primitive (one fd, one callback); selectors get `attach()`, `selectAsync()` and `events()` on top of it.
 *
 * @module iomux/loop
 */
export { watch, Watcher, loopStats, type WatchCallback, type LoopStats } from './watch.js';
export { EVENT_READ, EVENT_WRITE } from '../events.js';
export {
  sockRecv, sockRecvInto, sockRecvfrom, sockRecvmsg, sockSendall, sockSendto, sockSendmsg, sockAccept, sockConnect,
  type SockOpOptions, type SockRecvmsgOptions,
} from './sock-ops.js';
