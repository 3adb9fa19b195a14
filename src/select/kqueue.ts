/**
 * kqueue(2) with CPython 3.13's `select.kqueue` and `select.kevent` semantics. On macOS and the BSDs it is the
 * kernel's; on Linux it works wherever libkqueue is installed (see `hasKqueue()`), else `kqueue()` raises
 * OSError(ENOSYS) with a message saying how to get it.
 *
 * Deliberate deviations, for JavaScript's numbers: `ident`, `data` and `udata` are numbers and must be safe
 * integers (|x| < 2**53); CPython's `udata` wraps a negative int modulo 2**64, iomux raises OverflowError.
 * An fd filter's ident above INT_MAX is refused with EBADF at `control()`, as the BSD kernels refuse it, on
 * Linux too (where libkqueue would otherwise truncate it to another fd).
 */
import { allocBytes, fdArg } from '../args.js';
import { OSError, OverflowError, ValueError, raiseErrno } from '../errors.js';
import { asFileDescriptor, describe, type FileLike } from '../fileobj.js';
import { beforeFdClose } from '../fd-close.js';
import * as sys from '../sys/index.js';
import { kqueueTimeoutNs, monotonicMs } from '../timeout.js';

const EINTR = sys.ERRNO.EINTR!;
const ENOSYS = sys.ERRNO.ENOSYS!;

function integer(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(`${name} must be an integer (got ${describe(value)})`);
  }
  return value;
}

function safe(value: number, name: string, min: number): number {
  if (value < min || value > Number.MAX_SAFE_INTEGER) throw new OverflowError(`${name} ${value} is out of range`);
  return value;
}

/**
 * One `struct kevent`: what to change in a kqueue, or what it reported. Immutable fields, as CPython's.
 *
 * @python select.kevent
 */
export class Kevent {
  /** @python select.kevent.ident */
  readonly ident: number;
  /** @python select.kevent.filter */
  readonly filter: number;
  /** @python select.kevent.flags */
  readonly flags: number;
  /** @python select.kevent.fflags */
  readonly fflags: number;
  /** @python select.kevent.data */
  readonly data: number;
  /** @python select.kevent.udata */
  readonly udata: number;

  /**
   * `ident` is a FileLike (its fd) or an integer (a pid, a signal, a timer id); `filter` a C short
   * (OverflowError outside it), `flags` a C unsigned short and `fflags` a C unsigned int, both wrapping as
   * CPython's converters do.
   */
  constructor(
    ident: FileLike, filter: number = sys.KQ.EVFILT_READ, flags: number = sys.KQ.EV_ADD,
    fflags: number = 0, data: number = 0, udata: number = 0,
  ) {
    this.ident = typeof ident === 'number' && Number.isInteger(ident)
      ? safe(ident, 'ident', 0)
      : asFileDescriptor(ident);
    const f = integer(filter, 'filter');
    if (f < -0x8000) throw new OverflowError('signed short integer is less than minimum');
    if (f > 0x7fff) throw new OverflowError('signed short integer is greater than maximum');
    this.filter = f;
    this.flags = Number(BigInt.asUintN(16, BigInt(integer(flags, 'flags'))));
    this.fflags = Number(BigInt.asUintN(32, BigInt(integer(fflags, 'fflags'))));
    this.data = safe(integer(data, 'data'), 'data', -Number.MAX_SAFE_INTEGER);
    this.udata = safe(integer(udata, 'udata'), 'udata', 0);
    Object.freeze(this);
  }

  /** The brand of real Kevents (a private method: no per-object cost); a Proxy of one does not carry it. */
  #brand(): void {}

  /** True for a Kevent made by this class (a subclass too), false for a Proxy of one or a look-alike. */
  static isKevent(value: unknown): value is Kevent {
    return typeof value === 'object' && value !== null && #brand in value;
  }

  /** True when `other` is a Kevent with the same six fields. */
  equals(other: unknown): boolean {
    return other instanceof Kevent && this.compare(other) === 0;
  }

  /** -1, 0 or 1, ordering by ident, filter, flags, fflags, data, udata (CPython's rich comparison). */
  compare(other: Kevent): number {
    if (!(other instanceof Kevent)) throw new TypeError(`can't compare select.kevent to ${describe(other)}`);
    return cmp(this.ident, other.ident) || cmp(this.filter, other.filter) || cmp(this.flags, other.flags) ||
      cmp(this.fflags, other.fflags) || cmp(this.data, other.data) || cmp(this.udata, other.udata);
  }

  /** CPython's repr: `<select.kevent ident=… filter=… flags=… fflags=… data=… udata=…>`. */
  toString(): string {
    return `<select.kevent ident=${this.ident} filter=${this.filter} flags=0x${this.flags.toString(16)} ` +
      `fflags=0x${this.fflags.toString(16)} data=0x${this.data.toString(16)} udata=0x${this.udata.toString(16)}>`;
  }
}

function cmp(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * `select.kevent(...)`: a new Kevent.
 *
 * @python select.kevent
 */
export function kevent(ident: FileLike, filter?: number, flags?: number, fflags?: number, data?: number, udata?: number): Kevent {
  return new Kevent(ident, filter, flags, fflags, data, udata);
}

/** True when `kqueue()` works here (always on macOS/BSD; on Linux when libkqueue can be loaded). */
export function hasKqueue(): boolean {
  return sys.kqueueUnavailable() === null;
}

/**
 * Whether a kqueue fd can itself be watched for readability (by poll, epoll or Node's event loop): yes for a
 * kernel kqueue, no under libkqueue. Internal (used by KqueueSelector's event-loop integration).
 */
export function kqueueFdIsPollable(): boolean {
  return sys.KQUEUE_FD_POLLABLE;
}

/** Marks the one constructor call `fromFd` makes, so wrapping an fd creates no kqueue of its own. */
class Adopt {
  constructor(readonly fd: number) {}
}

/** kqueue.control()'s timeout, with CPython's TypeError text for a non-number. */
function timeoutNs(timeout: unknown): number | null {
  if (timeout !== null && timeout !== undefined && typeof timeout !== 'number') {
    throw new TypeError(`timeout argument must be a number or None, got ${describe(timeout)}`);
  }
  return kqueueTimeoutNs(timeout);
}

function maxEventsArg(maxEvents: unknown): number {
  const max = integer(maxEvents, 'max_events');
  if (max > sys.INT_MAX) throw new OverflowError('signed integer is greater than maximum');
  if (max < 0) throw new ValueError(`Length of eventlist must be 0 or positive, got ${max}`);
  return max;
}

/** Room for `max` events; MemoryError (CPython's class) where no Buffer can hold them, never RangeError. */
function eventList(max: number): Buffer {
  return allocBytes(max * sys.KEVENT_BYTES, `the event list for max_events=${max}, bytes`);
}

/**
 * A kqueue: `control(changelist, maxEvents, timeout)` applies changes and collects events in one kevent(2).
 * Close-on-exec. Closing it twice is fine; any other call on a closed kqueue raises
 * ValueError("I/O operation on closed kqueue object").
 *
 * @python select.kqueue
 */
export class Kqueue implements Disposable {
  #fd: number;
  #changes: Buffer = Buffer.alloc(0);
  /** wait()'s events, read by readyIdent(i) etc. until the next wait(). */
  #events: Buffer = Buffer.alloc(0);
  /** control()'s, separate so that control() calls between a wait() and its reading leave that batch alone. */
  #controlEvents: Buffer = Buffer.alloc(0);
  readonly #timespec = Buffer.alloc(sys.TIMESPEC_BYTES);
  /** Events the last wait() left in #events. */
  #ready = 0;

  constructor();
  constructor(...args: unknown[]) {
    if (args[0] instanceof Adopt) {
      this.#fd = args[0].fd;
      return;
    }
    if (args.length > 0) throw new ValueError("select.kqueue doesn't accept arguments");
    const fd = sys.kqueueCreate();
    if (fd === -ENOSYS) {
      const why = sys.kqueueUnavailable();
      throw new OSError(ENOSYS, why ?? undefined);
    }
    if (fd < 0) raiseErrno(fd);
    this.#fd = fd;
  }

  /**
   * Wraps an existing kqueue fd (taking ownership, without checking it). `fromFd(-1)` makes a new one.
   *
   * @python select.kqueue.fromfd
   */
  static fromFd(fd: number): Kqueue {
    const n = fdArg(fd, 'fd');
    if (n === -1) return new Kqueue();
    if (n < 0) throw OSError.fromErrno(sys.ERRNO.EBADF!);
    return new (Kqueue as unknown as new (a: Adopt) => Kqueue)(new Adopt(n));
  }

  /**
   * True once `close()` was called.
   *
   * @python select.kqueue.closed
   */
  get closed(): boolean {
    return this.#fd < 0;
  }

  /**
   * The kqueue fd.
   *
   * @python select.kqueue.fileno
   */
  fileno(): number {
    return this.#checkOpen();
  }

  /**
   * Closes the kqueue fd; calling it again does nothing.
   *
   * @python select.kqueue.close
   */
  close(): void {
    const fd = this.#fd;
    if (fd < 0) return;
    this.#fd = -1;
    beforeFdClose(fd); // a watch of the kqueue fd lets go of it first
    const r = sys.close(fd);
    if (r < 0) raiseErrno(r);
  }

  /** `close()`, for `using`: the kqueue object is closed when the block that declared it ends. */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * Applies `changelist` (an iterable of Kevent, or null) and returns up to `maxEvents` pending events,
   * waiting up to `timeout` seconds (null: until one arrives; 0: not at all). A change that fails comes back
   * as an event with KQ_EV_ERROR in its flags and the errno in `data` when there is room in the event list;
   * without room kevent(2) raises it. Interrupted by a signal, the wait resumes with the time left.
   *
   * @python select.kqueue.control
   */
  control(changelist: Iterable<Kevent> | null | undefined, maxEvents: number, timeout?: number | null): Kevent[] {
    const kq = this.#checkOpen();
    const max = maxEventsArg(maxEvents);
    const ns = timeoutNs(timeout);
    const nchanges = this.#encodeChanges(changelist);
    if (this.#controlEvents.length < max * sys.KEVENT_BYTES) this.#controlEvents = eventList(max);
    const ev = this.#controlEvents;
    const got = this.#kevent(kq, nchanges, ev, max, ns);
    const out = new Array<Kevent>(got);
    for (let i = 0; i < got; i++) {
      out[i] = new Kevent(sys.keventIdent(ev, i), sys.keventFilter(ev, i), sys.keventFlags(ev, i),
        sys.keventFflags(ev, i), sys.keventData(ev, i), sys.keventUdata(ev, i));
    }
    return out;
  }

  /**
   * iomux extension, the allocation-free form of `control(null, maxEvents, timeout)` for hot loops: waits the
   * same way and returns the number of events, which `readyIdent(i)`, `readyFilter(i)`, `readyFlags(i)` and
   * `readyData(i)` then read from the internal buffer until the next `wait()` (`control()` calls in between,
   * e.g. to change filters while handling the batch, leave it alone).
   */
  wait(timeout: number | null | undefined, maxEvents: number): number {
    const kq = this.#checkOpen();
    const max = maxEventsArg(maxEvents);
    const ns = timeoutNs(timeout);
    if (this.#events.length < max * sys.KEVENT_BYTES) this.#events = eventList(max);
    this.#ready = 0;
    this.#ready = this.#kevent(kq, 0, this.#events, max, ns);
    return this.#ready;
  }

  /** The ident (the fd, for READ/WRITE filters) of event `i` of the last `wait()`. */
  readyIdent(i: number): number {
    return sys.keventIdent(this.#events, this.#checkIndex(i));
  }

  /** The filter of event `i` of the last `wait()`. */
  readyFilter(i: number): number {
    return sys.keventFilter(this.#events, this.#checkIndex(i));
  }

  /** The flags of event `i` of the last `wait()` (KQ_EV_EOF, KQ_EV_ERROR, …). */
  readyFlags(i: number): number {
    return sys.keventFlags(this.#events, this.#checkIndex(i));
  }

  /** The data of event `i` of the last `wait()` (bytes readable or writable, an errno with KQ_EV_ERROR). */
  readyData(i: number): number {
    return sys.keventData(this.#events, this.#checkIndex(i));
  }

  #checkIndex(i: number): number {
    if (!Number.isInteger(i) || i < 0 || i >= this.#ready) {
      throw new RangeError(`event index ${i} out of range (the last wait returned ${this.#ready})`);
    }
    return i;
  }

  /** kevent(2) with the first `nchanges` encoded changes; EINTR resumes the wait with the time left. */
  #kevent(kq: number, nchanges: number, events: Buffer, max: number, timeoutNs: number | null): number {
    let ns = timeoutNs;
    const deadline = ns === null ? 0 : monotonicMs() + ns / 1e6;
    for (;;) {
      if (ns !== null) sys.writeTimespec(this.#timespec, ns);
      const got = sys.kevent(kq, nchanges > 0 ? this.#changes : null, nchanges, max > 0 ? events : null, max,
        ns === null ? null : this.#timespec);
      if (got >= 0) return got;
      if (got !== -EINTR) raiseErrno(got);
      if (ns !== null) ns = Math.max(0, Math.ceil((deadline - monotonicMs()) * 1e6));
    }
  }

  #encodeChanges(changelist: Iterable<Kevent> | null | undefined): number {
    if (changelist === null || changelist === undefined) return 0;
    if (typeof (changelist as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function') {
      throw new TypeError('changelist is not iterable');
    }
    // Caller code (the iterator, a nested control()) runs only here, before anything is encoded: a real
    // Kevent's fields are frozen own values, and a Proxy of one fails the brand check, so encoding runs none.
    const items = Array.from(changelist as Iterable<unknown>);
    for (const item of items) {
      if (!Kevent.isKevent(item)) throw new TypeError('changelist must be an iterable of select.kevent objects');
    }
    if (this.#changes.length < items.length * sys.KEVENT_BYTES) this.#changes = Buffer.alloc(items.length * sys.KEVENT_BYTES);
    for (let i = 0; i < items.length; i++) {
      const k = items[i] as Kevent;
      sys.putKevent(this.#changes, i, k.ident, k.filter, k.flags, k.fflags, k.data, k.udata);
    }
    return items.length;
  }

  #checkOpen(): number {
    if (this.#fd < 0) throw new ValueError('I/O operation on closed kqueue object');
    return this.#fd;
  }
}

/**
 * `select.kqueue()`: a new Kqueue.
 *
 * @python select.kqueue
 */
export function kqueue(): Kqueue {
  return new Kqueue();
}
