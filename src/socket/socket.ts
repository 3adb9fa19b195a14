/**
 * `Socket`: Python's socket object over a raw fd. Blocking mode blocks the calling thread in the kernel, as
 * in Python; timeout mode keeps the fd O_NONBLOCK and waits with poll(2) against a monotonic deadline;
 * non-blocking mode raises BlockingIOError where the kernel says EAGAIN.
 */
import { OSError, TimeoutError, ValueError, raiseErrno } from '../errors.js';
import { beforeFdClose } from '../fd-close.js';
import { describe } from '../fileobj.js';
import {
  ERRNO, FD_CLOEXEC, O_NONBLOCK, POLLERR, POLLIN, POLLOUT, close as closeFd, dupCloexec, getFdFlags, getStatusFlags, setFdFlags,
  setStatusFlags,
} from '../sys/index.js';
import * as sys from '../sys/socket.js';
import { isUint8Array, isUnusable, viewLength } from '../sys/views.js';
import { recvmsg as recvmsgNative, releaseMessageArea, sendmsg as sendmsgNative, type MessageArea } from '../sys/msg.js';
import { monotonicMs } from '../timeout.js';
import { decodeAddress, encodeAddress, type AddressLike, type SocketAddress } from './address.js';
import { allocBytes, bytesArg, checkUnchanged, detachedError, intArg, ssizeArg, writableBytesArg } from '../args.js';
import { checkRange } from './args.js';
import {
  ancbufsizeArg, finishRecvmsg, finishRecvmsgInto, messageArea, noAncillaryData, prepareSendmsg, recvBufsizeArg,
  recvBuffersArg, type AncillaryItemLike, type RecvmsgIntoResult, type RecvmsgResult,
} from './messages.js';
import { getdefaulttimeout, parseSocketTimeout } from './timeout.js';
import { waitForFd } from './wait.js';

const EINTR = ERRNO.EINTR!;
const EAGAIN = ERRNO.EAGAIN!;
const EINPROGRESS = ERRNO.EINPROGRESS!;
const EISCONN = ERRNO.EISCONN!;
const ECONNRESET = ERRNO.ECONNRESET!;
const EBADF = ERRNO.EBADF!;
const ENOTSOCK = ERRNO.ENOTSOCK!;

/** Bytes a socket accepts to send: a Buffer/Uint8Array, any ArrayBufferView, an ArrayBuffer, or a string (sent as UTF-8). */
export type SocketData = Uint8Array | ArrayBufferView | ArrayBuffer | string;

/** CPython's default listen() backlog: min(SOMAXCONN, 128). */
const DEFAULT_BACKLOG = Math.min(sys.SOMAXCONN, 128);
/** CPython's limit on getsockopt's buflen. */
const MAX_OPTION_BYTES = 1024;
/** recv(n) for n up to this size reads into one shared buffer and copies out exactly what arrived. */
const RECV_SCRATCH_BYTES = 64 * 1024;

const recvScratch = Buffer.allocUnsafe(RECV_SCRATCH_BYTES);
const intCell = new Int32Array(1);
const NOT_SET = -1;

/**
 * True only during the constructor call made by `adoptSocketFd`, for an fd the kernel has just returned as
 * a socket (accept, socketpair): the check that a wrapped fd is an open socket would be a wasted syscall.
 */
/**
 * The sockaddr every call of this module builds or fills, and its length cell: private to this module, which
 * runs one socket call at a time per thread and decodes what it needs before returning.
 */
const sockaddr = Buffer.alloc(sys.SOCKADDR_STORAGE_BYTES);
const sockaddrLength = new Uint32Array(1);

/** A socket's family, type and protocol. */
interface SocketKind {
  readonly family: number;
  readonly type: number;
  readonly proto: number;
}

/** The kinds made so far, by family, type and protocol packed into one number (see `socketKind`). */
const kinds = new Map<number, SocketKind>();

/**
 * The one SocketKind object for this family, type and protocol: a socket keeps a reference instead of three
 * numbers. Values beyond the packed key's 16 + 8 + 24 bits (never seen in practice) get an object of their own.
 */
function socketKind(family: number, type: number, proto: number): SocketKind {
  if ((family & ~0xffff) !== 0 || (type & ~0xff) !== 0 || (proto & ~0xffffff) !== 0) return Object.freeze({ family, type, proto });
  const key = family * 2 ** 32 + type * 2 ** 24 + proto;
  let kind = kinds.get(key);
  if (kind === undefined) {
    kind = Object.freeze({ family, type, proto });
    kinds.set(key, kind);
  }
  return kind;
}

/** An fd the kernel has just handed out as a socket (accept, socketpair): `adoptSocketFd` passes it as `fileno`. */
class KernelSocketFd {
  constructor(readonly fd: number) {}
}

/**
 * A socket, after Python's `socket.socket`. `new Socket(family = AF_INET, type = SOCK_STREAM, proto = 0)`
 * creates one (close-on-exec, like every socket iomux makes); `new Socket(family?, type?, proto?, fileno)`
 * wraps an existing socket fd, reading whatever of family/type/proto is left undefined from the kernel. As
 * in CPython, a given fd is always checked with getsockname(2): OSError EBADF when it is not open, ENOTSOCK
 * when it is not a socket (the fd is the caller's and stays open either way).
 *
 * Blocking modes, as in Python: `settimeout(null)` (the default, unless `setdefaulttimeout` changed it)
 * blocks the calling thread; `settimeout(0)` / `setblocking(false)` raises BlockingIOError instead of
 * waiting; `settimeout(t)` waits up to t seconds and then raises TimeoutError("timed out").
 *
 * After `close()` or `detach()`, `fileno()` is -1 and every operation raises OSError EBADF; `close()` may be
 * called any number of times.
 *
 * @python socket.socket
 */
export class Socket implements Disposable {
  #fd: number;
  /** Family, type and protocol, shared with the other sockets of that kind (a server holds thousands). */
  readonly #kind: SocketKind;
  /** Seconds; null blocks, 0 is non-blocking. */
  #timeout: number | null;

  constructor(family?: number, type?: number, proto?: number, fileno?: number | null);
  constructor(family?: number, type?: number, proto?: number, given?: number | null | KernelSocketFd) {
    const trusted = given instanceof KernelSocketFd;
    const fileno = trusted ? given.fd : given;
    let fam = family === undefined || family === -1 ? undefined : intArg(family, 'family');
    let typ = type === undefined || type === -1 ? undefined : intArg(type, 'type');
    let pro = proto === undefined || proto === -1 ? undefined : intArg(proto, 'proto');
    let fd: number;
    if (fileno === undefined || fileno === null) {
      fam ??= sys.AF_INET;
      typ ??= sys.SOCK_STREAM;
      pro ??= 0;
      fd = sys.socketCloexec(fam, typ, pro);
      if (fd < 0) raiseErrno(fd);
    } else {
      fd = intArg(fileno, 'fileno');
      if (fd < 0) throw new ValueError(`negative file descriptor (${fd})`);
      if (!trusted || fam === undefined) fam = checkedFamily(fd, fam);
      typ ??= socketOption(fd, sys.SO_TYPE);
      // Without SO_PROTOCOL (macOS) the protocol of a wrapped fd is unknown: 0, as CPython reports it there.
      pro ??= sys.SO_PROTOCOL === undefined ? 0 : socketOption(fd, sys.SO_PROTOCOL);
    }
    this.#fd = fd;
    this.#kind = socketKind(fam, typ & ~(sys.SOCK_NONBLOCK | sys.SOCK_CLOEXEC), pro);
    // As CPython's init_sockobject: SOCK_NONBLOCK means timeout 0; otherwise the default timeout, and the
    // fd is made non-blocking only when that default is not null (a wrapped fd's mode is left alone).
    this.#timeout = (typ & sys.SOCK_NONBLOCK) !== 0 ? 0 : getdefaulttimeout();
    if (this.#timeout !== null && (typ & sys.SOCK_NONBLOCK) === 0) {
      try {
        setNonblocking(fd, true);
      } catch (err) {
        if (fileno === undefined || fileno === null) closeFd(fd);
        throw err;
      }
    }
  }

  /**
   * The timeout in milliseconds, -1 when blocking: what the waiting paths test (computed, not stored: the
   * non-blocking try* paths never read it, and a server holds thousands of sockets).
   */
  get #timeoutMs(): number {
    const t = this.#timeout;
    return t === null ? -1 : t * 1000;
  }

  get #family(): number {
    return this.#kind.family;
  }

  get #type(): number {
    return this.#kind.type;
  }

  get #proto(): number {
    return this.#kind.proto;
  }

  /**
   * The address family (AF_INET, AF_INET6, AF_UNIX, …).
   *
   * @python socket.socket.family
   */
  get family(): number {
    return this.#family;
  }

  /**
   * The socket type (SOCK_STREAM, SOCK_DGRAM, …), without the SOCK_NONBLOCK/SOCK_CLOEXEC flags.
   *
   * @python socket.socket.type
   */
  get type(): number {
    return this.#type;
  }

  /** @python socket.socket.proto */
  get proto(): number {
    return this.#proto;
  }

  /**
   * The fd, or -1 once the socket is closed or detached.
   *
   * @python socket.socket.fileno
   */
  fileno(): number {
    return this.#fd;
  }

  /** True once `close()` or `detach()` was called. */
  get closed(): boolean {
    return this.#fd === -1;
  }

  // --- Blocking mode.

  /**
   * `setblocking(false)` is `settimeout(0)`; `setblocking(true)` is `settimeout(null)`.
   *
   * @python socket.socket.setblocking
   */
  setblocking(flag: boolean): void {
    this.settimeout(flag ? null : 0);
  }

  /**
   * False only in non-blocking mode (timeout 0); a socket with a positive timeout counts as blocking, as in Python.
   *
   * @python socket.socket.getblocking
   */
  getblocking(): boolean {
    return this.#timeout !== 0;
  }

  /**
   * null: block; 0: non-blocking; t > 0: wait up to t seconds, then raise TimeoutError("timed out").
   *
   * @python socket.socket.settimeout
   */
  settimeout(timeout: number | null): void {
    const t = parseSocketTimeout(timeout);
    this.#timeout = t;
    setNonblocking(this.#fd, t !== null);
  }

  /**
   * The timeout in seconds, 0 for non-blocking, null for blocking.
   *
   * @python socket.socket.gettimeout
   */
  gettimeout(): number | null {
    return this.#timeout;
  }

  // --- Addresses and connections.

  /**
   * Binds to `address` (see AddressLike).
   *
   * @python socket.socket.bind
   */
  bind(address: AddressLike): void {
    const len = encodeAddress(this.#family, address, 'bind', sockaddr);
    const r = sys.bind(this.#fd, sockaddr, len);
    if (r < 0) raiseErrno(r);
  }

  /**
   * Listens with `backlog` pending connections (default min(SOMAXCONN, 128); negative counts as 0).
   *
   * @python socket.socket.listen
   */
  listen(backlog?: number): void {
    let n = backlog === undefined ? DEFAULT_BACKLOG : intArg(backlog, 'backlog');
    if (n < 0) n = 0;
    const r = sys.listen(this.#fd, n);
    if (r < 0) raiseErrno(r);
  }

  /**
   * Accepts a connection: `[socket, peer address]`. The new socket is close-on-exec and, whatever the
   * listener's mode, blocking (or in the default timeout mode), as Python makes it.
   *
   * @python socket.socket.accept
   */
  accept(): [Socket, SocketAddress] {
    let deadline = NOT_SET;
    for (;;) {
      sockaddrLength[0] = sys.SOCKADDR_STORAGE_BYTES;
      const fd = sys.acceptCloexec(this.#fd, sockaddr, sockaddrLength);
      if (fd >= 0) {
        try {
          const address = decodeAddress(sockaddr, Math.min(sockaddrLength[0]!, sys.SOCKADDR_STORAGE_BYTES)) ?? '';
          return [adoptSocketFd(this.#family, this.#type, this.#proto, fd), address];
        } catch (err) {
          closeFd(fd);
          throw err;
        }
      }
      if (fd !== -EINTR) deadline = this.#afterFailure(fd, POLLIN, deadline);
    }
  }

  /**
   * Connects to `address`. In non-blocking mode an unfinished connect raises BlockingIOError (EINPROGRESS):
   * wait for writability, then read `getsockopt(SOL_SOCKET, SO_ERROR)`. A refused connection raises
   * ConnectionRefusedError; timeout mode raises TimeoutError when the deadline passes.
   *
   * @python socket.socket.connect
   */
  connect(address: AddressLike): void {
    const len = encodeAddress(this.#family, address, 'connect', sockaddr);
    this.#connect(len, true);
  }

  /**
   * Like `connect`, but returns 0 or the errno instead of raising OSError for a failed connection (EAGAIN
   * when a timeout expires). Bad addresses still raise.
   *
   * @python socket.socket.connect_ex
   */
  connectEx(address: AddressLike): number {
    const len = encodeAddress(this.#family, address, 'connectEx', sockaddr);
    return this.#connect(len, false);
  }

  // CPython's internal_connect: a blocking connect interrupted by a signal, and a timeout-mode connect in
  // progress, are finished by waiting for writability and reading SO_ERROR.
  #connect(len: number, raise: boolean): number {
    const r = sys.connect(this.#fd, sockaddr, len);
    if (r === 0) return 0;
    const wait = r === -EINTR ? this.#timeoutMs !== 0 : this.#timeoutMs > 0 && r === -EINPROGRESS;
    if (!wait) return fail(-r, raise);
    const deadline = this.#timeoutMs > 0 ? monotonicMs() + this.#timeoutMs : Infinity;
    for (;;) {
      if (!waitForFd(this.#fd, POLLOUT | POLLERR, deadline)) {
        if (raise) throw new TimeoutError();
        return EAGAIN;
      }
      const g = sys.getsockoptInt(this.#fd, sys.SOL_SOCKET, sys.SO_ERROR, intCell);
      const err = g < 0 ? -g : intCell[0]!;
      if (err === 0 || err === EISCONN) return 0;
      if (err !== EINTR && err !== EAGAIN) return fail(err, raise);
    }
  }

  /**
   * Shuts down reading (SHUT_RD), writing (SHUT_WR) or both (SHUT_RDWR).
   *
   * @python socket.socket.shutdown
   */
  shutdown(how: number): void {
    const r = sys.shutdown(this.#fd, intArg(how, 'how'));
    if (r < 0) raiseErrno(r);
  }

  /**
   * The socket's own address ('' for an unnamed AF_UNIX socket).
   *
   * @python socket.socket.getsockname
   */
  getsockname(): SocketAddress {
    sockaddrLength[0] = sys.SOCKADDR_STORAGE_BYTES;
    const r = sys.getsockname(this.#fd, sockaddr, sockaddrLength);
    if (r < 0) raiseErrno(r);
    return decodeAddress(sockaddr, Math.min(sockaddrLength[0]!, sys.SOCKADDR_STORAGE_BYTES)) ?? '';
  }

  /**
   * The peer's address; OSError ENOTCONN when not connected (also after a reset).
   *
   * @python socket.socket.getpeername
   */
  getpeername(): SocketAddress {
    sockaddrLength[0] = sys.SOCKADDR_STORAGE_BYTES;
    const r = sys.getpeername(this.#fd, sockaddr, sockaddrLength);
    if (r < 0) raiseErrno(r);
    return decodeAddress(sockaddr, Math.min(sockaddrLength[0]!, sys.SOCKADDR_STORAGE_BYTES)) ?? '';
  }

  // --- Receiving.

  /**
   * Up to `bufsize` bytes. An empty Buffer means the peer closed (and stays so on later calls). The
   * first read after a reset raises ConnectionResetError. `bufsize` is a Py_ssize_t (OverflowError from
   * 2**63); one that cannot be allocated is MemoryError, see `allocBytes`.
   *
   * @python socket.socket.recv
   */
  recv(bufsize: number, flags: number = 0): Buffer {
    bufsize = ssizeArg(bufsize, 'bufsize');
    if (bufsize < 0) throw new ValueError('negative buffersize in recv');
    if (flags !== 0) flags = intArg(flags, 'flags');
    if (bufsize <= RECV_SCRATCH_BYTES) {
      let n = this.#recv(recvScratch, 0, bufsize, flags);
      if (n > bufsize) n = bufsize; // MSG_TRUNC reports the datagram's full size
      const out = Buffer.allocUnsafe(n);
      recvScratch.copy(out, 0, 0, n);
      return out;
    }
    const buf = allocBytes(bufsize, 'bufsize');
    const n = Math.min(this.#recv(buf, 0, bufsize, flags), bufsize);
    return n === bufsize ? buf : Buffer.from(buf.subarray(0, n));
  }

  /**
   * Reads into `buffer` (up to `nbytes`, or its whole length when `nbytes` is 0) without allocating, and
   * returns the count; 0 means end of stream.
   *
   * @python socket.socket.recv_into
   */
  recvInto(buffer: Uint8Array | ArrayBufferView, nbytes: number = 0, flags: number = 0): number {
    const view = writableBytesArg(buffer);
    const size = viewLength(view); // its internal length: what the kernel may write, whatever its own members say
    const n = ssizeArg(nbytes, 'nbytes');
    if (n < 0) throw new ValueError('negative buffersize in recvInto');
    if (n > size) throw new ValueError(`buffer too small for requested bytes (${size} < ${n})`);
    if (flags !== 0) flags = intArg(flags, 'flags');
    return this.#recv(view, 0, n === 0 ? size : n, flags);
  }

  /**
   * iomux extension for hot loops: reads into `buffer[offset, offset + length)` and returns the count (0 at
   * end of stream), or -1 when nothing is ready. It never blocks, whatever the socket's mode (it passes
   * MSG_DONTWAIT), allocates nothing, and throws only for real errors (ConnectionResetError, EBADF, …).
   */
  tryRecvInto(buffer: Uint8Array, offset: number = 0, length?: number): number {
    length = hotRange(buffer, 'buffer', offset, length);
    for (;;) {
      const r = sys.recv(this.#fd, buffer, offset, length, sys.MSG_DONTWAIT);
      if (r >= 0) return r;
      if (r === -EAGAIN) return -1;
      if (r !== -EINTR) raiseErrno(r);
    }
  }

  /**
   * Up to `bufsize` bytes and the sender's address (null when the socket type gives none, as on TCP).
   *
   * @python socket.socket.recvfrom
   */
  recvfrom(bufsize: number, flags: number = 0): [Buffer, SocketAddress | null] {
    bufsize = ssizeArg(bufsize, 'bufsize');
    if (bufsize < 0) throw new ValueError('negative buffersize in recvfrom');
    if (flags !== 0) flags = intArg(flags, 'flags');
    const buf = bufsize <= RECV_SCRATCH_BYTES ? recvScratch : allocBytes(bufsize, 'bufsize');
    const n = Math.min(this.#recvfrom(buf, bufsize, flags), bufsize);
    const address = decodeAddress(sockaddr, Math.min(sockaddrLength[0]!, sys.SOCKADDR_STORAGE_BYTES));
    if (buf !== recvScratch) return [n === bufsize ? buf : Buffer.from(buf.subarray(0, n)), address];
    const out = Buffer.allocUnsafe(n);
    recvScratch.copy(out, 0, 0, n);
    return [out, address];
  }

  /**
   * `recvInto` that also returns the sender's address: `[count, address]`.
   *
   * @python socket.socket.recvfrom_into
   */
  recvfromInto(buffer: Uint8Array | ArrayBufferView, nbytes: number = 0, flags: number = 0): [number, SocketAddress | null] {
    const view = writableBytesArg(buffer);
    const size = viewLength(view);
    const n = ssizeArg(nbytes, 'nbytes');
    if (n < 0) throw new ValueError('negative buffersize in recvfromInto');
    if (n > size) throw new ValueError(`nbytes is greater than the length of the buffer (${n} > ${size})`);
    if (flags !== 0) flags = intArg(flags, 'flags');
    const got = this.#recvfrom(view, n === 0 ? size : n, flags);
    return [got, decodeAddress(sockaddr, Math.min(sockaddrLength[0]!, sys.SOCKADDR_STORAGE_BYTES))];
  }

  #recv(buf: Uint8Array, offset: number, length: number, flags: number): number {
    let deadline = NOT_SET;
    for (;;) {
      const r = sys.recv(this.#fd, buf, offset, length, flags);
      if (r >= 0) return r;
      if (r !== -EINTR) deadline = this.#afterFailure(r, POLLIN, deadline);
    }
  }

  #recvfrom(buf: Uint8Array, length: number, flags: number): number {
    let deadline = NOT_SET;
    for (;;) {
      sockaddrLength[0] = sys.SOCKADDR_STORAGE_BYTES;
      const r = sys.recvfrom(this.#fd, buf, 0, length, flags, sockaddr, sockaddrLength);
      if (r >= 0) return r;
      if (r !== -EINTR) deadline = this.#afterFailure(r, POLLIN, deadline);
    }
  }

  // --- Sending. Every send passes SEND_NOSIGNAL: a closed peer is a BrokenPipeError, never a SIGPIPE.

  /**
   * Sends what the kernel takes now (possibly less than all of `data`) and returns the count.
   *
   * @python socket.socket.send
   */
  send(data: SocketData, flags: number = 0): number {
    const bytes = bytesArg(data);
    if (flags !== 0) flags = intArg(flags, 'flags');
    return this.#send(bytes, 0, viewLength(bytes), flags | sys.SEND_NOSIGNAL, NOT_SET);
  }

  /**
   * Sends all of `data`. Blocking: until done. Timeout mode: the timeout covers the whole call. Non-blocking:
   * raises BlockingIOError as soon as the send buffer is full, without saying how much was sent (as Python).
   *
   * @python socket.socket.sendall
   */
  sendall(data: SocketData, flags: number = 0): void {
    const bytes = bytesArg(data);
    if (flags !== 0) flags = intArg(flags, 'flags');
    flags |= sys.SEND_NOSIGNAL;
    const deadline = this.#timeoutMs > 0 ? monotonicMs() + this.#timeoutMs : NOT_SET;
    const length = viewLength(bytes);
    // At least one send, as CPython's do/while: an empty sendall on a datagram socket sends an empty datagram.
    let offset = 0;
    do offset += this.#send(bytes, offset, length - offset, flags, deadline);
    while (offset < length);
  }

  /**
   * iomux extension for hot loops: sends from `data[offset, offset + length)` and returns the count, or -1
   * when the send buffer is full. It never blocks, whatever the socket's mode (MSG_DONTWAIT), allocates
   * nothing, and throws only for real errors (BrokenPipeError, ConnectionResetError, EBADF, …).
   */
  trySend(data: Uint8Array, offset: number = 0, length?: number): number {
    length = hotRange(data, 'data', offset, length);
    for (;;) {
      const r = sys.send(this.#fd, data, offset, length, sys.MSG_DONTWAIT | sys.SEND_NOSIGNAL);
      if (r >= 0) return r;
      if (r === -EAGAIN) return -1;
      if (r !== -EINTR) raiseErrno(r);
    }
  }

  /**
   * Sends a datagram to `address`: `sendto(data, address)` or `sendto(data, flags, address)`.
   *
   * @python socket.socket.sendto
   */
  sendto(data: SocketData, address: AddressLike): number;
  sendto(data: SocketData, flags: number, address: AddressLike): number;
  sendto(data: SocketData, flagsOrAddress: number | AddressLike, address?: AddressLike): number {
    const bytes = bytesArg(data);
    const length = viewLength(bytes);
    let flags = 0;
    let target: unknown = flagsOrAddress;
    if (arguments.length >= 3) {
      flags = intArg(flagsOrAddress, 'flags');
      target = address;
    }
    const len = encodeAddress(this.#family, target, 'sendto', sockaddr);
    // The address' conversion may have run caller code (index getters): the data must be as it was taken.
    checkUnchanged(bytes, length, 'data', 'sendto');
    let deadline = NOT_SET;
    for (;;) {
      const r = sys.sendto(this.#fd, bytes, 0, length, flags | sys.SEND_NOSIGNAL, sockaddr, len);
      if (r >= 0) return r;
      if (r !== -EINTR) deadline = this.#afterFailure(r, POLLOUT, deadline);
    }
  }

  #send(bytes: Uint8Array, offset: number, length: number, flags: number, deadline: number): number {
    for (;;) {
      const r = sys.send(this.#fd, bytes, offset, length, flags);
      if (r >= 0) return r;
      if (r !== -EINTR) deadline = this.#afterFailure(r, POLLOUT, deadline);
    }
  }

  // --- Messages with ancillary data (CPython's sendmsg/recvmsg family; see messages.ts).

  /**
   * Sends the bytes of `buffers` (gathered in order) with ancillary data `ancdata` (`[level, type, data]`
   * items, e.g. `[SOL_SOCKET, SCM_RIGHTS, fds as C ints]`) and returns the number of bytes sent. `address`
   * is for unconnected datagram sockets. The caller's fds in SCM_RIGHTS items stay the caller's: sending
   * duplicates them into the message, and a send that fails (BlockingIOError on a full non-blocking socket
   * included) sends nothing, neither bytes nor fds.
   *
   * @python socket.socket.sendmsg
   */
  sendmsg(
    buffers: Iterable<SocketData>, ancdata: Iterable<AncillaryItemLike> = noAncillaryData, flags: number = 0,
    address?: AddressLike | null,
  ): number {
    if (flags !== 0) flags = intArg(flags, 'flags');
    const hasAddress = address !== undefined && address !== null;
    const area = prepareSendmsg(this.#family, buffers, ancdata, address, hasAddress, 'sendmsg');
    try {
      let deadline = NOT_SET;
      for (;;) {
        const r = sendmsgNative(this.#fd, area, flags | sys.SEND_NOSIGNAL);
        if (r >= 0) return r;
        if (r !== -EINTR) deadline = this.#afterFailure(r, POLLOUT, deadline);
      }
    } finally {
      releaseMessageArea();
    }
  }

  /**
   * Receives up to `bufsize` bytes and up to `ancbufsize` bytes of ancillary data (size it with CMSG_SPACE):
   * `[data, ancdata, msgFlags, address]`. Control data that did not fit sets MSG_CTRUNC in msgFlags; fds the
   * kernel delivered are in the SCM_RIGHTS items as C ints and are the caller's to close. Pass
   * MSG_CMSG_CLOEXEC in `flags` to receive them close-on-exec (otherwise they are inheritable, as in CPython).
   *
   * @python socket.socket.recvmsg
   */
  recvmsg(bufsize: number, ancbufsize: number = 0, flags: number = 0): RecvmsgResult {
    const size = recvBufsizeArg(bufsize, 'recvmsg');
    const anc = ancbufsizeArg(ancbufsize);
    if (flags !== 0) flags = intArg(flags, 'flags');
    const area = messageArea(size, anc);
    try {
      const n = this.#recvmsg(area, size, anc, flags);
      return finishRecvmsg(area, n, size);
    } finally {
      releaseMessageArea();
    }
  }

  /**
   * recvmsg into `buffers` (filled in order): `[nbytes, ancdata, msgFlags, address]`.
   *
   * @python socket.socket.recvmsg_into
   */
  recvmsgInto(buffers: Iterable<Uint8Array | ArrayBufferView>, ancbufsize: number = 0, flags: number = 0): RecvmsgIntoResult {
    const views = recvBuffersArg(buffers, 'recvmsgInto');
    const anc = ancbufsizeArg(ancbufsize);
    if (flags !== 0) flags = intArg(flags, 'flags');
    let size = 0;
    for (let i = 0; i < views.length; i++) size += viewLength(views[i]!);
    const area = messageArea(size, anc);
    try {
      const n = this.#recvmsg(area, size, anc, flags);
      return finishRecvmsgInto(area, n, views);
    } finally {
      releaseMessageArea();
    }
  }

  #recvmsg(area: MessageArea, size: number, anc: number, flags: number): number {
    let deadline = NOT_SET;
    for (;;) {
      // Every attempt starts from a freshly prepared header: the kernel rewrote the lengths of the last one.
      area.prepare(area.name.length, size, anc);
      const r = recvmsgNative(this.#fd, area, flags);
      if (r >= 0) return r;
      if (r !== -EINTR) deadline = this.#afterFailure(r, POLLIN, deadline);
    }
  }

  // --- Duplicates and inheritance.

  /**
   * A new Socket on a duplicate of the fd (close-on-exec), with the same family, type, proto and timeout.
   *
   * @python socket.socket.dup
   */
  dup(): Socket {
    const fd = dupCloexec(this.#fd);
    if (fd < 0) raiseErrno(fd);
    let sock: Socket;
    try {
      sock = adoptSocketFd(this.#family, this.#type, this.#proto, fd);
    } catch (err) {
      closeFd(fd);
      throw err;
    }
    sock.settimeout(this.#timeout);
    return sock;
  }

  /**
   * True when the fd survives exec (FD_CLOEXEC clear). iomux makes every socket non-inheritable.
   *
   * @python socket.socket.get_inheritable
   */
  getInheritable(): boolean {
    const flags = getFdFlags(this.#fd);
    if (flags < 0) raiseErrno(flags);
    return (flags & FD_CLOEXEC) === 0;
  }

  /**
   * Clears (`true`) or sets (`false`) FD_CLOEXEC.
   *
   * @python socket.socket.set_inheritable
   */
  setInheritable(inheritable: boolean): void {
    const flags = getFdFlags(this.#fd);
    if (flags < 0) raiseErrno(flags);
    const next = inheritable ? flags & ~FD_CLOEXEC : flags | FD_CLOEXEC;
    if (next !== flags) {
      const r = setFdFlags(this.#fd, next);
      if (r < 0) raiseErrno(r);
    }
  }

  /**
   * What follows a failed call: in timeout mode an EAGAIN waits for `events` until the deadline (set on
   * first use) and returns it so the call is retried; anything else raises: the errno's OSError, or
   * TimeoutError("timed out") when the deadline passed.
   */
  #afterFailure(negErrno: number, events: number, deadline: number): number {
    if (negErrno !== -EAGAIN || this.#timeoutMs <= 0) raiseErrno(negErrno);
    if (deadline === NOT_SET) deadline = monotonicMs() + this.#timeoutMs;
    if (!waitForFd(this.#fd, events, deadline)) throw new TimeoutError();
    return deadline;
  }

  // --- Options.

  /**
   * setsockopt(2). `value` is an integer (or boolean) for int options, or bytes for structured ones (e.g.
   * SO_LINGER's struct linger); `setsockopt(level, name, null, optlen)` passes a NULL value of that length.
   *
   * @python socket.socket.setsockopt
   */
  setsockopt(level: number, optname: number, value: number | boolean | Uint8Array | ArrayBufferView | null, optlen?: number): void {
    const lvl = intArg(level, 'level');
    const name = intArg(optname, 'optname');
    let r: number;
    if (value === null) {
      if (optlen === undefined) throw new TypeError('setsockopt(level, optname, null, optlen) needs optlen');
      const len = intArg(optlen, 'optlen');
      if (len < 0) throw new ValueError(`optlen must be non-negative (got ${len})`);
      r = sys.setsockoptBytes(this.#fd, lvl, name, null, len);
    } else if (typeof value === 'number' || typeof value === 'boolean') {
      if (optlen !== undefined) throw new TypeError('optlen is only allowed with a null value');
      r = sys.setsockoptInt(this.#fd, lvl, name, intArg(value, 'value'));
    } else if (ArrayBuffer.isView(value)) {
      if (optlen !== undefined) throw new TypeError('optlen is only allowed with a null value');
      const bytes = writableBytesArg(value, 'value');
      r = sys.setsockoptBytes(this.#fd, lvl, name, bytes, viewLength(bytes));
    } else {
      throw new TypeError(`setsockopt value must be an integer, a boolean, bytes or null (got ${describe(value)})`);
    }
    if (r < 0) raiseErrno(r);
  }

  /**
   * getsockopt(2): the int value, or, given `buflen` (1–1024), a Buffer with the option's bytes.
   *
   * @python socket.socket.getsockopt
   */
  getsockopt(level: number, optname: number): number;
  getsockopt(level: number, optname: number, buflen: number): Buffer;
  getsockopt(level: number, optname: number, buflen?: number): number | Buffer {
    const lvl = intArg(level, 'level');
    const name = intArg(optname, 'optname');
    const size = buflen === undefined ? 0 : intArg(buflen, 'buflen');
    if (size === 0) {
      const r = sys.getsockoptInt(this.#fd, lvl, name, intCell);
      if (r < 0) raiseErrno(r);
      return intCell[0]!;
    }
    if (size < 0 || size > MAX_OPTION_BYTES) throw new OSError(null, `getsockopt buflen out of range (${size}; 1-${MAX_OPTION_BYTES})`);
    const buf = Buffer.alloc(size);
    const len = sys.getsockoptBytes(this.#fd, lvl, name, buf);
    if (len < 0) raiseErrno(len);
    return len === size ? buf : buf.subarray(0, len);
  }

  // --- Lifetime.

  /**
   * Closes the fd; later calls do nothing. ECONNRESET from close(2) is ignored, as in Python.
   *
   * @python socket.socket.close
   */
  close(): void {
    const fd = this.#fd;
    if (fd === -1) return;
    this.#fd = -1;
    beforeFdClose(fd); // a watch of the fd lets go of it first
    const r = closeFd(fd);
    if (r < 0 && r !== -ECONNRESET) raiseErrno(r);
  }

  /**
   * Gives up the fd without closing it and returns it; the socket then behaves as closed.
   *
   * @python socket.socket.detach
   */
  detach(): number {
    const fd = this.#fd;
    this.#fd = -1;
    return fd;
  }

  /** `close()`, for `using`: the socket is closed when the block that declared it ends. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Python's repr: `<Socket fd=5, family=2, type=1, proto=0, laddr=('127.0.0.1', 8080)>`. */
  toString(): string {
    let s = `<Socket ${this.#fd === -1 ? '[closed] ' : ''}fd=${this.#fd}, family=${this.#family}, type=${this.#type}, proto=${this.#proto}`;
    if (this.#fd !== -1) {
      // As Python's repr: an address is shown only when there is one ('' for unnamed unix sockets is not).
      try {
        const local = this.getsockname();
        if (local !== '') s += `, laddr=${show(local)}`;
      } catch {
        // no local name for this socket
      }
      try {
        const remote = this.getpeername();
        if (remote !== '') s += `, raddr=${show(remote)}`;
      } catch {
        // not connected
      }
    }
    return `${s}>`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

function show(address: SocketAddress): string {
  if (Array.isArray(address)) return `(${address.map((v) => (typeof v === 'string' ? `'${v}'` : String(v))).join(', ')})`;
  if (typeof address === 'string') return `'${address}'`;
  return `b'${address.toString('latin1')}'`;
}

function fail(errnum: number, raise: boolean): number {
  if (raise) throw OSError.fromErrno(errnum);
  return errnum;
}

function setNonblocking(fd: number, nonblocking: boolean): void {
  const flags = getStatusFlags(fd);
  if (flags < 0) raiseErrno(flags);
  const next = nonblocking ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
  if (next !== flags) {
    const r = setStatusFlags(fd, next);
    if (r < 0) raiseErrno(r);
  }
}

/**
 * A Socket for `fd`, which the kernel has just handed out as a socket of that family, type and protocol
 * (accept, socketpair): the same as `new Socket(family, type, proto, fd)` without checking the fd again.
 * Not exported from the package.
 */
export function adoptSocketFd(family: number, type: number, proto: number, fd: number): Socket {
  return new Socket(family, type, proto, new KernelSocketFd(fd) as never);
}

/**
 * CPython's check of a given fd, with getsockname(2): OSError EBADF when it is not open, ENOTSOCK when it is
 * not a socket. Returns `family`, or the one the kernel reports when it was not given (any other failure is
 * then raised too; with a family given CPython ignores it, and so do we).
 */
function checkedFamily(fd: number, family: number | undefined): number {
  sockaddrLength[0] = sys.SOCKADDR_STORAGE_BYTES;
  const r = sys.getsockname(fd, sockaddr, sockaddrLength);
  if (r < 0) {
    if (r === -EBADF || r === -ENOTSOCK || family === undefined) raiseErrno(r);
    return family;
  }
  return family ?? sys.sockaddrFamily(sockaddr);
}

function socketOption(fd: number, name: number): number {
  const r = sys.getsockoptInt(fd, sys.SOL_SOCKET, name, intCell);
  if (r < 0) raiseErrno(r);
  return intCell[0]!;
}

/**
 * The checks of the hot-loop calls (tryRecvInto, trySend): `buf` a Uint8Array (read by its internal slots),
 * not detached, `[offset, offset + length)` inside it. Returns the length, `length` or the rest from `offset`.
 */
function hotRange(buf: Uint8Array, name: string, offset: number, length: number | undefined): number {
  if (!isUint8Array(buf)) throw new TypeError(`${name} must be a Buffer or Uint8Array (got ${describe(buf)})`);
  const size = viewLength(buf);
  if (length === undefined) length = size - offset;
  if (size === 0 && isUnusable(buf)) throw detachedError(name);
  checkRange(size, offset, length);
  return length;
}
