/**
 * The selectors server of the Python docs and the seeds: every registration carries its callback as the
 * key's data (`accept` for the listener, `serve` for a connection), and the loop only calls
 * `key.data(key.fileobj, mask)`. Runs on any selector class; SelectSelector brings select()'s fd limit.
 */
import type { FileLike } from '../../fileobj.js';
import { FD_SETSIZE } from '../../select/index.js';
import {
  DefaultSelector, EpollSelector, EVENT_READ, EVENT_WRITE, PollSelector, SelectSelector, type BaseSelector,
} from '../../selectors/index.js';
import type { Connection } from '../core/connection.js';
import type { Backend, EchoCore } from '../core/echo-core.js';
import type { SelectorName } from '../options.js';

/** What each key's data is: the seeds' `callback(fileobj, mask)`. */
export type Callback = (fileobj: FileLike, mask: number) => void;

const CLASSES: Record<SelectorName, new () => BaseSelector<Callback>> = {
  default: DefaultSelector,
  select: SelectSelector,
  poll: PollSelector,
  epoll: EpollSelector,
};

/** The selector with the listener registered (its callback accepts), shared by both drivers. */
export function openSelector(core: EchoCore, selectorName: SelectorName): BaseSelector<Callback> {
  const selector = new CLASSES[selectorName]();
  selector.register(core.listener, EVENT_READ, accept(core));
  return selector;
}

function accept(core: EchoCore): Callback {
  return () => core.acceptAll();
}

/**
 * The callback of every connection (the core's READ/WRITE bits are the selectors' EVENT_READ/EVENT_WRITE).
 * The Connection itself is the registered file object (it has `fileno()`), so one callback serves them all
 * and an idle connection costs no closure of its own.
 */
function serve(core: EchoCore): Callback {
  return (fileobj, mask) => {
    const conn = fileobj as Connection;
    if (mask & EVENT_READ) core.onReadable(conn);
    if (mask & EVENT_WRITE) core.onWritable(conn);
  };
}

/** The interest side, shared by the blocking loop and the Node-loop driver. */
export function selectorInterest(
  core: EchoCore, selector: BaseSelector<Callback>, name: string, note = '',
): Omit<Backend, 'run' | 'close'> {
  const callback = serve(core);
  return {
    name: `${name} (${selector.constructor.name}${note})`,
    fdLimit: selector instanceof SelectSelector ? FD_SETSIZE : Number.POSITIVE_INFINITY,
    watch(conn, events) {
      if (conn.watched === 0) selector.register(conn, events, callback);
      else selector.modify(conn, events, callback);
    },
    forget(conn) {
      // A failed `modify` has already dropped the key (as CPython's selectors do): nothing left to remove.
      if (selector.getMap()?.has(conn) === true) selector.unregister(conn);
    },
    setAccepting(accepting) {
      if (accepting) selector.register(core.listener, EVENT_READ, accept(core));
      else selector.unregister(core.listener);
    },
  };
}

export function selectorsBackend(core: EchoCore, selectorName: SelectorName, name: string): Backend {
  const selector = openSelector(core, selectorName);
  return {
    ...selectorInterest(core, selector, name),
    async run() {
      while (core.running) {
        core.beforeWait();
        const ready = selector.select(core.waitTimeout());
        core.afterWait(ready.length);
        for (const [key, mask] of ready) key.data(key.fileobj, mask);
        if (core.yieldDue(ready.length)) await core.yieldToNode();
      }
    },
    close() {
      selector.close();
    },
  };
}
