/**
 * The echo path of a connection: read into one reused buffer, echo straight back what the kernel takes,
 * queue only the rest and send it when writable, then the end of input, errors that close that connection
 * only, and bringing its pauses and the backend's interest in line with its state (`sync`). The rules it
 * follows are the policies (../policies/): the fair scheduler's shares and turns, backpressure's marks,
 * the echo style (--tutorial). EchoCore owns the connections, the loop's rhythm and the closing; this class
 * is what happens to one connection between a ready event and the next wait.
 *
 * With a backend that sends for the core (core/backend.ts: a completion backend's `queueEcho`,
 * `sendQueued`), a read hands the bytes to the backend's output instead of sending them, and a write
 * collects what its sends completed; the bytes are counted as unsent in between, as the core's own queue's.
 */
import { OSError } from '../../errors.js';
import type { EventLog } from '../log/event-log.js';
import { PAYLOAD_PREVIEW, showPayload } from '../log/show.js';
import type { ServerOptions } from '../options.js';
import { Backpressure, BUDGET_PAUSE, BUDGET_RESUME, PAUSE, RESUME } from '../policies/backpressure.js';
import type { MemoryReturn } from '../policies/memory.js';
import { CALL_COST_BYTES, READ_BUFFER_BYTES, type FairScheduler, type TurnTaker } from '../policies/scheduler.js';
import type { EchoStyle } from '../policies/tutorial.js';
import { READ, type Interest } from './backend.js';
import type { Connection, ConnectionTable } from './connection.js';
import type { Tally } from './tally.js';

/** What the echo path needs of the core that owns it: its state, and the close of a connection. */
export interface EchoHost {
  readonly running: boolean;
  /** Monotonic ms at the last wake-up. */
  readonly now: number;
  readonly backend: Interest;
  /** Stops watching and closes `conn` (and calls `released`). */
  close(conn: Connection): void;
}

/** A backend that sends for the core (the three output methods of core/backend.ts). */
type Sender = Required<Pick<Interest, 'queueEcho' | 'sendQueued' | 'peekQueued'>>;

/** The core's parts the echo path shares: the table's times and counts, the totals, the policies. */
export interface EchoParts {
  readonly options: ServerOptions;
  readonly log: EventLog;
  readonly open: ConnectionTable;
  readonly tally: Tally;
  readonly scheduler: FairScheduler<Connection>;
  readonly memory: MemoryReturn;
  readonly style: EchoStyle;
}

export class EchoPath implements TurnTaker<Connection> {
  /** Bytes sent back, in all. */
  bytesEchoed = 0;

  readonly #host: EchoHost;
  readonly #options: ServerOptions;
  readonly #log: EventLog;
  readonly #verbose: boolean;
  readonly #open: ConnectionTable;
  readonly #tally: Tally;
  readonly #scheduler: FairScheduler<Connection>;
  readonly #memory: MemoryReturn;
  /** The server's pacing, or the PyMOTW tutorial's (--tutorial). */
  readonly #style: EchoStyle;
  readonly #flow: Backpressure;
  readonly #buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  /** Unsent bytes of this server's connections together (the memory it holds). */
  #totalPending = 0;
  /** Connections not read because the server as a whole holds too much. */
  readonly #budgetPaused = new Set<Connection>();
  /** A completion backend's read (its bytes already received), or null: the socket's recv. */
  #receive: ((conn: Connection, into: Buffer, length: number) => number) | null = null;
  /** A backend that sends for the core, or null: the core sends, and queues what the kernel does not take. */
  #sender: Sender | null = null;

  constructor(host: EchoHost, parts: EchoParts) {
    this.#host = host;
    this.#options = parts.options;
    this.#log = parts.log;
    this.#verbose = parts.log.verbose;
    this.#open = parts.open;
    this.#tally = parts.tally;
    this.#scheduler = parts.scheduler;
    this.#memory = parts.memory;
    this.#style = parts.style;
    this.#flow = new Backpressure(parts.options);
  }

  /** Unsent bytes held for all connections together. */
  get totalPending(): number {
    return this.#totalPending;
  }

  /** The scheduler's turns run while the server does. */
  get running(): boolean {
    return this.#host.running;
  }

  /** The backend is chosen: a completion backend's receive replaces the socket's recv, its sends the core's. */
  attach(backend: Interest): void {
    this.#receive = backend.receive?.bind(backend) ?? null;
    const { queueEcho, sendQueued, peekQueued } = backend;
    this.#sender = queueEcho !== undefined && sendQueued !== undefined && peekQueued !== undefined ? (backend as Sender) : null;
  }

  // ---- events ------------------------------------------------------------------------------------------

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
      this.sync(conn);
      return;
    }
    this.#read(conn, this.#style.readLength(this.#flow.readLength(this.#scheduler.readShare, this.#tally)));
  }

  /** A turn in a read ring: a full-size read, unless a limit paused the connection meanwhile. */
  readTurn(conn: Connection): boolean {
    if (!this.#flow.readable(conn)) {
      this.sync(conn); // watched again for what it needs, and read once it resumes
      return false;
    }
    this.#read(conn, this.#flow.readLength(READ_BUFFER_BYTES, this.#tally));
    return true;
  }

  /** A turn in the write ring: send what is queued. */
  writeTurn(conn: Connection): void {
    this.#write(conn);
  }

  /** `conn` is writable: send what is queued, now or in its turn. */
  onWritable(conn: Connection): void {
    if (!conn.open || conn.writeDeferred) return;
    if (!this.#style.oneStepAtATime && this.#scheduler.defersWrite()) {
      this.#scheduler.deferWrite(conn); // not watched for writing meanwhile
      this.sync(conn);
      return;
    }
    this.#write(conn);
  }

  /**
   * An error or hang-up on a connection the backend does not read from: a send reports the real error;
   * if it does not fail, the peer is gone anyway and the connection is closed.
   */
  onError(conn: Connection): void {
    if (!conn.open) return;
    if (conn.pending > 0) {
      try {
        const sent = this.#sender === null ? conn.queue.sendTo(conn.socket) : this.#sender.sendQueued(conn);
        if (sent > 0) this.#sent(conn, sent);
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
      else this.sync(conn);
      return;
    }
    this.#log.connectionError(`closing ${conn.label}: the connection hung up with ${conn.pending} bytes unsent`, this.#host.now);
    this.#host.close(conn);
  }

  /** select()'s exceptional condition (TCP urgent data): the seeds close the connection. */
  onException(conn: Connection): void {
    if (!conn.open) return;
    this.#log.connectionError(`handling exceptional condition for ${conn.label}: closing it`, this.#host.now);
    this.#host.close(conn);
  }

  /** `conn` is closing: its unsent output is dropped from the totals, and the budget forgets it. */
  released(conn: Connection): void {
    this.#dequeued(conn.pending);
    conn.releaseQueue();
    this.#account(conn);
    if (conn.overBudget) {
      conn.overBudget = false;
      this.#budgetPaused.delete(conn);
    }
  }

  /** Brings the connection's pauses and the backend's interest in line with its state: backpressure's rule. */
  sync(conn: Connection): void {
    this.#account(conn);
    const due = this.#flow.transitions(conn, this.#tally);
    if (due !== 0) this.#transition(conn, due);
    const wanted = this.#flow.interest(conn, this.#style);
    if (wanted !== conn.watched) this.#rewatch(conn, wanted);
  }

  // ---- the echo ----------------------------------------------------------------------------------------

  /** Reads `conn` once (at most `length` bytes) and echoes straight back what the kernel takes. */
  #read(conn: Connection, length: number): void {
    // Every read costs its system calls, even one that brings nothing (an end of input, an error).
    this.#scheduler.spend(CALL_COST_BYTES);
    const buffer = this.#buffer;
    const sender = this.#sender;
    let n: number;
    try {
      if (sender !== null) n = sender.queueEcho(conn, length, this.#verbose ? buffer : null);
      else n = this.#receive === null ? conn.socket.tryRecvInto(buffer, 0, length) : this.#receive(conn, buffer, length);
    } catch (err) {
      this.#failed(conn, err);
      return;
    }
    if (n < 0) {
      // Nothing there after all (a full read had taken the last bytes): light again, watched for reading.
      conn.heavy = false;
      this.sync(conn);
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
    if (this.#verbose) this.#log.event(`received ${showPayload(buffer, 0, n)} from ${conn.label}`);
    if (sender !== null) {
      this.#handedOver(conn, n, sender);
      return;
    }

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
        if (this.#verbose) this.#log.event(`sending ${showPayload(buffer, 0, sent)} to ${conn.label}`);
      } else {
        sent = 0;
      }
    }
    // What was read and what was sent, in one update of the connection's times and counts.
    this.#open.active(conn.fd, n + sent, this.#host.now);
    // The usual end: everything echoed by a connection in the plain reading state, which sync would
    // leave as it is (no queue, no limit, no ring, READ watched).
    if (sent === n && conn.settled) return;
    // Anything already queued goes first, so a new read queues behind it, whole.
    if (sent < n) {
      conn.queue.push(buffer, sent, n);
      this.#queued(n - sent);
    }
    this.sync(conn);
  }

  /**
   * The read's `n` bytes are the backend's output now: unsent until it reports them sent. The server's style
   * starts the send at once (as it sends at once itself); the tutorial's waits for the writable step.
   */
  #handedOver(conn: Connection, n: number, sender: Sender): void {
    conn.addHeld(n);
    this.#queued(n);
    this.#open.active(conn.fd, n, this.#host.now);
    if (!this.#style.oneStepAtATime) {
      if (this.#verbose) this.#log.event(`sending ${showPayload(this.#buffer, 0, n)} to ${conn.label}`);
      let sent: number;
      try {
        sent = sender.sendQueued(conn);
      } catch (err) {
        this.#failed(conn, err);
        return;
      }
      if (sent > 0) this.#sent(conn, sent);
    }
    this.sync(conn);
  }

  /** Sends what `conn` has queued, as much as the kernel takes (or collects what a backend's sends took). */
  #write(conn: Connection): void {
    // A send costs its system call; collecting a backend's completions costs none.
    if (this.#sender === null) this.#scheduler.spend(CALL_COST_BYTES);
    if (conn.pending > 0) {
      if (!(this.#sender === null ? this.#sendQueue(conn) : this.#collectSends(conn, this.#sender))) return;
      if (conn.pending > 0) {
        this.sync(conn);
        return;
      }
      conn.releaseQueue();
      if (this.#style.oneStepAtATime) {
        // The tutorial finds its queue empty on the next writable event, not right after sending.
        conn.emptyUnannounced = true;
        this.sync(conn);
        return;
      }
      // (A backend that sends for the core drains no queue of the core's: nothing to announce.)
      if (this.#verbose && this.#sender === null) this.#log.event(`output queue for ${conn.label} is empty`);
    } else if (conn.emptyUnannounced) {
      conn.emptyUnannounced = false;
      if (this.#verbose) this.#log.event(`output queue for ${conn.label} is empty`);
    }
    if (conn.eof) {
      this.#closeAfterEof(conn);
      return;
    }
    this.sync(conn);
  }

  /** The core's queue to the socket, as much as the kernel takes; false when that failed (`conn` is closed). */
  #sendQueue(conn: Connection): boolean {
    const queue = conn.queue;
    const preview = this.#verbose ? queue.peek(PAYLOAD_PREVIEW) : undefined;
    let sent: number;
    try {
      sent = queue.sendTo(conn.socket);
    } catch (err) {
      this.#failed(conn, err);
      return false;
    }
    if (sent > 0) {
      this.#scheduler.spend(sent);
      this.#sent(conn, sent);
      if (preview) this.#log.event(`sending ${showPayload(preview, 0, Math.min(sent, preview.length), sent)} to ${conn.label}`);
    }
    return true;
  }

  /**
   * A backend's sends of `conn`'s output counted (and, in the tutorial's style, the first one started, with
   * its log line); false when a send failed (`conn` is closed).
   */
  #collectSends(conn: Connection, sender: Sender): boolean {
    const shown = this.#verbose && this.#style.oneStepAtATime ? sender.peekQueued(conn, this.#buffer) : 0;
    let sent: number;
    try {
      sent = sender.sendQueued(conn);
    } catch (err) {
      this.#failed(conn, err);
      return false;
    }
    // (Its bytes were counted against the wake-up's budget when the read handed them over.)
    if (sent > 0) this.#sent(conn, sent);
    else if (shown > 0) this.#log.event(`sending ${showPayload(this.#buffer, 0, shown)} to ${conn.label}`);
    return true;
  }

  /** `n` bytes of `conn`'s echo wait unsent (in the core's queue or the backend's output). */
  #queued(n: number): void {
    this.#totalPending += n;
    this.#tally.addPending(n);
    this.#memory.grew(this.#totalPending);
  }

  /** `n` bytes of `conn`'s unsent echo went out. */
  #sent(conn: Connection, n: number): void {
    if (this.#sender !== null) conn.addHeld(-n);
    this.#echoed(conn, n);
    this.#dequeued(n);
  }

  /** `n` queued bytes went out or were dropped; under the budget's resume mark, everyone it paused reads again. */
  #dequeued(n: number): void {
    this.#totalPending -= n;
    if (n !== 0) this.#tally.addPending(-n);
    if (this.#budgetPaused.size > 0 && this.#flow.budgetResumes(this.#tally)) {
      for (const conn of [...this.#budgetPaused]) {
        this.#budgetResume(conn);
        if (conn.open) this.sync(conn);
      }
    }
  }

  #budgetResume(conn: Connection): void {
    conn.overBudget = false;
    this.#budgetPaused.delete(conn);
    if (this.#verbose && conn.open) {
      this.#log.event(`resuming reads from ${conn.label}: ${conn.pending} bytes unsent, ${this.#tally.pending} in all`);
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
    this.#open.active(conn.fd, n, this.#host.now);
  }

  // ---- endings -----------------------------------------------------------------------------------------

  /** The client shut down its sending side: close now, or once everything it sent has been echoed. */
  #endOfInput(conn: Connection): void {
    conn.eof = true;
    if (conn.pending === 0) {
      this.#closeAfterEof(conn);
      return;
    }
    if (this.#verbose) this.#log.event(`${conn.label} finished sending; ${conn.pending} bytes still to echo`);
    this.sync(conn);
  }

  #closeAfterEof(conn: Connection): void {
    if (this.#verbose) this.#log.event(`closing ${conn.label} after reading no data`);
    this.#host.close(conn);
  }

  /** A reset, a broken pipe or another OSError on one connection closes that connection only. */
  #failed(conn: Connection, err: unknown): void {
    if (!(err instanceof OSError)) throw err;
    this.#log.connectionError(`closing ${conn.label} after an error: ${err.message}`, this.#host.now);
    this.#host.close(conn);
  }

  // ---- interest ----------------------------------------------------------------------------------------

  /** Applies backpressure's transitions to `conn`, with their log lines. */
  #transition(conn: Connection, due: number): void {
    const pending = conn.pending;
    if (due & BUDGET_RESUME) this.#budgetResume(conn);
    if (due & BUDGET_PAUSE) {
      conn.overBudget = true;
      this.#budgetPaused.add(conn);
      if (this.#verbose) {
        this.#log.event(`pausing reads from ${conn.label}: ${pending} bytes unsent, ${this.#tally.pending} in all (--max-total-pending ${this.#options.maxTotalPending})`);
      }
    }
    if (due & RESUME) {
      conn.paused = false;
      if (this.#verbose) this.#log.event(`resuming reads from ${conn.label}: ${pending} bytes unsent`);
    }
    if (due & PAUSE) {
      conn.paused = true;
      if (this.#verbose) this.#log.event(`pausing reads from ${conn.label}: ${pending} bytes unsent`);
    }
  }

  /** Tells the backend; if the kernel refuses (epoll_ctl failing with ENOMEM or ENOSPC), that connection is closed, not the server. */
  #rewatch(conn: Connection, wanted: number): void {
    try {
      if (wanted === 0) this.#host.backend.forget(conn);
      else this.#host.backend.watch(conn, wanted);
    } catch (err) {
      if (!(err instanceof OSError)) throw err;
      this.#log.connectionError(`closing ${conn.label}: cannot watch it: ${err.message}`, this.#host.now);
      this.#host.close(conn);
      return;
    }
    conn.watched = wanted;
  }
}
