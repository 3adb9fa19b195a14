/**
 * What callers see of the shared close, unregister, argument and wrapping helpers: Epoll.close reports a
 * failing close(2) as Socket.close does; the poll-like selectors swallow only the errnos an unregister of a
 * closed fd gives; C int arguments follow one rule (booleans are 0/1, except for fds); fromFd and accepted
 * sockets are wrapped without module-level hand-off state.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Epoll, epoll, Poll } from 'iomux/select';
import { EpollSelector, EVENT_READ, PollSelector } from 'iomux/selectors';
import { createServer, createConnection, socketpair } from 'iomux/socket';
import { OSError, PermissionError, ValueError } from 'iomux/errors';
import * as os from 'iomux/os';
import { isOSError } from './support/assertions.js';
import { expectNoFdLeaks, Fds } from './support/fds.js';

expectNoFdLeaks();

test('Epoll.close(): a close(2) failure (fd closed behind its back) is OSError EBADF, and the object is closed', () => {
  const ep = epoll();
  os.close(ep.fileno());
  assert.throws(() => ep.close(), isOSError(9, 'EBADF'));
  assert.equal(ep.closed, true);
  ep.close(); // once closed, closing again does nothing
});

test('EpollSelector.close() with its epoll fd closed behind its back: EBADF, and the selector is closed anyway', (t) => {
  const fds = new Fds(t);
  const [r] = fds.pipe();
  const sel = new EpollSelector();
  sel.register(r, EVENT_READ);
  os.close(sel.fileno());
  assert.throws(() => sel.close(), isOSError(9, 'EBADF'));
  assert.equal(sel.getMap(), null);
  assert.throws(() => sel.register(r, EVENT_READ), ValueError);
});

for (const [name, Selector, Base] of [['PollSelector', PollSelector, Poll], ['EpollSelector', EpollSelector, Epoll]] as const) {
  test(`${name}: unregister swallows EBADF/ENOENT from the poller, and raises anything else`, (t) => {
    const fds = new Fds(t);
    let failWith: OSError | null = null;
    const Failing = class extends (Base as typeof Epoll) {
      override unregister(fd: number): void {
        if (failWith !== null) throw failWith;
        super.unregister(fd);
      }
    };
    const sel = new (Selector as typeof EpollSelector)({ pollerClass: Failing as typeof Epoll });
    t.after(() => sel.close());
    const [r1] = fds.pipe();
    const [r2] = fds.pipe();
    const [r3] = fds.pipe();
    sel.register(r1, EVENT_READ);
    sel.register(r2, EVENT_READ);
    sel.register(r3, EVENT_READ);
    failWith = OSError.fromErrno(9);
    sel.unregister(r1);
    failWith = OSError.fromErrno(2);
    sel.unregister(r2);
    failWith = OSError.fromErrno(1);
    assert.throws(() => sel.unregister(r3), PermissionError);
    assert.equal(sel.getMap()!.size, 0, 'the key is gone either way, as in CPython');
  });
}

test('C int arguments: booleans are 0/1 (Python bools are ints), except where an fd is meant', (t) => {
  const fds = new Fds(t);
  const [, w] = fds.pipe();
  const ep = fds.own(epoll(true as never, false as never));
  ep.register(w);
  assert.deepEqual(ep.poll(0, true as never).length, 1, 'maxevents=True is 1');
  assert.throws(() => Epoll.fromFd(true as never), TypeError);
  assert.throws(() => os.close(true as never), TypeError);
  assert.throws(() => ep.poll(0, 2 ** 31), { name: 'OverflowError', message: 'Python int too large to convert to C int (maxevents 2147483648)' });
  assert.throws(() => os.dup(2 ** 31), { name: 'OverflowError', message: 'Python int too large to convert to C int (fd 2147483648)' });
});

test('wrapping without hand-off state: fromFd between two constructions, accept and socketpair', (t) => {
  const fds = new Fds(t);
  const a = fds.own(epoll());
  const b = Epoll.fromFd(a.fileno()); // shares a's fd, which a closes
  const c = fds.own(epoll());
  assert.equal(b.fileno(), a.fileno());
  assert.notEqual(c.fileno(), a.fileno(), 'a construction after fromFd makes its own epoll');
  const server = fds.own(createServer(['127.0.0.1', 0]));
  const client = fds.own(createConnection(server.getsockname() as [string, number]));
  const [conn] = server.accept();
  fds.own(conn);
  assert.deepEqual(conn.getpeername(), client.getsockname());
  const [x, y] = socketpair();
  fds.own(x);
  fds.own(y);
  x.sendall('hi');
  assert.equal(y.recv(2).toString(), 'hi');
});
