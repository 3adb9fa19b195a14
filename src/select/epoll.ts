/** epoll(7) with CPython's select.epoll semantics. */
import { fdArg, intArg } from '../args.js';
import { MemoryError, OSError, raiseErrno, ValueError } from '../errors.js';
import { asFileDescriptor, type FileLike } from '../fileobj.js';
import { beforeFdClose } from '../fd-close.js';
import * as sys from '../sys/index.js';
import { epollTimeoutMs, retryInterrupted } from '../timeout.js';
import { uintMask } from './mask.js';

const DEFAULT_MASK = sys.EPOLLIN | sys.EPOLLPRI | sys.EPOLLOUT;
/** CPython's default for maxevents = -1. */
const DEFAULT_MAXEVENTS = sys.FD_SETSIZE - 1;
/** The kernel's EP_MAX_EVENTS: epoll_wait refuses a larger maxevents (EINVAL). */
const KERNEL_MAX_EVENTS = Math.floor(sys.INT_MAX / sys.EPOLL_EVENT_BYTES);
/** The event buffer a new epoll object starts with, in records. */
const INITIAL_EVENTS = 64;

/** What `fromFd` hands the constructor: an fd to wrap instead of creating an epoll (only this module can make one). */
class Adoption {
  constructor(readonly fd: number) {}
}

/**
 * An epoll instance: the kernel keeps the interest list, so a wait costs what the ready fds cost, not what
 * the watched ones do. Created close-on-exec. Level-triggered unless EPOLLET is in a mask.
 *
 * @python select.epoll
 */
export class Epoll implements Disposable {
  #fd: number;
  #events: Buffer;
  /** #events as 32-bit words, read by readyFd/readyEvents. */
  #words: Uint32Array;
  #capacity: number;
  #count = 0;

  /**
   * The most events one wait returns, whatever `maxevents` asks for (iomux's bound; CPython has none):
   * 16384 records (192 KiB on x86_64, 256 KiB elsewhere) at most are ever kept for the kernel to fill. A
   * larger `maxevents` is waited for with this many; epoll puts the fds it reported at the back of its
   * ready list, so those left out come first on the next call.
   */
  static readonly maxWaitEvents = 16384;

  /**
   * `sizehint` is accepted for compatibility (-1 or positive); `flags` may only be 0 or EPOLL_CLOEXEC:
   * the fd is close-on-exec either way.
   */
  constructor(sizehint?: number, flags?: number);
  constructor(sizehint: number | Adoption = -1, flags: number = 0) {
    if (sizehint instanceof Adoption) {
      this.#fd = sizehint.fd;
    } else {
      const hint = intArg(sizehint, 'sizehint');
      const flag = intArg(flags, 'flags');
      if (hint === 0 || hint < -1) throw new ValueError('negative sizehint');
      if (flag !== 0 && flag !== sys.EPOLL_CLOEXEC) throw new OSError(null, 'invalid flags');
      const fd = sys.epollCreate1(sys.EPOLL_CLOEXEC);
      if (fd < 0) raiseErrno(fd);
      this.#fd = fd;
    }
    this.#events = sys.allocEpollEvents(INITIAL_EVENTS);
    this.#words = sys.epollEventWords(this.#events);
    this.#capacity = INITIAL_EVENTS;
  }

  /**
   * Wraps an existing epoll fd without duplicating or checking it. As in CPython, `fromFd(-1)` makes a new
   * one and any other negative number raises OSError "[Errno 0] Error" (CPython's epoll_create with no
   * errno set).
   *
   * @python select.epoll.fromfd
   */
  static fromFd(fd: number): Epoll {
    fdArg(fd, 'fd');
    if (fd === -1) return new Epoll();
    if (fd < 0) throw new OSError(0, 'Error');
    return new Epoll(new Adoption(fd) as never);
  }

  /**
   * True once `close()` was called.
   *
   * @python select.epoll.closed
   */
  get closed(): boolean {
    return this.#fd < 0;
  }

  /**
   * The epoll fd.
   *
   * @python select.epoll.fileno
   */
  fileno(): number {
    return this.#checkOpen();
  }

  /**
   * Closes the epoll fd; calling it again does nothing. A failing close(2) (EBADF: the fd was closed behind
   * this object's back) raises OSError once the object is already closed, as `Socket.close()` does. CPython
   * means to raise too, but its check (`errno < 0` after close) never fires, so its epoll.close() is silent.
   *
   * @python select.epoll.close
   */
  close(): void {
    const fd = this.#fd;
    if (fd < 0) return;
    this.#fd = -1;
    beforeFdClose(fd); // a watch of the epoll fd lets go of it first
    const r = sys.close(fd);
    if (r < 0) raiseErrno(r);
  }

  /** `close()`, for `using`: the epoll object is closed when the block that declared it ends. */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * Adds `fd` with `eventmask` (EPOLLIN | EPOLLPRI | EPOLLOUT by default). FileExistsError if it is already
   * there, PermissionError for a regular file, OSError(EBADF) for a closed fd.
   *
   * @python select.epoll.register
   */
  register(fd: FileLike, eventmask: number = DEFAULT_MASK): void {
    const n = asFileDescriptor(fd);
    const mask = uintMask(eventmask);
    this.#ctl(sys.EPOLL_CTL_ADD, n, mask);
  }

  /**
   * Changes the mask of a registered fd (and re-arms EPOLLONESHOT/EPOLLET); FileNotFoundError if absent.
   *
   * @python select.epoll.modify
   */
  modify(fd: FileLike, eventmask: number): void {
    const n = asFileDescriptor(fd);
    const mask = uintMask(eventmask);
    this.#ctl(sys.EPOLL_CTL_MOD, n, mask);
  }

  /**
   * Removes `fd`; FileNotFoundError if absent, OSError(EBADF) if the fd number was closed since.
   *
   * @python select.epoll.unregister
   */
  unregister(fd: FileLike): void {
    const n = asFileDescriptor(fd);
    this.#ctl(sys.EPOLL_CTL_DEL, n, 0);
  }

  /**
   * Waits up to `timeout` seconds (`null`/`undefined` or negative: forever; rounded up to whole
   * milliseconds) for at most `maxevents` events (-1: 1023), returning `[fd, events]` pairs in the kernel's
   * order. Fds left out by `maxevents` come first next time.
   *
   * `maxevents` below 1 (other than -1) is a ValueError and one above the kernel's limit
   * (INT_MAX / sizeof(struct epoll_event), 178956970 on x86_64) a MemoryError, as CPython raises for such
   * values when it cannot allocate their buffer (where it can, the kernel refuses them with EINVAL; iomux
   * never allocates it, so the error does not depend on the machine's memory). Any larger valid value
   * returns at most `Epoll.maxWaitEvents` events per call.
   *
   * @python select.epoll.poll
   */
  poll(timeout?: number | null, maxevents: number = -1): Array<[number, number]> {
    const n = this.wait(timeout, maxevents);
    const out = new Array<[number, number]>(n);
    for (let i = 0; i < n; i++) out[i] = [this.readyFd(i), this.readyEvents(i)];
    return out;
  }

  /**
   * The allocation-free form of `poll()` for hot loops: waits like `poll()` and returns the number of
   * events, which `readyFd(i)` and `readyEvents(i)` then read from the internal buffer until the next wait.
   */
  wait(timeout?: number | null, maxevents: number = -1): number {
    const epfd = this.#checkOpen();
    const ms = epollTimeoutMs(timeout);
    const room = this.#room(maxevents);
    // `room` never exceeds the records #events holds: the kernel writes up to that many.
    const n = retryInterrupted(sys.epollWait, epfd, this.#events, room, ms);
    this.#count = n < 0 ? 0 : n;
    if (n < 0) raiseErrno(n);
    return n;
  }

  /**
   * How many records the kernel may fill for `maxevents`: checked as CPython checks it, capped at
   * `maxWaitEvents`, and made available in the buffer. The buffer and the capacity change together, only
   * once the new buffer exists, so a failure leaves the object as it was.
   */
  #room(maxevents: number): number {
    // A loop's every wait: the default, or a plain count the buffer already holds.
    if (maxevents === -1 && this.#capacity >= DEFAULT_MAXEVENTS) return DEFAULT_MAXEVENTS;
    if ((maxevents | 0) === maxevents && maxevents > 0 && maxevents <= this.#capacity) return maxevents;
    maxevents = intArg(maxevents, 'maxevents');
    if (maxevents === -1) maxevents = DEFAULT_MAXEVENTS;
    else if (maxevents < 1) throw new ValueError(`maxevents must be greater than 0, got ${maxevents}`);
    else if (maxevents > KERNEL_MAX_EVENTS) {
      throw new MemoryError(`(maxevents ${maxevents} is above what epoll_wait accepts, ${KERNEL_MAX_EVENTS})`);
    }
    const room = Math.min(maxevents, Epoll.maxWaitEvents);
    if (room > this.#capacity) {
      // Grow geometrically: a selector asks for one more slot per registration, and reallocating on each
      // new connection would make registering N fds cost O(N²) bytes.
      const capacity = Math.min(Math.max(room, this.#capacity * 2), Epoll.maxWaitEvents);
      const events = sys.allocEpollEvents(capacity);
      const words = sys.epollEventWords(events);
      this.#count = 0;
      this.#events = events;
      this.#words = words;
      this.#capacity = capacity;
    }
    return room;
  }

  /** The fd of event `i` of the last `wait()`. */
  readyFd(i: number): number {
    this.#checkIndex(i);
    return sys.epollEventDataLow(this.#words, i);
  }

  /** The events of event `i` of the last `wait()` (unsigned 32-bit). */
  readyEvents(i: number): number {
    this.#checkIndex(i);
    return sys.epollEventMask(this.#words, i);
  }

  /** Small enough to be inlined into a caller's loop; the message is built out of line. */
  #checkIndex(i: number): void {
    if (!((i | 0) === i && i >= 0 && i < this.#count)) this.#badIndex(i);
  }

  #badIndex(i: number): never {
    throw new RangeError(`event index ${i} is out of range (last wait returned ${this.#count})`);
  }

  #checkOpen(): number {
    if (this.#fd < 0) throw new ValueError('I/O operation on closed epoll object');
    return this.#fd;
  }

  #ctl(op: number, fd: number, mask: number): void {
    const epfd = this.#checkOpen();
    const r = sys.epollCtl(epfd, op, fd, mask);
    if (r < 0) raiseErrno(r);
  }
}

/**
 * A new epoll object (Python's `select.epoll()`).
 *
 * @python select.epoll
 */
export function epoll(sizehint: number = -1, flags: number = 0): Epoll {
  return new Epoll(sizehint, flags);
}
