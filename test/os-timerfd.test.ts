/**
 * iomux/os timerfd (Python 3.13's os.timerfd_*), over real timer fds. Expected values and errors are CPython
 * 3.13.0's on Linux (run beside it when these were written: `os.timerfd_settime(fd, initial=-1.0)` →
 * OSError EINVAL, `initial=float('nan')` → OverflowError "timestamp out of range for platform time_t", …).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as os from 'iomux/os';
import { Epoll, EPOLLIN } from 'iomux/select';
import { OverflowError, ValueError } from 'iomux/errors';
import { isOSError } from './support/assertions.js';
import { expectNoFdLeaks, fdCount, Fds } from './support/fds.js';

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

  // Issue 19, defect 7: a misspelt or misplaced option changed the timer silently.
  test('unknown option names and options that are not an object: TypeError, the timer left as it was', (t) => {
    const fds = new Fds(t);
    const fd = fds.add(os.timerfdCreate(os.CLOCK_MONOTONIC));
    os.timerfdSettime(fd, { initial: 30 });
    const armed = (): void => assert.ok(os.timerfdGettime(fd)[0] > 29, 'still armed');
    assert.throws(() => os.timerfdSettime(fd, { inital: 7 } as never),
      { name: 'TypeError', message: "timerfdSettime() got an unexpected option 'inital'" });
    armed();
    assert.throws(() => os.timerfdSettimeNs(fd, { intervall: 7 } as never),
      { name: 'TypeError', message: "timerfdSettimeNs() got an unexpected option 'intervall'" });
    armed();
    for (const bad of [5, 'initial', null, true, [7], () => 7]) {
      assert.throws(() => os.timerfdSettime(fd, bad as never), { name: 'TypeError', message: /^timerfdSettime\(\): options must be an object/ }, String(bad));
      assert.throws(() => os.timerfdSettimeNs(fd, bad as never), { name: 'TypeError', message: /^timerfdSettimeNs\(\): options must be an object/ });
      armed();
    }
    const before = fdCount();
    assert.throws(() => os.timerfdCreate(os.CLOCK_MONOTONIC, { flag: os.TFD_NONBLOCK } as never),
      { name: 'TypeError', message: "timerfdCreate() got an unexpected option 'flag'" });
    assert.throws(() => os.timerfdCreate(os.CLOCK_MONOTONIC, os.TFD_NONBLOCK as never),
      { name: 'TypeError', message: /^timerfdCreate\(\): options must be an object/ });
    assert.equal(fdCount(), before, 'no timer fd was created');
    // Options left out, or given as undefined, are the defaults.
    assert.deepEqual(os.timerfdSettime(fd, { initial: undefined, interval: undefined, flags: undefined }).length, 2);
    assert.deepEqual(os.timerfdGettime(fd), [0, 0]);
  });

  test('null is not a time (CPython: None → TypeError), and does not disarm', (t) => {
    const fds = new Fds(t);
    const fd = fds.add(os.timerfdCreate(os.CLOCK_MONOTONIC));
    os.timerfdSettime(fd, { initial: 30 });
    assert.throws(() => os.timerfdSettime(fd, { initial: null } as never), { name: 'TypeError', message: /^initial must be a real number \(got null\)/ });
    assert.throws(() => os.timerfdSettimeNs(fd, { interval: null } as never), { name: 'TypeError', message: /^interval must be an integer \(got null\)/ });
    assert.throws(() => os.timerfdCreate(os.CLOCK_MONOTONIC, { flags: null } as never), { name: 'TypeError', message: /^flags must be an integer/ });
    assert.ok(os.timerfdGettime(fd)[0] > 29);
  });

  test('booleans are ints for initial, interval and flags, as in CPython (initial=True: 1 s)', (t) => {
    const fds = new Fds(t);
    const fd = fds.add(os.timerfdCreate(os.CLOCK_MONOTONIC));
    // CPython 3.13: timerfd_settime(fd, initial=True) → (0.0, 0.0), then gettime ≈ (0.9999, 0.0).
    assert.deepEqual(os.timerfdSettime(fd, { initial: true as never }), [0, 0]);
    const [left] = os.timerfdGettime(fd);
    assert.ok(left > 0.5 && left <= 1, `${left} s left of 1`);
    os.timerfdSettime(fd, { initial: 30, interval: true as never });
    assert.equal(os.timerfdGettime(fd)[1], 1);
    // timerfd_settime_ns(fd, initial=False, interval=True) → gettime_ns (0, 1): disarmed, interval 1 ns.
    os.timerfdSettimeNs(fd, { initial: false as never, interval: true as never });
    assert.deepEqual(os.timerfdGettimeNs(fd), [0, 1]);
    // flags=True is 1: TFD_TIMER_ABSTIME here (an absolute time of 1 ns on the monotonic clock, long past).
    assert.doesNotThrow(() => os.timerfdSettime(fd, { flags: true as never, initial: 1 }));
    assert.throws(() => os.timerfdCreate(os.CLOCK_MONOTONIC, { flags: true as never }), isOSError(22, 'EINVAL'));
  });

  test('the fd argument: CPython\'s file descriptor rules (ValueError when negative, fileno() objects)', (t) => {
    const fds = new Fds(t);
    const fd = fds.add(os.timerfdCreate(os.CLOCK_MONOTONIC));
    const calls: Array<[string, (fd: never) => unknown]> = [
      ['timerfdSettime', (f) => os.timerfdSettime(f, { initial: 1 })],
      ['timerfdSettimeNs', (f) => os.timerfdSettimeNs(f, { initial: 1 })],
      ['timerfdGettime', (f) => os.timerfdGettime(f)],
      ['timerfdGettimeNs', (f) => os.timerfdGettimeNs(f)],
    ];
    for (const [name, call] of calls) {
      for (const n of [-1, -2]) {
        assert.throws(() => call(n as never), { name: 'ValueError', message: `file descriptor cannot be a negative integer (${n})` }, name);
        assert.throws(() => call(n as never), ValueError);
      }
      assert.throws(() => call(2 ** 31 as never), OverflowError, name);
      assert.throws(() => call(1.5 as never), { name: 'TypeError', message: /^argument must be an int, or have a fileno\(\) method/ }, name);
      assert.doesNotThrow(() => call({ fileno: () => fd } as never), name);
    }
    assert.equal(os.timerfdGettime(fd)[1], 0);
  });
});
