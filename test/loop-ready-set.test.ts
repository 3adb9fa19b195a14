/**
 * The thread's private readiness set (src/loop/ready-set.ts), both kinds: epoll, and the kqueue one meant for
 * macOS/FreeBSD, exercised here over libkqueue (its fd is not pollable under libkqueue, so only the set's
 * own logic runs here: add/modify/remove, the zero-timeout wait and the event bits).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EVENT_READ, EVENT_WRITE } from 'iomux/loop';
import * as os from 'iomux/os';
import { distUrl } from './support/children.js';
import { Fds } from './support/fds.js';
import { requireKqueue } from './support/kqueue.js';

type ReadySetModule = typeof import('../src/loop/ready-set.js');
const sets = (await import(distUrl('loop/ready-set.js'))) as ReadySetModule;

/** Every entry of a zero-timeout wait, as [fd, events]. */
function readyNow(set: ReturnType<ReadySetModule['newReadySet']>): Array<[number, number]> {
  const n = set.waitNow(8);
  return Array.from({ length: n }, (_, i) => [set.readyFd(i), set.readyEvents(i)] as [number, number]);
}

for (const [name, make] of [
  ['EpollReadySet', () => new sets.EpollReadySet()],
  ['KqueueReadySet', () => { requireKqueue(); return new sets.KqueueReadySet(); }],
] as const) {
  describe(name, () => {
    test('add, modify, remove and the zero-timeout wait report EVENT_* bits; errors carry epoll\'s errnos', (t) => {
      const fds = new Fds(t);
      const set = make();
      t.after(() => set.close());
      const [r, w] = fds.pipe();
      set.add(r, EVENT_READ);
      assert.deepEqual(readyNow(set), []);
      os.write(w, 'x');
      assert.deepEqual(readyNow(set), [[r, EVENT_READ]]);
      assert.throws(() => set.add(r, EVENT_READ), { name: 'FileExistsError' });
      set.add(w, EVENT_WRITE);
      assert.deepEqual(readyNow(set).sort((a, b) => a[0] - b[0]), [[r, EVENT_READ], [w, EVENT_WRITE]]);
      set.modify(r, EVENT_WRITE); // a pipe's read end is never writable
      assert.deepEqual(readyNow(set), [[w, EVENT_WRITE]]);
      set.remove(w);
      assert.deepEqual(readyNow(set), []);
      assert.throws(() => set.remove(w), { name: 'FileNotFoundError' });
      assert.throws(() => set.modify(w, EVENT_READ), { name: 'FileNotFoundError' });
      set.modify(r, EVENT_READ);
      fds.close(w); // the writer goes: a hang-up, with what is left to read
      const [[fd, events]] = readyNow(set) as [[number, number]];
      assert.equal(fd, r);
      assert.equal(events & EVENT_READ, EVENT_READ);
      assert.notEqual(events & sets.READY_HANGUP, 0);
    });
  });
}
