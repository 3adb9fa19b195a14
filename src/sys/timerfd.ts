/**
 * timerfd(2): a timer read as an fd, so a wait can block with no timeout of its own and still wake for the
 * timer (Linux; elsewhere every call fails with ENOSYS). Times cross this boundary as bigint nanoseconds,
 * split into the kernel's struct itimerspec here.
 */
import { abi, natives } from './lib.js';

const ENOSYS = abi.errno.ENOSYS!;
const NS_PER_S = 1_000_000_000n;
const timerfd = natives.timerfd;

// struct itimerspec { struct timespec it_interval, it_value; } as four int64 cells.
const spec = new BigInt64Array(4);
const old = new BigInt64Array(4);

export function timerfdCreate(clockid: number, flags: number): number {
  return timerfd === null ? -ENOSYS : timerfd.create(clockid, flags);
}

/**
 * timerfd_settime(2) to fire first after `initialNs` (0 disarms) and then every `intervalNs`; `out` gets
 * the previous setting as [initial, interval] nanoseconds. Returns 0 or -errno.
 */
export function timerfdSettime(fd: number, flags: number, initialNs: bigint, intervalNs: bigint, out: BigInt64Array): number {
  if (timerfd === null) return -ENOSYS;
  putTimespec(spec, 0, intervalNs);
  putTimespec(spec, 2, initialNs);
  const r = timerfd.settime(fd, flags, spec, old);
  if (r < 0) return r;
  getSetting(old, out);
  return 0;
}

/** timerfd_gettime(2): `out` gets [time to the next expiration, interval] in nanoseconds. Returns 0 or -errno. */
export function timerfdGettime(fd: number, out: BigInt64Array): number {
  if (timerfd === null) return -ENOSYS;
  const r = timerfd.gettime(fd, spec);
  if (r < 0) return r;
  getSetting(spec, out);
  return 0;
}

/** A signed count of nanoseconds as tv_sec (floored, as CPython splits it) and tv_nsec in [0, 1e9). */
function putTimespec(cells: BigInt64Array, at: number, ns: bigint): void {
  let s = ns / NS_PER_S;
  let rest = ns % NS_PER_S;
  if (rest < 0n) {
    s -= 1n;
    rest += NS_PER_S;
  }
  cells[at] = s;
  cells[at + 1] = rest;
}

function getSetting(cells: BigInt64Array, out: BigInt64Array): void {
  out[0] = cells[2]! * NS_PER_S + cells[3]!;
  out[1] = cells[0]! * NS_PER_S + cells[1]!;
}
