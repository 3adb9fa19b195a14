/**
 * Python 3.13's `os.timerfd_*` (Linux): a timer read as an fd, which a selector watches like any other. A
 * loop waiting on it needs no timeout of its own: the kernel arms and cancels no timer per wait, which on
 * a virtual machine costs measurably at every blocking wait (docs/benchmarks.md, "The last percent").
 * Keyword-only arguments of CPython are an options object here.
 */
import { checkOptionNames, intArg } from './args.js';
import { OverflowError, raiseErrno } from './errors.js';
import { asFileDescriptor, describe, type FileLike } from './fileobj.js';
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
const CREATE_OPTIONS: ReadonlySet<string> = new Set(['flags']);
const SETTIME_OPTIONS: ReadonlySet<string> = new Set(['flags', 'initial', 'interval']);

/**
 * The options of one call (each then read once, so a getter runs once), checked as Python checks keyword
 * arguments: TypeError for options that are not an object or an unknown name, so a typo never falls back to
 * a default (e.g. disarming the timer). An option given as undefined is left out.
 */
function optionsOf(fn: string, options: unknown, known: ReadonlySet<string>): Record<string, unknown> {
  if (options === undefined) return {};
  checkOptionNames(fn, options, known);
  return options as Record<string, unknown>;
}

/**
 * A new timer fd on `clockid` (CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_BOOTTIME, …), always close-on-exec
 * (non-inheritable, as every fd Python creates); `flags` may add TFD_NONBLOCK. OSError(EINVAL) for a clock
 * or flag the kernel does not take; OSError(ENOSYS) where there is no timerfd (every platform but Linux,
 * where CPython has no such function). TypeError for an option other than `flags`.
 *
 * @python os.timerfd_create
 */
export function timerfdCreate(clockid: number, options: { flags?: number } = {}): number {
  const opts = optionsOf('timerfdCreate', options, CREATE_OPTIONS);
  const clock = intArg(clockid, 'clockid');
  const flags = intArg(given(opts.flags, 0), 'flags');
  const fd = sys.timerfdCreate(clock, flags | sys.TFD_CLOEXEC);
  if (fd < 0) raiseErrno(fd);
  return fd;
}

/**
 * Arms (or with `initial` 0, disarms) the timer: first expiration after `initial` seconds (an absolute time
 * on its clock with TFD_TIMER_ABSTIME), then every `interval` seconds. Returns the previous setting as
 * `[initial, interval]` seconds. Seconds are floored to whole nanoseconds, as CPython does; booleans count as
 * 0 and 1 (Python's bool is an int). `fd` is an fd or an object with `fileno()`, as in CPython (ValueError
 * when negative); TypeError for an option not named here.
 *
 * @python os.timerfd_settime
 */
export function timerfdSettime(fd: FileLike, options: TimerfdSetting = {}): [number, number] {
  settime('timerfdSettime', fd, options, secondsToNsFloor);
  return [nsToSeconds(setting[0]!), nsToSeconds(setting[1]!)];
}

/**
 * `timerfdSettime` in integer nanoseconds; returns the previous setting in nanoseconds, as numbers (exact up to
 * 2**53 ns, about 104 days; Python returns ints of any size).
 *
 * @python os.timerfd_settime_ns
 */
export function timerfdSettimeNs(fd: FileLike, options: TimerfdSettingNs = {}): [number, number] {
  settime('timerfdSettimeNs', fd, options, nsArg);
  return [Number(setting[0]), Number(setting[1])];
}

/**
 * `[seconds to the next expiration (0: disarmed), interval]`.
 *
 * @python os.timerfd_gettime
 */
export function timerfdGettime(fd: FileLike): [number, number] {
  get(asFileDescriptor(fd));
  return [nsToSeconds(setting[0]!), nsToSeconds(setting[1]!)];
}

/**
 * `timerfdGettime` in integer nanoseconds (numbers, as `timerfdSettimeNs` returns them).
 *
 * @python os.timerfd_gettime_ns
 */
export function timerfdGettimeNs(fd: FileLike): [number, number] {
  get(asFileDescriptor(fd));
  return [Number(setting[0]), Number(setting[1])];
}

/** An option's value, or its default when it was left out (undefined); null is a value, and refused. */
function given(value: unknown, fallback: unknown): unknown {
  return value === undefined ? fallback : value;
}

/** Python's bool is an int: true and false are 1 and 0 wherever a number of seconds or ns is taken. */
function asNumber(value: unknown): unknown {
  return typeof value === 'boolean' ? Number(value) : value;
}

/**
 * timerfdSettime and timerfdSettimeNs, which differ only in how `initial` and `interval` become nanoseconds
 * (`toNs`); the arguments are converted in CPython's order before anything is set.
 */
function settime(fn: string, fd: FileLike, options: unknown, toNs: (value: unknown, name: string) => bigint): void {
  const opts = optionsOf(fn, options, SETTIME_OPTIONS);
  const n = asFileDescriptor(fd);
  const flags = intArg(given(opts.flags, 0), 'flags');
  const initial = toNs(asNumber(given(opts.initial, 0)), 'initial');
  const interval = toNs(asNumber(given(opts.interval, 0)), 'interval');
  set(n, flags, initial, interval);
}

function set(fd: number, flags: number, initialNs: bigint, intervalNs: bigint): void {
  const r = sys.timerfdSettime(fd, flags, initialNs, intervalNs, setting);
  if (r < 0) raiseErrno(r);
}

function get(fd: number): void {
  const r = sys.timerfdGettime(fd, setting);
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
