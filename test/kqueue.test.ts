/**
 * select.kqueue and select.kevent over real sockets and pipes, after the ideas of CPython's
 * Lib/test/test_kqueue.py (create, events and their ordering, queue events, pair, changelist iterables,
 * close, non-inheritable), plus EV_ERROR results, oneshot, clear, enable/disable and the ENOSYS path.
 * On Linux this runs on libkqueue (test/support/kqueue.ts), which `npm test` builds; it is never skipped.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  hasKqueue, kevent, Kevent, kqueue, Kqueue, KQ_EV_ADD, KQ_EV_CLEAR, KQ_EV_DELETE, KQ_EV_DISABLE, KQ_EV_ENABLE,
  KQ_EV_EOF, KQ_EV_ERROR, KQ_EV_ONESHOT, KQ_FILTER_READ, KQ_FILTER_WRITE,
} from 'iomux/select';
import * as select from 'iomux/select';
import { OverflowError, ValueError } from 'iomux/errors';
import * as os from 'iomux/os';
import { createServer, Socket } from 'iomux/socket';
import { requireKqueue } from './support/kqueue.js';
import { PACKAGE_ROOT } from './support/children.js';
import { Fds, makeBadFd, type After } from './support/fds.js';
import { socketPair } from './support/sockets.js';
import { KqueueReadySet } from '../src/loop/ready-set.js';

function newKqueue(t: After): Kqueue {
  requireKqueue();
  const kq = kqueue();
  t.after(() => kq.close());
  return kq;
}

function errnoOf(fn: () => void): number {
  try {
    fn();
  } catch (err) {
    return (err as { errno: number }).errno;
  }
  throw new Error('expected an OSError');
}

function identFilter(events: Kevent[]): string[] {
  return events.map((e) => `${e.ident}:${e.filter}`).sort();
}

/** Collects events until `want` (ident:filter strings) have all been seen, or a few seconds pass. */
function eventsUntil(kq: Kqueue, want: string[], max = 8): Kevent[] {
  let got: Kevent[] = [];
  for (let i = 0; i < 20; i++) {
    got = kq.control(null, max, 0.25);
    const seen = new Set(identFilter(got));
    if (want.every((w) => seen.has(w))) return got;
  }
  return got;
}

describe('kqueue', () => {
  test('create: fileno, closed, close twice, then ValueError', (t) => {
    const kq = newKqueue(t);
    assert.ok(kq.fileno() > 0);
    assert.equal(kq.closed, false);
    kq.close();
    assert.equal(kq.closed, true);
    assert.throws(() => kq.fileno(), { name: 'ValueError', message: 'I/O operation on closed kqueue object' });
    kq.close();
    assert.throws(() => kq.control(null, 4), { name: 'ValueError', message: 'I/O operation on closed kqueue object' });
  });

  test('the kqueue fd is non-inheritable (close-on-exec)', (t) => {
    const kq = newKqueue(t);
    assert.equal(os.getInheritable(kq.fileno()), false);
  });

  test('new Kqueue() and using-declarations', () => {
    requireKqueue();
    let fd: number;
    {
      using kq = new Kqueue();
      fd = kq.fileno();
      assert.ok(fd >= 0);
    }
    assert.throws(() => os.getInheritable(fd), { name: 'OSError', code: 'EBADF' });
  });

  test('kevent: defaults, fields, equality and ordering (test_create_event)', (t) => {
    const fds = new Fds(t);
    const [, w] = fds.pipe();
    const ev = kevent(w);
    const other = kevent(1000);
    assert.deepEqual([ev.ident, ev.filter, ev.flags, ev.fflags, ev.data, ev.udata], [w, KQ_FILTER_READ, KQ_EV_ADD, 0, 0, 0]);
    assert.ok(ev.equals(ev));
    assert.ok(!ev.equals(other));
    assert.ok(ev.compare(other) < 0);
    assert.ok(other.compare(ev) >= 0);
    assert.ok(!ev.equals(null) && !ev.equals(1) && !ev.equals('ev'));
    for (const bad of [null, 1, 'ev']) assert.throws(() => ev.compare(bad as unknown as Kevent), TypeError);

    const w2 = kevent(w, KQ_FILTER_WRITE);
    assert.deepEqual([w2.filter, w2.flags], [KQ_FILTER_WRITE, KQ_EV_ADD]);
    const once = kevent(w, KQ_FILTER_WRITE, KQ_EV_ONESHOT);
    assert.equal(once.flags, KQ_EV_ONESHOT);
    const all = new Kevent(1, 2, 3, 4, 5, 6);
    assert.deepEqual([all.ident, all.filter, all.flags, all.fflags, all.data, all.udata], [1, 2, 3, 4, 5, 6]);
    const big = kevent(0x7fff, 1, 2, 3, 0x7fff - 1, 0x7fff);
    assert.deepEqual([big.ident, big.data, big.udata], [0x7fff, 0x7ffe, 0x7fff]);
    // Issue 11973: flags is a full unsigned short, fflags a full unsigned int.
    assert.equal(kevent(0, 1, 0xffff).flags, 0xffff);
    assert.equal(kevent(0, 1, 2, 0xffffffff).fflags, 0xffffffff);
    // Ordering goes field by field.
    assert.equal(kevent(5, -1).compare(kevent(5, -2)), 1);
    assert.equal(kevent(5, -1, 1, 0, -3).compare(kevent(5, -1, 1, 0, 2)), -1);
    assert.equal(kevent(5).compare(kevent(5)), 0);
    assert.ok(Object.isFrozen(ev));
  });

  test('kevent argument checks', () => {
    assert.throws(() => kevent(0, 0x8000), { name: 'OverflowError', message: 'signed short integer is greater than maximum' });
    assert.throws(() => kevent(0, -0x8001), { name: 'OverflowError', message: 'signed short integer is less than minimum' });
    assert.equal(kevent(0, 1, 0x10001).flags, 1, 'flags wrap as a C unsigned short');
    assert.equal(kevent(0, 1, 0, -1).fflags, 0xffffffff, 'fflags wrap as a C unsigned int');
    assert.throws(() => kevent(-1), OverflowError);
    assert.throws(() => kevent(0, 'x' as unknown as number), TypeError);
    assert.throws(() => kevent({} as unknown as number), TypeError);
    assert.equal(kevent({ fileno: () => 7 }).ident, 7, 'a FileLike gives its fd');
  });

  test('queue events of a connected pair (test_queue_event)', (t) => {
    const kq = newKqueue(t);
    requireKqueue();
    const server = createServer(['127.0.0.1', 0]);
    t.after(() => server.close());
    const client = new Socket();
    t.after(() => client.close());
    client.setblocking(false);
    assert.throws(() => client.connect(['127.0.0.1', (server.getsockname() as [string, number])[1]]), { code: 'EINPROGRESS' });
    const [conn] = server.accept();
    t.after(() => conn.close());
    const kq2 = Kqueue.fromFd(kq.fileno());
    // kq2 shares kq's fd: closing both would close it twice. Leave it to kq.
    kq.control([kevent(conn.fileno(), KQ_FILTER_WRITE, KQ_EV_ADD | KQ_EV_ENABLE)], 0);
    kq.control([kevent(conn.fileno(), KQ_FILTER_READ, KQ_EV_ADD | KQ_EV_ENABLE)], 0);
    kq2.control([kevent(client.fileno(), KQ_FILTER_WRITE, KQ_EV_ADD | KQ_EV_ENABLE)], 0);
    kq2.control([kevent(client.fileno(), KQ_FILTER_READ, KQ_EV_ADD | KQ_EV_ENABLE)], 0);
    const writable = [`${client.fileno()}:${KQ_FILTER_WRITE}`, `${conn.fileno()}:${KQ_FILTER_WRITE}`].sort();
    assert.deepEqual(identFilter(eventsUntil(kq, writable, 4)), writable);

    client.send(Buffer.from('Hello!'));
    conn.send(Buffer.from('world!!!'));
    const all = [...writable, `${client.fileno()}:${KQ_FILTER_READ}`, `${conn.fileno()}:${KQ_FILTER_READ}`].sort();
    assert.deepEqual(identFilter(eventsUntil(kq, all, 4)), all);

    kq.control([kevent(client.fileno(), KQ_FILTER_WRITE, KQ_EV_DELETE)], 0);
    kq.control([kevent(client.fileno(), KQ_FILTER_READ, KQ_EV_DELETE)], 0);
    kq.control([kevent(conn.fileno(), KQ_FILTER_READ, KQ_EV_DELETE)], 0, 0);
    assert.deepEqual(identFilter(kq.control([], 4, 0.99)), [`${conn.fileno()}:${KQ_FILTER_WRITE}`]);
    kq.control([kevent(conn.fileno(), KQ_FILTER_WRITE, KQ_EV_DELETE)], 0, 0);
  });

  test('a socketpair: the event says how much to read (testPair)', (t) => {
    const kq = newKqueue(t);
    const [a, b] = socketPair(t);
    a.send(Buffer.from('foo'));
    const r = kq.control([kevent(a, KQ_FILTER_READ, KQ_EV_ADD | KQ_EV_ENABLE), kevent(b, KQ_FILTER_READ, KQ_EV_ADD | KQ_EV_ENABLE)], 1, 1);
    assert.equal(r.length, 1);
    assert.equal(r[0]!.flags & KQ_EV_ERROR, 0);
    assert.equal(r[0]!.ident, b.fileno());
    assert.deepEqual(b.recv(r[0]!.data), Buffer.from('foo'));
    kq.control([kevent(a, KQ_FILTER_READ, KQ_EV_DELETE), kevent(b, KQ_FILTER_READ, KQ_EV_DELETE)], 0);
  });

  test('changelist: any iterable of kevents; anything else is a TypeError (test_issue30058)', (t) => {
    const kq = newKqueue(t);
    const [a] = socketPair(t);
    // Each iterable adds the filter and deletes it again (libkqueue refuses to re-add an existing socket
    // read filter; the kernels would accept it as a modification).
    const ev = kevent(a, KQ_FILTER_READ, KQ_EV_ADD | KQ_EV_ENABLE);
    const del = kevent(a, KQ_FILTER_READ, KQ_EV_DELETE);
    kq.control([ev, del], 0);
    kq.control(new Set([ev, del]), 0);
    kq.control((function* () { for (let i = 0; i < 100; i++) yield i % 2 === 0 ? ev : del; })(), 0);
    kq.control([ev, del][Symbol.iterator](), 0);
    kq.control([ev], 0);
    assert.throws(() => kq.control(5 as unknown as Kevent[], 0), { name: 'TypeError', message: 'changelist is not iterable' });
    assert.throws(() => kq.control([ev, 1] as unknown as Kevent[], 0), {
      name: 'TypeError', message: 'changelist must be an iterable of select.kevent objects',
    });
    kq.control([kevent(a, KQ_FILTER_READ, KQ_EV_DELETE)], 0);
  });

  test('control argument checks: max events and timeout, as CPython words them', (t) => {
    const kq = newKqueue(t);
    assert.throws(() => kq.control(null, -1), { name: 'ValueError', message: 'Length of eventlist must be 0 or positive, got -1' });
    assert.throws(() => kq.control(null, 1, -1), { name: 'ValueError', message: 'timeout must be positive or None' });
    assert.throws(() => kq.control(null, 1, 'x' as unknown as number), {
      name: 'TypeError', message: /^timeout argument must be a number or None, got /,
    });
    assert.throws(() => kq.control(null, 1, NaN), ValueError);
    assert.throws(() => kq.control(null, 1, Infinity), OverflowError);
    assert.deepEqual(kq.control(null, 1, 0), []);
    const t0 = performance.now();
    assert.deepEqual(kq.control(null, 1, 0.05), []);
    assert.ok(performance.now() - t0 >= 45, 'an empty kqueue waits the whole timeout');
  });

  test('a failed change comes back as an EV_ERROR event when there is room, else raises', (t) => {
    const kq = newKqueue(t);
    const fds = new Fds(t);
    const [r] = fds.pipe();
    const bad = makeBadFd(900, 1000);
    const EBADF = errnoOf(() => os.close(bad));
    const events = kq.control([kevent(bad, KQ_FILTER_READ, KQ_EV_ADD)], 4, 0);
    assert.equal(events.length, 1);
    assert.equal(events[0]!.ident, bad);
    assert.ok(events[0]!.flags & KQ_EV_ERROR);
    assert.equal(events[0]!.data, EBADF, 'data holds the errno');
    assert.throws(() => kq.control([kevent(bad, KQ_FILTER_READ, KQ_EV_ADD)], 0, 0), { name: 'OSError', code: 'EBADF' });
    // Deleting what was never added: ENOENT.
    assert.throws(() => kq.control([kevent(r, KQ_FILTER_READ, KQ_EV_DELETE)], 0, 0), { name: 'FileNotFoundError', code: 'ENOENT' });
  });

  test('oneshot: reported once, then gone', (t) => {
    const kq = newKqueue(t);
    const [a, b] = socketPair(t);
    a.send(Buffer.from('x'));
    kq.control([kevent(b, KQ_FILTER_READ, KQ_EV_ADD | KQ_EV_ONESHOT)], 0);
    assert.equal(kq.control(null, 4, 1).length, 1);
    assert.deepEqual(kq.control(null, 4, 0), [], 'a oneshot filter fires once');
    assert.throws(() => kq.control([kevent(b, KQ_FILTER_READ, KQ_EV_DELETE)], 0, 0), { code: 'ENOENT' });
  });

  test('clear: reported on each change of state, not while it stays readable', (t) => {
    const kq = newKqueue(t);
    const [a, b] = socketPair(t);
    kq.control([kevent(b, KQ_FILTER_READ, KQ_EV_ADD | KQ_EV_CLEAR)], 0);
    a.send(Buffer.from('x'));
    assert.equal(kq.control(null, 4, 1).length, 1);
    assert.deepEqual(kq.control(null, 4, 0), [], 'still readable, but already reported');
    a.send(Buffer.from('y'));
    assert.equal(kq.control(null, 4, 1).length, 1, 'new data: reported again');
    kq.control([kevent(b, KQ_FILTER_READ, KQ_EV_DELETE)], 0);
  });

  test('disable and enable: a disabled filter stays registered but silent', (t) => {
    const kq = newKqueue(t);
    const [a, b] = socketPair(t);
    a.send(Buffer.from('x'));
    kq.control([kevent(b, KQ_FILTER_READ, KQ_EV_ADD)], 0);
    kq.control([kevent(b, KQ_FILTER_READ, KQ_EV_DISABLE)], 0);
    assert.deepEqual(kq.control(null, 4, 0), []);
    kq.control([kevent(b, KQ_FILTER_READ, KQ_EV_ENABLE)], 0);
    const [ev] = kq.control(null, 4, 1);
    assert.equal(ev?.ident, b.fileno());
    kq.control([kevent(b, KQ_FILTER_READ, KQ_EV_DELETE)], 0);
  });

  test('EOF: a closed peer sets KQ_EV_EOF on the read filter', (t) => {
    const kq = newKqueue(t);
    const [a, b] = socketPair(t);
    kq.control([kevent(b, KQ_FILTER_READ, KQ_EV_ADD)], 0);
    a.close();
    const [ev] = kq.control(null, 4, 1);
    assert.ok(ev !== undefined && (ev.flags & KQ_EV_EOF) !== 0);
    kq.control([kevent(b, KQ_FILTER_READ, KQ_EV_DELETE)], 0);
  });

  test('fromFd wraps an existing kqueue fd (taking it over); fromFd(-1) makes a new one', (t) => {
    requireKqueue();
    const [a, b] = socketPair(t);
    a.send(Buffer.from('x'));
    const first = kqueue();
    const wrapped = Kqueue.fromFd(first.fileno());
    t.after(() => wrapped.close()); // it owns the fd now; `first` is left unclosed, not closed twice
    assert.equal(wrapped.fileno(), first.fileno());
    first.control([kevent(b, KQ_FILTER_READ, KQ_EV_ADD)], 0);
    assert.equal(wrapped.control(null, 4, 1)[0]?.ident, b.fileno(), 'both objects drive the same kqueue');
    wrapped.control([kevent(b, KQ_FILTER_READ, KQ_EV_DELETE)], 0);
    const fresh = Kqueue.fromFd(-1);
    t.after(() => fresh.close());
    assert.notEqual(fresh.fileno(), wrapped.fileno());
    assert.throws(() => Kqueue.fromFd(1.5), TypeError);
  });

  test('constants: CPython names with the platform values', () => {
    assert.deepEqual([KQ_FILTER_READ, KQ_FILTER_WRITE, select.KQ_FILTER_AIO, select.KQ_FILTER_VNODE, select.KQ_FILTER_PROC,
      select.KQ_FILTER_SIGNAL, select.KQ_FILTER_TIMER], [-1, -2, -3, -4, -5, -6, -7]);
    assert.deepEqual([KQ_EV_ADD, KQ_EV_DELETE, KQ_EV_ENABLE, KQ_EV_DISABLE, KQ_EV_ONESHOT, KQ_EV_CLEAR, select.KQ_EV_FLAG1,
      KQ_EV_ERROR, KQ_EV_EOF, select.KQ_EV_SYSFLAGS], [0x1, 0x2, 0x4, 0x8, 0x10, 0x20, 0x2000, 0x4000, 0x8000, 0xf000]);
    for (const name of ['LOWAT', 'DELETE', 'WRITE', 'EXTEND', 'ATTRIB', 'LINK', 'RENAME', 'REVOKE', 'EXIT', 'FORK', 'EXEC',
      'PCTRLMASK', 'PDATAMASK']) {
      assert.equal(typeof (select as Record<string, unknown>)[`KQ_NOTE_${name}`], 'number', name);
    }
  });

  test('without libkqueue: OSError(ENOSYS) saying how to get it, and hasKqueue() is false', () => {
    const source = `
      import { kqueue, hasKqueue } from 'iomux/select';
      import { KqueueSelector } from 'iomux/selectors';
      const out = { has: hasKqueue() };
      try { kqueue(); } catch (e) { out.name = e.name; out.code = e.code; out.message = e.message; }
      try { new KqueueSelector(); } catch (e) { out.selector = e.code; }
      console.log(JSON.stringify(out));`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', source], {
      cwd: PACKAGE_ROOT, encoding: 'utf8', env: { ...process.env, IOMUX_LIBKQUEUE: '/nonexistent/libkqueue.so.0' },
    });
    assert.equal(child.status, 0, child.stderr);
    const out = JSON.parse(child.stdout) as Record<string, unknown>;
    assert.equal(out.has, false);
    assert.equal(out.name, 'OSError');
    assert.equal(out.code, 'ENOSYS');
    assert.equal(out.selector, 'ENOSYS');
    assert.match(String(out.message), /^\[Errno \d+\] kqueue is not available on linux: libkqueue could not be loaded from \/nonexistent\/libkqueue.so.0/);
    assert.match(String(out.message), /IOMUX_LIBKQUEUE/);
  });

  test('hasKqueue() is true here (libkqueue built by the pretest)', () => {
    requireKqueue();
    assert.equal(hasKqueue(), true);
  });
});

describe('KqueueReadySet as the mirror of select/poll selectors where there is no epoll', () => {
  test('add, modify and remove map to filters; errors are the ones InterestMirror handles', (t) => {
    requireKqueue();
    const fds = new Fds(t);
    const [r, w] = fds.pipe();
    const mirror = new KqueueReadySet();
    t.after(() => mirror.close());
    assert.ok(mirror.fileno() >= 0);
    mirror.add(r, 1);
    mirror.add(w, 2);
    mirror.modify(w, 3); // adds the READ filter to w's WRITE one
    mirror.modify(w, 1); // deletes the WRITE filter
    mirror.remove(w);
    mirror.remove(r);
    assert.throws(() => mirror.remove(r), { name: 'FileNotFoundError', code: 'ENOENT' });
    assert.throws(() => mirror.modify(r, 1), { code: 'ENOENT' });
    const bad = makeBadFd(900, 1000);
    assert.throws(() => mirror.add(bad, 1), { code: 'EBADF' });
  });
});
