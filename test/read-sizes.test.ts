/**
 * Sizes given to recv, recvInto, recvfrom, recvfromInto and os.read: CPython's error classes and texts
 * (python3 3.11 and 3.13 agree), never Node's RangeError, and the socket or fd usable afterwards.
 *
 * CPython parses these sizes as Py_ssize_t: OverflowError "Python int too large to convert to C ssize_t"
 * from 2**63; a negative size is ValueError "negative buffersize in recv" (os.read: OSError EINVAL); a
 * size it cannot allocate is MemoryError. Both try the allocation: 2**33 (8 GiB) is reserved where the machine
 * overcommits and the read goes on (BlockingIOError on an empty non-blocking socket), except on Node 20, whose
 * Buffers stop at 4 GiB (MemoryError: a documented deviation); 2**50 and 2**62 are past any machine's memory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { socketpair, SOCK_DGRAM, AF_UNIX } from 'iomux/socket';
import * as os from 'iomux/os';
import { constants as bufferConstants } from 'node:buffer';
import { BlockingIOError, MemoryError, OverflowError, ValueError } from 'iomux/errors';
import { isOSError } from './support/assertions.js';
import { expectNoFdLeaks, Fds } from './support/fds.js';

expectNoFdLeaks();

/** CPython's class and text; iomux may only append a parenthesised detail. */
function cpython(cls: new (...args: never[]) => Error, text: string): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof cls, `not a ${cls.name}: ${String(e)}`);
    assert.equal(e.name, cls.name);
    const detail = text === '' ? '(' : `${text} (`;
    assert.ok(e.message === text || e.message.startsWith(detail), `message: ${e.message}`);
    return true;
  };
}

const SSIZE = 'Python int too large to convert to C ssize_t';
/** Sizes no machine can reserve (past the 47/48-bit address spaces, or refused by the overcommit heuristic). */
const UNALLOCATABLE = [2 ** 50, 2 ** 62];

/**
 * What a read of 8 GiB on an empty non-blocking fd raises: MemoryError where Node's Buffers stop short of it
 * (Node 20), else what CPython raises on such a machine — the allocation is tried and the read would block,
 * unless the machine refuses to reserve 8 GiB (MemoryError, as CPython there).
 */
function eightGiBOnEmptyFd(e: unknown): boolean {
  if (bufferConstants.MAX_LENGTH < 2 ** 33) return cpython(MemoryError, '')(e);
  assert.ok(e instanceof BlockingIOError || (e instanceof MemoryError && /cannot allocate/.test(e.message)), String(e));
  return true;
}

test('recv and recvfrom: negative, huge, past Py_ssize_t and non-integer sizes', (t) => {
  const [a, b] = socketpair();
  t.after(() => (a.close(), b.close()));
  a.setblocking(false); // an 8 GiB read that Node can allocate goes ahead, as in CPython: it must not block
  for (const [name, call] of [['recv', (n: number) => a.recv(n)], ['recvfrom', (n: number) => a.recvfrom(n)]] as const) {
    assert.throws(() => call(-1), cpython(ValueError, `negative buffersize in ${name}`));
    for (const n of UNALLOCATABLE) assert.throws(() => call(n), cpython(MemoryError, ''), `${name}(${n})`);
    assert.throws(() => call(2 ** 33), eightGiBOnEmptyFd, `${name}(2**33)`);
    for (const n of [2 ** 63, 2 ** 64, 1e300]) assert.throws(() => call(n), cpython(OverflowError, SSIZE), `${name}(${n})`);
    assert.throws(() => call(1.5), TypeError);
    assert.throws(() => call(Infinity), TypeError);
  }
  b.sendall('ok');
  assert.equal(a.recv(2 ** 20).toString(), 'ok', 'the socket is usable afterwards');
});

test('recvInto and recvfromInto: a size past the buffer is ValueError up to Py_ssize_t, OverflowError beyond', (t) => {
  const [a, b] = socketpair();
  t.after(() => (a.close(), b.close()));
  const buf = Buffer.alloc(10);
  for (const n of [11, 2 ** 31, 2 ** 33, 2 ** 62]) {
    assert.throws(() => a.recvInto(buf, n), cpython(ValueError, 'buffer too small for requested bytes'), `${n}`);
    assert.throws(() => a.recvfromInto(buf, n), cpython(ValueError, 'nbytes is greater than the length of the buffer'), `${n}`);
  }
  for (const n of [2 ** 63, 2 ** 64]) {
    assert.throws(() => a.recvInto(buf, n), cpython(OverflowError, SSIZE));
    assert.throws(() => a.recvfromInto(buf, n), cpython(OverflowError, SSIZE));
  }
  assert.throws(() => a.recvInto(buf, -1), cpython(ValueError, 'negative buffersize in recvInto'));
  assert.throws(() => a.recvfromInto(buf, -1), cpython(ValueError, 'negative buffersize in recvfromInto'));
  assert.throws(() => a.recvInto(buf, 1.5), TypeError);
  b.sendall('hello');
  assert.equal(a.recvInto(buf, 5), 5);
  assert.equal(buf.subarray(0, 5).toString(), 'hello');
});

test('a datagram socket: recv(2**50) is MemoryError, then the datagram is still there', (t) => {
  const [a, b] = socketpair(AF_UNIX, SOCK_DGRAM);
  t.after(() => (a.close(), b.close()));
  b.send('dgram');
  assert.throws(() => a.recv(2 ** 50), cpython(MemoryError, ''));
  assert.equal(a.recv(100).toString(), 'dgram');
});

test('os.read: negative is OSError(EINVAL), huge MemoryError, past Py_ssize_t OverflowError', (t) => {
  const fds = new Fds(t);
  const [r, w] = fds.pipe();
  os.setBlocking(r, false);
  assert.throws(() => os.read(r, 2 ** 33), eightGiBOnEmptyFd, 'read(2**33) on the empty pipe');
  os.write(w, 'data');
  assert.throws(() => os.read(r, -1), isOSError(22, 'EINVAL'));
  for (const n of UNALLOCATABLE) assert.throws(() => os.read(r, n), cpython(MemoryError, ''), `${n}`);
  for (const n of [2 ** 63, 2 ** 64]) assert.throws(() => os.read(r, n), cpython(OverflowError, SSIZE), `${n}`);
  assert.throws(() => os.read(r, 1.5), TypeError);
  assert.equal(os.read(r, 100).toString(), 'data');
});
