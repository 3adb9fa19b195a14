/**
 * Python 3.13's `os.timerfd_*` (Linux): a timer read as an fd, which a selector watches like any other. A
 * loop waiting on it needs no timeout of its own: the kernel arms and cancels no timer per wait, which on
 * a virtual machine costs measurably at every blocking wait (docs/benchmarks.md, "The last percent").
 * Keyword-only arguments of CPython are an options object here.
 */
import { fdArg, intArg } from './args.js';
import { OverflowError, raiseErrno } from './errors.js';
import { describe } from './fileobj.js';
import * as sys from './sys/index.js';
import { secondsToNsFloor } from './timeout.js';

export { CLOCK_BOOTTIME, CLOCK_MONOTONIC, CLOCK_REALTIME, TFD_CLOEXEC, TFD_NONBLOCK, TFD_TIMER_ABSTIME, TFD_TIMER_CANCEL_ON_SET } from './sys/index.js';

/** `timerfdSettime`'s options, in seconds: CPython's keyword-only `flags`, `initial`, `interval`. */
export interface TimerfdSetting {
  /** 0 or TFD_TIMER_ABSTIME, with TFD_TIMER_CANCEL_ON_SET. */
  flags?: number;
  /** Seconds to the first expiration; 0 disarms the timer. */
  initial?: number;
  /** Seconds between later expirations; 0: it fires once. */
  interval?: number;
}

/** `timerfdSettimeNs`'s options: the same in integer nanoseconds (a number or a bigint). */
export interface TimerfdSettingNs {
  /** 0 or TFD_TIMER_ABSTIME, with TFD_TIMER_CANCEL_ON_SET. */
  flags?: number;
  /** Nanoseconds to the first expiration (absolute with TFD_TIMER_ABSTIME); 0 disarms. */
  initial?: number | bigint;
  /** Nanoseconds between expirations after the first; 0: one shot. */
  interval?: number | bigint;
}

const setting = new BigInt64Array(2);
const INT64_LIMIT = 2n ** 63n;

/**
 * A new timer fd on `clockid` (CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_BOOTTIME, …), always close-on-exec
 * (non-inheritable, as every fd Python creates); `flags` may add TFD_NONBLOCK. OSError(EINVAL) for a clock
 * or flag the kernel does not take; OSError(ENOSYS) where there is no timerfd (every platform but Linux,
 * where CPython has no such function).
 *
 * @python os.timerfd_create
 */
export function timerfdCreate(clockid: number, options: { flags?: number } = {}): number {
  const flags = intArg(options.flags ?? 0, 'flags');
  const fd = sys.timerfdCreate(intArg(clockid, 'clockid'), flags | sys.TFD_CLOEXEC);
  if (fd < 0) raiseErrno(fd);
  return fd;
}

/**
 * Arms (or with `initial` 0, disarms) the timer: first expiration after `initial` seconds (an absolute time
 * on its clock with TFD_TIMER_ABSTIME), then every `interval` seconds. Returns the previous setting as
 * `[initial, interval]` seconds. Seconds are floored to whole nanoseconds, as CPython does.
 *
 * @python os.timerfd_settime
 */
export function timerfdSettime(fd: number, options: TimerfdSetting = {}): [number, number] {
  set(fd, options.flags, secondsToNsFloor(options.initial ?? 0, 'initial'), secondsToNsFloor(options.interval ?? 0, 'interval'));
  return [nsToSeconds(setting[0]!), nsToSeconds(setting[1]!)];
}

/**
 * `timerfdSettime` in integer nanoseconds; returns the previous setting in nanoseconds, as numbers (exact up to
 * 2**53 ns, about 104 days; Python returns ints of any size).
 *
 * @python os.timerfd_settime_ns
 */
export function timerfdSettimeNs(fd: number, options: TimerfdSettingNs = {}): [number, number] {
  set(fd, options.flags, nsArg(options.initial ?? 0, 'initial'), nsArg(options.interval ?? 0, 'interval'));
  return [Number(setting[0]), Number(setting[1])];
}

/**
 * `[seconds to the next expiration (0: disarmed), interval]`.
 *
 * @python os.timerfd_gettime
 */
export function timerfdGettime(fd: number): [number, number] {
  get(fd);
  return [nsToSeconds(setting[0]!), nsToSeconds(setting[1]!)];
}

/**
 * `timerfdGettime` in integer nanoseconds (numbers, as `timerfdSettimeNs` returns them).
 *
 * @python os.timerfd_gettime_ns
 */
export function timerfdGettimeNs(fd: number): [number, number] {
  get(fd);
  return [Number(setting[0]), Number(setting[1])];
}

function set(fd: number, flags: number | undefined, initialNs: bigint, intervalNs: bigint): void {
  const r = sys.timerfdSettime(fdArg(fd), intArg(flags ?? 0, 'flags'), initialNs, intervalNs, setting);
  if (r < 0) raiseErrno(r);
}

function get(fd: number): void {
  const r = sys.timerfdGettime(fdArg(fd), setting);
  if (r < 0) raiseErrno(r);
}

/** An integer count of nanoseconds (number or bigint) within a signed 64-bit count. */
function nsArg(value: unknown, name: string): bigint {
  let ns: bigint;
  if (typeof value === 'bigint') ns = value;
  else if (typeof value === 'number' && Number.isInteger(value)) ns = BigInt(value);
  else throw new TypeError(`${name} must be an integer (got ${describe(value)})`);
  if (ns >= INT64_LIMIT || ns < -INT64_LIMIT) throw new OverflowError(`int too big to convert (${name} ${ns})`);
  return ns;
}

/** CPython's tv_sec + tv_nsec * 1e-9. */
function nsToSeconds(ns: bigint): number {
  const s = ns / 1_000_000_000n;
  return Number(s) + Number(ns - s * 1_000_000_000n) * 1e-9;
}
