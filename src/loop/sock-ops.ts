/**
 * Awaitable socket operations, after asyncio's `loop.sock_*`: each tries the call at once and, when the
 * socket says "would block", waits for readiness on Node's event loop (through `watch()`, no thread blocked)
 * and tries again. asyncio's rules: the socket must be non-blocking (ValueError otherwise), a socket has at
 * most one pending reader and one pending writer (a second raises RuntimeError instead of silently replacing
 * the first, as asyncio's add_reader would), partial sends are continued until everything is sent.
 *
 * Cancellation: `{ signal }` — an operation whose AbortSignal is aborted rejects with an AbortError
 * DOMException (its cause the signal's reason) and makes no more calls: the signal is checked right before
 * every call, so an abort by anything that ran after readiness woke the operation (another callback of the
 * same batch) still wins. Whatever was sent before stays sent. A socket closed with `close()` while an
 * operation waits rejects that operation with OSError EBADF at once; one closed by other means, too (see
 * the sweep below).
 */
import { eventWords, trace, tracing } from './debug.js';
import { bytesArg } from '../args.js';
import { BlockingIOError, InterruptedError, OSError, RuntimeError, ValueError } from '../errors.js';
import { EVENT_READ, EVENT_WRITE } from '../events.js';
import { describe } from '../fileobj.js';
import type { Socket, SocketData } from '../socket/socket.js';
import type { AddressLike, SocketAddress } from '../socket/address.js';
import type { AncillaryItemLike, RecvmsgResult } from '../socket/messages.js';
import * as sys from '../sys/index.js';
import { subscribeAbort, unsubscribeAbort, type AbortSubscriber } from './abort-subscribers.js';
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

/** One pending wait for readiness in one direction. */
interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

/**
 * The one watch of a socket's fd while operations wait on it, shared by its pending reader and writer (a fd
 * can have only one watch per thread). It goes away when nobody waits, and when the fd goes away: closed by
 * iomux, or found closed (or its number reused) after a close behind iomux's back — the waits then reject
 * with OSError EBADF and the number is free for whatever socket has it next.
 */
class FdWaiters {
  readonly fd: number;
  reader: Waiter | null = null;
  writer: Waiter | null = null;
  watcher: ClosingAwareWatcher | null = null;
  /** The fd went away under the watch: the waits were rejected and the entry left the registry. */
  lost = false;

  constructor(fd: number) {
    this.fd = fd;
  }

  get mask(): number {
    return (this.reader ? EVENT_READ : 0) | (this.writer ? EVENT_WRITE : 0);
  }

  add(direction: Direction, waiter: Waiter): void {
    // An operation woken by readiness that another took first waits again: if a new operation claimed the
    // direction in between, replacing it would leave that one pending forever. Unless that one waits on a
    // file closed behind iomux's back: verifyFd() then rejects it and marks this entry lost.
    if ((direction === EVENT_READ ? this.reader : this.writer) !== null) {
      if (!this.verifyFd()) throw OSError.fromErrno(sys.ERRNO.EBADF!);
      const verb = direction === EVENT_READ ? 'read' : 'write';
      throw new RuntimeError(`another operation is already waiting to ${verb} on this socket (fd ${this.fd})`);
    }
    // The watch changes first: a change that finds the fd gone rejects the waits already here, not this one.
    const mask = this.mask | direction;
    try {
      if (this.watcher === null) {
        this.watcher = new ClosingAwareWatcher(this.fd, mask, this);
        armSweep();
      } else {
        this.watcher.modify(mask);
      }
    } catch (err) {
      if (this.mask === 0) this.#leave();
      throw err;
    }
    if (direction === EVENT_READ) this.reader = waiter;
    else this.writer = waiter;
  }

  /** Withdraws `waiter` (an aborted wait), if it still waits here. */
  remove(direction: Direction, waiter: Waiter): void {
    if (direction === EVENT_READ && this.reader === waiter) this.reader = null;
    else if (direction === EVENT_WRITE && this.writer === waiter) this.writer = null;
    else return;
    this.#settle();
  }

  /** False (the waits rejected with EBADF, the entry gone) when the fd no longer names the watched file. */
  verifyFd(): boolean {
    return this.watcher !== null && this.watcher.verifyFd();
  }

  /** The watch's callback: the ready events (or every watched one plus an error: the retried call reports it). */
  onReady(events: number): void {
    const reader = events & EVENT_READ ? this.reader : null;
    const writer = events & EVENT_WRITE ? this.writer : null;
    if (reader) this.reader = null;
    if (writer) this.writer = null;
    this.#settle();
    reader?.resolve();
    writer?.resolve();
  }

  /** The watch lost the fd (closed by iomux, or found closed or reused): the calls would fail with EBADF. */
  onFdLost(): void {
    this.watcher = null;
    this.lost = true;
    this.#failAll(OSError.fromErrno(sys.ERRNO.EBADF!));
  }

  // Watches what is still waited for, or lets go of the watch. Never throws (it runs from abort listeners).
  #settle(): void {
    const watcher = this.watcher;
    if (watcher === null) return;
    if (this.mask === 0) {
      this.watcher = null;
      watcher.close();
      this.#leave();
      return;
    }
    try {
      watcher.modify(this.mask);
    } catch (err) {
      // The fd is gone (onFdLost already rejected the waits) or the set refused the change: either way
      // the remaining waits cannot be woken.
      this.watcher = null;
      watcher.close();
      this.#failAll(err);
    }
  }

  #failAll(err: unknown): void {
    const { reader, writer } = this;
    this.reader = null;
    this.writer = null;
    this.#leave();
    reader?.reject(err);
    writer?.reject(err);
  }

  #leave(): void {
    if (registry.get(this.fd) === this) registry.delete(this.fd);
  }
}

/** The watch of a FdWaiters, which also hears when the fd goes away (the base class only goes silent then). */
class ClosingAwareWatcher extends Watcher {
  readonly #owner: FdWaiters;

  constructor(fd: number, events: number, owner: FdWaiters) {
    super(fd, events, (ready) => owner.onReady(ready));
    this.#owner = owner;
  }

  protected override onFdLost(): void {
    this.#owner.onFdLost();
  }
}

/** fd → the operations waiting on it. */
const registry = new Map<number, FdWaiters>();

/**
 * A fd closed behind iomux's back (fs.closeSync) gives no event: epoll drops its entry in silence. So while
 * operations wait, their fds are checked now and then (an fstat each, at most SWEEP_BATCH per SWEEP_MS,
 * round robin), and the waits of a fd found closed or reused reject with EBADF instead of hanging for ever.
 * A new operation or watch of the same number finds it out at once.
 */
const SWEEP_MS = 1000;
const SWEEP_BATCH = 256;
let sweepTimer: NodeJS.Timeout | null = null;
let sweepArmed = false;
let sweepCursor: Iterator<FdWaiters> | null = null;

function armSweep(): void {
  if (sweepArmed) return;
  sweepArmed = true;
  if (sweepTimer === null) sweepTimer = setTimeout(sweep, SWEEP_MS).unref();
  else sweepTimer.refresh();
}

function sweep(): void {
  sweepArmed = false;
  const budget = Math.min(SWEEP_BATCH, registry.size);
  for (let i = 0; i < budget; i++) {
    let next = (sweepCursor ??= registry.values()).next();
    if (next.done) {
      sweepCursor = registry.values();
      next = sweepCursor.next();
      if (next.done) break;
    }
    try {
      next.value.verifyFd();
    } catch {
      // fstat failed otherwise than with EBADF (it does not on an open fd): the next round tries again
    }
  }
  if (registry.size > 0) armSweep();
  else sweepCursor = null;
}

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
  const fd = sock.fileno();
  const waiting = registry.get(fd);
  // An operation of a socket closed behind iomux's back under the same number is no conflict (it is rejected).
  if (waiting && (direction === EVENT_READ ? waiting.reader : waiting.writer) && waiting.verifyFd()) {
    const verb = direction === EVENT_READ ? 'read' : 'write';
    throw new RuntimeError(`${fn}() called while another operation is already waiting to ${verb} on this socket (fd ${fd})`);
  }
}

/** A wait for readiness: settled by the fd's watch, by an abort of its signal, or by the fd going away. */
class ReadyWait implements Waiter, AbortSubscriber {
  readonly #entry: FdWaiters;
  readonly #direction: Direction;
  readonly #signal: AbortSignal | undefined;
  readonly #resolve: () => void;
  readonly #reject: (err: unknown) => void;

  constructor(entry: FdWaiters, direction: Direction, signal: AbortSignal | undefined, resolve: () => void, reject: (err: unknown) => void) {
    this.#entry = entry;
    this.#direction = direction;
    this.#signal = signal;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  resolve(): void {
    if (this.#signal) unsubscribeAbort(this.#signal, this);
    this.#resolve();
  }

  reject(err: unknown): void {
    if (this.#signal) unsubscribeAbort(this.#signal, this);
    this.#reject(err);
  }

  onAbort(): void {
    this.#entry.remove(this.#direction, this);
    this.#reject(abortError(this.#signal!));
  }
}

/** Waits until the socket's fd is ready in `direction`, on Node's event loop. */
function ready(sock: Socket, direction: Direction, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortError(signal));
  const fd = sock.fileno();
  if (fd < 0) return Promise.reject(OSError.fromErrno(sys.ERRNO.EBADF!));
  return new Promise<void>((resolve, reject) => {
    for (;;) {
      const existing = registry.get(fd);
      const entry = existing ?? new FdWaiters(fd);
      if (existing === undefined) registry.set(fd, entry);
      const wait = new ReadyWait(entry, direction, signal, resolve, reject);
      try {
        entry.add(direction, wait);
      } catch (err) {
        // Adding to an existing entry checks its file (the watch's modify does): one whose fd was closed
        // behind iomux's back has rejected its own waits and left the registry; this wait starts afresh.
        if (existing !== undefined && entry.lost) continue;
        reject(err);
        return;
      }
      if (signal) subscribeAbort(signal, wait);
      return;
    }
  });
}

/**
 * Readiness reports that turn out false — the call still blocks right after — are normal once in a while
 * (another reader was faster); in a row they mean the kernel keeps saying "ready" while the call keeps
 * blocking: an unconnected datagram socket whose destination's queue is full is writable as far as poll
 * knows. From the BACKOFF_AFTER-th in a row, the operation sleeps before it waits again: 1 ms, doubling up to
 * BACKOFF_MAX_MS, so such a wait costs a few calls a second, not a busy loop, and sends at most
 * BACKOFF_MAX_MS after room appears.
 */
const BACKOFF_AFTER = 2;
const BACKOFF_FIRST_MS = 1;
const BACKOFF_MAX_MS = 64;

/** A pause of the `step`-th back-off (0, 1, …), cut short by an abort of `signal`. */
function backOff(step: number, signal: AbortSignal | undefined): Promise<void> {
  const ms = Math.min(BACKOFF_FIRST_MS * 2 ** step, BACKOFF_MAX_MS);
  return new Promise<void>((resolve, reject) => {
    const pause: AbortSubscriber = {
      onAbort: () => {
        clearTimeout(timer);
        reject(abortError(signal!));
      },
    };
    const timer = setTimeout(() => {
      if (signal) unsubscribeAbort(signal, pause);
      resolve();
    }, ms);
    if (signal) subscribeAbort(signal, pause);
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

/**
 * Tries `call` now and after each readiness in `direction` until it does not block. The signal is checked
 * right before every call: an operation aborted by anything that ran since it was woken (another callback of
 * the same batch) rejects without calling again.
 */
function retry<T>(
  fn: string, sock: Socket, direction: Direction, signal: AbortSignal | undefined, call: () => T,
): Promise<T> {
  checkSocket(fn, sock, direction); // a throw here is a rejection: every caller runs inside run() or async code
  if (!tracing) return retryCalls(sock, direction, signal, call);
  const fd = sock.fileno();
  trace('%s fd %d: started', fn, fd);
  return traceSettling(fn, fd, retryCalls(sock, direction, signal, call));
}

/** NODE_DEBUG=iomux only: says how `operation` ended, and passes its outcome on. */
async function traceSettling<T>(fn: string, fd: number, operation: Promise<T>): Promise<T> {
  try {
    const r = await operation;
    trace('%s fd %d: done', fn, fd);
    return r;
  } catch (err) {
    trace('%s fd %d: %s', fn, fd, isAbortError(err) ? 'aborted' : `failed: ${String(err)}`);
    throw err;
  }
}

async function retryCalls<T>(sock: Socket, direction: Direction, signal: AbortSignal | undefined, call: () => T): Promise<T> {
  for (let falseReports = 0; ; falseReports++) {
    if (signal?.aborted) throw abortError(signal);
    const r = attempt(call);
    if (r !== WOULD_BLOCK) return r;
    if (tracing) trace('  fd %d would block: waits until %s', sock.fileno(), eventWords(direction));
    if (falseReports >= BACKOFF_AFTER) await backOff(falseReports - BACKOFF_AFTER, signal);
    await ready(sock, direction, signal);
  }
}

function isAbortError(err: unknown): boolean {
  return err instanceof DOMException && err.name === 'AbortError';
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
    // Lengths and the rest's views come from the view's internal slots: a `length` or `subarray` of the caller's
    // (a subclass's getter) must not steer the loop (a lying length made it spin forever on empty sends).
    const bytes = bytesArg(data);
    const total = sys.viewLength(bytes);
    let offset = await retry('sockSendall', sock, EVENT_WRITE, signal, () => sock.send(bytes));
    while (offset < total) {
      const rest = sys.subview(bytes, offset, total - offset);
      offset += await retry('sockSendall', sock, EVENT_WRITE, signal, () => sock.send(rest));
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
    const parts = [...buffers].map((b, i) => bytesArg(b, 'data buffer', i));
    const anc = [...ancdata];
    const total = parts.reduce((n, p) => n + sys.viewLength(p), 0);
    let sent = await retry('sockSendmsg', sock, EVENT_WRITE, signal, () => sock.sendmsg(parts, anc, flags, address));
    if (sent >= total || sock.type !== sys.SOCK_STREAM) return sent;
    const rest = Buffer.concat(parts.map((p) => sys.subview(p, 0, sys.viewLength(p)))).subarray(sent);
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
      if (signal?.aborted) throw abortError(signal); // aborted since the wake-up, by another callback of its batch
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

/** An address as Python's repr shows it: ('127.0.0.1', 8080), '/tmp/sock'. */
function showAddress(address: unknown): string {
  if (Array.isArray(address)) return `(${address.map((v) => (typeof v === 'string' ? `'${v}'` : String(v))).join(', ')})`;
  if (typeof address === 'string') return `'${address}'`;
  return describe(address);
}
