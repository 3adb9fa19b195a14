/**
 * The connection core of the echo server: every rule lives here, so each backend's loop only waits and
 * dispatches. Accepting (with --max-connections, the backend's fd limit, and a backoff when the process is
 * out of fds), reading into one reused buffer and echoing straight back, queueing only what the kernel did
 * not take, backpressure (--max-pending), half-close, per-connection errors, --idle-timeout, the event log,
 * and shutdown with its summary.
 *
 * A backend tells the core what happened (`acceptAll`, `onReadable`, `onWritable`, `onError`,
 * `onException`); the core tells the backend what to watch (`watch`, `forget`, `setAccepting`).
 */
import { performance } from 'node:perf_hooks';
import { OSError } from '../../errors.js';
import { IPPROTO_TCP, TCP_NODELAY, type Socket } from '../../socket/index.js';
import { ACCEPT_BACKOFF_MS, ACCEPT_BATCH, acceptNext } from '../policies/admission.js';
import { Connection, ConnectionTable, READ, WRITE } from './connection.js';
import { EventLog } from '../log/event-log.js';
import { MemoryReturn } from '../policies/memory.js';
import { ReadyRing } from '../policies/ready-ring.js';
import { formatAddress, PAYLOAD_PREVIEW, showPayload } from '../log/show.js';
import type { ServerOptions } from '../options.js';
import { LocalTally, type Tally } from './tally.js';

/** A backend: one event loop over one multiplexing API. */
export interface Backend {
  /** Shown in the start-up line and in refusals. */
  readonly name: string;
  /** Fds at or above this cannot be watched (select's FD_SETSIZE); Infinity when there is no such limit. */
  readonly fdLimit: number;
  /** Watch `conn` for `events` (READ | WRITE, never 0); `conn.watched` still holds the previous bits. */
  watch(conn: Connection, events: number): void;
  /** Stop watching `conn`; called before its socket is closed. */
  forget(conn: Connection): void;
  /** Watch the listener for new connections, or stop (backoff when out of fds). */
  setAccepting(accepting: boolean): void;
  /** Serves until `core.running` turns false. */
  run(): Promise<void>;
  /** Releases the backend's own resources (an epoll fd, a selector). */
  close(): void;
}

/** One read's worth: what a connection can send in one go, and what its queue may exceed the limit by. */
const READ_BUFFER_BYTES = 64 * 1024;
/**
 * What the reads and sends of one wake-up may move together (the last one may pass it, and each ring
 * gets RING_MIN_READS turns anyway): the wake-up stays short whatever the number of busy clients, so the
 * listener and quiet clients are served again soon.
 */
const WAKE_READ_BYTES = 512 * 1024;
/** The read size while many events are ready: 1 MiB shared among them... */
const SHARED_READ_BYTES = 1024 * 1024;
/** ...but no read smaller than this, so a huge crowd still moves. */
const MIN_READ_BYTES = 4 * 1024;
/**
 * What a read or a send counts against WAKE_READ_BYTES besides its bytes: its system calls, which cost
 * about as much as copying this much (a small read and its echo take ~10 µs on loopback).
 */
const CALL_COST_BYTES = 8 * 1024;
/** Turns each ring gets per wake-up even when the budget is spent, so every ring moves. */
const RING_MIN_READS = 2;
/**
 * The longest a blocking wait lasts. A JS signal handler cannot run while the thread sits in select, poll
 * or epoll_wait, so the loop comes back at least this often to let Node deliver SIGINT/SIGTERM.
 */
const TICK_MS = 200;
/**
 * TICK_MS in seconds, for a backend that keeps its own ticking timer (the epoll one, with a timer fd): when
 * `waitTimeout()` returns this much, nothing is due sooner, and such a backend may wait without a timeout.
 */
export const TICK_SECONDS = TICK_MS / 1000;
/** While busy, the loop still yields to Node's event loop this often (signals, nothing else). */
const YIELD_EVERY_MS = 50;

export class EchoCore {
  readonly options: ServerOptions;
  readonly listener: Socket;
  readonly log: EventLog;
  /** Set once by `attach`, before the loop runs. */
  backend!: Backend;
  /** False once a signal (or `stop`) asked the server to finish. */
  running = true;
  /** Monotonic ms at the last wake-up; connections use it as their activity time. */
  now = performance.now();

  /** Connections accepted and served (refused ones not counted). */
  served = 0;
  refused = 0;
  bytesEchoed = 0;
  peak = 0;

  readonly #verbose: boolean;
  /** options.tutorial, kept on the core: the per-event path reads it without loading the options object. */
  readonly #tutorial: boolean;
  /** Where the total budget turns selective (see BUDGET_SELECTIVE), kept on the core for the per-event path. */
  readonly #selectiveAt: number;
  readonly #buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  /** The open connections by fd, with their times and byte counts. */
  readonly #open = new ConnectionTable();
  readonly #resumeBelow: number;
  /** Unsent bytes of this server's connections together (the memory it holds). */
  #totalPending = 0;
  /**
   * What --max-connections and --max-total-pending count: open connections, unsent bytes and connections
   * holding some (the divisor of the average holding) — this server's own, or all workers' (--workers).
   */
  readonly #tally: Tally;
  /** Connections not read because the server as a whole holds too much (see #overBudget). */
  readonly #budgetPaused = new Set<Connection>();
  readonly #memory = new MemoryReturn();
  #stopReason = '';
  #lastYield = performance.now();
  /** When the last event (or the last "timed out" line) happened, for --timeout. */
  #lastEvent = performance.now();
  #waitAnnounced = false;
  /** Monotonic ms when accepting resumes after EMFILE; 0 while accepting. */
  #acceptResumeAt = 0;
  /** accept() failures (other than "nothing pending") since the last success. */
  #acceptFailures = 0;
  #nextIdleSweep = 0;
  /** The read size for this wake-up, from the number of ready events (see #readLength). */
  #fairRead = READ_BUFFER_BYTES;
  /** Bytes read in this wake-up so far, against WAKE_READ_BYTES. */
  #wakeBytes = 0;
  /** Ready light connections whose read waits for its turn (the wake-up's budget was spent). */
  readonly #lightRing = new ReadyRing<Connection>();
  /** Ready heavy connections whose read waits for its turn (see onReadable). */
  readonly #heavyRing = new ReadyRing<Connection>();
  /**
   * How many at the head of the heavy ring were there when the last wake-up ended: those behind them
   * were read in this wake-up (a full read sends a connection to the tail), and wait for the next one.
   */
  #heavyTurns = 0;
  /** Writable connections whose send waits for its turn (the wake-up's budget was spent). */
  readonly #writeRing = new ReadyRing<Connection>();
  /** --tutorial keeps the seeds' one read per event, in event order. */
  readonly #defers: boolean;

  readonly #stopped: Promise<void>;
  #resolveStopped!: () => void;

  constructor(options: ServerOptions, listener: Socket, log: EventLog, tally: Tally = new LocalTally()) {
    this.#tally = tally;
    this.#stopped = new Promise((resolve) => (this.#resolveStopped = resolve));
    this.options = options;
    this.listener = listener;
    this.log = log;
    this.#verbose = log.verbose;
    this.#tutorial = options.tutorial;
    this.#selectiveAt = options.maxTotalPending * BUDGET_SELECTIVE;
    this.#defers = !options.tutorial;
    // Hysteresis: reading resumes once the queue is down to half the limit, not at the first byte sent.
    this.#resumeBelow = Math.floor(options.maxPending / 2);
  }

  /** Unsent bytes held for all connections together. */
  get totalPending(): number {
    return this.#totalPending;
  }

  attach(backend: Backend): void {
    this.backend = backend;
  }

  /** The open connection with this fd, if any (the poll and epoll backends' fd map). */
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

  // ---- the loop's rhythm -------------------------------------------------------------------------------

  /**
   * Before each wait, that is at the end of a wake-up: the reads and sends that waited for their turn (as
   * many as the wake-up's budget leaves), then the seeds' "waiting for the next event" and the log lines.
   */
  beforeWait(): void {
    if (this.waitingTurns > 0) {
      this.#serveRings();
    } else {
      // What #serveRings leaves behind when the rings are empty, without its calls (most wake-ups).
      this.#heavyTurns = 0;
      this.#wakeBytes = 0;
    }
    if (!this.#verbose) return;
    if (!this.#waitAnnounced) {
      this.log.event('');
      this.log.event('waiting for the next event');
      this.#waitAnnounced = true;
    }
    this.log.flush();
  }

  /** How long the next wait may block, in seconds: a tick, or less when --timeout or a backoff ends sooner. */
  waitTimeout(): number {
    if (!this.running || this.waitingTurns > 0) return 0;
    let ms = TICK_MS;
    const t = this.options.timeout;
    if (t !== null) ms = Math.min(ms, this.#lastEvent + t * 1000 - this.now);
    if (this.#acceptResumeAt !== 0) ms = Math.min(ms, this.#acceptResumeAt - this.now);
    return ms > 0 ? ms / 1000 : 0;
  }

  /**
   * After each wait, with the number of ready events: timestamps, the --timeout line, timers, and the read
   * size of this wake-up (`batch`: how many events the reads share; the Node-loop driver, which does not
   * see its batches, passes 1).
   */
  afterWait(events: number, batch = events): void {
    const now = (this.now = performance.now());
    this.#fairRead = batch <= 1 ? READ_BUFFER_BYTES : Math.max(MIN_READ_BYTES, Math.min(READ_BUFFER_BYTES, Math.floor(SHARED_READ_BYTES / batch)));
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

  /** Timers: resume accepting after a backoff, close idle connections. Drivers without a wait call it. */
  housekeeping(now = performance.now()): void {
    this.now = now;
    this.log.tick(now);
    if (this.#acceptResumeAt !== 0 && now >= this.#acceptResumeAt) {
      this.#acceptResumeAt = 0;
      this.backend.setAccepting(true);
    }
    if (this.#memory.tick(this.#totalPending, now)) {
      if (this.#verbose) this.log.event(`returned the memory of drained queues (${this.#totalPending} bytes still unsent)`);
    }
    if (now >= this.#nextIdleSweep) this.#sweepSlow(now);
  }

  // ---- events ------------------------------------------------------------------------------------------

  /** The listener is readable: accept what is pending (up to a batch). */
  acceptAll(): void {
    for (let i = 0; i < ACCEPT_BATCH && this.running; i++) {
      const accepted = acceptNext(this.listener);
      if (accepted === 'empty') {
        this.#acceptFailures = 0; // nothing pending: whatever failed before is over
        return;
      }
      if (accepted === 'retry') continue;
      if (accepted instanceof OSError) {
        this.#backOffAccepting(accepted);
        return;
      }
      if (this.#acceptFailures > 0) {
        this.log.info(`accepting connections again (accept had failed ${plural(this.#acceptFailures, 'time')})`);
        this.#acceptFailures = 0;
      }
      this.#admit(accepted[0], accepted[1]);
    }
  }

  /** Connections whose read or send waits for a later turn (a driver without a wait of its own runs a turn soon). */
  get waitingTurns(): number {
    return this.#lightRing.size + this.#heavyRing.size + this.#writeRing.size;
  }

  /**
   * `conn` is readable (or has an error or hang-up pending). A light connection (its last read emptied
   * its socket: an interactive client, a new one) is read at once while the wake-up's budget lasts; a
   * heavy one (its last read was full: it is streaming) joins the heavy ring, and light ones past the
   * budget join the light ring, both served first in first out at the end of the wake-up and in the next
   * ones. So one wake-up does a bounded amount of work, quiet clients do not queue behind busy ones, and
   * none starves: readiness is level-triggered, so a connection not read now is reported again, and its
   * ring keeps its place meanwhile.
   */
  onReadable(conn: Connection): void {
    if (!conn.open) return;
    // Its turn in a ring comes (an error or hang-up reported meanwhile is found by that read).
    if (conn.deferred) return;
    if ((conn.watched & READ) === 0) {
      // Not reading (paused or past EOF), so this is an error or hang-up: let a send decide.
      this.onError(conn);
      return;
    }
    if (this.#defers && (conn.heavy || this.#lightRing.size > 0 || this.#wakeBytes >= WAKE_READ_BYTES)) {
      // Light ones keep their order too: behind those deferred before, once the budget is spent.
      this.#defer(conn, conn.heavy ? this.#heavyRing : this.#lightRing);
      this.#sync(conn);
      return;
    }
    this.#read(conn, this.#tutorial ? TUTORIAL_RECV_BYTES : this.#readLength(this.#fairRead));
  }

  /** `conn` waits in `ring`; in the heavy ring, the caller's #sync stops watching it for reading meanwhile. */
  #defer(conn: Connection, ring: ReadyRing<Connection>): void {
    conn.deferred = true;
    ring.push(conn);
  }

  /**
   * The rings' turn at the end of a wake-up: the deferred light connections, then the heavy ones, each
   * in arrival order while the wake-up's budget lasts, and at least RING_MIN_READS of each ring, so both
   * move however much the others took; each connection once. A full-size read each: the budget, not the
   * read size, keeps the wake-up short. Then the next wake-up's budget starts.
   */
  #serveRings(): void {
    const reads = this.#serveRing(this.#lightRing, this.#lightRing.size) + this.#serveRing(this.#heavyRing, this.#heavyTurns);
    this.#heavyTurns = this.#heavyRing.size;
    let writes = 0;
    for (let left = this.#writeRing.size; left > 0 && (writes < RING_MIN_READS || this.#wakeBytes < WAKE_READ_BYTES); left--) {
      const conn = this.#writeRing.shift()!;
      conn.writeDeferred = false;
      if (!conn.open) continue;
      writes++;
      this.#write(conn);
    }
    this.#wakeBytes = 0;
    // A round of the rings is a wake-up's worth of work: the log says so even if no event came with it.
    if (reads + writes > 0) this.#waitAnnounced = false;
  }

  /** Serves up to `turns` connections from the head of `ring`. */
  #serveRing(ring: ReadyRing<Connection>, turns: number): number {
    let reads = 0;
    for (let left = turns; left > 0 && this.running && (reads < RING_MIN_READS || this.#wakeBytes < WAKE_READ_BYTES); left--) {
      const conn = ring.shift()!;
      conn.deferred = false;
      if (!conn.open) continue;
      if (!this.#wantsRead(conn)) {
        // Paused by a limit meanwhile: watched again for what it needs, and read once it resumes.
        this.#sync(conn);
        continue;
      }
      reads++;
      this.#read(conn, this.#readLength(READ_BUFFER_BYTES));
    }
    return reads;
  }

  /** Reads `conn` once (at most `length` bytes) and echoes straight back what the kernel takes. */
  #read(conn: Connection, length: number): void {
    // Every read costs its system calls, even one that brings nothing (an end of input, an error).
    this.#wakeBytes += CALL_COST_BYTES;
    const buffer = this.#buffer;
    let n: number;
    try {
      n = conn.socket.tryRecvInto(buffer, 0, length);
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
    this.#wakeBytes += n;
    const heavy = n === length;
    if (heavy !== conn.heavy) conn.heavy = heavy;
    // Streaming: its next read waits for its turn in the heavy ring, not for the next wake-up's events.
    if (conn.heavy && this.#defers) this.#defer(conn, this.#heavyRing);
    if (this.#verbose) this.log.event(`received ${showPayload(buffer, 0, n)} from ${conn.label}`);

    let sent = 0;
    // --tutorial: everything read is queued and sent on a writable event, as the PyMOTW server does.
    if (conn.pending === 0 && !this.#tutorial) {
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

  /** `conn` is writable: send what is queued. */
  onWritable(conn: Connection): void {
    if (!conn.open || conn.writeDeferred) return;
    if (this.#defers && (this.#writeRing.size > 0 || this.#wakeBytes >= WAKE_READ_BYTES)) {
      // The wake-up's budget is spent: its turn comes in the write ring (not watched for writing meanwhile).
      conn.writeDeferred = true;
      this.#writeRing.push(conn);
      this.#sync(conn);
      return;
    }
    this.#write(conn);
  }

  /** Sends what `conn` has queued, as much as the kernel takes. */
  #write(conn: Connection): void {
    this.#wakeBytes += CALL_COST_BYTES;
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
        this.#wakeBytes += sent;
        this.#echoed(conn, sent);
        this.#dequeued(sent);
        if (preview) this.log.event(`sending ${showPayload(preview, 0, Math.min(sent, preview.length), sent)} to ${conn.label}`);
      }
      if (queue.size > 0) {
        this.#sync(conn);
        return;
      }
      conn.releaseQueue();
      if (this.options.tutorial) {
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

  /**
   * Closes connections silent for --idle-timeout, and those that moved fewer than --min-rate bytes a second
   * over their last --rate-window (a client trickling a byte every few seconds is never idle, yet holds a
   * slot for good). Runs every quarter of the shorter period, at most every second.
   */
  #sweepSlow(now: number): void {
    const { idleTimeout: idle, minRate, rateWindow } = this.options;
    const idleMs = idle === null ? Number.POSITIVE_INFINITY : idle * 1000;
    const windowMs = minRate > 0 ? rateWindow * 1000 : Number.POSITIVE_INFINITY;
    if (idleMs === Number.POSITIVE_INFINITY && windowMs === Number.POSITIVE_INFINITY) {
      this.#nextIdleSweep = Number.POSITIVE_INFINITY;
      return;
    }
    const open = this.#open;
    for (let fd = 0; fd < open.fdBound; fd++) {
      const conn = open.get(fd);
      if (conn === undefined) continue;
      if (now - open.lastActive(fd) >= idleMs) {
        if (this.#verbose) this.log.event(`closing ${conn.label} after ${idle} s without activity`);
        this.close(conn);
        continue;
      }
      if (now - open.windowStart(fd) < windowMs) continue;
      const moved = open.windowMoved(fd);
      if (moved < minRate * rateWindow) {
        if (this.#verbose) this.log.event(`closing ${conn.label}: ${plural(moved, 'byte')} in ${rateWindow} s, below --min-rate ${minRate} bytes a second`);
        this.close(conn);
        continue;
      }
      open.restartWindow(fd, now);
    }
    this.#nextIdleSweep = now + Math.min(idleMs / 4, windowMs / 4, 1000);
  }

  #admit(socket: Socket, address: unknown): void {
    const fd = socket.fileno();
    if (fd >= this.backend.fdLimit) {
      this.#refuse(socket, address, `fd ${fd} is out of range for ${this.backend.name} (FD_SETSIZE ${this.backend.fdLimit})`);
      return;
    }
    if (!this.#tally.tryOpen(this.options.maxConnections)) {
      const n = this.#tally.open;
      const open = `${plural(n, 'connection')} ${n === 1 ? 'is' : 'are'} open`;
      this.#refuse(socket, address, `${open} (--max-connections ${this.options.maxConnections})`);
      return;
    }
    let conn: Connection;
    try {
      socket.setblocking(false);
      // Echoes are small writes answering small reads: Nagle's algorithm would only delay them.
      socket.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
      conn = new Connection(socket, address);
    } catch (err) {
      this.#tally.closed();
      if (!(err instanceof OSError)) throw err;
      this.log.connectionError(`dropping connection from ${formatAddress(address)}: ${err.message}`, this.now);
      socket.close();
      return;
    }
    this.#open.add(conn, this.now);
    this.served++;
    if (this.#open.size > this.peak) this.peak = this.#open.size;
    if (this.#verbose) this.log.event(`new connection from ${conn.label}`);
    this.#sync(conn);
  }

  #refuse(socket: Socket, address: unknown, why: string): void {
    this.refused++;
    // Not rate-limited (yet): the select backend's test counts one line per refusal. The summary counts
    // them too, and a log nobody reads no longer blocks, so a flood of refusals costs log lines only.
    this.log.error(`refusing connection from ${formatAddress(address)}: ${why}`);
    socket.close();
  }

  /**
   * accept() failed for a reason other than "nothing pending" (EMFILE/ENFILE when out of fds, ENOBUFS, …).
   * The pending connection stays in the backlog, so a level-triggered listener would report it again at
   * once: stop watching the listener for a moment instead of spinning.
   */
  #backOffAccepting(err: OSError): void {
    // One line per episode, not one per retry.
    if (this.#acceptFailures++ === 0) {
      this.log.error(`accept failed: ${err.message}; retrying every ${ACCEPT_BACKOFF_MS} ms, other connections are still served`);
    }
    if (this.#acceptResumeAt === 0) this.backend.setAccepting(false);
    this.#acceptResumeAt = performance.now() + ACCEPT_BACKOFF_MS;
  }

  /**
   * How much one read may take: `wanted` (a light connection's share of SHARED_READ_BYTES among the
   * wake-up's events, or the whole buffer for a turn in the ring). Near the total budget, a connection
   * that holds nothing (and so is still read) adds at most a small read if its send then falls short:
   * the budget is passed by at most that much per connection.
   */
  #readLength(wanted: number): number {
    return this.#tally.pending >= this.#selectiveAt ? OVER_BUDGET_READ_BYTES : wanted;
  }

  /** Whether a connection holding `pending` bytes must stop reading, the server holding what it does. */
  #overBudget(pending: number): boolean {
    const total = this.#tally.pending;
    if (total >= this.options.maxTotalPending) return true;
    return total >= this.#selectiveAt && pending * this.#tally.holders >= total;
  }

  /** `n` queued bytes went out or were dropped; under the resume mark, everyone paused by the budget reads again. */
  #dequeued(n: number): void {
    this.#totalPending -= n;
    if (n !== 0) this.#tally.addPending(-n);
    if (this.#budgetPaused.size > 0 && this.#tally.pending < this.options.maxTotalPending * BUDGET_RESUME) {
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

  /** Whether the connection's state lets it be read (it is not past EOF nor paused by a limit). */
  #wantsRead(conn: Connection): boolean {
    return !(conn.eof || conn.paused || conn.overBudget);
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

  /**
   * Brings the backend's interest in line with the connection's state. If the kernel refuses the change
   * (epoll_ctl failing with ENOMEM or ENOSPC, say), that connection is closed, not the server.
   */
  #sync(conn: Connection): void {
    const pending = conn.pending;
    this.#account(conn);
    if (conn.overBudget) {
      // Holding nothing now, it cannot add to the total by more than one read: read it again.
      if (pending === 0) this.#budgetResume(conn);
    } else if (pending > 0 && this.#overBudget(pending)) {
      conn.overBudget = true;
      this.#budgetPaused.add(conn);
      if (this.#verbose) {
        this.log.event(`pausing reads from ${conn.label}: ${pending} bytes unsent, ${this.#tally.pending} in all (--max-total-pending ${this.options.maxTotalPending})`);
      }
    }
    if (conn.paused) {
      if (pending <= this.#resumeBelow) {
        conn.paused = false;
        if (this.#verbose) this.log.event(`resuming reads from ${conn.label}: ${pending} bytes unsent`);
      }
    } else if (pending > this.options.maxPending) {
      conn.paused = true;
      if (this.#verbose) this.log.event(`pausing reads from ${conn.label}: ${pending} bytes unsent`);
    }
    // --tutorial takes one step per wake-up (read, send, find the queue empty): no reading meanwhile.
    const tutorialStep = this.options.tutorial && (pending > 0 || conn.emptyUnannounced);
    // A connection in the heavy ring is not watched for reading: the ring is its readiness (see onReadable).
    // One in the light ring still is (reported again and skipped): light ones wait there only when a
    // wake-up's budget ran out, a few at a time, and this spares them two epoll_ctl calls each.
    const reading = !tutorialStep && this.#wantsRead(conn) && !(conn.deferred && conn.heavy);
    const writing = (pending > 0 || conn.emptyUnannounced) && !conn.writeDeferred;
    const wanted = (reading ? READ : 0) | (writing ? WRITE : 0);
    if (wanted === conn.watched) return;
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

/**
 * The total budget's thresholds, as fractions of --max-total-pending: from SELECTIVE up, connections
 * holding at least the average stop being read (the ones holding the most go first); from 1, every
 * connection holding anything; below RESUME, all of them are read again (hysteresis, so reading does not
 * flap at the limit).
 */
const BUDGET_SELECTIVE = 7 / 8;
const BUDGET_RESUME = 3 / 4;
/** --tutorial reads as the seeds do: `s.recv(1024)`. */
const TUTORIAL_RECV_BYTES = 1024;
/** The read size near the total budget. */
const OVER_BUDGET_READ_BYTES = 4 * 1024;

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
