/**
 * The seeds' poll() server: poll objects know fds, so the core's fd → connection map finds the connection
 * of each ready fd (read with the allocation-free `wait()`/`readyFd()`/`readyEvents()`), and a
 * connection's interest is switched between the seeds' masks with `modify`. WRITE_ONLY is ours: reading
 * paused (backpressure, or the client finished sending) while output is still queued.
 */
import { poll, POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT } from '../../select/index.js';
import type { Backend, EchoCore } from '../core/echo-core.js';

// POLLPRI, which the seeds add, is left out: TCP urgent data would keep it raised while recv() has nothing
// in-band to read, and the loop would spin. POLLHUP and POLLERR are reported whether asked for or not.
const READ_ONLY = POLLIN | POLLHUP | POLLERR;
const READ_WRITE = READ_ONLY | POLLOUT;
const WRITE_ONLY = POLLOUT | POLLHUP | POLLERR;
/** Indexed by the core's READ | WRITE bits. */
const MASKS = [0, READ_ONLY, WRITE_ONLY, READ_WRITE] as const;

export function pollBackend(core: EchoCore): Backend {
  const poller = poll();
  const listenFd = core.listener.fileno();
  poller.register(listenFd, READ_ONLY);

  return {
    name: 'poll',
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
    async run() {
      while (core.running) {
        core.beforeWait();
        const count = poller.wait(core.waitTimeout() * 1000);
        core.afterWait(count);
        for (let i = 0; i < count; i++) {
          const fd = poller.readyFd(i);
          const flag = poller.readyEvents(i);
          if (fd === listenFd) {
            core.acceptAll();
            continue;
          }
          const conn = core.connection(fd);
          if (conn === undefined) continue; // closed earlier in this batch
          // An error or hang-up goes to onReadable too: a read reports it, and when reading is off onReadable
          // hands it to onError. Sent to onError directly, a connection still reading with nothing queued
          // would leave it unconsumed, and level-triggered poll() would report it again on every turn.
          if (flag & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) core.onReadable(conn);
          if (flag & POLLOUT) core.onWritable(conn);
        }
        if (core.yieldDue(count)) await core.yieldToNode();
      }
    },
    close() {},
  };
}
