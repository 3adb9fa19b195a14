/**
 * One client connection of the echo server (its socket, its unsent output, its state), and the table of
 * all of them. A server holds tens of thousands of idle connections, so each costs as little as it can
 * (see "Memory per idle connection" in docs/benchmarks.md): the object has five fields, all small integers
 * or references (V8 keeps those in place; a fractional number would cost a separate 16-byte box per field).
 * The watched bits, the flags and the peer's port share one field, an IPv4 peer is kept as an integer (its
 * label is built when a log line needs it), the output queue exists only while something is unsent (a
 * backend that sends for the core keeps the output itself: then the field holds its byte count), and
 * the times and byte counts live in the table's fd-indexed Float64Array.
 */
import type { Socket } from '../../socket/index.js';
import { OutputQueue } from './output-queue.js';
import { showAddress } from '../log/show.js';
import { READ, WRITE } from './interest-bits.js';

// `Connection.#bits`: the READ | WRITE bits watched, the flags, and an IPv4 peer's port above them.
const WATCHED = READ | WRITE;
const OPEN = 4;
const PAUSED = 8;
const OVER_BUDGET = 16;
const HOLDING = 32;
const EMPTY_UNANNOUNCED = 64;
const EOF = 128;
const HEAVY = 256;
const DEFERRED = 512;
const WRITE_DEFERRED = 1024;
const PORT_SHIFT = 11;
/** Every flag bit: none of them set (and only READ watched) is the state of most connections, most of the time. */
const FLAGS = OPEN | PAUSED | OVER_BUDGET | HOLDING | EMPTY_UNANNOUNCED | EOF | HEAVY | DEFERRED | WRITE_DEFERRED;

/** `bits` with `flag` set or cleared: the flags' setters (a module function, not a private method: see #bits). */
function withFlag(bits: number, flag: number, on: boolean): number {
  return on ? bits | flag : bits & ~flag;
}

export class Connection {
  readonly socket: Socket;
  /** The fd, kept after close so backends can still find their registration. */
  readonly fd: number;
  /** The peer: an IPv4 address as an int32 (its port in #bits), or the address as accept() returned it. */
  readonly #host: unknown;
  /**
   * Unsent echo output: the core's queue while it has one; otherwise how many bytes a backend that sends
   * for the core holds for it (core/backend.ts `queueEcho`), 0 while there are none (most connections, most
   * of the time). One field for both, so a connection costs no more than before.
   */
  #output: OutputQueue | number = 0;
  /**
   * WATCHED, OPEN, PAUSED, … and the port, in one small integer (27 bits). No private methods either: V8
   * would add a brand field to each instance.
   */
  #bits: number;

  constructor(socket: Socket, address: unknown) {
    this.socket = socket;
    this.fd = socket.fileno();
    const packed = packIPv4(address);
    this.#host = packed === null ? address : packed;
    this.#bits = OPEN | (packed === null ? 0 : (address as [string, number])[1] << PORT_SHIFT);
  }

  /** For select(): a Connection can be put in its lists directly, like the seeds' socket objects. */
  fileno(): number {
    return this.fd;
  }

  /** The peer as "127.0.0.1:55821" ("[::1]:55821" for IPv6), built on each use (log lines only). */
  get label(): string {
    const host = this.#host;
    if (typeof host !== 'number') return showAddress(host);
    return `${host >>> 24}.${(host >>> 16) & 0xff}.${(host >>> 8) & 0xff}.${host & 0xff}:${this.#bits >>> PORT_SHIFT}`;
  }

  /** Unsent bytes. */
  get pending(): number {
    const output = this.#output;
    return typeof output === 'number' ? output : output.size;
  }

  /** The output queue, created on first use: only `push` to it or `sendTo` from it when `pending` > 0. */
  get queue(): OutputQueue {
    const output = this.#output;
    return typeof output === 'number' ? (this.#output = new OutputQueue()) : output;
  }

  /** A backend that sends for the core took (`delta` > 0) or sent (< 0) bytes of this connection's output. */
  addHeld(delta: number): void {
    this.#output = (this.#output as number) + delta;
  }

  /** Drops the output once it is empty (or the connection closes): an idle connection holds no queue. */
  releaseQueue(): void {
    this.#output = 0;
  }

  /** What the backend watches for this connection (READ | WRITE bits), 0 before the first registration. */
  get watched(): number {
    return this.#bits & WATCHED;
  }
  set watched(events: number) {
    this.#bits = (this.#bits & ~WATCHED) | (events & WATCHED);
  }

  /**
   * Open, watched for reading only, and no other flag set: nothing to bring in line after an echo that
   * sent everything it read (the core's fast path; one comparison instead of #sync's checks).
   */
  get settled(): boolean {
    return (this.#bits & (WATCHED | FLAGS)) === (OPEN | READ);
  }

  /** Open until the core closes it. */
  get open(): boolean {
    return (this.#bits & OPEN) !== 0;
  }
  set open(on: boolean) {
    this.#bits = withFlag(this.#bits, OPEN, on);
  }

  /** Reading stopped because too much output is pending; resumes when it drains to half. */
  get paused(): boolean {
    return (this.#bits & PAUSED) !== 0;
  }
  set paused(on: boolean) {
    this.#bits = withFlag(this.#bits, PAUSED, on);
  }

  /** Reading stopped because the whole server holds too much (--max-total-pending). */
  get overBudget(): boolean {
    return (this.#bits & OVER_BUDGET) !== 0;
  }
  set overBudget(on: boolean) {
    this.#bits = withFlag(this.#bits, OVER_BUDGET, on);
  }

  /** Counted among the connections holding unsent output (the core's bookkeeping). */
  get holding(): boolean {
    return (this.#bits & HOLDING) !== 0;
  }
  set holding(on: boolean) {
    this.#bits = withFlag(this.#bits, HOLDING, on);
  }

  /** --tutorial: everything was sent; the next writable event logs "output queue for … is empty". */
  get emptyUnannounced(): boolean {
    return (this.#bits & EMPTY_UNANNOUNCED) !== 0;
  }
  set emptyUnannounced(on: boolean) {
    this.#bits = withFlag(this.#bits, EMPTY_UNANNOUNCED, on);
  }

  /** The client shut down its sending side: echo what is queued, then close. */
  get eof(): boolean {
    return (this.#bits & EOF) !== 0;
  }
  set eof(on: boolean) {
    this.#bits = withFlag(this.#bits, EOF, on);
  }

  /** Its last read filled the whole read length, so more is probably waiting (the core's fairness). */
  get heavy(): boolean {
    return (this.#bits & HEAVY) !== 0;
  }
  set heavy(on: boolean) {
    this.#bits = withFlag(this.#bits, HEAVY, on);
  }

  /** Waiting in one of the core's read rings for its turn (not watched for reading meanwhile). */
  get deferred(): boolean {
    return (this.#bits & DEFERRED) !== 0;
  }
  set deferred(on: boolean) {
    this.#bits = withFlag(this.#bits, DEFERRED, on);
  }

  /** Waiting in the core's write ring for its turn (not watched for writing meanwhile). */
  get writeDeferred(): boolean {
    return (this.#bits & WRITE_DEFERRED) !== 0;
  }
  set writeDeferred(on: boolean) {
    this.#bits = withFlag(this.#bits, WRITE_DEFERRED, on);
  }
}

/**
 * `[host, port]` with a dotted-quad IPv4 host, as an int32 (the port is kept apart); null for anything
 * else (IPv6, AF_UNIX, a host not in canonical form), which is then kept as it is.
 */
function packIPv4(address: unknown): number | null {
  if (!Array.isArray(address) || address.length !== 2) return null;
  const [host, port] = address as unknown[];
  if (typeof host !== 'string' || typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 0xffff) return null;
  let value = 0;
  let part = 0;
  let digits = 0;
  let parts = 0;
  for (let i = 0; i <= host.length; i++) {
    const c = i < host.length ? host.charCodeAt(i) : 0x2e; // a final '.' closes the last part
    if (c === 0x2e) {
      if (digits === 0 || parts === 4) return null;
      value = (value << 8) | part;
      parts++;
      part = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      // Canonical form only (no leading zero), so the label shows exactly what accept() returned.
      if (digits > 0 && part === 0) return null;
      part = part * 10 + (c - 0x30);
      if (++digits > 3 || part > 255) return null;
    } else {
      return null;
    }
  }
  return parts === 4 ? value | 0 : null;
}

/**
 * The open connections by fd, and the per-connection numbers that are fractional or may outgrow a small
 * integer (times in monotonic ms, byte counts): one fd-indexed Float64Array holds them without a box each,
 * a connection's three side by side, so an echo's bookkeeping touches one cache line (the kernel has just
 * evicted most of them during the recv and send it follows).
 */
export class ConnectionTable<C extends { readonly fd: number } = Connection> {
  /** fd → connection; a packed array (grown by push) keeps the lookup fast. */
  readonly #byFd: Array<C | undefined> = [];
  #size = 0;
  /**
   * Per fd, at `fd * TIME_FIELDS`: monotonic ms of the last byte read or sent (--idle-timeout); for
   * --min-rate, when the current window began (monotonic ms) and the bytes read plus sent since.
   */
  #times: Float64Array = new Float64Array(0);

  /** Open connections. */
  get size(): number {
    return this.#size;
  }

  /** One more than the highest fd ever held: `get(fd)` for fd below it visits every open connection. */
  get fdBound(): number {
    return this.#byFd.length;
  }

  get(fd: number): C | undefined {
    return this.#byFd[fd];
  }

  add(conn: C, now: number): void {
    const fd = conn.fd;
    while (this.#byFd.length <= fd) this.#byFd.push(undefined);
    if ((fd + 1) * TIME_FIELDS > this.#times.length) this.#grow(fd + 1);
    this.#byFd[fd] = conn;
    this.#size++;
    const at = fd * TIME_FIELDS;
    this.#times[at + LAST_ACTIVE] = now;
    this.#times[at + WINDOW_START] = now;
    this.#times[at + WINDOW_MOVED] = 0;
  }

  remove(conn: C): void {
    if (this.#byFd[conn.fd] !== conn) return;
    this.#byFd[conn.fd] = undefined;
    this.#size--;
  }

  /** `n` bytes went in or out of the connection on `fd` at `now`. */
  active(fd: number, n: number, now: number): void {
    const at = fd * TIME_FIELDS;
    this.#times[at + LAST_ACTIVE] = now;
    this.#times[at + WINDOW_MOVED] += n;
  }

  /** When a byte last went in or out on `fd` (monotonic ms). */
  lastActive(fd: number): number {
    return this.#times[fd * TIME_FIELDS + LAST_ACTIVE]!;
  }

  /** When `fd`'s current --min-rate window began (monotonic ms). */
  windowStart(fd: number): number {
    return this.#times[fd * TIME_FIELDS + WINDOW_START]!;
  }

  /** Bytes read plus sent on `fd` since its window began. */
  windowMoved(fd: number): number {
    return this.#times[fd * TIME_FIELDS + WINDOW_MOVED]!;
  }

  /** Starts `fd`'s next --min-rate window at `now`. */
  restartWindow(fd: number, now: number): void {
    const at = fd * TIME_FIELDS;
    this.#times[at + WINDOW_START] = now;
    this.#times[at + WINDOW_MOVED] = 0;
  }

  #grow(needed: number): void {
    const fds = Math.max(needed, (this.#times.length / TIME_FIELDS) * 2, 64);
    const grown = new Float64Array(fds * TIME_FIELDS);
    grown.set(this.#times);
    this.#times = grown;
  }
}

/** ConnectionTable's numbers per fd, and where each sits among them. */
const TIME_FIELDS = 3;
const LAST_ACTIVE = 0;
const WINDOW_START = 1;
const WINDOW_MOVED = 2;
