/** poll(2) with CPython's select.poll semantics. */
import { KeyError, OSError } from '../errors.js';
import { asFileDescriptor, type FileLike } from '../fileobj.js';
import * as sys from '../sys/index.js';
import { monotonicMs, pollTimeoutMs } from '../timeout.js';
import { ushortMask } from './mask.js';

const DEFAULT_MASK = sys.POLLIN | sys.POLLPRI | sys.POLLOUT;

/**
 * A set of watched fds, each with an event mask, polled with poll(2). No syscall is made until `poll()`;
 * registering a closed fd is allowed and reports POLLNVAL.
 */
export class Poll {
  /** fd → mask, in registration order (a re-registration keeps its place, as in CPython). */
  readonly #masks = new Map<number, number>();
  #pollfds: Buffer = sys.allocPollfds(0);
  #count = 0;
  #dirty = false;

  /** Watches `fd` for `eventmask` (POLLIN | POLLPRI | POLLOUT by default); registering again replaces it. */
  register(fd: FileLike, eventmask: number = DEFAULT_MASK): void {
    const n = asFileDescriptor(fd);
    const mask = ushortMask(eventmask);
    this.#masks.set(n, mask);
    this.#dirty = true;
  }

  /** Changes the mask of a registered fd; FileNotFoundError (ENOENT) if it is not registered. */
  modify(fd: FileLike, eventmask: number): void {
    const n = asFileDescriptor(fd);
    const mask = ushortMask(eventmask);
    if (!this.#masks.has(n)) throw OSError.fromErrno(sys.ERRNO.ENOENT!);
    this.#masks.set(n, mask);
    this.#dirty = true;
  }

  /** Stops watching `fd`; KeyError(fd) if it is not registered. Works on fds closed since. */
  unregister(fd: FileLike): void {
    const n = asFileDescriptor(fd);
    if (!this.#masks.delete(n)) throw new KeyError(n);
    this.#dirty = true;
  }

  /**
   * Waits up to `timeoutMs` milliseconds (`null`, `undefined` or negative: forever; 0: not at all) and
   * returns `[fd, revents]` for each fd with events, in registration order. POLLERR, POLLHUP and POLLNVAL
   * are reported whatever the mask.
   */
  poll(timeoutMs?: number | null): Array<[number, number]> {
    let ms = pollTimeoutMs(timeoutMs);
    if (this.#dirty) this.#rebuild();
    const deadline = ms > 0 ? monotonicMs() + ms : 0;
    let n: number;
    for (;;) {
      n = sys.poll(this.#count ? this.#pollfds : null, this.#count, ms);
      if (n >= 0) break;
      if (-n !== sys.ERRNO.EINTR) throw OSError.fromErrno(-n);
      if (ms > 0) {
        const left = deadline - monotonicMs();
        if (left < 0) return [];
        ms = Math.ceil(left);
      }
    }
    const out: Array<[number, number]> = [];
    for (let i = 0; n > 0 && i < this.#count; i++) {
      const revents = sys.pollfdRevents(this.#pollfds, i);
      if (revents !== 0) {
        out.push([sys.pollfdFd(this.#pollfds, i), revents]);
        n--;
      }
    }
    return out;
  }

  #rebuild(): void {
    this.#count = this.#masks.size;
    const capacity = this.#pollfds.length / sys.POLLFD_BYTES;
    // Grown geometrically, so registering N fds one by one between polls is not O(N²) in bytes.
    if (capacity < this.#count) this.#pollfds = sys.allocPollfds(Math.max(this.#count, capacity * 2));
    let i = 0;
    for (const [fd, mask] of this.#masks) sys.setPollfd(this.#pollfds, i++, fd, mask);
    this.#dirty = false;
  }
}

/** A new, empty poll object (Python's `select.poll()`). */
export function poll(): Poll {
  return new Poll();
}
