/**
 * Loads koffi and the C library. This file and its siblings in src/sys/ are the only place in iomux that
 * touches koffi, C prototypes or struct layouts; everything above calls plain functions that return a
 * non-negative result or `-errno`.
 */
import koffi, { type LibraryHandle } from 'koffi';

if (process.platform !== 'linux') {
  // select/poll/epoll layouts and constants below are Linux's. kqueue (BSD, macOS) is not implemented:
  // it cannot be built or tested on the Linux machines this project is developed on.
  throw new Error(`iomux supports Linux only (this is ${process.platform}/${process.arch})`);
}

export { koffi };

/** glibc, or whatever libc the running process links (musl), resolved through the process' own symbols. */
export const libc: LibraryHandle = loadLibc();

function loadLibc(): LibraryHandle {
  try {
    return koffi.load('libc.so.6');
  } catch {
    return koffi.load(null);
  }
}

/** The calling thread's errno. Call it immediately after the failing native call, before any other. */
export const errno: () => number = () => koffi.errno();

const strerrorNative = libc.func('const char *strerror(int)') as (e: number) => string | null;

/** The C library's text for an errno value ("Bad file descriptor"), as Python shows it. */
export function strerror(e: number): string {
  return strerrorNative(e) ?? `Unknown error ${e}`;
}

const errnoNames = new Map<number, string>();
for (const [name, value] of Object.entries(koffi.os.errno)) {
  // EWOULDBLOCK aliases EAGAIN, EDEADLOCK aliases EDEADLK and ENOTSUP aliases EOPNOTSUPP: keep the canonical (first seen) names.
  if (!errnoNames.has(value) || name === 'EAGAIN' || name === 'EDEADLK' || name === 'EOPNOTSUPP') errnoNames.set(value, name);
}

/** The symbolic name of an errno value ('EBADF'), or undefined for an unknown value. */
export function errnoName(e: number): string | undefined {
  return errnoNames.get(e);
}

/** Errno values by name, from the platform (koffi reads them from the C headers it was built with). */
export const ERRNO: Readonly<Record<string, number>> = Object.freeze({ ...koffi.os.errno });
