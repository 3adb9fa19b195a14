/**
 * select.poll over real pipes and processes, after the ideas of CPython's Lib/test/test_poll.py and the
 * poll part of _test_eintr.py.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Poll, poll, POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI, POLLWRNORM } from 'iomux/select';
import { FileNotFoundError, KeyError, OSError, OverflowError, ValueError } from 'iomux/errors';
import * as os from 'iomux/os';
import { childWritingTo, underSignalStorm } from './support/children.js';
import { closeQuietly, expectNoFdLeaks, Fds, makeBadFd } from './support/fds.js';
import { loose, timed } from './support/timing.js';

function randomItem<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)]!;
}

expectNoFdLeaks();

describe('poll() with pipes', () => {
  test('twelve pipes written and read in random order (test_poll1)', () => {
    const MSG = Buffer.from(' This is a test.');
    const p = poll();
    const readers: number[] = [];
    const writers: number[] = [];
    const writerToReader = new Map<number, number>();
    const open = new Set<number>();
    try {
      for (let i = 0; i < 12; i++) {
        const [rd, wr] = os.pipe();
        open.add(rd).add(wr);
        p.register(rd);
        p.modify(rd, POLLIN);
        p.register(wr, POLLOUT);
        readers.push(rd);
        writers.push(wr);
        writerToReader.set(wr, rd);
      }
      const bufs: Buffer[] = [];
      while (writers.length > 0) {
        const ready = p.poll().filter(([fd, ev]) => writers.includes(fd) && ev & POLLOUT).map(([fd]) => fd);
        assert.ok(ready.length > 0, 'no pipe ready to be written to');
        const wr = randomItem(ready);
        assert.equal(os.write(wr, MSG), MSG.length);

        const readable = p.poll().filter(([fd, ev]) => readers.includes(fd) && ev & POLLIN).map(([fd]) => fd);
        assert.deepEqual(readable, [writerToReader.get(wr)]);
        const rd = readable[0]!;
        const buf = os.read(rd, MSG.length);
        assert.equal(buf.length, MSG.length);
        bufs.push(buf);
        // Unregistering needs no open fd: close first, as CPython's test does.
        os.close(rd);
        os.close(wr);
        open.delete(rd);
        open.delete(wr);
        p.unregister(rd);
        p.unregister(wr);
        readers.splice(readers.indexOf(rd), 1);
        writers.splice(writers.indexOf(wr), 1);
      }
      assert.deepEqual(bufs, new Array(12).fill(MSG));
      assert.deepEqual(p.poll(0), []);
    } finally {
      closeQuietly(...open);
    }
  });

  test('a closed or never-opened fd reports POLLNVAL whatever its mask', (t) => {
    const bad = makeBadFd(3000, 4000);
    const p = poll();
    p.register(bad);
    assert.deepEqual(p.poll(), [[bad, POLLNVAL]]);
    p.modify(bad, 0);
    assert.deepEqual(p.poll(0), [[bad, POLLNVAL]]);

    // An object registered while open reports POLLNVAL once its fd is closed.
    const fds = new Fds(t);
    const [r, w] = fds.pipe();
    const file = { fileno: (): number => w };
    const q = new Poll();
    q.register(file);
    assert.deepEqual(q.poll(0), [[w, POLLOUT]]);
    fds.close(w);
    assert.deepEqual(q.poll(0), [[w, POLLNVAL]]);
    q.unregister(file);
  });

  test('the kernel reports POLLHUP and POLLERR even with an empty mask', (t) => {
    const fds = new Fds(t);
    const [r, w] = fds.pipe();
    const [r2, w2] = fds.pipe();
    const p = poll();
    p.register(r, 0);
    p.register(w2, POLLOUT);
    assert.deepEqual(p.poll(0), [[w2, POLLOUT]]);
    fds.close(w);
    fds.close(r2);
    assert.deepEqual(p.poll(0), [[r, POLLHUP], [w2, POLLOUT | POLLERR]]);
  });

  test('a mask of 65535 on a write end reports POLLOUT|POLLWRNORM', (t) => {
    const fds = new Fds(t);
    const [, w] = fds.pipe();
    const p = poll();
    p.register(w, 0xffff);
    assert.deepEqual(p.poll(0), [[w, POLLOUT | POLLWRNORM]]);
  });
});

describe('poll registration', () => {
  test('the default mask is POLLIN|POLLPRI|POLLOUT', (t) => {
    const fds = new Fds(t);
    const [r, w] = fds.pipe();
    assert.equal(POLLIN | POLLPRI | POLLOUT, 7);
    const p = poll();
    p.register(r);
    p.register(w);
    assert.deepEqual(p.poll(0), [[w, POLLOUT]]);
    os.write(w, 'x');
    assert.deepEqual(p.poll(0), [[r, POLLIN], [w, POLLOUT]]);
  });

  test('registering twice replaces the mask and keeps the place; unregister + register moves it last', (t) => {
    const fds = new Fds(t);
    const [, w1] = fds.pipe();
    const [, w2] = fds.pipe();
    const p = poll();
    p.register(w1, POLLIN);
    p.register(w2, POLLOUT);
    assert.deepEqual(p.poll(0), [[w2, POLLOUT]]);
    p.register(w1, POLLOUT);
    assert.deepEqual(p.poll(0), [[w1, POLLOUT], [w2, POLLOUT]]);
    p.modify(w1, POLLIN);
    assert.deepEqual(p.poll(0), [[w2, POLLOUT]]);
    p.modify(w1, POLLOUT);
    assert.deepEqual(p.poll(0), [[w1, POLLOUT], [w2, POLLOUT]]);
    p.unregister(w1);
    p.register(w1, POLLOUT);
    assert.deepEqual(p.poll(0), [[w2, POLLOUT], [w1, POLLOUT]]);
  });

  test('unregister of an unknown fd raises KeyError carrying the fd', () => {
    const p = poll();
    assert.throws(() => p.unregister(999), (e: unknown) => {
      assert.ok(e instanceof KeyError);
      assert.equal(e.key, 999);
      assert.equal(e.message, '999');
      assert.equal(e.name, 'KeyError');
      return true;
    });
    p.register(999);
    p.unregister(999);
    assert.throws(() => p.unregister({ fileno: () => 999 }), (e: unknown) => e instanceof KeyError && e.key === 999);
  });

  test('modify of an unknown fd raises FileNotFoundError (ENOENT)', () => {
    const p = poll();
    assert.throws(() => p.modify(5, POLLIN), (e: unknown) => {
      assert.ok(e instanceof FileNotFoundError);
      assert.ok(e instanceof OSError);
      assert.equal(e.errno, 2);
      assert.equal(e.code, 'ENOENT');
      assert.equal(e.message, '[Errno 2] No such file or directory');
      return true;
    });
  });

  test('mask validation: negative → ValueError, above 65535 → OverflowError, non-integer → TypeError', () => {
    const p = poll();
    p.register(1);
    assert.throws(() => p.register(0, -1), ValueError);
    assert.throws(() => p.register(0, 0x10000), OverflowError);
    assert.throws(() => p.register(0, 2 ** 64), OverflowError);
    assert.throws(() => p.register(0, 1.5), TypeError);
    assert.throws(() => p.register(0, '1' as never), TypeError);
    assert.throws(() => p.modify(1, -1), ValueError);
    assert.throws(() => p.modify(1, 2 ** 64), OverflowError);
    assert.throws(() => p.modify(1, null as never), TypeError);
    // A failed register leaves nothing behind.
    assert.throws(() => p.unregister(0), KeyError);
    p.register(0, 0xffff);
    p.register(0, 0);
  });

  test('fd validation: no fileno → TypeError, fileno() returning a string → TypeError, -1 → ValueError', () => {
    const p = poll();
    assert.throws(() => p.register(p as never), TypeError);
    assert.throws(() => p.unregister(p as never), TypeError);
    assert.throws(() => p.register({} as never, 0), TypeError);
    assert.throws(() => p.register({ fileno: () => 'fileno' } as never, 0), TypeError);
    assert.throws(() => p.register(-1), { name: 'ValueError', message: /negative integer \(-1\)/ });
    assert.throws(() => p.modify(-1, 0), ValueError);
    // Registration makes no syscall: an fd that was never opened is accepted.
    p.register(5000);
    p.unregister(5000);
  });

  test('timeout validation', () => {
    const p = poll();
    assert.throws(() => p.poll('1' as never), { name: 'TypeError', message: /timeout/ });
    assert.throws(() => p.poll(NaN), ValueError);
    assert.throws(() => p.poll(2 ** 31), { name: 'OverflowError', message: 'timeout is too large' });
    assert.throws(() => p.poll(2 ** 64), OverflowError);
    assert.throws(() => p.poll(Infinity), OverflowError);
  });
});

describe('poll() waiting', () => {
  test('poll(100) on an idle pipe returns [] after at least 80 ms and under 2 s', (t) => {
    const fds = new Fds(t);
    const [r] = fds.pipe();
    const p = poll();
    p.register(r, POLLIN);
    const [result, dt] = timed(() => p.poll(100));
    assert.deepEqual(result, []);
    assert.ok(dt >= 0.08 && dt < 2, `took ${dt} s`);
    const [, quick] = timed(() => {
      p.poll(0);
      p.poll(0.0001); // rounds up to 1 ms
    });
    assert.ok(quick < 0.5, `took ${quick} s`);
  });

  test('with nothing registered, poll(100) sleeps for the timeout', () => {
    const [result, dt] = timed(() => poll().poll(100));
    assert.deepEqual(result, []);
    assert.ok(dt >= 0.08 && dt < 2, `took ${dt} s`);
  });

  test('null, undefined and every negative timeout block until data arrives', async (t) => {
    const fds = new Fds(t);
    for (const timeout of [undefined, null, -1000, -1, -1.0, -0.1, -1e-100]) {
      const [r, w] = fds.pipe();
      const p = poll();
      p.register(r, POLLIN);
      // The child writes 0.3 s after it starts, so a blocking poll waits at least that long.
      const { exited } = childWritingTo(w, "setTimeout(() => require('fs').writeSync(1, 'spam'), 300)");
      fds.close(w); // if the child dies without writing, the wait ends with a hang-up instead of hanging
      const [result, dt] = timed(() => p.poll(timeout));
      // The child may have exited by the time this thread runs again, adding POLLHUP.
      assert.equal(result.length, 1, `timeout ${timeout}`);
      assert.equal(result[0]![0], r);
      assert.ok(result[0]![1] & POLLIN, `timeout ${timeout}: events ${result[0]![1]}`);
      assert.ok(dt >= 0.25 && dt < loose(10), `timeout ${timeout}: took ${dt} s`);
      assert.equal(os.read(r, 10).toString(), 'spam');
      await exited;
      fds.close(r);
    }
  });

  test('EINTR is retried with the remaining time (PEP 475)', async (t) => {
    const fds = new Fds(t);
    const [r] = fds.pipe();
    const p = poll();
    p.register(r, POLLIN);
    const { result, seconds: dt } = await underSignalStorm(() => p.poll(1500));
    assert.deepEqual(result, []);
    assert.ok(dt >= 1.0 && dt < 3, `took ${dt} s`);
  });
});

describe('poll() beyond FD_SETSIZE', () => {
  test('1100 pipes (2200 fds) are polled, including fds above 1024', () => {
    const pipes: Array<[number, number]> = [];
    const p = poll();
    try {
      for (let i = 0; i < 1100; i++) {
        const pair = os.pipe();
        pipes.push(pair);
        p.register(pair[0], POLLIN);
        p.register(pair[1], POLLOUT);
      }
      assert.ok(pipes[pipes.length - 1]![1] > 2000);
      const idle = p.poll(0);
      assert.equal(idle.length, 1100);
      assert.deepEqual(idle, pipes.map(([, w]) => [w, POLLOUT]));

      const chosen = [pipes[0]!, pipes[600]!, pipes[1099]!];
      for (const [, w] of chosen) os.write(w, 'x');
      const readable = p.poll(0).filter(([, ev]) => ev & POLLIN);
      assert.deepEqual(readable, chosen.map(([r]) => [r, POLLIN]));
    } finally {
      for (const [r, w] of pipes) closeQuietly(r, w);
    }
  });
});

/** The `[fd, revents]` pairs of the last `wait()`, read through readyFd/readyEvents. */
function readyPairs(p: Poll, count: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < count; i++) out.push([p.readyFd(i), p.readyEvents(i)]);
  return out;
}

describe('wait() with readyFd()/readyEvents()', () => {
  test('agrees with poll() on the same state: data, hang-up, error, a closed fd, nothing ready', (t) => {
    const fds = new Fds(t);
    const [idle] = fds.pipe();
    const [r, w] = fds.pipe();
    const [hungUp, hungUpWriter] = fds.pipe();
    const [brokenReader, broken] = fds.pipe();
    const [, gone] = fds.pipe();
    const p = poll();
    p.register(idle, POLLIN);
    p.register(r, POLLIN);
    p.register(w, POLLOUT);
    p.register(hungUp, POLLIN);
    p.register(broken, POLLOUT);
    p.register(gone, POLLOUT);
    os.write(w, 'x');
    fds.close(hungUpWriter);
    fds.close(brokenReader);
    fds.close(gone);
    const expected: Array<[number, number]> = [
      [r, POLLIN],
      [w, POLLOUT],
      [hungUp, POLLHUP],
      [broken, POLLOUT | POLLERR],
      [gone, POLLNVAL],
    ];
    const count = p.wait(0);
    assert.equal(count, expected.length);
    assert.deepEqual(readyPairs(p, count), expected);
    assert.deepEqual(p.poll(0), expected);
    // poll() is built on wait(), so it leaves the same entries behind to read.
    assert.deepEqual(readyPairs(p, expected.length), expected);

    p.unregister(r);
    p.unregister(w);
    p.unregister(hungUp);
    p.unregister(broken);
    p.unregister(gone);
    assert.equal(p.wait(0), 0);
    assert.deepEqual(p.poll(0), []);
  });

  test('an fd registered then unregistered between waits: last results stay readable until the next wait', (t) => {
    const fds = new Fds(t);
    const [, w1] = fds.pipe();
    const [, w2] = fds.pipe();
    const p = poll();
    p.register(w1, POLLOUT);
    assert.equal(p.wait(0), 1);

    p.register(w2, POLLOUT);
    assert.deepEqual(readyPairs(p, 1), [[w1, POLLOUT]], 'a registration takes effect at the next wait');
    assert.throws(() => p.readyFd(1), RangeError);
    assert.equal(p.wait(0), 2);
    assert.deepEqual(readyPairs(p, 2), [[w1, POLLOUT], [w2, POLLOUT]]);

    p.unregister(w1);
    assert.deepEqual(readyPairs(p, 2), [[w1, POLLOUT], [w2, POLLOUT]]);
    assert.equal(p.wait(0), 1);
    assert.deepEqual(readyPairs(p, 1), [[w2, POLLOUT]]);
    assert.deepEqual(p.poll(0), [[w2, POLLOUT]]);

    // Registered, closed while registered (POLLNVAL), then unregistered: gone from the next wait.
    fds.close(w2);
    assert.equal(p.wait(0), 1);
    assert.deepEqual(readyPairs(p, 1), [[w2, POLLNVAL]]);
    assert.deepEqual(p.poll(0), [[w2, POLLNVAL]]);
    p.unregister(w2);
    assert.equal(p.wait(0), 0);
    assert.deepEqual(p.poll(0), []);
  });

  test('ready entries come in registration order among many registrations added between waits', (t) => {
    const fds = new Fds(t);
    const p = poll();
    const pipes: Array<[number, number]> = [];
    for (let i = 0; i < 100; i++) {
      const pair = fds.pipe();
      pipes.push(pair);
      p.register(pair[0], POLLIN);
      if (i % 3 === 0) os.write(pair[1], 'x');
      // A wait after each registration grows the buffers one step at a time.
      const count = p.wait(0);
      assert.deepEqual(readyPairs(p, count), p.poll(0));
    }
    const expected = pipes.filter((_, i) => i % 3 === 0).map(([r]): [number, number] => [r, POLLIN]);
    assert.equal(p.wait(0), expected.length);
    assert.deepEqual(readyPairs(p, expected.length), expected);
  });

  test('an index outside [0, count) raises RangeError naming the index and the count', (t) => {
    const fds = new Fds(t);
    const [r, w] = fds.pipe();
    const p = poll();
    assert.throws(() => p.readyFd(0), { name: 'RangeError', message: 'event index 0 is out of range (last wait returned 0)' });
    p.register(r, POLLIN);
    p.register(w, POLLOUT);
    assert.equal(p.wait(0), 1);
    assert.equal(p.readyFd(0), w);
    assert.equal(p.readyEvents(0), POLLOUT);
    for (const bad of [1, -1, 0.5, NaN, Infinity]) {
      assert.throws(() => p.readyFd(bad), { name: 'RangeError', message: `event index ${bad} is out of range (last wait returned 1)` });
      assert.throws(() => p.readyEvents(bad), RangeError);
    }
    p.unregister(w);
    assert.equal(p.wait(0), 0);
    assert.throws(() => p.readyFd(0), { name: 'RangeError', message: 'event index 0 is out of range (last wait returned 0)' });
  });

  test('timeout validation is the same as poll()', () => {
    const p = poll();
    assert.throws(() => p.wait('1' as never), { name: 'TypeError', message: /timeout/ });
    assert.throws(() => p.wait(NaN), ValueError);
    assert.throws(() => p.wait(2 ** 31), { name: 'OverflowError', message: 'timeout is too large' });
  });

  test('wait(100) on an idle pipe returns 0 after at least 80 ms and under 2 s', (t) => {
    const fds = new Fds(t);
    const [r] = fds.pipe();
    const p = poll();
    p.register(r, POLLIN);
    const [count, dt] = timed(() => p.wait(100));
    assert.equal(count, 0);
    assert.ok(dt >= 0.08 && dt < 2, `took ${dt} s`);
  });

  test('EINTR is retried with the remaining time (PEP 475)', async (t) => {
    const fds = new Fds(t);
    const [r] = fds.pipe();
    const p = poll();
    p.register(r, POLLIN);
    const { result, seconds: dt } = await underSignalStorm(() => p.wait(1500));
    assert.equal(result, 0);
    assert.ok(dt >= 1.0 && dt < 3, `took ${dt} s`);
    assert.throws(() => p.readyFd(0), RangeError);
  });
});
