/**
 * iomux/os timerfd (Python 3.13's os.timerfd_*), over real timer fds. Expected values and errors are CPython
 * 3.13.0's on Linux (run beside it when these were written: `os.timerfd_settime(fd, initial=-1.0)` →
 * OSError EINVAL, `initial=float('nan')` → OverflowError "timestamp out of range for platform time_t", …).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as os from 'iomux/os';
import { Epoll, EPOLLIN } from 'iomux/select';
import { OverflowError } from 'iomux/errors';
import { isOSError } from './support/assertions.js';
import { expectNoFdLeaks, Fds } from './support/fds.js';

expectNoFdLeaks();

// Linux only, as timerfd is (elsewhere every call raises OSError ENOSYS), like test/socket-linux.
describe('timerfd', () => {
  test('timerfdCreate: close-on-exec always, blocking unless TFD_NONBLOCK', (t) => {
    const fds = new Fds(t);
    const a = fds.add(os.timerfdCreate(os.CLOCK_MONOTONIC));
    assert.equal(os.getInheritable(a), false);
    assert.equal(os.getBlocking(a), true);
    const b = fds.add(os.timerfdCreate(os.CLOCK_REALTIME, { flags: os.TFD_NONBLOCK | os.TFD_CLOEXEC }));
    assert.equal(os.getInheritable(b), false);
    assert.equal(os.getBlocking(b), false);
  });

  test('settime returns the previous setting; gettime the time left and the interval', (t) => {
    const fds = new Fds(t);
    const fd = fds.add(os.timerfdCreate(os.CLOCK_MONOTONIC));
    assert.deepEqual(os.timerfdGettime(fd), [0, 0], 'a new timer is disarmed');
    assert.deepEqual(os.timerfdSettime(fd, { initial: 30, interval: 0.5 }), [0, 0]);
    const [left, interval] = os.timerfdGettime(fd);
    assert.equal(interval, 0.5);
    assert.ok(left > 29 && left <= 30, `${left} s left of 30`);
    const [leftNs, intervalNs] = os.timerfdGettimeNs(fd);
    assert.equal(intervalNs, 500_000_000);
    assert.ok(leftNs > 29e9 && leftNs <= 30e9);
    const [prevNs, prevIntervalNs] = os.timerfdSettimeNs(fd, { initial: 10n ** 12n, interval: 0 });
    assert.equal(prevIntervalNs, 500_000_000);
    assert.ok(prevNs > 29e9 && prevNs <= 30e9);
    assert.equal(os.timerfdGettime(fd)[1], 0);
    // Disarming returns what was left of the setting.
    os.timerfdSettime(fd, { initial: 1000.1234567891 });
    const [previous] = os.timerfdSettime(fd, {});
    assert.ok(previous > 1000 && previous <= 1000.1234567891, `${previous} s were left`);
    assert.deepEqual(os.timerfdGettime(fd), [0, 0]);
  });

  test('an expiration makes the fd readable: read gives the count as a host-endian uint64', (t) => {
    const fds = new Fds(t);
    const fd = fds.add(os.timerfdCreate(os.CLOCK_MONOTONIC, { flags: os.TFD_NONBLOCK }));
    const ep = new Epoll();
    t.after(() => ep.close());
    ep.register(fd, EPOLLIN);
    assert.equal(ep.wait(0), 0, 'disarmed: not readable');
    os.timerfdSettime(fd, { initial: 0.001, interval: 0.001 });
    assert.equal(ep.wait(10), 1, 'an expiration within 10 s');
    assert.equal(ep.readyFd(0), fd);
    const count = os.read(fd, 8).readBigUInt64LE(0);
    assert.ok(count >= 1n, `${count} expirations`);
    os.timerfdSettime(fd, { initial: 0 });
    assert.throws(() => os.read(fd, 8), isOSError(11, 'EAGAIN'), 'disarmed and read: nothing to read');
  });

  test('errors as CPython raises them', (t) => {
    const fds = new Fds(t);
    const fd = fds.add(os.timerfdCreate(os.CLOCK_MONOTONIC));
    assert.throws(() => os.timerfdCreate(12345), isOSError(22, 'EINVAL'));
    assert.throws(() => os.timerfdCreate(os.CLOCK_MONOTONIC, { flags: 1 }), isOSError(22, 'EINVAL'));
    assert.throws(() => os.timerfdSettime(fd, { initial: -1 }), isOSError(22, 'EINVAL'));
    assert.throws(() => os.timerfdSettime(fd, { interval: -1 }), isOSError(22, 'EINVAL'));
    assert.throws(() => os.timerfdSettime(fd, { flags: 12345, initial: 1 }), isOSError(22, 'EINVAL'));
    for (const v of [NaN, 1e20, -Infinity]) {
      assert.throws(() => os.timerfdSettime(fd, { initial: v }), { name: 'OverflowError', message: 'timestamp out of range for platform time_t' });
    }
    assert.throws(() => os.timerfdSettime(fd, { initial: '1' as never }), { name: 'TypeError', message: /^initial must be a real number/ });
    assert.throws(() => os.timerfdSettimeNs(fd, { initial: 1.5 }), { name: 'TypeError', message: /^initial must be an integer/ });
    assert.throws(() => os.timerfdSettimeNs(fd, { interval: 2n ** 63n }), OverflowError);
    assert.throws(() => os.timerfdSettimeNs(fd, { initial: -1 }), isOSError(22, 'EINVAL'));
    assert.deepEqual(os.timerfdGettime(fd), [0, 0], 'failed calls left the timer as it was');
    const closed = os.timerfdCreate(os.CLOCK_MONOTONIC);
    os.close(closed);
    assert.throws(() => os.timerfdGettime(closed), isOSError(9, 'EBADF'));
    assert.throws(() => os.timerfdSettime(closed, { initial: 1 }), isOSError(9, 'EBADF'));
    assert.throws(() => os.timerfdGettime(true as never), TypeError, 'booleans are not fds');
  });
});
