/**
 * The io_uring server (Linux): a completion backend in the readiness shape the core knows (core/backend.ts),
 * which receives and sends for the core.
 *
 * Each connection the core reads keeps a multishot recv armed into one shared provided-buffer group; the
 * buffers it fills wait in the connection's FIFO (a list threaded through per-buffer arrays: no object per
 * connection). The core's read (`queueEcho`) moves their bytes to the connection's output without copying
 * them: each buffer remembers how much of it was read (the output's end) and how much sent. One send per
 * connection is in flight, straight from the head buffer (`sendBuffer`: no copy either); its completion
 * advances the buffer, gives it back to the kernel once it is sent whole, and sends the next bytes at once
 * (a short send continues from where it stopped). The core collects what went out with `sendQueued`. So an
 * echo costs no system call of its own: a wake-up's recvs, sends and completions share one io_uring_enter.
 *
 * Readiness as the core sees it: READ while a connection is watched for reading and its FIFO holds unread
 * bytes or an end (EOF, an error), WRITE while it is watched for writing and no send of it is in flight
 * (sends completed to collect, an error to raise, or the tutorial's output waiting for its writable step) —
 * both level-triggered, as epoll, so the scheduler, backpressure, the sweeper and the tutorial's pacing
 * work unchanged. The listener is a one-shot POLLIN poll re-armed while accepting, so admission's accept
 * loop, its batch and its EMFILE back-off are the same as everywhere.
 *
 * Flow control of the ring's own: a connection holds at most HELD_BUFFERS buffers, unread or unsent (its recv
 * is cancelled beyond, and while the core pauses it, and re-armed once buffers are sent), so one
 * connection cannot hold the group. A recv that ends with -ENOBUFS (the group dry) is re-armed only after
 * some buffer was recycled, never at once (that would spin).
 *
 * Closing: the recv and the send in flight are cancelled (the kernel holds the socket while they are
 * armed); the buffers are given back, except the one a send still reads: it stays the ring's (lent) until
 * that send's completion is reaped, and is recycled then.
 *
 * The tick is a TIMEOUT operation of TICK_SECONDS kept armed, as the epoll backend's timer fd: a blocking
 * wait returns at least that often, so Node's signal handlers run (a wait in io_uring_enter never lets them).
 */
import { OSError } from '../../errors.js';
import { POLLIN } from '../../select/index.js';
import { ERRNO } from '../../uring/errno.js';
import { IoUring } from '../../uring/index.js';
import { READ, WRITE, type WaitingBackend } from '../core/backend.js';
import type { Connection } from '../core/connection.js';
import { TICK_SECONDS, type EchoCore } from '../core/echo-core.js';

const ENOBUFS = ERRNO.ENOBUFS!;
const ECANCELED = ERRNO.ECANCELED!;
const EPIPE = ERRNO.EPIPE!;

/**
 * The provided-buffer group: BUFFERS of BUFFER_BYTES (16 MiB, shared by every connection of this ring).
 * IOMUX_TEST_URING_BUFFERS (a power of two) makes it smaller: for tests only (a dry group with a few connections).
 */
const GROUP = 0;
const BUFFERS = testBuffers() ?? 1024;
const BUFFER_BYTES = 16 * 1024;
/** Buffers one connection may hold, unread or unsent, before its recv is cancelled (re-armed once some are sent). */
const HELD_BUFFERS = 8;
/** The recv's options, made once (a recv is re-armed after each cancel or dry group). */
const MULTISHOT_RECV = { bufferGroup: GROUP, multishot: true } as const;
/** Submission entries: how many operations one batch carries (a full queue is submitted on the way). */
const SQ_ENTRIES = 1024;

// userData: a recv's is (generation * FDS_PER_GENERATION + fd) * KINDS + RECV, a send's its buffer's id *
// KINDS + SEND (the buffer names its connection); the ring's own operations are negative.
const KINDS = 4;
const RECV = 0;
const SEND = 1;
const FDS_PER_GENERATION = 2 ** 22;
const TICK = -1;
const LISTEN = -2;

// A connection's recv: none, armed, cancelled and not yet reaped, or ended on a dry group (-ENOBUFS).
const IDLE = 0;
const ARMED = 1;
const CANCELLING = 2;
const STARVED = 3;

export function uringBackend(core: EchoCore): WaitingBackend {
  const listener = core.listener;
  const listenFd = listener.fileno();
  const ring = new IoUring(SQ_ENTRIES, { cqEntries: completionEntries(core.options.maxConnections), sendBuffers: 0 });
  try {
    ring.provideBuffers(GROUP, BUFFERS, BUFFER_BYTES);
  } catch (err) {
    ring.close();
    throw err;
  }

  // Per fd (grown with the highest fd): the interest, the recv's state, the FIFO and what ends it, the send.
  let interest = new Uint8Array(0);
  let recvState = new Uint8Array(0);
  /** The generation of userData: bumped when the fd's connection closes, so late completions are told apart. */
  let gen = new Int32Array(0);
  /** The buffers held, oldest first: sent in part or not at all, read in part or not at all. */
  let fifoHead = new Int32Array(0);
  let fifoTail = new Int32Array(0);
  let fifoCount = new Int32Array(0);
  /** The first buffer with bytes the core has not read, or -1. */
  let readHead = new Int32Array(0);
  /** 0 none; 1 end of input; -errno an error the recv reported (each read after the FIFO's bytes). */
  let fifoEnd = new Int32Array(0);
  /** The buffer a send of the fd's is in flight from, or -1. */
  let sending = new Int32Array(0);
  /** Bytes sent since the core last collected them (sendQueued). */
  let sentSince = new Int32Array(0);
  /** -errno a send ended with, raised by the next sendQueued; 0 none. */
  let sendError = new Int32Array(0);
  /** The report number the fd is listed under in this wait (1-based), or 0. */
  let reportAt = new Int32Array(0);
  /** True while the fd is on the `recheck` list. */
  let rechecking = new Uint8Array(0);

  // Per buffer: the next in its FIFO, its bytes, how many the core has read (the output's end), how many
  // went out; and, while a send reads it, its connection's fd and generation (a closed one's is recycled).
  const nextBuf = new Int32Array(BUFFERS).fill(-1);
  const bufLen = new Int32Array(BUFFERS);
  const bufRead = new Int32Array(BUFFERS);
  const bufSent = new Int32Array(BUFFERS);
  const bufOwner = new Int32Array(BUFFERS);
  const bufOwnerGen = new Int32Array(BUFFERS);
  /** The whole group's memory, made once from the first buffer view: copies out of it allocate nothing. */
  let groupBytes: Buffer | null = null;
  let groupBase = 0;

  // This wait's reports, and the fds to look at again before the next one.
  let reportFd = new Int32Array(256);
  let reportEvents = new Int32Array(256);
  let reports = 0;
  let recheck = new Int32Array(256);
  let rechecks = 0;
  /** Fds whose recv ended on a dry group: re-armed after a buffer was recycled. */
  let starved = new Int32Array(64);
  let starvedCount = 0;
  let recycledSinceStarve = false;

  let accepting = true;
  let listenArmed = false;
  let tickArmed = false;
  grow(listenFd);

  function grow(fd: number): void {
    if (fd < interest.length) return;
    const n = Math.max(64, fd + 1, interest.length * 2);
    interest = extend(interest, n);
    recvState = extend(recvState, n);
    gen = extend(gen, n);
    fifoHead = extend(fifoHead, n, -1);
    fifoTail = extend(fifoTail, n, -1);
    fifoCount = extend(fifoCount, n);
    readHead = extend(readHead, n, -1);
    fifoEnd = extend(fifoEnd, n);
    sending = extend(sending, n, -1);
    sentSince = extend(sentSince, n);
    sendError = extend(sendError, n);
    reportAt = extend(reportAt, n);
    rechecking = extend(rechecking, n);
  }

  const recvUserData = (fd: number): number => (gen[fd]! * FDS_PER_GENERATION + fd) * KINDS + RECV;

  function conn(fd: number): Connection | undefined {
    return core.connection(fd);
  }

  /** Whether the fd's recv should be armed: the core reads it (or will, in its turn), with room in its FIFO. */
  function wantsRecv(fd: number, c: Connection): boolean {
    if (!c.open || fifoEnd[fd] !== 0 || fifoCount[fd]! >= HELD_BUFFERS) return false;
    return (interest[fd]! & READ) !== 0 || c.deferred;
  }

  /** Arms or cancels the fd's recv to match wantsRecv (a starved one waits for a recycled buffer). */
  function syncRecv(fd: number, c: Connection): void {
    const state = recvState[fd]!;
    if (wantsRecv(fd, c)) {
      if (state === IDLE) {
        ring.recv(fd, recvUserData(fd), MULTISHOT_RECV);
        recvState[fd] = ARMED;
      }
    } else if (state === ARMED) {
      ring.cancel(recvUserData(fd));
      recvState[fd] = CANCELLING;
    }
  }

  function addRecheck(fd: number): void {
    if (rechecking[fd] === 1) return;
    rechecking[fd] = 1;
    if (rechecks === recheck.length) recheck = extend(recheck, rechecks * 2);
    recheck[rechecks++] = fd;
  }

  function report(fd: number, events: number): void {
    const at = reportAt[fd]!;
    if (at !== 0) {
      reportEvents[at - 1]! |= events;
      return;
    }
    if (reports === reportFd.length) {
      reportFd = extend(reportFd, reports * 2);
      reportEvents = extend(reportEvents, reports * 2);
    }
    reportFd[reports] = fd;
    reportEvents[reports] = events;
    reportAt[fd] = ++reports;
  }

  /** What the fd is ready for, level-triggered: READ with unread bytes or an end, WRITE with no send in flight. */
  function reportReady(fd: number): void {
    const watched = interest[fd]!;
    const events = ((watched & READ) !== 0 && (readHead[fd] !== -1 || fifoEnd[fd] !== 0) ? READ : 0) |
      ((watched & WRITE) !== 0 && sending[fd] === -1 ? WRITE : 0);
    if (events !== 0) report(fd, events);
  }

  /** Gives back what the fd's FIFO holds, but the buffer a send still reads (recycled on its completion). */
  function drain(fd: number): void {
    const inFlight = sending[fd]!;
    for (let id = fifoHead[fd]!; id !== -1;) {
      const next = nextBuf[id]!;
      if (id === inFlight) nextBuf[id] = -1;
      else recycle(id);
      id = next;
    }
    fifoHead[fd] = -1;
    fifoTail[fd] = -1;
    fifoCount[fd] = 0;
    readHead[fd] = -1;
    fifoEnd[fd] = 0;
    sending[fd] = -1;
    sentSince[fd] = 0;
    sendError[fd] = 0;
  }

  function recycle(id: number): void {
    nextBuf[id] = -1;
    ring.recycle(GROUP, id);
    if (starvedCount > 0) recycledSinceStarve = true;
  }

  /** Sends the output at the head of the fd's FIFO (read, not sent yet), if there is any and no send is in flight. */
  function startSend(fd: number): void {
    const id = fifoHead[fd]!;
    if (id === -1 || sending[fd] !== -1 || sendError[fd] !== 0) return;
    const from = bufSent[id]!;
    const length = bufRead[id]! - from;
    if (length <= 0) return;
    ring.sendBuffer(fd, GROUP, id, from, length, id * KINDS + SEND);
    bufOwner[id] = fd;
    bufOwnerGen[id] = gen[fd]!;
    sending[fd] = id;
  }

  function onRecv(fd: number, res: number, id: number, more: boolean): void {
    const c = conn(fd);
    if (res > 0) {
      if (c === undefined) {
        recycle(id); // cannot happen: a closed connection's generation is bumped
        return;
      }
      if (groupBytes === null) {
        const view = ring.buffer(GROUP, id, 0);
        groupBytes = Buffer.from(view.buffer);
        groupBase = view.byteOffset - id * BUFFER_BYTES;
      }
      bufLen[id] = res;
      bufRead[id] = 0;
      bufSent[id] = 0;
      nextBuf[id] = -1;
      if (fifoTail[fd] === -1) fifoHead[fd] = id;
      else nextBuf[fifoTail[fd]!] = id;
      fifoTail[fd] = id;
      fifoCount[fd]!++;
      if (readHead[fd] === -1) readHead[fd] = id;
    } else if (res === -ENOBUFS) {
      if (starvedCount === starved.length) starved = extend(starved, starvedCount * 2);
      starved[starvedCount++] = fd;
      if (c !== undefined && core.log.verbose) core.log.event(`no receive buffer free for ${c.label}: reading it again once one is given back`);
    } else if (res !== -ECANCELED && c !== undefined) {
      fifoEnd[fd] = res === 0 ? 1 : res; // the end (or the error) comes after the bytes before it
    }
    if (!more) recvState[fd] = res === -ENOBUFS ? STARVED : IDLE;
    if (c !== undefined) addRecheck(fd);
  }

  /** A send from buffer `id` completed: the buffer advances (given back once sent whole), the next send starts. */
  function onSend(id: number, res: number): void {
    const fd = bufOwner[id]!;
    if (bufOwnerGen[id] !== gen[fd]) {
      recycle(id); // its connection closed meanwhile: the ring released the buffer with this completion
      return;
    }
    sending[fd] = -1;
    if (res <= 0) {
      sendError[fd] = res < 0 ? res : -EPIPE; // nothing sent of a non-empty send: the peer is gone
    } else {
      sentSince[fd]! += res;
      const sent = (bufSent[id]! += res);
      if (sent === bufLen[id]) {
        const next = nextBuf[id]!;
        fifoHead[fd] = next;
        if (next === -1) fifoTail[fd] = -1;
        fifoCount[fd]!--;
        recycle(id);
      }
      try {
        startSend(fd);
      } catch (err) {
        if (!(err instanceof OSError)) throw err;
        sendError[fd] = -(err.errno ?? EPIPE);
      }
    }
    addRecheck(fd);
  }

  /** Before each wait: re-arm what ended (a starved recv once a buffer came back), report what is ready. */
  function prepare(): void {
    if (accepting && !listenArmed) {
      ring.pollAdd(listenFd, POLLIN, LISTEN);
      listenArmed = true;
    }
    if (recycledSinceStarve) {
      recycledSinceStarve = false;
      const n = starvedCount;
      starvedCount = 0;
      for (let i = 0; i < n; i++) {
        const fd = starved[i]!;
        if (recvState[fd] !== STARVED) continue;
        recvState[fd] = IDLE;
        addRecheck(fd);
      }
    }
    // The fds whose state changed since the last wait: the recv brought in line, readiness reported.
    const n = rechecks;
    rechecks = 0;
    for (let i = 0; i < n; i++) {
      const fd = recheck[i]!;
      rechecking[fd] = 0;
      const c = conn(fd);
      if (c === undefined || !c.open) continue;
      syncRecv(fd, c);
      reportReady(fd);
    }
  }

  return {
    name: 'uring',
    driver: 'blocking',
    fdLimit: Number.POSITIVE_INFINITY,
    watch(c, events) {
      const fd = c.fd;
      grow(fd);
      interest[fd] = events;
      syncRecv(fd, c);
      addRecheck(fd);
    },
    forget(c) {
      const fd = c.fd;
      grow(fd);
      interest[fd] = 0;
      // Stopped reading (paused, past EOF) but open: the recv goes unless the read waits for its turn.
      if (c.open) syncRecv(fd, c);
    },
    closing(c) {
      const fd = c.fd;
      grow(fd);
      interest[fd] = 0;
      // The kernel holds the socket while an operation on it is armed: cancel them, or the peer never sees
      // the close. At shutdown the ring's close cancels everything at once, without a request per connection.
      if (core.running) {
        if (recvState[fd] === ARMED) ring.cancel(recvUserData(fd));
        if (sending[fd] !== -1) ring.cancel(sending[fd]! * KINDS + SEND);
      }
      recvState[fd] = IDLE;
      drain(fd);
      gen[fd] = (gen[fd]! + 1) % (2 ** 29);
    },
    queueEcho(c, length, copy) {
      const fd = c.fd;
      let n = 0;
      let id = readHead[fd]!;
      while (id !== -1 && n < length) {
        const at = bufRead[id]!;
        const take = Math.min(bufLen[id]! - at, length - n);
        if (copy !== null) {
          const start = groupBase + id * BUFFER_BYTES + at;
          groupBytes!.copy(copy, n, start, start + take);
        }
        n += take;
        bufRead[id] = at + take;
        if (at + take < bufLen[id]!) break;
        id = nextBuf[id]!;
      }
      readHead[fd] = id;
      // Bytes or an end left: looked at before the next wait.
      if (n > 0 && (id !== -1 || fifoEnd[fd] !== 0 || recvState[fd] === IDLE)) addRecheck(fd);
      if (n > 0) return n;
      const end = fifoEnd[fd]!;
      if (end === 0) {
        addRecheck(fd);
        return -1;
      }
      if (end === 1) return 0;
      throw OSError.fromErrno(-end);
    },
    sendQueued(c) {
      const fd = c.fd;
      const sent = sentSince[fd]!;
      sentSince[fd] = 0;
      addRecheck(fd); // still watched for writing with nothing in flight: reported again (level-triggered)
      if (sent > 0) {
        startSend(fd);
        return sent;
      }
      const error = sendError[fd]!;
      if (error !== 0) {
        sendError[fd] = 0;
        throw OSError.fromErrno(-error);
      }
      startSend(fd);
      return 0;
    },
    peekQueued(c, into) {
      let n = 0;
      for (let id = fifoHead[c.fd]!; id !== -1 && n < into.length; id = nextBuf[id]!) {
        const from = bufSent[id]!;
        const take = Math.min(bufRead[id]! - from, into.length - n);
        if (take <= 0) break;
        const start = groupBase + id * BUFFER_BYTES + from;
        groupBytes!.copy(into, n, start, start + take);
        n += take;
      }
      return n;
    },
    setAccepting(on) {
      accepting = on;
      if (!on && listenArmed) ring.cancel(LISTEN);
    },
    wait(timeout) {
      for (let i = 0; i < reports; i++) reportAt[reportFd[i]!] = 0;
      reports = 0;
      prepare();
      let ms: number | null = reports > 0 ? 0 : timeout;
      if (ms !== 0 && timeout >= TICK_SECONDS) {
        if (!tickArmed) {
          ring.timeout(TICK_SECONDS * 1000, TICK);
          tickArmed = true;
        }
        ms = null;
      }
      const n = ring.wait(ms === 0 ? 0 : 1, ms);
      for (let i = 0; i < n; i++) {
        const ud = ring.userData(i);
        const res = ring.result(i);
        if (ud < 0) {
          if (ud === TICK) tickArmed = false;
          else if (ud === LISTEN) {
            listenArmed = false;
            if (accepting && res > 0) report(listenFd, READ);
          }
          continue;
        }
        const kind = ud % KINDS;
        if (kind === SEND) {
          onSend((ud - kind) / KINDS, res);
          continue;
        }
        const rest = (ud - kind) / KINDS;
        const fd = rest % FDS_PER_GENERATION;
        if ((rest - fd) / FDS_PER_GENERATION !== gen[fd]) {
          // A completion of a closed connection's recv: its buffer goes back.
          const id = ring.bufferId(i);
          if (id >= 0) recycle(id);
          continue;
        }
        onRecv(fd, res, ring.bufferId(i), ring.hasMore(i));
      }
      // The fds a completion made ready (the rest waits for the next prepare).
      for (let i = 0; i < rechecks; i++) reportReady(recheck[i]!);
      return reports;
    },
    fd(i) {
      return reportFd[i]!;
    },
    events(i) {
      return reportEvents[i]!;
    },
    close() {
      ring.close();
    },
  };
}

/** Completion entries, also the most operations in flight: a recv and a send per connection, and the ring's own. */
function completionEntries(maxConnections: number): number {
  const wanted = Number.isFinite(maxConnections) ? 2 * maxConnections + 64 : 16384;
  let n = 1024;
  while (n < wanted && n < 65536) n *= 2;
  return n;
}

/** IOMUX_TEST_URING_BUFFERS: a smaller buffer group, for tests only (a power of two, 2…1024); otherwise undefined. */
function testBuffers(): number | undefined {
  const value = Number(process.env.IOMUX_TEST_URING_BUFFERS);
  return Number.isInteger(value) && value >= 2 && value <= 1024 && (value & (value - 1)) === 0 ? value : undefined;
}

function extend<T extends Uint8Array | Int32Array>(a: T, n: number, fill = 0): T {
  const grown = new (a.constructor as new (n: number) => T)(n);
  if (fill !== 0) grown.fill(fill);
  grown.set(a);
  return grown;
}
