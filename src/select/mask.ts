/** Event-mask argument checks shared by poll and epoll. */
import { OverflowError, ValueError } from '../errors.js';
import { describe } from '../fileobj.js';

/** poll's eventmask: a C unsigned short, as CPython's converter checks it. */
export function ushortMask(mask: unknown): number {
  if (typeof mask !== 'number' || !Number.isInteger(mask)) {
    throw new TypeError(`eventmask must be an integer (got ${describe(mask)})`);
  }
  if (mask < 0) throw new ValueError(`eventmask must be positive (got ${mask})`);
  if (mask > 0xffff) throw new OverflowError(`eventmask ${mask} is too large for C unsigned short`);
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
