/**
 * The io_uring floor for a JavaScript echo server: the smallest echo loop over iomux's `IoUring`, with none of
 * the echo server's policies (no scheduler, budgets, backpressure, sweeper, log). The design is the C anchor's
 * (`anchors/uring_echo.c` of the shared kit) and the server's uring backend's: multishot accept, a multishot
 * recv per connection into one provided-buffer group, one send in flight per connection straight from the
 * buffer the bytes arrived in, recycled once sent. What the server costs above this is its own layer; what this
 * costs above the C anchor is JavaScript and the FFI.
 *
 *   node build/bench/uring-floor.js --port N      (run-echo.sh appends --port)
 */
import { constants } from 'node:os';
import { close } from 'iomux/os';
import { AF_INET, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR, Socket } from 'iomux/socket';
import { IoUring } from 'iomux/uring';

const GROUP = 0;
const BUFFERS = 4096;
const BUFFER_BYTES = 16 * 1024;
const MAX_FDS = 65536;
// userData = fd * KINDS + kind
const KINDS = 4;
const RECV = 0;
const SEND = 1;
const ACCEPT = 2;
const ENOBUFS = constants.errno.ENOBUFS;

const portAt = process.argv.indexOf('--port');
const port = portAt > 0 ? Number(process.argv[portAt + 1]) : 9400;

const listener = new Socket(AF_INET, SOCK_STREAM);
listener.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
listener.bind(['127.0.0.1', port]);
listener.listen(4096);
const listenFd = listener.fileno();

const ring = new IoUring(4096, { cqEntries: 32768, sendBuffers: 0 });
ring.provideBuffers(GROUP, BUFFERS, BUFFER_BYTES);

// Per fd: the buffers waiting to be sent (a FIFO threaded through nextBuf), the one in flight, the state.
const head = new Int32Array(MAX_FDS).fill(-1);
const tail = new Int32Array(MAX_FDS).fill(-1);
const sending = new Int32Array(MAX_FDS).fill(-1);
const ended = new Uint8Array(MAX_FDS);
const nextBuf = new Int32Array(BUFFERS).fill(-1);
const bufLen = new Int32Array(BUFFERS);
const bufSent = new Int32Array(BUFFERS);
let starved = 0;
const starvedFds = new Int32Array(MAX_FDS);

function armRecv(fd: number): void {
  ring.recv(fd, fd * KINDS + RECV, { bufferGroup: GROUP, multishot: true });
}

function startSend(fd: number): void {
  const id = head[fd]!;
  if (id === -1 || sending[fd] !== -1) return;
  sending[fd] = id;
  ring.sendBuffer(fd, GROUP, id, bufSent[id]!, bufLen[id]! - bufSent[id]!, fd * KINDS + SEND);
}

function finish(fd: number): void {
  // Each send's buffer goes back; the fd closes once nothing of it is in flight.
  for (let id = head[fd]!; id !== -1;) {
    const next = nextBuf[id]!;
    if (id !== sending[fd]) ring.recycle(GROUP, id);
    id = next;
  }
  head[fd] = tail[fd] = -1;
  if (sending[fd] === -1) {
    ended[fd] = 0;
    close(fd);
  } else {
    ended[fd] = 2; // closed when the send in flight completes
  }
}

ring.accept(listenFd, listenFd * KINDS + ACCEPT, { multishot: true });
process.on('SIGTERM', () => process.exit(0));

for (;;) {
  const n = ring.wait(1, 0.2);
  for (let i = 0; i < n; i++) {
    const ud = ring.userData(i);
    const res = ring.result(i);
    const kind = ud % KINDS;
    const fd = (ud - kind) / KINDS;
    if (kind === ACCEPT) {
      if (res >= 0) armRecv(res);
      if (!ring.hasMore(i)) ring.accept(listenFd, listenFd * KINDS + ACCEPT, { multishot: true });
    } else if (kind === RECV) {
      if (res > 0) {
        const id = ring.bufferId(i);
        bufLen[id] = res;
        bufSent[id] = 0;
        nextBuf[id] = -1;
        if (tail[fd] === -1) head[fd] = id;
        else nextBuf[tail[fd]!] = id;
        tail[fd] = id;
        startSend(fd);
        if (!ring.hasMore(i)) armRecv(fd);
      } else if (res === -ENOBUFS) {
        starvedFds[starved++] = fd; // re-armed once a buffer comes back
      } else {
        ended[fd] = 1; // end of input or an error: close once the echo is out
        if (sending[fd] === -1) finish(fd);
      }
    } else if (kind === SEND) {
      const id = sending[fd]!;
      sending[fd] = -1;
      if (ended[fd] === 2) {
        ring.recycle(GROUP, id);
        ended[fd] = 0;
        close(fd);
        continue;
      }
      if (res >= 0) bufSent[id] = bufSent[id]! + res;
      if (res < 0 || bufSent[id]! >= bufLen[id]!) {
        head[fd] = nextBuf[id]!;
        if (head[fd] === -1) tail[fd] = -1;
        ring.recycle(GROUP, id);
        while (starved > 0) armRecv(starvedFds[--starved]!);
      }
      if (res < 0) ended[fd] = 1;
      if (ended[fd] === 1 && (res < 0 || head[fd] === -1)) finish(fd);
      else startSend(fd);
    }
  }
}
