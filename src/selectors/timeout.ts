/** The `select(timeout)` argument of the selectors, in the units each primitive wants. */
import { OverflowError, ValueError } from '../errors.js';
import { epollTimeoutMs, kqueueTimeoutNs, pollTimeoutMs, selectTimeoutUs } from '../timeout.js';
import { describe } from '../fileobj.js';

/** null for "block", else the number (TypeError for anything that is not a number). */
export function timeoutSeconds(timeout: unknown): number | null {
  if (timeout === null || timeout === undefined) return null;
  if (typeof timeout !== 'number') throw new TypeError(`timeout must be a number or null (got ${describe(timeout)})`);
  return timeout;
}

/**
 * The poll-like selectors' rule: null blocks, `≤ 0` (-Infinity too) polls, anything else is rounded up to
 * whole milliseconds so the wait is never shorter than asked. CPython's `math.ceil(timeout * 1e3)` refuses
 * NaN (ValueError) and Infinity (OverflowError) with its own texts; a finite value too large for the
 * primitive is left for it to reject.
 */
export function timeoutMs(timeout: unknown): number | null {
  const s = timeoutSeconds(timeout);
  if (s === null) return null;
  if (Number.isNaN(s)) throw new ValueError('cannot convert float NaN to integer');
  if (s === Infinity) throw new OverflowError('cannot convert float infinity to integer');
  return s <= 0 ? 0 : Math.ceil(s * 1e3);
}

/**
 * Seconds that `Epoll.wait` turns back into exactly `ms` milliseconds. It rounds seconds up to ms; aiming
 * a hair below the integer keeps float error (e.g. 0.007 * 1e9 = 7000000.000000001) from adding one.
 */
export function secondsForWholeMs(ms: number): number {
  return ms === 0 ? 0 : (ms - 1e-4) / 1e3;
}

/*
 * What `select(timeout)` waits, for `selectAsync(timeout)`/`events(timeout)`: whole milliseconds (null: until
 * something is ready), validated by exactly the conversions the selector's `select()` applies — the same
 * functions, in the same order — so both accept, round and refuse alike (`select(1e300)` and
 * `selectAsync(1e300)` raise the same OverflowError; `-Infinity` polls in both).
 */

/** EpollSelector: `timeoutMs`, then `Epoll.wait`'s conversion of the seconds it is given. */
export function epollSelectorWaitMs(timeout: unknown): number | null {
  const ms = timeoutMs(timeout);
  if (ms !== null) epollTimeoutMs(secondsForWholeMs(ms));
  return ms;
}

/** PollSelector: `timeoutMs`, then `poll()`'s conversion of the milliseconds it is given. */
export function pollSelectorWaitMs(timeout: unknown): number | null {
  const ms = timeoutMs(timeout);
  if (ms !== null) pollTimeoutMs(ms);
  return ms;
}

/** SelectSelector: `timeoutSeconds`, clamped at 0, then `select()`'s conversion to microseconds. */
export function selectSelectorWaitMs(timeout: unknown): number | null {
  const s = timeoutSeconds(timeout);
  if (s === null) return null;
  const us = selectTimeoutUs(Math.max(s, 0));
  return us === null ? null : Math.ceil(us / 1e3);
}

/** KqueueSelector: `timeoutSeconds`, clamped at 0, then `kqueue.control()`'s conversion to nanoseconds. */
export function kqueueSelectorWaitMs(timeout: unknown): number | null {
  const s = timeoutSeconds(timeout);
  if (s === null) return null;
  const ns = kqueueTimeoutNs(Math.max(s, 0));
  return ns === null ? null : Math.ceil(ns / 1e6);
}
