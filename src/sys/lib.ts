/**
 * Loads koffi, the C library the platform table names, and binds the platform's own natives. This file and its
 * siblings in src/sys/ are the only place in iomux that touches koffi, C prototypes or struct layouts;
 * everything above calls plain functions that return a non-negative result or `-errno`.
 */
import koffi, { type LibraryHandle } from 'koffi';
import type { PlatformNatives } from './abi.js';
import { abi, platform } from './platform.js';
import { errno, orErrno } from './errno.js';

export { koffi, abi };

/** The C library: glibc/musl on Linux (falling back to the process' own symbols), libSystem, FreeBSD's libc.so.7. */
export const libc: LibraryHandle = loadLibc();

function loadLibc(): LibraryHandle {
  let last: unknown;
  for (const name of abi.libc) {
    try {
      return koffi.load(name);
    } catch (err) {
      last = err;
    }
  }
  throw new Error(`iomux: cannot load the C library of ${abi.platform} (${abi.libc.join(', ')})`, { cause: last });
}

/** The calls whose spelling differs per platform, bound for this one only. */
export const natives: PlatformNatives = platform.natives({ koffi, libc, abi, orErrno, errno });

const strerrorNative = libc.func('const char *strerror(int)') as (e: number) => string | null;

/** The C library's text for an errno value ("Bad file descriptor"), as Python shows it. */
export function strerror(e: number): string {
  return strerrorNative(e) ?? `Unknown error ${e}`;
}

const errnoNames = new Map<number, string>();
// The table's names first: aliases (EWOULDBLOCK = EAGAIN, ENOTSUP = EOPNOTSUPP on Linux and FreeBSD) keep the
// canonical, first-listed name. koffi's own list (read from the running platform's headers when koffi was
// built) names the rarer values the table leaves out.
for (const [name, value] of [...Object.entries(abi.errno), ...Object.entries(koffi.os.errno)]) {
  if (!errnoNames.has(value)) errnoNames.set(value, name);
}

/** The symbolic name of an errno value ('EBADF'), or undefined for an unknown value. */
export function errnoName(e: number): string | undefined {
  return errnoNames.get(e);
}

/** Errno values by name: the platform's table, completed by koffi's list for names the table leaves out. */
export const ERRNO: Readonly<Record<string, number>> = Object.freeze({ ...koffi.os.errno, ...abi.errno });
