/**
 * iomux/selectors over real pipes, unix socketpairs and files, after the ideas of CPython's Lib/test/test_selectors.py:
 * the 19 base tests for every selector class (DefaultSelector included), the class-specific ones
 * (register_file, modify_unregister), and the rules the port adds (stale keys, modify validation).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import {
  BaseSelector, DefaultSelector, EVENT_READ, EVENT_WRITE, EpollSelector, isCurrentKey, KqueueSelector, PollSelector,
  SelectorKey, SelectSelector, type SelectResult,
} from 'iomux/selectors';
import { Epoll, Kqueue, Poll } from 'iomux/select';
import { FileNotFoundError, KeyError, OSError, OverflowError, PermissionError, RuntimeError, ValueError } from 'iomux/errors';
import * as os from 'iomux/os';
import { type Socket } from 'iomux/socket';
import { type After, Fds, openFdNumbers, tempDir } from './support/fds.js';
import './support/kqueue.js';
import { socketPair } from './support/sockets.js';
import { secondsSince, until } from './support/timing.js';

type AnySelector = BaseSelector<unknown>;
type SelectorClass = new () => AnySelector;

const READ = EVENT_READ;
const WRITE = EVENT_WRITE;
const MSG = Buffer.from(' This is a test.');

const CLASSES: Array<[string, SelectorClass]> = [
  ['SelectSelector', SelectSelector],
  ['PollSelector', PollSelector],
  ['EpollSelector', EpollSelector],
  ['KqueueSelector', KqueueSelector],
  ['DefaultSelector', DefaultSelector],
];

function newSelector<S extends AnySelector>(Cls: new () => S, t: After): S {
  const sel = new Cls();
  t.after(() => sel.close());
  return sel;
}

function randomItem<X>(items: X[]): X {
  return items[Math.floor(Math.random() * items.length)]!;
}

function fileobjsReady(ready: SelectResult<unknown>, flag: number): unknown[] {
  return ready.filter(([, events]) => events & flag).map(([key]) => key.fileobj);
}

for (const [name, Cls] of CLASSES) {
  describe(name, () => {
    test('register: returns a frozen key; checks events first, then the object, then duplicates', (t) => {
      const sel = newSelector(Cls, t);
      const [rd] = socketPair(t);
      const key = sel.register(rd, READ, 'data');
      assert.ok(key instanceof SelectorKey);
      assert.equal(key.fileobj, rd);
      assert.equal(key.fd, rd.fileno());
      assert.equal(key.events, READ);
      assert.equal(key.data, 'data');
      assert.ok(Object.isFrozen(key));
      assert.throws(() => ((key as { events: number }).events = WRITE), TypeError);

      // Events are checked before the fd is looked up.
      assert.throws(() => sel.register(0, 999999), { name: 'ValueError', message: 'Invalid events: 999999' });
      assert.throws(() => sel.register(-10, 0), { name: 'ValueError', message: 'Invalid events: 0' });
      assert.throws(() => sel.register(rd, 4), ValueError);
      assert.throws(() => sel.register(rd, 1.5), TypeError);
      assert.throws(() => sel.register(-10, READ), { name: 'ValueError', message: 'Invalid file descriptor: -10' });
      assert.throws(() => sel.register({} as never, READ), (err: Error) =>
        err instanceof ValueError && err.message.startsWith('Invalid file object'));
      assert.throws(() => sel.register({ fileno: () => 'x' } as never, READ), /Invalid file object/);

      // Once per fd, whichever object names it.
      assert.throws(() => sel.register(rd, READ), (err: Error) =>
        err instanceof KeyError && err.message.endsWith(`(FD ${rd.fileno()}) is already registered`));
      assert.throws(() => sel.register(rd.fileno(), READ), KeyError);
      assert.throws(() => sel.register({ fileno: () => rd.fileno() }, WRITE), KeyError);
      assert.equal(sel.getMap()!.size, 1);
      assert.equal(sel.getKey(rd), key);
    });

    test('unregister: returns the key; unknown objects raise KeyError', (t) => {
      const sel = newSelector(Cls, t);
      const [rd] = socketPair(t);
      const key = sel.register(rd, READ);
      assert.throws(() => sel.unregister(999999), { name: 'KeyError', message: '999999 is not registered' });
      assert.throws(() => sel.unregister({} as never), ValueError);
      assert.equal(sel.unregister(rd), key);
      assert.throws(() => sel.unregister(rd), KeyError);
      assert.equal(sel.getMap()!.size, 0);
    });

    test('unregister after the fds were closed', (t) => {
      const fds = new Fds(t);
      const sel = newSelector(Cls, t);
      const [r, w] = fds.pipe();
      sel.register(r, READ);
      sel.register(w, WRITE);
      fds.close(r);
      fds.close(w);
      sel.unregister(r);
      sel.unregister(w);
      assert.equal(sel.getMap()!.size, 0);
    });

    test('unregister after the fd numbers were closed and reused (dup2)', (t) => {
      const fds = new Fds(t);
      const sel = newSelector(Cls, t);
      const [r, w] = fds.pipe();
      const [r2, w2] = fds.pipe();
      sel.register(r, READ);
      sel.register(w, WRITE);
      // dup2 closes the old files and reuses their numbers in one step, so no other open can take them.
      os.dup2(r2, r);
      os.dup2(w2, w);
      sel.unregister(r);
      sel.unregister(w);
      assert.equal(sel.getMap()!.size, 0);
    });

    test('unregister, getKey and the mapping find a closed object by identity', (t) => {
      const sel = newSelector(Cls, t);
      const [rd, wr] = socketPair(t);
      const rdKey = sel.register(rd, READ);
      const wrKey = sel.register(wr, WRITE);
      rd.close();
      wr.close();
      assert.equal(rd.fileno(), -1);
      assert.equal(sel.getKey(rd), rdKey);
      assert.equal(sel.getMap()!.get(wr), wrKey);
      assert.ok(sel.getMap()!.has(wr));
      assert.equal(sel.unregister(rd), rdKey);
      assert.equal(sel.unregister(wr), wrKey);
      // Not registered any more: the -1 is an invalid fd again.
      assert.throws(() => sel.unregister(rd), { name: 'ValueError', message: 'Invalid file descriptor: -1' });
    });

    test('modify: new events, new data, no change, unknown object', (t) => {
      const sel = newSelector(Cls, t);
      const [rd] = socketPair(t);
      const key = sel.register(rd, READ);
      const key2 = sel.modify(rd, WRITE);
      assert.notEqual(key.events, key2.events);
      assert.equal(key2, sel.getKey(rd));
      assert.equal(key2.fileobj, rd);
      sel.unregister(rd);

      const d1 = { n: 1 };
      const d2 = { n: 2 };
      sel.register(rd, READ, d1);
      const key3 = sel.modify(rd, READ, d2);
      assert.equal(key3.events, READ);
      assert.equal(key3.data, d2);
      assert.equal(key3, sel.getKey(rd));
      assert.equal(sel.modify(rd, READ, d2), key3, 'nothing changed: the same key comes back');
      assert.throws(() => sel.modify(999999, READ), { name: 'KeyError', message: '999999 is not registered' });

      // Changing only the data goes through neither register nor unregister.
      const spied = sel as unknown as { register: unknown; unregister: unknown };
      spied.register = spied.unregister = () => assert.fail('modify of data alone must not re-register');
      const d3 = { n: 3 };
      assert.equal(sel.modify(rd, READ, d3).data, d3);
    });

    test('modify by fd keeps the registered object; invalid events change nothing', (t) => {
      const sel = newSelector(Cls, t);
      const [rd] = socketPair(t);
      const key = sel.register(rd, READ, 'd');
      const key2 = sel.modify(rd.fileno(), READ | WRITE, 'd');
      assert.equal(key2.fileobj, rd);
      assert.equal(key2.events, READ | WRITE);
      // Deviation from CPython's poll-like selectors, which store any events unchecked: ValueError, as
      // the documentation promises, and the registration stays as it was.
      assert.throws(() => sel.modify(rd, 0), { name: 'ValueError', message: 'Invalid events: 0' });
      assert.throws(() => sel.modify(rd, 999999), ValueError);
      assert.equal(sel.getKey(rd), key2);
      assert.notEqual(key2, key);
    });

    test('close: getKey raises RuntimeError; a mapping taken before stays usable and empty', (t) => {
      const sel = newSelector(Cls, t);
      const mapping = sel.getMap()!;
      const [rd, wr] = socketPair(t);
      sel.register(rd, READ);
      sel.register(wr, WRITE);
      assert.equal(mapping.size, 2);
      sel.close();
      assert.throws(() => sel.getKey(rd), { name: 'RuntimeError', message: 'Selector is closed' });
      assert.throws(() => sel.getKey(wr), RuntimeError);
      assert.throws(() => mapping.getOrThrow(rd), KeyError);
      assert.equal(mapping.get(rd), undefined);
      assert.equal(mapping.get(wr), undefined);
      assert.equal(mapping.size, 0);
      assert.deepEqual([...mapping], []);
      assert.equal(sel.getMap(), null);
      sel.close(); // idempotent
      assert.throws(() => sel.unregister(rd), KeyError);
      assert.throws(() => sel.modify(rd, READ), KeyError);
      // A closed selector refuses new work instead of waiting on an orphaned table.
      const closedError = sel instanceof EpollSelector
        ? { name: 'ValueError', message: 'I/O operation on closed epoll object' }
        : sel instanceof KqueueSelector
          ? { name: 'ValueError', message: 'I/O operation on closed kqueue object' }
          : { name: 'RuntimeError', message: 'Selector is closed' };
      assert.throws(() => sel.register(rd, READ), closedError);
      assert.throws(() => sel.select(0), closedError);
    });

    test('getKey', (t) => {
      const sel = newSelector(Cls, t);
      const [rd] = socketPair(t);
      const key = sel.register(rd, READ, 'data');
      assert.equal(sel.getKey(rd), key);
      assert.equal(sel.getKey(rd.fileno()), key);
      assert.throws(() => sel.getKey(999999), KeyError);
    });

    test('getMap: a live read-only view keyed by fd', (t) => {
      const sel = newSelector(Cls, t);
      const [rd] = socketPair(t);
      const keys = sel.getMap()!;
      assert.equal(keys.size, 0);
      assert.deepEqual([...keys], []);
      assert.equal(keys.get(rd), undefined);
      const sentinel = Symbol('sentinel');
      assert.equal(keys.get(rd, sentinel), sentinel);

      const key = sel.register(rd, READ, 'data');
      assert.ok(keys.has(rd));
      assert.ok(keys.has(rd.fileno()));
      assert.equal(keys.get(rd), key);
      assert.equal(keys.getOrThrow(rd), key);
      assert.equal(keys.size, 1);
      assert.deepEqual([...keys], [rd.fileno()]);
      assert.deepEqual([...keys.keys()], [rd.fileno()]);
      assert.deepEqual([...keys.values()], [key]);
      assert.deepEqual([...keys.entries()], [[rd.fileno(), key]]);
      assert.equal(keys.get(999999), undefined);
      assert.throws(() => keys.getOrThrow(999999), KeyError);
      assert.throws(() => keys.get({} as never), ValueError, 'an invalid object is an error even for get()');
      // Read-only: nothing to delete or set with, and the view itself cannot be changed.
      assert.equal((keys as unknown as { delete?: unknown }).delete, undefined);
      assert.equal((keys as unknown as { set?: unknown }).set, undefined);
      assert.ok(Object.isFrozen(keys));
      assert.equal(sel.getMap(), keys, 'the same live view every time');
    });

    test('select: only the ready writer, with exactly its key', (t) => {
      const sel = newSelector(Cls, t);
      const [rd, wr] = socketPair(t);
      sel.register(rd, READ);
      const wrKey = sel.register(wr, WRITE);
      const result = sel.select();
      for (const [key, events] of result) {
        assert.ok(key instanceof SelectorKey);
        assert.ok(events !== 0 && (events & ~(READ | WRITE)) === 0);
      }
      assert.deepEqual(result, [[wrKey, WRITE]]);
      assert.equal(result[0]![0], wrKey);
    });

    test('select: an fd both readable and writable is reported once for each', (t) => {
      const sel = newSelector(Cls, t);
      const [sock1, sock2] = socketPair(t);
      sock2.send(Buffer.from('foo'));
      const myKey = sel.register(sock1, READ | WRITE);
      const result = sel.select(5);
      assert.ok(result.length >= 1 && result.length <= 2);
      let seenRead = 0;
      let seenWrite = 0;
      for (const [key, events] of result) {
        assert.equal(key, myKey);
        assert.equal(events & ~(READ | WRITE), 0);
        if (events & READ) seenRead++;
        if (events & WRITE) seenWrite++;
      }
      assert.equal(seenRead, 1);
      assert.equal(seenWrite, 1);
    });

    test('a using block closes the selector', (t) => {
      const [rd, wr] = socketPair(t);
      let escaped: AnySelector;
      {
        using sel = new Cls();
        escaped = sel;
        sel.register(rd, READ);
        sel.register(wr, WRITE);
      }
      assert.throws(() => escaped.getKey(rd), RuntimeError);
      assert.throws(() => escaped.getKey(wr), RuntimeError);
    });

    test('fileno: the epoll or kqueue fd where there is one', (t) => {
      const sel = newSelector(Cls, t);
      const fileno = (sel as { fileno?: () => number }).fileno;
      if (sel instanceof EpollSelector || sel instanceof KqueueSelector) {
        const what = sel instanceof EpollSelector ? 'epoll' : 'kqueue';
        const fd = sel.fileno();
        assert.ok(Number.isInteger(fd) && fd >= 0);
        assert.equal(os.getInheritable(fd), false, `the ${what} fd is close-on-exec`);
        sel.close();
        assert.throws(() => sel.fileno(), { name: 'ValueError', message: `I/O operation on closed ${what} object` });
        assert.throws(() => os.getInheritable(fd), OSError, `close() closed the ${what} fd`);
      } else {
        assert.equal(fileno, undefined);
      }
    });

    test('twelve socketpairs written at random and read back exactly', (t) => {
      const sel = newSelector(Cls, t);
      const writerToReader = new Map<Socket, Socket>();
      for (let i = 0; i < 12; i++) {
        const [rd, wr] = socketPair(t);
        sel.register(rd, READ);
        sel.register(wr, WRITE);
        writerToReader.set(wr, rd);
      }
      const bufs: Buffer[] = [];
      while (writerToReader.size > 0) {
        const writers = fileobjsReady(sel.select(5), WRITE) as Socket[];
        assert.ok(writers.length > 0, 'no ready writer');
        const wr = randomItem(writers);
        assert.equal(wr.send(MSG), MSG.length);

        let readers: Socket[] = [];
        for (let i = 0; i < 10 && readers.length === 0; i++) {
          readers = fileobjsReady(sel.select(5), READ) as Socket[];
          if (readers.length === 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
        }
        assert.equal(readers.length, 1, 'exactly one reader is ready');
        assert.equal(readers[0], writerToReader.get(wr), 'the reader of the written pair');
        const rd = readers[0]!;
        const got = rd.recv(MSG.length);
        assert.equal(got.length, MSG.length);
        bufs.push(got);
        sel.unregister(rd);
        sel.unregister(wr);
        writerToReader.delete(wr);
      }
      assert.deepEqual(bufs, new Array(12).fill(MSG));
      assert.equal(sel.getMap()!.size, 0);
    });

    test('select(0) with nothing registered returns [] at once', (t) => {
      const sel = newSelector(Cls, t);
      const t0 = performance.now();
      assert.deepEqual(sel.select(0), []);
      assert.deepEqual(sel.select(-1), []);
      assert.ok(secondsSince(t0) < 0.5);
    });

    test('timeouts: ≤ 0 polls, 1 waits about a second', (t) => {
      const sel = newSelector(Cls, t);
      const [rd, wr] = socketPair(t);
      sel.register(wr, WRITE);
      let t0 = performance.now();
      assert.equal(sel.select(0).length, 1);
      assert.equal(sel.select(-1).length, 1);
      assert.ok(secondsSince(t0) < 0.5);

      sel.unregister(wr);
      sel.register(rd, READ);
      t0 = performance.now();
      assert.deepEqual(sel.select(0), []);
      assert.deepEqual(sel.select(-1), []);
      assert.ok(secondsSince(t0) < 0.5);

      t0 = performance.now();
      assert.deepEqual(sel.select(1), []);
      const dt = secondsSince(t0);
      assert.ok(dt >= 0.8 && dt < 2, `select(1) took ${dt} s`);
    });

    test('timeouts: bad values are rejected', (t) => {
      const sel = newSelector(Cls, t);
      assert.throws(() => sel.select('x' as never), TypeError);
      assert.throws(() => sel.select(NaN), ValueError);
      assert.throws(() => sel.select(Infinity), OverflowError);
    });

    test('readiness: a hung-up reader reports READ, a writer without readers WRITE', (t) => {
      const fds = new Fds(t);
      const sel = newSelector(Cls, t);
      const [r1, w1] = fds.pipe();
      const [r2, w2] = fds.pipe();
      const readKey = sel.register(r1, READ);
      const writeKey = sel.register(w2, WRITE);
      fds.close(w1); // r1: end of file (HUP)
      fds.close(r2); // w2: no reader left (ERR)
      const ready = sel.select(5);
      ready.sort((a, b) => a[0].fd - b[0].fd);
      const expected: SelectResult<unknown> = [[readKey, READ], [writeKey, WRITE]];
      expected.sort((a, b) => a[0].fd - b[0].fd);
      assert.deepEqual(ready, expected);
    });

    test('results are masked to the registered events', (t) => {
      const sel = newSelector(Cls, t);
      const [sock1, sock2] = socketPair(t);
      sock2.send(Buffer.from('x'));
      const key = sel.register(sock1, WRITE);
      assert.deepEqual(sel.select(0), [[key, WRITE]]);
      const key2 = sel.modify(sock1, READ);
      assert.deepEqual(sel.select(0), [[key2, READ]]);
    });

    test('stale keys: an fd unregistered or re-registered meanwhile is never reported for its old key', (t) => {
      const fds = new Fds(t);
      const sel = newSelector(Cls, t);
      for (let i = 0; i < 3; i++) {
        const [r, w] = fds.pipe();
        os.write(w, 'x');
        sel.register(r, READ, `old ${i}`);
      }
      const result = sel.select(0);
      assert.equal(result.length, 3);

      // A dispatch loop whose first handler replaces the second registration and drops the third.
      const handled: string[] = [];
      const [, second, third] = result.map(([key]) => key);
      for (const [key] of result) {
        if (!isCurrentKey(sel, key)) continue;
        handled.push(key.data as string);
        if (handled.length === 1) {
          sel.unregister(second!.fd);
          sel.register(second!.fd, READ, 'new');
          sel.unregister(third!.fd);
        }
      }
      assert.equal(handled.length, 1);
      assert.equal(isCurrentKey(sel, second!), false);
      assert.equal(isCurrentKey(sel, third!), false);

      // The next select reports the fd with the key registered now, and nothing for the dropped one.
      const next = sel.select(0);
      assert.deepEqual(next.map(([key]) => key.data).sort(), ['new', handled[0]].sort());
      assert.ok(next.every(([key]) => isCurrentKey(sel, key)));

      // An fd number unregistered, reused for another file and registered again: the old file's
      // readiness does not leak into the new registration.
      const [emptyR] = fds.pipe();
      const readyFd = result.find(([key]) => key.data === handled[0])![0].fd;
      sel.unregister(readyFd);
      os.dup2(emptyR, readyFd);
      const fresh = sel.register(readyFd, READ, 'reused');
      assert.ok(sel.select(0).every(([key]) => key !== fresh && key.fd !== readyFd));
    });

    test('a regular file under this selector', (t) => {
      const dir = tempDir(t, 'iomux-selectors-');
      const fd = openSync(join(dir, 'file'), 'w+');
      t.after(() => closeSync(fd));
      const sel = newSelector(Cls, t);
      if (sel instanceof EpollSelector) {
        // epoll refuses regular files: the registration is rolled back (CPython's test_register_file).
        assert.throws(() => sel.register(fd, READ), PermissionError);
        assert.throws(() => sel.getKey(fd), KeyError);
        assert.equal(sel.getMap()!.size, 0);
      } else if (sel instanceof KqueueSelector) {
        // kqueue accepts a regular file; its READ filter fires only before end of file (this one is empty),
        // its WRITE filter (libkqueue's; FreeBSD refuses EVFILT_WRITE on files) at once. One entry per filter.
        const key = sel.register(fd, READ | WRITE);
        assert.deepEqual(sel.select(0), [[key, WRITE]]);
      } else {
        // select and poll report a regular file as always ready.
        const key = sel.register(fd, READ | WRITE);
        assert.deepEqual(sel.select(0), [[key, READ | WRITE]]);
      }
    });

    test('no fd is left open by selectors, their errors or their closing', async (t) => {
      const fds = new Fds(t);
      const [r, w] = fds.pipe();
      // libkqueue (kqueue on Linux) runs a monitoring thread with fds of its own while any kqueue is open:
      // keep one open across the test so that thread's fds are in `before` and stay.
      const monitor = Cls === KqueueSelector ? new Kqueue() : null;
      t.after(() => monitor?.close());
      const before = openFdNumbers();
      for (let i = 0; i < 20; i++) {
        const sel = new Cls();
        sel.register(r, READ);
        sel.register(w, WRITE);
        assert.throws(() => sel.register(r, READ), KeyError);
        assert.throws(() => sel.register(-1, READ), ValueError);
        sel.select(0);
        sel.unregister(r);
        sel.close();
        sel.close();
      }
      if (Cls === KqueueSelector) {
        // libkqueue releases a closed kqueue's internal fds on that thread, soon after the close (so `before`
        // may still hold some of an earlier test's): wait until nothing is open that was not open before.
        await until(() => [...openFdNumbers()].every((fd) => before.has(fd)), 'libkqueue released its fds');
      } else {
        assert.deepEqual(openFdNumbers(), before);
      }
    });
  });
}

describe('selector-specific behaviour', () => {
  test('DefaultSelector is EpollSelector on Linux', () => {
    assert.equal(DefaultSelector, EpollSelector);
    const sel = new DefaultSelector<string>();
    try {
      assert.ok(sel instanceof EpollSelector);
    } finally {
      sel.close();
    }
  });

  test('keys and selectors are generic over the data type', (t) => {
    const fds = new Fds(t);
    const [r, w] = fds.pipe();
    const sel = newSelector(EpollSelector<(fd: number, events: number) => string>, t);
    sel.register(w, WRITE, (fd, events) => `${fd}:${events}`);
    sel.register(r, READ, () => 'never');
    const out = sel.select(0).map(([key, events]) => key.data(key.fd, events));
    assert.deepEqual(out, [`${w}:${WRITE}`]);
  });

  for (const [name, PollerBase, Selector] of [
    ['PollSelector', Poll, PollSelector],
    ['EpollSelector', Epoll, EpollSelector],
  ] as const) {
    test(`${name}: a failing poller modify drops the key (bpo-30014)`, (t) => {
      class BrokenModify extends Error {}
      let unregistered = 0;
      // A real poller whose modify fails, as CPython's test patches _selector_cls.
      const FailingPoller = class extends (PollerBase as typeof Epoll) {
        override modify(): void {
          throw new BrokenModify('modify failed');
        }
        override unregister(fd: number): void {
          unregistered++;
          super.unregister(fd);
        }
      };
      const sel = new (Selector as typeof EpollSelector)({ pollerClass: FailingPoller as typeof Epoll });
      t.after(() => sel.close());
      const [rd] = socketPair(t);
      sel.register(rd, READ);
      assert.equal(sel.getMap()!.size, 1);
      assert.throws(() => sel.modify(rd, WRITE), BrokenModify);
      assert.equal(sel.getMap()!.size, 0);
      assert.throws(() => sel.getKey(rd), KeyError);
      assert.equal(unregistered, 1, 'the poller forgot the fd too, so it cannot keep waking select()');
      // Data-only changes never reach the poller, so they cannot fail.
      sel.register(rd, READ, 'a');
      assert.equal(sel.modify(rd, READ, 'b').data, 'b');
    });

    test(`${name}: only a change of events reaches the poller`, (t) => {
      const calls: string[] = [];
      const CountingPoller = class extends (PollerBase as typeof Epoll) {
        override register(fd: number, mask?: number): void {
          calls.push('register');
          super.register(fd, mask);
        }
        override modify(fd: number, mask: number): void {
          calls.push('modify');
          super.modify(fd, mask);
        }
        override unregister(fd: number): void {
          calls.push('unregister');
          super.unregister(fd);
        }
      };
      const sel = new (Selector as typeof EpollSelector)({ pollerClass: CountingPoller as typeof Epoll });
      t.after(() => sel.close());
      const [rd] = socketPair(t);
      sel.register(rd, READ, 1);
      sel.modify(rd, READ, 2);
      sel.modify(rd, READ, 2);
      assert.deepEqual(calls, ['register']);
      sel.modify(rd, WRITE, 2);
      sel.unregister(rd);
      assert.deepEqual(calls, ['register', 'modify', 'unregister']);
    });
  }

  test('EpollSelector: modify of an fd number reused behind its back fails and drops the key', (t) => {
    const fds = new Fds(t);
    const sel = newSelector(EpollSelector, t);
    const [r] = fds.pipe();
    const [r2] = fds.pipe();
    sel.register(r, READ);
    os.dup2(r2, r); // the registered file is gone; the kernel dropped it from the epoll set
    assert.throws(() => sel.modify(r, WRITE), FileNotFoundError);
    assert.throws(() => sel.getKey(r), KeyError);
    const again = sel.register(r, READ);
    assert.equal(sel.getKey(r), again);
  });

  test('EpollSelector: register of a closed fd fails with EBADF and leaves nothing', (t) => {
    const sel = newSelector(EpollSelector, t);
    const fd = closedFdNumber();
    assert.throws(() => sel.register(fd, READ), (err: Error) => err instanceof OSError && err.code === 'EBADF');
    assert.throws(() => sel.getKey(fd), KeyError);
    assert.equal(sel.getMap()!.size, 0);
  });

  test('PollSelector: a closed fd registers and is reported READ (POLLNVAL)', (t) => {
    const sel = newSelector(PollSelector, t);
    const fd = closedFdNumber();
    const key = sel.register(fd, READ);
    assert.deepEqual(sel.select(0), [[key, READ]]);
  });

  test('SelectSelector: a closed fd registers, then select raises EBADF', (t) => {
    const fds = new Fds(t);
    const sel = newSelector(SelectSelector, t);
    const [r] = fds.pipe();
    fds.close(r);
    sel.register(r, READ);
    assert.throws(() => sel.select(0), (err: Error) => err instanceof OSError && err.code === 'EBADF');
    sel.unregister(r);
    assert.deepEqual(sel.select(0), []);
  });

  test('EpollSelector: one event per registered fd, beyond the poller buffer', (t) => {
    const fds = new Fds(t);
    const sel = newSelector(EpollSelector, t);
    for (let i = 0; i < 150; i++) sel.register(fds.pipe()[1], WRITE);
    assert.equal(sel.select(0).length, 150);
  });

  for (const Cls of [PollSelector, EpollSelector] as SelectorClass[]) {
    test(`${Cls.name}: a positive timeout is rounded up to a whole millisecond`, (t) => {
      const fds = new Fds(t);
      const sel = newSelector(Cls, t);
      sel.register(fds.pipe()[0], READ);
      for (const timeout of [0.0001, 0.0005]) {
        const t0 = performance.now();
        assert.deepEqual(sel.select(timeout), []);
        const ms = performance.now() - t0;
        assert.ok(ms >= 0.9, `select(${timeout}) returned after ${ms} ms`);
      }
    });
  }
});

/** The number of an fd that is surely closed: a high one, checked free (nothing in this test opens fds). */
function closedFdNumber(): number {
  const open = openFdNumbers();
  for (let fd = 19000; fd > 1024; fd--) if (!open.has(fd)) return fd;
  throw new Error('no free fd number');
}
