/** Socket timeouts (seconds or null) and the module-wide default that new sockets start with. */
import { OverflowError, ValueError } from '../errors.js';
import { describe } from '../fileobj.js';

/** Beyond this many seconds a timeout no longer fits CPython's nanosecond clock. */
const MAX_TIMEOUT_S = 9.2e9;

/**
 * A timeout as Python's settimeout takes it: null (or undefined) blocks, 0 is non-blocking, a positive
 * number of seconds waits that long. Negative → ValueError("Timeout value out of range").
 */
export function parseSocketTimeout(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'number') throw new TypeError(`Timeout value must be a number of seconds or null (got ${describe(value)})`);
  if (Number.isNaN(value)) throw new ValueError('Invalid value NaN (not a number)');
  if (value < 0) throw new ValueError('Timeout value out of range');
  if (value > MAX_TIMEOUT_S) throw new OverflowError(`timeout ${value} s is too large`);
  return value;
}

let defaultTimeout: number | null = null;

/**
 * The timeout new sockets get (Python's socket.getdefaulttimeout): null, i.e. blocking, unless changed.
 *
 * @python socket.getdefaulttimeout
 */
export function getdefaulttimeout(): number | null {
  return defaultTimeout;
}

/**
 * Sets the timeout that sockets created from now on start with (Python's socket.setdefaulttimeout).
 *
 * @python socket.setdefaulttimeout
 */
export function setdefaulttimeout(timeout: number | null): void {
  defaultTimeout = parseSocketTimeout(timeout);
}
