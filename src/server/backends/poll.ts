/**
 * The seeds' poll() server: poll objects know fds, so the core's fd → connection map finds the connection
 * of each ready fd (read with the allocation-free `wait()`/`readyFd()`/`readyEvents()`), and a
 * connection's interest is switched between the seeds' masks with `modify`. WRITE_ONLY is ours: reading
 * paused (backpressure, or the client finished sending) while output is still queued.
 */
import { poll, POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT } from '../../select/index.js';
import { READ, WRITE, type WaitingBackend } from '../core/backend.js';
import type { EchoCore } from '../core/echo-core.js';

// POLLPRI, which the seeds add, is left out: TCP urgent data would keep it raised while recv() has nothing
// in-band to read, and the loop would spin. POLLHUP and POLLERR are reported whether asked for or not.
const READ_ONLY = POLLIN | POLLHUP | POLLERR;
const READ_WRITE = READ_ONLY | POLLOUT;
const WRITE_ONLY = POLLOUT | POLLHUP | POLLERR;
/** Indexed by the core's READ | WRITE bits. */
const MASKS = [0, READ_ONLY, WRITE_ONLY, READ_WRITE] as const;

export function pollBackend(core: EchoCore): WaitingBackend {
  const poller = poll();
  const listenFd = core.listener.fileno();
  poller.register(listenFd, READ_ONLY);

  return {
    name: 'poll',
    driver: 'blocking',
    fdLimit: Number.POSITIVE_INFINITY,
    watch(conn, events) {
      if (conn.watched === 0) poller.register(conn.fd, MASKS[events]!);
      else poller.modify(conn.fd, MASKS[events]!);
    },
    forget(conn) {
      poller.unregister(conn.fd);
    },
    setAccepting(accepting) {
      if (accepting) poller.register(listenFd, READ_ONLY);
      else poller.unregister(listenFd);
    },
    wait(timeout) {
      return poller.wait(timeout * 1000);
    },
    fd(i) {
      return poller.readyFd(i);
    },
    events(i) {
      const flag = poller.readyEvents(i);
      // An error or hang-up is READ too: a read reports it, and when reading is off the core hands it to
      // onError. Left to onError directly, a connection still reading with nothing queued would leave it
      // unconsumed, and level-triggered poll() would report it again on every turn.
      return (flag & (POLLIN | POLLHUP | POLLERR | POLLNVAL) ? READ : 0) | (flag & POLLOUT ? WRITE : 0);
    },
    close() {},
  };
}
