/**
 * Timeout conversions, each following the CPython function it mirrors (rounding away from zero or up, so a
 * wait never returns earlier than asked).
 */
import { performance } from 'node:perf_hooks';
import { OverflowError, ValueError } from './errors.js';
import { describe } from './fileobj.js';
import { ERRNO, INT_MAX } from './sys/index.js';

const EINTR = ERRNO.EINTR!;

/** Seconds beyond which a timeout no longer fits a time_t-based C timeval/timespec (CPython's limit). */
const TIME_T_LIMIT_S = 9.2e9; // a bit under 2**63 ns, where CPython's PyTime_t overflows
/** CPython's PyTime_t is a signed 64-bit count of nanoseconds. */
const PYTIME_LIMIT_NS = 2 ** 63;
/** Timeouts up to this many seconds need none of the range checks (their milliseconds fit an int). */
const FAST_TIMEOUT_S = 1e6;

function checkNumber(timeout: unknown, what: string): number {
  if (typeof timeout !== 'number') throw new TypeError(`${what} must be a number or null (got ${typeof timeout})`);
  if (Number.isNaN(timeout)) throw new ValueError('Invalid value NaN (not a number)');
  if (!Number.isFinite(timeout) || Math.abs(timeout) > TIME_T_LIMIT_S) {
    throw new OverflowError('timestamp out of range for platform time_t');
  }
  return timeout;
}

/**
 * select()'s timeout: seconds → whole microseconds rounded away from zero; null/undefined → null (block).
 * Negative values raise ValueError("timeout must be non-negative"); -0 polls.
 */
export function selectTimeoutUs(timeout: unknown): number | null {
  if (timeout === null || timeout === undefined) return null;
  const s = checkNumber(timeout, 'timeout');
  const us = divAway(awayFromZero(s * 1e9), 1e3);
  if (us < 0) throw new ValueError('timeout must be non-negative');
  return us === 0 ? 0 : us;
}

/**
 * kqueue.control()'s timeout: seconds → whole nanoseconds rounded away from zero (CPython's
 * _PyTime_ROUND_TIMEOUT); null/undefined → null (block). Negative values raise
 * ValueError("timeout must be positive or None").
 */
export function kqueueTimeoutNs(timeout: unknown): number | null {
  if (timeout === null || timeout === undefined) return null;
  const s = checkNumber(timeout, 'timeout');
  const ns = awayFromZero(s * 1e9);
  if (ns < 0) throw new ValueError('timeout must be positive or None');
  return ns + 0; // + 0 turns -0 into 0
}

/**
 * poll()'s timeout: milliseconds rounded away from zero; null/undefined or any negative value → -1 (block).
 * OverflowError "timestamp out of range for platform time_t" beyond ±2**63 ns, "timeout is too large"
 * beyond a C int of milliseconds, as CPython's poll.poll() raises them.
 */
export function pollTimeoutMs(timeout: unknown): number {
  if (timeout === null || timeout === undefined) return -1;
  if (typeof timeout !== 'number') throw new TypeError(`timeout must be an integer or null (got ${typeof timeout})`);
  if (Number.isNaN(timeout)) throw new ValueError('Invalid value NaN (not a number)');
  // CPython converts milliseconds to its nanosecond PyTime_t first: beyond ±2**63 ns (infinities too)
  // that conversion fails, before the C int check.
  const ns = awayFromZero(timeout * 1e6);
  if (!(ns >= -PYTIME_LIMIT_NS && ns < PYTIME_LIMIT_NS)) throw new OverflowError('timestamp out of range for platform time_t');
  if (timeout < 0) {
    if (timeout < -INT_MAX - 1) throw new OverflowError('timeout is too large');
    return -1;
  }
  const ms = divAway(awayFromZero(timeout * 1e6), 1e6);
  if (ms > INT_MAX) throw new OverflowError('timeout is too large');
  return ms;
}

/**
 * epoll.poll()'s timeout: seconds → milliseconds rounded up (toward +∞); null/undefined or a result below 0
 * → -1 (block). A tiny negative value such as -1e-9 rounds to 0 and polls, as in CPython.
 */
export function epollTimeoutMs(timeout: unknown): number {
  // A wait in a loop: a plain non-negative number of seconds well inside every limit, the same arithmetic.
  if (typeof timeout === 'number' && timeout >= 0 && timeout <= FAST_TIMEOUT_S) return Math.ceil(Math.ceil(timeout * 1e9) / 1e6) + 0;
  if (timeout === null || timeout === undefined) return -1;
  if (typeof timeout !== 'number') throw new TypeError(`timeout must be an integer or null (got ${typeof timeout})`);
  const s = checkNumber(timeout, 'timeout');
  const ms = Math.ceil(awayFromZero(s * 1e9) / 1e6) + 0; // + 0 turns -0 into 0
  if (ms > INT_MAX || ms < -INT_MAX - 1) throw new OverflowError('timeout is too large');
  return ms < 0 ? -1 : ms;
}

/**
 * A timer's seconds (os.timerfd_settime's `initial` and `interval`) → whole nanoseconds, as CPython's
 * _PyTime_FromSecondsObject(…, _PyTime_ROUND_FLOOR) converts a float: floored, and OverflowError "timestamp
 * out of range for platform time_t" outside ±2**63 ns (NaN and the infinities too).
 */
export function secondsToNsFloor(value: unknown, name: string): bigint {
  if (typeof value !== 'number') throw new TypeError(`${name} must be a real number (got ${describe(value)})`);
  const ns = Math.floor(value * 1e9);
  // NaN fails both comparisons, as in CPython, and gets the same error.
  if (!(ns >= -PYTIME_LIMIT_NS && ns < PYTIME_LIMIT_NS)) throw new OverflowError('timestamp out of range for platform time_t');
  return BigInt(ns);
}

/** CPython's _PyTime_ROUND_UP for a double: round half and everything else away from zero. */
function awayFromZero(x: number): number {
  return x >= 0 ? Math.ceil(x) : -Math.ceil(-x);
}

/** An integer count of small units divided into big ones, rounded away from zero. */
function divAway(n: number, unit: number): number {
  return n >= 0 ? Math.ceil(n / unit) : -Math.ceil(-n / unit);
}

/** Monotonic milliseconds, for deadlines that survive EINTR retries. */
export function monotonicMs(): number {
  return performance.now();
}

/**
 * PEP 475 in one place: calls `call(a, b, c, timeout)` — a syscall wrapper returning a count or -errno —
 * again for as long as it fails with EINTR, and returns its first other result. A positive `timeout` (in units
 * of `unitMs` milliseconds) is a deadline on the monotonic clock: each retry waits only what is left of it, and
 * 0 (nothing ready) is returned once an interruption comes after it passed. A negative timeout (block) or 0
 * (poll) is passed again unchanged, so calls without a timeout (read, write) retry with -1. The arguments are
 * passed through instead of closed over, so a hot wait allocates nothing.
 */
export function retryInterrupted<A, B, C>(
  call: (a: A, b: B, c: C, timeout: number) => number, a: A, b: B, c: C, timeout: number, unitMs = 1,
): number {
  const deadline = timeout > 0 ? monotonicMs() + timeout * unitMs : 0;
  for (;;) {
    const r = call(a, b, c, timeout);
    if (r !== -EINTR) return r;
    if (timeout > 0) {
      const left = deadline - monotonicMs();
      if (left < 0) return 0;
      timeout = Math.ceil(left / unitMs);
    }
  }
}
