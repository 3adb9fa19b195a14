/**
 * The epoll server, the fast one: the kernel keeps the interest list (register once, `modify` when a
 * connection starts or stops having output queued), and the wait is the allocation-free `wait()` +
 * `readyFd(i)`/`readyEvents(i)`; with the core's reused read buffer nothing is allocated per message unless
 * a send is partial.
 *
 * The tick (timers, and a turn of Node's loop so signal handlers run) comes from a timer fd in the same
 * epoll set, so a wait with nothing due sooner needs no timeout: a timeout costs a kernel timer armed and
 * cancelled per wait (docs/benchmarks.md, "The last percent"). Where there is no timer fd, waits time out.
 */
import { BlockingIOError } from '../../errors.js';
import * as os from '../../os.js';
import { Epoll, EPOLLERR, EPOLLHUP, EPOLLIN, EPOLLOUT } from '../../select/index.js';
import { READ, WRITE, type WaitingBackend } from '../core/backend.js';
import { TICK_SECONDS, type EchoCore } from '../core/echo-core.js';

/** Indexed by the core's READ | WRITE bits. EPOLLERR and EPOLLHUP are always reported. */
const MASKS = [0, EPOLLIN, EPOLLOUT, EPOLLIN | EPOLLOUT] as const;

export function epollBackend(core: EchoCore): WaitingBackend {
  const ep = new Epoll();
  const listenFd = core.listener.fileno();
  let tickFd: number;
  try {
    ep.register(listenFd, EPOLLIN);
    tickFd = openTick(ep);
  } catch (err) {
    ep.close();
    throw err;
  }

  return {
    name: 'epoll',
    driver: 'blocking',
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
    wait(timeout) {
      const n = ep.wait(tickFd >= 0 && timeout >= TICK_SECONDS ? null : timeout);
      if (n === 1 && ep.readyFd(0) === tickFd) {
        // The tick alone is a wait that timed out (--timeout's "timed out", a turn of Node's loop).
        consumeTick(tickFd);
        return 0;
      }
      return n;
    },
    fd(i) {
      const fd = ep.readyFd(i);
      if (fd === tickFd) consumeTick(tickFd); // no connection has its fd: the dispatch skips it
      return fd;
    },
    events(i) {
      const mask = ep.readyEvents(i);
      return (mask & (EPOLLIN | EPOLLERR | EPOLLHUP) ? READ : 0) | (mask & EPOLLOUT ? WRITE : 0);
    },
    close() {
      if (tickFd >= 0) os.close(tickFd);
      ep.close();
    },
  };
}

/** A non-blocking timer fd firing every TICK_SECONDS, watched by `ep`; -1 where there is none to be had. */
function openTick(ep: Epoll): number {
  let fd: number;
  try {
    fd = os.timerfdCreate(os.CLOCK_MONOTONIC, { flags: os.TFD_NONBLOCK });
  } catch {
    return -1; // no timerfd (or no fd left): the waits time out instead
  }
  try {
    os.timerfdSettime(fd, { initial: TICK_SECONDS, interval: TICK_SECONDS });
    ep.register(fd, EPOLLIN);
    return fd;
  } catch (err) {
    os.close(fd);
    throw err;
  }
}

/** Reads the expiration count, so the level-triggered fd is quiet until the next tick. */
function consumeTick(fd: number): void {
  try {
    os.read(fd, 8);
  } catch (err) {
    if (!(err instanceof BlockingIOError)) throw err;
  }
}
