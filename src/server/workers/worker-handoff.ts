/**
 * `--balance handoff`: one listener, accepted on the main thread, each connection handed to a worker.
 *
 * Fds belong to the process, not to a thread, so handing a connection over is passing its fd number. Each
 * worker has an inbox: its end of an AF_UNIX datagram socketpair, one datagram per connection ("[fd,
 * address]" as JSON). The inbox is what the worker's core uses as its listener — it is watched like one
 * (readable: a connection is waiting) and its `accept()` adopts the next fd — so every backend and driver
 * serves handed-over connections exactly as accepted ones, and a worker blocked in its wait wakes at once.
 *
 * Ownership moves with the datagram: the acceptor detaches the fd before sending it (and closes it itself
 * if it is closed while holding one no inbox had room for); an inbox closes whatever is still queued in it
 * when it is closed.
 */
import { BlockingIOError, ConnectionAbortedError, InterruptedError, OSError } from '../../errors.js';
import { watch, EVENT_READ, EVENT_WRITE, type Watcher } from '../../loop/index.js';
import { AF_UNIX, SOCK_DGRAM, Socket, socketpair, type SocketAddress } from '../../socket/index.js';
import * as os from '../../os.js';
import { ACCEPT_BACKOFF_MS, ACCEPT_BATCH, acceptNext } from '../policies/admission.js';

/** One datagram is one handed-over connection: its fd and the peer's address, well under this. */
const DATAGRAM_BYTES = 1024;

/** A worker's inbox: a socket whose `accept()` returns the connections the main thread handed over. */
export class HandoffInbox extends Socket {
  readonly #taken: Int32Array;
  readonly #index: number;

  /**
   * Wraps the worker's end of the socketpair (an fd number passed in workerData); `taken[index]` counts
   * the connections taken out (see HandoffAcceptor.taken).
   */
  constructor(fd: number, taken: Int32Array, index: number) {
    super(AF_UNIX, SOCK_DGRAM, 0, fd);
    this.#taken = taken;
    this.#index = index;
    this.setblocking(false);
  }

  /** The next handed-over connection; BlockingIOError when none is waiting, as a listener's accept. */
  override accept(): [Socket, SocketAddress] {
    const datagram = this.recv(DATAGRAM_BYTES);
    // An empty read: the main thread's end is closed (the server is stopping). Nothing was handed over.
    if (datagram.length === 0) throw new BlockingIOError(null, 'the acceptor has closed the hand-off inbox');
    const [fd, address] = decode(datagram);
    Atomics.add(this.#taken, this.#index, 1);
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
        if (datagram.length === 0) break;
        Atomics.add(this.#taken, this.#index, 1);
        closeQuietly(decode(datagram)[0]);
      }
    }
    super.close();
  }
}

function decode(datagram: Buffer): [number, SocketAddress] {
  return JSON.parse(datagram.toString('utf8')) as [number, SocketAddress];
}

export function closeQuietly(fd: number): void {
  try {
    os.close(fd);
  } catch (err) {
    if (!(err instanceof OSError)) throw err; // already closed: nothing of ours left
  }
}

/**
 * Connections each worker has taken out of its inbox, one Int32 cell per worker: with what the acceptor
 * handed over, the main thread knows how many still wait in an inbox, which `openIn` does not count yet.
 */
export function takenCells(workers: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(workers * Int32Array.BYTES_PER_ELEMENT));
}

/**
 * The main thread's side: watches the listener on Node's event loop, accepts, and hands each connection to
 * the least loaded worker — open connections plus those still waiting in its inbox; ties go round. When
 * no inbox has room (every worker far behind), the connection is held and the listener left alone until
 * one has: the rest wait in the kernel's backlog, as they would for a single busy server, none is refused.
 */
export class HandoffAcceptor {
  readonly #listener: Socket;
  /** The main thread's ends of the inboxes' socketpairs. */
  readonly #senders: Socket[] = [];
  /** The workers' ends of the socketpairs, to pass in workerData: the workers own and close them. */
  readonly inboxFds: number[] = [];
  /** Per worker, connections taken out of its inbox (pass to the worker too: its inbox counts there). */
  readonly taken: Int32Array;
  /** Per worker, connections handed over. */
  readonly #handed: number[];
  readonly #openIn: (worker: number) => number;
  readonly #onFailure: (err: OSError) => void;
  #watcher: Watcher | null = null;
  #next = 0;
  #failing = false;
  #backoff: NodeJS.Timeout | null = null;
  /** The connection no inbox had room for, while the senders are watched for room. */
  #held: Buffer | null = null;
  #heldFd = -1;
  #roomWatchers: Watcher[] = [];

  /**
   * `openIn(i)`: the connections worker i has open now. `onFailure`: accept failed for a reason other than
   * "nothing pending" (the first failure of an episode only; the listener rests 100 ms each time).
   */
  constructor(listener: Socket, workers: number, openIn: (worker: number) => number, onFailure: (err: OSError) => void) {
    this.#listener = listener;
    this.#openIn = openIn;
    this.#onFailure = onFailure;
    this.taken = takenCells(workers);
    this.#handed = new Array<number>(workers).fill(0);
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
  }

  /** True while a connection waits for room in an inbox (and the listener is not watched). */
  get holding(): boolean {
    return this.#held !== null;
  }

  /** Starts accepting (the workers are ready). */
  start(): void {
    this.#watcher = watch(this.#listener, EVENT_READ, () => this.#acceptAll());
  }

  /** Stops accepting and closes the listener and the senders (connections in the inboxes are the workers'). */
  close(): void {
    if (this.#backoff !== null) clearTimeout(this.#backoff);
    this.#backoff = null;
    this.#watcher?.close();
    this.#watcher = null;
    this.#unwatchRoom();
    if (this.#held !== null) closeQuietly(this.#heldFd);
    this.#held = null;
    for (const sender of this.#senders) sender.close();
    this.#listener.close();
  }

  #acceptAll(): void {
    for (let i = 0; i < ACCEPT_BATCH && this.#held === null; i++) {
      const accepted = acceptNext(this.#listener);
      if (accepted === 'empty') {
        this.#failing = false;
        return;
      }
      if (accepted === 'retry') continue;
      if (accepted instanceof OSError) {
        this.#backOff(accepted);
        return;
      }
      const fd = accepted[0].detach();
      const datagram = Buffer.from(JSON.stringify([fd, accepted[1]]));
      if (!this.#send(datagram, fd)) this.#hold(datagram, fd);
    }
  }

  /** Out of fds (or another accept failure): leave the listener alone for a moment rather than spin. */
  #backOff(err: OSError): void {
    if (!this.#failing) this.#onFailure(err);
    this.#failing = true;
    this.#watcher?.close();
    this.#watcher = null;
    this.#backoff = setTimeout(() => {
      this.#backoff = null;
      this.start();
    }, ACCEPT_BACKOFF_MS);
  }

  /** Sends the connection to the least loaded worker whose inbox has room; false when none has. */
  #send(datagram: Buffer, fd: number): boolean {
    const n = this.#senders.length;
    let best = this.#next;
    let least = Number.POSITIVE_INFINITY;
    for (let k = 0; k < n; k++) {
      const i = (this.#next + k) % n;
      const load = this.#openIn(i) + this.#handed[i]! - Atomics.load(this.taken, i);
      if (load < least) {
        best = i;
        least = load;
      }
    }
    for (let k = 0; k < n; k++) {
      const i = (best + k) % n;
      try {
        this.#senders[i]!.send(datagram);
      } catch (err) {
        if (err instanceof BlockingIOError || err instanceof InterruptedError) continue;
        closeQuietly(fd);
        throw err;
      }
      this.#handed[i]!++;
      this.#next = (i + 1) % n;
      return true;
    }
    return false;
  }

  /** Every inbox is full: keep this connection, stop accepting, and wait for room in any inbox. */
  #hold(datagram: Buffer, fd: number): void {
    this.#held = datagram;
    this.#heldFd = fd;
    this.#watcher?.close();
    this.#watcher = null;
    this.#roomWatchers = this.#senders.map((sender) => watch(sender, EVENT_WRITE, () => this.#retry()));
  }

  #retry(): void {
    if (this.#held === null || !this.#send(this.#held, this.#heldFd)) return;
    this.#held = null;
    this.#unwatchRoom();
    this.start();
  }

  #unwatchRoom(): void {
    for (const w of this.#roomWatchers) w.close();
    this.#roomWatchers = [];
  }
}
