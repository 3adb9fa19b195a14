/**
 * What a backend is: the kernel's interest list kept in line with the core's wishes, and a way to learn
 * what is ready. The loop around them is written once, in serve.ts.
 *
 * A readiness backend (select, poll, epoll, kqueue, selectors) reports "fd is readable/writable"; the core
 * then calls recv/send itself. A completion backend (io_uring) would report "fd read N bytes into buffer
 * B" instead, and fits the same shape: `wait()` reaps completions, `fd(i)` is the connection's fd and
 * `events(i)` says RECEIVED (a bit of its own) with the bytes and their buffer in accessors the backend
 * adds (`bytes(i)`, `buffer(i)`); the dispatch hands them to the core's `onReceived(conn, buffer, n)` — the
 * half of a read that follows the recv — and `watch(conn, READ)` becomes "keep a receive armed" (a
 * multishot recv), `forget` cancels it. Sends stay the core's own (a non-blocking send first, the queue for
 * the rest), or become submissions the next `wait()` completes.
 */
import type { Connection } from './connection.js';

export { READ, URGENT, WRITE } from './interest-bits.js';

/** The interest side, common to every backend. */
export interface Interest {
  /** Shown in the start-up line and in refusals. */
  readonly name: string;
  /** Fds at or above this cannot be watched (select's FD_SETSIZE); Infinity when there is no such limit. */
  readonly fdLimit: number;
  /** Watch `conn` for `events` (READ | WRITE, never 0); `conn.watched` still holds the previous bits. */
  watch(conn: Connection, events: number): void;
  /** Stop watching `conn`; called before its socket is closed. */
  forget(conn: Connection): void;
  /** Watch the listener for new connections, or stop (a back-off when out of fds). */
  setAccepting(accepting: boolean): void;
  /** Releases the backend's own resources (an epoll fd, a selector). */
  close(): void;
}

/** A backend whose thread blocks in its own wait: `serve` loops over it. */
export interface WaitingBackend extends Interest {
  readonly driver: 'blocking';
  /**
   * Waits until something is ready or `timeout` seconds pass (0: do not block) and returns how many ready
   * entries there are (0: timed out). An entry of the backend's own (the epoll tick) it handles itself.
   */
  wait(timeout: number): number;
  /** The fd of ready entry `i` (0 ≤ i < the last wait's count). */
  fd(i: number): number;
  /** What entry `i` reports: READ (also an error or hang-up), WRITE, URGENT bits. */
  events(i: number): number;
}

/** A backend whose readiness Node's event loop delivers (--driver loop): `serve` attaches to it. */
export interface AttachedBackend extends Interest {
  readonly driver: 'loop';
  /** From now on, calls `onReady(fd, READ | WRITE bits)` for each ready fd, from Node's event loop. */
  attach(onReady: (fd: number, events: number) => void): void;
  detach(): void;
}

export type Backend = WaitingBackend | AttachedBackend;
