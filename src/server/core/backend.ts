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
 * only waits for its turn (`conn.deferred`).
 *
 * Output: a readiness backend leaves sends to the core (a non-blocking send first, its queue for the rest,
 * WRITE interest to resume). A completion backend may own them instead (`queueEcho`, `sendQueued`,
 * `peekQueued`, all three or none): a read then moves the received bytes to the backend's output without
 * a copy through JavaScript, the backend keeps one send in flight per connection and continues it on
 * each completion, and reports WRITE — while the core watches for it — whenever no send of the connection
 * is in flight; the core's write then collects how many bytes went out (or the error). The core counts
 * those bytes exactly as it counts its own queue's (`conn.pending`), so backpressure, the total budget,
 * the scheduler's budget, the tutorial's pacing, the log and the sweeper see the same numbers.
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
  /**
   * A backend that sends for the core: moves up to `length` bytes received for `conn` to its output (the
   * read and the echo's queueing in one step, the bytes staying where the kernel put them), copying them
   * into `copy` as well when given (the log shows them). Returns as `receive` does.
   */
  queueEcho?(conn: Connection, length: number, copy: Buffer | null): number;
  /**
   * Starts sending `conn`'s output unless a send of it is in flight (each completion continues from where
   * it stopped until the output is empty) and returns the bytes whose sends completed since the last call;
   * raises the OSError a send ended with.
   */
  sendQueued?(conn: Connection): number;
  /** Copies the first unsent bytes of `conn`'s output into `into` (as many as fit) and returns how many: log lines. */
  peekQueued?(conn: Connection, into: Buffer): number;
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
