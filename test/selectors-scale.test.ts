/**
 * Selectors beyond FD_SETSIZE, after CPython's ScalableSelectorMixIn.test_above_fd_setsize: thousands of
 * pipe fds through PollSelector, EpollSelector and DefaultSelector, and SelectSelector refusing clearly
 * once an fd reaches 1024.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  BaseSelector, DefaultSelector, EVENT_READ, EVENT_WRITE, EpollSelector, PollSelector, SelectSelector,
} from 'iomux/selectors';
import { ValueError } from 'iomux/errors';
import * as os from 'iomux/os';
import { closeQuietly, fdCount } from './support/fds.js';

/** Pipes to create: well past 1024 fds, and within Node's soft RLIMIT_NOFILE (raised to the hard limit). */
const WANTED_PIPES = 9000;

function softFdLimit(): number {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  const soft = line?.split(/\s{2,}/)[1];
  return soft === undefined || soft === 'unlimited' ? Infinity : Number(soft);
}

for (const Cls of [PollSelector, EpollSelector, DefaultSelector] as Array<new () => BaseSelector<number>>) {
  const name = Cls === DefaultSelector ? 'DefaultSelector' : Cls.name;
  test(`${name}: thousands of fds, far above FD_SETSIZE`, (t) => {
    const pairs = Math.min(WANTED_PIPES, Math.floor((softFdLimit() - fdCount() - 64) / 2));
    assert.ok(pairs * 2 > 1200, `RLIMIT_NOFILE leaves room for only ${pairs} pipes`);
    const fds: number[] = [];
    const sel = new Cls();
    t.after(() => {
      sel.close();
      for (const fd of fds) closeQuietly(fd);
    });
    const writers = new Set<number>();
    for (let i = 0; i < pairs; i++) {
      const [r, w] = os.pipe();
      fds.push(r, w);
      sel.register(r, EVENT_READ, i);
      sel.register(w, EVENT_WRITE, i);
      writers.add(w);
    }
    assert.ok(Math.max(...fds) >= 1024, 'the test reaches fds above FD_SETSIZE');
    assert.equal(sel.getMap()!.size, pairs * 2);

    // All writers are ready, no reader is: exactly one entry per pipe.
    const ready = sel.select();
    assert.equal(ready.length, pairs);
    for (const [key, events] of ready) {
      assert.equal(events, EVENT_WRITE);
      assert.ok(writers.delete(key.fd), `fd ${key.fd} is a writer reported once`);
    }

    // The highest pipe becomes readable: its reader shows up among the writers.
    const lastR = fds[fds.length - 2]!;
    os.write(fds[fds.length - 1]!, 'x');
    const readers = sel.select(0).filter(([, events]) => events & EVENT_READ);
    assert.deepEqual(readers.map(([key]) => [key.fd, key.data]), [[lastR, pairs - 1]]);

    for (const fd of fds) sel.unregister(fd);
    assert.equal(sel.getMap()!.size, 0);
    assert.deepEqual(sel.select(0), []);
  });
}

test('SelectSelector: an fd at or above 1024 registers, then select() fails clearly', (t) => {
  const fds: number[] = [];
  const sel = new SelectSelector();
  t.after(() => {
    sel.close();
    for (const fd of fds) closeQuietly(fd);
  });
  const [r, w] = os.pipe();
  fds.push(r, w);
  sel.register(w, EVENT_WRITE);
  let high = r;
  while (high < 1024) {
    high = os.dup(r);
    fds.push(high);
  }
  const key = sel.register(high, EVENT_READ);
  assert.equal(sel.getKey(high), key);
  assert.throws(() => sel.select(0), (err: Error) =>
    err instanceof ValueError && err.message === 'filedescriptor out of range in select()');
  sel.unregister(high);
  assert.equal(sel.select(0).length, 1, 'usable again once the fd is gone');
});
