/**
 * select.epoll over real pipes and processes, after the ideas of CPython's Lib/test/test_epoll.py and the
 * epoll part of _test_eintr.py. Where CPython uses a connected TCP pair (each end readable and writable), a
 * pipe reopened read-write through /proc/self/fd stands in: it is readable while the pipe holds data and
 * writable while it has room, so it reports IN|OUT edges as a socket does.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  Epoll, epoll, EPOLL_CLOEXEC, EPOLLERR, EPOLLET, EPOLLEXCLUSIVE, EPOLLHUP, EPOLLIN, EPOLLONESHOT, EPOLLOUT,
  EPOLLPRI,
} from 'iomux/select';
import { FileExistsError, FileNotFoundError, OSError, OverflowError, PermissionError, ValueError } from 'iomux/errors';
import * as os from 'iomux/os';
import { isOSError } from './support/assertions.js';
import { childWritingTo, underSignalStorm } from './support/children.js';
import { expectNoFdLeaks, fdCount, Fds, freeFdNumber } from './support/fds.js';
import { loose, timed } from './support/timing.js';

const CLOSED = { name: 'ValueError', message: 'I/O operation on closed epoll object' };

/** Fds plus the epoll objects a test makes, closed first when it ends. */
class EpollFds extends Fds {
  epoll(...args: ConstructorParameters<typeof Epoll>): Epoll {
    return this.own(new Epoll(...args));
  }
}

const sorted = (events: Array<[number, number]>): Array<[number, number]> => [...events].sort((a, b) => a[0] - b[0]);

expectNoFdLeaks();

describe('epoll object lifecycle', () => {
  test('create, fileno, close, closed; every flavour of construction', () => {
    const ep = epoll(16);
    assert.ok(ep instanceof Epoll);
    assert.ok(ep.fileno() > 0);
    assert.equal(ep.closed, false);
    ep.close();
    assert.equal(ep.closed, true);
    assert.throws(() => ep.fileno(), CLOSED);

    for (const made of [epoll(-1, EPOLL_CLOEXEC), epoll(undefined, EPOLL_CLOEXEC), epoll(undefined, 0), new Epoll()]) {
      assert.ok(made.fileno() > 0);
      made.close();
    }
  });

  test('close() is idempotent, and afterwards every call raises the closed-object ValueError', (t) => {
    const fds = new EpollFds(t);
    const [r] = fds.pipe();
    const ep = epoll();
    assert.equal(typeof ep.fileno(), 'number');
    ep.close();
    ep.close();
    assert.equal(ep.closed, true);
    assert.throws(() => ep.fileno(), CLOSED);
    assert.throws(() => ep.register(r, EPOLLIN), CLOSED);
    assert.throws(() => ep.modify(r, EPOLLIN), CLOSED);
    assert.throws(() => ep.unregister(r), CLOSED);
    assert.throws(() => ep.poll(1.0), CLOSED);
    assert.throws(() => ep.wait(0), CLOSED);
    // Argument conversion still comes first, as in CPython.
    assert.throws(() => ep.register({} as never, 1), TypeError);
    assert.throws(() => ep.register(-1, 1), { name: 'ValueError', message: /negative integer/ });
  });

  test('`using` and Symbol.dispose close it, also when the block throws', () => {
    let kept: Epoll | undefined;
    {
      using ep = epoll(16);
      kept = ep;
      assert.ok(ep.fileno() > 0);
      assert.equal(ep.closed, false);
    }
    assert.equal(kept.closed, true);
    assert.throws(() => kept!.fileno(), CLOSED);

    class Inside extends Error {}
    assert.throws(() => {
      using ep = epoll();
      kept = ep;
      throw new Inside();
    }, Inside);
    assert.equal(kept.closed, true);

    const ep = epoll();
    ep[Symbol.dispose]();
    assert.equal(ep.closed, true);
  });

  test('the epoll fd is close-on-exec (non-inheritable)', (t) => {
    const fds = new EpollFds(t);
    for (const ep of [fds.epoll(), fds.epoll(-1, EPOLL_CLOEXEC), fds.epoll(16, 0)]) {
      assert.equal(os.getInheritable(ep.fileno()), false);
    }
  });

  test('bad constructor arguments: TypeError, ValueError("negative sizehint"), OSError("invalid flags")', () => {
    const before = fdCount();
    for (const bad of ['foo', null, [], ['foo'], {}, 1.5]) {
      assert.throws(() => epoll(bad as never), TypeError, `sizehint ${String(bad)}`);
    }
    assert.throws(() => epoll(-1, 'x' as never), TypeError);
    for (const bad of [0, -2, -1000]) {
      assert.throws(() => epoll(bad), { name: 'ValueError', message: 'negative sizehint' });
      assert.throws(() => new Epoll(bad), ValueError);
    }
    assert.throws(() => epoll(2 ** 31), OverflowError);
    assert.throws(() => epoll(-1, 12356), (e: unknown) => {
      assert.ok(e instanceof OSError);
      assert.equal(e.constructor, OSError);
      assert.equal(e.errno, null);
      assert.equal(e.code, undefined);
      assert.equal(e.message, 'invalid flags');
      return true;
    });
    assert.equal(fdCount(), before, 'a failed construction leaked an fd');
  });

  test('fromFd shares the kernel object; once the original closes, the other gets EBADF', (t) => {
    const fds = new EpollFds(t);
    const [, w1] = fds.pipe();
    const [, w2] = fds.pipe();
    let ep2: Epoll;
    {
      using ep = epoll(2);
      ep2 = Epoll.fromFd(ep.fileno());
      assert.equal(ep2.fileno(), ep.fileno());
      ep2.register(w1, EPOLLIN | EPOLLOUT);
      ep2.register(w2, EPOLLIN | EPOLLOUT);
      assert.deepEqual(sorted(ep.poll(1, 4)), sorted([[w1, EPOLLOUT], [w2, EPOLLOUT]]));
      assert.deepEqual(sorted(ep2.poll(0.9, 4)), sorted([[w1, EPOLLOUT], [w2, EPOLLOUT]]));
    }
    assert.throws(() => ep2.poll(1, 4), isOSError(9, 'EBADF'));
    assert.equal(ep2.closed, false);
    // The number is already closed: close() reports EBADF, as Socket.close() does (CPython's epoll.close()
    // means to, but its errno check never fires), and the object is closed all the same.
    assert.throws(() => ep2.close(), isOSError(9, 'EBADF'));
    assert.equal(ep2.closed, true);
    ep2.close();

    const fresh = Epoll.fromFd(-1);
    assert.ok(fresh.fileno() >= 0);
    assert.deepEqual(fresh.poll(0), []);
    fresh.close();
    assert.throws(() => Epoll.fromFd(-5), { name: 'OSError', message: '[Errno 0] Error' });
  });
});

describe('epoll registration', () => {
  test('register by int and by object; default mask; errors by class', (t) => {
    const fds = new EpollFds(t);
    const [r, w] = fds.pipe();
    const ep = fds.epoll(2);
    assert.equal(EPOLLIN | EPOLLPRI | EPOLLOUT, 7);
    ep.register(r, EPOLLIN | EPOLLOUT);
    ep.register({ fileno: () => w });
    assert.deepEqual(ep.poll(0), [[w, EPOLLOUT]]);

    assert.throws(() => ep.register({} as never, EPOLLIN), TypeError);
    assert.throws(() => ep.register(null as never, EPOLLIN), TypeError);
    assert.throws(() => ep.register({ fileno: () => 'x' } as never, EPOLLIN), TypeError);
    assert.throws(() => ep.register(-1, EPOLLIN), ValueError);
    assert.throws(() => ep.register(freeFdNumber(10000, 11000), EPOLLIN), isOSError(9, 'EBADF'));
    assert.throws(() => ep.register(r), (e: unknown) => {
      assert.ok(e instanceof FileExistsError);
      assert.equal(e.errno, 17);
      assert.equal(e.message, '[Errno 17] File exists');
      return true;
    });
    assert.throws(() => ep.register({ fileno: () => r }), FileExistsError);
    assert.throws(() => ep.register(ep.fileno(), EPOLLIN), isOSError(22, 'EINVAL'));
  });

  test('a regular file is refused with PermissionError (EPERM)', (t) => {
    const fds = new EpollFds(t);
    const file = fds.add(openSync(fileURLToPath(import.meta.url), 'r'));
    const ep = fds.epoll();
    assert.throws(() => ep.register(file, EPOLLIN), (e: unknown) => {
      assert.ok(e instanceof PermissionError);
      assert.equal(e.errno, 1);
      assert.equal(e.code, 'EPERM');
      return true;
    });
  });

  test('masks are unsigned 32-bit bit sets: they wrap, and invalid bits are EINVAL', (t) => {
    const fds = new EpollFds(t);
    const [, w] = fds.pipe();
    const ep = fds.epoll();
    assert.equal(EPOLLET, 2147483648);
    assert.equal(EPOLLONESHOT, 0x40000000);
    assert.throws(() => ep.register(w, 1.5), TypeError);
    assert.throws(() => ep.register(w, 'x' as never), TypeError);
    assert.throws(() => ep.register(w, -1), isOSError(22, 'EINVAL')); // all ones
    assert.throws(() => ep.register(w, EPOLLEXCLUSIVE | EPOLLONESHOT | EPOLLOUT), isOSError(22));
    ep.register(w, 2 ** 32 + EPOLLOUT);
    assert.deepEqual(ep.poll(0), [[w, EPOLLOUT]]);
  });

  test('modify and unregister of an unregistered fd raise FileNotFoundError', (t) => {
    const fds = new EpollFds(t);
    const [r] = fds.pipe();
    const ep = fds.epoll();
    assert.throws(() => ep.modify(r, EPOLLIN), (e: unknown) => e instanceof FileNotFoundError && e.errno === 2);
    assert.throws(() => ep.unregister(r), FileNotFoundError);
    ep.register(r, EPOLLIN);
    ep.unregister(r);
    assert.throws(() => ep.unregister(r), FileNotFoundError);
  });

  test('a closed fd drops out of the interest set, and unregistering it raises EBADF', (t) => {
    const fds = new EpollFds(t);
    const [, w] = fds.pipe();
    const ep = fds.epoll();
    ep.register(w);
    assert.deepEqual(ep.poll(1, 4), [[w, EPOLLOUT]]);
    fds.close(w);
    assert.deepEqual(ep.poll(0), []);
    assert.throws(() => ep.unregister(w), isOSError(9, 'EBADF'));
  });

  test('another epoll fd can be registered', (t) => {
    const fds = new EpollFds(t);
    const [r, w] = fds.pipe();
    const inner = fds.epoll();
    const outer = fds.epoll();
    inner.register(r, EPOLLIN);
    outer.register(inner, EPOLLIN);
    assert.deepEqual(outer.poll(0), []);
    os.write(w, 'x');
    assert.deepEqual(outer.poll(0), [[inner.fileno(), EPOLLIN]]);
  });

  test('hang-up and error are reported even with an empty mask', (t) => {
    const fds = new EpollFds(t);
    const [r, w] = fds.pipe();
    const [r2, w2] = fds.pipe();
    const ep = fds.epoll();
    ep.register(r, 0);
    ep.register(w2, EPOLLOUT);
    fds.close(w);
    fds.close(r2);
    assert.deepEqual(sorted(ep.poll(0)), sorted([[r, EPOLLHUP], [w2, EPOLLOUT | EPOLLERR]]));
  });
});

describe('epoll trigger modes', () => {
  test('edge-triggered: one event per edge, new data gives a new IN|OUT edge, modify re-arms', (t) => {
    const fds = new EpollFds(t);
    const [client, toClient] = fds.duplex();
    const [server, toServer] = fds.duplex();
    const ep = fds.epoll(16);
    ep.register(server, EPOLLIN | EPOLLOUT | EPOLLET);
    ep.register(client, EPOLLIN | EPOLLOUT | EPOLLET);

    const [first, dt] = timed(() => ep.poll(1, 4));
    assert.ok(dt < 0.5, `took ${dt} s`);
    assert.deepEqual(sorted(first), sorted([[client, EPOLLOUT], [server, EPOLLOUT]]));

    const [second, waited] = timed(() => ep.poll(0.1, 4));
    assert.deepEqual(second, [], 'no new edge, no event');
    assert.ok(waited >= 0.08, `returned after ${waited} s`);

    os.write(toServer, 'Hello!');
    os.write(toClient, 'world!!!');
    const [third, dt3] = timed(() => ep.poll(1, 4));
    assert.ok(dt3 < 0.5, `took ${dt3} s`);
    assert.deepEqual(sorted(third), sorted([[client, EPOLLIN | EPOLLOUT], [server, EPOLLIN | EPOLLOUT]]));
    assert.deepEqual(ep.poll(0, 4), []);

    ep.unregister(client);
    ep.modify(server, EPOLLOUT);
    assert.deepEqual(ep.poll(1, 4), [[server, EPOLLOUT]]);
  });

  test('oneshot: reported once, registering again is FileExistsError, modify re-enables it', (t) => {
    const fds = new EpollFds(t);
    const [r, w] = fds.pipe();
    const ep = fds.epoll();
    ep.register(r, EPOLLIN | EPOLLONESHOT);
    assert.deepEqual(ep.poll(0), []);
    os.write(w, 'x');
    assert.deepEqual(ep.poll(0), [[r, EPOLLIN]]);
    assert.deepEqual(ep.poll(0), [], 'disabled after one event although data is still there');
    assert.throws(() => ep.register(r, EPOLLIN), FileExistsError);
    ep.modify(r, EPOLLIN | EPOLLONESHOT);
    assert.deepEqual(ep.poll(0), [[r, EPOLLIN]]);
    assert.deepEqual(ep.poll(0), []);
  });

  test('level-triggered by default: reported on every wait while ready', (t) => {
    const fds = new EpollFds(t);
    const [r, w] = fds.pipe();
    const ep = fds.epoll();
    ep.register(r, EPOLLIN);
    os.write(w, 'x');
    for (let i = 0; i < 3; i++) assert.deepEqual(ep.poll(0), [[r, EPOLLIN]]);
    os.read(r, 1);
    assert.deepEqual(ep.poll(0), []);
  });
});

describe('epoll maxevents and the allocation-free API', () => {
  test('maxevents smaller than the ready set rotates through all of them (5 ready, maxevents 2)', (t) => {
    const fds = new EpollFds(t);
    const ep = fds.epoll();
    const readers: number[] = [];
    for (let i = 0; i < 5; i++) {
      const [r, w] = fds.pipe();
      ep.register(r, EPOLLIN);
      os.write(w, 'x');
      readers.push(r);
    }
    const call1 = ep.poll(0, 2).map(([fd]) => fd);
    const call2 = ep.poll(0, 2).map(([fd]) => fd);
    const call3 = ep.poll(0, 2).map(([fd]) => fd);
    assert.equal(call1.length, 2);
    assert.equal(call2.length, 2);
    assert.equal(call3.length, 2);
    assert.ok(!call2.some((fd) => call1.includes(fd)), 'the second call starts with fds not yet returned');
    const fifth = readers.find((fd) => !call1.includes(fd) && !call2.includes(fd));
    assert.equal(call3[0], fifth);
    assert.deepEqual(new Set([...call1, ...call2, ...call3]), new Set(readers));
    assert.equal(ep.poll(0, 10).length, 5);
  });

  test('maxevents below 1 (other than -1) is a ValueError showing the value', (t) => {
    const fds = new EpollFds(t);
    const ep = fds.epoll();
    assert.throws(() => ep.poll(0, 0), { name: 'ValueError', message: 'maxevents must be greater than 0, got 0' });
    assert.throws(() => ep.poll(0, -2), { name: 'ValueError', message: 'maxevents must be greater than 0, got -2' });
    assert.throws(() => ep.wait(0, 0), ValueError);
    assert.throws(() => ep.poll(0, 1.5), TypeError);
    assert.deepEqual(ep.poll(0, -1), []);
    assert.deepEqual(ep.poll(0, 100000), []);
  });

  test('wait() returns a count that readyFd(i) and readyEvents(i) read out', (t) => {
    const fds = new EpollFds(t);
    const [r, w] = fds.pipe();
    const [, w2] = fds.pipe();
    const ep = fds.epoll();
    ep.register(r, EPOLLIN);
    ep.register(w, EPOLLOUT | EPOLLET);
    ep.register(w2, EPOLLOUT);
    os.write(w, 'x');
    const n = ep.wait(0);
    assert.equal(n, 3);
    const seen: Array<[number, number]> = [];
    for (let i = 0; i < n; i++) seen.push([ep.readyFd(i), ep.readyEvents(i)]);
    assert.deepEqual(sorted(seen), sorted([[r, EPOLLIN], [w, EPOLLOUT], [w2, EPOLLOUT]]));
    assert.throws(() => ep.readyFd(n), RangeError);
    assert.throws(() => ep.readyEvents(-1), RangeError);
    assert.throws(() => ep.readyFd(NaN), RangeError);
    assert.throws(() => ep.readyFd(0.5), /event index 0.5 is out of range/); // never read between records

    // The buffer belongs to the last wait only.
    ep.unregister(r);
    ep.unregister(w2);
    assert.equal(ep.wait(0), 0, 'the edge-triggered writer has no new edge');
    assert.throws(() => ep.readyFd(0), RangeError);

    // An EPOLLET event mask reads back as an unsigned number.
    ep.modify(w, EPOLLOUT | EPOLLET);
    assert.equal(ep.wait(0, 1), 1);
    assert.equal(ep.readyEvents(0), EPOLLOUT);
    assert.equal(ep.readyFd(0), w);
  });

  test('maxevents bounds every wait, whatever room the buffer already has', (t) => {
    const fds = new EpollFds(t);
    const ep = fds.epoll();
    const readers: number[] = [];
    for (let i = 0; i < 3; i++) {
      const [r, w] = fds.pipe();
      os.write(w, 'x');
      ep.register(r, EPOLLIN);
      readers.push(r);
    }
    assert.equal(ep.wait(0), 3, 'the default (-1) grows the buffer to 1023 records');
    assert.equal(ep.wait(0, 2), 2);
    assert.equal(ep.wait(0, 1), 1);
    assert.throws(() => ep.readyFd(1), /event index 1 is out of range \(last wait returned 1\)/);
    assert.equal(ep.wait(0, 3), 3);
    assert.deepEqual(sorted(Array.from({ length: 3 }, (_, i) => [ep.readyFd(i), ep.readyEvents(i)])), sorted(readers.map((r) => [r, EPOLLIN])));
    // Values a plain count does not cover still go through the full checks, with a buffer that has room.
    assert.throws(() => ep.wait(0, 1.5), TypeError);
    assert.throws(() => ep.wait(0, 0), { name: 'ValueError', message: 'maxevents must be greater than 0, got 0' });
    assert.throws(() => ep.wait(0, '2' as never), TypeError);
    assert.equal(ep.wait(0, 2 ** 20), 3, 'a count above the buffer grows it as far as maxWaitEvents');
  });
});

describe('epoll waiting', () => {
  test('poll(0.1) on idle fds returns [] after at least 80 ms and under 2 s; 0 and -1e-9 do not wait', (t) => {
    const fds = new EpollFds(t);
    const [r] = fds.pipe();
    const ep = fds.epoll();
    ep.register(r, EPOLLIN);
    const [result, dt] = timed(() => ep.poll(0.1));
    assert.deepEqual(result, []);
    assert.ok(dt >= 0.08 && dt < 2, `took ${dt} s`);
    const [, quick] = timed(() => {
      ep.poll(0);
      ep.poll(-1e-9); // rounds up to 0 ms: polls
      ep.poll(0.0001); // rounds up to 1 ms
      ep.wait(0);
    });
    assert.ok(quick < 0.5, `took ${quick} s`);
  });

  test('timeout validation', (t) => {
    const fds = new EpollFds(t);
    const ep = fds.epoll();
    assert.throws(() => ep.poll('1' as never), { name: 'TypeError', message: /timeout/ });
    assert.throws(() => ep.poll(NaN), ValueError);
    assert.throws(() => ep.poll(2 ** 31 / 1000), { name: 'OverflowError', message: 'timeout is too large' });
    assert.throws(() => ep.poll(1e10), OverflowError);
    assert.throws(() => ep.poll(Infinity), OverflowError);
  });

  test('null, undefined and negative timeouts (other than tiny ones) block until data arrives', async (t) => {
    const fds = new EpollFds(t);
    for (const timeout of [undefined, null, -1, -0.5, -1000]) {
      const [r, w] = fds.pipe();
      const ep = fds.epoll();
      ep.register(r, EPOLLIN);
      const { exited } = childWritingTo(w, "setTimeout(() => require('fs').writeSync(1, 'spam'), 300)");
      fds.close(w); // if the child dies without writing, the wait ends with a hang-up instead of hanging
      const [result, dt] = timed(() => ep.poll(timeout));
      // The child may have exited by the time this thread runs again, adding EPOLLHUP.
      assert.equal(result.length, 1, `timeout ${timeout}`);
      assert.equal(result[0]![0], r);
      assert.ok(result[0]![1] & EPOLLIN, `timeout ${timeout}: events ${result[0]![1]}`);
      assert.ok(dt >= 0.25 && dt < loose(10), `timeout ${timeout}: took ${dt} s`);
      await exited;
      ep.close();
      fds.close(r);
    }
  });

  test('EINTR is retried with the remaining time (PEP 475)', async (t) => {
    const fds = new EpollFds(t);
    const [r] = fds.pipe();
    const ep = fds.epoll();
    ep.register(r, EPOLLIN);
    const { result, seconds: dt } = await underSignalStorm(() => ep.poll(1.5));
    assert.deepEqual(result, []);
    assert.ok(dt >= 1.0 && dt < 3, `took ${dt} s`);
  });
});

describe('epoll beyond FD_SETSIZE', () => {
  test('2200 registered fds; the default maxevents caps a wait at 1023', (t) => {
    const fds = new EpollFds(t);
    const ep = fds.epoll();
    const pipes: Array<[number, number]> = [];
    for (let i = 0; i < 1100; i++) {
      const pair = fds.pipe();
      pipes.push(pair);
      ep.register(pair[0], EPOLLIN);
      ep.register(pair[1], EPOLLOUT);
    }
    assert.ok(pipes[pipes.length - 1]![1] > 2000);
    assert.equal(ep.poll(0).length, 1023);
    const all = ep.poll(0, 5000);
    assert.deepEqual(sorted(all), sorted(pipes.map(([, w]) => [w, EPOLLOUT])));

    const chosen = [pipes[0]!, pipes[600]!, pipes[1099]!];
    for (const [, w] of chosen) os.write(w, 'x');
    const n = ep.wait(0, 5000);
    assert.equal(n, 1103);
    const readable: Array<[number, number]> = [];
    for (let i = 0; i < n; i++) if (ep.readyEvents(i) & EPOLLIN) readable.push([ep.readyFd(i), ep.readyEvents(i)]);
    assert.deepEqual(sorted(readable), sorted(chosen.map(([r]) => [r, EPOLLIN])));
  });
});
