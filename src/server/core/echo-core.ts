/**
 * The connection core of the echo server: what happens to a connection — read into one reused buffer and
 * echoed straight back, only what the kernel did not take queued, half-close, errors that close that
 * connection only, the event log — and shutdown with its summary. The rules it follows are the policies
 * beside it (../policies/): admission, the fair scheduler, backpressure, the sweeper, the memory return and
 * the echo style (--tutorial). serve.ts runs the loop around it.
 *
 * A backend tells the core what happened (`acceptAll`, `onReadable`, `onWritable`, `onError`,
 * `onException`, through serve.ts's dispatch); the core tells the backend what to watch (`watch`, `forget`,
 * `setAccepting`).
 */
import { performance } from 'node:perf_hooks';
import { OSError } from '../../errors.js';
import { IPPROTO_TCP, TCP_NODELAY, type Socket } from '../../socket/index.js';
import type { EventLog } from '../log/event-log.js';
import { PAYLOAD_PREVIEW, plural, showAddress, showPayload } from '../log/show.js';
import type { ServerOptions } from '../options.js';
import { Admission, type AdmissionSink } from '../policies/admission.js';
import { Backpressure, BUDGET_PAUSE, BUDGET_RESUME, PAUSE, RESUME } from '../policies/backpressure.js';
import { MemoryReturn } from '../policies/memory.js';
import { CALL_COST_BYTES, FairScheduler, READ_BUFFER_BYTES, type TurnTaker } from '../policies/scheduler.js';
import { IDLE, Sweeper } from '../policies/sweeper.js';
import { styleOf, type EchoStyle } from '../policies/tutorial.js';
import { READ, type Interest } from './backend.js';
import { Connection, ConnectionTable } from './connection.js';
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
  bytesEchoed = 0;
  peak = 0;

  readonly #verbose: boolean;
  /** The server's pacing, or the PyMOTW tutorial's (--tutorial). */
  readonly #style: EchoStyle;
  readonly #buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  /** The open connections by fd, with their times and byte counts. */
  readonly #open = new ConnectionTable();
  /**
   * What --max-connections and --max-total-pending count: open connections, unsent bytes and connections
   * holding some — this server's own, or all workers' (--workers).
   */
  readonly #tally: Tally;
  /** Unsent bytes of this server's connections together (the memory it holds). */
  #totalPending = 0;
  readonly #admission: Admission;
  /** Admission's hands: the core's running flag, backend, log, and its welcome of an admitted connection. */
  readonly #acceptSink: AdmissionSink;
  readonly #scheduler = new FairScheduler<Connection>();
  /** The scheduler's hands: the core's read and send, for the turns it gives at the end of a wake-up. */
  readonly #turns: TurnTaker<Connection>;
  readonly #flow: Backpressure;
  /** Connections not read because the server as a whole holds too much. */
  readonly #budgetPaused = new Set<Connection>();
  readonly #sweeper: Sweeper;
  readonly #memory = new MemoryReturn();
  /** A completion backend's read (its bytes already received), or null: the socket's recv. */
  #receive: ((conn: Connection, into: Buffer, length: number) => number) | null = null;
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
    this.#style = styleOf(options);
    this.#admission = new Admission(options, tally);
    this.#flow = new Backpressure(options);
    this.#sweeper = new Sweeper(options);
    const core = this;
    this.#turns = {
      get running() {
        return core.running;
      },
      readTurn: (conn) => this.#readTurn(conn),
      writeTurn: (conn) => this.#write(conn),
    };
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
    return this.#totalPending;
  }

  attach(backend: Interest): void {
    this.backend = backend;
    this.#receive = backend.receive?.bind(backend) ?? null;
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
    if (this.#scheduler.endWakeUp(this.#turns) > 0) this.#waitAnnounced = false;
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
    if (this.#memory.tick(this.#totalPending, now)) {
      if (this.#verbose) this.log.event(`returned the memory of drained queues (${this.#totalPending} bytes still unsent)`);
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

  /** `conn` is readable (or has an error or hang-up pending): read it now, or in its turn (the scheduler's call). */
  onReadable(conn: Connection): void {
    if (!conn.open) return;
    // Its turn in a ring comes (an error or hang-up reported meanwhile is found by that read).
    if (conn.deferred) return;
    if ((conn.watched & READ) === 0) {
      // Not reading (paused or past EOF), so this is an error or hang-up: let a send decide.
      this.onError(conn);
      return;
    }
    if (!this.#style.oneStepAtATime && this.#scheduler.defersRead(conn)) {
      this.#scheduler.deferRead(conn);
      this.#sync(conn);
      return;
    }
    this.#read(conn, this.#style.readLength(this.#flow.readLength(this.#scheduler.readShare, this.#tally)));
  }

  /** A turn in a read ring: a full-size read, unless a limit paused the connection meanwhile. */
  #readTurn(conn: Connection): boolean {
    if (!this.#flow.readable(conn)) {
      this.#sync(conn); // watched again for what it needs, and read once it resumes
      return false;
    }
    this.#read(conn, this.#flow.readLength(READ_BUFFER_BYTES, this.#tally));
    return true;
  }

  /** Reads `conn` once (at most `length` bytes) and echoes straight back what the kernel takes. */
  #read(conn: Connection, length: number): void {
    // Every read costs its system calls, even one that brings nothing (an end of input, an error).
    this.#scheduler.spend(CALL_COST_BYTES);
    const buffer = this.#buffer;
    let n: number;
    try {
      n = this.#receive === null ? conn.socket.tryRecvInto(buffer, 0, length) : this.#receive(conn, buffer, length);
    } catch (err) {
      this.#failed(conn, err);
      return;
    }
    if (n < 0) {
      // Nothing there after all (a full read had taken the last bytes): light again, watched for reading.
      conn.heavy = false;
      this.#sync(conn);
      return;
    }
    if (n === 0) {
      this.#endOfInput(conn);
      return;
    }
    this.#scheduler.spend(n);
    const stepwise = this.#style.oneStepAtATime;
    const heavy = n === length;
    if (heavy !== conn.heavy) conn.heavy = heavy;
    // Streaming: its next read waits for its turn in the heavy ring, not for the next wake-up's events.
    if (heavy && !stepwise) this.#scheduler.deferRead(conn);
    if (this.#verbose) this.log.event(`received ${showPayload(buffer, 0, n)} from ${conn.label}`);

    let sent = 0;
    if (conn.pending === 0 && !stepwise) {
      try {
        sent = conn.socket.trySend(buffer, 0, n);
      } catch (err) {
        this.#failed(conn, err);
        return;
      }
      if (sent > 0) {
        this.bytesEchoed += sent;
        if (this.#verbose) this.log.event(`sending ${showPayload(buffer, 0, sent)} to ${conn.label}`);
      } else {
        sent = 0;
      }
    }
    // What was read and what was sent, in one update of the connection's times and counts.
    this.#open.active(conn.fd, n + sent, this.now);
    // The usual end: everything echoed by a connection in the plain reading state, which #sync would
    // leave as it is (no queue, no limit, no ring, READ watched).
    if (sent === n && conn.settled) return;
    // Anything already queued goes first, so a new read queues behind it, whole.
    if (sent < n) {
      conn.queue.push(buffer, sent, n);
      this.#totalPending += n - sent;
      this.#tally.addPending(n - sent);
      this.#memory.grew(this.#totalPending);
    }
    this.#sync(conn);
  }

  /** `conn` is writable: send what is queued, now or in its turn. */
  onWritable(conn: Connection): void {
    if (!conn.open || conn.writeDeferred) return;
    if (!this.#style.oneStepAtATime && this.#scheduler.defersWrite()) {
      this.#scheduler.deferWrite(conn); // not watched for writing meanwhile
      this.#sync(conn);
      return;
    }
    this.#write(conn);
  }

  /** Sends what `conn` has queued, as much as the kernel takes. */
  #write(conn: Connection): void {
    this.#scheduler.spend(CALL_COST_BYTES);
    if (conn.pending > 0) {
      const queue = conn.queue;
      const preview = this.#verbose ? queue.peek(PAYLOAD_PREVIEW) : undefined;
      let sent: number;
      try {
        sent = queue.sendTo(conn.socket);
      } catch (err) {
        this.#failed(conn, err);
        return;
      }
      if (sent > 0) {
        this.#scheduler.spend(sent);
        this.#echoed(conn, sent);
        this.#dequeued(sent);
        if (preview) this.log.event(`sending ${showPayload(preview, 0, Math.min(sent, preview.length), sent)} to ${conn.label}`);
      }
      if (queue.size > 0) {
        this.#sync(conn);
        return;
      }
      conn.releaseQueue();
      if (this.#style.oneStepAtATime) {
        // The tutorial finds its queue empty on the next writable event, not right after sending.
        conn.emptyUnannounced = true;
        this.#sync(conn);
        return;
      }
      if (this.#verbose) this.log.event(`output queue for ${conn.label} is empty`);
    } else if (conn.emptyUnannounced) {
      conn.emptyUnannounced = false;
      if (this.#verbose) this.log.event(`output queue for ${conn.label} is empty`);
    }
    if (conn.eof) {
      this.#closeAfterEof(conn);
      return;
    }
    this.#sync(conn);
  }

  /**
   * An error or hang-up on a connection the backend does not read from: a send reports the real error;
   * if it does not fail, the peer is gone anyway and the connection is closed.
   */
  onError(conn: Connection): void {
    if (!conn.open) return;
    if (conn.pending > 0) {
      try {
        const sent = conn.queue.sendTo(conn.socket);
        if (sent > 0) {
          this.#echoed(conn, sent);
          this.#dequeued(sent);
        }
      } catch (err) {
        this.#failed(conn, err);
        return;
      }
      if (conn.pending === 0) conn.releaseQueue();
    }
    if (conn.pending === 0) {
      // Everything went out after all: past EOF that is the end; otherwise read again, and the read
      // reports the error or the end of input.
      if (conn.eof) this.#closeAfterEof(conn);
      else this.#sync(conn);
      return;
    }
    this.log.connectionError(`closing ${conn.label}: the connection hung up with ${conn.pending} bytes unsent`, this.now);
    this.close(conn);
  }

  /** select()'s exceptional condition (TCP urgent data): the seeds close the connection. */
  onException(conn: Connection): void {
    if (!conn.open) return;
    this.log.connectionError(`handling exceptional condition for ${conn.label}: closing it`, this.now);
    this.close(conn);
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
    this.#dequeued(conn.pending);
    conn.releaseQueue();
    this.#account(conn);
    this.#tally.closed();
    if (conn.overBudget) {
      conn.overBudget = false;
      this.#budgetPaused.delete(conn);
    }
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
    this.#sync(conn);
  }

  /** `n` queued bytes went out or were dropped; under the budget's resume mark, everyone it paused reads again. */
  #dequeued(n: number): void {
    this.#totalPending -= n;
    if (n !== 0) this.#tally.addPending(-n);
    if (this.#budgetPaused.size > 0 && this.#flow.budgetResumes(this.#tally)) {
      for (const conn of [...this.#budgetPaused]) {
        this.#budgetResume(conn);
        if (conn.open) this.#sync(conn);
      }
    }
  }

  #budgetResume(conn: Connection): void {
    conn.overBudget = false;
    this.#budgetPaused.delete(conn);
    if (this.#verbose && conn.open) {
      this.log.event(`resuming reads from ${conn.label}: ${conn.pending} bytes unsent, ${this.#tally.pending} in all`);
    }
  }

  /** Keeps the count of connections holding unsent bytes. */
  #account(conn: Connection): void {
    const holds = conn.pending > 0;
    if (holds === conn.holding) return;
    conn.holding = holds;
    this.#tally.addHolders(holds ? 1 : -1);
  }

  #echoed(conn: Connection, n: number): void {
    this.bytesEchoed += n;
    this.#open.active(conn.fd, n, this.now);
  }

  /** The client shut down its sending side: close now, or once everything it sent has been echoed. */
  #endOfInput(conn: Connection): void {
    conn.eof = true;
    if (conn.pending === 0) {
      this.#closeAfterEof(conn);
      return;
    }
    if (this.#verbose) this.log.event(`${conn.label} finished sending; ${conn.pending} bytes still to echo`);
    this.#sync(conn);
  }

  #closeAfterEof(conn: Connection): void {
    if (this.#verbose) this.log.event(`closing ${conn.label} after reading no data`);
    this.close(conn);
  }

  /** A reset, a broken pipe or another OSError on one connection closes that connection only. */
  #failed(conn: Connection, err: unknown): void {
    if (!(err instanceof OSError)) throw err;
    this.log.connectionError(`closing ${conn.label} after an error: ${err.message}`, this.now);
    this.close(conn);
  }

  /** Brings the connection's pauses and the backend's interest in line with its state: backpressure's rule. */
  #sync(conn: Connection): void {
    this.#account(conn);
    const due = this.#flow.transitions(conn, this.#tally);
    if (due !== 0) this.#transition(conn, due);
    const wanted = this.#flow.interest(conn, this.#style);
    if (wanted !== conn.watched) this.#rewatch(conn, wanted);
  }

  /** Applies backpressure's transitions to `conn`, with their log lines. */
  #transition(conn: Connection, due: number): void {
    const pending = conn.pending;
    if (due & BUDGET_RESUME) this.#budgetResume(conn);
    if (due & BUDGET_PAUSE) {
      conn.overBudget = true;
      this.#budgetPaused.add(conn);
      if (this.#verbose) {
        this.log.event(`pausing reads from ${conn.label}: ${pending} bytes unsent, ${this.#tally.pending} in all (--max-total-pending ${this.options.maxTotalPending})`);
      }
    }
    if (due & RESUME) {
      conn.paused = false;
      if (this.#verbose) this.log.event(`resuming reads from ${conn.label}: ${pending} bytes unsent`);
    }
    if (due & PAUSE) {
      conn.paused = true;
      if (this.#verbose) this.log.event(`pausing reads from ${conn.label}: ${pending} bytes unsent`);
    }
  }

  /** Tells the backend; if the kernel refuses (epoll_ctl failing with ENOMEM or ENOSPC), that connection is closed, not the server. */
  #rewatch(conn: Connection, wanted: number): void {
    try {
      if (wanted === 0) this.backend.forget(conn);
      else this.backend.watch(conn, wanted);
    } catch (err) {
      if (!(err instanceof OSError)) throw err;
      this.log.connectionError(`closing ${conn.label}: cannot watch it: ${err.message}`, this.now);
      this.close(conn);
      return;
    }
    conn.watched = wanted;
  }
}
