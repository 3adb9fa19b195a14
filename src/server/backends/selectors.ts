/**
 * The selectors server of the Python docs and the seeds: the listener and every connection registered on
 * one selector (the Connection itself is the file object: it has `fileno()`), and `select()`'s ready keys
 * read as (fd, events) — the selectors' EVENT_READ/EVENT_WRITE are the core's READ/WRITE. Runs on any
 * selector class; SelectSelector brings select()'s fd limit. Blocking, or attached to Node's event loop
 * (attached.ts).
 */
import { FD_SETSIZE } from '../../select/index.js';
import {
  DefaultSelector, EpollSelector, EVENT_READ, PollSelector, SelectSelector, type BaseSelector, type SelectorKey,
} from '../../selectors/index.js';
import type { Interest, WaitingBackend } from '../core/backend.js';
import type { EchoCore } from '../core/echo-core.js';
import type { SelectorName } from '../options.js';

const CLASSES: Record<SelectorName, new () => BaseSelector> = {
  default: DefaultSelector,
  select: SelectSelector,
  poll: PollSelector,
  epoll: EpollSelector,
};

/** The selector with the listener registered, shared by both drivers. */
export function openSelector(core: EchoCore, selectorName: SelectorName): BaseSelector {
  const selector = new CLASSES[selectorName]();
  selector.register(core.listener, EVENT_READ);
  return selector;
}

/** The interest side, shared by the blocking loop and the Node-loop driver. */
export function selectorInterest(core: EchoCore, selector: BaseSelector, name: string, note = ''): Omit<Interest, 'close'> {
  return {
    name: `${name} (${selector.constructor.name}${note})`,
    fdLimit: selector instanceof SelectSelector ? FD_SETSIZE : Number.POSITIVE_INFINITY,
    watch(conn, events) {
      if (conn.watched === 0) selector.register(conn, events);
      else selector.modify(conn, events);
    },
    forget(conn) {
      // A failed `modify` has already dropped the key (as CPython's selectors do): nothing left to remove.
      if (selector.getMap()?.has(conn) === true) selector.unregister(conn);
    },
    setAccepting(accepting) {
      if (accepting) selector.register(core.listener, EVENT_READ);
      else selector.unregister(core.listener);
    },
  };
}

export function selectorsBackend(core: EchoCore, selectorName: SelectorName, name: string): WaitingBackend {
  const selector = openSelector(core, selectorName);
  let ready: Array<[SelectorKey, number]> = [];
  return {
    ...selectorInterest(core, selector, name),
    driver: 'blocking',
    wait(timeout) {
      ready = selector.select(timeout);
      return ready.length;
    },
    fd(i) {
      return ready[i]![0].fd;
    },
    events(i) {
      return ready[i]![1];
    },
    close() {
      selector.close();
    },
  };
}
