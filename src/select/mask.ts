/** Event-mask argument checks shared by poll and epoll. */
import { OverflowError, ValueError } from '../errors.js';
import { describe } from '../fileobj.js';

/**
 * poll's eventmask: a C unsigned short, as CPython's `ushort_converter` checks it, with its texts: ValueError
 * "value must be positive" below 0, OverflowError "Python int too large for C unsigned short" above 65535
 * ("… to convert to C unsigned long" from 2**64, where the conversion to unsigned long fails first).
 */
export function ushortMask(mask: unknown): number {
  if (typeof mask !== 'number' || !Number.isInteger(mask)) {
    throw new TypeError(`eventmask must be an integer (got ${describe(mask)})`);
  }
  if (mask < 0) throw new ValueError(`value must be positive (got ${mask})`);
  if (mask >= 2 ** 64) throw new OverflowError(`Python int too large to convert to C unsigned long (got ${mask})`);
  if (mask > 0xffff) throw new OverflowError(`Python int too large for C unsigned short (got ${mask})`);
  return mask;
}

/** epoll's eventmask: a C unsigned int in bitwise mode, so values wrap modulo 2**32 as in CPython. */
export function uintMask(mask: unknown): number {
  if (typeof mask === 'bigint') return Number(BigInt.asUintN(32, mask));
  if (typeof mask !== 'number' || !Number.isInteger(mask)) {
    throw new TypeError(`eventmask must be an integer (got ${describe(mask)})`);
  }
  return Number(BigInt.asUintN(32, BigInt(mask)));
}
