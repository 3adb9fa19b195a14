/**
 * The kqueue server (macOS and the BSDs; Linux through libkqueue): one kevent filter per direction, READ
 * always while a connection is watched for input and WRITE only while it has output queued, changed with
 * one `control()` each; the wait is the allocation-free `wait()` + `readyIdent(i)`/`readyFilter(i)`/
 * `readyFlags(i)`. Filters are deleted before a connection's fd is closed, which libkqueue
 * requires and the kernels do not mind.
 */
import { Kevent, Kqueue, KQ_EV_ADD, KQ_EV_DELETE, KQ_EV_EOF, KQ_EV_ERROR, KQ_FILTER_READ, KQ_FILTER_WRITE } from '../../select/index.js';
import { READ, WRITE, type WaitingBackend } from '../core/backend.js';
import type { EchoCore } from '../core/echo-core.js';

/**
 * The most events one wait reports, as the epoll backend's default (1023). More filters than that are
 * reported by the next waits (the READ and WRITE filters are level-triggered); an event list sized for every
 * filter would cost 32 bytes per connection, and a new, larger list on every wait while connections arrive.
 */
const MAX_EVENTS = 1024;

export function kqueueBackend(core: EchoCore): WaitingBackend {
  const kq = new Kqueue();
  const listenFd = core.listener.fileno();
  /** Filters registered: the most events one wait can report (up to MAX_EVENTS). */
  let filters = 0;

  function change(fd: number, from: number, to: number): void {
    const changes: Kevent[] = [];
    if ((to & READ) && !(from & READ)) changes.push(new Kevent(fd, KQ_FILTER_READ, KQ_EV_ADD));
    if ((to & WRITE) && !(from & WRITE)) changes.push(new Kevent(fd, KQ_FILTER_WRITE, KQ_EV_ADD));
    if (!(to & READ) && (from & READ)) changes.push(new Kevent(fd, KQ_FILTER_READ, KQ_EV_DELETE));
    if (!(to & WRITE) && (from & WRITE)) changes.push(new Kevent(fd, KQ_FILTER_WRITE, KQ_EV_DELETE));
    if (changes.length === 0) return;
    kq.control(changes, 0, 0);
    filters += bitCount(to) - bitCount(from);
  }

  change(listenFd, 0, READ);

  return {
    name: 'kqueue',
    driver: 'blocking',
    fdLimit: Number.POSITIVE_INFINITY,
    watch(conn, events) {
      change(conn.fd, conn.watched, events);
    },
    forget(conn) {
      change(conn.fd, conn.watched, 0);
    },
    setAccepting(accepting) {
      if (accepting) change(listenFd, 0, READ);
      else change(listenFd, READ, 0);
    },
    wait(timeout) {
      return kq.wait(timeout, Math.min(Math.max(filters, 1), MAX_EVENTS));
    },
    fd(i) {
      return kq.readyIdent(i);
    },
    events(i) {
      const filter = kq.readyFilter(i);
      if (filter === KQ_FILTER_READ || (kq.readyFlags(i) & (KQ_EV_EOF | KQ_EV_ERROR)) !== 0) return READ;
      return filter === KQ_FILTER_WRITE ? WRITE : 0;
    },
    close() {
      kq.close();
    },
  };
}

function bitCount(events: number): number {
  return (events & READ ? 1 : 0) + (events & WRITE ? 1 : 0);
}
