/** Checks for `assert.throws` that the port's tests share. */
import assert from 'node:assert/strict';
import { OSError } from 'iomux/errors';

/** An OSError with this errno (and, when given, this code), for `assert.throws(fn, isOSError(9, 'EBADF'))`. */
export function isOSError(errno: number | null, code?: string): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof OSError, `not an OSError: ${String(e)}`);
    assert.equal(e.errno, errno);
    if (code !== undefined) assert.equal(e.code, code);
    return true;
  };
}
