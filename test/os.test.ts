/** iomux/os over real pipes and processes: Python's os.pipe/read/write/dup/dup2/blocking/inheritable. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as os from 'iomux/os';
import { BlockingIOError, BrokenPipeError, ConnectionError, OSError, OverflowError } from 'iomux/errors';
import { isOSError } from './support/assertions.js';
import { runNode } from './support/children.js';
import { expectNoFdLeaks, Fds, freeFdNumber } from './support/fds.js';

/** Runs a child that tries to write "hi" to fd `fd`; resolves to what it printed on stderr about it. */
async function childWrites(fd: number): Promise<string> {
  const script = `try { require('fs').writeSync(${fd}, 'hi'); } catch (e) { process.stderr.write(e.code); }`;
  return (await runNode(['-e', script])).stderr;
}

expectNoFdLeaks();

describe('pipe, read, write', () => {
  test('pipe() gives two distinct blocking, non-inheritable fds', (t) => {
    const fds = new Fds(t);
    const [r, w] = fds.pipe();
    assert.ok(Number.isInteger(r) && Number.isInteger(w) && r !== w && r >= 0 && w >= 0);
    for (const fd of [r, w]) {
      assert.equal(os.getInheritable(fd), false);
      assert.equal(os.getBlocking(fd), true);
    }
  });

  test('write returns the byte count; read returns at most n bytes; EOF is an empty Buffer', (t) => {
    const fds = new Fds(t);
    const [r, w] = fds.pipe();
    assert.equal(os.write(w, Buffer.from('abcdef')), 6);
    assert.equal(os.write(w, new Uint8Array([0x67])), 1);
    assert.equal(os.write(w, 'é'), 2, 'a string is written as UTF-8');
    const first = os.read(r, 4);
    assert.ok(Buffer.isBuffer(first));
    assert.equal(first.toString(), 'abcd');
    assert.equal(os.read(r, 100).toString(), 'efgé');
    assert.equal(os.read(r, 0).length, 0);
    fds.close(w);
    const eof = os.read(r, 100);
    assert.ok(Buffer.isBuffer(eof));
    assert.equal(eof.length, 0);
  });

  test('writing into a pipe without a reader raises BrokenPipeError (EPIPE)', (t) => {
    const fds = new Fds(t);
    const [r, w] = fds.pipe();
    fds.close(r);
    assert.throws(() => os.write(w, 'x'), (e: unknown) => {
      assert.ok(e instanceof BrokenPipeError);
      assert.ok(e instanceof ConnectionError);
      assert.equal(e.errno, 32);
      assert.equal(e.code, 'EPIPE');
      assert.equal(e.message, '[Errno 32] Broken pipe');
      return true;
    });
  });

  test('bad arguments: TypeError for a non-integer fd or count, EINVAL for a negative count', (t) => {
    const fds = new Fds(t);
    const [r, w] = fds.pipe();
    for (const bad of ['3', 1.5, null, undefined, {}, NaN]) {
      assert.throws(() => os.read(bad as never, 1), TypeError, `fd ${String(bad)}`);
      assert.throws(() => os.write(bad as never, 'x'), TypeError);
      assert.throws(() => os.close(bad as never), TypeError);
    }
    assert.throws(() => os.read(r, '1' as never), TypeError);
    assert.throws(() => os.read(r, -1), isOSError(22, 'EINVAL'));
    assert.throws(() => os.write(w, 42 as never), TypeError);
    assert.throws(() => os.close(2 ** 31), OverflowError);
  });
});

describe('close', () => {
  test('closing a closed fd raises OSError(EBADF) with Python\'s message', (t) => {
    const fds = new Fds(t);
    const [r] = fds.pipe();
    fds.close(r);
    assert.throws(() => os.close(r), (e: unknown) => {
      assert.ok(e instanceof OSError);
      assert.equal(e.constructor, OSError);
      assert.equal(e.errno, 9);
      assert.equal(e.code, 'EBADF');
      assert.equal(e.strerror, 'Bad file descriptor');
      assert.equal(e.message, '[Errno 9] Bad file descriptor');
      return true;
    });
    assert.throws(() => os.close(-1), isOSError(9, 'EBADF'));
    for (const call of [() => os.read(r, 1), () => os.write(r, 'x'), () => os.dup(r), () => os.getBlocking(r),
      () => os.setBlocking(r, false), () => os.getInheritable(r), () => os.setInheritable(r, true)]) {
      assert.throws(call, isOSError(9, 'EBADF'));
    }
  });
});

describe('dup and dup2', () => {
  test('dup gives a new, non-inheritable fd on the same pipe', (t) => {
    const fds = new Fds(t);
    const [r, w] = fds.pipe();
    os.setInheritable(w, true);
    const w2 = fds.add(os.dup(w));
    assert.notEqual(w2, w);
    assert.equal(os.getInheritable(w2), false);
    os.write(w2, 'via dup');
    assert.equal(os.read(r, 100).toString(), 'via dup');
  });

  test('dup2 returns fd2, replaces what fd2 was, and is inheritable unless told otherwise', (t) => {
    const fds = new Fds(t);
    const [r1, w1] = fds.pipe();
    const [r2, w2] = fds.pipe();
    assert.equal(os.dup2(w1, w2), w2);
    assert.equal(os.getInheritable(w2), true);
    os.write(w2, 'to pipe 1');
    assert.equal(os.read(r1, 100).toString(), 'to pipe 1');
    fds.close(w1);
    fds.close(w2);
    assert.equal(os.read(r1, 100).length, 0, 'the last writer of pipe 1 is gone');
    assert.equal(os.read(r2, 100).length, 0, 'dup2 closed the old write end of pipe 2');

    const [, w3] = fds.pipe();
    const high = fds.add(os.dup2(w3, freeFdNumber(2000, 3000), false));
    assert.equal(os.getInheritable(high), false);
    assert.equal(os.dup2(w3, w3), w3, 'dup2 onto itself checks the fd and returns it');
    assert.throws(() => os.dup2(r1, -1), isOSError(9, 'EBADF'));
  });

  test('dup2 of a closed fd raises EBADF', (t) => {
    const fds = new Fds(t);
    const [r, w] = fds.pipe();
    fds.close(r);
    assert.throws(() => os.dup2(r, w), isOSError(9, 'EBADF'));
    assert.throws(() => os.dup2(r, r), isOSError(9, 'EBADF'));
    assert.throws(() => os.dup2(w, 'x' as never), TypeError);
  });
});

describe('blocking and inheritable flags', () => {
  test('setBlocking(false) makes read of an empty pipe raise BlockingIOError (EAGAIN)', (t) => {
    const fds = new Fds(t);
    const [r, w] = fds.pipe();
    os.setBlocking(r, false);
    assert.equal(os.getBlocking(r), false);
    assert.throws(() => os.read(r, 10), (e: unknown) => {
      assert.ok(e instanceof BlockingIOError);
      assert.ok(e instanceof OSError);
      assert.equal(e.errno, 11);
      assert.equal(e.code, 'EAGAIN');
      assert.equal(e.name, 'BlockingIOError');
      assert.equal(e.message, '[Errno 11] Resource temporarily unavailable');
      return true;
    });
    os.write(w, 'now');
    assert.equal(os.read(r, 10).toString(), 'now');
    os.setBlocking(r, false); // already non-blocking: no change
    os.setBlocking(r, true);
    assert.equal(os.getBlocking(r), true);
    assert.equal(os.getBlocking(w), true, 'the flag belongs to the read end only');
  });

  test('setInheritable round-trips, and an inheritable fd really reaches a child', async (t) => {
    const fds = new Fds(t);
    const [r, w] = fds.pipe();
    const target = freeFdNumber(500, 600);
    const high = fds.add(os.dup2(w, target, false));
    assert.equal(os.getInheritable(high), false);
    assert.equal(await childWrites(high), 'EBADF', 'a close-on-exec fd is not inherited');

    os.setInheritable(high, true);
    assert.equal(os.getInheritable(high), true);
    assert.equal(await childWrites(high), '');
    assert.equal(os.read(r, 10).toString(), 'hi');

    os.setInheritable(high, false);
    assert.equal(os.getInheritable(high), false);
  });
});
