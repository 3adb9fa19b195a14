/**
 * What a backend is: the kernel's interest list kept in line with the core's wishes, and a way to learn
 * what is ready. The loop around them is written once, in serve.ts.
 *
 * A readiness backend (select, poll, epoll, kqueue, selectors) reports "fd is readable/writable"; the core
 * then calls recv/send itself. A completion backend (io_uring, backends/uring.ts) has the bytes already
 * received into its buffers, and fits the same shape with two additions: `receive(conn, into, length)`
 * replaces the core's recv (it copies what the kernel already delivered, -1 when nothing is there yet, 0
 * at the end of input, an OSError for the error the receive ended with), and `closing(conn)` lets it
 * cancel what it has in flight for a connection and give back what it holds. It reports READ while a
 * connection it is asked to watch for reading has bytes or an end waiting (level-triggered, as epoll), so
 * the scheduler's turns, backpressure's pauses and the sweeper work unchanged; `watch(conn, READ)` is
 * "keep a receive armed" (a multishot recv), and dropping READ cancels it unless the connection's read
 * only waits for its turn (`conn.deferred`). Sends stay the core's own (a non-blocking send first, the
 * queue for the rest); WRITE is a one-shot poll.
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
  /**
   * A completion backend's read of `conn` (the core's recv when absent): copies up to `length` bytes it has
   * already received into `into` from offset 0 and returns how many; -1 when none are there yet, 0 at the
   * end of input; raises the OSError the receive ended with once the bytes before it are read.
   */
  receive?(conn: Connection, into: Buffer, length: number): number;
  /** `conn` is about to be closed, whatever is watched: operations in flight for it go, what it holds is given back. */
  closing?(conn: Connection): void;
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
