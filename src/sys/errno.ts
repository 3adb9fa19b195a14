/**
 * The one result rule of every native call (mio's `syscall!`): the C result when it is non-negative, else
 * `-errno`, read with koffi.errno() straight after the call, before any other native call or JavaScript that
 * might call libc can overwrite it. Wrap the call itself — `orErrno(closeNative(fd))` — so nothing runs between.
 */
import koffi from 'koffi';

/** The calling thread's errno. Call it immediately after the failing native call, before any other. */
export function errno(): number {
  return koffi.errno();
}

/** `r` when the call succeeded (r ≥ 0), else -errno. */
export function orErrno(r: number): number {
  return r < 0 ? -koffi.errno() : r;
}
