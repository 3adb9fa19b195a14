/**
 * The io_uring server (Linux): a completion backend in the readiness shape the core knows (core/backend.ts).
 *
 * Each connection the core reads keeps a multishot recv armed into one shared provided-buffer group; the
 * buffers it fills wait in the connection's FIFO (a list threaded through per-buffer arrays: no object per
 * connection) until the core reads them with `receive()` — the read half of the core's echo, with the recv
 * already done — and go back to the kernel as soon as they are copied out. A connection is reported READ
 * while it is watched for reading and its FIFO holds bytes or an end (EOF, an error), as a level-triggered
 * readiness backend would; so the scheduler, backpressure, the sweeper and the tutorial's pacing work
 * unchanged. The core's sends stay its own (a non-blocking send, the queue for the rest); WRITE interest is a
 * one-shot POLLOUT poll re-armed while wanted, and the listener a one-shot POLLIN poll re-armed while
 * accepting, so admission's accept loop, its batch and its EMFILE back-off are the same as everywhere.
 *
 * Flow control of the ring's own: a recv stays armed while the core reads the connection or its read waits
 * for a turn in the scheduler's rings, and is cancelled past RECV_AHEAD buffers (or when the core pauses the
 * connection), so one connection cannot hold the group. A recv that ends with -ENOBUFS (the group dry) is
 * re-armed only after some buffer was recycled, never at once (that would spin).
 *
 * The tick is a TIMEOUT operation of TICK_SECONDS kept armed, as the epoll backend's timer fd: a blocking
 * wait returns at least that often, so Node's signal handlers run (a wait in io_uring_enter never lets them).
 */
import { OSError } from '../../errors.js';
import { POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT } from '../../select/index.js';
import { ERRNO } from '../../uring/errno.js';
import { IoUring } from '../../uring/index.js';
import { READ, WRITE, type WaitingBackend } from '../core/backend.js';
import type { Connection } from '../core/connection.js';
import { TICK_SECONDS, type EchoCore } from '../core/echo-core.js';

const ENOBUFS = ERRNO.ENOBUFS!;
const ECANCELED = ERRNO.ECANCELED!;

/** The provided-buffer group: BUFFERS of BUFFER_BYTES (16 MiB, shared by every connection of this ring). */
const GROUP = 0;
const BUFFERS = 1024;
const BUFFER_BYTES = 16 * 1024;
/** Buffers one connection may hold unread before its recv is cancelled (re-armed once it is read). */
const RECV_AHEAD = 4;
/** The recv's options, made once (a recv is re-armed after each cancel or dry group). */
const MULTISHOT_RECV = { bufferGroup: GROUP, multishot: true } as const;
/** Submission entries: how many operations one batch carries (a full queue is submitted on the way). */
const SQ_ENTRIES = 1024;

// userData: (generation * FDS_PER_GENERATION + fd) * KINDS + kind; the ring's own operations are negative.
const KINDS = 4;
const RECV = 0;
const WRITE_POLL = 1;
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

  // Per fd (grown with the highest fd): the interest, the recv's state, the FIFO and what ends it.
  let interest = new Uint8Array(0);
  let recvState = new Uint8Array(0);
  /** The generation of userData: bumped when the fd's connection closes, so late completions are told apart. */
  let gen = new Int32Array(0);
  let fifoHead = new Int32Array(0);
  let fifoTail = new Int32Array(0);
  let fifoCount = new Int32Array(0);
  /** 0 none; 1 end of input; -errno an error the recv reported (each read after the FIFO's bytes). */
  let fifoEnd = new Int32Array(0);
  let pollArmed = new Uint8Array(0);
  /** The report number the fd is listed under in this wait (1-based), or 0. */
  let reportAt = new Int32Array(0);
  /** True while the fd is on the `recheck` list. */
  let rechecking = new Uint8Array(0);

  // Per buffer: the next in its FIFO, its bytes, and how many of them the core has read.
  const nextBuf = new Int32Array(BUFFERS).fill(-1);
  const bufLen = new Int32Array(BUFFERS);
  const bufRead = new Int32Array(BUFFERS);
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
    fifoEnd = extend(fifoEnd, n);
    pollArmed = extend(pollArmed, n);
    reportAt = extend(reportAt, n);
    rechecking = extend(rechecking, n);
  }

  const userData = (fd: number, kind: number): number => (gen[fd]! * FDS_PER_GENERATION + fd) * KINDS + kind;

  function conn(fd: number): Connection | undefined {
    return core.connection(fd);
  }

  /** Whether the fd's recv should be armed: the core reads it (or will, in its turn), with room in its FIFO. */
  function wantsRecv(fd: number, c: Connection): boolean {
    if (!c.open || fifoEnd[fd] !== 0 || fifoCount[fd]! >= RECV_AHEAD) return false;
    return (interest[fd]! & READ) !== 0 || c.deferred;
  }

  /** Arms or cancels the fd's recv to match wantsRecv (a starved one waits for a recycled buffer). */
  function syncRecv(fd: number, c: Connection): void {
    const state = recvState[fd]!;
    if (wantsRecv(fd, c)) {
      if (state === IDLE) {
        ring.recv(fd, userData(fd, RECV), MULTISHOT_RECV);
        recvState[fd] = ARMED;
      }
    } else if (state === ARMED) {
      ring.cancel(userData(fd, RECV));
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

  /** Level-triggered READ: watched for reading, with bytes or an end waiting in its FIFO. */
  function readable(fd: number): boolean {
    return (interest[fd]! & READ) !== 0 && (fifoHead[fd] !== -1 || fifoEnd[fd] !== 0);
  }

  /** Drops what the fd's FIFO holds, giving the buffers back. */
  function drain(fd: number): void {
    for (let id = fifoHead[fd]!; id !== -1;) {
      const next = nextBuf[id]!;
      recycle(id);
      id = next;
    }
    fifoHead[fd] = -1;
    fifoTail[fd] = -1;
    fifoCount[fd] = 0;
    fifoEnd[fd] = 0;
  }

  function recycle(id: number): void {
    nextBuf[id] = -1;
    ring.recycle(GROUP, id);
    if (starvedCount > 0) recycledSinceStarve = true;
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
      nextBuf[id] = -1;
      if (fifoTail[fd] === -1) fifoHead[fd] = id;
      else nextBuf[fifoTail[fd]!] = id;
      fifoTail[fd] = id;
      fifoCount[fd]!++;
    } else if (res === -ENOBUFS) {
      if (starvedCount === starved.length) starved = extend(starved, starvedCount * 2);
      starved[starvedCount++] = fd;
    } else if (res !== -ECANCELED && c !== undefined) {
      fifoEnd[fd] = res === 0 ? 1 : res; // the end (or the error) comes after the bytes before it
    }
    if (!more) recvState[fd] = res === -ENOBUFS ? STARVED : IDLE;
    if (c !== undefined) addRecheck(fd);
  }

  /** Before each wait: re-arm what ended (a starved recv once a buffer came back), report what is readable. */
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
    // The fds whose state changed since the last wait: recv and poll brought in line, READ reported.
    const n = rechecks;
    rechecks = 0;
    for (let i = 0; i < n; i++) {
      const fd = recheck[i]!;
      rechecking[fd] = 0;
      const c = conn(fd);
      if (c === undefined || !c.open) continue;
      syncRecv(fd, c);
      if (readable(fd)) report(fd, READ);
      if ((interest[fd]! & WRITE) !== 0 && pollArmed[fd] === 0) {
        ring.pollAdd(fd, POLLOUT, userData(fd, WRITE_POLL));
        pollArmed[fd] = 1;
      }
    }
  }

  /** After the wait: the fds a completion made readable (the rest waits for the next prepare). */
  function reportReadable(): void {
    for (let i = 0; i < rechecks; i++) {
      const fd = recheck[i]!;
      if (readable(fd)) report(fd, READ);
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
      if ((events & WRITE) !== 0 && pollArmed[fd] === 0) {
        ring.pollAdd(fd, POLLOUT, userData(fd, WRITE_POLL));
        pollArmed[fd] = 1;
      }
      if ((events & READ) !== 0 && (fifoHead[fd] !== -1 || fifoEnd[fd] !== 0)) addRecheck(fd);
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
      // the close. At shutdown the ring's close cancels everything at once (each cancel scans its slots).
      if (core.running) {
        if (recvState[fd] === ARMED) ring.cancel(userData(fd, RECV));
        if (pollArmed[fd] === 1) ring.cancel(userData(fd, WRITE_POLL));
      }
      recvState[fd] = IDLE;
      pollArmed[fd] = 0;
      drain(fd);
      gen[fd] = (gen[fd]! + 1) % (2 ** 29);
    },
    receive(c, into, length) {
      const fd = c.fd;
      let n = 0;
      let id = fifoHead[fd]!;
      while (id !== -1 && n < length) {
        const at = bufRead[id]!;
        const take = Math.min(bufLen[id]! - at, length - n);
        const start = groupBase + id * BUFFER_BYTES + at;
        groupBytes!.copy(into, n, start, start + take);
        n += take;
        if (at + take < bufLen[id]!) {
          bufRead[id] = at + take;
          break;
        }
        const next = nextBuf[id]!;
        recycle(id);
        fifoCount[fd]!--;
        id = next;
      }
      fifoHead[fd] = id;
      if (id === -1) fifoTail[fd] = -1;
      // Room again in the FIFO, bytes or an end left: looked at before the next wait.
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
        const rest = (ud - kind) / KINDS;
        const fd = rest % FDS_PER_GENERATION;
        if ((rest - fd) / FDS_PER_GENERATION !== gen[fd]) {
          // A completion of a closed connection's operation: its buffer goes back.
          const id = ring.bufferId(i);
          if (id >= 0) recycle(id);
          continue;
        }
        if (kind === RECV) onRecv(fd, res, ring.bufferId(i), ring.hasMore(i));
        else {
          pollArmed[fd] = 0;
          if (res === -ECANCELED) continue;
          if ((interest[fd]! & WRITE) !== 0) {
            const mask = res < 0 ? POLLERR : res;
            report(fd, (mask & POLLOUT ? WRITE : 0) | (mask & (POLLERR | POLLHUP | POLLNVAL) ? READ : 0));
          }
          addRecheck(fd);
        }
      }
      reportReadable();
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

/** Completion entries, also the most operations in flight: a recv and a poll per connection, and the ring's own. */
function completionEntries(maxConnections: number): number {
  const wanted = Number.isFinite(maxConnections) ? 2 * maxConnections + 64 : 16384;
  let n = 1024;
  while (n < wanted && n < 65536) n *= 2;
  return n;
}

function extend<T extends Uint8Array | Int32Array>(a: T, n: number, fill = 0): T {
  const grown = new (a.constructor as new (n: number) => T)(n);
  if (fill !== 0) grown.fill(fill);
  grown.set(a);
  return grown;
}
