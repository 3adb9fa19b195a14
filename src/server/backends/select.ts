/**
 * The seeds' select() server: an `inputs` list (the listener and the connections being read) and an
 * `outputs` list (connections with queued output), handed to select() on every turn, `inputs` doubling as
 * the exceptional list. select() returns the very objects it was given, so the lists hold Connection
 * objects (they have `fileno()`), and fds at or above FD_SETSIZE are refused by the core.
 */
import { FD_SETSIZE, select } from '../../select/index.js';
import type { Socket } from '../../socket/index.js';
import { Connection, READ, WRITE } from '../core/connection.js';
import type { Backend, EchoCore } from '../core/echo-core.js';

export function selectBackend(core: EchoCore): Backend {
  const listener = core.listener;
  const inputs: Array<Socket | Connection> = [listener];
  const outputs: Connection[] = [];

  return {
    name: 'select',
    fdLimit: FD_SETSIZE,
    watch(conn, events) {
      const changed = conn.watched ^ events; // only touch the list whose membership changes
      if (changed & READ) place(inputs, conn, (events & READ) !== 0);
      if (changed & WRITE) place(outputs, conn, (events & WRITE) !== 0);
    },
    forget(conn) {
      place(inputs, conn, false);
      place(outputs, conn, false);
    },
    setAccepting(accepting) {
      place(inputs, listener, accepting);
    },
    async run() {
      while (core.running) {
        core.beforeWait();
        const [readable, writable, exceptional] = select(inputs, outputs, inputs, core.waitTimeout());
        const events = readable.length + writable.length + exceptional.length;
        core.afterWait(events);
        for (const s of readable) {
          if (s instanceof Connection) core.onReadable(s);
          else core.acceptAll();
        }
        for (const s of writable) core.onWritable(s);
        for (const s of exceptional) if (s instanceof Connection) core.onException(s);
        if (core.yieldDue(events)) await core.yieldToNode();
      }
    },
    close() {
      inputs.length = 0;
      outputs.length = 0;
    },
  };
}

/** Adds `item` to `list` or removes it, as the seeds do with `append` and `remove`. */
function place<T>(list: T[], item: T, present: boolean): void {
  const i = list.indexOf(item);
  if (present && i < 0) list.push(item);
  else if (!present && i >= 0) list.splice(i, 1);
}
