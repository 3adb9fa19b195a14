/** The `select(timeout)` argument of the selectors, in the units each primitive wants. */
import { OverflowError, ValueError } from '../errors.js';
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

/**
 * `selectAsync`'s timeout: the same rule as `timeoutMs` (null waits for readiness only), but a value the
 * event loop cannot wait for is refused up front, as the primitives would refuse it: NaN (ValueError) and
 * ±Infinity (OverflowError).
 */
export function asyncTimeoutMs(timeout: unknown): number | null {
  const s = timeoutSeconds(timeout);
  if (s === null) return null;
  if (Number.isNaN(s)) throw new ValueError('Invalid value NaN (not a number)');
  if (!Number.isFinite(s)) throw new OverflowError('timeout is too large');
  return s <= 0 ? 0 : Math.ceil(s * 1e3);
}
