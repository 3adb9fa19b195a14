/** select(2) with CPython's select.select() semantics. */
import { raiseErrno, ValueError } from '../errors.js';
import { asFileDescriptor, type FileLike } from '../fileobj.js';
import * as sys from '../sys/index.js';
import { retryInterrupted, selectTimeoutUs } from '../timeout.js';

// Reused between calls: select() is synchronous, and these are only touched after every fileno() ran.
const sets = [Buffer.alloc(sys.FD_SET_BYTES), Buffer.alloc(sys.FD_SET_BYTES), Buffer.alloc(sys.FD_SET_BYTES)] as const;
const timeval = Buffer.alloc(sys.TIMEVAL_BYTES);

interface Scanned<T> {
  objs: T[];
  fds: number[];
}

/**
 * Waits until some of the given files are ready: readable (`rlist`), writable (`wlist`) or with an
 * exceptional condition such as TCP urgent data (`xlist`). `timeout` is in seconds; `null`/`undefined`
 * blocks, `0` polls. Returns three new arrays holding the caller's own objects that are ready, in input
 * order, duplicates kept. Only fds below FD_SETSIZE (1024) can be watched; use poll or epoll beyond that.
 * Blocks the calling thread, as in Python (see `iomux/loop` for waiting without blocking).
 *
 * @python select.select
 */
export function select<R extends FileLike, W extends FileLike, X extends FileLike>(
  rlist: Iterable<R>, wlist: Iterable<W>, xlist: Iterable<X>, timeout?: number | null,
): [R[], W[], X[]] {
  const us = selectTimeoutUs(timeout);
  const r = scan(rlist);
  const w = scan(wlist);
  const x = scan(xlist);
  // PEP 475: a signal interrupting the wait retries it with what is left of the timeout (a blocking wait is
  // -1 to retryInterrupted; 0 ready then, or once the time is up, gives three empty lists).
  const n = retryInterrupted(selectOnce, r, w, x, us === null ? -1 : us, 1e-3);
  if (n < 0) raiseErrno(n);
  return [ready(r, sets[0], n), ready(w, sets[1], n), ready(x, sets[2], n)];
}

/** One select(2) over the scanned lists, its sets and timeval filled afresh (a failed call may leave them changed). */
function selectOnce(r: Scanned<unknown>, w: Scanned<unknown>, x: Scanned<unknown>, us: number): number {
  let nfds = 0;
  for (const s of [r, w, x]) for (const fd of s.fds) if (fd >= nfds) nfds = fd + 1;
  fill(sets[0], r.fds);
  fill(sets[1], w.fds);
  fill(sets[2], x.fds);
  if (us >= 0) sys.writeTimeval(timeval, us);
  return sys.select(nfds, r.fds.length ? sets[0] : null, w.fds.length ? sets[1] : null,
    x.fds.length ? sets[2] : null, us < 0 ? null : timeval);
}

function scan<T extends FileLike>(list: Iterable<T>): Scanned<T> {
  if (list === null || list === undefined || typeof (list as Iterable<T>)[Symbol.iterator] !== 'function') {
    throw new TypeError('arguments 1-3 must be sequences (iterables of fds or objects with fileno())');
  }
  const objs: T[] = [];
  const fds: number[] = [];
  // An array is re-read on every step, as CPython does, so a fileno() that shortens it shortens the scan.
  const items: ArrayLike<T> = Array.isArray(list) ? list : Array.from(list);
  for (let i = 0; i < items.length; i++) {
    const obj = items[i]!;
    const fd = asFileDescriptor(obj);
    if (fd >= sys.FD_SETSIZE) throw new ValueError('filedescriptor out of range in select()');
    if (fds.length >= sys.FD_SETSIZE) throw new ValueError('too many file descriptors in select()');
    objs.push(obj);
    fds.push(fd);
  }
  return { objs, fds };
}

function fill(set: Buffer, fds: number[]): void {
  set.fill(0);
  for (const fd of fds) sys.fdSetAdd(set, fd);
}

function ready<T>(s: Scanned<T>, set: Buffer, n: number): T[] {
  const out: T[] = [];
  if (n === 0) return out;
  for (let i = 0; i < s.fds.length; i++) if (sys.fdSetHas(set, s.fds[i]!)) out.push(s.objs[i]!);
  return out;
}
