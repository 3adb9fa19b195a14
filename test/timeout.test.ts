/**
 * The timeout conversions select, poll and epoll use: CPython's rounding (_PyTime_ROUND_TIMEOUT, i.e. away
 * from zero, and ceiling for epoll) and its errors. These are internal pure functions, imported directly.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { epollTimeoutMs, monotonicMs, pollTimeoutMs, selectTimeoutUs } from '../src/timeout.js';
import { OverflowError, ValueError } from '../src/errors.js';

describe('selectTimeoutUs (seconds → µs, away from zero)', () => {
  test('null and undefined block', () => {
    assert.equal(selectTimeoutUs(null), null);
    assert.equal(selectTimeoutUs(undefined), null);
  });

  test('whole and fractional seconds', () => {
    const cases: Array<[number, number]> = [
      [0, 0], [1, 1_000_000], [0.5, 500_000], [2.5, 2_500_000], [1e-6, 1], [1e-9, 1], [1e-7, 1],
      [1.5e-6, 2], [1e-300, 1], [86400, 86_400_000_000],
    ];
    for (const [s, us] of cases) assert.equal(selectTimeoutUs(s), us, `${s} s`);
  });

  test('-0 polls (and gives +0)', () => {
    assert.ok(Object.is(selectTimeoutUs(-0), 0));
  });

  test('every negative value is a ValueError, down to -1e-300', () => {
    for (const s of [-1, -0.5, -1e-6, -1e-9, -1e-300]) {
      assert.throws(() => selectTimeoutUs(s), { name: 'ValueError', message: 'timeout must be non-negative' });
    }
  });

  test('NaN is a ValueError, infinities and huge values an OverflowError, non-numbers a TypeError', () => {
    assert.throws(() => selectTimeoutUs(NaN), (e: unknown) => e instanceof ValueError && /NaN/.test(e.message));
    for (const s of [Infinity, -Infinity, 1e20, 2 ** 70]) {
      assert.throws(() => selectTimeoutUs(s), OverflowError, `${s}`);
    }
    for (const v of ['1', {}, [], true, 1n]) assert.throws(() => selectTimeoutUs(v), TypeError, String(v));
  });
});

describe('pollTimeoutMs (milliseconds, away from zero; negative blocks)', () => {
  test('null and undefined block', () => {
    assert.equal(pollTimeoutMs(null), -1);
    assert.equal(pollTimeoutMs(undefined), -1);
  });

  test('rounding away from zero', () => {
    const cases: Array<[number, number]> = [
      [0, 0], [0.0001, 1], [0.5, 1], [1, 1], [1.5, 2], [10.4, 11], [100, 100], [2 ** 31 - 1, 2 ** 31 - 1],
    ];
    for (const [ms, want] of cases) assert.equal(pollTimeoutMs(ms), want, `${ms} ms`);
  });

  test('any negative value becomes -1 (block)', () => {
    for (const ms of [-1000, -1, -1.0, -0.1, -1e-100, -(2 ** 31)]) assert.equal(pollTimeoutMs(ms), -1, `${ms}`);
  });

  test('errors: too large, NaN, non-numbers', () => {
    for (const ms of [2 ** 31, 2 ** 32, 9.2e12, -(2 ** 31) - 1, -9.2e12]) {
      assert.throws(() => pollTimeoutMs(ms), { name: 'OverflowError', message: 'timeout is too large' }, `${ms}`);
    }
    // CPython's poll.poll(): past ±2**63 ns the conversion to its nanosecond clock type fails first.
    for (const ms of [9.3e12, 2 ** 64, Infinity, -Infinity, -1e300]) {
      assert.throws(() => pollTimeoutMs(ms), { name: 'OverflowError', message: 'timestamp out of range for platform time_t' }, `${ms}`);
    }
    assert.throws(() => pollTimeoutMs(NaN), ValueError);
    for (const v of ['5', {}, true]) {
      assert.throws(() => pollTimeoutMs(v), { name: 'TypeError', message: /timeout must be an integer or null/ });
    }
  });
});

describe('epollTimeoutMs (seconds → ms, ceiling; below 0 blocks)', () => {
  test('null and undefined block', () => {
    assert.equal(epollTimeoutMs(null), -1);
    assert.equal(epollTimeoutMs(undefined), -1);
  });

  test('ceiling to whole milliseconds', () => {
    const cases: Array<[number, number]> = [
      [0, 0], [0.0001, 1], [0.001, 1], [0.0015, 2], [0.0104, 11], [0.1, 100], [1, 1000], [1.5, 1500],
    ];
    for (const [s, ms] of cases) assert.equal(epollTimeoutMs(s), ms, `${s} s`);
  });

  test('the same ceiling on both sides of the range that skips the limit checks', () => {
    const cases: Array<[number, number]> = [
      [999_999.9994, 1_000_000_000], [1e6, 1e9], [1e6 + 0.0005, 1_000_000_001], [1e6 + 1, 1_000_001_000],
      [2_000_000.0001, 2_000_000_001], [2_147_483.647, 2 ** 31 - 1],
    ];
    for (const [s, ms] of cases) assert.equal(epollTimeoutMs(s), ms, `${s} s`);
  });

  test('-0 and tiny negatives (-0.001, 0) poll; other negatives block', () => {
    assert.ok(Object.is(epollTimeoutMs(-0), 0));
    assert.ok(Object.is(epollTimeoutMs(-1e-9), 0));
    assert.equal(epollTimeoutMs(-0.0009), 0);
    for (const s of [-0.001, -0.5, -1, -2, -1000]) assert.equal(epollTimeoutMs(s), -1, `${s} s`);
  });

  test('errors: too large (both ways), NaN, non-numbers', () => {
    assert.throws(() => epollTimeoutMs(2 ** 31 / 1000), { name: 'OverflowError', message: 'timeout is too large' });
    assert.throws(() => epollTimeoutMs(-(2 ** 31 + 1) / 1000), { name: 'OverflowError', message: 'timeout is too large' });
    assert.equal(epollTimeoutMs((2 ** 31 - 1) / 1000), 2 ** 31 - 1);
    for (const s of [1e10, Infinity, -Infinity]) assert.throws(() => epollTimeoutMs(s), OverflowError, `${s}`);
    assert.throws(() => epollTimeoutMs(NaN), ValueError);
    for (const v of ['1', {}, false]) {
      assert.throws(() => epollTimeoutMs(v), { name: 'TypeError', message: /timeout must be an integer or null/ });
    }
  });
});

describe('monotonicMs', () => {
  test('never goes backwards and follows real time', async () => {
    const a = monotonicMs();
    const b = monotonicMs();
    assert.ok(b >= a);
    await new Promise((r) => setTimeout(r, 50));
    const c = monotonicMs();
    assert.ok(c - b >= 45 && c - b < 5000, `${c - b} ms`);
  });
});
