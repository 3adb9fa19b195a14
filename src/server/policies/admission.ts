/**
 * Admission: how the echo server accepts connections, wherever it does (each server's core and the
 * --balance handoff acceptor), and which it serves. One readiness event of the listener accepts at most a
 * batch; a failing accept() (out of fds) rests the listener for a moment instead of spinning; a connection
 * past --max-connections, or whose fd the backend cannot watch, is accepted and closed at once.
 */
import { performance } from 'node:perf_hooks';
import { BlockingIOError, ConnectionAbortedError, InterruptedError, OSError } from '../../errors.js';
import type { Socket, SocketAddress } from '../../socket/index.js';
import type { Tally } from '../core/tally.js';
import type { EventLog } from '../log/event-log.js';
import { plural, showAddress } from '../log/show.js';

/** Connections accepted per readiness event of the listener, so one busy listener cannot starve the rest. */
export const ACCEPT_BATCH = 256;
/** After accept fails (EMFILE, ENFILE, …), the listener is left unwatched this long rather than spin. */
export const ACCEPT_BACKOFF_MS = 100;

/**
 * One accept(): the connection; 'empty' when nothing is pending (whatever failed before is over); 'retry'
 * when the client gave up before it was accepted or a signal interrupted accept (try the next one); or the
 * OSError to back off from. Anything that is not an OSError propagates.
 */
export function acceptNext(listener: Socket): [Socket, SocketAddress] | 'empty' | 'retry' | OSError {
  try {
    return listener.accept();
  } catch (err) {
    if (err instanceof BlockingIOError) return 'empty';
    if (err instanceof ConnectionAbortedError || err instanceof InterruptedError) return 'retry';
    if (err instanceof OSError) return err;
    throw err;
  }
}

/** The limits a new connection must fit. */
export interface AdmissionLimits {
  maxConnections: number;
}

/** What a backend brings to admission: fds it can watch. */
export interface FdRange {
  readonly name: string;
  /** Fds at or above this cannot be watched (select's FD_SETSIZE); Infinity when there is no such limit. */
  readonly fdLimit: number;
}

/** Where the accept loop's outcomes go: the core. */
export interface AdmissionSink {
  readonly running: boolean;
  readonly backend: FdRange & { setAccepting(accepting: boolean): void };
  readonly log: EventLog;
  /** A connection was admitted (its slot taken): set it up and serve it. */
  admitted(socket: Socket, address: SocketAddress): void;
}

export class Admission {
  /** Connections accepted and closed at once (the summary counts them). */
  refused = 0;
  readonly #maxConnections: number;
  readonly #tally: Tally;
  /** accept() failures (other than "nothing pending") since the last success. */
  #failures = 0;
  /** Monotonic ms when accepting resumes after a failure; 0 while accepting. */
  #resumeAt = 0;

  constructor(limits: AdmissionLimits, tally: Tally) {
    this.#maxConnections = limits.maxConnections;
    this.#tally = tally;
  }

  /** The listener is readable: accept what is pending (up to a batch), and admit or refuse each. */
  acceptAll(listener: Socket, sink: AdmissionSink): void {
    for (let i = 0; i < ACCEPT_BATCH && sink.running; i++) {
      const accepted = acceptNext(listener);
      if (accepted === 'empty') {
        this.drained();
        return;
      }
      if (accepted === 'retry') continue;
      if (accepted instanceof OSError) {
        this.#backOff(accepted, sink);
        return;
      }
      const failures = this.accepted();
      if (failures > 0) sink.log.info(`accepting connections again (accept had failed ${plural(failures, 'time')})`);
      const [socket, address] = accepted;
      const refusal = this.admit(socket.fileno(), sink.backend);
      if (refusal === null) {
        sink.admitted(socket, address);
        continue;
      }
      this.refused++;
      // Not rate-limited (yet): the select backend's test counts one line per refusal. The summary counts
      // them too, and a log nobody reads no longer blocks, so a flood of refusals costs log lines only.
      sink.log.error(`refusing connection from ${showAddress(address)}: ${refusal}`);
      socket.close();
    }
  }

  /**
   * accept() failed for a reason other than "nothing pending" (EMFILE/ENFILE when out of fds, ENOBUFS, …).
   * The pending connection stays in the backlog, so a level-triggered listener would report it again at
   * once: stop watching the listener for a moment instead of spinning.
   */
  #backOff(err: OSError, sink: AdmissionSink): void {
    const resting = this.resting;
    // One line per episode, not one per retry.
    if (this.failed(performance.now())) {
      sink.log.error(`accept failed: ${err.message}; retrying every ${ACCEPT_BACKOFF_MS} ms, other connections are still served`);
    }
    if (!resting) sink.backend.setAccepting(false);
  }

  /** Null when the connection on `fd` is admitted (its slot taken: give it back with `tally.closed()`), else why it is refused. */
  admit(fd: number, backend: FdRange): string | null {
    if (fd >= backend.fdLimit) return `fd ${fd} is out of range for ${backend.name} (FD_SETSIZE ${backend.fdLimit})`;
    if (this.#tally.tryOpen(this.#maxConnections)) return null;
    const n = this.#tally.open;
    return `${plural(n, 'connection')} ${n === 1 ? 'is' : 'are'} open (--max-connections ${this.#maxConnections})`;
  }

  /** Nothing pending: whatever failed before is over. */
  drained(): void {
    this.#failures = 0;
  }

  /** A connection was accepted: how many accept() failures came before it (the episode that ended), or 0. */
  accepted(): number {
    const failures = this.#failures;
    this.#failures = 0;
    return failures;
  }

  /** Whether the listener is resting after a failure. */
  get resting(): boolean {
    return this.#resumeAt !== 0;
  }

  /**
   * accept() failed at `now`: the listener rests ACCEPT_BACKOFF_MS (from this failure). True for the first
   * failure of an episode (the one to log).
   */
  failed(now: number): boolean {
    this.#resumeAt = now + ACCEPT_BACKOFF_MS;
    return this.#failures++ === 0;
  }

  /** Milliseconds until the listener's rest ends (Infinity when it is not resting). */
  restLeft(now: number): number {
    return this.#resumeAt === 0 ? Number.POSITIVE_INFINITY : this.#resumeAt - now;
  }

  /** True once when the rest is over at `now`: watch the listener again. */
  resumes(now: number): boolean {
    if (this.#resumeAt === 0 || now < this.#resumeAt) return false;
    this.#resumeAt = 0;
    return true;
  }
}
