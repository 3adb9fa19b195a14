/**
 * The buffers epoll and poll hand to the kernel: a failed or absurd request leaves the object consistent
 * (no later wait may let the kernel write past a buffer), and no request makes them keep more memory than a
 * wait can use. Anything that could corrupt memory runs in a child process, so a crash is seen as a
 * signal instead of taking the test runner with it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Epoll, poll, POLLIN, POLLNVAL } from 'iomux/select';
import { MemoryError, OverflowError, ValueError } from 'iomux/errors';
import { isOSError } from './support/assertions.js';
import { readFileSync } from 'node:fs';
import { PACKAGE_ROOT, runNode } from './support/children.js';
import { expectNoFdLeaks, Fds } from './support/fds.js';

expectNoFdLeaks();

/** Runs `body` (ES module source) in a child; it prints one JSON line, returned parsed. No signal, exit 0. */
async function inChild(body: string): Promise<Record<string, unknown>> {
  const result = await runNode(['--expose-gc', '--input-type=module', '-e', `
    import { Epoll, EPOLLIN, poll, POLLIN } from 'iomux/select';
    import * as os from 'iomux/os';
    import { readFileSync } from 'node:fs';
    /** n fds all readable: duplicates of one pipe's read end, with a byte in the pipe. */
    function readable(n) {
      const [r, w] = os.pipe();
      os.write(w, 'x');
      const fds = [];
      for (let i = 0; i < n; i++) fds.push(os.dup(r));
      return fds;
    }
    const errorOf = (fn) => { try { fn(); return null; } catch (e) { return e.name + ': ' + e.message; } };
    ${body}
  `], { cwd: PACKAGE_ROOT, timeoutMs: 60_000 });
  assert.equal(result.signal, null, `the child died by ${result.signal}: ${result.stderr}`);
  assert.equal(result.code, 0, `the child failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

test('Epoll: a refused maxevents leaves the buffer as it was; 1000 ready fds afterwards are read intact', async () => {
  // 0.1.0 raised the capacity before the allocation failed; the next wait let the kernel write 1000
  // records into a 64-record buffer (heap corruption, then SIGABRT or a RangeError reading them back).
  const out = await inChild(`
    const ep = new Epoll();
    const fds = readable(1000);
    for (const fd of fds) ep.register(fd, EPOLLIN);
    const refused = [errorOf(() => ep.poll(0, 2 ** 31 - 1)), errorOf(() => ep.wait(0, 2 ** 31 - 1))];
    const events = ep.poll();
    const again = ep.wait(0, 2000);
    let fdsOk = true;
    for (let i = 0; i < again; i++) if (!fds.includes(ep.readyFd(i)) || ep.readyEvents(i) !== EPOLLIN) fdsOk = false;
    globalThis.gc();
    console.log(JSON.stringify({
      refused, count: events.length, distinct: new Set(events.map(([fd]) => fd)).size,
      allRegistered: events.every(([fd, ev]) => fds.includes(fd) && ev === EPOLLIN), again, fdsOk,
    }));
  `);
  assert.deepEqual(out, {
    refused: Array(2).fill('MemoryError: (maxevents 2147483647 is above what epoll_wait accepts, 178956970)'.replace(
      '178956970', String(Math.floor(0x7fffffff / (process.arch === 'x64' ? 12 : 16))))),
    count: 1000, distinct: 1000, allRegistered: true, again: 1000, fdsOk: true,
  });
});

test('Epoll: poll(0, 1e8) keeps a bounded buffer; ready fds past the bound come first on the next call', async () => {
  const bound = Epoll.maxWaitEvents;
  assert.equal(bound, 16384);
  const out = await inChild(`
    const ep = new Epoll();
    const fds = readable(${bound} + 500);
    for (const fd of fds) ep.register(fd, EPOLLIN);
    const before = process.memoryUsage().arrayBuffers;
    const first = ep.poll(0, 1e8).map(([fd]) => fd);
    const grown = process.memoryUsage().arrayBuffers - before;
    const second = ep.poll(0, 1e8).map(([fd]) => fd);
    const seen = new Set(first);
    console.log(JSON.stringify({
      first: first.length, second: second.length, grown,
      restFirst: second.slice(0, 500).every((fd) => !seen.has(fd)),
      all: new Set([...first, ...second]).size,
    }));
  `);
  assert.equal(out.first, bound);
  assert.equal(out.second, bound);
  assert.equal(out.restFirst, true, 'the fds left out by the bound come first next time');
  assert.equal(out.all, bound + 500);
  assert.ok((out.grown as number) <= bound * 16 + 65536, `the buffer grew by ${String(out.grown)} bytes`);
});

test('Epoll: maxevents errors as CPython raises them; the object stays usable after each', (t) => {
  const fds = new Fds(t);
  const ep = fds.own(new Epoll());
  const [r, w] = fds.pipe();
  ep.register(w);
  const limit = Math.floor(0x7fffffff / (process.arch === 'x64' ? 12 : 16));
  assert.throws(() => ep.poll(0, 0), { name: 'ValueError', message: 'maxevents must be greater than 0, got 0' });
  assert.throws(() => ep.poll(0, -5), ValueError);
  assert.throws(() => ep.poll(0, limit + 1), MemoryError);
  assert.throws(() => ep.wait(0, 2 ** 31 - 1), MemoryError);
  assert.throws(() => ep.poll(0, 2 ** 31), OverflowError);
  assert.throws(() => ep.poll(0, 2 ** 64), OverflowError);
  assert.throws(() => ep.poll(0, 1.5), TypeError);
  assert.equal(ep.poll(0, limit).length, 1, 'the largest maxevents the kernel accepts is allowed (and bounded)');
  assert.equal(ep.poll(0, 1).length, 1);
  assert.equal(r >= 0, true);
});

test('Poll: more fds than RLIMIT_NOFILE is EINVAL from the kernel (as in CPython), and the object recovers', (t) => {
  const fds = new Fds(t);
  const [r, w] = fds.pipe();
  const p = poll();
  // Numbers far above any open fd: poll(2) reports them POLLNVAL.
  const soft = Number(/Max open files\s+(\d+)/.exec(readLimits())?.[1]);
  assert.ok(soft > 0 && soft < 200_000, `soft RLIMIT_NOFILE ${soft}`);
  for (let i = 0; i < soft; i++) p.register(1_000_000 + i, POLLIN);
  p.register(r, POLLIN);
  assert.throws(() => p.poll(0), isOSError(22, 'EINVAL'));
  for (let i = 0; i < soft; i++) p.unregister(1_000_000 + i);
  assert.deepEqual(p.poll(0), []);
  fds.close(w);
  assert.deepEqual(p.poll(0), [[r, 0x10]]);
  p.register(1_000_000, POLLIN);
  assert.deepEqual(p.poll(0), [[r, 0x10], [1_000_000, POLLNVAL]]);
});

test('Poll: the pollfd array shrinks again once most registrations are gone', async () => {
  const out = await inChild(`
    const soft = Number(/Max open files +([0-9]+)/.exec(readFileSync('/proc/self/limits', 'utf8'))[1]);
    const n = Math.min(15000, soft - 100);
    const p = poll();
    // The baseline is taken after a collection: on Node 24/26 ~64 KiB of start-up buffers would otherwise be
    // freed during the measurement and hide (or fake) the shrink.
    for (let i = 0; i < 3; i++) {
      globalThis.gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
    const base = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < n; i++) p.register(1000000 + i, POLLIN);
    p.poll(0);
    const big = process.memoryUsage().arrayBuffers - base;
    for (let i = 1; i < n; i++) p.unregister(1000000 + i);
    const left = p.poll(0);
    // Freed backing stores are counted out once the collector has run and a turn has passed.
    for (let i = 0; i < 3; i++) {
      globalThis.gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
    const small = process.memoryUsage().arrayBuffers - base;
    console.log(JSON.stringify({ big, small, left, n }));
  `);
  assert.ok((out.big as number) >= (out.n as number) * 8, `grew by ${String(out.big)}`);
  assert.ok((out.small as number) < 64 * 1024, `still holding ${String(out.small)} bytes`);
  assert.deepEqual(out.left, [[1000000, 0x20]]);
});

function readLimits(): string {
  return readFileSync('/proc/self/limits', 'utf8');
}
