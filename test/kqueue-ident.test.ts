/**
 * kevent idents above INT_MAX on filters that take a file descriptor (issue 19, defect 6). FreeBSD's and
 * macOS's kevent(2) refuse such a change with EBADF; libkqueue (Linux) would truncate the ident to an int and
 * silently watch another fd (2**32 + r → r). iomux refuses them the kernels' way on every platform: an
 * EV_ERROR entry with data EBADF where the event list has room, else OSError(EBADF), changes before it applied
 * and none after it.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  kevent, kqueue, Kqueue, KQ_EV_ADD, KQ_EV_DELETE, KQ_EV_ERROR, KQ_FILTER_READ, KQ_FILTER_VNODE, KQ_FILTER_WRITE,
  KQ_FILTER_TIMER,
} from 'iomux/select';
import * as os from 'iomux/os';
import { requireKqueue } from './support/kqueue.js';
import { Fds, type After } from './support/fds.js';

const INT_MAX = 0x7fffffff;

function newKqueue(t: After): Kqueue {
  requireKqueue();
  const kq = kqueue();
  t.after(() => kq.close());
  return kq;
}

function ebadf(): number {
  try {
    os.close(-1);
  } catch (err) {
    return (err as { errno: number }).errno;
  }
  throw new Error('os.close(-1) did not raise');
}

describe('kqueue: fd idents above INT_MAX', () => {
  test('2**32 + r on READ: an EV_ERROR entry (EBADF), and r is not watched', (t) => {
    const kq = newKqueue(t);
    const fds = new Fds(t);
    const [r, w] = fds.pipe();
    os.write(w, Buffer.from('x')); // r is readable: a truncated ident would report it
    const events = kq.control([kevent(2 ** 32 + r, KQ_FILTER_READ, KQ_EV_ADD)], 4, 0);
    assert.equal(events.length, 1);
    assert.equal(events[0]!.ident, 2 ** 32 + r, 'the entry names the ident the caller passed');
    assert.equal(events[0]!.filter, KQ_FILTER_READ);
    assert.ok(events[0]!.flags & KQ_EV_ERROR);
    assert.equal(events[0]!.data, ebadf());
    assert.deepEqual(kq.control(null, 4, 0), [], 'nothing was registered for fd r');
    assert.throws(() => kq.control([kevent(r, KQ_FILTER_READ, KQ_EV_DELETE)], 0, 0), { code: 'ENOENT' });
  });

  test('without room in the event list: OSError(EBADF), for every fd filter and every ident above INT_MAX', (t) => {
    const kq = newKqueue(t);
    const fds = new Fds(t);
    const [r] = fds.pipe();
    for (const filter of [KQ_FILTER_READ, KQ_FILTER_WRITE, KQ_FILTER_VNODE]) {
      for (const ident of [INT_MAX + 1, 2 ** 32 - 1, 2 ** 32 + r, 2 ** 53 - 1]) {
        for (const flags of [KQ_EV_ADD, KQ_EV_DELETE]) {
          assert.throws(() => kq.control([kevent(ident, filter, flags)], 0, 0), { name: 'OSError', code: 'EBADF' },
            `ident ${ident} filter ${filter} flags ${flags}`);
        }
      }
    }
    assert.deepEqual(kq.control(null, 4, 0), []);
  });

  test('changes around a refused one: with room all are applied; without, those before it only', (t) => {
    const kq = newKqueue(t);
    const fds = new Fds(t);
    const [r1, w1] = fds.pipe();
    const [r2, w2] = fds.pipe();
    os.write(w1, Buffer.from('x'));
    os.write(w2, Buffer.from('x'));
    const bad = kevent(2 ** 32 + r1, KQ_FILTER_READ, KQ_EV_ADD);

    // Room: the kernels report only the error entries (no wait), and every valid change takes effect.
    const got = kq.control([kevent(r1, KQ_FILTER_READ, KQ_EV_ADD), bad, kevent(r2, KQ_FILTER_READ, KQ_EV_ADD)], 4, 0);
    assert.deepEqual(got.map((e) => [e.ident, e.flags & KQ_EV_ERROR, e.data]), [[2 ** 32 + r1, KQ_EV_ERROR, ebadf()]]);
    const ready = kq.control(null, 4, 0).map((e) => e.ident).sort((a, b) => a - b);
    assert.deepEqual(ready, [r1, r2].sort((a, b) => a - b));
    kq.control([kevent(r1, KQ_FILTER_READ, KQ_EV_DELETE), kevent(r2, KQ_FILTER_READ, KQ_EV_DELETE)], 0, 0);

    // No room: the call fails at the refused change; the one before it is applied, the one after is not.
    assert.throws(() => kq.control([kevent(r1, KQ_FILTER_READ, KQ_EV_ADD), bad, kevent(r2, KQ_FILTER_READ, KQ_EV_ADD)], 0, 0),
      { name: 'OSError', code: 'EBADF' });
    assert.deepEqual(kq.control(null, 4, 0).map((e) => e.ident), [r1]);
    assert.throws(() => kq.control([kevent(r2, KQ_FILTER_READ, KQ_EV_DELETE)], 0, 0), { code: 'ENOENT' });
    kq.control([kevent(r1, KQ_FILTER_READ, KQ_EV_DELETE)], 0, 0);
  });

  test('an error of a valid change beside a refused one keeps its place in the entries', (t) => {
    const kq = newKqueue(t);
    const fds = new Fds(t);
    const [r] = fds.pipe();
    const got = kq.control([kevent(r, KQ_FILTER_READ, KQ_EV_DELETE), kevent(2 ** 40, KQ_FILTER_WRITE, KQ_EV_ADD)], 4, 0);
    assert.deepEqual(got.map((e) => [e.ident, e.filter, e.flags & KQ_EV_ERROR, e.data]), [
      [r, KQ_FILTER_READ, KQ_EV_ERROR, 2], // ENOENT is 2 on every platform
      [2 ** 40, KQ_FILTER_WRITE, KQ_EV_ERROR, ebadf()],
    ]);
  });

  test('idents that are not fds are untouched: a timer id above INT_MAX works', (t) => {
    const kq = newKqueue(t);
    const id = 2 ** 32 + 7;
    kq.control([kevent(id, KQ_FILTER_TIMER, KQ_EV_ADD, 0, 1)], 0, 0);
    let got: ReturnType<Kqueue['control']> = [];
    for (let i = 0; i < 20 && got.length === 0; i++) got = kq.control(null, 4, 0.25);
    assert.equal(got[0]?.ident, id);
    assert.equal(got[0]!.flags & KQ_EV_ERROR, 0);
    kq.control([kevent(id, KQ_FILTER_TIMER, KQ_EV_DELETE)], 0, 0);
  });
});
