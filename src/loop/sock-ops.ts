/**
 * Awaitable socket operations, after asyncio's `loop.sock_*`: each tries the call at once and, when the
 * socket says "would block", waits for readiness on Node's event loop (through `watch()`, no thread blocked)
 * and tries again. asyncio's rules: the socket must be non-blocking (ValueError otherwise), a socket has at
 * most one pending reader and one pending writer (a second raises RuntimeError instead of silently replacing
 * the first, as asyncio's add_reader would), partial sends are continued until everything is sent.
 *
 * Cancellation: `{ signal }` — an aborted AbortSignal rejects with an AbortError DOMException and stops the
 * wait; whatever was sent before stays sent. A socket closed with `close()` while an operation waits rejects
 * that operation with OSError EBADF.
 */
import { BlockingIOError, InterruptedError, OSError, RuntimeError, ValueError } from '../errors.js';
import { EVENT_READ, EVENT_WRITE } from '../events.js';
import { describe } from '../fileobj.js';
import type { Socket, SocketData } from '../socket/socket.js';
import type { AddressLike, SocketAddress } from '../socket/address.js';
import type { AncillaryItemLike, RecvmsgResult } from '../socket/messages.js';
import * as sys from '../sys/index.js';
import { Watcher } from './watch.js';

/** What every operation accepts: an AbortSignal that cancels the wait. */
export interface SockOpOptions {
  /** Aborting it rejects the operation with an `AbortError` whose `cause` is the signal's `reason`. */
  signal?: AbortSignal;
}

/** `sockRecvmsg`'s options: also the recvmsg `flags`. */
export interface SockRecvmsgOptions extends SockOpOptions {
  /** `recvmsg`'s flags (MSG_PEEK, MSG_CMSG_CLOEXEC, …), as `sock.recvmsg(bufsize, ancbufsize, flags)`. */
  flags?: number;
}

type Direction = typeof EVENT_READ | typeof EVENT_WRITE;

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

/**
 * The one watch of a socket's fd while operations wait on it, shared by its pending reader and writer (a fd
 * can have only one watch per thread). It goes away when nobody waits.
 */
class FdWaiters {
  readonly fd: number;
  reader: Waiter | null = null;
  writer: Waiter | null = null;
  watcher: ClosingAwareWatcher | null = null;

  constructor(fd: number) {
    this.fd = fd;
  }

  get mask(): number {
    return (this.reader ? EVENT_READ : 0) | (this.writer ? EVENT_WRITE : 0);
  }

  add(direction: Direction, waiter: Waiter): void {
    // An operation woken by readiness that another took first waits again: if a new operation claimed the
    // direction in between, replacing it would leave that one pending forever.
    const taken = direction === EVENT_READ ? this.reader : this.writer;
    if (taken !== null && taken !== waiter) {
      const verb = direction === EVENT_READ ? 'read' : 'write';
      throw new RuntimeError(`another operation is already waiting to ${verb} on this socket (fd ${this.fd})`);
    }
    if (direction === EVENT_READ) this.reader = waiter;
    else this.writer = waiter;
    if (this.watcher === null) {
      this.watcher = new ClosingAwareWatcher(this.fd, this.mask, (events) => this.#ready(events), () => this.#closing());
    } else {
      this.watcher.modify(this.mask);
    }
  }

  remove(direction: Direction): void {
    if (direction === EVENT_READ) this.reader = null;
    else this.writer = null;
    this.#settle();
  }

  #settle(): void {
    if (this.mask !== 0) {
      this.watcher?.modify(this.mask);
      return;
    }
    this.watcher?.close();
    this.watcher = null;
    if (registry.get(this.fd) === this) registry.delete(this.fd);
  }

  // Called with the ready events (or every watched one plus an error: the retried call then reports it).
  #ready(events: number): void {
    const reader = events & EVENT_READ ? this.reader : null;
    const writer = events & EVENT_WRITE ? this.writer : null;
    if (reader) this.reader = null;
    if (writer) this.writer = null;
    this.#settle();
    reader?.resolve();
    writer?.resolve();
  }

  // The fd is being closed by iomux (Socket.close, os.close): the calls would fail with EBADF.
  #closing(): void {
    const waiting = [this.reader, this.writer];
    this.reader = null;
    this.writer = null;
    this.watcher = null;
    if (registry.get(this.fd) === this) registry.delete(this.fd);
    for (const w of waiting) w?.reject(OSError.fromErrno(sys.ERRNO.EBADF!));
  }
}

/** A watch that also says when iomux closes its fd (the base class only goes silent then). */
class ClosingAwareWatcher extends Watcher {
  readonly #onClosing: () => void;

  constructor(fd: number, events: number, callback: (events: number) => void, onClosing: () => void) {
    super(fd, events, callback);
    this.#onClosing = onClosing;
  }

  override onFdClosing(): void {
    super.onFdClosing();
    this.#onClosing();
  }
}

/** fd → the operations waiting on it. */
const registry = new Map<number, FdWaiters>();

function abortError(signal: AbortSignal): DOMException {
  return new DOMException('The operation was aborted', { name: 'AbortError', cause: signal.reason });
}

function optionsSignal(fn: string, options: unknown, extra: readonly string[] = []): AbortSignal | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`${fn}(): options must be an object (got ${describe(options)})`);
  }
  for (const name of Object.keys(options)) {
    if (name !== 'signal' && !extra.includes(name)) throw new TypeError(`${fn}() got an unexpected option '${name}'`);
  }
  const { signal } = options as { signal?: unknown };
  if (signal === undefined) return undefined;
  if (!(signal instanceof AbortSignal)) throw new TypeError(`${fn}(): options.signal must be an AbortSignal (got ${describe(signal)})`);
  return signal;
}

/** asyncio's checks: a non-blocking socket, and no other operation waiting in the same direction. */
function checkSocket(fn: string, sock: Socket, direction: Direction): void {
  if (typeof (sock as { gettimeout?: unknown })?.gettimeout !== 'function') {
    throw new TypeError(`${fn}(): sock must be an iomux Socket (got ${describe(sock)})`);
  }
  if (sock.gettimeout() !== 0) throw new ValueError('the socket must be non-blocking');
  const waiting = registry.get(sock.fileno());
  if (waiting && (direction === EVENT_READ ? waiting.reader : waiting.writer)) {
    const verb = direction === EVENT_READ ? 'read' : 'write';
    throw new RuntimeError(`${fn}() called while another operation is already waiting to ${verb} on this socket (fd ${sock.fileno()})`);
  }
}

/** Waits until the socket's fd is ready in `direction`, on Node's event loop. */
function ready(sock: Socket, direction: Direction, signal: AbortSignal | undefined): Promise<void> {
  const fd = sock.fileno();
  if (fd < 0) return Promise.reject(OSError.fromErrno(sys.ERRNO.EBADF!));
  return new Promise<void>((resolve, reject) => {
    let entry = registry.get(fd);
    const fresh = entry === undefined;
    if (entry === undefined) {
      entry = new FdWaiters(fd);
      registry.set(fd, entry);
    }
    const owner = entry;
    const onAbort = (): void => {
      owner.remove(direction);
      reject(abortError(signal!));
    };
    const waiter: Waiter = {
      resolve: () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      reject: (err) => {
        signal?.removeEventListener('abort', onAbort);
        reject(err);
      },
    };
    try {
      owner.add(direction, waiter);
    } catch (err) {
      if (direction === EVENT_READ && owner.reader === waiter) owner.reader = null;
      else if (direction === EVENT_WRITE && owner.writer === waiter) owner.writer = null;
      if (fresh) registry.delete(fd);
      reject(err);
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

const WOULD_BLOCK = Symbol('would block');

/** `call()`, or WOULD_BLOCK when the socket said EAGAIN (or EINTR: try again after the wait). */
function attempt<T>(call: () => T): T | typeof WOULD_BLOCK {
  try {
    return call();
  } catch (err) {
    if (err instanceof BlockingIOError || err instanceof InterruptedError) return WOULD_BLOCK;
    throw err;
  }
}

/** Tries `call` now and after each readiness in `direction` until it does not block. */
async function retry<T>(
  fn: string, sock: Socket, direction: Direction, signal: AbortSignal | undefined, call: () => T,
): Promise<T> {
  checkSocket(fn, sock, direction);
  if (signal?.aborted) throw abortError(signal);
  for (;;) {
    const r = attempt(call);
    if (r !== WOULD_BLOCK) return r;
    await ready(sock, direction, signal);
  }
}

/**
 * `sock.recv(nbytes)` without blocking the thread: up to `nbytes` bytes, an empty Buffer at end of stream.
 *
 * @python asyncio.loop.sock_recv
 */
export function sockRecv(sock: Socket, nbytes: number, options?: SockOpOptions): Promise<Buffer> {
  return run(() => retry('sockRecv', sock, EVENT_READ, optionsSignal('sockRecv', options), () => sock.recv(nbytes)));
}

/**
 * `sock.recvInto(buf)`: the number of bytes read into `buf`, 0 at end of stream.
 *
 * @python asyncio.loop.sock_recv_into
 */
export function sockRecvInto(sock: Socket, buf: Uint8Array | ArrayBufferView, options?: SockOpOptions): Promise<number> {
  return run(() => retry('sockRecvInto', sock, EVENT_READ, optionsSignal('sockRecvInto', options), () => sock.recvInto(buf)));
}

/**
 * `sock.recvfrom(bufsize)`: `[data, address]`.
 *
 * @python asyncio.loop.sock_recvfrom
 */
export function sockRecvfrom(sock: Socket, bufsize: number, options?: SockOpOptions): Promise<[Buffer, SocketAddress | null]> {
  return run(() => retry('sockRecvfrom', sock, EVENT_READ, optionsSignal('sockRecvfrom', options), () => sock.recvfrom(bufsize)));
}

/**
 * `sock.recvmsg(bufsize, ancbufsize, flags)`: `[data, ancdata, msgFlags, address]` (fds in SCM_RIGHTS items
 * are the caller's). `options.flags` are recvmsg's flags (an iomux addition; asyncio has no sock_recvmsg).
 */
export function sockRecvmsg(sock: Socket, bufsize: number, ancbufsize: number = 0, options?: SockRecvmsgOptions): Promise<RecvmsgResult> {
  return run(() => {
    const signal = optionsSignal('sockRecvmsg', options, ['flags']);
    const flags = options?.flags ?? 0;
    return retry('sockRecvmsg', sock, EVENT_READ, signal, () => sock.recvmsg(bufsize, ancbufsize, flags));
  });
}

/**
 * `sock.accept()`: `[conn, address]`, the new socket non-blocking (as asyncio makes it).
 *
 * @python asyncio.loop.sock_accept
 */
export function sockAccept(sock: Socket, options?: SockOpOptions): Promise<[Socket, SocketAddress]> {
  return run(async () => {
    const [conn, address] = await retry('sockAccept', sock, EVENT_READ, optionsSignal('sockAccept', options), () => sock.accept());
    try {
      conn.setblocking(false);
    } catch (err) {
      conn.close();
      throw err;
    }
    return [conn, address];
  });
}

/**
 * Sends all of `data`, waiting for room as often as needed (asyncio's sock_sendall). Resolves when the last
 * byte is handed to the kernel. Aborting leaves what was sent sent.
 *
 * @python asyncio.loop.sock_sendall
 */
export function sockSendall(sock: Socket, data: SocketData, options?: SockOpOptions): Promise<void> {
  return run(async () => {
    const signal = optionsSignal('sockSendall', options);
    const bytes = toBytes(data);
    let offset = 0;
    offset += await retry('sockSendall', sock, EVENT_WRITE, signal, () => sock.send(bytes));
    while (offset < bytes.length) {
      offset += await retry('sockSendall', sock, EVENT_WRITE, signal, () => sock.send(bytes.subarray(offset)));
    }
  });
}

/**
 * `sock.sendto(data, address)`: the bytes sent.
 *
 * @python asyncio.loop.sock_sendto
 */
export function sockSendto(sock: Socket, data: SocketData, address: AddressLike, options?: SockOpOptions): Promise<number> {
  return run(() => retry('sockSendto', sock, EVENT_WRITE, optionsSignal('sockSendto', options), () => sock.sendto(data, address)));
}

/**
 * `sock.sendmsg(buffers, ancdata, flags, address)`, waiting for room. On a stream socket a partial send is
 * continued (plain sends of the rest: the ancillary data went with the first byte) and the total is returned;
 * on datagram and seqpacket sockets a message goes whole or not at all. While it waits, the fds in `ancdata`
 * stay the caller's: nothing is sent until the kernel takes the message.
 */
export function sockSendmsg(
  sock: Socket, buffers: Iterable<SocketData>, ancdata: Iterable<AncillaryItemLike> = [], flags: number = 0,
  address?: AddressLike | null, options?: SockOpOptions,
): Promise<number> {
  return run(async () => {
    const signal = optionsSignal('sockSendmsg', options);
    const parts = [...buffers].map(toBytes);
    const anc = [...ancdata];
    const total = parts.reduce((n, p) => n + p.length, 0);
    let sent = await retry('sockSendmsg', sock, EVENT_WRITE, signal, () => sock.sendmsg(parts, anc, flags, address));
    if (sent >= total || sock.type !== sys.SOCK_STREAM) return sent;
    const rest = Buffer.concat(parts).subarray(sent);
    let offset = 0;
    while (offset < rest.length) {
      offset += await retry('sockSendmsg', sock, EVENT_WRITE, signal, () => sock.send(rest.subarray(offset), flags));
    }
    sent += offset;
    return sent;
  });
}

/**
 * Connects without blocking the thread (asyncio's sock_connect): starts the connect and, when it is in
 * progress, waits for writability and reads SO_ERROR; a failure raises the errno's OSError with asyncio's
 * message "Connect call failed <address>".
 *
 * @python asyncio.loop.sock_connect
 */
export function sockConnect(sock: Socket, address: AddressLike, options?: SockOpOptions): Promise<void> {
  return run(async () => {
    const signal = optionsSignal('sockConnect', options);
    checkSocket('sockConnect', sock, EVENT_WRITE);
    if (signal?.aborted) throw abortError(signal);
    if (attempt(() => sock.connect(address)) !== WOULD_BLOCK) return;
    for (;;) {
      await ready(sock, EVENT_WRITE, signal);
      const err = sock.getsockopt(sys.SOL_SOCKET, sys.SO_ERROR);
      if (err === 0) return;
      if (err === sys.ERRNO.EINTR || err === sys.ERRNO.EAGAIN) continue;
      const Cls = OSError.fromErrno(err).constructor as new (errnum: number, message?: string) => OSError;
      throw new Cls(err, `Connect call failed ${showAddress(address)}`);
    }
  });
}

/** Any synchronous throw of `fn` becomes a rejection, as in an `async` function. */
function run<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return fn();
  } catch (err) {
    return Promise.reject(err);
  }
}

function toBytes(data: unknown): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  throw new TypeError(`data must be a Buffer, Uint8Array, ArrayBufferView or string (got ${describe(data)})`);
}

/** An address as Python's repr shows it: ('127.0.0.1', 8080), '/tmp/sock'. */
function showAddress(address: unknown): string {
  if (Array.isArray(address)) return `(${address.map((v) => (typeof v === 'string' ? `'${v}'` : String(v))).join(', ')})`;
  if (typeof address === 'string') return `'${address}'`;
  return describe(address);
}
