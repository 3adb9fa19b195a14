/** iomux/errors: Python's exception classes, chosen by errno as Python chooses them. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { constants } from 'node:os';
import * as errors from 'iomux/errors';
import * as root from 'iomux';
import {
  BlockingIOError, BrokenPipeError, ChildProcessError, ConnectionAbortedError, ConnectionError,
  ConnectionRefusedError, ConnectionResetError, FileExistsError, FileNotFoundError, InterruptedError,
  IsADirectoryError, KeyError, NotADirectoryError, OSError, OverflowError, PermissionError, ProcessLookupError,
  raiseErrno, RuntimeError, TimeoutError, ValueError,
} from 'iomux/errors';

const E = constants.errno;

describe('OSError subclasses by errno', () => {
  const table: Array<[number, Function]> = [
    [E.EAGAIN, BlockingIOError],
    [E.EWOULDBLOCK, BlockingIOError],
    [E.EALREADY, BlockingIOError],
    [E.EINPROGRESS, BlockingIOError],
    [E.ECHILD, ChildProcessError],
    [E.EPIPE, BrokenPipeError],
    [108 /* ESHUTDOWN, not in Node's table */, BrokenPipeError],
    [E.ECONNABORTED, ConnectionAbortedError],
    [E.ECONNREFUSED, ConnectionRefusedError],
    [E.ECONNRESET, ConnectionResetError],
    [E.EEXIST, FileExistsError],
    [E.ENOENT, FileNotFoundError],
    [E.EISDIR, IsADirectoryError],
    [E.ENOTDIR, NotADirectoryError],
    [E.EINTR, InterruptedError],
    [E.EACCES, PermissionError],
    [E.EPERM, PermissionError],
    [E.ESRCH, ProcessLookupError],
    [E.ETIMEDOUT, TimeoutError],
    [E.EBADF, OSError],
    [E.EINVAL, OSError],
    [E.EMFILE, OSError],
    [E.ENOSPC, OSError],
    [E.ENOTCONN, OSError],
    [E.EOPNOTSUPP, OSError],
  ];

  test('fromErrno picks exactly the class Python picks', () => {
    for (const [errno, Cls] of table) {
      const e = OSError.fromErrno(errno);
      assert.equal(e.constructor, Cls, `errno ${errno} gave ${e.constructor.name}, expected ${Cls.name}`);
      assert.ok(e instanceof OSError);
      assert.ok(e instanceof Error);
      assert.equal(e.errno, errno);
    }
  });

  test('the class tree: connection errors are ConnectionErrors, all are OSErrors', () => {
    for (const Cls of [BrokenPipeError, ConnectionAbortedError, ConnectionRefusedError, ConnectionResetError]) {
      const e = new Cls(E.EPIPE);
      assert.ok(e instanceof ConnectionError, Cls.name);
      assert.ok(e instanceof OSError);
    }
    for (const Cls of [BlockingIOError, FileExistsError, FileNotFoundError, InterruptedError, PermissionError,
      TimeoutError, ChildProcessError, ProcessLookupError, IsADirectoryError, NotADirectoryError]) {
      assert.ok(new Cls(1) instanceof OSError, Cls.name);
      assert.ok(!(new Cls(1) instanceof ConnectionError), Cls.name);
    }
    for (const Cls of [ValueError, KeyError, RuntimeError, OverflowError]) {
      const e = new Cls('x');
      assert.ok(e instanceof Error);
      assert.ok(!(e instanceof OSError), Cls.name);
    }
  });

  test('an unknown errno gives a plain OSError with the C library\'s text', () => {
    const e = OSError.fromErrno(9999);
    assert.equal(e.constructor, OSError);
    assert.equal(e.errno, 9999);
    assert.equal(e.code, undefined);
    assert.equal(e.message, '[Errno 9999] Unknown error 9999');
  });
});

describe('OSError fields and messages', () => {
  test('"[Errno 9] Bad file descriptor" with errno, strerror and code', () => {
    const e = OSError.fromErrno(E.EBADF);
    assert.equal(e.message, '[Errno 9] Bad file descriptor');
    assert.equal(e.errno, 9);
    assert.equal(e.strerror, 'Bad file descriptor');
    assert.equal(e.code, 'EBADF');
    assert.equal(e.filename, undefined);
    assert.equal(String(e), 'OSError: [Errno 9] Bad file descriptor');
    assert.ok(e.stack!.startsWith('OSError: [Errno 9] Bad file descriptor'));
  });

  test('EAGAIN and EWOULDBLOCK share the code EAGAIN; the texts are glibc\'s', () => {
    assert.equal(OSError.fromErrno(E.EWOULDBLOCK).code, 'EAGAIN');
    const cases: Array<[number, string, string]> = [
      [E.EPERM, 'EPERM', 'Operation not permitted'],
      [E.ENOENT, 'ENOENT', 'No such file or directory'],
      [E.EINTR, 'EINTR', 'Interrupted system call'],
      [E.EAGAIN, 'EAGAIN', 'Resource temporarily unavailable'],
      [E.EEXIST, 'EEXIST', 'File exists'],
      [E.EINVAL, 'EINVAL', 'Invalid argument'],
      [E.EPIPE, 'EPIPE', 'Broken pipe'],
      [E.ECONNRESET, 'ECONNRESET', 'Connection reset by peer'],
      [E.ENOTCONN, 'ENOTCONN', 'Transport endpoint is not connected'],
      [E.ECONNREFUSED, 'ECONNREFUSED', 'Connection refused'],
      [E.EINPROGRESS, 'EINPROGRESS', 'Operation now in progress'],
    ];
    for (const [errno, code, text] of cases) {
      const e = OSError.fromErrno(errno);
      assert.equal(e.code, code);
      assert.equal(e.strerror, text);
      assert.equal(e.message, `[Errno ${errno}] ${text}`);
    }
  });

  test('error.name is the class name, for every class', () => {
    const named: Array<[Error, string]> = [
      [new OSError(1), 'OSError'],
      [OSError.fromErrno(E.EAGAIN), 'BlockingIOError'],
      [OSError.fromErrno(E.EPIPE), 'BrokenPipeError'],
      [new ConnectionError(E.EPIPE), 'ConnectionError'],
      [OSError.fromErrno(E.ECONNRESET), 'ConnectionResetError'],
      [OSError.fromErrno(E.ECONNREFUSED), 'ConnectionRefusedError'],
      [OSError.fromErrno(E.ECONNABORTED), 'ConnectionAbortedError'],
      [OSError.fromErrno(E.EEXIST), 'FileExistsError'],
      [OSError.fromErrno(E.ENOENT), 'FileNotFoundError'],
      [OSError.fromErrno(E.EINTR), 'InterruptedError'],
      [OSError.fromErrno(E.EPERM), 'PermissionError'],
      [new TimeoutError(), 'TimeoutError'],
      [new ValueError('v'), 'ValueError'],
      [new KeyError(1), 'KeyError'],
      [new RuntimeError('r'), 'RuntimeError'],
      [new OverflowError('o'), 'OverflowError'],
    ];
    for (const [e, name] of named) {
      assert.equal(e.name, name);
      assert.ok(String(e).startsWith(`${name}: `), String(e));
    }
  });

  test('a filename is appended as Python does', () => {
    const e = OSError.fromErrno(E.ENOENT, '/no/such');
    assert.ok(e instanceof FileNotFoundError);
    assert.equal(e.filename, '/no/such');
    assert.equal(e.message, "[Errno 2] No such file or directory: '/no/such'");
  });

  test('an OSError without errno ("invalid flags")', () => {
    const e = new OSError(null, 'invalid flags');
    assert.equal(e.errno, null);
    assert.equal(e.code, undefined);
    assert.equal(e.message, 'invalid flags');
    assert.equal(e.name, 'OSError');
  });

  test('TimeoutError() means "timed out"; from ETIMEDOUT it carries the errno', () => {
    const t = new TimeoutError();
    assert.equal(t.message, 'timed out');
    assert.equal(t.errno, null);
    assert.ok(t instanceof OSError);
    const k = OSError.fromErrno(E.ETIMEDOUT);
    assert.ok(k instanceof TimeoutError);
    assert.equal(k.message, `[Errno ${E.ETIMEDOUT}] Connection timed out`);
  });

  test('raiseErrno throws the subclass for a -errno result', () => {
    assert.throws(() => raiseErrno(-E.EAGAIN), (e: unknown) => e instanceof BlockingIOError && e.errno === E.EAGAIN);
    assert.throws(() => raiseErrno(-E.EBADF, 'x'), { message: "[Errno 9] Bad file descriptor: 'x'" });
  });
});

describe('KeyError, ValueError and the package root', () => {
  test('KeyError keeps the missing key; its message is the key\'s text', () => {
    const e = new KeyError(999);
    assert.equal(e.key, 999);
    assert.equal(e.message, '999');
    const custom = new KeyError('fd 3', "'fd 3' is not registered");
    assert.equal(custom.key, 'fd 3');
    assert.equal(custom.message, "'fd 3' is not registered");
  });

  test('ValueError, RuntimeError and OverflowError keep their messages', () => {
    assert.equal(new ValueError('timeout must be non-negative').message, 'timeout must be non-negative');
    assert.equal(new RuntimeError('Selector is closed').message, 'Selector is closed');
    assert.equal(new OverflowError('timeout is too large').message, 'timeout is too large');
  });

  test('the root module re-exports the same classes', () => {
    for (const name of ['OSError', 'BlockingIOError', 'BrokenPipeError', 'ConnectionError', 'FileExistsError',
      'FileNotFoundError', 'PermissionError', 'TimeoutError', 'ValueError', 'KeyError', 'RuntimeError'] as const) {
      assert.equal((root as Record<string, unknown>)[name], errors[name], name);
    }
  });
});
