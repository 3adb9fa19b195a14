/**
 * kqueue misused: closed under a watch, fromFd of a pipe, its fd closed behind its back, a huge maxEvents.
 * Each repro runs in a fresh child process, so that a crash (SIGSEGV in libkqueue, an OOM kill) shows as a
 * signal instead of killing the runner. On Linux this runs on libkqueue (test/support/kqueue.ts points the
 * children at the build too); it is never skipped.
 */
import { test } from 'node:test';
import { requireKqueue } from './support/kqueue.js';
import { assertSurvived, runModule, type ChildResult } from './support/children.js';

const PRELUDE = `
import { kqueue, Kqueue, kevent, KQ_FILTER_READ, KQ_EV_ADD } from 'iomux/select';
import { MemoryError, OSError } from 'iomux/errors';
import { watch, EVENT_READ, loopStats } from 'iomux/loop';
import * as os from 'iomux/os';
const expectEbadf = (what, fn) => {
  try { fn(); } catch (e) {
    if (e.constructor === OSError && e.code === 'EBADF') return;
    throw new Error(what + ': expected OSError EBADF, got ' + e.constructor.name + ' ' + e.message);
  }
  throw new Error(what + ': no error');
};
`;

function run(body: string): Promise<ChildResult> {
  requireKqueue();
  return runModule(`${PRELUDE}\n${body}`, 20_000);
}

test('Kqueue.close() lets a watch of its fd go first, as Epoll.close does: the watch stops, the loop is free', async () => {
  assertSurvived(await run(`
    const kq = kqueue();
    const watcher = watch(kq.fileno(), EVENT_READ, () => {});
    kq.close();
    if (watcher.active) throw new Error('the watch of the closed kqueue fd is still active');
    if (loopStats().watches !== 0) throw new Error('the closed kqueue fd is still in the loop set');
    try { watcher.modify(EVENT_READ); throw new Error('modify re-armed a closed fd'); }
    catch (e) { if (e.code !== 'EBADF') throw e; }
    watcher.close();
    console.log('ok');
  `));
});

test('control() on Kqueue.fromFd(a pipe), before any kqueue() in the process: OSError EBADF, no SIGSEGV', async () => {
  assertSurvived(await run(`
    const [r, w] = os.pipe();
    const kq = Kqueue.fromFd(r);
    expectEbadf('wait on a pipe', () => kq.control(null, 1, 0));
    expectEbadf('change on a pipe', () => kq.control([kevent(w, KQ_FILTER_READ, KQ_EV_ADD)], 1, 0));
    expectEbadf('change without room', () => kq.control([kevent(w, KQ_FILTER_READ, KQ_EV_ADD)], 0, 0));
    kq.close(); // closes r: fromFd took it over
    os.close(w);
    console.log('ok');
  `));
});

test('control() after the kqueue fd was closed behind its back (os.close): OSError EBADF, as the kernels say', async () => {
  assertSurvived(await run(`
    const [r, w] = os.pipe();
    const kq = kqueue();
    kq.control([kevent(r, KQ_FILTER_READ, KQ_EV_ADD)], 0, 0);
    os.close(kq.fileno());
    expectEbadf('wait', () => kq.control(null, 1, 0));
    expectEbadf('change', () => kq.control([kevent(w, KQ_FILTER_READ, KQ_EV_ADD)], 1, 0));
    os.close(r); os.close(w);
    console.log('ok');
  `));
});

test('control() with a maxEvents no Buffer can hold is MemoryError (CPython’s class), never RangeError', async () => {
  assertSurvived(await run(`
    const kq = kqueue();
    for (const max of [1e9, 2 ** 31 - 1]) {
      try { kq.control(null, max, 0); throw new Error('no error for ' + max); }
      catch (e) { if (!(e instanceof MemoryError) || !/max_events=/.test(e.message)) throw e; }
      try { kq.wait(0, max); throw new Error('wait: no error for ' + max); }
      catch (e) { if (!(e instanceof MemoryError)) throw e; }
    }
    kq.close();
    console.log('ok');
  `));
});

test('control(changes, 10**8, 0) commits no gigabytes of memory (the event list is not zero-filled whole)', async () => {
  assertSurvived(await run(`
    const [r, w] = os.pipe();
    const kq = kqueue();
    const before = process.memoryUsage().rss;
    const got = kq.control([kevent(r, KQ_FILTER_READ, KQ_EV_ADD)], 1e8, 0);
    const grownMiB = (process.memoryUsage().rss - before) / 2 ** 20;
    if (got.length !== 0) throw new Error('events from an empty pipe: ' + got);
    if (grownMiB > 256) throw new Error('control() committed ' + Math.round(grownMiB) + ' MiB');
    kq.close(); os.close(r); os.close(w);
    console.log('ok');
  `));
});

test('libkqueue stays loaded when the thread that loaded it ends: its monitoring thread never runs unmapped code', async () => {
  // koffi unloads a library with the thread (a worker, or the main thread at exit) that loaded it, while
  // libkqueue's monitoring thread may still be running: about one echo-server exit in 50 died of SIGSEGV so.
  assertSurvived(await run(`
    import { Worker } from 'node:worker_threads';
    import { readFileSync } from 'node:fs';
    import { once } from 'node:events';
    const mapped = () => readFileSync('/proc/self/maps', 'utf8').includes('libkqueue');
    if (mapped()) throw new Error('libkqueue is loaded before any kqueue was made');
    const worker = new Worker("import('iomux/select').then(({ kqueue }) => { const kq = kqueue(); kq.close(); })", { eval: true });
    const [code] = await once(worker, 'exit');
    if (code !== 0) throw new Error('the worker ended with ' + code);
    if (!mapped()) throw new Error('libkqueue was unmapped when the worker that loaded it ended');
    const kq = kqueue(); // still usable here
    kq.close();
    console.log('ok');
  `));
});
