/** One client connection of the echo server: its socket, its unsent output, its state and counters. */
import type { Socket } from '../socket/index.js';
import { OutputQueue } from './output-queue.js';
import { formatAddress } from './show.js';

/** Interest bits, as the selectors module numbers them; each backend maps them onto its own API. */
export const READ = 1;
export const WRITE = 2;

export class Connection {
  readonly socket: Socket;
  /** The fd, kept after close so backends can still find their registration. */
  readonly fd: number;
  readonly #address: unknown;
  #label: string | undefined;
  /** Unsent echo output, in order. */
  readonly queue = new OutputQueue();
  /** What the backend watches for this connection (READ | WRITE bits), 0 before the first registration. */
  watched = 0;
  /** Reading stopped because too much output is pending; resumes when it drains to half. */
  paused = false;
  /** Reading stopped because the whole server holds too much (--max-total-pending). */
  overBudget = false;
  /** Counted among the connections holding unsent output (the core's bookkeeping). */
  holding = false;
  /** --tutorial: everything was sent; the next writable event logs "output queue for … is empty". */
  emptyUnannounced = false;
  /** Its last read filled the whole read length, so more is probably waiting: read after the light ones. */
  heavy = false;
  /** Waiting in one of the core's rings for its read (served later in this wake-up or in the next ones). */
  deferred = false;
  /** Waiting in the core's write ring for its send. */
  writeDeferred = false;
  /** The client shut down its sending side: echo what is queued, then close. */
  eof = false;
  open = true;
  /** Monotonic ms of the last byte read or sent, for --idle-timeout. */
  lastActive: number;
  bytesIn = 0;
  bytesOut = 0;
  /** For --min-rate: when the current window began (monotonic ms), and bytesIn + bytesOut then. */
  windowStart: number;
  windowBase = 0;

  constructor(socket: Socket, address: unknown, now: number) {
    this.socket = socket;
    this.fd = socket.fileno();
    this.#address = address;
    this.lastActive = now;
    this.windowStart = now;
  }

  /** For select(): a Connection can be put in its lists directly, like the seeds' socket objects. */
  fileno(): number {
    return this.fd;
  }

  /** The peer as "127.0.0.1:55821" ("[::1]:55821" for IPv6), built on first use. */
  get label(): string {
    return (this.#label ??= formatAddress(this.#address));
  }
}
