/**
 * The epoll server, the fast one: the kernel keeps the interest list (register once, `modify` when a
 * connection starts or stops having output queued), and the loop reads events with the allocation-free
 * `wait()` + `readyFd(i)`/`readyEvents(i)`. Together with the core's reused read buffer nothing is allocated
 * per message unless a send is partial.
 */
import { Epoll, EPOLLERR, EPOLLHUP, EPOLLIN, EPOLLOUT } from '../../select/index.js';
import type { Backend, EchoCore } from '../core.js';

/** Indexed by the core's READ | WRITE bits. EPOLLERR and EPOLLHUP are always reported. */
const MASKS = [0, EPOLLIN, EPOLLOUT, EPOLLIN | EPOLLOUT] as const;

export function epollBackend(core: EchoCore): Backend {
  const ep = new Epoll();
  const listenFd = core.listener.fileno();
  ep.register(listenFd, EPOLLIN);

  return {
    name: 'epoll',
    fdLimit: Number.POSITIVE_INFINITY,
    watch(conn, events) {
      if (conn.watched === 0) ep.register(conn.fd, MASKS[events]!);
      else ep.modify(conn.fd, MASKS[events]!);
    },
    forget(conn) {
      ep.unregister(conn.fd);
    },
    setAccepting(accepting) {
      if (accepting) ep.register(listenFd, EPOLLIN);
      else ep.unregister(listenFd);
    },
    async run() {
      while (core.running) {
        core.beforeWait();
        const n = ep.wait(core.waitTimeout());
        core.afterWait(n);
        for (let i = 0; i < n; i++) {
          const fd = ep.readyFd(i);
          const events = ep.readyEvents(i);
          if (fd === listenFd) {
            core.acceptAll();
            continue;
          }
          const conn = core.connection(fd);
          if (conn === undefined) continue; // closed earlier in this batch
          if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) core.onReadable(conn);
          if (events & EPOLLOUT) core.onWritable(conn);
        }
        if (core.yieldDue(n)) await core.yieldToNode();
      }
    },
    close() {
      ep.close();
    },
  };
}
