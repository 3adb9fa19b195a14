/**
 * macOS's portable primitives (src/sys/emulated-cloexec.ts: the plain call, then fcntl for each flag) bound
 * over this machine's libc and table, so the code macOS runs is run here too: every new fd close-on-exec,
 * non-blocking exactly when asked, accept's fd blocking, and a failing call's -errno with nothing left open.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as sys from '#internal/sys/index.js';
import { abi, koffi, libc } from '#internal/sys/lib.js';
import { errno, orErrno } from '#internal/sys/errno.js';
import { bindEmulatedCloexec } from '#internal/sys/emulated-cloexec.js';
import { expectNoFdLeaks } from './support/fds.js';

expectNoFdLeaks();

const emulated = bindEmulatedCloexec({ koffi, libc, abi, orErrno, errno });

function closeOnExec(fd: number): boolean {
  const r = sys.getFdFlags(fd);
  assert.ok(r >= 0, `F_GETFD of ${fd}: ${r}`);
  return (r & sys.FD_CLOEXEC) !== 0;
}

function nonBlocking(fd: number): boolean {
  const r = sys.getStatusFlags(fd);
  assert.ok(r >= 0, `F_GETFL of ${fd}: ${r}`);
  return (r & sys.O_NONBLOCK) !== 0;
}

test('socket and socketpair: close-on-exec, non-blocking only with SOCK_NONBLOCK', () => {
  for (const nonblock of [false, true]) {
    const type = sys.SOCK_STREAM | (nonblock ? sys.SOCK_NONBLOCK : 0);
    const fd = emulated.socket(sys.AF_INET, type, 0);
    assert.ok(fd >= 0, `socket: ${fd}`);
    assert.deepEqual([closeOnExec(fd), nonBlocking(fd)], [true, nonblock]);
    sys.close(fd);
    const pair = new Int32Array(2);
    assert.equal(emulated.socketpair(sys.AF_UNIX, type, 0, pair), 0);
    for (const end of pair) assert.deepEqual([closeOnExec(end), nonBlocking(end)], [true, nonblock]);
    for (const end of pair) sys.close(end);
  }
});

test('accept: the connection close-on-exec and blocking, though the listener is non-blocking', () => {
  const listener = emulated.socket(sys.AF_UNIX, sys.SOCK_STREAM | sys.SOCK_NONBLOCK, 0);
  const client = emulated.socket(sys.AF_UNIX, sys.SOCK_STREAM, 0);
  const addr = Buffer.alloc(sys.SOCKADDR_STORAGE_BYTES);
  const len = sys.writeSockaddrUn(addr, Buffer.from(`\0iomux-emulated-${process.pid}`));
  try {
    assert.equal(sys.bind(listener, addr, len), 0);
    assert.equal(sys.listen(listener, 1), 0);
    assert.equal(emulated.accept(listener, null, null), -abi.errno.EAGAIN!);
    assert.equal(sys.connect(client, addr, len), 0);
    const conn = emulated.accept(listener, null, null);
    assert.ok(conn >= 0, `accept: ${conn}`);
    assert.deepEqual([closeOnExec(conn), nonBlocking(conn)], [true, false]);
    sys.close(conn);
  } finally {
    sys.close(client);
    sys.close(listener);
  }
});

test('pipe and dup2: close-on-exec ends; dup2 without cloexec leaves the flag off', () => {
  const ends = new Int32Array(2);
  assert.equal(emulated.pipe(ends), 0);
  for (const end of ends) assert.deepEqual([closeOnExec(end), nonBlocking(end)], [true, false]);
  const target = sys.dup(ends[0]!);
  assert.equal(emulated.dup2(ends[1]!, target, true), target);
  assert.equal(closeOnExec(target), true);
  assert.equal(emulated.dup2(ends[1]!, target, false), target);
  assert.equal(closeOnExec(target), false);
  for (const fd of [...ends, target]) sys.close(fd);
});

test('a failing call returns -errno and leaves nothing open', () => {
  assert.equal(emulated.socket(-1, sys.SOCK_STREAM, 0), -abi.errno.EAFNOSUPPORT!);
  assert.equal(emulated.socketpair(sys.AF_INET, sys.SOCK_STREAM, 0, new Int32Array(2)), -abi.errno.EOPNOTSUPP!);
  assert.equal(emulated.dup2(-1, 100, true), -abi.errno.EBADF!);
  assert.equal(emulated.accept(-1, null, null), -abi.errno.EBADF!);
});
