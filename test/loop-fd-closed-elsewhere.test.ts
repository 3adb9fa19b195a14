/**
 * A socket whose fd is closed behind iomux's back (fs.closeSync) while an awaitable operation waits on it
 * (issue 19, defect 3): the stale operation rejects with OSError EBADF — at once when the number is taken by
 * a new operation or watch, within the periodic check otherwise — and a new socket that gets the same number
 * just works: no "another operation is already waiting", no stale EBADF.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync } from 'node:fs';
import { EVENT_READ, loopStats, sockRecv, sockSendall, watch } from 'iomux/loop';
import { AF_UNIX, SOCK_NONBLOCK, SOCK_STREAM, SOL_SOCKET, SO_SNDBUF, Socket } from 'iomux/socket';
import { OSError } from 'iomux/errors';
import * as os from 'iomux/os';
import { expectNoFdLeaks } from './support/fds.js';
import { socketPair } from './support/sockets.js';
import { nextTurn } from './support/timing.js';

expectNoFdLeaks({ openHandles: () => loopStats().openHandles });

type After = { after(fn: () => void): void };
type State<T> = { state: 'pending' | 'resolved' | 'rejected'; value?: T; error?: unknown };

function track<T>(promise: Promise<T>): State<T> {
  const s: State<T> = { state: 'pending' };
  promise.then((value) => Object.assign(s, { state: 'resolved', value }), (error) => Object.assign(s, { state: 'rejected', error }));
  return s;
}

function nonblockingPair(t: After): [Socket, Socket] {
  return socketPair(t, AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK);
}

const isEBADF = (e: unknown): boolean => e instanceof OSError && e.errno === 9;

/** A socket whose recv waits, with its fd then closed by fs.closeSync: [the stale operation, the fd number]. */
async function staleRecv(t: After): Promise<[State<Buffer>, number, Promise<Buffer>]> {
  const [, b] = nonblockingPair(t);
  const fd = b.fileno();
  const watchesBefore = loopStats().watches;
  const promise = sockRecv(b, 100);
  const op = track(promise);
  await nextTurn();
  assert.equal(loopStats().watches, watchesBefore + 1, 'the operation waits');
  closeSync(fd); // behind iomux's back
  b.detach(); // so that the test's cleanup does not close the number's next owner
  return [op, fd, promise];
}

/** `promise`, or a rejection once `ms` have passed (a loose bound, so that a hang fails the test). */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: still pending after ${ms} ms`)), ms);
  });
  return Promise.race([promise, bound]).finally(() => clearTimeout(timer));
}

/** A new connected non-blocking socket under number `fd` (free right now), and its peer. */
function socketAt(t: After, fd: number): [Socket, Socket] {
  const [c, d] = nonblockingPair(t);
  // The kernel hands out the lowest free number: often the one just closed.
  if (c.fileno() === fd) return [c, d];
  if (d.fileno() === fd) return [d, c];
  os.dup2(c.fileno(), fd);
  c.close();
  const reborn = new Socket(undefined, undefined, undefined, fd);
  t.after(() => reborn.close());
  reborn.setblocking(false);
  return [reborn, d];
}

async function settled<T>(op: State<T>, turns = 20): Promise<void> {
  for (let i = 0; i < turns && op.state === 'pending'; i++) await nextTurn();
}

test('sockRecv on a new socket that took the number of one closed with fs.closeSync while read: the new one works, the stale one rejects EBADF', async (t) => {
  const [stale, fd] = await staleRecv(t);
  const [reborn, peer] = socketAt(t, fd);
  const fresh = track(sockRecv(reborn, 100));
  await settled(stale);
  assert.equal(stale.state, 'rejected', 'the stale operation settled');
  assert.ok(isEBADF(stale.error), `the stale operation rejected with ${String(stale.error)}`);
  assert.equal(fresh.state, 'pending', `the new operation waits (${String(fresh.error)})`);
  peer.send('for the new socket');
  await settled(fresh);
  assert.equal(String(fresh.value), 'for the new socket');
  assert.equal(loopStats().watches, 0);
});

test('sockSendall that must wait, on a new socket under the number of one closed with fs.closeSync while read: it sends everything', async (t) => {
  const [stale, fd] = await staleRecv(t);
  const [reborn, peer] = socketAt(t, fd);
  reborn.setsockopt(SOL_SOCKET, SO_SNDBUF, 4096);
  let queued = 0;
  for (let n = 0; n >= 0; n = reborn.trySend(Buffer.alloc(4096, 0x2e))) queued += n; // full: sockSendall must wait
  const data = Buffer.alloc(200_000, 0x41);
  const sending = sockSendall(reborn, data);
  let received = 0;
  while (received < queued + data.length) received += (await sockRecv(peer, 65536)).length;
  await sending;
  assert.equal(received, queued + data.length);
  assert.ok(isEBADF(stale.error), `the stale operation rejected with ${String(stale.error)}`);
  assert.equal(loopStats().watches, 0);
});

test('a new watch() of the number of a socket closed with fs.closeSync while read: the stale operation rejects EBADF at once', async (t) => {
  const [stale, fd] = await staleRecv(t);
  const [reborn] = socketAt(t, fd);
  const watcher = watch(reborn, EVENT_READ, () => {});
  t.after(() => watcher.close());
  await settled(stale, 3);
  assert.ok(isEBADF(stale.error), `the stale operation: ${stale.state} ${String(stale.error)}`);
  watcher.close();
  assert.equal(loopStats().watches, 0);
});

test('a socket closed with fs.closeSync while read, its number left unused: the operation rejects EBADF and stops keeping the loop alive', async (t) => {
  const [, , promise] = await staleRecv(t);
  const t0 = performance.now();
  await assert.rejects(within(promise, 10_000, 'the stale operation'), isEBADF);
  console.log(`# the stale operation rejected after ${(performance.now() - t0).toFixed(0)} ms`);
  assert.equal(loopStats().watches, 0, 'no watch left to keep the process alive');
});
