/**
 * The seeds' select() server: an `inputs` list (the listener and the connections being read) and an
 * `outputs` list (connections with queued output), handed to select() on every turn, `inputs` doubling as
 * the exceptional list. select() returns the very objects it was given, so the lists hold Connection
 * objects (they have `fileno()`), and fds at or above FD_SETSIZE are refused by the core.
 */
import { FD_SETSIZE, select } from '../../select/index.js';
import type { Socket } from '../../socket/index.js';
import { READ, URGENT, WRITE, type WaitingBackend } from '../core/backend.js';
import type { Connection } from '../core/connection.js';
import type { EchoCore } from '../core/echo-core.js';

type Watched = Socket | Connection;

export function selectBackend(core: EchoCore): WaitingBackend {
  const listener = core.listener;
  const inputs: Watched[] = [listener];
  const outputs: Connection[] = [];
  // The last select()'s three lists, read as one: readable, then writable, then exceptional.
  let readable: Watched[] = [];
  let writable: Watched[] = [];
  let exceptional: Watched[] = [];

  return {
    name: 'select',
    driver: 'blocking',
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
    wait(timeout) {
      [readable, writable, exceptional] = select(inputs, outputs, inputs, timeout);
      return readable.length + writable.length + exceptional.length;
    },
    fd(i) {
      if (i < readable.length) return readable[i]!.fileno();
      i -= readable.length;
      return i < writable.length ? writable[i]!.fileno() : exceptional[i - writable.length]!.fileno();
    },
    events(i) {
      if (i < readable.length) return READ;
      return i < readable.length + writable.length ? WRITE : URGENT;
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
