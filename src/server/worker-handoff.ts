/**
 * `--balance handoff`: one listener, accepted on the main thread, each connection handed to a worker.
 *
 * Fds belong to the process, not to a thread, so handing a connection over is passing its fd number. Each
 * worker has an inbox: its end of an AF_UNIX datagram socketpair, one datagram per connection ("[fd,
 * address]" as JSON). The inbox is what the worker's core uses as its listener — it is watched like one
 * (readable: a connection is waiting) and its `accept()` adopts the next fd — so every backend and driver
 * serves handed-over connections exactly as accepted ones, and a worker blocked in its wait wakes at once.
 *
 * Ownership moves with the datagram: the acceptor detaches the fd before sending it and closes it itself
 * if no inbox takes it; an inbox closes whatever is still queued in it when it is closed.
 */
import { BlockingIOError, ConnectionAbortedError, InterruptedError, OSError } from '../errors.js';
import { watch, EVENT_READ, type Watcher } from '../loop/index.js';
import { AF_UNIX, SOCK_DGRAM, Socket, socketpair, type SocketAddress } from '../socket/index.js';
import * as os from '../os.js';

/** One datagram is one handed-over connection: its fd and the peer's address, well under this. */
const DATAGRAM_BYTES = 1024;
/** Connections accepted per readiness event of the listener (as the core's ACCEPT_BATCH). */
const ACCEPT_BATCH = 256;
/** After accept fails (EMFILE, …), the listener is left alone this long (as the core's backoff). */
const ACCEPT_BACKOFF_MS = 100;

/** A worker's inbox: a socket whose `accept()` returns the connections the main thread handed over. */
export class HandoffInbox extends Socket {
  /** Wraps the worker's end of the socketpair (an fd number passed in workerData). */
  constructor(fd: number) {
    super(AF_UNIX, SOCK_DGRAM, 0, fd);
    this.setblocking(false);
  }

  /** The next handed-over connection; BlockingIOError when none is waiting, as a listener's accept. */
  override accept(): [Socket, SocketAddress] {
    const [fd, address] = decode(this.recv(DATAGRAM_BYTES));
    try {
      return [new Socket(undefined, undefined, undefined, fd), address];
    } catch (err) {
      // Not a socket any more (it cannot be, but the fd is ours to close either way): skipped, as the
      // core skips a connection the client gave up on before it was accepted.
      closeQuietly(fd);
      if (err instanceof OSError) throw new ConnectionAbortedError(null, `handed-over fd ${fd}: ${err.message}`);
      throw err;
    }
  }

  /** Closes the connections still queued, then the inbox. */
  override close(): void {
    if (this.fileno() !== -1) {
      for (;;) {
        let datagram: Buffer;
        try {
          datagram = this.recv(DATAGRAM_BYTES);
        } catch (err) {
          if (err instanceof InterruptedError) continue;
          if (err instanceof OSError) break;
          throw err;
        }
        closeQuietly(decode(datagram)[0]);
      }
    }
    super.close();
  }
}

function decode(datagram: Buffer): [number, SocketAddress] {
  return JSON.parse(datagram.toString('utf8')) as [number, SocketAddress];
}

function closeQuietly(fd: number): void {
  try {
    os.close(fd);
  } catch (err) {
    if (!(err instanceof OSError)) throw err; // already closed: nothing of ours left
  }
}

/** What the acceptor reports to the main thread's log and summary. */
export interface AcceptorEvents {
  /** A connection no worker could take was closed. */
  refused(address: SocketAddress, why: string): void;
  /** accept() failed for a reason other than "nothing pending" (first failure of an episode only). */
  failed(err: OSError): void;
}

/**
 * The main thread's side: watches the listener on Node's event loop, accepts, and hands each connection to
 * the worker with the fewest open (the first of them after the last one chosen, so ties go round).
 */
export class HandoffAcceptor {
  readonly #listener: Socket;
  /** The main thread's ends of the inboxes' socketpairs. */
  readonly #senders: Socket[];
  readonly #openIn: (worker: number) => number;
  /** The workers' ends of the socketpairs, to pass in workerData: the workers own and close them. */
  readonly inboxFds: number[];
  readonly #events: AcceptorEvents;
  #watcher: Watcher | null = null;
  #next = 0;
  #failing = false;
  #backoff: NodeJS.Timeout | null = null;
  /** Per worker, connections handed over. */
  readonly handed: number[];

  /** `openIn(i)`: the connections worker i has open now. */
  constructor(listener: Socket, workers: number, openIn: (worker: number) => number, events: AcceptorEvents) {
    this.#listener = listener;
    this.#openIn = openIn;
    this.#events = events;
    this.#senders = [];
    this.inboxFds = [];
    try {
      for (let i = 0; i < workers; i++) {
        const [mine, theirs] = socketpair(AF_UNIX, SOCK_DGRAM);
        mine.setblocking(false);
        this.#senders.push(mine);
        this.inboxFds.push(theirs.detach());
      }
    } catch (err) {
      this.close();
      for (const fd of this.inboxFds) closeQuietly(fd);
      throw err;
    }
    this.handed = new Array<number>(workers).fill(0);
  }

  /** Starts accepting (the workers are ready). */
  start(): void {
    this.#watcher = watch(this.#listener, EVENT_READ, () => this.#acceptAll());
  }

  /** Stops accepting and closes the listener and the senders (queued connections stay in the inboxes). */
  close(): void {
    if (this.#backoff !== null) clearTimeout(this.#backoff);
    this.#backoff = null;
    this.#watcher?.close();
    this.#watcher = null;
    for (const sender of this.#senders) sender.close();
    this.#listener.close();
  }

  #acceptAll(): void {
    for (let i = 0; i < ACCEPT_BATCH; i++) {
      let accepted: [Socket, SocketAddress];
      try {
        accepted = this.#listener.accept();
      } catch (err) {
        if (err instanceof BlockingIOError) {
          this.#failing = false;
          return;
        }
        if (err instanceof ConnectionAbortedError || err instanceof InterruptedError) continue;
        if (err instanceof OSError) {
          this.#backOff(err);
          return;
        }
        throw err;
      }
      this.#handOver(accepted[0], accepted[1]);
    }
  }

  /** Out of fds (or another accept failure): leave the listener alone for a moment rather than spin. */
  #backOff(err: OSError): void {
    if (!this.#failing) this.#events.failed(err);
    this.#failing = true;
    this.#watcher?.close();
    this.#watcher = null;
    this.#backoff = setTimeout(() => {
      this.#backoff = null;
      this.start();
    }, ACCEPT_BACKOFF_MS);
  }

  #handOver(socket: Socket, address: SocketAddress): void {
    const n = this.#senders.length;
    let best = this.#next;
    let fewest = this.#openIn(best);
    for (let k = 1; k < n && fewest > 0; k++) {
      const i = (this.#next + k) % n;
      const open = this.#openIn(i);
      if (open < fewest) {
        best = i;
        fewest = open;
      }
    }
    const fd = socket.detach();
    const datagram = Buffer.from(JSON.stringify([fd, address]));
    // The chosen worker first, then the others: an inbox is full only while its worker is far behind.
    for (let k = 0; k < n; k++) {
      const i = (best + k) % n;
      try {
        this.#senders[i]!.send(datagram);
      } catch (err) {
        if (err instanceof BlockingIOError || err instanceof InterruptedError) continue;
        closeQuietly(fd);
        throw err;
      }
      this.handed[i]!++;
      this.#next = (i + 1) % n;
      return;
    }
    closeQuietly(fd);
    this.#events.refused(address, "every worker's hand-off queue is full");
  }
}
