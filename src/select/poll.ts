/** poll(2) with CPython's select.poll semantics. */
import { KeyError, raiseErrno } from '../errors.js';
import { asFileDescriptor, type FileLike } from '../fileobj.js';
import * as sys from '../sys/index.js';
import { pollTimeoutMs, retryInterrupted } from '../timeout.js';
import { ushortMask } from './mask.js';

const DEFAULT_MASK = sys.POLLIN | sys.POLLPRI | sys.POLLOUT;
/** poll(2) in the argument order `retryInterrupted` passes. */
const pollRecords = (fds: Buffer | null, n: number, _: undefined, ms: number): number => sys.poll(fds, n, ms);
/** The pollfd array is never shrunk below this many records. */
const MIN_POLLFDS = 64;

/**
 * A set of watched fds, each with an event mask, polled with poll(2). No syscall is made until `poll()` or
 * `wait()`; registering a closed fd is allowed and reports POLLNVAL.
 *
 * @python select.poll
 */
export class Poll {
  /** fd → mask, in registration order (a re-registration keeps its place, as in CPython). */
  readonly #masks = new Map<number, number>();
  #pollfds: Buffer = sys.allocPollfds(0);
  #count = 0;
  #dirty = false;
  /** Record indexes of the last wait's ready entries; as long as the pollfd array, reused between waits. */
  #ready = new Int32Array(0);
  #readyCount = 0;

  /**
   * Watches `fd` for `eventmask` (POLLIN | POLLPRI | POLLOUT by default); registering again replaces it.
   *
   * @python select.poll.register
   */
  register(fd: FileLike, eventmask: number = DEFAULT_MASK): void {
    const n = asFileDescriptor(fd);
    const mask = ushortMask(eventmask);
    this.#masks.set(n, mask);
    this.#dirty = true;
  }

  /**
   * Changes the mask of a registered fd; FileNotFoundError (ENOENT) if it is not registered.
   *
   * @python select.poll.modify
   */
  modify(fd: FileLike, eventmask: number): void {
    const n = asFileDescriptor(fd);
    const mask = ushortMask(eventmask);
    if (!this.#masks.has(n)) raiseErrno(-sys.ERRNO.ENOENT!);
    this.#masks.set(n, mask);
    this.#dirty = true;
  }

  /**
   * Stops watching `fd`; KeyError(fd) if it is not registered. Works on fds closed since.
   *
   * @python select.poll.unregister
   */
  unregister(fd: FileLike): void {
    const n = asFileDescriptor(fd);
    if (!this.#masks.delete(n)) throw new KeyError(n);
    this.#dirty = true;
  }

  /**
   * Waits up to `timeoutMs` milliseconds (`null`, `undefined` or negative: forever; 0: not at all) and
   * returns `[fd, revents]` for each fd with events, in registration order. POLLERR, POLLHUP and POLLNVAL
   * are reported whatever the mask.
   *
   * @python select.poll.poll
   */
  poll(timeoutMs?: number | null): Array<[number, number]> {
    const n = this.wait(timeoutMs);
    const out = new Array<[number, number]>(n);
    for (let i = 0; i < n; i++) out[i] = [this.readyFd(i), this.readyEvents(i)];
    return out;
  }

  /**
   * The allocation-free form of `poll()` for hot loops: waits like `poll()` and returns the number of fds
   * with events, which `readyFd(i)` and `readyEvents(i)` then read, in registration order, until the next
   * wait (registration changes in between take effect at that next wait).
   */
  wait(timeoutMs?: number | null): number {
    const ms = pollTimeoutMs(timeoutMs);
    if (this.#dirty) this.#rebuild();
    this.#readyCount = 0;
    const n = retryInterrupted(pollRecords, this.#count ? this.#pollfds : null, this.#count, undefined, ms);
    if (n < 0) raiseErrno(n);
    // poll(2) marks revents in place across the whole array; remembering where the ready records are makes
    // the i-th one O(1) to read.
    const ready = this.#ready;
    let found = 0;
    for (let i = 0; found < n && i < this.#count; i++) {
      if (sys.pollfdRevents(this.#pollfds, i) !== 0) ready[found++] = i;
    }
    return (this.#readyCount = found);
  }

  /** The fd of ready entry `i` of the last `wait()`. */
  readyFd(i: number): number {
    return sys.pollfdFd(this.#pollfds, this.#readyRecord(i));
  }

  /** The revents of ready entry `i` of the last `wait()`. */
  readyEvents(i: number): number {
    return sys.pollfdRevents(this.#pollfds, this.#readyRecord(i));
  }

  #readyRecord(i: number): number {
    // `(i | 0) === i` also turns away fractions, which would index between records.
    if (!((i | 0) === i && i >= 0 && i < this.#readyCount)) {
      throw new RangeError(`event index ${i} is out of range (last wait returned ${this.#readyCount})`);
    }
    return this.#ready[i]!;
  }

  #rebuild(): void {
    const count = this.#masks.size;
    const capacity = this.#pollfds.length / sys.POLLFD_BYTES;
    // Grown geometrically, so registering N fds one by one between polls is not O(N²) in bytes; shrunk
    // once three quarters are unused, so a burst of registrations is not held for ever. The new arrays
    // replace the old ones only once both exist: a failed allocation leaves the object as it was.
    if (capacity < count || (capacity > MIN_POLLFDS && count < capacity / 4)) {
      const size = Math.max(count < capacity ? count * 2 : Math.max(count, capacity * 2), MIN_POLLFDS);
      const pollfds = sys.allocPollfds(size);
      const ready = new Int32Array(size);
      this.#pollfds = pollfds;
      this.#ready = ready;
    }
    let i = 0;
    for (const [fd, mask] of this.#masks) sys.setPollfd(this.#pollfds, i++, fd, mask);
    this.#count = count;
    this.#readyCount = 0;
    this.#dirty = false;
  }
}

/**
 * A new, empty poll object (Python's `select.poll()`).
 *
 * @python select.poll
 */
export function poll(): Poll {
  return new Poll();
}
