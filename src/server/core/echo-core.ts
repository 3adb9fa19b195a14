/**
 * The connection core of the echo server: the table of open connections, the loop's rhythm around each
 * wait (serve.ts states the order), admitting and closing connections, the timers, shutdown with its
 * summary, and the event log. What happens to one connection between events — read, echo, queue, write,
 * its end — is its echo path (echo-path.ts); the rules both follow are the policies (../policies/):
 * admission, the fair scheduler, backpressure, the sweeper, the memory return and the echo style.
 *
 * A backend tells the core what happened (`acceptAll`, and `echo.onReadable`, `onWritable`, `onError`,
 * `onException` through serve.ts's dispatch); the core tells the backend what to watch (`watch`, `forget`,
 * `setAccepting`).
 */
import { performance } from 'node:perf_hooks';
import { OSError } from '../../errors.js';
import { IPPROTO_TCP, TCP_NODELAY, type Socket } from '../../socket/index.js';
import type { EventLog } from '../log/event-log.js';
import { plural, showAddress } from '../log/show.js';
import type { ServerOptions } from '../options.js';
import { Admission, type AdmissionSink } from '../policies/admission.js';
import { MemoryReturn } from '../policies/memory.js';
import { FairScheduler } from '../policies/scheduler.js';
import { IDLE, Sweeper } from '../policies/sweeper.js';
import { styleOf } from '../policies/tutorial.js';
import type { Interest } from './backend.js';
import { Connection, ConnectionTable } from './connection.js';
import { EchoPath } from './echo-path.js';
import { LocalTally, type Tally } from './tally.js';

/**
 * The longest a blocking wait lasts. A JS signal handler cannot run while the thread sits in select, poll
 * or epoll_wait, so the loop comes back at least this often to let Node deliver SIGINT/SIGTERM.
 */
const TICK_MS = 200;
/** TICK_MS in seconds: a backend with a ticking timer of its own may wait without a timeout when given this. */
export const TICK_SECONDS = TICK_MS / 1000;
/** While busy, the loop still yields to Node's event loop this often (signals, nothing else). */
const YIELD_EVERY_MS = 50;

export class EchoCore {
  readonly options: ServerOptions;
  readonly listener: Socket;
  readonly log: EventLog;
  /** Set once by `attach`, before the loop runs. */
  backend!: Interest;
  /** False once a signal (or `stop`) asked the server to finish. */
  running = true;
  /** Monotonic ms at the last wake-up; connections use it as their activity time. */
  now = performance.now();

  /** Connections accepted and served (refused ones not counted). */
  served = 0;
  peak = 0;
  /** What happens to each connection between events: read, echo, queue, write, its end. */
  readonly echo: EchoPath;

  readonly #verbose: boolean;
  /** The open connections by fd, with their times and byte counts. */
  readonly #open = new ConnectionTable();
  /**
   * What --max-connections and --max-total-pending count: open connections, unsent bytes and connections
   * holding some — this server's own, or all workers' (--workers).
   */
  readonly #tally: Tally;
  readonly #admission: Admission;
  /** Admission's hands: the core's running flag, backend, log, and its welcome of an admitted connection. */
  readonly #acceptSink: AdmissionSink;
  readonly #scheduler = new FairScheduler<Connection>();
  readonly #sweeper: Sweeper;
  readonly #memory = new MemoryReturn();
  #stopReason = '';
  #lastYield = performance.now();
  /** When the last event (or the last "timed out" line) happened, for --timeout. */
  #lastEvent = performance.now();
  #waitAnnounced = false;

  readonly #stopped: Promise<void>;
  #resolveStopped!: () => void;

  constructor(options: ServerOptions, listener: Socket, log: EventLog, tally: Tally = new LocalTally()) {
    this.#tally = tally;
    this.#stopped = new Promise((resolve) => (this.#resolveStopped = resolve));
    this.options = options;
    this.listener = listener;
    this.log = log;
    this.#verbose = log.verbose;
    this.#admission = new Admission(options, tally);
    this.#sweeper = new Sweeper(options);
    this.echo = new EchoPath(this, {
      options,
      log,
      open: this.#open,
      tally,
      scheduler: this.#scheduler,
      memory: this.#memory,
      style: styleOf(options),
    });
    const core = this;
    this.#acceptSink = {
      get running() {
        return core.running;
      },
      get backend() {
        return core.backend;
      },
      log,
      admitted: (socket, address) => this.#admitted(socket, address),
    };
  }

  /** Connections accepted and closed at once (--max-connections, the backend's fd limit). */
  get refused(): number {
    return this.#admission.refused;
  }

  /** Unsent bytes held for all connections together. */
  get totalPending(): number {
    return this.echo.totalPending;
  }

  /** Bytes sent back, in all. */
  get bytesEchoed(): number {
    return this.echo.bytesEchoed;
  }

  attach(backend: Interest): void {
    this.backend = backend;
    this.echo.attach(backend);
  }

  /** The open connection with this fd, if any (the dispatch's fd map). */
  connection(fd: number): Connection | undefined {
    return this.#open.get(fd);
  }

  /** Asks the loop to finish (a signal handler calls this); a blocking loop notices within one tick. */
  stop(reason: string): void {
    if (!this.running) return;
    this.running = false;
    this.#stopReason = reason;
    this.#resolveStopped();
  }

  /** Resolves when `stop` is called: what a driver without a wait of its own awaits. */
  get stopped(): Promise<void> {
    return this.#stopped;
  }

  // ---- the loop's rhythm (serve.ts states the order) ----------------------------------------------------

  /** At the end of a wake-up, before the wait: the turns of the scheduler's rings, then the log's lines. */
  beforeWait(): void {
    // A round of the rings is a wake-up's worth of work: the log says so even if no event came with it.
    if (this.#scheduler.endWakeUp(this.echo) > 0) this.#waitAnnounced = false;
    if (!this.#verbose) return;
    if (!this.#waitAnnounced) {
      this.log.event('');
      this.log.event('waiting for the next event');
      this.#waitAnnounced = true;
    }
    this.log.flush();
  }

  /** How long the next wait may block, in seconds: a tick, or less when --timeout or a back-off ends sooner. */
  waitTimeout(): number {
    if (!this.running || this.#scheduler.waiting > 0) return 0;
    let ms = Math.min(TICK_MS, this.#admission.restLeft(this.now));
    const t = this.options.timeout;
    if (t !== null) ms = Math.min(ms, this.#lastEvent + t * 1000 - this.now);
    return ms > 0 ? ms / 1000 : 0;
  }

  /**
   * After each wait, with the number of ready events: the time, the --timeout line, the timers, and the
   * read share of this wake-up (`batch`: how many events share the reads; the Node-loop driver passes 1).
   */
  afterWait(events: number, batch = events): void {
    const now = (this.now = performance.now());
    this.#scheduler.startWakeUp(batch);
    if (events > 0) {
      this.#lastEvent = now;
      this.#waitAnnounced = false;
    } else if (this.options.timeout !== null && now - this.#lastEvent >= this.options.timeout * 1000) {
      if (this.#verbose) this.log.event('  timed out, do some other work here');
      this.#lastEvent = now;
      this.#waitAnnounced = false;
    }
    this.housekeeping(now);
  }

  /** True when the loop should let Node's event loop run (to deliver signals): when idle, or every 50 ms. */
  yieldDue(events: number): boolean {
    return events === 0 || !this.running || this.now - this.#lastYield >= YIELD_EVERY_MS;
  }

  /** One turn of Node's event loop: pending signal handlers run. */
  yieldToNode(): Promise<void> {
    this.#lastYield = performance.now();
    return new Promise((resolve) => setImmediate(resolve));
  }

  /** Timers: the end of an accept back-off, the memory return, the sweeper. Drivers without a wait call it. */
  housekeeping(now = performance.now()): void {
    this.now = now;
    this.log.tick(now);
    if (this.#admission.resumes(now)) this.backend.setAccepting(true);
    const pending = this.echo.totalPending;
    if (this.#memory.tick(pending, now)) {
      if (this.#verbose) this.log.event(`returned the memory of drained queues (${pending} bytes still unsent)`);
    }
    if (this.#sweeper.due(now)) this.#sweeper.sweep(now, this.#open, this.#closeSlow);
  }

  /** Connections whose read or send waits for a later turn (a driver without a wait of its own runs a turn soon). */
  get waitingTurns(): number {
    return this.#scheduler.waiting;
  }

  // ---- events ------------------------------------------------------------------------------------------

  /** The listener is readable: admission accepts what is pending. */
  acceptAll(): void {
    this.#admission.acceptAll(this.listener, this.#acceptSink);
  }

  /** Stops watching and closes `conn`; its unsent output is dropped. */
  close(conn: Connection): void {
    if (!conn.open) return;
    conn.open = false;
    if (conn.watched !== 0) {
      try {
        this.backend.forget(conn);
      } catch (err) {
        if (!(err instanceof OSError)) throw err;
      }
      conn.watched = 0;
    }
    this.backend.closing?.(conn);
    this.echo.released(conn);
    this.#tally.closed();
    this.#open.remove(conn);
    try {
      conn.socket.close();
    } catch (err) {
      if (!(err instanceof OSError)) throw err;
    }
  }

  /** Closes every connection and the listener, and prints the summary. */
  shutdown(): void {
    this.log.finishing();
    this.log.info(`shutting down${this.#stopReason ? ` (${this.#stopReason})` : ''}: closing ${plural(this.#open.size, 'connection')}`);
    const open = this.#open;
    for (let fd = 0; fd < open.fdBound; fd++) {
      const conn = open.get(fd);
      if (conn !== undefined) this.close(conn);
    }
    try {
      this.listener.close();
    } catch (err) {
      if (!(err instanceof OSError)) throw err;
    }
    this.log.info(
      `served ${plural(this.served, 'connection')} (${this.refused} refused), echoed ${plural(this.bytesEchoed, 'byte')}, ` +
        `peak ${this.peak} concurrent ${this.peak === 1 ? 'connection' : 'connections'}`,
    );
    this.log.reportDropped();
  }

  // ---- internals ---------------------------------------------------------------------------------------

  /** The sweeper's verdict carried out: a connection idle too long, or too slow over its window. */
  readonly #closeSlow = (conn: Connection, why: number, moved: number): void => {
    if (this.#verbose) {
      const { idleTimeout, minRate, rateWindow } = this.options;
      this.log.event(why === IDLE
        ? `closing ${conn.label} after ${idleTimeout} s without activity`
        : `closing ${conn.label}: ${plural(moved, 'byte')} in ${rateWindow} s, below --min-rate ${minRate} bytes a second`);
    }
    this.close(conn);
  };

  /** A connection admission let in: non-blocking, without Nagle, watched. */
  #admitted(socket: Socket, address: unknown): void {
    let conn: Connection;
    try {
      socket.setblocking(false);
      // Echoes are small writes answering small reads: Nagle's algorithm would only delay them.
      socket.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
      conn = new Connection(socket, address);
    } catch (err) {
      this.#tally.closed();
      if (!(err instanceof OSError)) throw err;
      this.log.connectionError(`dropping connection from ${showAddress(address)}: ${err.message}`, this.now);
      socket.close();
      return;
    }
    this.#open.add(conn, this.now);
    this.served++;
    if (this.#open.size > this.peak) this.peak = this.#open.size;
    if (this.#verbose) this.log.event(`new connection from ${conn.label}`);
    this.echo.sync(conn);
  }
}
