/**
 * select.select() over real pipes and processes, after the ideas of CPython's Lib/test/test_select.py and
 * the select part of _test_eintr.py.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FD_SETSIZE, select } from 'iomux/select';
import { OSError, OverflowError, ValueError } from 'iomux/errors';
import * as os from 'iomux/os';
import { childWritingTo, underSignalStorm } from './support/children.js';
import { expectNoFdLeaks, fdCount, Fds, freeFdNumber, makeBadFd } from './support/fds.js';
import { timed } from './support/timing.js';

/** The fds opened by `fn` are all closed again when it returns or throws. */
function noLeak<T>(fn: () => T): T {
  const before = fdCount();
  try {
    return fn();
  } finally {
    assert.equal(fdCount(), before, 'fd count changed');
  }
}

class Wrapped {
  constructor(readonly fd: number) {}
  fileno(): number {
    return this.fd;
  }
}

expectNoFdLeaks();

describe('select() argument errors', () => {
  test('non-iterables, objects without fileno and fileno() returning a string raise TypeError', () => {
    class Nope {}
    class Almost {
      fileno(): string {
        return 'fileno';
      }
    }
    noLeak(() => {
      assert.throws(() => select(1 as never, 2 as never, 3 as never), { name: 'TypeError', message: /sequences/ });
      assert.throws(() => select([], null as never, []), { name: 'TypeError', message: /sequences/ });
      assert.throws(() => select([new Nope()] as never, [], []), { name: 'TypeError', message: /fileno/ });
      assert.throws(() => select([new Almost()] as never, [], []), {
        name: 'TypeError', message: 'fileno() returned a non-integer',
      });
      // A string is iterable; its characters are not file descriptors.
      assert.throws(() => select('ab' as never, [], [], 0), { name: 'TypeError', message: /fileno/ });
      assert.throws(() => select([1.5], [], [], 0), { name: 'TypeError' });
    });
  });

  test('a non-number timeout is a TypeError, a negative one a ValueError', () => {
    assert.throws(() => select([], [], [], 'not a number' as never), { name: 'TypeError', message: /timeout/ });
    assert.throws(() => select([], [], [], -1), (e: unknown) => {
      assert.ok(e instanceof ValueError);
      assert.equal(e.message, 'timeout must be non-negative');
      return true;
    });
    assert.throws(() => select([], [], [], -1e-300), ValueError);
    assert.throws(() => select([], [], [], NaN), { name: 'ValueError', message: /NaN/ });
    assert.throws(() => select([], [], [], Infinity), OverflowError);
  });

  test('the timeout is checked before the lists, and the lists in order', () => {
    class Nope {}
    assert.throws(() => select([new Nope()] as never, [], [], -1), ValueError);
    assert.throws(() => select([-1], [new Nope()] as never, [], 0), ValueError);
    assert.throws(() => select([new Nope()] as never, [-1], [], 0), TypeError);
  });

  test('a negative fd is a ValueError naming it; exceptions from fileno() propagate unchanged', () => {
    assert.throws(() => select([new Wrapped(-5)], [], [], 0), {
      name: 'ValueError', message: 'file descriptor cannot be a negative integer (-5)',
    });
    class Boom extends Error {}
    const raising = { fileno(): number { throw new Boom('no fd'); } };
    assert.throws(() => select([], [raising], [], 0), Boom);
  });

  test('a closed fd raises OSError(EBADF) in any of the three lists', () => {
    const bad = makeBadFd(900, 1000);
    noLeak(() => {
      for (const lists of [[[bad], [], []], [[], [bad], []], [[], [], [bad]]] as const) {
        assert.throws(() => select(lists[0], lists[1], lists[2], 0), (e: unknown) => {
          assert.ok(e instanceof OSError);
          assert.equal(e.constructor, OSError);
          assert.equal(e.errno, 9);
          assert.equal(e.code, 'EBADF');
          assert.equal(e.message, '[Errno 9] Bad file descriptor');
          return true;
        });
      }
    });
  });
});

describe('select() FD_SETSIZE', () => {
  test('an fd at or above 1024 is refused with ValueError, one just below works', (t) => {
    const fds = new Fds(t);
    const [, w] = fds.pipe();
    assert.equal(FD_SETSIZE, 1024);
    const high = fds.add(os.dup2(w, freeFdNumber(1100, 1200)));
    const top = fds.add(os.dup2(w, FD_SETSIZE - 1));
    const refused = { name: 'ValueError', message: 'filedescriptor out of range in select()' };
    assert.throws(() => select([high], [], [], 0), refused);
    assert.throws(() => select([], [new Wrapped(high)], [], 0), refused);
    assert.throws(() => select([], [], [FD_SETSIZE], 0), refused);
    assert.deepEqual(select([], [top], [], 0), [[], [top], []]);
  });

  test('a list may hold 1024 entries (duplicates count) but not 1025', (t) => {
    const fds = new Fds(t);
    const [, w] = fds.pipe();
    const full = new Array<number>(FD_SETSIZE).fill(w);
    const [, ready] = select([], full, [], 0);
    assert.equal(ready.length, FD_SETSIZE);
    assert.throws(() => select([], [...full, w], [], 0), {
      name: 'ValueError', message: 'too many file descriptors in select()',
    });
  });
});

describe('select() results', () => {
  test('three distinct new arrays, empty or not', (t) => {
    const fds = new Fds(t);
    const [r, w] = fds.pipe();
    for (const [rl, wl] of [[[], []], [[r], [w]]]) {
      const [a, b, c] = select(rl!, wl!, [], 0.01);
      assert.ok(a !== b && b !== c && a !== c);
      assert.ok(a !== rl && b !== wl);
    }
  });

  test('the caller\'s own objects come back, in input order, duplicates repeated', (t) => {
    const fds = new Fds(t);
    const [r1, w1] = fds.pipe();
    const [r2, w2] = fds.pipe();
    const a = new Wrapped(w1);
    const b = new Wrapped(w2);
    const [rr, ww, xx] = select([], [a, b, a, w1, b], [], 0);
    assert.deepEqual(rr, []);
    assert.equal(ww.length, 5);
    assert.ok(ww[0] === a && ww[1] === b && ww[2] === a && ww[4] === b);
    assert.equal(ww[3], w1);
    assert.deepEqual(xx, []);

    // Only the ready ones, order kept: r2 has data, r1 has none.
    os.write(w2, 'x');
    const ra = new Wrapped(r1);
    const rb = new Wrapped(r2);
    const [readable] = select([ra, rb, r2, rb], [], [], 0);
    assert.equal(readable.length, 3);
    assert.ok(readable[0] === rb && readable[2] === rb);
    assert.equal(readable[1], r2);
  });

  test('any iterable is accepted: Set, generator, Map keys', (t) => {
    const fds = new Fds(t);
    const [r, w] = fds.pipe();
    os.write(w, 'x');
    function* gen(): Generator<number> {
      yield r;
      yield w;
    }
    assert.deepEqual(select(new Set([r]), new Set([w]), new Set<number>(), 0), [[r], [w], []]);
    assert.deepEqual(select(gen(), gen(), [], 0), [[r], [w], []]);
    assert.deepEqual(select(new Map([[r, 'data']]).keys(), [], [], 0), [[r], [], []]);
  });

  test('readable means data or end of file; a pipe\'s write end is writable', (t) => {
    const fds = new Fds(t);
    const [r, w] = fds.pipe();
    assert.deepEqual(select([r], [w], [r, w], 0), [[], [w], []]);
    os.write(w, 'data');
    assert.deepEqual(select([r], [w], [r, w], 0), [[r], [w], []]);
    assert.equal(os.read(r, 100).toString(), 'data');
    fds.close(w);
    assert.deepEqual(select([r], [], [r], 0), [[r], [], []]);
    assert.equal(os.read(r, 100).length, 0);
  });

  test('a list shortened by fileno() shortens the scan (CPython issue 16230)', (t) => {
    const fds = new Fds(t);
    const [, w] = fds.pipe();
    const list: Array<{ fileno(): number }> = [];
    const shrinking = { fileno: (): number => { list.pop(); return w; } };
    for (let i = 0; i < 10; i++) list.push(shrinking);
    const [, writable] = select([], list, [], 0);
    assert.equal(writable.length, 5);
    assert.ok(writable.every((o) => o === shrinking));
    assert.equal(list.length, 5);
  });
});

describe('select() waiting', () => {
  test('empty lists sleep for the timeout: 0.3 s takes at least 0.24 s and under 2 s', () => {
    const [, dt] = timed(() => assert.deepEqual(select([], [], [], 0.3), [[], [], []]));
    assert.ok(dt >= 0.24 && dt < 2, `took ${dt} s`);
  });

  test('an idle pipe times out after the timeout; 0 and 1e-9 return at once', (t) => {
    const fds = new Fds(t);
    const [r] = fds.pipe();
    const [, dt] = timed(() => assert.deepEqual(select([r], [], [r], 0.2), [[], [], []]));
    assert.ok(dt >= 0.16 && dt < 2, `took ${dt} s`);
    const [, quick] = timed(() => {
      select([r], [], [], 0);
      select([r], [], [], -0);
      select([r], [], [], 1e-9);
    });
    assert.ok(quick < 0.5, `took ${quick} s`);
  });

  test('a child process writing lines into a pipe is read with select() until EOF', async (t) => {
    const fds = new Fds(t);
    const [r, w] = fds.pipe();
    const script = `
      const fs = require('fs');
      let i = 0;
      const tick = () => {
        fs.writeSync(1, 'testing...\\n');
        if (++i < 10) setTimeout(tick, 50);
      };
      tick();`;
    const { exited } = childWritingTo(w, script);
    fds.close(w); // only the child holds the write end now, so its exit means EOF
    let text = '';
    let eof = false;
    const timeouts: Array<number | null> = [0, 1, 2, 4, 8, 16];
    for (let turn = 0; turn < 200 && !eof; turn++) {
      const timeout = turn < timeouts.length ? timeouts[turn]! : null;
      const [rfd, wfd, xfd] = select([r], [], [], timeout);
      assert.deepEqual(wfd, []);
      assert.deepEqual(xfd, []);
      if (rfd.length === 0) continue;
      assert.deepEqual(rfd, [r]);
      const chunk = os.read(r, 1024);
      if (chunk.length === 0) eof = true;
      text += chunk.toString();
    }
    assert.ok(eof, 'no end of file');
    assert.equal(text, 'testing...\n'.repeat(10));
    await exited;
  });

  test('EINTR is retried with the remaining time (PEP 475)', async (t) => {
    // Signals from another process interrupt select(2) when they land on this thread; each retry must
    // wait only for what is left, so the call neither returns early nor waits much longer. The signals go
    // on past the timeout, so a retry that restarted the full timeout would end after 4 s, not 1.5 s.
    const fds = new Fds(t);
    const [r] = fds.pipe();
    const { result, seconds: dt, signals } = await underSignalStorm(() => select([r], [], [], 1.5));
    assert.deepEqual(result, [[], [], []]);
    assert.ok(dt >= 1.0 && dt < 3, `took ${dt} s`);
    t.diagnostic(`${signals} signals handled`);
  });
});
