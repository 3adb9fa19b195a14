/**
 * Error classes and texts that must be CPython's own (checked against python3 3.11 and 3.13; iomux may
 * only append a parenthesised detail): poll masks, the selectors' NaN/infinite timeouts, poll.poll()'s
 * timeout range and epoll.fromfd() of a negative number.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Epoll, poll } from 'iomux/select';
import { DefaultSelector, EpollSelector, EVENT_READ, PollSelector, SelectSelector } from 'iomux/selectors';
import { OSError } from 'iomux/errors';
import { expectNoFdLeaks, Fds } from './support/fds.js';

expectNoFdLeaks();

test('poll register/modify: "value must be positive", "Python int too large for C unsigned short"', (t) => {
  const fds = new Fds(t);
  const [r] = fds.pipe();
  const p = poll();
  for (const call of [(m: number) => p.register(r, m), (m: number) => p.modify(r, m)]) {
    p.register(r, 1);
    for (const m of [-1, -(2 ** 31), -(2 ** 31) - 1]) {
      assert.throws(() => call(m), { name: 'ValueError', message: `value must be positive (got ${m})` });
    }
    for (const m of [65536, 2 ** 31, 2 ** 32]) {
      assert.throws(() => call(m), { name: 'OverflowError', message: `Python int too large for C unsigned short (got ${m})` });
    }
    assert.throws(() => call(2 ** 64), {
      name: 'OverflowError', message: `Python int too large to convert to C unsigned long (got ${2 ** 64})`,
    });
    call(65535);
  }
  assert.deepEqual(p.poll(0), []);
});

test('PollSelector/EpollSelector.select(NaN | Infinity): math.ceil\'s texts; -Infinity polls', (t) => {
  const fds = new Fds(t);
  const [r] = fds.pipe();
  for (const Cls of [PollSelector, EpollSelector, DefaultSelector]) {
    const sel = fds.own(new Cls());
    sel.register(r, EVENT_READ);
    assert.throws(() => sel.select(NaN), { name: 'ValueError', message: 'cannot convert float NaN to integer' });
    assert.throws(() => sel.select(Infinity), { name: 'OverflowError', message: 'cannot convert float infinity to integer' });
    assert.deepEqual(sel.select(-Infinity), []);
  }
});

test('SelectSelector.select(NaN | Infinity): select()\'s own texts, as CPython passes the float through', (t) => {
  const fds = new Fds(t);
  const [r] = fds.pipe();
  const sel = fds.own(new SelectSelector());
  sel.register(r, EVENT_READ);
  assert.throws(() => sel.select(NaN), { name: 'ValueError', message: 'Invalid value NaN (not a number)' });
  assert.throws(() => sel.select(Infinity), { name: 'OverflowError', message: 'timestamp out of range for platform time_t' });
  assert.deepEqual(sel.select(-Infinity), []);
});

test('poll.poll(): "timestamp out of range for platform time_t" past 2**63 ns, "timeout is too large" past C int', () => {
  const p = poll();
  for (const ms of [Infinity, -Infinity, 1e13, -1e300]) {
    assert.throws(() => p.poll(ms), { name: 'OverflowError', message: 'timestamp out of range for platform time_t' });
  }
  for (const ms of [1e12, 2 ** 31, -(2 ** 31) - 1]) {
    assert.throws(() => p.poll(ms), { name: 'OverflowError', message: 'timeout is too large' });
  }
  assert.throws(() => p.poll(NaN), { name: 'ValueError', message: 'Invalid value NaN (not a number)' });
});

test('Epoll.fromFd(-5): OSError "[Errno 0] Error", as CPython\'s epoll.fromfd(-5); -1 still makes a new one', () => {
  for (const fd of [-5, -2, -(2 ** 31)]) {
    assert.throws(() => Epoll.fromFd(fd), (e: unknown) => {
      assert.ok(e instanceof OSError && e.constructor === OSError, String(e));
      assert.equal(e.errno, 0);
      assert.equal(e.message, '[Errno 0] Error');
      return true;
    });
  }
  const made = Epoll.fromFd(-1);
  assert.equal(made.closed, false);
  made.close();
});
